//! The lease journal: round trips, compaction, torn tails, corrupt and foreign
//! files, and kill -9 of a process in the middle of writing.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, encode};
use dhcp_server::store::{LeaseJournal, LeaseStore};
use dhcp_server::{
    ClientKey, Datagram, Error, Expiry, Lease, LeaseState, Mode, Range, Server, ServerConfig,
    Subnet, Tenure,
};

use crate::support::{base, discover, policy, request};

fn lease(n: u8, state: LeaseState) -> Lease {
    Lease {
        addr: Ipv4Addr::new(192, 0, 2, n),
        client: ClientKey(vec![1, 2, 0, 0, 0, 0, n]),
        state,
        expires: Expiry::At(1_700_000_000 + u64::from(n)),
        tenure: Tenure::Fresh,
        details: Default::default(),
    }
}

#[test]
fn records_come_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let (mut j, l) = LeaseJournal::open(&p).unwrap();
    assert!(l.is_empty());
    j.append(&[lease(1, LeaseState::Bound), lease(2, LeaseState::Bound)])
        .unwrap();
    j.append(&[lease(1, LeaseState::Released)]).unwrap();
    drop(j);
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(
        l,
        vec![
            lease(1, LeaseState::Bound),
            lease(2, LeaseState::Bound),
            lease(1, LeaseState::Released)
        ]
    );
}

#[test]
fn compaction_keeps_live_leases_only() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let (mut j, _) = LeaseJournal::open(&p).unwrap();
    for _ in 0..100 {
        j.append(&[lease(1, LeaseState::Bound)]).unwrap();
    }
    let before = std::fs::metadata(&p).unwrap().len();
    j.compact(&[lease(1, LeaseState::Bound), lease(3, LeaseState::Offered)])
        .unwrap();
    j.append(&[lease(2, LeaseState::Bound)]).unwrap();
    assert!(std::fs::metadata(&p).unwrap().len() < before / 10);
    drop(j);
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(
        l,
        vec![lease(1, LeaseState::Bound), lease(2, LeaseState::Bound)]
    );
}

#[test]
fn torn_last_group_is_cut_off_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let (mut j, _) = LeaseJournal::open(&p).unwrap();
    j.append(&[lease(1, LeaseState::Bound)]).unwrap();
    j.append(&[lease(2, LeaseState::Bound), lease(3, LeaseState::Bound)])
        .unwrap();
    drop(j);
    let len = std::fs::metadata(&p).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&p).unwrap();
    f.set_len(len - 3).unwrap();
    let (mut j, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l, vec![lease(1, LeaseState::Bound)]);
    let good = std::fs::metadata(&p).unwrap().len();
    assert!(good < len - 3, "the torn bytes are gone");
    let kept = dir.path().join(format!("leases.torn-{good}"));
    assert_eq!(std::fs::metadata(kept).unwrap().len(), len - 3 - good);
    // Appending continues after the good part: the next start reads everything.
    j.append(&[lease(4, LeaseState::Bound)]).unwrap();
    drop(j);
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(
        l,
        vec![lease(1, LeaseState::Bound), lease(4, LeaseState::Bound)]
    );
}

#[test]
fn corruption_in_the_middle_stops_start_up_with_the_offset() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let (mut j, _) = LeaseJournal::open(&p).unwrap();
    j.append(&[
        lease(1, LeaseState::Bound),
        lease(2, LeaseState::Bound),
        lease(3, LeaseState::Bound),
    ])
    .unwrap();
    drop(j);
    let mut bytes = std::fs::read(&p).unwrap();
    bytes[20 + 3] ^= 0xff; // the only group's sequence number: no torn write does that
    std::fs::write(&p, &bytes).unwrap();
    let err = LeaseJournal::open(&p).unwrap_err();
    assert!(
        matches!(err, Error::CorruptJournal { offset: 20, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("offset 20"), "{err}");
    assert_eq!(std::fs::read(&p).unwrap(), bytes, "the file is left alone");
}

#[test]
fn foreign_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("dhcpd.leases");
    let isc = b"# The format of this file is documented in the dhcpd.leases(5) manual page.\nlease 192.0.2.5 {\n}\n";
    std::fs::write(&p, isc).unwrap();
    let err = LeaseJournal::open(&p).unwrap_err();
    assert!(matches!(err, Error::ForeignJournal { .. }), "{err}");
    assert!(err.to_string().contains("dhcpd.leases"));
    assert_eq!(std::fs::read(&p).unwrap(), isc);
}

