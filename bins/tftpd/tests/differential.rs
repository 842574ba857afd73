//! Differential tests: one table of scenarios, each run against tftp-hpa's
//! `in.tftpd` and against our `tftpd` with the same arguments and the same
//! fixture tree. Outcomes must match (bytes served and OACK, or the ERROR
//! code; for uploads the stored file and its mode). Intended differences
//! are rows with the outcome expected from each server and the reason; they
//! are listed in docs/tftpd.md.
//!
//! Needs root (in.tftpd's `-s` is a real chroot): without root the test
//! prints `SKIPPED` and returns; under `CI=true` it must run.
//!
//! Rows in.tftpd 5.2 cannot be the reference for (tftp-hpa 6.0's options,
//! checked against its man page) are in `hpa6.rs`; serving without `-s`
//! against in.tftpd is in `dropin.rs`.

#[path = "support/client.rs"]
mod client;
#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use client::Outcome;
use peers::{pattern, require_tool, start_in_tftpd, start_server, Fixture, RunningServer};

/// What the client does.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// RRQ: name, mode, options.
    Get(
        &'static [u8],
        &'static str,
        &'static [(&'static str, &'static str)],
    ),
    /// WRQ: name, size of the upload (pattern bytes), options.
    Put(
        &'static [u8],
        usize,
        &'static [(&'static str, &'static str)],
    ),
    /// A datagram as it is (malformed requests): only the first answer counts.
    Raw(&'static [u8]),
}

/// One row of the table.
struct Scenario {
    name: &'static str,
    /// Server arguments besides `-L -a ADDR -u USER … -s ROOT`.
    args: &'static [&'static str],
    /// Remap rules (`-m`), when any.
    map: Option<&'static str>,
    op: Op,
    /// `None`: both servers must give the same outcome. `Some((in.tftpd,
    /// tftpd, why))`: an intended difference, each side's summary.
    differs: Option<(&'static str, &'static str, &'static str)>,
}

