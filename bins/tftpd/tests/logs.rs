//! Where `tftpd`'s lines go and at which level: a PXELINUX lookup's "File
//! not found" at info, the journal's priority prefixes without a timestamp
//! (also for a chrooted server while journald's socket exists), and `-l`
//! without a syslog socket.

#[path = "support/client.rs"]
mod client;
#[path = "support/daemon.rs"]
mod daemon;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::Outcome;
use daemon::{is_root, start, wait_log};
use peers::{ChildGuard, Fixture};

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

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
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