const CHILD_ENV: &str = "DHCP_SERVER_JOURNAL_CRASH_CHILD";

fn crash_config() -> ServerConfig {
    let mut s = Subnet::new(Ipv4Addr::new(198, 18, 0, 0), 15);
    s.ranges.push(Range {
        start: Ipv4Addr::new(198, 18, 1, 0),
        end: Ipv4Addr::new(198, 19, 255, 254),
        bootp: false,
    });
    let mut c = ServerConfig::new(Mode::Full, vec![s], policy());
    c.rate_limit.burst = 1000;
    c
}

fn datagram(payload: &[u8]) -> Datagram<'_> {
    Datagram {
        ifindex: 1,
        interface: None,
        local: Ipv4Addr::new(198, 18, 0, 1),
        local_port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        payload,
    }
}

fn mac_msg(m: &mut dhcp_pxe::Message, n: u16) {
    m.chaddr[4..6].copy_from_slice(&n.to_be_bytes());
}

/// The child: serves DORAs for ever-new clients, eight per group commit, and
/// prints each ACK after its batch is on disk. Only runs when the parent asks.
#[test]
fn crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (mut journal, leases) = LeaseJournal::open(&path).unwrap();
    let mut server = Server::new(crash_config());
    server.restore(leases);
    let out = std::io::stdout();
    let start = Instant::now();
    let mut n: u16 = 0;
    while start.elapsed() < Duration::from_secs(30) {
        let now = SystemTime::now();
        for _ in 0..8 {
            n = n.wrapping_add(1);
            let mut d = discover(0);
            mac_msg(&mut d, n);
            server.handle(now, &datagram(&encode(&d, &Default::default()).unwrap()));
            let offer = decode_strict(&server.poll_transmit().unwrap().payload).unwrap();
            let mut r = request(0, offer.yiaddr, Some(Ipv4Addr::new(198, 18, 0, 1)));
            mac_msg(&mut r, n);
            server.handle(now, &datagram(&encode(&r, &Default::default()).unwrap()));
        }
        let batch = server.poll_commit().unwrap();
        journal.append(&batch.records).unwrap();
        server.handle_committed(batch.id);
        let mut o = out.lock();
        while let Some(t) = server.poll_transmit() {
            let ack = decode_strict(&t.payload).unwrap();
            writeln!(o, "ACK {} {}", ClientKey::of(&ack), ack.yiaddr).unwrap();
        }
        o.flush().unwrap();
    }
}

#[test]
fn kill_9_loses_no_acknowledged_lease_and_never_doubles_an_address() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases");
    let mut acked = std::collections::HashMap::new();
    for round in 0..3 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "journal::crash_child",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let want = 200 + round * 37;
        let mut got = 0;
        let deadline = Instant::now() + Duration::from_secs(20);
        while got < want && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            if let Some(rest) = line.strip_prefix("ACK ") {
                let (key, addr) = rest.split_once(' ').unwrap();
                acked.insert(key.to_string(), addr.parse::<Ipv4Addr>().unwrap());
                got += 1;
            }
        }
        child.kill().unwrap(); // SIGKILL, mid-stream
        child.wait().unwrap();
        assert!(got >= want, "child acknowledged only {got} leases");
    }
    let (_, leases) = LeaseJournal::open(&path).unwrap();
    let mut server = Server::new(crash_config());
    server.restore(leases);
    let now = SystemTime::now();
    let unix = dhcp_server::server::unix(now);
    for (key, addr) in &acked {
        let l = server
            .leases()
            .get(*addr)
            .unwrap_or_else(|| panic!("acked lease {addr} lost"));
        assert_eq!(
            &l.client.to_string(),
            key,
            "{addr} belongs to another client"
        );
        assert!(l.is_active(unix));
    }
    // New clients never get an acknowledged address.
    let taken: std::collections::HashSet<_> = acked.values().copied().collect();
    assert_eq!(
        taken.len(),
        acked.len(),
        "one address acknowledged to two clients"
    );
    for n in 0..300u16 {
        let mut d = base(9, Some(MessageType::Discover));
        d.chaddr[0] = 6; // never one of the child's clients
        d.chaddr[3..5].copy_from_slice(&n.to_be_bytes());
        server.handle(now, &datagram(&encode(&d, &Default::default()).unwrap()));
        let offer = decode_strict(&server.poll_transmit().unwrap().payload).unwrap();
        assert!(
            !taken.contains(&offer.yiaddr),
            "{} offered again",
            offer.yiaddr
        );
    }
}