const fn same(name: &'static str, args: &'static [&'static str], op: Op) -> Scenario {
    Scenario {
        name,
        args,
        map: None,
        op,
        differs: None,
    }
}

const MAP: &str = r"# tftp-hpa style rules
rg \\ /
r ^/?boot/(.*) \1
a ^/?private(.*) no\ private\ files\1
r ^/?myip$ \i
r ^/?myhex$ \x
ri ^/?CASE(.*) \Lcase\1
rG ^/?getonly$ hello.txt
rP ^/?putonly$ uploaded-by-rule.bin
a~ ^/?[-./A-Za-z0-9_\ ]*$
re ^/?stop(.*) hello.txt
r ^/?hello.txt$ missing-after-e
";

fn table() -> Vec<Scenario> {
    use Op::{Get, Put, Raw};
    const NO: &[(&str, &str)] = &[];
    let mut t = vec![
        same("plain file", &[], Get(b"hello.txt", "octet", NO)),
        same("100 KB file", &[], Get(b"big.bin", "octet", NO)),
        same("empty file", &[], Get(b"empty", "octet", NO)),
        same("exactly 512 bytes", &[], Get(b"b512", "octet", NO)),
        same("leading slash", &[], Get(b"/hello.txt", "octet", NO)),
        same("subdirectory", &[], Get(b"dir/inner.txt", "octet", NO)),
        same("missing file", &[], Get(b"missing", "octet", NO)),
        same("missing directory", &[], Get(b"nodir/x", "octet", NO)),
        same(
            "file used as directory",
            &[],
            Get(b"hello.txt/x", "octet", NO),
        ),
        same("not world-readable", &[], Get(b"private-mode", "octet", NO)),
        same(
            "not world-readable, -p",
            &["-p"],
            Get(b"private-mode", "octet", NO),
        ),
        same("a directory", &[], Get(b"dir", "octet", NO)),
        same("case matters", &[], Get(b"HELLO.TXT", "octet", NO)),
        same("space in name", &[], Get(b"with space.txt", "octet", NO)),
        same(
            "UTF-8 name",
            &[],
            Get("ünïcode.txt".as_bytes(), "octet", NO),
        ),
        same("dots inside a name", &[], Get(b"a..b", "octet", NO)),
        same("netascii", &[], Get(b"lines.txt", "netascii", NO)),
        same("empty name", &[], Get(b"", "octet", NO)),
        same("symlink inside the root", &[], Get(b"link-in", "octet", NO)),
        same("mode in capitals", &[], Get(b"hello.txt", "OCTET", NO)),
        same("bad mode", &[], Get(b"hello.txt", "mail", NO)),
        same(
            "blksize 1468",
            &[],
            Get(b"big.bin", "octet", &[("blksize", "1468")]),
        ),
        same(
            "blksize 8",
            &[],
            Get(b"hello.txt", "octet", &[("blksize", "8")]),
        ),
        same(
            "blksize 65464",
            &[],
            Get(b"big.bin", "octet", &[("blksize", "65464")]),
        ),
        same(
            "BLKSIZE upper case",
            &[],
            Get(b"big.bin", "octet", &[("BLKSIZE", "1024")]),
        ),
        same(
            "blksize capped by -B",
            &["-B", "1024"],
            Get(b"big.bin", "octet", &[("blksize", "1468")]),
        ),
        same(
            "blksize refused by -r",
            &["-r", "blksize"],
            Get(b"big.bin", "octet", &[("blksize", "1468")]),
        ),
        same(
            "blksize2",
            &[],
            Get(b"big.bin", "octet", &[("blksize2", "1500")]),
        ),
        same("tsize", &[], Get(b"big.bin", "octet", &[("tsize", "0")])),
        same(
            "tsize refused",
            &["-r", "tsize"],
            Get(b"big.bin", "octet", &[("tsize", "0")]),
        ),
        same(
            "timeout 5",
            &[],
            Get(b"hello.txt", "octet", &[("timeout", "5")]),
        ),
        same(
            "utimeout",
            &[],
            Get(b"hello.txt", "octet", &[("utimeout", "500000")]),
        ),
        same(
            "rollover 0",
            &[],
            Get(b"hello.txt", "octet", &[("rollover", "0")]),
        ),
        same(
            "unknown option",
            &[],
            Get(b"hello.txt", "octet", &[("frobnicate", "1")]),
        ),
        same(
            "all options",
            &[],
            Get(
                b"big.bin",
                "octet",
                &[("tsize", "0"), ("blksize", "1432"), ("timeout", "3")],
            ),
        ),
        // Uploads.
        same(
            "WRQ new file without -c",
            &[],
            Put(b"new-no-c.bin", 1000, NO),
        ),
        same("WRQ new file with -c", &["-c"], Put(b"new-c.bin", 3000, NO)),
        same(
            "WRQ world-writable file in a world-writable directory",
            &[],
            Put(b"dir/writable.bin", 1500, NO),
        ),
        same(
            "WRQ into a subdirectory, -c",
            &["-c"],
            Put(b"dir/up.bin", 600, NO),
        ),
        same(
            "WRQ into a missing directory, -c",
            &["-c"],
            Put(b"nodir/up.bin", 600, NO),
        ),
        same(
            "WRQ with blksize and tsize",
            &["-c"],
            Put(
                b"new-opts.bin",
                5000,
                &[("blksize", "1024"), ("tsize", "5000")],
            ),
        ),
        // Remap rules.
        remapped("remap: backslashes", Get(b"dir\\inner.txt", "octet", NO)),
        remapped(
            "remap: prefix stripped",
            Get(b"boot/hello.txt", "octet", NO),
        ),
        remapped("remap: abort with message", Get(b"private-x", "octet", NO)),
        remapped("remap: client address", Get(b"myip", "octet", NO)),
        remapped("remap: client address in hex", Get(b"myhex", "octet", NO)),
        remapped(
            "remap: case-insensitive, lower",
            Get(b"CASE-File", "octet", NO),
        ),
        remapped("remap: G rule on RRQ", Get(b"getonly", "octet", NO)),
        remapped("remap: P rule not on RRQ", Get(b"putonly", "octet", NO)),
        remapped("remap: inverse abort", Get(b"bad$char", "octet", NO)),
        remapped("remap: e ends processing", Get(b"stophere", "octet", NO)),
        remapped("remap: later rule applies", Get(b"hello.txt", "octet", NO)),
        remapped("remap: no rule matches", Get(b"big.bin", "octet", NO)),
        // Malformed requests: ERROR 4 from both.
        same("mode missing", &[], Raw(b"\x00\x01hello.txt\x00")),
        same(
            "mode missing, name unterminated",
            &[],
            Raw(b"\x00\x01hello.txt"),
        ),
        same("mode empty", &[], Raw(b"\x00\x01hello.txt\x00\x00")),
        same("mode unknown", &[], Get(b"hello.txt", "binary", NO)),
        same(
            "mode unknown, WRQ",
            &["-c"],
            Raw(b"\x00\x02new.bin\x00binary\x00"),
        ),
        same("mode unterminated", &[], Raw(b"\x00\x01hello.txt\x00octet")),
        same(
            "option unterminated",
            &[],
            Raw(b"\x00\x01hello.txt\x00octet\x00blksize\x00512"),
        ),
        // Names.
        same(
            "file with a trailing slash",
            &[],
            Get(b"hello.txt/", "octet", NO),
        ),
        same(
            "directory with a trailing slash",
            &[],
            Get(b"dir/", "octet", NO),
        ),
        same(
            "WRQ file with a trailing slash",
            &[],
            Put(b"writable.bin/", 100, NO),
        ),
        same(
            "control character, no such file",
            &[],
            Get(b"hello\x01.txt", "octet", NO),
        ),
        same("newline in a name", &[], Get(b"hello.txt\nx", "octet", NO)),
        same("tab in a name", &[], Get(b"hello\t.txt", "octet", NO)),
        same("DEL in a name", &[], Get(b"hello\x7f.txt", "octet", NO)),
        // Option values tftp-hpa refuses: ERROR 8 from both.
        same(
            "blksize 0",
            &[],
            Get(b"hello.txt", "octet", &[("blksize", "0")]),
        ),
        same(
            "blksize 7",
            &[],
            Get(b"hello.txt", "octet", &[("blksize", "7")]),
        ),
        same(
            "blksize 70000 (clamped)",
            &[],
            Get(b"big.bin", "octet", &[("blksize", "70000")]),
        ),
        same(
            "blksize abc (ignored)",
            &[],
            Get(b"hello.txt", "octet", &[("blksize", "abc")]),
        ),
        same(
            "blksize2 4",
            &[],
            Get(b"hello.txt", "octet", &[("blksize2", "4")]),
        ),
        same(
            "timeout 0",
            &[],
            Get(b"hello.txt", "octet", &[("timeout", "0")]),
        ),
        same(
            "timeout 300",
            &[],
            Get(b"hello.txt", "octet", &[("timeout", "300")]),
        ),
        same(
            "utimeout 5",
            &[],
            Get(b"hello.txt", "octet", &[("utimeout", "5")]),
        ),
    ];
    t.push(Scenario {
        name: "control character, the file exists",
        args: &[],
        map: None,
        op: Get(b"ctl\x01.txt", "octet", NO),
        differs: Some((
            "bytes 5 oack[]",
            "error 1",
            "tftpd never serves a name with a control character (answered as not found, as in.tftpd answers names it does not have); such names only forge log lines and terminal output",
        )),
    });
    t.push(Scenario {
        name: "remap: P rule on WRQ",
        args: &["-c"],
        map: Some(MAP),
        op: Put(b"putonly", 800, NO),
        differs: None,
    });
    // Intended differences: each side's outcome is pinned.
    t.push(Scenario {
        name: "WRQ new file with -c -U 002 (no -p)",
        args: &["-c", "-U", "002"],
        map: None,
        op: Put(b"dir/new-umask.bin", 700, NO),
        differs: Some((
            "error 2",
            "bytes 0 oack[]",
            "in.tftpd creates the file 0664, then refuses it as not world-writable, leaving it empty; tftpd stores it",
        )),
    });
    // Uploads in a root only root may write (0755, servers as `nobody`): an
    // existing world-writable file is written in place, as tftp-hpa does.
    t.push(Scenario {
        name: "WRQ world-writable file, root 0755",
        args: &[],
        map: None,
        op: Put(b"writable.bin", 1500, NO),
        differs: None,
    });
    t.push(Scenario {
        name: "WRQ read-only file, root 0755",
        args: &[],
        map: None,
        op: Put(b"hello.txt", 100, NO),
        differs: Some((
            "error 0",
            "error 2",
            "in.tftpd opens first and reports EACCES (code 0); tftpd checks the world-writable rule first and names it (code 2)",
        )),
    });
    for (name, file) in [
        ("traversal ../", &b"../outside/secret"[..]),
        ("traversal a/../../", b"a/../../outside/secret"),
        ("traversal /../", b"/../outside/secret"),
    ] {
        t.push(Scenario {
            name,
            args: &[],
            map: None,
            op: Get(file, "octet", NO),
            differs: Some((
                "error 1",
                "error 2",
                "in.tftpd's chroot keeps .. inside the root (not found); tftpd refuses any .. component as an access violation",
            )),
        });
    }
    // Not in the table: a looping rule (`rg ^/?loop loop`). in.tftpd 5.2's
    // child spins at 100 % CPU forever and never answers; tftpd refuses
    // after 4096 steps with ERROR 2 "Remap table failure" (remap unit test
    // `looping_rules_are_bounded`; docs/tftpd.md lists the difference).
    t.push(Scenario {
        name: "dir/../file",
        args: &[],
        map: None,
        op: Get(b"dir/../hello.txt", "octet", NO),
        differs: Some((
            "bytes 13 oack[]",
            "error 2",
            "tftpd refuses every .. component, even one that stays inside the root",
        )),
    });
    t.push(Scenario {
        name: "netascii with tsize",
        args: &[],
        map: None,
        op: Get(b"lines.txt", "netascii", &[("tsize", "0")]),
        differs: Some((
            "error 8",
            "bytes 25 oack[tsize=25]",
            "tftpd knows the netascii size (it converts the whole file) and answers tsize; in.tftpd refuses the request",
        )),
    });
    t.push(Scenario {
        name: "windowsize 4",
        args: &[],
        map: None,
        op: Get(b"big.bin", "octet", &[("windowsize", "4")]),
        differs: Some((
            "bytes 100000 oack[]",
            "bytes 100000 oack[windowsize=4]",
            "RFC 7440 windowsize is negotiated (UEFI asks for it); tftp-hpa 5.2 ignores it",
        )),
    });
    t
}

fn remapped(name: &'static str, op: Op) -> Scenario {
    Scenario {
        name,
        args: &[],
        map: Some(MAP),
        op,
        differs: None,
    }
}

/// The same tree for both servers.
fn populate(root: &Path) {
    let w = |name: &str, data: &[u8], mode: u32| {
        let p = root.join(name);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    };
    w("hello.txt", b"hello, world\n", 0o644);
    w("big.bin", &pattern(100_000, 11), 0o644);
    w("empty", b"", 0o644);
    w("b512", &pattern(512, 5), 0o644);
    w("dir/inner.txt", b"inner\n", 0o644);
    w("private-mode", b"not for everyone\n", 0o600);
    w("with space.txt", b"space\n", 0o644);
    w("ünïcode.txt", b"utf-8\n", 0o644);
    w("a..b", b"dots\n", 0o644);
    w("lines.txt", b"one\ntwo\r\nthree\rfour\n", 0o644);
    w("writable.bin", b"old contents", 0o666);
    w("dir/writable.bin", b"old contents", 0o666);
    w("127.0.0.1", b"by address\n", 0o644);
    w("7F000001", b"by hex address\n", 0o644);
    w("case-file", b"lower-cased\n", 0o644);
    w("ctl\x01.txt", b"ctl\n\n", 0o644);
    std::os::unix::fs::symlink("hello.txt", root.join("link-in")).unwrap();
    fs::set_permissions(root.join("dir"), fs::Permissions::from_mode(0o777)).unwrap();
    // As real set-ups are: the root 0755, owned by root (the test runs as
    // root), the servers running as `nobody`.
    std::os::unix::fs::chown(root, Some(0), Some(0)).unwrap();
    fs::set_permissions(root, fs::Permissions::from_mode(0o755)).unwrap();
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

/// The outcome, plus the uploaded file's contents and mode for WRQ.
fn run_op(addr: std::net::SocketAddr, root: &Path, op: Op) -> (Outcome, String) {
    match op {
        Op::Get(name, mode, options) => {
            let sock = client::client_for(addr);
            let reply = client::get_mode(&sock, addr, name, mode, options);
            (reply.outcome, String::new())
        }
        Op::Raw(datagram) => (raw(addr, datagram), String::new()),
        Op::Put(name, size, options) => {
            let data = pattern(size, size as u64);
            let reply = client::put(addr, name, &data, options);
            // Give the server a moment to rename the upload into place.
            std::thread::sleep(std::time::Duration::from_millis(100));
            let mapped = if name == b"putonly" {
                "uploaded-by-rule.bin".to_owned()
            } else {
                String::from_utf8_lossy(name).into_owned()
            };
            let path = root.join(&mapped);
            let stored = match fs::metadata(&path) {
                Ok(m) => {
                    let got = fs::read(&path).unwrap_or_default();
                    format!(
                        "stored {} bytes, equal {}, mode {:o}",
                        got.len(),
                        got == data,
                        m.permissions().mode() & 0o7777
                    )
                }
                Err(_) => "not stored".to_owned(),
            };
            (reply.outcome, stored)
        }
    }
}

/// Sends `datagram` and reads the first answer: an ERROR, or anything else
/// (aborted at once with an ERROR) as `Done` with its bytes.
fn raw(addr: std::net::SocketAddr, datagram: &[u8]) -> Outcome {
    let sock = client::client_for(addr);
    sock.send_to(datagram, addr).unwrap();
    let mut buf = [0u8; 2048];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while std::time::Instant::now() < deadline {
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if n >= 4 && buf[1] == 5 {
            let text = &buf[4..n];
            let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
            return Outcome::Error {
                code: u16::from_be_bytes([buf[2], buf[3]]),
                message: String::from_utf8_lossy(&text[..end]).into_owned(),
            };
        }
        let _ = sock.send_to(b"\x00\x05\x00\x00done\x00", from);
        return Outcome::Done {
            bytes: buf[..n].to_vec(),
            oack: Vec::new(),
        };
    }
    Outcome::Timeout
}

/// Who both servers run as: `nobody`, as packaged set-ups do.
const SERVER_USER: &str = "nobody";

fn tftpd(fx: &Fixture, args: &[String]) -> RunningServer {
    let user = SERVER_USER;
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-a", &format!("127.0.0.1:{port}"), "-u", user])
            .args(args)
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn differential_table_against_in_tftpd() {
    if peers::current_user() != "root" {
        peers::skip::skip(
            "differential_table_against_in_tftpd",
            "needs root (in.tftpd -s chroots)",
        );
        return;
    }
    let Some(in_tftpd) = require_tool("in.tftpd") else {
        return;
    };
    let mut failures = Vec::new();
    let mut report = String::new();
    // Group rows by server arguments, one pair of servers per group.
    let mut groups: BTreeMap<(Vec<&str>, bool), Vec<Scenario>> = BTreeMap::new();
    for s in table() {
        groups
            .entry((s.args.to_vec(), s.map.is_some()))
            .or_default()
            .push(s);
    }
    for ((args, has_map), rows) in groups {
        let theirs = Fixture::new();
        let ours = Fixture::new();
        populate(&theirs.root);
        populate(&ours.root);
        let mut full: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        if has_map {
            let path = theirs.tmp.path().join("map");
            fs::write(&path, MAP).unwrap();
            full.extend(["-m".to_owned(), path.to_str().unwrap().to_owned()]);
        }
        let mut theirs_args: Vec<&str> = vec!["-u", SERVER_USER];
        theirs_args.extend(full.iter().map(String::as_str));
        let ref_server = start_in_tftpd(&in_tftpd, &theirs.root, &theirs_args);
        let our_server = tftpd(&ours, &full);
        for row in rows {
            let (a, a_file) = run_op(ref_server.addr, &theirs.root, row.op);
            let (b, b_file) = run_op(our_server.addr, &ours.root, row.op);
            let (sa, sb) = (summary(&a), summary(&b));
            let line = format!(
                "{:<40} in.tftpd: {sa} {a_file} | tftpd: {sb} {b_file}\n",
                row.name
            );
            report.push_str(&line);
            match row.differs {
                None => {
                    let same_outcome = match (&a, &b) {
                        (Outcome::Error { code: x, .. }, Outcome::Error { code: y, .. }) => x == y,
                        _ => a == b,
                    };
                    if !same_outcome || a_file != b_file {
                        failures.push(line);
                    }
                }
                Some((want_a, want_b, _why)) => {
                    if sa != want_a || sb != want_b {
                        failures.push(format!("(intended difference changed) {line}"));
                    }
                }
            }
        }
        // in.tftpd forks per request; none may outlive the test.
        peers::kill_children(ref_server.child.pid());
    }
    eprintln!("{report}");
    assert!(
        failures.is_empty(),
        "{} of the scenarios differ:\n{}",
        failures.len(),
        failures.concat()
    );
}

/// Starts `bin -t 2 -u USER -s ROOT` in inetd mode (the socket on fd 0).
fn inetd_server(bin: &Path, fx: &Fixture, name: &str) -> (peers::ChildGuard, std::net::SocketAddr) {
    use std::os::fd::OwnedFd;
    let listener = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let log = fs::File::create(fx.tmp.path().join(format!("{name}.log"))).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(["-t", "2", "-u", &peers::current_user(), "-s"])
        .arg(&fx.root)
        .env("TFTPD_LOG_STDERR", "1")
        .stdin(std::process::Stdio::from(OwnedFd::from(listener)))
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    (
        peers::ChildGuard::from_child(name, cmd.spawn().unwrap()),
        addr,
    )
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn differential_inetd_mode_against_in_tftpd() {
    if peers::current_user() != "root" {
        peers::skip::skip(
            "differential_inetd_mode_against_in_tftpd",
            "needs root (in.tftpd -s chroots)",
        );
        return;
    }
    let Some(in_tftpd) = require_tool("in.tftpd") else {
        return;
    };
    let ops: [(&str, Op); 5] = [
        ("plain", Op::Get(b"hello.txt", "octet", &[])),
        (
            "blksize+tsize",
            Op::Get(b"big.bin", "octet", &[("blksize", "1468"), ("tsize", "0")]),
        ),
        ("missing", Op::Get(b"missing", "octet", &[])),
        ("not readable", Op::Get(b"private-mode", "octet", &[])),
        ("WRQ without -c", Op::Put(b"new.bin", 100, &[])),
    ];
    let theirs = Fixture::new();
    let ours = Fixture::new();
    populate(&theirs.root);
    populate(&ours.root);
    let (mut a_child, a_addr) = inetd_server(&in_tftpd, &theirs, "in.tftpd-inetd");
    let (mut b_child, b_addr) =
        inetd_server(Path::new(env!("CARGO_BIN_EXE_tftpd")), &ours, "tftpd-inetd");
    let mut failures = Vec::new();
    for (name, op) in ops {
        let a = run_op(a_addr, &theirs.root, op);
        let b = run_op(b_addr, &ours.root, op);
        let same = match (&a.0, &b.0) {
            (Outcome::Error { code: x, .. }, Outcome::Error { code: y, .. }) => x == y,
            (x, y) => x == y,
        } && a.1 == b.1;
        if !same {
            failures.push(format!(
                "{name}: in.tftpd {} {} | tftpd {} {}",
                summary(&a.0),
                a.1,
                summary(&b.0),
                b.1
            ));
        }
    }
    // Both leave after -t 2 idle seconds, with status 0.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let (mut a_exit, mut b_exit) = (None, None);
    while std::time::Instant::now() < deadline && (a_exit.is_none() || b_exit.is_none()) {
        a_exit = a_exit.or_else(|| a_child.exited().map(|s| s.code()));
        b_exit = b_exit.or_else(|| b_child.exited().map(|s| s.code()));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    peers::kill_children(a_child.pid());
    assert!(
        failures.is_empty(),
        "inetd mode differs:\n{}",
        failures.join("\n")
    );
    assert_eq!(a_exit, Some(Some(0)), "in.tftpd idle exit");
    assert_eq!(b_exit, Some(Some(0)), "tftpd idle exit");
}

/// A stranger (an unknown TID, RFC 1350 §4) sends an ACK to a running
/// transfer's port; returns what it hears and whether the real client still
/// gets the whole of `big.bin` afterwards.
fn stranger_during_a_transfer(server: std::net::SocketAddr, want: &[u8]) -> (String, bool) {
    use std::net::UdpSocket;
    let wait = Some(std::time::Duration::from_secs(5));
    let client = UdpSocket::bind("127.0.0.1:0").unwrap();
    client.set_read_timeout(wait).unwrap();
    client
        .send_to(b"\x00\x01big.bin\x00octet\x00", server)
        .unwrap();
    let mut buf = [0u8; 1024];
    let (n, tid) = client.recv_from(&mut buf).unwrap();
    assert_eq!((n, &buf[..4]), (516, &[0, 3, 0, 1][..]));
    let mut file = buf[4..n].to_vec();
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    stranger.set_read_timeout(wait).unwrap();
    stranger.connect(tid).unwrap();
    stranger.send(&[0, 4, 0, 1]).unwrap();
    let heard = match stranger.recv(&mut buf) {
        Ok(n) if n >= 4 && buf[..2] == [0, 5] => format!("ERROR {}", buf[3]),
        Ok(n) => format!("{n}-byte datagram"),
        Err(e) => format!("{:?}", e.kind()),
    };
    // Lockstep to the end; a repeated block (after a retransmission) is skipped.
    let (mut block, mut last) = (1u16, n);
    for _ in 0..10_000 {
        client
            .send_to(&[0, 4, (block >> 8) as u8, block as u8], tid)
            .unwrap();
        if last < 516 {
            break;
        }
        let Ok((n, _)) = client.recv_from(&mut buf) else {
            return (heard, false);
        };
        if buf[..2] == [0, 3] && u16::from_be_bytes([buf[2], buf[3]]) == block.wrapping_add(1) {
            block = block.wrapping_add(1);
            last = n;
            file.extend_from_slice(&buf[4..n]);
        }
    }
    (heard, file == want)
}

/// Both servers connect their transfer sockets: the stranger gets ICMP port
/// unreachable (ECONNREFUSED) from the kernel, not ERROR 5, and the transfer
/// goes on undisturbed.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn differential_stranger_tid_against_in_tftpd() {
    if peers::current_user() != "root" {
        peers::skip::skip(
            "differential_stranger_tid_against_in_tftpd",
            "needs root (in.tftpd -s chroots)",
        );
        return;
    }
    let Some(in_tftpd) = require_tool("in.tftpd") else {
        return;
    };
    let theirs = Fixture::new();
    let ours = Fixture::new();
    populate(&theirs.root);
    populate(&ours.root);
    let want = fs::read(ours.root.join("big.bin")).unwrap();
    let ref_server = start_in_tftpd(&in_tftpd, &theirs.root, &[]);
    let our_server = tftpd(&ours, &[]);
    let a = stranger_during_a_transfer(ref_server.addr, &want);
    let b = stranger_during_a_transfer(our_server.addr, &want);
    peers::kill_children(ref_server.child.pid());
    assert_eq!(a, ("ConnectionRefused".to_owned(), true), "in.tftpd");
    assert_eq!(b, a, "tftpd against in.tftpd");
}
