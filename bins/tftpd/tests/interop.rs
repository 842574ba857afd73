//! Our `tftpd` binary as the server, real clients (curl, atftp, tftp-hpa,
//! busybox) against it, byte-exact.
//!
//! The harness and the client matrix live in `crates/tftp/tests/interop/`
//! and are included here by path (they run against tftp-hpa's `in.tftpd`
//! there, which is the reference for what the clients expect).

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

#[path = "../../../crates/tftp/tests/interop/matrix.rs"]
mod matrix;

use std::process::Command;

use matrix::Target;
use peers::{start_server, Fixture, RunningServer};

/// `tftpd -L -a 127.0.0.1:PORT -s ROOT` plus `extra`, as a child process.
fn tftpd(fx: &Fixture, extra: &[&str]) -> RunningServer {
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", &peers::current_user()])
            .args(extra)
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

fn target<'a>(fx: &'a Fixture, server: &RunningServer) -> Target<'a> {
    Target {
        addr: server.addr,
        fx,
        traversal_is_access_violation: true,
        // -s chroots when the tests run as root (CI).
        chrooted: peers::current_user() == "root",
    }
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_curl() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::curl_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_curl_40_mib_with_block_rollover() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::curl_rollover(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_atftp_with_windowsize() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::atftp_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_tftp_hpa() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::tftp_hpa_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_busybox() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::busybox_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_missing_file_is_code_1() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    matrix::missing_file(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_refuses_traversal_with_access_violation() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &["-p"]);
    matrix::traversal(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_stores_uploads_with_create() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &["-c"]);
    matrix::uploads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_refuses_new_files_without_create() {
    let fx = Fixture::new();
    let server = tftpd(&fx, &[]);
    let Some(curl) = peers::require_tool("curl") else {
        return;
    };
    let local = fx.out("src");
    std::fs::write(&local, b"data").unwrap();
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--max-time", "30", "-T"])
        .arg(&local)
        .arg(format!("tftp://{}/new-file", server.addr));
    let run = peers::run_client(cmd, std::time::Duration::from_secs(60));
    // tftp-hpa without -c: open(O_WRONLY) fails with ENOENT, code 1 (curl 68).
    assert_eq!(run.code, Some(68), "{}", run.output);
    assert!(!fx.root.join("new-file").exists());
}

#[test]
fn tftpd_exits_71_when_the_port_is_taken() {
    let fx = Fixture::new();
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-L", "-a", &format!("127.0.0.1:{port}"), "-s"])
        .arg(&fx.root)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(71),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn tftpd_writes_and_removes_its_pidfile_on_sigterm() {
    let fx = Fixture::new();
    let pidfile = fx.tmp.path().join("tftpd.pid");
    let mut server = tftpd(&fx, &["-P", pidfile.to_str().unwrap()]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let pid = loop {
        if let Ok(text) = std::fs::read_to_string(&pidfile) {
            if text.ends_with('\n') {
                break text.trim().parse::<u32>().unwrap();
            }
        }
        assert!(std::time::Instant::now() < deadline, "no pid file");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(pid, server.child.pid());
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let exit = loop {
        if let Some(status) = server.child.exited() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "tftpd ignored SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(exit.code(), Some(0));
    assert!(!pidfile.exists(), "pid file left behind");
}

#[test]
fn tftpd_replies_from_the_address_the_request_was_sent_to() {
    use std::net::UdpSocket;
    let fx = Fixture::new();
    // Wildcard listener; the request goes to 127.0.0.2, so the DATA must come
    // from 127.0.0.2 (IP_PKTINFO), not from 127.0.0.1.
    let server = start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-4", "-a", &format!("0.0.0.0:{port}"), "-s"])
            .arg(&fx.root);
        cmd
    });
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    client
        .send_to(
            b"\x00\x01f511\x00octet\x00",
            ("127.0.0.2", server.addr.port()),
        )
        .unwrap();
    let mut buf = [0u8; 600];
    let (n, from) = client.recv_from(&mut buf).expect("DATA 1 within 5 s");
    assert_eq!(from.ip().to_string(), "127.0.0.2", "reply came from {from}");
    assert_ne!(from.port(), server.addr.port(), "a new TID per transfer");
    assert_eq!(&buf[..4], b"\x00\x03\x00\x01");
    assert!(buf[4..n] == fx.get("f511")[..], "DATA 1 payload");
    // ACK it so the transfer ends cleanly.
    client.send_to(b"\x00\x04\x00\x01", from).unwrap();
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_serves_curl_over_ipv6() {
    let Some(curl) = peers::require_tool("curl") else {
        return;
    };
    if std::net::UdpSocket::bind("[::1]:0").is_err() {
        peers::skip::skip("tftpd_serves_curl_over_ipv6", "no ::1 on this machine");
        return;
    }
    let fx = Fixture::new();
    let server = start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("[::1]:{port}"), "-s"])
            .arg(&fx.root);
        cmd
    });
    let out = fx.out("curl-v6");
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--max-time", "30", "--tftp-blksize", "1468", "-o"])
        .arg(&out)
        .arg(format!("tftp://[::1]:{}/random-3m", server.addr.port()));
    let run = peers::run_client(cmd, std::time::Duration::from_secs(60));
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(std::fs::read(&out).unwrap() == fx.get("random-3m"));
}

