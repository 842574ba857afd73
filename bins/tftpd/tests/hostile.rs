//! Hostile input against the `tftpd` binary: a traversal battery (RRQ and
//! WRQ, with and without remap rules, differential against tftp-hpa's
//! `in.tftpd`) that must never serve or write a byte outside the root, and
//! a flood of malformed datagrams after which a legitimate transfer still
//! succeeds and the log holds no line per datagram.
//!
//! The battery needs root (in.tftpd's `-s` chroots): without root it prints
//! `SKIPPED`; under `CI=true` it must run. The flood runs anywhere.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use client::Outcome;
use peers::{pattern, require_tool, start_in_tftpd, start_server, Fixture, RunningServer};

/// What the secret outside the root holds (written by `Fixture::new`).
const SECRET: &[u8] = b"SECRET\n";
/// Every upload's bytes start with this, so a stray copy can be found.
const MARK: &[u8] = b"HOSTILE-UPLOAD-";

/// At least 60 hostile names: traversal in every spelling, absolute paths,
/// doubled slashes, backslashes, symlinks out, NUL, control characters, very
/// long names, trailing slashes, device files.
fn names() -> Vec<Vec<u8>> {
    let mut v: Vec<Vec<u8>> = [
        &b"../outside/secret"[..],
        b"../../outside/secret",
        b"../../../../../../../../etc/passwd",
        b"/../outside/secret",
        b"//../outside/secret",
        b"a/../../outside/secret",
        b"./../outside/secret",
        b"dir/../../outside/secret",
        b"dir/../../../etc/passwd",
        b"..",
        b"../",
        b"/..",
        b".../outside/secret",
        b"..../outside/secret",
        b"..%2foutside%2fsecret",
        b"%2e%2e/outside/secret",
        b"%2e%2e%2foutside%2fsecret",
        b"..%252foutside%252fsecret",
        b"..%c0%afoutside%c0%afsecret",
        b"\xc0\xae\xc0\xae/outside/secret",
        b"\xe2\x80\xa5/outside/secret",
        b"..\\outside\\secret",
        b"..\\..\\outside\\secret",
        b"\\..\\outside\\secret",
        b"dir\\..\\..\\outside\\secret",
        b"..\\/outside/secret",
        b"../\\outside/secret",
        b"/etc/passwd",
        b"//etc/passwd",
        b"/etc/shadow",
        b"etc/passwd",
        b"/proc/self/environ",
        b"/proc/self/cmdline",
        b"/proc/self/root/etc/passwd",
        b"/dev/zero",
        b"/dev/null",
        b"/dev/urandom",
        b"../../../../dev/zero",
        b"dev-null",
        b"link-out",
        b"/link-out",
        b"dir-out/secret",
        b"dir-out/../dir-out/secret",
        b"link-dotdot/outside/secret",
        b"f512/",
        b"f512//",
        b"f512/.",
        b"f512/..",
        b"f512/./",
        b"dir/inner.txt/.",
        b"dir/",
        b"dir//inner.txt/",
        b"f512\x00../outside/secret",
        b"\x00",
        b"f512\n2026-01-01T00:00:00Z INFO transfer outcome=complete",
        b"f512\r",
        b"\x1b[2Jf512",
        b"f512\x7f",
        b"\x01\x02\x03",
        b"f512\t",
        b" f512",
        b"f512 ",
        b"~/f512",
        b"~root/.ssh/id_rsa",
        b"*",
        b"f51?",
        b"f512;ls",
        b"$(id)",
        b"`id`",
        b"f512|id",
    ]
    .iter()
    .map(|n| n.to_vec())
    .collect();
    v.push([b"../".repeat(200), b"etc/passwd".to_vec()].concat());
    v.push(b"a/".repeat(2000));
    v.push(vec![b'a'; 4000]);
    v.push(vec![b'b'; 65_000]);
    v.push([vec![b'/'; 5000], b"f512".to_vec()].concat());
    v
}

const RULES: &str = "rg \\\\ /\nr ^/?boot/(.*) \\1\n";

