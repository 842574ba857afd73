//! The counters of a running `tftpd`: the Prometheus endpoint
//! (`--metrics`), scraped with curl while a transfer runs and after it, and
//! SIGUSR1's `key=value` line (the daemon keeps running).

#[path = "support/client.rs"]
mod client;
#[path = "support/daemon.rs"]
mod daemon;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use client::Outcome;
use daemon::{log_of, start, wait_log};
use peers::{pattern, Fixture};

fn metrics_addr(fx: &Fixture, name: &str) -> SocketAddr {
    let log = wait_log(fx, name, "serving metrics");
    let addr = log
        .lines()
        .find(|l| l.contains("serving metrics"))
        .and_then(|l| l.split("addr=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no metrics address in the log:\n{log}"));
    addr.parse().unwrap()
}

/// `curl http://ADDR/PATH`: (HTTP status, body).
fn curl(curl: &Path, addr: SocketAddr, path: &str) -> (u16, String) {
    let out = Command::new(curl)
        .args(["-sS", "--max-time", "5", "-w", "\n%{http_code}"])
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (code.trim().parse().unwrap(), body.to_string())
}

/// The value of the sample `name` (with its labels, e.g.
/// `tftp_transfers_total{outcome="complete"}`) in an exposition.
fn sample(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// Scrapes until `name` reaches `want` (bounded); returns the last exposition.
fn scrape_until(curl_bin: &Path, addr: SocketAddr, name: &str, want: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (code, text) = curl(curl_bin, addr, "/metrics");
        assert_eq!(code, 200, "{text}");
        if sample(&text, name) == Some(want) || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn rrq(name: &str) -> Vec<u8> {
    let mut p = vec![0, 1];
    p.extend_from_slice(name.as_bytes());
    p.push(0);
    p.extend_from_slice(b"octet\0");
    p
}

fn ack(block: u16) -> Vec<u8> {
    let b = block.to_be_bytes();
    vec![0, 4, b[0], b[1]]
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn metrics_endpoint_counts_a_transfer_while_it_runs_and_after() {
    let Some(curl_bin) = peers::require_tool("curl") else {
        return;
    };
    let fx = Fixture::new();
    let data = pattern(1000, 5);
    fx.put("boot.bin", &data);
    let server = start(&fx, "metrics", &["--metrics", "127.0.0.1:0"], &[]);
    let maddr = metrics_addr(&fx, "metrics");
    let (code, before) = curl(&curl_bin, maddr, "/metrics");
    assert_eq!(code, 200);
    assert_eq!(
        sample(&before, "tftp_requests_total{type=\"rrq\"}"),
        Some(0),
        "{before}"
    );
    assert!(
        before.contains("# TYPE tftp_sent_bytes counter"),
        "{before}"
    );
    assert!(before.trim_end().ends_with("# EOF"), "{before}");

    // A client that holds its ACK: the transfer is running while we scrape.
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.send_to(&rrq("boot.bin"), server.addr).unwrap();
    let mut buf = [0u8; 600];
    let (n, tid) = sock.recv_from(&mut buf).unwrap();
    assert_eq!((n, &buf[..4]), (516, &[0u8, 3, 0, 1][..]));
    let during = scrape_until(&curl_bin, maddr, "tftp_transfers_active", 1);
    assert_eq!(
        sample(&during, "tftp_requests_total{type=\"rrq\"}"),
        Some(1),
        "{during}"
    );
    assert_eq!(
        sample(&during, "tftp_transfers_active"),
        Some(1),
        "{during}"
    );
    assert_eq!(
        sample(&during, "tftp_transfers_total{outcome=\"complete\"}"),
        Some(0),
        "{during}"
    );
    sock.send_to(&ack(1), tid).unwrap();
    let (n, _) = sock.recv_from(&mut buf).unwrap();
    assert_eq!((n, &buf[..4]), (4 + 488, &[0u8, 3, 0, 2][..]));
    sock.send_to(&ack(2), tid).unwrap();

    let after = scrape_until(
        &curl_bin,
        maddr,
        "tftp_transfers_total{outcome=\"complete\"}",
        1,
    );
    assert_eq!(
        sample(&after, "tftp_transfers_total{outcome=\"complete\"}"),
        Some(1),
        "{after}"
    );
    assert_eq!(
        sample(&after, "tftp_sent_bytes_total"),
        Some(1000),
        "{after}"
    );
    assert_eq!(sample(&after, "tftp_transfers_active"), Some(0), "{after}");

    // A PXELINUX lookup that misses counts as not_found, not as an error.
    let miss = client::get(server.addr, b"pxelinux.cfg/01-52-54-00-12-34-56", &[]);
    assert_eq!(miss.outcome.code(), Some(1), "{:?}", miss.outcome);
    let after = scrape_until(
        &curl_bin,
        maddr,
        "tftp_transfers_total{outcome=\"not_found\"}",
        1,
    );
    assert_eq!(
        sample(&after, "tftp_transfers_total{outcome=\"not_found\"}"),
        Some(1),
        "{after}"
    );
    assert_eq!(
        sample(&after, "tftp_requests_total{type=\"rrq\"}"),
        Some(2),
        "{after}"
    );
    assert_eq!(curl(&curl_bin, maddr, "/").0, 404);
}

#[test]
fn sigusr1_logs_one_key_value_line_and_the_server_keeps_serving() {
    let fx = Fixture::new();
    fx.put("a.bin", &pattern(700, 1));
    let mut server = start(&fx, "usr1", &[], &[]);
    let reply = client::get(server.addr, b"a.bin", &[]);
    assert!(
        matches!(reply.outcome, Outcome::Done { .. }),
        "{:?}",
        reply.outcome
    );
    let pid = server.child.pid().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut log = String::new();
    // The transfer's end is counted just after the client's last ACK.
    while Instant::now() < deadline && !log.contains("transfers_complete=1") {
        assert!(Command::new("kill")
            .args(["-USR1", &pid])
            .status()
            .unwrap()
            .success());
        std::thread::sleep(Duration::from_millis(100));
        log = log_of(&fx, "usr1");
    }
    let line = log
        .lines()
        .find(|l| l.contains("statistics ") && l.contains("transfers_complete=1"))
        .unwrap_or_else(|| panic!("no statistics line:\n{log}"));
    for kv in [
        "requests_rrq=1",
        "sent_bytes=700",
        "transfers_not_found=0",
        "busy_replied=0",
    ] {
        assert!(line.contains(kv), "{kv} missing: {line}");
    }
    assert!(
        server.child.exited().is_none(),
        "SIGUSR1 killed tftpd:\n{log}"
    );
    let again = client::get(server.addr, b"a.bin", &[]);
    assert!(
        matches!(again.outcome, Outcome::Done { .. }),
        "{:?}",
        again.outcome
    );
}
