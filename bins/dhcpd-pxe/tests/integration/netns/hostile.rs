//! The real daemon against hostile input: a journal holding an infinite BOOTP
//! lease across restarts, and a flood of malformed and mutated datagrams (with
//! BOOTP requests from random MACs, which `--range` alone does not serve)
//! followed by a legitimate lease, without a log line per datagram.
//!
//! Datagrams come from this test binary re-run inside the server's namespace
//! (`flood_child`), over its loopback.

use std::net::{Ipv4Addr, UdpSocket};
use std::time::Duration;

use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::Message;

use super::clients::udhcpc;
use super::{can_run, Lab};

const CHILD_ENV: &str = "DHCPD_PXE_FLOOD_CHILD";

struct XorShift(u32);

impl XorShift {
    fn next(&mut self) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0
    }
}

/// A relayed request (giaddr 192.0.2.1 selects the subnet on loopback).
fn request(mac: u32, ty: Option<MessageType>) -> Vec<u8> {
    let mut m = Message {
        xid: mac,
        giaddr: Ipv4Addr::new(192, 0, 2, 1),
        ..Message::default()
    };
    m.chaddr[..2].copy_from_slice(&[2, 7]);
    m.chaddr[2..6].copy_from_slice(&mac.to_be_bytes());
    if let Some(t) = ty {
        m.set_message_type(t);
    }
    encode(&m, &EncodeParams::default()).unwrap()
}

/// Sends what `CHILD_ENV` says to 127.0.0.1:67. Runs only when a parent asks.
#[test]
fn flood_child() {
    let Ok(what) = std::env::var(CHILD_ENV) else {
        return;
    };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let to = "127.0.0.1:67";
    if what == "bootp" {
        sock.send_to(&request(0x00c0_ffee, None), to).unwrap();
        return;
    }
    let mut rng = XorShift(0x9e37_79b9);
    let valid = request(1, Some(MessageType::Discover));
    for i in 0..6000u32 {
        let d = match i % 4 {
            // Random bytes of random length.
            0 => (0..rng.next() % 600).map(|_| rng.next() as u8).collect(),
            // A valid DISCOVER cut inside its header, or with a bad cookie.
            1 => {
                let mut d = valid.clone();
                if rng.next() % 2 == 0 {
                    d.truncate(rng.next() as usize % 240);
                } else {
                    d[236 + rng.next() as usize % 4] ^= rng.next() as u8 | 1;
                }
                d
            }
            // Option 53 twice.
            2 => {
                let mut d = request(rng.next(), None);
                d.truncate(240);
                d.extend_from_slice(&[53, 1, 1, 53, 1, 3, 255]);
                d
            }
            // BOOTP from a random MAC.
            _ => request(rng.next(), None),
        };
        let _ = sock.send_to(&d, to);
        if i % 200 == 0 {
            std::thread::sleep(Duration::from_millis(5)); // keep the receive queue from overflowing
        }
    }
}

fn send_from_server_ns(lab: &mut Lab, what: &str) {
    let exe = std::env::current_exe().unwrap();
    let ns = lab.server_ns.clone();
    let script = format!(
        "{CHILD_ENV}={what} {} netns::hostile::flood_child --exact --test-threads=1 >/dev/null 2>&1",
        exe.display()
    );
    let out = lab.sh(&ns, &script);
    assert!(out.status.success(), "flood child failed");
}

