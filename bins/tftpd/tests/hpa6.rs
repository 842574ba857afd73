//! tftp-hpa 6.0's new options through the binary. in.tftpd 5.2 (what Debian
//! ships, the reference of `differential.rs`) has none of them, so these
//! rows are the differential table's continuation with the expected outcome
//! taken from the tftp-hpa 6.0 man page (`in.tftpd(8)`, August 2026), quoted
//! in each row; they run against `tftpd` only. docs/tftpd.md lists them.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::collections::BTreeMap;
use std::fs;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use client::Outcome;
use peers::{pattern, start_server, ChildGuard, Fixture, RunningServer};

/// One row: server arguments, the request's options, and the outcome the
/// 6.0 man page gives, as `bytes N oack[k=v,…]` or `error N`.
struct Row {
    name: &'static str,
    args: &'static [&'static str],
    options: &'static [(&'static str, &'static str)],
    expect: &'static str,
    /// The man page's rule behind `expect`.
    rule: &'static str,
}

const BIG: usize = 100_000;

fn table() -> Vec<Row> {
    vec![
        Row {
            name: "--window-bytes caps blksize × windowsize",
            args: &["--window-bytes", "8192"],
            options: &[("blksize", "1024"), ("windowsize", "16")],
            expect: "bytes 100000 oack[blksize=1024,windowsize=8]",
            rule: "limits the negotiated window such that the negotiated block size multiplied by the window size does not exceed max-window-bytes",
        },
        Row {
            name: "--window-bytes, windowsize before blksize",
            args: &["--window-bytes", "8192"],
            options: &[("windowsize", "16"), ("blksize", "4096")],
            expect: "bytes 100000 oack[windowsize=2,blksize=4096]",
            rule: "the negotiated block size (whatever the option order) times the window stays within the cap",
        },
        Row {
            name: "--window-bytes below two blocks: lockstep",
            args: &["--window-bytes", "1500"],
            options: &[("blksize", "1024"), ("windowsize", "8")],
            expect: "bytes 100000 oack[blksize=1024]",
            rule: "a limit that permits fewer than two blocks causes the server to use normal lockstep operation instead of returning a windowsize option",
        },
        Row {
            name: "--window-bytes 0: no cap",
            args: &["--window-bytes", "0", "-W", "256"],
            options: &[("blksize", "65464"), ("windowsize", "128")],
            expect: "bytes 100000 oack[blksize=65464,windowsize=128]",
            rule: "a value of zero disables this limit",
        },
        Row {
            name: "default window-bytes is 4 MiB",
            args: &["-W", "256"],
            options: &[("blksize", "65464"), ("windowsize", "256")],
            expect: "bytes 100000 oack[blksize=65464,windowsize=64]",
            rule: "TFTPD_MAX_WINDOWBYTES defaults to 4194304 (4 MiB): 4194304 / 65464 = 64 blocks",
        },
        Row {
            name: "-W caps the window",
            args: &["-W", "4"],
            options: &[("windowsize", "16")],
            expect: "bytes 100000 oack[windowsize=4]",
            rule: "a client request exceeding this limit is reduced to this value",
        },
        Row {
            name: "-W 1: lockstep, no windowsize",
            args: &["-W", "1"],
            options: &[("windowsize", "16"), ("tsize", "0")],
            expect: "bytes 100000 oack[tsize=100000]",
            rule: "if the resulting window is one block, the windowsize option is not returned",
        },
        Row {
            name: "-W 0 counts as 1",
            args: &["-W", "0"],
            options: &[("windowsize", "16"), ("tsize", "0")],
            expect: "bytes 100000 oack[tsize=100000]",
            rule: "-W 0 is treated as -W 1 (tftpd.c)",
        },
        Row {
            name: "--reject-all: no OACK",
            args: &["--reject-all"],
            options: &[("blksize", "1468"), ("tsize", "0"), ("windowsize", "4")],
            expect: "bytes 100000 oack[]",
            rule: "--reject-all: no RFC 2347 option is acknowledged, the transfer is plain RFC 1350",
        },
        Row {
            name: "--reject-all: bad values are not checked",
            args: &["--reject-all"],
            options: &[("timeout", "0")],
            expect: "bytes 100000 oack[]",
            rule: "options are not looked at, so a value that would get ERROR 8 is ignored too",
        },
        Row {
            name: "without --reject-all the same value is ERROR 8",
            args: &[],
            options: &[("timeout", "0")],
            expect: "error 8",
            rule: "timeout outside 1-255 is refused (as in.tftpd 5.2)",
        },
    ]
}

fn summary(o: &Outcome) -> String {
    match o {
        Outcome::Done { bytes, oack } => {
            let oack: Vec<String> = oack.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("bytes {} oack[{}]", bytes.len(), oack.join(","))
        }
        Outcome::Error { code, .. } => format!("error {code}"),
        Outcome::Timeout => "timeout".to_owned(),
    }
}

fn tftpd(fx: &Fixture, args: &[&str]) -> RunningServer {
    let user = peers::current_user();
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}"), "-u", &user])
            .args(args)
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

