//! A full `tftpd`: requests that never ACK must not lock legitimate clients
//! out, and ERROR packets reaching a listening port are never answered, so
//! two full servers spoofed at each other do not bounce "Server busy"
//! between them.

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::collections::HashSet;
use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peers::{require_tool, run_client, start_server, ChildGuard, Fixture, RunningServer};

/// The transfer cap used here (the default is 512).
const CAP: usize = 16;

fn rrq(name: &str) -> Vec<u8> {
    [b"\x00\x01", name.as_bytes(), b"\x00octet\x00"].concat()
}

fn tftpd(fx: &Fixture, extra: &[&str]) -> RunningServer {
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}")])
            .args(["-u", &peers::current_user(), "-v"])
            .args(extra)
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

/// Sends `n` RRQs for a large file from one socket that never answers, and
/// waits (at most 5 s) until `n` transfer ports sent their first DATA.
fn hold_slots(server: SocketAddr, n: usize) -> (UdpSocket, HashSet<SocketAddr>) {
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    attacker
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    for _ in 0..n {
        attacker.send_to(&rrq("random-3m"), server).unwrap();
    }
    let mut ports = HashSet::new();
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while ports.len() < n && Instant::now() < deadline {
        if let Ok((len, from)) = attacker.recv_from(&mut buf) {
            if len >= 4 && buf[1] == 3 {
                ports.insert(from);
            }
        }
    }
    assert_eq!(ports.len(), n, "the held transfers did not all start");
    (attacker, ports)
}

/// Waits (at most 5 s) until one held transfer resends its DATA 1: the
/// handshakes are then a retransmission interval old.
fn wait_for_a_resend(attacker: &UdpSocket, started: &HashSet<SocketAddr>) {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok((len, from)) = attacker.recv_from(&mut buf) {
            if len >= 4 && buf[1] == 3 && started.contains(&from) {
                return;
            }
        }
    }
    panic!("no held transfer resent its first block within 5 s");
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn never_acking_requests_do_not_lock_out_a_client() {
    let Some(tftp) = require_tool("tftp") else {
        return;
    };
    let fx = Fixture::new();
    let mut server = tftpd(&fx, &["--max-transfers", &CAP.to_string()]);
    let (attacker, ports) = hold_slots(server.addr, CAP);
    // Every slot is held by a handshake that will never progress.
    wait_for_a_resend(&attacker, &ports);
    let out = fx.out("legit");
    let mut cmd = Command::new(&tftp);
    cmd.args(["-m", "binary"])
        .arg(server.addr.ip().to_string())
        .arg(server.addr.port().to_string())
        .args(["-c", "get", "f513"])
        .arg(&out);
    let run = run_client(cmd, Duration::from_secs(10));
    assert!(
        !run.output.contains("Error code") && run.code == Some(0),
        "tftp-hpa was locked out: {}",
        run.output
    );
    assert_eq!(fs::read(&out).unwrap(), fx.get("f513"));
    // curl too, while the attacker still holds what is left.
    if let Some(curl) = require_tool("curl") {
        let out = fx.out("legit-curl");
        let mut cmd = Command::new(curl);
        cmd.args(["-sS", "--max-time", "10", "-o"])
            .arg(&out)
            .arg(format!("tftp://{}/f512", server.addr));
        let run = run_client(cmd, Duration::from_secs(15));
        assert_eq!(run.code, Some(0), "curl: {}", run.output);
        assert_eq!(fs::read(&out).unwrap(), fx.get("f512"));
    }
    terminate(&mut server.child);
    let log = fs::read_to_string(fx.tmp.path().join("tftpd.log")).unwrap();
    eprintln!("{log}");
    // The first legitimate request found the server full and took the slot
    // of the oldest handshake.
    assert!(
        summary_counts(&log, "reclaimed").unwrap_or(0) >= 1,
        "no held transfer was reclaimed"
    );
}

/// The `key=N` counts of every refusal summary in a log, summed.
fn summary_counts(log: &str, key: &str) -> Option<u64> {
    let needle = format!("{key}=");
    let mut total = None;
    for line in log.lines().filter(|l| l.contains("busy_replied=")) {
        for word in line.split_whitespace() {
            if let Some(n) = word.strip_prefix(&needle) {
                *total.get_or_insert(0) += n.parse::<u64>().unwrap();
            }
        }
    }
    total
}

fn terminate(child: &mut ChildGuard) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.pid().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.exited().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Server A runs in inetd mode on a socket this test also holds, so the test
/// can send from A's listening address without raw sockets.
fn inetd_server(fx: &Fixture, socket: UdpSocket, log: &Path) -> ChildGuard {
    let out = fs::File::create(log).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args([
        "-t",
        "30",
        "-u",
        &peers::current_user(),
        "-v",
        "--max-transfers",
        "1",
        "-s",
    ])
    .arg(&fx.root)
    .env("TFTPD_LOG_STDERR", "1")
    .env("RUST_LOG", "info")
    .stdin(Stdio::from(OwnedFd::from(socket)))
    .stdout(out.try_clone().unwrap())
    .stderr(out);
    ChildGuard::from_child("tftpd-inetd", cmd.spawn().unwrap())
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn two_full_servers_spoofed_at_each_other_do_not_ping_pong() {
    let fx_a = Fixture::new();
    let fx_b = Fixture::new();
    let shared = UdpSocket::bind("127.0.0.1:0").unwrap();
    let a_addr = shared.local_addr().unwrap();
    let a_log = fx_a.tmp.path().join("a.log");
    let mut a = inetd_server(&fx_a, shared.try_clone().unwrap(), &a_log);
    let mut b = tftpd(&fx_b, &["--max-transfers", "1"]);
    // Both full: one request each that is never acknowledged.
    let _held_a = hold_slots(a_addr, 1);
    let _held_b = hold_slots(b.addr, 1);
    // One ERROR "Server busy" from A's listening address to B's.
    shared
        .send_to(b"\x00\x05\x00\x00Server busy\x00", b.addr)
        .unwrap();
    // Let a bounce, if there were one, run for a while; then count.
    std::thread::sleep(Duration::from_secs(2));
    terminate(&mut a);
    terminate(&mut b.child);
    let a_text = fs::read_to_string(&a_log).unwrap();
    let b_text = fs::read_to_string(fx_b.tmp.path().join("tftpd.log")).unwrap();
    eprintln!("A:\n{a_text}\nB:\n{b_text}");
    assert_eq!(
        summary_counts(&b_text, "not_requests"),
        Some(1),
        "B's summary"
    );
    assert_eq!(summary_counts(&b_text, "busy_replied"), Some(0));
    // A received nothing back, so it has nothing to summarise.
    assert_eq!(summary_counts(&a_text, "busy_replied").unwrap_or(0), 0);
    assert_eq!(summary_counts(&a_text, "not_requests").unwrap_or(0), 0);
    drop(shared);
}
