//! Hostile input to the core: BOOTP with infinite leases across a restart, BOOTP
//! and DORA floods from random MACs against the caps, option 53 twice, a junk
//! flood logged at debug with one summary line, forged text in log lines.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::wire::message::MAGIC_COOKIE;
use dhcp_server::store::{LeaseJournal, LeaseStore};
use dhcp_server::{Expiry, Level, Mode, Range, ServerConfig, Subnet};

use crate::support::*;

fn bootp(mac: u32) -> dhcp_pxe::Message {
    let mut m = base(0, None);
    m.chaddr[..6].copy_from_slice(&[2, 9, 0, 0, 0, 0]);
    m.chaddr[2..6].copy_from_slice(&mac.to_be_bytes());
    m
}

fn flood_subnet() -> Subnet {
    let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 100),
        end: Ipv4Addr::new(192, 0, 2, 119),
        bootp: false,
    });
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 200),
        end: Ipv4Addr::new(192, 0, 2, 220),
        bootp: true,
    });
    s
}

#[test]
fn an_infinite_bootp_lease_survives_a_restart_through_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leases");
    let mut s = subnet();
    s.bootp_lease_time = None; // infinite, as configured
    let config = ServerConfig::new(Mode::Full, vec![s], policy());
    let mut h = Harness::with(config.clone());
    let (mut j, _) = LeaseJournal::open(&path).unwrap();
    let d = dhcp_server::Datagram {
        ifindex: 3,
        interface: Some("veth0"),
        local: SERVER,
        local_port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        payload: &dhcp_pxe::encode(&bootp(7), &Default::default()).unwrap(),
    };
    h.server.handle(h.now, &d);
    let batch = h.server.poll_commit().unwrap();
    j.append(&batch.records).unwrap();
    drop(j);
    let a = batch.records[0].addr;
    assert_eq!(batch.records[0].expires, Expiry::Never);
    // The restart that used to panic ("overflow when adding duration to instant").
    for _ in 0..3 {
        let (_, leases) = LeaseJournal::open(&path).unwrap();
        let mut h2 = Harness::with(config.clone());
        h2.now = h.now;
        h2.server.restore(leases);
        let t = h2.server.poll_timeout();
        assert!(
            t.is_none_or(|t| t < h2.now + Duration::from_secs(3600)),
            "{t:?}"
        );
        h2.advance(Duration::from_secs(86_400 * 365 * 100));
        assert_eq!(
            h2.server.leases().get(a).unwrap().expires,
            Expiry::Never,
            "still held"
        );
        h2.dora(1);
    }
}

#[test]
fn a_lease_expiry_too_far_for_a_system_time_has_no_timer_and_no_panic() {
    let mut h = Harness::full();
    for exp in [u64::MAX - 1, u64::MAX / 2, 1 << 62] {
        h.server.restore([dhcp_server::Lease {
            addr: Ipv4Addr::new(192, 0, 2, 100),
            client: dhcp_server::ClientKey(vec![1, 2, 3]),
            state: dhcp_server::LeaseState::Bound,
            expires: Expiry::At(exp),
            tenure: dhcp_server::Tenure::Fresh,
            details: Default::default(),
        }]);
        let _ = h.server.poll_timeout();
        h.advance(Duration::from_secs(1));
    }
    assert_ne!(h.dora(1), Ipv4Addr::new(192, 0, 2, 100));
}

#[test]
fn a_bootp_flood_from_random_macs_cannot_take_the_pool() {
    let mut h = Harness::with(ServerConfig::new(
        Mode::Full,
        vec![flood_subnet()],
        policy(),
    ));
    let mut got = std::collections::HashSet::new();
    for mac in 0..500u32 {
        for (r, _) in h.send(&bootp(mac.wrapping_mul(2_654_435_761))) {
            got.insert(r.yiaddr);
        }
    }
    // Half of the 21 dynamic-bootp addresses, rounded up.
    assert_eq!(got.len(), 11, "{got:?}");
    let st = h.server.stats();
    assert_eq!(st.bootp, 11);
    assert_eq!(st.capped, 500 - 11);
    // DHCP clients still get addresses, from the DHCP range and the rest of the bootp one.
    for mac in 1..=25 {
        h.dora(mac);
    }
    // The BOOTP leases end after a day (finite by default); then BOOTP is served again.
    h.advance(Duration::from_secs(86_401));
    assert_eq!(h.send(&bootp(999_999)).len(), 1);
    // Capped requests were logged at debug, not one info line each.
    let info = std::iter::from_fn(|| h.server.poll_event())
        .filter(|e| e.level == Level::Info && e.text.starts_with("BOOTREQUEST"))
        .count();
    assert!(info <= 12, "{info} info lines for BOOTP");
}

