//! What an operator sees of a running `tftpd`: the Prometheus endpoint
//! (`--metrics`, scraped with curl during and after a transfer), SIGUSR1's
//! `key=value` line (the daemon keeps running), the level of a PXELINUX
//! lookup's "File not found", the journal's priority prefixes, and `-l`
//! without a syslog socket.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::Outcome;
use peers::{pattern, ChildGuard, Fixture, RunningServer};

/// `tftpd -L -a 127.0.0.1:PORT -u USER --metrics 127.0.0.1:0 ARGS -s ROOT`,
/// logging to `NAME.log` beside the root.
fn start(fx: &Fixture, name: &str, args: &[&str], env: &[(&str, &str)]) -> RunningServer {
    let user = peers::current_user();
    peers::start_server(name, fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", &user])
            .args(args)
            .arg("-s")
            .arg(&fx.root)
            .env_remove("RUST_LOG")
            .env_remove("TFTPD_LOG_STDERR")
            .env_remove("JOURNAL_STREAM");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    })
}

fn log_of(fx: &Fixture, name: &str) -> String {
    fs::read_to_string(fx.tmp.path().join(format!("{name}.log"))).unwrap_or_default()
}

/// Waits (bounded) until `name`'s log has a line with `needle`; returns the log.
fn wait_log(fx: &Fixture, name: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = log_of(fx, name);
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The metrics address the server logged (`--metrics 127.0.0.1:0`).
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

#[test]
fn a_pxelinux_lookup_miss_is_logged_at_info_not_warn() {
    let fx = Fixture::new();
    fs::create_dir_all(fx.root.join("pxelinux.cfg")).unwrap();
    fx.put("pxelinux.cfg/default", b"DEFAULT linux\n");
    let server = start(&fx, "lookup", &["-v"], &[]);
    // PXELINUX's order: UUID, MAC, then the address in hex, shorter each time.
    for name in [
        "01-52-54-00-12-34-56",
        "C000020A",
        "C00002",
        "C0",
        "default",
    ] {
        let _ = client::get(server.addr, format!("pxelinux.cfg/{name}").as_bytes(), &[]);
    }
    let log = wait_log(&fx, "lookup", "pxelinux.cfg/default\"");
    let log = if log.contains("outcome=\"complete\"") {
        log
    } else {
        wait_log(&fx, "lookup", "outcome=\"complete\"")
    };
    let misses: Vec<&str> = log.lines().filter(|l| l.contains("code=1")).collect();
    assert_eq!(misses.len(), 4, "{log}");
    assert!(misses.iter().all(|l| l.contains(" INFO ")), "{log}");
    assert!(
        !log.contains(" WARN "),
        "a warning for an ordinary lookup:\n{log}"
    );
}

#[test]
fn under_systemd_lines_carry_a_priority_and_no_timestamp() {
    let fx = Fixture::new();
    fx.put("ok.bin", b"ok");
    let err_path = fx.tmp.path().join("journal.log");
    let stderr = fs::File::create(&err_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let stream = format!("{}:{}", meta.dev(), meta.ino());
    let port = peers::free_udp_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args([
        "-L",
        "-v",
        "-a",
        &addr.to_string(),
        "-u",
        &peers::current_user(),
        "-s",
    ])
    .arg(&fx.root)
    .env_remove("RUST_LOG")
    .env_remove("TFTPD_LOG_STDERR")
    .env("JOURNAL_STREAM", &stream)
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(stderr);
    let _child = ChildGuard::from_child("tftpd-journal", cmd.spawn().unwrap());
    assert!(
        peers::wait_bound(addr, Duration::from_secs(10)),
        "tftpd did not start"
    );
    let ok = client::get(addr, b"ok.bin", &[]);
    assert!(
        matches!(ok.outcome, Outcome::Done { .. }),
        "{:?}",
        ok.outcome
    );
    // Outside the root: refused with ERROR 2, a warning.
    let _ = client::get(addr, b"../outside/secret", &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline && !text.contains("code=2") {
        std::thread::sleep(Duration::from_millis(20));
        text = fs::read_to_string(&err_path).unwrap();
    }
    if Path::new("/run/systemd/journal/socket").exists() && !is_root() {
        // journald is here and no chroot follows: lines go through its native
        // protocol, none to stderr.
        assert!(!text.contains("RRQ from"), "{text}");
        return;
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('<') && l.as_bytes().get(2) == Some(&b'>')),
        "a line without a priority prefix:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>RRQ from 127.0.0.1 filename ok.bin")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<4>") && l.contains("code=2")),
        "the refusal is not at warning priority:\n{text}"
    );
    // No timestamp of our own: journald adds one.
    assert!(
        !text.contains("Z  INFO") && !text.contains(" INFO "),
        "{text}"
    );
}

/// Whether this process runs as root.
fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

#[test]
fn under_journald_a_chrooted_server_keeps_its_lines_on_the_journal_stream() {
    let test = "under_journald_a_chrooted_server_keeps_its_lines_on_the_journal_stream";
    if !is_root() {
        peers::skip::skip(test, "needs root for chroot and a private mount namespace");
        return;
    }
    let Some(unshare) = peers::require_tool("unshare") else {
        return;
    };
    let fx = Fixture::new();
    fx.put("ok.bin", b"ok");
    // journald's socket, at /run/systemd/journal/socket in the server's own
    // mount namespace only (a bind mount over /run there). After its chroot
    // the server could not reach that path: it must not use it at all.
    let run = fx.tmp.path().join("run");
    fs::create_dir_all(run.join("systemd/journal")).unwrap();
    let journal =
        std::os::unix::net::UnixDatagram::bind(run.join("systemd/journal/socket")).unwrap();
    journal
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let err_path = fx.tmp.path().join("stderr.log");
    let stderr = fs::File::create(&err_path).unwrap();
    let meta = stderr.metadata().unwrap();
    let port = peers::free_udp_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(unshare);
    cmd.args(["--mount", "--propagation", "private", "sh", "-c"])
        .arg("mount --bind \"$0\" /run && exec \"$@\"")
        .arg(&run)
        .arg(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-L", "-v", "-a", &addr.to_string(), "-u", "root", "-s"])
        .arg(&fx.root)
        .env_remove("RUST_LOG")
        .env_remove("TFTPD_LOG_STDERR")
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    let _child = ChildGuard::from_child("tftpd-journald", cmd.spawn().unwrap());
    assert!(
        peers::wait_bound(addr, Duration::from_secs(10)),
        "tftpd did not start: {}",
        fs::read_to_string(&err_path).unwrap_or_default()
    );
    let ok = client::get(addr, b"ok.bin", &[]);
    assert!(
        matches!(ok.outcome, Outcome::Done { .. }),
        "{:?}",
        ok.outcome
    );
    let _ = client::get(addr, b"../outside/secret", &[]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline && !text.contains("code=2") {
        std::thread::sleep(Duration::from_millis(20));
        text = fs::read_to_string(&err_path).unwrap();
    }
    assert!(
        text.contains("<6>RRQ from 127.0.0.1 filename ok.bin"),
        "a line lost after the chroot:\n{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("<4>") && l.contains("code=2")),
        "{text}"
    );
    let mut buf = [0u8; 4096];
    assert!(
        journal.recv(&mut buf).is_err(),
        "a datagram to journald's socket"
    );
}

#[test]
fn listen_without_a_syslog_socket_logs_to_stderr_with_one_warning() {
    let fx = Fixture::new();
    fx.put("x.bin", b"x");
    let err_path = fx.tmp.path().join("detached.log");
    let pidfile = fx.tmp.path().join("tftpd.pid");
    let port = peers::free_udp_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let status = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args([
            "-l",
            "-v",
            "-a",
            &addr.to_string(),
            "-u",
            &peers::current_user(),
        ])
        .arg("-P")
        .arg(&pidfile)
        .arg("-s")
        .arg(&fx.root)
        .env_remove("RUST_LOG")
        .env_remove("TFTPD_LOG_STDERR")
        .env_remove("JOURNAL_STREAM")
        .env("TFTPD_SYSLOG_SOCKET", fx.tmp.path().join("no-such-socket"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&err_path).unwrap())
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{}",
        fs::read_to_string(&err_path).unwrap()
    );
    let pid = fs::read_to_string(&pidfile).unwrap().trim().to_string();
    let stop = Stop(pid);
    let reply = client::get(addr, b"x.bin", &[]);
    assert!(
        matches!(reply.outcome, Outcome::Done { .. }),
        "{:?}",
        reply.outcome
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut text = String::new();
    while Instant::now() < deadline && !text.contains("RRQ from") {
        std::thread::sleep(Duration::from_millis(20));
        text = fs::read_to_string(&err_path).unwrap();
    }
    assert_eq!(
        text.matches("no syslog socket; logging to stderr").count(),
        1,
        "{text}"
    );
    assert!(text.contains("RRQ from 127.0.0.1 filename x.bin"), "{text}");
    drop(stop);
}

/// SIGTERM to the detached server (by the PID it wrote), at the end or on failure.
struct Stop(String);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.0]).status();
        let proc = format!("/proc/{}", self.0);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Path::new(&proc).exists() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}
