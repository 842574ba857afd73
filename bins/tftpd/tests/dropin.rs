//! Drop-in behaviour of the binary that `differential.rs` (always `-s`)
//! does not reach: serving without `-s` (the directory arguments are the
//! allowed prefixes of absolute names) against in.tftpd 5.2, and the pid
//! file's removal once privileges were dropped.
//!
//! Both need root (in.tftpd and the privilege drop): without root they print
//! `SKIPPED`; under `CI=true` they must run.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use client::Outcome;
use peers::{pattern, require_tool, start_server, ChildGuard, Fixture, RunningServer};

/// Who both servers run as, as packaged set-ups do.
const SERVER_USER: &str = "nobody";

fn needs_root(test: &str) -> bool {
    if peers::current_user() == "root" {
        return true;
    }
    peers::skip::skip(test, "needs root (in.tftpd and -u drop privileges)");
    false
}

/// `<root>/a`, `<root>/ab`, `<root>/b` and a file beside them.
fn populate(root: &Path) {
    let w = |name: &str, data: &[u8]| {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
    };
    w("a/f", b"in a\n");
    w("a/sub/g", &pattern(3000, 4));
    w("ab/i", b"in ab, not in a\n");
    w("b/h", b"in b\n");
    w("top", b"beside the directories\n");
    w("a/private", b"not world-readable\n");
    fs::set_permissions(root.join("a/private"), fs::Permissions::from_mode(0o600)).unwrap();
    // Uploads land in b (the servers run as nobody).
    fs::set_permissions(root.join("b"), fs::Permissions::from_mode(0o777)).unwrap();
}

/// Rows: a name (`{R}` is the fixture's root), RRQ or WRQ, and for an
/// intended difference each side's outcome and why.
type Row = (
    &'static str,
    bool,
    Option<(&'static str, &'static str, &'static str)>,
);

fn rows() -> Vec<Row> {
    vec![
        ("{R}/a/f", false, None),
        ("{R}/a/sub/g", false, None),
        ("{R}/b/h", false, None),
        ("{R}/a/./f", false, None),
        ("{R}/a//f", false, None),
        ("{R}/a/missing", false, None),
        ("{R}/a/private", false, None),
        ("a/f", false, None),
        ("{R}/top", false, None),
        ("{R}/a/../top", false, None),
        ("{R}/a/sub/../f", false, None),
        ("{R}/b/new.bin", true, None),
        ("{R}/top.bin", true, None),
        (
            "{R}/ab/i",
            false,
            Some((
                "bytes 16",
                "error 2",
                "tftp-hpa 6.0 compares whole path components; 5.2 compared bytes, so {R}/a admitted {R}/ab",
            )),
        ),
        (
            "/{R}/a/f",
            false,
            Some((
                "error 2",
                "bytes 5",
                "tftp-hpa 6.0 removes consecutive slashes before the check; 5.2 compared the raw bytes",
            )),
        ),
    ]
}

fn summary(o: &Outcome) -> String {
    match o {
        Outcome::Done { bytes, .. } => format!("bytes {}", bytes.len()),
        Outcome::Error { code, .. } => format!("error {code}"),
        Outcome::Timeout => "timeout".to_owned(),
    }
}

/// `BIN -L -a 127.0.0.1:PORT -u nobody -c ROOT/a ROOT/b` (no `-s`).
fn start(name: &str, bin: &Path, fx: &Fixture) -> RunningServer {
    let dirs = [fx.root.join("a"), fx.root.join("b")];
    start_server(name, fx.tmp.path(), |port| {
        let mut cmd = Command::new(bin);
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}")])
            .args(["-u", SERVER_USER, "-c"])
            .args(&dirs);
        cmd
    })
}

