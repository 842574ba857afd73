//! The accept step and the admission policy without sockets: hostile names
//! against a real directory root, a request served to the last byte by
//! feeding ACKs by hand, and a virtual-time attack on the slot table.

use std::fs;
use std::net::{IpAddr, SocketAddr};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use tftp::accept::{accept, AcceptConfig, Admission, AdmissionConfig, Admit};
use tftp::source::{DirectoryConfig, DirectoryRoot};
use tftp::{Packet, Transfer};

const PEER: &str = "192.0.2.9:3000";

fn request(op: u8, name: &[u8]) -> Vec<u8> {
    [&[0, op][..], name, b"\x00octet\x00"].concat()
}

/// Serves `t` to the end by acknowledging every block; returns the bytes.
fn drain(mut t: Transfer) -> Result<Vec<u8>, u16> {
    let peer: SocketAddr = PEER.parse().unwrap();
    let now = Instant::now();
    let mut buf = [0u8; 1024];
    let mut data = Vec::new();
    for _ in 0..100_000 {
        let Some(tx) = t.poll_transmit(now, &mut buf) else {
            break;
        };
        let head = &buf[..tx.len];
        if head.len() == 4 && head[1] == 3 {
            data.extend_from_slice(&tx.payload);
            t.handle(now, peer, &[0, 4, head[2], head[3]]);
            continue;
        }
        match Packet::parse(head) {
            Ok(Packet::Oack(_)) => t.handle(now, peer, &[0, 4, 0, 0]),
            Ok(Packet::Error { code, .. }) => return Err(code.to_u16()),
            _ => {}
        }
    }
    Ok(data)
}

#[test]
fn hostile_names_never_reach_outside_the_root() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().canonicalize().unwrap();
    let root = base.join("root");
    fs::create_dir_all(root.join("dir")).unwrap();
    fs::write(base.join("secret"), b"SECRET").unwrap();
    fs::write(root.join("ok.txt"), b"hello\n").unwrap();
    fs::set_permissions(root.join("ok.txt"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
    std::os::unix::fs::symlink(base.join("secret"), root.join("link-out")).unwrap();
    std::os::unix::fs::symlink(&base, root.join("dir-out")).unwrap();
    let mut dc = DirectoryConfig::new(&root);
    dc.allow_create = true;
    let source = DirectoryRoot::new(dc).unwrap();
    let config = AcceptConfig::default();
    let peer = PEER.parse().unwrap();
    let names: [&[u8]; 14] = [
        b"../secret",
        b"/../secret",
        b"dir/../../secret",
        b"..\\secret",
        b"link-out",
        b"dir-out/secret",
        b"dir-out/root/../secret",
        b"ok.txt/",
        b"ok.txt/.",
        b"ok.txt\n../secret",
        b"/etc/passwd",
        b"/proc/self/environ",
        b"dir/",
        b"",
    ];
    for name in names {
        let a = accept(
            &request(1, name),
            peer,
            None,
            Instant::now(),
            &config,
            &source,
        )
        .unwrap();
        assert!(a.refusal.is_some(), "RRQ {name:?} accepted");
        let code = drain(a.transfer).unwrap_err();
        assert_ne!(code, 3, "{name:?}");
        // A WRQ may be accepted (`..\\secret` is a plain name inside the
        // root); dropped unfinished, it leaves nothing behind anywhere.
        let w = accept(
            &request(2, name),
            peer,
            None,
            Instant::now(),
            &config,
            &source,
        )
        .unwrap();
        assert!(
            w.refusal.is_some() || name == b"..\\secret",
            "WRQ {name:?} accepted"
        );
    }
    assert_eq!(fs::read(base.join("secret")).unwrap(), b"SECRET");
    let outside: Vec<_> = fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(outside.len(), 2, "{outside:?}");
    // The control: a plain name is served to the last byte.
    let a = accept(
        &request(1, b"/ok.txt"),
        peer,
        None,
        Instant::now(),
        &config,
        &source,
    )
    .unwrap();
    assert!(a.refusal.is_none());
    assert_eq!(drain(a.transfer).unwrap(), b"hello\n");
}

#[test]
fn an_attacker_at_the_cap_cannot_keep_clients_out() {
    // 512 handshakes that never progress, refreshed as fast as slots free;
    // one legitimate client every 100 ms for a minute of virtual time.
    let t0 = Instant::now();
    let mut adm = Admission::new(AdmissionConfig::default(), t0);
    let attacker: IpAddr = "198.18.0.1".parse().unwrap();
    let client: IpAddr = "198.18.0.2".parse().unwrap();
    let mut held = Vec::new();
    let (mut served, mut refused, mut busy_replies) = (0, 0, 0);
    for step in 0..600u64 {
        let now = t0 + Duration::from_millis(100 * step);
        // The attacker tops the table up to the cap.
        while adm.running() < 512 {
            match adm.request(now, attacker) {
                Admit::Granted(s) => held.push(s),
                other => panic!("{other:?}"),
            }
        }
        held.retain(|s| !adm.handshake_expired(*s, now));
        match adm.request(now, client) {
            Admit::Granted(s) | Admit::Reclaimed { slot: s, .. } => {
                served += 1;
                adm.progressed(s);
                adm.release(s);
            }
            Admit::Busy { reply } => {
                refused += 1;
                busy_replies += usize::from(reply);
            }
        }
        // The attacker floods requests while full: answered at a bounded rate.
        for _ in 0..10 {
            if let Admit::Busy { reply: true } = adm.request(now, attacker) {
                busy_replies += 1;
            }
        }
    }
    // The first 500 ms the handshakes are too young to take.
    assert!(refused <= 5, "{refused} legitimate requests refused");
    assert_eq!(served + refused, 600);
    // At most 10 a second in total, one a second per address.
    assert!(
        busy_replies <= 10 + 61 * 2,
        "{busy_replies} busy replies in 60 s"
    );
}
