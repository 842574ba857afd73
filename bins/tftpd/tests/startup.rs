//! How `tftpd` gets its sockets besides `-l`/`-L`: inetd mode (fd 0 is the
//! bound socket, exit 0 after `-t` idle seconds) and systemd socket
//! activation (`LISTEN_FDS`, through `systemd-socket-activate --datagram`).

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::OwnedFd;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use client::Outcome;
use peers::{pattern, ChildGuard, Fixture};

/// Starts `tftpd ARGS -s ROOT` with `sock` as fd 0, as inetd does.
fn inetd(fx: &Fixture, sock: UdpSocket, args: &[&str]) -> ChildGuard {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(args)
        .args(["-u", &peers::current_user(), "-s"])
        .arg(&fx.root)
        .env("TFTPD_LOG_STDERR", "1")
        .env("RUST_LOG", "info");
    let log = fs::File::create(fx.tmp.path().join("tftpd-inetd.log")).unwrap();
    cmd.stdin(Stdio::from(OwnedFd::from(sock)))
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    ChildGuard::from_child("tftpd-inetd", cmd.spawn().unwrap())
}

fn log_of(fx: &Fixture) -> String {
    fs::read_to_string(fx.tmp.path().join("tftpd-inetd.log")).unwrap_or_default()
}

fn wait_exit(child: &mut ChildGuard, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.exited() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// As in.tftpd: `-P` writes a pid file in standalone mode only.
#[test]
fn inetd_mode_writes_no_pid_file() {
    let fx = Fixture::new();
    fs::write(fx.root.join("small.txt"), b"small\n").unwrap();
    let pidfile = fx.tmp.path().join("tftpd.pid");
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let p = pidfile.to_str().unwrap();
    let mut child = inetd(&fx, listener, &["-t", "1", "-P", p]);
    let reply = client::get(addr, b"small.txt", &[]);
    assert!(
        matches!(&reply.outcome, Outcome::Done { bytes, .. } if bytes == b"small\n"),
        "{:?}; log:\n{}",
        reply.outcome,
        log_of(&fx)
    );
    assert!(!pidfile.exists(), "pid file written while serving");
    let code = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(0), "no idle exit; log:\n{}", log_of(&fx));
    assert!(!pidfile.exists(), "pid file left");
}

#[test]
fn inetd_mode_serves_from_fd_0_and_exits_after_idle_time() {
    let fx = Fixture::new();
    let data = pattern(300_000, 7);
    fs::write(fx.root.join("big.bin"), &data).unwrap();
    fs::write(fx.root.join("small.txt"), b"small\n").unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let started = Instant::now();
    let mut child = inetd(&fx, listener, &["-t", "2"]);
    // Several transfers at once, from one process.
    let handles: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let name: &[u8] = if i % 2 == 0 { b"big.bin" } else { b"small.txt" };
                client::get(addr, name, &[])
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let reply = h.join().unwrap();
        let want: &[u8] = if i % 2 == 0 { &data } else { b"small\n" };
        match &reply.outcome {
            Outcome::Done { bytes, .. } => assert!(bytes == want, "transfer {i}: wrong bytes"),
            other => panic!("transfer {i}: {other:?}; log:\n{}", log_of(&fx)),
        }
        // Answered from a fresh transfer socket, not the listener.
        let from = reply.from.unwrap();
        assert_ne!(from.port(), addr.port());
        assert_eq!(from.ip(), addr.ip());
    }
    // A missing file after the first batch: the process keeps serving.
    let reply = client::get(addr, b"missing", &[]);
    assert_eq!(reply.outcome.code(), Some(1), "{:?}", reply.outcome);
    let last_request = Instant::now();
    assert_eq!(
        child.exited(),
        None,
        "exited while serving; log:\n{}",
        log_of(&fx)
    );
    let code = wait_exit(&mut child, Duration::from_secs(15));
    assert_eq!(code, Some(0), "no idle exit; log:\n{}", log_of(&fx));
    let idle = last_request.elapsed();
    assert!(
        idle >= Duration::from_millis(1900),
        "exited {idle:?} after the last request, -t 2"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let log = log_of(&fx);
    assert!(log.contains("RRQ from 127.0.0.1 filename big.bin"), "{log}");
}