fn run(server: &RunningServer, fx: &Fixture, name: &str, put: bool) -> String {
    let name = name.replace("{R}", fx.root.to_str().unwrap());
    let outcome = if put {
        let reply = client::put(server.addr, name.as_bytes(), b"uploaded", &[]);
        std::thread::sleep(Duration::from_millis(100));
        let stored =
            fs::read(&name).map_or("not stored".to_owned(), |b| format!("stored {}", b.len()));
        format!("{} {stored}", summary(&reply.outcome))
    } else {
        summary(&client::get(server.addr, name.as_bytes(), &[]).outcome)
    };
    outcome
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn without_s_against_in_tftpd() {
    if !needs_root("without_s_against_in_tftpd") {
        return;
    }
    let Some(in_tftpd) = require_tool("in.tftpd") else {
        return;
    };
    let (theirs, ours) = (Fixture::new(), Fixture::new());
    populate(&theirs.root);
    populate(&ours.root);
    let ref_server = start("in.tftpd", &in_tftpd, &theirs);
    let our_server = start("tftpd", Path::new(env!("CARGO_BIN_EXE_tftpd")), &ours);
    let mut failures = Vec::new();
    let mut report = String::new();
    for (name, put, differs) in rows() {
        let a = run(&ref_server, &theirs, name, put);
        let b = run(&our_server, &ours, name, put);
        let line = format!("{name:<20} in.tftpd: {a:<20} | tftpd: {b}\n");
        report.push_str(&line);
        let ok = match differs {
            None => a == b,
            Some((want_a, want_b, _why)) => a == want_a && b == want_b,
        };
        if !ok {
            failures.push(line);
        }
    }
    peers::kill_children(ref_server.child.pid());
    eprintln!("{report}");
    assert!(failures.is_empty(), "{}", failures.concat());
    // Nothing beside the directories was written.
    assert!(!ours.root.join("top.bin").exists());
}

fn wait_gone(path: &Path, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while path.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    !path.exists()
}

fn wait_exit(child: &mut ChildGuard, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(status) = child.exited() {
            return status.code().or(Some(-1));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    None
}

/// A pid file in a root-owned 0755 directory (as `/run`): after `-u nobody`
/// the server itself could not unlink it any more.
fn pid_server(fx: &Fixture, run_dir: &Path) -> (ChildGuard, PathBuf) {
    let pidfile = run_dir.join("tftpd.pid");
    let port = peers::free_udp_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-L", "-a", &format!("127.0.0.1:{port}")])
        .args(["-u", SERVER_USER, "-P"])
        .arg(&pidfile)
        .arg("-s")
        .arg(&fx.root);
    let child = ChildGuard::spawn("tftpd-pid", cmd, fx.tmp.path());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !pidfile.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    (child, pidfile)
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn pid_file_is_removed_after_privileges_were_dropped() {
    if !needs_root("pid_file_is_removed_after_privileges_were_dropped") {
        return;
    }
    let fx = Fixture::new();
    let run_dir = fx.tmp.path().join("run");
    fs::create_dir(&run_dir).unwrap();
    fs::set_permissions(&run_dir, fs::Permissions::from_mode(0o755)).unwrap();
    let log = || fs::read_to_string(fx.tmp.path().join("tftpd-pid.log")).unwrap_or_default();
    for (signal, code) in [("TERM", Some(0)), ("INT", Some(0)), ("KILL", Some(-1))] {
        let (mut child, pidfile) = pid_server(&fx, &run_dir);
        let pid: u32 = fs::read_to_string(&pidfile)
            .unwrap_or_default()
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("no pid file; log:\n{}", log()));
        assert_eq!(pid, child.pid());
        let _ = Command::new("kill")
            .args([format!("-{signal}"), pid.to_string()])
            .status();
        assert_eq!(
            wait_exit(&mut child, Duration::from_secs(10)),
            code,
            "SIG{signal}; log:\n{}",
            log()
        );
        if signal != "KILL" {
            // Removed before the server exits.
            assert!(
                !pidfile.exists(),
                "SIG{signal}: pid file left; log:\n{}",
                log()
            );
        }
        assert!(
            wait_gone(&pidfile, Duration::from_secs(5)),
            "SIG{signal}: pid file left; log:\n{}",
            log()
        );
    }
    // A pid file some other instance rewrote is left alone.
    let (mut child, pidfile) = pid_server(&fx, &run_dir);
    fs::write(&pidfile, "1\n").unwrap();
    let _ = Command::new("kill")
        .args(["-TERM", &child.pid().to_string()])
        .status();
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
    assert_eq!(fs::read_to_string(&pidfile).unwrap(), "1\n");
    fs::remove_file(&pidfile).unwrap();
    // -l: the detached server (no child of ours) writes and removes it too.
    let port = peers::free_udp_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
    cmd.args(["-l", "-a", &format!("127.0.0.1:{port}")])
        .args(["-u", SERVER_USER, "-P"])
        .arg(&pidfile)
        .arg("-s")
        .arg(&fx.root);
    let run = peers::run_client(cmd, Duration::from_secs(30));
    assert_eq!(run.code, Some(0), "{}", run.output);
    let pid = fs::read_to_string(&pidfile).unwrap().trim().to_owned();
    let _ = Command::new("kill").args(["-TERM", &pid]).status();
    assert!(
        wait_gone(Path::new(&format!("/proc/{pid}")), Duration::from_secs(10)),
        "-l server {pid} still running"
    );
    assert!(
        wait_gone(&pidfile, Duration::from_secs(5)),
        "-l: pid file left"
    );
}

/// Without `-s` nothing is chrooted: only the path rules keep requests in.
/// Traversal, symlinks out, byte-prefix neighbours and absolute names
/// outside, RRQ and WRQ (with `-c`): not a byte outside the directory is
/// read or written. Runs without root too (no `-u` then).
#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn without_s_nothing_outside_the_directories() {
    let fx = Fixture::new();
    let base = fx.root.parent().unwrap().to_path_buf();
    // A neighbour whose name starts with the served directory's name.
    let neighbour = base.join("rootx");
    fs::create_dir(&neighbour).unwrap();
    fs::write(neighbour.join("secret"), b"SECRET\n").unwrap();
    fs::set_permissions(neighbour.join("secret"), fs::Permissions::from_mode(0o644)).unwrap();
    fs::create_dir(fx.root.join("dir")).unwrap();
    let user = peers::current_user();
    let server = start_server("tftpd-nos", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}"), "-c", "-u", &user])
            .arg(&fx.root);
        cmd
    });
    let r = fx.root.to_str().unwrap();
    let b = base.to_str().unwrap();
    let names = [
        format!("{r}/../outside/secret"),
        format!("{r}//../outside/secret"),
        format!("{r}/./../outside/secret"),
        format!("{r}/dir/../../outside/secret"),
        format!("{r}/.."),
        format!("{r}/../"),
        format!("{r}/link-out"),
        format!("{r}/link-out/"),
        format!("{r}x/secret"),
        format!("{b}/rootx/secret"),
        format!("{b}/outside/secret"),
        format!("{b}/root/../rootx/secret"),
        format!("/{b}/outside/secret"),
        "../outside/secret".to_owned(),
        "outside/secret".to_owned(),
        format!("{r}\\..\\outside\\secret"),
        format!("{r}/%2e%2e/outside/secret"),
        format!("{r}/\u{2025}/outside/secret"),
        format!("{r}/..\0/outside/secret"),
    ];
    let before = fs::read_dir(&fx.outside).unwrap().count();
    for name in &names {
        let got = client::get(server.addr, name.as_bytes(), &[]);
        if let Outcome::Done { bytes, .. } = &got.outcome {
            assert!(
                !bytes.windows(6).any(|w| w == b"SECRET"),
                "{name:?} served the secret"
            );
        }
        let mut upload = b"UPLOAD-".to_vec();
        upload.extend_from_slice(name.as_bytes());
        let _ = client::put(server.addr, name.as_bytes(), &upload, &[]);
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(fs::read(fx.outside.join("secret")).unwrap(), b"SECRET\n");
    assert_eq!(fs::read(neighbour.join("secret")).unwrap(), b"SECRET\n");
    assert_eq!(fs::read_dir(&fx.outside).unwrap().count(), before);
    assert_eq!(fs::read_dir(&neighbour).unwrap().count(), 1);
    // And the directory itself still serves.
    fx.put("ok.txt", b"fine\n");
    let got = client::get(server.addr, format!("{r}/ok.txt").as_bytes(), &[]);
    assert_eq!(
        got.outcome,
        Outcome::Done {
            bytes: b"fine\n".to_vec(),
            oack: vec![]
        }
    );
}
