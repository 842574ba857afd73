//! Command-line parsing (every flag) and exit statuses of the binary.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use tftpd::cli::{self, Command, Config, Family};
use tftpd::exit;

fn parse(args: &[&str]) -> Config {
    let argv = std::iter::once("tftpd").chain(args.iter().copied());
    match cli::parse(argv) {
        Ok(Command::Run(config)) => *config,
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
fn defaults_are_tftp_hpa_defaults() {
    let c = parse(&[]);
    assert!(!c.standalone && !c.foreground && !c.secure && !c.create && !c.permissive);
    assert_eq!(c.listen, addrs(&["0.0.0.0:69", "[::]:69"]));
    assert_eq!(c.idle_timeout, Duration::from_secs(900));
    assert_eq!(
        (c.umask, c.user.as_deref(), c.retransmit),
        (None, None, None)
    );
    assert_eq!(
        (c.max_blksize, c.max_windowsize, c.port_range),
        (None, None, None)
    );
    assert_eq!((c.verbosity, c.family), (0, Family::Any));
    assert!(c.refuse.is_empty() && c.dirs.is_empty());
    assert_eq!((c.pidfile, c.map_file), (None, None));
}

#[test]
fn boolean_flags_short_and_long() {
    let c = parse(&["-l", "-c", "-p", "-s", "/srv"]);
    assert!(c.standalone && !c.foreground && c.create && c.permissive && c.secure);
    let c = parse(&["--listen", "--create", "--permissive", "--secure", "/srv"]);
    assert!(c.standalone && c.create && c.permissive && c.secure);
    let c = parse(&["-L"]);
    assert!(c.standalone && c.foreground);
    let c = parse(&["--foreground"]);
    assert!(c.standalone && c.foreground);
    assert!(parse(&["--chroot", "/srv"]).secure);
}

#[test]
fn short_flags_combine_like_getopt() {
    let c = parse(&["-vvv"]);
    assert_eq!(c.verbosity, 3);
    let c = parse(&["-sv", "/dir"]);
    assert!(c.secure);
    assert_eq!(
        (c.verbosity, c.dirs.clone()),
        (1, vec![PathBuf::from("/dir")])
    );
    let c = parse(&["-Lscpv", "/d"]);
    assert!(c.foreground && c.secure && c.create && c.permissive);
    let c = parse(&["-a127.0.0.1:69", "-B1468", "-U022"]);
    assert_eq!(c.listen, addrs(&["127.0.0.1:69"]));
    assert_eq!((c.max_blksize, c.umask), (Some(1468), Some(0o022)));
    // Options after the directory, as GNU getopt permutes them.
    let c = parse(&["/d", "-s", "-v"]);
    assert!(c.secure);
    assert_eq!(c.verbosity, 1);
    // Values attached with '=' and abbreviated long names (getopt_long).
    let c = parse(&["--address=127.0.0.1:6969", "--perm", "--blocksize", "1024"]);
    assert_eq!(c.listen, addrs(&["127.0.0.1:6969"]));
    assert!(c.permissive);
    assert_eq!(c.max_blksize, Some(1024));
}

#[test]
fn verbose_and_verbosity() {
    assert_eq!(parse(&["-v", "--verbose", "-v"]).verbosity, 3);
    assert_eq!(parse(&["-v", "--verbosity", "5"]).verbosity, 5);
}

#[test]
fn address_forms() {
    let one = |spec: &str| parse(&["-a", spec]).listen;
    assert_eq!(one("127.0.0.1"), addrs(&["127.0.0.1:69"]));
    assert_eq!(one("127.0.0.1:6969"), addrs(&["127.0.0.1:6969"]));
    assert_eq!(one("127.0.0.1:tftp"), addrs(&["127.0.0.1:69"]));
    assert_eq!(one("[::1]:6969"), addrs(&["[::1]:6969"]));
    assert_eq!(one("[::1]"), addrs(&["[::1]:69"]));
    assert_eq!(one(":6969"), addrs(&["0.0.0.0:6969", "[::]:6969"]));
    assert_eq!(one(""), addrs(&["0.0.0.0:69", "[::]:69"]));
    assert_eq!(
        parse(&["-4", "-a", ":6969"]).listen,
        addrs(&["0.0.0.0:6969"])
    );
    assert_eq!(parse(&["-6", "-a", ":6969"]).listen, addrs(&["[::]:6969"]));
    // Repeatable (upstream tftp-hpa; 5.2 keeps only the last).
    let c = parse(&["-a", "127.0.0.1:1069", "--address", "[::1]:1069"]);
    assert_eq!(c.listen, addrs(&["127.0.0.1:1069", "[::1]:1069"]));
    // A host name is resolved.
    let local = one("localhost:6969");
    assert!(!local.is_empty() && local.iter().all(|a| a.ip().is_loopback()));
}

#[test]
fn bad_addresses() {
    assert_eq!(error(&["-a", "::1"]).0, exit::USAGE);
    assert_eq!(error(&["-a", "[::1"]).0, exit::USAGE);
    assert_eq!(error(&["-a", "[::1]x"]).0, exit::USAGE);
    assert_eq!(error(&["-a", "[nonsense]:69"]).0, exit::USAGE);
    assert_eq!(error(&["-a", "127.0.0.1:0"]).0, exit::NOINPUT);
    assert_eq!(error(&["-a", "127.0.0.1:http-alt"]).0, exit::NOINPUT);
    assert_eq!(error(&["-a", "127.0.0.1:70000"]).0, exit::NOINPUT);
    let (code, msg) = error(&["-6", "-a", "127.0.0.1"]);
    assert_eq!(code, exit::USAGE);
    assert!(msg.contains("AF_INET6"), "{msg}");
    assert_eq!(error(&["-4", "-a", "[::1]:69"]).0, exit::USAGE);
}

#[test]
fn family_flags_last_one_wins() {
    assert_eq!(parse(&["-4"]).family, Family::V4);
    assert_eq!(parse(&["--ipv6"]).family, Family::V6);
    assert_eq!(parse(&["-4", "-6"]).family, Family::V6);
    assert_eq!(parse(&["-6", "-4"]).family, Family::V4);
    assert_eq!(parse(&["-4"]).listen, addrs(&["0.0.0.0:69"]));
    assert_eq!(parse(&["-6"]).listen, addrs(&["[::]:69"]));
}

#[test]
fn valued_options() {
    let c = parse(&[
        "-U",
        "0027",
        "-u",
        "tftp",
        "-t",
        "30",
        "-T",
        "250000",
        "-r",
        "blksize",
        "--refuse",
        "TSIZE",
        "-B",
        "65464",
        "-W",
        "16",
        "-R",
        "4000:4100",
        "-P",
        "/run/tftpd.pid",
        "-m",
        "/etc/remap",
    ]);
    assert_eq!(c.umask, Some(0o027));
    assert_eq!(c.user.as_deref(), Some("tftp"));
    assert_eq!(c.idle_timeout, Duration::from_secs(30));
    assert_eq!(c.retransmit, Some(Duration::from_micros(250_000)));
    assert_eq!(c.refuse, ["blksize", "tsize"]);
    assert_eq!((c.max_blksize, c.max_windowsize), (Some(65464), Some(16)));
    assert_eq!(c.port_range, Some((4000, 4100)));
    assert_eq!(c.pidfile, Some(PathBuf::from("/run/tftpd.pid")));
    assert_eq!(c.map_file, Some(PathBuf::from("/etc/remap")));
    let c = parse(&[
        "--umask=2",
        "--user=nobody",
        "--timeout=1",
        "--retransmit=10000",
        "--blocksize=512",
        "--windowsize=1",
        "--port-range=1:1",
        "--pidfile=p",
        "--map-file=m",
    ]);
    assert_eq!(
        (c.umask, c.max_blksize, c.max_windowsize),
        (Some(2), Some(512), Some(1))
    );
    assert_eq!(
        (c.retransmit, c.port_range),
        (Some(Duration::from_millis(10)), Some((1, 1)))
    );
    for opt in tftp::options::OPTION_NAMES {
        assert_eq!(parse(&["-r", opt]).refuse, [*opt]);
    }
}

#[test]
fn bad_values_are_usage_errors() {
    for args in [
        &["-U", "9"][..],
        &["-U", "abc"],
        &["-T", "9999"],
        &["-T", "255000001"],
        &["-T", "1s"],
        &["-B", "511"],
        &["-B", "65465"],
        &["-B", "big"],
        &["-W", "-1"],
        &["-W", "many"],
        &["-R", "5:4"],
        &["-R", "1:65535"],
        &["-R", "1-2"],
        &["-R", "x:2"],
        &["-r", "multicast"],
        &["-t", "soon"],
        &["-m", "a", "-m", "b"],
        &["-s"],
        &["-s", "a", "b"],
        &["-a"],
        &["-Z"],
        &["--bogus"],
        &["--verb"],
    ] {
        let (code, msg) = error(args);
        assert_eq!(code, exit::USAGE, "{args:?}: {msg}");
        assert!(!msg.is_empty());
    }
}

#[test]
fn max_transfers() {
    assert_eq!(parse(&[]).max_transfers, None);
    let c = parse(&["--max-transfers", "16"]);
    assert_eq!(c.max_transfers, Some(16));
    let sc = tftpd::server_config(&c);
    assert_eq!(sc.admission.max_transfers, 16);
    assert_eq!(
        tftpd::server_config(&parse(&[])).admission.max_transfers,
        512
    );
    for bad in ["0", "x", "70000"] {
        let (code, msg) = error(&["--max-transfers", bad]);
        assert_eq!(code, exit::USAGE, "{bad}");
        assert!(msg.contains("maximum transfers"), "{msg}");
    }
}

#[test]
fn version_and_help() {
    for args in [["tftpd", "-V"], ["tftpd", "--version"]] {
        match cli::parse(args) {
            Ok(Command::Version(text)) => assert!(text.contains("tftpd"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
    for args in [["tftpd", "--help"], ["tftpd", "-h"]] {
        match cli::parse(args) {
            Ok(Command::Help(text)) => assert!(text.contains("--port-range"), "{text}"),
            other => panic!("{other:?}"),
        }
    }
}

fn status(args: &[&str]) -> (i32, String) {
    let mut child = Process::new(env!("CARGO_BIN_EXE_tftpd"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if std::time::Instant::now() > deadline {
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
fn binary_exit_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out) = status(&["-V"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("tftpd"), "{out}");
    assert_eq!(status(&["--help"]).0, 0);
    let (code, out) = status(&["-h"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Usage:") && out.contains("--secure"), "{out}");
    let (code, out) = status(&["-Z", "-L", "-s", d]);
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("-Z"), "{out}");
    assert_eq!(status(&["-L", "-B", "1", "-s", d]).0, 64);
    // inetd mode with fd 0 not a socket (here /dev/null): an OS error.
    let (code, out) = status(&["-s", d]);
    assert_eq!(code, 71, "{out}");
    assert!(out.contains("not a socket"), "{out}");
    // A rule file that cannot be read: EX_CONFIG with the file named.
    let (code, out) = status(&["-L", "-m", "/nonexistent", "-s", d]);
    assert_eq!(code, 78, "{out}");
    assert!(out.contains("/nonexistent:0: cannot read"), "{out}");
    // The directory must exist; said once.
    let missing = format!("{d}/missing");
    let (code, out) = status(&["-L", "-a", "127.0.0.1:6", "-s", &missing]);
    assert_eq!(code, 66, "{out}");
    assert_eq!(out.matches("not a directory").count(), 1, "{out}");
    // Without -s: at least one directory, each absolute (tftp-hpa 6.0).
    let (code, out) = status(&["-L", "-a", "127.0.0.1:6"]);
    assert_eq!(code, 64, "{out}");
    assert!(out.contains("directory list not specified"), "{out}");
    let (code, out) = status(&["-L", "-a", "127.0.0.1:6", "relative/dir"]);
    assert_eq!(code, 65, "{out}");
    assert_eq!(out.matches("invalid path").count(), 1, "{out}");
    let (code, out) = status(&["-L", "-a", "127.0.0.1:6", d, &missing]);
    assert_eq!(code, 66, "{out}");
    assert_eq!(out.matches("not a directory").count(), 1, "{out}");
}