#[test]
fn inetd_mode_replies_from_the_address_the_request_was_sent_to() {
    let fx = Fixture::new();
    fs::write(fx.root.join("f"), b"x").unwrap();
    // Bound to the wildcard, as xinetd binds: the reply must still come
    // from 127.0.0.2 when the client sent to 127.0.0.2.
    let listener = UdpSocket::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut child = inetd(&fx, listener, &["-t", "1"]);
    let target: SocketAddr = ([127, 0, 0, 2], port).into();
    let reply = client::get(target, b"f", &[]);
    assert_eq!(
        reply.outcome,
        Outcome::Done {
            bytes: b"x".to_vec(),
            oack: vec![]
        },
        "log:\n{}",
        log_of(&fx)
    );
    assert_eq!(reply.from.unwrap().ip(), target.ip());
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
}

#[test]
fn inetd_mode_on_a_dual_stack_socket_serves_ipv4_clients() {
    let fx = Fixture::new();
    fs::write(fx.root.join("f"), b"dual").unwrap();
    // xinetd with `flags = IPv6` (and systemd's default) pass one [::]
    // socket that also receives IPv4 as ::ffff:a.b.c.d.
    let sock = socket2::Socket::new(socket2::Domain::IPV6, socket2::Type::DGRAM, None).unwrap();
    sock.set_only_v6(false).unwrap();
    sock.bind(&"[::]:0".parse::<SocketAddr>().unwrap().into())
        .unwrap();
    let listener: UdpSocket = sock.into();
    let port = listener.local_addr().unwrap().port();
    let mut child = inetd(&fx, listener, &["-t", "1"]);
    let target: SocketAddr = ([127, 0, 0, 1], port).into();
    let reply = client::get(target, b"f", &[]);
    assert_eq!(
        reply.outcome,
        Outcome::Done {
            bytes: b"dual".to_vec(),
            oack: vec![]
        },
        "log:\n{}",
        log_of(&fx)
    );
    assert_eq!(reply.from.unwrap().ip(), target.ip());
    let v6: SocketAddr = format!("[::1]:{port}").parse().unwrap();
    let reply = client::get(v6, b"f", &[]);
    assert!(
        matches!(reply.outcome, Outcome::Done { .. }),
        "{:?}",
        reply.outcome
    );
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
}

#[test]
fn inetd_mode_logs_tftp_hpa_lines_to_syslog() {
    let fx = Fixture::new();
    fx.put("pxelinux.0", b"boot");
    let map = fx.tmp.path().join("map");
    fs::write(&map, "r ^/?boot/(.*) \\1\n").unwrap();
    let log_path = fx.tmp.path().join("log.sock");
    let syslog = std::os::unix::net::UnixDatagram::bind(&log_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-v", "-t", "1", "-m", map.to_str().unwrap()])
        .args(["-u", &peers::current_user(), "-s"])
        .arg(&fx.root)
        .env("TFTPD_SYSLOG_SOCKET", &log_path)
        .env_remove("RUST_LOG")
        .env_remove("TFTPD_LOG_STDERR")
        .stdin(Stdio::from(OwnedFd::from(listener)))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = ChildGuard::from_child("tftpd-syslog", cmd.spawn().unwrap());
    let pid = child.pid();
    let reply = client::get(addr, b"boot/pxelinux.0", &[]);
    assert!(
        matches!(reply.outcome, Outcome::Done { .. }),
        "{:?}",
        reply.outcome
    );
    let mut lines = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && lines.len() < 50 {
        match syslog.recv(&mut buf) {
            Ok(n) => {
                let line = String::from_utf8_lossy(&buf[..n]).into_owned();
                let done = line.contains("transfer");
                lines.push(line);
                if done && lines.iter().any(|l| l.contains("RRQ from")) {
                    break;
                }
            }
            Err(_) => break,
        }
    }
    let want = format!(
        "<29>tftpd[{pid}]: RRQ from 127.0.0.1 filename boot/pxelinux.0 remapped to pxelinux.0"
    );
    assert!(lines.contains(&want), "{want:?} not among {lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("outcome=\"complete\"") || l.contains("outcome=complete")),
        "no structured transfer line: {lines:#?}"
    );
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
}