#[test]
fn a_dora_flood_from_random_macs_leaves_room_for_known_clients() {
    let mut h = Harness::with(ServerConfig::new(
        Mode::Full,
        vec![flood_subnet()],
        policy(),
    ));
    // A known client: leased once, released.
    let a = h.dora(1);
    let mut rel = base(1, Some(MessageType::Release));
    rel.ciaddr = a;
    assert!(h.send(&rel).is_empty());
    let mut leased = 0;
    for n in 0..300u32 {
        let mut d = discover(0);
        d.chaddr[1..5].copy_from_slice(&(n + 1000).to_be_bytes());
        let Some((o, _)) = h.send(&d).pop() else {
            continue;
        };
        let mut r = request(0, o.yiaddr, Some(SERVER));
        r.chaddr = d.chaddr;
        leased += usize::from(h.send(&r).len() == 1);
    }
    // 90 % of 41 dynamic addresses, rounded up.
    assert_eq!(leased, 37);
    assert!(h.server.stats().capped > 0);
    let _ = std::iter::from_fn(|| h.server.poll_event()).count();
    let r = h.send(&discover(1));
    assert_eq!(r.len(), 1, "{:?}", h.server.poll_event());
    assert_eq!(h.dora(1), a, "the known client is not held back");
}

#[test]
fn a_discover_flood_from_random_macs_cannot_keep_the_whole_pool_on_offer() {
    let mut h = Harness::with(ServerConfig::new(
        Mode::Full,
        vec![flood_subnet()],
        policy(),
    ));
    let a = h.dora(1); // known from now on
    let flood = |h: &mut Harness, base: u32| {
        let mut offered = std::collections::HashSet::new();
        for n in 0..300u32 {
            let mut d = discover(0);
            d.chaddr[1..5].copy_from_slice(&(base + n).to_be_bytes());
            for (o, _) in h.send(&d) {
                offered.insert(o.yiaddr);
            }
        }
        offered.len()
    };
    // 90 % of 41, rounded up, less the known client's lease.
    assert_eq!(flood(&mut h, 1000), 37 - 1);
    let mut rel = base(1, Some(MessageType::Release));
    rel.ciaddr = a;
    assert!(h.send(&rel).is_empty());
    assert_eq!(h.dora(1), a, "a known client still gets its address");
    let mut x = discover(2);
    x.chaddr[5] = 77;
    assert!(
        h.send(&x).is_empty(),
        "a new client waits while the cap is reached"
    );
    // Offers end after 30 s and stop counting.
    h.advance(Duration::from_secs(31));
    assert_eq!(h.one(&x).0.message_type(), Some(MessageType::Offer));
}

#[test]
fn option_53_twice_is_malformed_not_bootp() {
    let mut h = Harness::full();
    let mut p = dhcp_pxe::encode(&base(3, None), &Default::default()).unwrap();
    p.truncate(240);
    assert_eq!(p[236..240], MAGIC_COOKIE);
    p.extend_from_slice(&[53, 1, 1, 53, 1, 3, 255]);
    let src = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
    assert!(h.send_raw(&p, src, 67).is_empty());
    let st = h.server.stats();
    assert_eq!((st.malformed, st.bootp), (1, 0));
    assert!(h.server.leases().is_empty(), "no BOOTP lease");
}

#[test]
fn a_junk_flood_is_logged_at_debug_with_one_summary_line() {
    let mut h = Harness::full();
    let src = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
    let mut seed = 0x2545_f491_u32;
    for i in 0..3000usize {
        let len = i % 400;
        let junk: Vec<u8> = (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                seed as u8
            })
            .collect();
        h.send_raw(&junk, src, 67);
    }
    assert_eq!(h.server.stats().malformed, 3000);
    let events: Vec<_> = std::iter::from_fn(|| h.server.poll_event()).collect();
    assert!(events.iter().all(|e| e.level == Level::Debug));
    h.advance(Duration::from_secs(11));
    let info: Vec<_> = std::iter::from_fn(|| h.server.poll_event())
        .filter(|e| e.level == Level::Info)
        .collect();
    assert_eq!(info.len(), 1, "{info:?}");
    assert!(info[0].text.contains("3000 malformed"), "{}", info[0].text);
    assert_eq!(h.dora(1), Ipv4Addr::new(192, 0, 2, 100));
}

#[test]
fn client_text_in_log_lines_is_escaped_and_capped() {
    let mut h = Harness::full();
    let mut d = discover(1);
    d.options.insert(
        12,
        b"pc\n2026-11-30T00:00:00Z INFO REQUEST -> ACK 192.0.2.9".to_vec(),
    );
    d.options.insert(60, vec![b'A'; 120]);
    d.options.insert(61, vec![0xee; 100]);
    h.send(&d);
    let events: Vec<_> = std::iter::from_fn(|| h.server.poll_event()).collect();
    // The ISC-style lines show the host name escaped too.
    assert!(events.iter().all(|e| !e.text.contains('\n')), "{events:?}");
    assert!(events[0].text.contains("(pc\\x0a2026"), "{events:?}");
    let line = events.last().unwrap().text.clone();
    assert!(!line.contains('\n'), "{line}");
    assert!(line.contains("host \"pc\\x0a2026"), "{line}");
    assert!(line.contains("…(+56 bytes)"), "{line}");
    assert!(line.contains("…(+68 bytes)"), "{line}");
    assert!(line.len() < 400, "{} bytes: {line}", line.len());
}

#[test]
fn a_time_near_the_end_of_system_time_does_not_panic() {
    let mut h = Harness::full();
    h.now = SystemTime::UNIX_EPOCH + Duration::from_secs(u64::MAX / 4);
    h.send(&discover(1));
    let _ = h.server.poll_timeout();
}