/// Kills a detached server by PID when the test ends, however it ends.
struct PidGuard(u32);

impl Drop for PidGuard {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", &self.0.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_listen_detaches_like_daemon() {
    let fx = Fixture::new();
    let pidfile = fx.tmp.path().join("detached.pid");
    let port = peers::free_udp_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-l", "-a", &format!("127.0.0.1:{port}")])
        .args(["-u", &peers::current_user(), "-P"])
        .arg(&pidfile)
        .arg("-s")
        .arg(&fx.root);
    // The parent returns once the child serves; the child outlives it.
    let run = peers::run_client(cmd, std::time::Duration::from_secs(40));
    let pid: u32 = std::fs::read_to_string(&pidfile)
        .unwrap_or_else(|e| panic!("no pid file ({e}); parent said: {}", run.output))
        .trim()
        .parse()
        .unwrap();
    let _guard = PidGuard(pid);
    assert_eq!(run.code, Some(0), "{}", run.output);
    assert!(peers::port_in_use(port), "detached server is not bound");
    if let Some(curl) = peers::require_tool("curl") {
        let out = fx.out("detached");
        let mut get = Command::new(curl);
        get.args(["-sS", "--max-time", "30", "-o"])
            .arg(&out)
            .arg(format!("tftp://127.0.0.1:{port}/f513"));
        let got = peers::run_client(get, std::time::Duration::from_secs(40));
        assert_eq!(got.code, Some(0), "{}", got.output);
        assert!(std::fs::read(&out).unwrap() == fx.get("f513"));
    }
    // SIGTERM ends it and removes the pid file.
    Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while pidfile.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "detached server ignored SIGTERM"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn tftpd_listen_reports_bind_failure_to_the_caller() {
    let fx = Fixture::new();
    let holder = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = holder.local_addr().unwrap().port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-l", "-a", &format!("127.0.0.1:{port}"), "-s"])
        .arg(&fx.root);
    let run = peers::run_client(cmd, std::time::Duration::from_secs(40));
    assert_eq!(run.code, Some(71), "{}", run.output);
}

/// The ERROR code and message tftp-hpa's client prints for each refusal.
fn refusals(addr: std::net::SocketAddr, tftp: &std::path::Path, fx: &Fixture) -> Vec<String> {
    let local = fx.out("refusal-src");
    std::fs::write(&local, b"x").unwrap();
    let local = local.to_str().unwrap().to_owned();
    let sink = fx.out("refusal-sink");
    let sink = sink.to_str().unwrap().to_owned();
    let cases: [[&str; 3]; 6] = [
        ["get", "dir", &sink],
        ["get", "private", &sink],
        ["get", "no-such-file", &sink],
        ["put", &local, "readonly"],
        ["put", &local, "new-file"],
        ["put", &local, "dir"],
    ];
    cases
        .iter()
        .map(|case| {
            let mut cmd = Command::new(tftp);
            cmd.args(["-m", "binary"])
                .arg(addr.ip().to_string())
                .arg(addr.port().to_string())
                .arg("-c")
                .args(case);
            let run = peers::run_client(cmd, std::time::Duration::from_secs(30));
            let line = run
                .output
                .lines()
                .find(|l| l.starts_with("Error code"))
                .unwrap_or("no error")
                .to_owned();
            format!(
                "{} {}: {line}",
                case[0],
                case[2].rsplit('/').next().unwrap()
            )
        })
        .collect()
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn tftpd_refusals_match_in_tftpd() {
    use std::os::unix::fs::PermissionsExt;
    let Some(tftp) = peers::require_tool("tftp") else {
        return;
    };
    let Some(in_tftpd) = peers::require_tool("in.tftpd") else {
        return;
    };
    let fx = Fixture::new();
    std::fs::create_dir(fx.root.join("dir")).unwrap();
    std::fs::set_permissions(fx.root.join("dir"), std::fs::Permissions::from_mode(0o755)).unwrap();
    fx.put("private", b"p");
    std::fs::set_permissions(
        fx.root.join("private"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    fx.put("readonly", b"r");

    let reference = peers::start_in_tftpd(&in_tftpd, &fx.root, &[]);
    let want = refusals(reference.addr, &tftp, &fx);
    drop(reference);
    let ours = tftpd(&fx, &[]);
    let got = refusals(ours.addr, &tftp, &fx);
    assert_eq!(got, want);
    assert!(want.iter().all(|l| l.contains("Error code")), "{want:#?}");
}