#[test]
fn inetd_mode_reports_a_bad_rule_file_to_syslog() {
    let fx = Fixture::new();
    let map = fx.tmp.path().join("map");
    fs::write(&map, "r a b\nx bad\n").unwrap();
    let log_path = fx.tmp.path().join("log.sock");
    let syslog = std::os::unix::net::UnixDatagram::bind(&log_path).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let listener = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-m", map.to_str().unwrap(), "-s"])
        .arg(&fx.root)
        .env("TFTPD_SYSLOG_SOCKET", &log_path)
        .env_remove("RUST_LOG")
        .env_remove("TFTPD_LOG_STDERR")
        .stdin(Stdio::from(OwnedFd::from(listener)))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = ChildGuard::from_child("tftpd-badmap", cmd.spawn().unwrap());
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(78));
    let mut buf = [0u8; 4096];
    let n = syslog.recv(&mut buf).expect("an error line on syslog");
    let line = String::from_utf8_lossy(&buf[..n]);
    assert!(line.starts_with("<27>tftpd["), "{line}");
    assert!(
        line.contains(&format!(
            "{}:2: invalid operation flag \"x\"",
            map.display()
        )),
        "{line}"
    );
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn systemd_socket_activate_datagram_serves_on_listen_fds() {
    let Some(activate) = peers::require_tool("systemd-socket-activate") else {
        return;
    };
    let fx = Fixture::new();
    let data = pattern(70_000, 3);
    fs::write(fx.root.join("boot.bin"), &data).unwrap();
    let port = peers::free_udp_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(activate);
    cmd.args(["--datagram", "-l", &addr.to_string()])
        .args(["-E", "TFTPD_LOG_STDERR=1", "-E", "RUST_LOG=info"])
        .arg(env!("CARGO_BIN_EXE_tftpd"))
        .args(["-t", "3", "-u", &peers::current_user(), "-s"])
        .arg(&fx.root);
    let mut child = ChildGuard::spawn("socket-activate", cmd, fx.tmp.path());
    assert!(
        peers::wait_bound(addr, Duration::from_secs(10)),
        "socket not bound"
    );
    let reply = client::get(addr, b"boot.bin", &[("blksize", "1468")]);
    let log = || fs::read_to_string(fx.tmp.path().join("socket-activate.log")).unwrap_or_default();
    match &reply.outcome {
        Outcome::Done { bytes, oack } => {
            assert!(*bytes == data, "wrong bytes");
            assert_eq!(oack, &[("blksize".to_owned(), "1468".to_owned())]);
        }
        other => panic!("{other:?}; log:\n{}", log()),
    }
    // Idle exit applies to activated sockets too (systemd starts it again).
    assert_eq!(
        wait_exit(&mut child, Duration::from_secs(15)),
        Some(0),
        "log:\n{}",
        log()
    );
    assert!(
        log().contains("RRQ from 127.0.0.1 filename boot.bin"),
        "{}",
        log()
    );
}

#[test]
fn listen_through_an_in_tftpd_symlink_keeps_the_process_name() {
    // Sites replace /usr/sbin/in.tftpd by a symlink; init scripts stop the
    // daemon by name (`start-stop-daemon --stop --name in.tftpd`).
    let fx = Fixture::new();
    let link = fx.tmp.path().join("in.tftpd");
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_tftpd"), &link).unwrap();
    let pidfile = fx.tmp.path().join("pid");
    let port = peers::free_udp_port();
    let mut cmd = Command::new(&link);
    cmd.args(["-l", "-a", &format!("127.0.0.1:{port}")])
        .args(["-u", &peers::current_user(), "-P"])
        .arg(&pidfile)
        .arg("-s")
        .arg(&fx.root);
    let run = peers::run_client(cmd, Duration::from_secs(40));
    assert_eq!(run.code, Some(0), "{}", run.output);
    let pid: u32 = fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    assert_eq!(comm.trim(), "in.tftpd");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pidfile.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pidfile.exists(), "still running after SIGTERM");
}
