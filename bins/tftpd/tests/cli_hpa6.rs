//! tftp-hpa 6.0's new options on the command line: `--window-bytes`,
//! `--reject-all`, `--systemd`, `-S`/`--service`/`--port`, `--ports`,
//! `--map-steps`, `--stderr`, `--map-test FILE`, `-W`'s 6.0 range, several
//! `-a`. What each does to a transfer is in `differential.rs` (rows marked
//! "tftp-hpa 6.0") and `hpa6.rs`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tftp::options::{DEFAULT_MAX_WINDOW_BYTES, OPTION_NAMES};
use tftpd::cli::{self, Config, MapTest};
use tftpd::exit;

fn parse(args: &[&str]) -> Config {
    let argv = std::iter::once("tftpd").chain(args.iter().copied());
    match cli::parse(argv) {
        Ok(cli::Command::Run(config)) => *config,
        other => panic!("{args:?}: {other:?}"),
    }
}

fn error(args: &[&str]) -> (u8, String) {
    let argv = std::iter::once("tftpd").chain(args.iter().copied());
    match cli::parse(argv) {
        Err(err) => (err.code, err.message),
        Ok(other) => panic!("{args:?} parsed: {other:?}"),
    }
}

fn addrs(list: &[&str]) -> Vec<SocketAddr> {
    list.iter().map(|a| a.parse().unwrap()).collect()
}

#[test]
fn window_bytes_default_zero_and_bad_values() {
    assert_eq!(parse(&[]).max_window_bytes, Some(DEFAULT_MAX_WINDOW_BYTES));
    assert_eq!(parse(&["--window-bytes", "0"]).max_window_bytes, None);
    assert_eq!(
        parse(&["--window-bytes=65536"]).max_window_bytes,
        Some(65536)
    );
    let sc = tftpd::server_config(&parse(&["--window-bytes", "8192"]));
    assert_eq!(sc.negotiation.max_window_bytes, Some(8192));
    for bad in ["", "4M", "1e6", "18446744073709551616"] {
        let (code, msg) = error(&["--window-bytes", bad]);
        assert_eq!(code, exit::USAGE, "{bad}");
        assert!(msg.contains("window-bytes"), "{msg}");
    }
    assert_eq!(error(&["--window-bytes", "-1"]).0, exit::USAGE);
}

#[test]
fn windowsize_flag_follows_tftp_hpa_6() {
    // 0 counts as 1; above 32768 is capped, with a warning.
    assert_eq!(parse(&["-W", "0"]).max_windowsize, Some(1));
    let c = parse(&["-W", "65536"]);
    assert_eq!(c.max_windowsize, Some(32768));
    assert_eq!(c.warnings.len(), 1, "{:?}", c.warnings);
    assert!(
        c.warnings[0].contains("capping at 32768"),
        "{:?}",
        c.warnings
    );
    assert!(parse(&["-W", "32768"]).warnings.is_empty());
}

#[test]
fn reject_all_refuses_every_option() {
    let c = parse(&["--reject-all"]);
    assert!(c.reject_all);
    let sc = tftpd::server_config(&c);
    assert_eq!(sc.negotiation.refused, OPTION_NAMES);
    assert!(!parse(&[]).reject_all);
}

#[test]
fn systemd_excludes_the_standalone_flags() {
    let c = parse(&["--systemd", "/srv"]);
    assert!(c.systemd && !c.standalone);
    for args in [
        &["--systemd", "-l"][..],
        &["--systemd", "-L"],
        &["--systemd", "-a", "127.0.0.1"],
        &["-a", "127.0.0.1", "--systemd"],
    ] {
        let (code, msg) = error(args);
        assert_eq!(code, exit::USAGE, "{args:?}");
        assert!(msg.contains("mutually exclusive"), "{msg}");
    }
}

#[test]
fn service_sets_the_port_of_addresses_without_one() {
    let c = parse(&["-L", "-S", "6969"]);
    assert_eq!(c.listen, addrs(&["0.0.0.0:6969", "[::]:6969"]));
    let c = parse(&[
        "-L",
        "--port=7000",
        "-a",
        "127.0.0.1",
        "-a",
        "127.0.0.2:70",
        "-a",
        "[::1]",
    ]);
    assert_eq!(
        c.listen,
        addrs(&["127.0.0.1:7000", "127.0.0.2:70", "[::1]:7000"])
    );
    assert_eq!(
        parse(&["--service", "tftp", "-4"]).listen,
        addrs(&["0.0.0.0:69"])
    );
    assert_eq!(error(&["-S", ""]).0, exit::USAGE);
    assert_eq!(error(&["-S", "0"]).0, exit::NOINPUT);
    assert_eq!(error(&["-S", "nosuchservice"]).0, exit::NOINPUT);
}

#[test]
fn ports_map_steps_stderr_map_test() {
    assert_eq!(
        parse(&["--ports", "4000:4010"]).port_range,
        Some((4000, 4010))
    );
    assert_eq!(parse(&["--map-steps", "12"]).map_steps, Some(12));
    for bad in ["0", "x", "4294967296"] {
        let (code, msg) = error(&["--map-steps", bad]);
        assert_eq!(code, exit::USAGE, "{bad}");
        assert!(msg.contains("--map-steps"), "{msg}");
    }
    assert!(parse(&["--stderr"]).stderr);
    assert_eq!(
        parse(&["--map-test", "/tmp/names", "-m", "r"]).map_test,
        Some(MapTest::File(PathBuf::from("/tmp/names")))
    );
    assert_eq!(
        parse(&["-m", "r", "--map-test"]).map_test,
        Some(MapTest::Stdin)
    );
    assert_eq!(
        parse(&["--map-test", "-m", "r"]).map_test,
        Some(MapTest::Stdin)
    );
    assert_eq!(
        parse(&["--map-test", "-", "-m", "r"]).map_test,
        Some(MapTest::Stdin)
    );
}

/// Runs the binary to its end (bounded), stdin closed.
fn status(args: &[&str]) -> (i32, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(args)
        .env_remove("LISTEN_FDS")
        .env_remove("LISTEN_PID")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("tftpd {args:?} did not exit within 20 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().expect("exited, not killed"), text)
}

#[test]
fn systemd_without_passed_sockets_exits_66() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out) = status(&["--systemd", "-s", dir.path().to_str().unwrap()]);
    assert_eq!(code, 66, "{out}");
    assert!(out.contains("no file descriptors passed"), "{out}");
}

#[test]
fn map_test_file_prints_tftp_hpa_6_lines() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules");
    std::fs::write(
        &rules,
        "rg \\\\ /\nrP ^/?upload/ incoming/\nr ^ip$ \\i\na ^/?private no\\ access\n",
    )
    .unwrap();
    let names = dir.path().join("names");
    std::fs::write(&names, "boot\\pxelinux.0\nupload/x\nip\nprivate.key\n").unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec!["-m", rules.to_str().unwrap()];
        args.extend_from_slice(extra);
        args.extend(["--map-test", names.to_str().unwrap()]);
        status(&args)
    };
    let (code, out) = run(&[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "boot/pxelinux.0\nupload/x\n192.0.2.34\nERROR: no access\n"
    );
    // -c: a write request; -6: an IPv6 client.
    let (code, out) = run(&["-c", "-6"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out,
        "boot/pxelinux.0\nincoming/x\n2001:db8::feed:face:dead:beef\nERROR: no access\n"
    );
    let (code, out) = status(&["-m", rules.to_str().unwrap(), "--map-test", "/nonexistent"]);
    assert_eq!(code, exit::NOINPUT as i32, "{out}");
}