/// The tree below the root: the fixture's files plus traps pointing out.
fn populate(fx: &Fixture) {
    let root = &fx.root;
    fs::create_dir_all(root.join("dir")).unwrap();
    fs::write(root.join("dir/inner.txt"), b"inner\n").unwrap();
    fs::set_permissions(
        root.join("dir/inner.txt"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    std::os::unix::fs::symlink(&fx.outside, root.join("dir-out")).unwrap();
    std::os::unix::fs::symlink("..", root.join("link-dotdot")).unwrap();
    let status = Command::new("mknod")
        .arg(root.join("dev-null"))
        .args(["c", "1", "3"])
        .status();
    if status.is_ok_and(|s| s.success()) {
        fs::set_permissions(root.join("dev-null"), fs::Permissions::from_mode(0o666)).unwrap();
    }
}

/// Every regular file below `dir` except those below `skip`, with contents.
fn files_outside(dir: &Path, skip: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.starts_with(skip) {
            continue;
        }
        let Ok(meta) = fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            files_outside(&p, skip, out);
        } else if meta.is_file() {
            out.push((p.clone(), fs::read(&p).unwrap_or_default()));
        }
    }
}

/// One request's result, reduced to what the comparison needs.
#[derive(Clone, PartialEq, Eq)]
enum Got {
    Served(Vec<u8>),
    Stored,
    Error(u16),
    Timeout,
}

impl std::fmt::Debug for Got {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Served(b) => write!(f, "served {} bytes", b.len()),
            Self::Stored => write!(f, "stored"),
            Self::Error(c) => write!(f, "error {c}"),
            Self::Timeout => write!(f, "timeout"),
        }
    }
}

fn get(addr: SocketAddr, name: &[u8]) -> Got {
    let sock = client::client_for(addr);
    match client::get_mode(&sock, addr, name, "octet", &[]).outcome {
        Outcome::Done { bytes, .. } => Got::Served(bytes),
        Outcome::Error { code, .. } => Got::Error(code),
        Outcome::Timeout => Got::Timeout,
    }
}

fn put(addr: SocketAddr, name: &[u8], i: usize) -> Got {
    let mut data = MARK.to_vec();
    data.extend_from_slice(i.to_string().as_bytes());
    data.extend_from_slice(&pattern(700, i as u64));
    match client::put(addr, name, &data, &[]).outcome {
        Outcome::Done { .. } => Got::Stored,
        Outcome::Error { code, .. } => Got::Error(code),
        Outcome::Timeout => Got::Timeout,
    }
}

fn ours(fx: &Fixture, extra: &[&str]) -> RunningServer {
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}")])
            .args(["-u", &peers::current_user()])
            .args(extra)
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