fn server_args(lab: &Lab, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "--subnet",
        "192.0.2.0/24",
        "--range",
        "192.0.2.100-192.0.2.110",
        "--boot-file",
        "pxelinux.0",
        "--tftp-server",
        "192.0.2.1",
        "--lease-file",
        lab.path("leases").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

fn start(lab: &mut Lab, label: &str, extra: &[&str]) {
    let args = server_args(lab, extra);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.start_server(label, &args);
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn a_journal_with_an_infinite_bootp_lease_restarts_cleanly() {
    let test = "a_journal_with_an_infinite_bootp_lease_restarts_cleanly";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let bootp = ["--bootp", "--bootp-lease-time", "infinite"];
    start(&mut lab, "first", &bootp);
    send_from_server_ns(&mut lab, "bootp");
    assert!(
        lab.wait_log("first", "BOOTREPLY for 192.0.2.", Duration::from_secs(10)),
        "no BOOTP lease: {}",
        lab.log("first")
    );
    let log = lab.log("first");
    let held = log
        .split("BOOTREPLY for ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap()
        .to_string();
    assert!(lab.stop("first", "TERM").is_some_and(|s| s.success()));
    for round in 0..3 {
        let label = format!("restart-{round}");
        start(&mut lab, &label, &bootp);
        std::thread::sleep(Duration::from_millis(500));
        assert!(lab.alive(&label), "crashed on restart: {}", lab.log(&label));
        assert!(
            lab.stop(&label, "TERM").is_some_and(|s| s.success()),
            "{}",
            lab.log(&label)
        );
    }
    start(&mut lab, "last", &bootp);
    let (a, _, _) =
        udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("last")));
    assert_ne!(a, held, "the BOOTP client's address went to another client");
    assert!(!lab.log("last").contains("panicked"), "{}", lab.log("last"));
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn a_malformed_flood_is_counted_not_logged_line_by_line_and_a_lease_follows() {
    let test = "a_malformed_flood_is_counted_not_logged_line_by_line_and_a_lease_follows";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(1);
    start(&mut lab, "server", &[]);
    send_from_server_ns(&mut lab, "flood");
    assert!(lab.alive("server"), "{}", lab.log("server"));
    // One summary line at info, at most ten seconds after the first drop.
    assert!(
        lab.wait_log("server", "malformed, ", Duration::from_secs(15)),
        "no summary: {}",
        lab.log("server")
    );
    let (a, file, _) =
        udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("server")));
    assert!(a.starts_with("192.0.2.1"), "{a}");
    assert_eq!(file, "pxelinux.0");
    let log = lab.log("server");
    let lines = log.lines().count();
    assert!(lines < 60, "{lines} log lines for 6,000 datagrams:\n{log}");
    assert!(!log.contains("BOOTREPLY"), "BOOTP served without --bootp");
    // Every summary line counts its window; the kernel may drop some datagrams
    // on a busy machine, so only a floor is checked.
    let malformed: u64 = log
        .lines()
        .filter(|l| l.contains("malformed, "))
        .filter_map(|l| {
            l.split(" malformed")
                .next()
                .and_then(|s| s.rsplit(' ').next())
                .and_then(|n| n.parse::<u64>().ok())
        })
        .sum();
    assert!(malformed >= 100, "{malformed} counted:\n{log}");
}

/// A version 1 journal as the earlier releases wrote it, with the infinite
/// BOOTP lease (expiry all ones) that made every start panic.
fn v1_journal_with_an_infinite_lease() -> Vec<u8> {
    let mut b = b"DHCPDPXE-LEASES\n".to_vec();
    b.extend_from_slice(&1u32.to_be_bytes());
    let mut body = vec![192, 0, 2, 105, 1];
    body.extend_from_slice(&u64::MAX.to_be_bytes());
    body.extend_from_slice(&[7, 1, 2, 7, 0, 0xc0, 0xff, 0xee]);
    b.extend_from_slice(&(body.len() as u16).to_be_bytes());
    b.extend_from_slice(&body);
    b.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    b
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn a_version_1_journal_with_an_infinite_bootp_lease_starts_and_is_upgraded() {
    let test = "a_version_1_journal_with_an_infinite_bootp_lease_starts_and_is_upgraded";
    if !can_run(test, &[]) {
        return;
    }
    let mut lab = Lab::new(0);
    let old = v1_journal_with_an_infinite_lease();
    std::fs::write(lab.path("leases"), &old).unwrap();
    start(&mut lab, "server", &[]);
    std::thread::sleep(Duration::from_millis(500));
    assert!(lab.alive("server"), "crashed: {}", lab.log("server"));
    assert!(
        lab.log("server").contains("upgraded from version 1"),
        "{}",
        lab.log("server")
    );
    assert_eq!(std::fs::read(lab.path("leases.v1")).unwrap(), old);
    assert!(lab.stop("server", "TERM").is_some_and(|s| s.success()));
    // Started again on the upgraded file: the lease is still there, still never ending.
    start(&mut lab, "again", &[]);
    assert!(
        lab.log("again").contains("records=1"),
        "{}",
        lab.log("again")
    );
    assert!(lab.stop("again", "TERM").is_some_and(|s| s.success()));
}