#[test]
fn tftp_hpa_6_rows_against_tftpd() {
    let mut groups: BTreeMap<Vec<&str>, Vec<Row>> = BTreeMap::new();
    for row in table() {
        groups.entry(row.args.to_vec()).or_default().push(row);
    }
    let mut failures = Vec::new();
    for (args, rows) in groups {
        let fx = Fixture::new();
        fx.put("big.bin", &pattern(BIG, 11));
        let server = tftpd(&fx, &args);
        for row in rows {
            let reply = client::get(server.addr, b"big.bin", row.options);
            if let Outcome::Done { bytes, .. } = &reply.outcome {
                assert!(*bytes == pattern(BIG, 11), "{}: wrong bytes", row.name);
            }
            let got = summary(&reply.outcome);
            if got != row.expect {
                failures.push(format!(
                    "{}: got {got}, tftp-hpa 6.0 gives {} ({})\n",
                    row.name, row.expect, row.rule
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.concat());
}

/// `-a` twice and `-S PORT` for addresses given without a port: both
/// addresses answer, on that port.
#[test]
fn several_addresses_share_the_service_port() {
    let fx = Fixture::new();
    fx.put("f", b"several");
    let user = peers::current_user();
    let mut port = 0;
    let server = start_server("tftpd-multi", fx.tmp.path(), |p| {
        port = p;
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", "127.0.0.2", "-a", "127.0.0.1", "-S"])
            .arg(p.to_string())
            .args(["-u", &user, "-s"])
            .arg(&fx.root);
        cmd
    });
    assert_eq!(server.addr.port(), port);
    for ip in [[127, 0, 0, 1], [127, 0, 0, 2]] {
        let target = SocketAddr::from((ip, port));
        let reply = client::get(target, b"f", &[]);
        assert_eq!(
            reply.outcome,
            Outcome::Done {
                bytes: b"several".to_vec(),
                oack: vec![]
            },
            "{target}"
        );
        assert_eq!(reply.from.unwrap().ip(), target.ip());
    }
}

/// `--systemd` under `systemd-socket-activate --datagram`: serves on the
/// passed socket (and, like inetd mode, exits after `-t` idle seconds).
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn systemd_flag_serves_the_activated_socket() {
    let Some(activate) = peers::require_tool("systemd-socket-activate") else {
        return;
    };
    let fx = Fixture::new();
    fx.put("boot.bin", &pattern(20_000, 9));
    let port = peers::free_udp_port();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut cmd = Command::new(activate);
    cmd.args(["--datagram", "-l", &addr.to_string()])
        .args(["-E", "RUST_LOG=info"])
        .arg(env!("CARGO_BIN_EXE_tftpd"))
        .args(["--systemd", "-t", "2", "-u", &peers::current_user(), "-s"])
        .arg(&fx.root);
    let mut child = ChildGuard::spawn("systemd-activate", cmd, fx.tmp.path());
    assert!(
        peers::wait_bound(addr, Duration::from_secs(10)),
        "socket not bound"
    );
    let log = || fs::read_to_string(fx.tmp.path().join("systemd-activate.log")).unwrap_or_default();
    let reply = client::get(addr, b"boot.bin", &[]);
    match &reply.outcome {
        Outcome::Done { bytes, .. } => assert!(*bytes == pattern(20_000, 9), "wrong bytes"),
        other => panic!("{other:?}; log:\n{}", log()),
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while child.exited().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        child.exited().and_then(|s| s.code()),
        Some(0),
        "log:\n{}",
        log()
    );
}

/// What `LISTEN_FDS` may not be: a descriptor that is not a UDP socket, a
/// count that is not a number, descriptors meant for another process.
#[test]
fn bad_listen_fds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let run = |env: &str| {
        // `exec` keeps the shell's pid, so LISTEN_PID=$$ names tftpd.
        let script =
            format!("exec 3</dev/null; export {env}; exec \"$0\" --systemd -t 1 -s \"$1\"");
        let run = peers::run_client(
            {
                let mut cmd = Command::new("sh");
                cmd.args(["-c", &script, env!("CARGO_BIN_EXE_tftpd")])
                    .arg(dir.path());
                cmd
            },
            Duration::from_secs(20),
        );
        (run.code, run.output)
    };
    let (code, out) = run("LISTEN_PID=$$ LISTEN_FDS=1");
    assert_eq!(code, Some(71), "{out}");
    assert!(
        out.contains("LISTEN_FDS: fd 3") && out.contains("not a socket"),
        "{out}"
    );
    let (code, out) = run("LISTEN_PID=$$ LISTEN_FDS=abc");
    assert_eq!(code, Some(71), "{out}");
    assert!(out.contains("bad LISTEN_FDS: abc"), "{out}");
    // Another process's descriptors (or none at all): --systemd has nothing.
    for env in ["LISTEN_PID=1 LISTEN_FDS=1", "LISTEN_FDS=1"] {
        let (code, out) = run(env);
        assert_eq!(code, Some(66), "{env}: {out}");
        assert!(out.contains("no file descriptors passed"), "{out}");
    }
}