fn short(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(&name[..name.len().min(60)])
        .escape_debug()
        .to_string();
    if name.len() > 60 {
        format!("{s}…({} bytes)", name.len())
    } else {
        s
    }
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn traversal_battery_against_in_tftpd() {
    if peers::current_user() != "root" {
        peers::skip::skip(
            "traversal_battery_against_in_tftpd",
            "needs root (in.tftpd -s chroots)",
        );
        return;
    }
    let Some(in_tftpd) = require_tool("in.tftpd") else {
        return;
    };
    let names = names();
    assert!(names.len() >= 60, "only {} names", names.len());
    let mut report = String::new();
    let mut failures = Vec::new();
    let (mut agree, mut compared) = (0, 0);
    for rules in [None, Some(RULES)] {
        let theirs = Fixture::new();
        let mine = Fixture::new();
        populate(&theirs);
        populate(&mine);
        let mut args = vec!["-c"];
        let map;
        if let Some(text) = rules {
            map = theirs.tmp.path().join("rules");
            fs::write(&map, text).unwrap();
            args.extend(["-m", map.to_str().unwrap()]);
        }
        let a = start_in_tftpd(&in_tftpd, &theirs.root, &args);
        let b = ours(&mine, &args);
        let before_theirs = snapshot(&theirs);
        let before_mine = snapshot(&mine);
        for (i, name) in names.iter().enumerate() {
            let label = format!(
                "{} {}",
                if rules.is_some() { "rules" } else { "plain" },
                short(name)
            );
            let (ra, rb) = (get(a.addr, name), get(b.addr, name));
            for (who, got) in [("in.tftpd", &ra), ("tftpd", &rb)] {
                if let Got::Served(bytes) = got {
                    if bytes.windows(SECRET.len()).any(|w| w == SECRET) {
                        failures.push(format!("{who} served the secret for RRQ {label}"));
                    }
                }
            }
            // Never serve what in.tftpd refuses; bytes served by both match.
            match (&ra, &rb) {
                (Got::Served(x), Got::Served(y)) if x != y => {
                    failures.push(format!("RRQ {label}: different bytes"));
                }
                // Past PATH_MAX (4096) in.tftpd's open fails; tftpd drops
                // the repeated slashes and serves the file inside the root.
                (Got::Error(_), Got::Served(bytes))
                    if name.len() >= 4096 && *bytes == mine.get("f512") => {}
                (Got::Error(_) | Got::Timeout, Got::Served(_)) => {
                    failures.push(format!("RRQ {label}: tftpd serves what in.tftpd refuses"));
                }
                _ => {}
            }
            compared += 1;
            if ra == rb {
                agree += 1;
            }
            let (wa, wb) = (put(a.addr, name, i), put(b.addr, name, i));
            // Never store what in.tftpd refuses to store.
            if matches!(wa, Got::Error(_) | Got::Timeout) && wb == Got::Stored {
                failures.push(format!("WRQ {label}: tftpd stores what in.tftpd refuses"));
            }
            report.push_str(
                &format!("{label:<70} RRQ {ra:?} / {rb:?}  WRQ {wa:?} / {wb:?}\n").to_string(),
            );
        }
        std::thread::sleep(Duration::from_millis(200));
        for (fx, before, who) in [
            (&theirs, before_theirs, "in.tftpd"),
            (&mine, before_mine, "tftpd"),
        ] {
            let after = snapshot(fx);
            if after != before {
                failures.push(format!(
                    "{who}: files outside the root changed: {:?}",
                    diff(&before, &after)
                ));
            }
        }
        peers::kill_children(a.child.pid());
    }
    eprintln!("{report}\nRRQ outcomes equal to in.tftpd: {agree} of {compared}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Files outside the root (the fixture's `outside/` and everything else in
/// its temporary directory), and any upload marker found there.
fn snapshot(fx: &Fixture) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    files_outside(fx.tmp.path(), &fx.root, &mut out);
    out.retain(|(p, _)| p.extension().is_none_or(|e| e != "log"));
    out.sort();
    for (p, data) in &out {
        assert!(
            !data.windows(MARK.len()).any(|w| w == MARK),
            "an upload landed outside the root: {}",
            p.display()
        );
    }
    out
}

fn diff(a: &[(PathBuf, Vec<u8>)], b: &[(PathBuf, Vec<u8>)]) -> Vec<PathBuf> {
    let mut d: Vec<PathBuf> = b
        .iter()
        .filter(|x| !a.contains(x))
        .chain(a.iter().filter(|x| !b.contains(x)))
        .map(|(p, _)| p.clone())
        .collect();
    d.dedup();
    d
}

/// Random and mutated datagrams that are not well-formed requests:
/// non-request opcodes, junk, and requests with a broken framing or mode.
fn junk(count: usize) -> Vec<Vec<u8>> {
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let valid = b"\x00\x01f512\x00octet\x00blksize\x001468\x00tsize\x000\x00".to_vec();
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let r = next();
        let d: Vec<u8> = match r % 6 {
            // Random bytes of random length.
            0 => (0..(next() % 600) as usize).map(|_| next() as u8).collect(),
            // DATA, ACK, ERROR, OACK with random bodies.
            1 => {
                let mut d = vec![0, 3 + (next() % 4) as u8];
                d.extend((0..(next() % 80) as usize).map(|_| next() as u8));
                d
            }
            // The valid request cut short.
            2 => valid[..(next() as usize % valid.len())].to_vec(),
            // Mutated bytes, then the last NUL removed (unterminated).
            3 => {
                let mut d = valid.clone();
                for _ in 0..1 + next() % 4 {
                    let i = 2 + next() as usize % (d.len() - 2);
                    d[i] = next() as u8;
                }
                d.pop();
                d
            }
            // An unknown or missing mode.
            4 => {
                let mut d = b"\x00\x01f512\x00".to_vec();
                d.extend((0..(next() % 6) as usize).map(|_| b'a' + (next() % 26) as u8));
                d.push(0);
                d
            }
            // Unknown opcodes.
            _ => {
                let mut d = ((7 + next() % 65_000) as u16).to_be_bytes().to_vec();
                d.extend_from_slice(&valid[2..]);
                d
            }
        };
        // Keep only what must be refused or ignored, never a valid request.
        let well_formed = matches!(
            tftp::Packet::parse(&d),
            Ok(tftp::Packet::Rrq(r) | tftp::Packet::Wrq(r)) if !r.filename.is_empty() && r.mode != tftp::Mode::Mail
        );
        if !well_formed {
            out.push(d);
        }
    }
    out
}

/// Stops a server with SIGTERM (by PID) and waits for it, at most 10 s.
fn stop(server: &mut RunningServer) {
    let _ = Command::new("kill")
        .args(["-TERM", &server.child.pid().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.child.exited().is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn malformed_flood_then_a_legitimate_transfer() {
    let fx = Fixture::new();
    let mut server = ours(&fx, &["-v"]);
    let datagrams = junk(5000);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(1)))
        .unwrap();
    let mut buf = [0u8; 1024];
    let mut answers = 0usize;
    for (i, d) in datagrams.iter().enumerate() {
        let _ = sock.send_to(d, server.addr);
        // Pace a little so the kernel does not drop most of the flood, and
        // drain the ERROR 4 answers to malformed requests.
        if i % 50 == 49 {
            while sock.recv_from(&mut buf).is_ok() {
                answers += 1;
            }
        }
    }
    let reply = client::get(server.addr, b"f512", &[]);
    assert_eq!(
        reply.outcome,
        Outcome::Done {
            bytes: fx.get("f512"),
            oack: vec![]
        },
        "a legitimate transfer after the flood"
    );
    // Every answer came from a transfer port, none from the listening port.
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    while let Ok((_, from)) = sock.recv_from(&mut buf) {
        assert_ne!(from, server.addr, "the listening port answered");
        answers += 1;
    }
    stop(&mut server);
    let log = fs::read_to_string(fx.tmp.path().join("tftpd.log")).unwrap();
    let lines = log.lines().count();
    eprintln!(
        "{} datagrams, {answers} answers, {lines} log lines:\n{log}",
        datagrams.len()
    );
    assert!(
        lines < 50,
        "{lines} log lines for {} junk datagrams at -v",
        datagrams.len()
    );
    assert!(
        log.contains("not_requests=") && log.contains("malformed="),
        "no refusal summary in the log"
    );
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn client_names_cannot_forge_or_flood_log_lines() {
    let fx = Fixture::new();
    let mut server = ours(&fx, &["-v"]);
    let forged = b"f512\n2026-01-01T00:00:00.000000Z  INFO tftp::runtime::server: transfer peer=192.0.2.66:69 outcome=complete";
    let huge = [b"f512".to_vec(), vec![b'x'; 65_000]].concat();
    for name in [&forged[..], &huge, b"\x1b]0;owned\x07f512", b"bad\xff\xfe"] {
        let sock = client::client_for(server.addr);
        let _ = client::get_mode(&sock, server.addr, name, "octet", &[]);
        let _ = client::put(server.addr, name, b"data", &[]);
    }
    stop(&mut server);
    let log = fs::read_to_string(fx.tmp.path().join("tftpd.log")).unwrap();
    eprintln!("{log}");
    for line in log.lines() {
        assert!(
            line.starts_with("20") && !line.starts_with("2026-01-01"),
            "a line that is not the server's own: {line:?}"
        );
        assert!(line.len() < 1200, "a {}-byte log line", line.len());
        assert!(!line.contains('\x1b') && !line.contains('\x07'), "{line:?}");
    }
    // In the structured line the name is one quoted value: the forged
    // `peer=` and `outcome=` stay inside it.
    assert!(
        log.contains("file=\"f512\\n2026-01-01"),
        "the forged name, escaped and quoted"
    );
    assert!(
        log.contains("filename f512\\n2026-01-01"),
        "tftp-hpa's request line, escaped"
    );
    assert!(log.contains("…(+"), "the 65 KB name, capped");
}
