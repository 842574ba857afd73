//! `tftpd --http`: the real daemon serving its tree over HTTP next to TFTP,
//! driven with curl: the three range forms and 416, HEAD, keep-alive, the
//! path rules (traversal written and encoded, encoded slashes, a symlink
//! out, a file that is not world-readable), 404/405, remap rules, a file
//! streamed from disk (past the cache) byte-compared, and the access lines.

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use peers::{pattern, Fixture, RunningServer};

/// `tftpd -L -v -a 127.0.0.1:PORT -u USER --http 127.0.0.1:0 ARGS DIR`
/// (with `-s` when `secure`); returns the server and its HTTP address.
fn start(fx: &Fixture, name: &str, secure: bool, args: &[&str]) -> (RunningServer, SocketAddr) {
    let user = peers::current_user();
    let server = peers::start_server(name, fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.args(["-L", "-v", "-a", &format!("127.0.0.1:{port}")])
            .args(["-u", &user, "--http", "127.0.0.1:0"])
            .args(args)
            .args(secure.then_some("-s"))
            .arg(&fx.root)
            .env_remove("RUST_LOG")
            .env_remove("TFTPD_LOG_STDERR")
            .env_remove("JOURNAL_STREAM");
        cmd
    });
    let log = wait_log(fx, name, "serving http");
    let addr = log
        .lines()
        .find(|l| l.contains("serving http"))
        .and_then(|l| l.split("addr=").nth(1))
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no http address in the log:\n{log}"));
    (server, addr.parse().unwrap())
}

/// Waits (bounded) until `name`'s log has `needle`; returns the log.
fn wait_log(fx: &Fixture, name: &str, needle: &str) -> String {
    let path = fx.tmp.path().join(format!("{name}.log"));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = fs::read_to_string(&path).unwrap_or_default();
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// One curl run: status, lower-cased response headers (of the last
/// response), body, curl's stderr.
#[derive(Debug)]
struct Got {
    status: u16,
    headers: String,
    body: Vec<u8>,
    stderr: String,
}

impl Got {
    fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{name}:");
        self.headers
            .lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .map(str::trim)
    }
}

/// `curl -sS --path-as-is ARGS http://ADDR<path>`.
fn curl(bin: &Path, fx: &Fixture, addr: SocketAddr, path: &str, args: &[&str]) -> Got {
    let hdr = fx.out("headers");
    let body = fx.out("body");
    let _ = fs::remove_file(&body);
    let out = Command::new(bin)
        .args([
            "-sS",
            "--path-as-is",
            "--max-time",
            "20",
            "-w",
            "%{http_code}",
        ])
        .arg("-D")
        .arg(&hdr)
        .arg("-o")
        .arg(&body)
        .args(args)
        .arg(format!("http://{addr}{path}"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "curl {path} {args:?}: {stderr}");
    // `-w` prints once per URL: the last code is the last response's.
    let codes = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let status = codes[codes.len().saturating_sub(3)..].parse().unwrap();
    let headers = fs::read_to_string(&hdr).unwrap().to_ascii_lowercase();
    // The last response's headers (curl appends each response's block).
    let headers = match headers.rfind("http/1.1 ") {
        Some(at) => headers[at..].to_owned(),
        None => headers,
    };
    let body = fs::read(&body).unwrap_or_default();
    Got {
        status,
        headers,
        body,
        stderr,
    }
}

/// Sends `request` on a new connection and reads until the server closes.
fn raw_exchange(addr: SocketAddr, request: &str) -> String {
    use std::io::{Read, Write};
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    conn.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    conn.read_to_end(&mut out).unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

fn curl_bin() -> Option<PathBuf> {
    peers::require_tool("curl")
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn http_ranges_head_and_errors() {
    let Some(bin) = curl_bin() else { return };
    let fx = Fixture::new();
    let data = pattern(1000, 9);
    fx.put("boot.ipxe", &data);
    let (_server, addr) = start(&fx, "http-ranges", true, &[]);
    let get = |path: &str, args: &[&str]| curl(&bin, &fx, addr, path, args);

    let whole = get("/boot.ipxe", &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body, data);
    assert_eq!(whole.header("content-length"), Some("1000"));
    assert_eq!(
        whole.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(whole.header("accept-ranges"), Some("bytes"));
    assert_eq!(whole.header("transfer-encoding"), None);

    for (range, from, to) in [
        ("0-99", 0, 100),
        ("990-", 990, 1000),
        ("-10", 990, 1000),
        ("5-5000", 5, 1000),
    ] {
        let r = get("/boot.ipxe", &["-r", range]);
        assert_eq!(r.status, 206, "{range}");
        assert_eq!(r.body, &data[from..to], "{range}");
        let want = format!("bytes {from}-{}/1000", to - 1);
        assert_eq!(r.header("content-range"), Some(want.as_str()), "{range}");
        let len = (to - from).to_string();
        assert_eq!(r.header("content-length"), Some(len.as_str()), "{range}");
    }
    for range in ["1000-", "5000-6000"] {
        let r = get("/boot.ipxe", &["-r", range]);
        assert_eq!(r.status, 416, "{range}");
        assert_eq!(r.header("content-range"), Some("bytes */1000"));
        assert_eq!(r.header("content-length"), Some("0"));
        assert!(r.body.is_empty());
    }
    // Several ranges: the whole file with 200.
    let multi = get("/boot.ipxe", &["-r", "0-1,5-6"]);
    assert_eq!((multi.status, multi.body.len()), (200, 1000));

    // HEAD: the length a GET gets, no body (curl does not read one after
    // HEAD, so the bytes on the wire are checked).
    let head = get("/boot.ipxe", &["-I"]);
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("1000"));
    let raw = raw_exchange(
        addr,
        "HEAD /boot.ipxe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    );
    assert!(raw.starts_with("HTTP/1.1 200 OK\r\n"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-length: 1000\r\n"),
        "{raw}"
    );
    assert!(raw.ends_with("\r\n\r\n"), "HEAD sent a body: {raw:?}");
    let head = get("/random-3m", &["-I"]);
    let len = (3 * 1024 * 1024 + 17).to_string();
    assert_eq!(head.header("content-length"), Some(len.as_str()));
    assert_eq!(
        head.header("content-type"),
        Some("application/octet-stream")
    );

    let missing = get("/no-such-file", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(get("/", &[]).status, 404);
    let post = get("/boot.ipxe", &["-X", "POST"]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("get, head"));
    assert_eq!(get("/a%zz", &[]).status, 400);

    // Access lines in the transfer-line format.
    let log = wait_log(&fx, "http-ranges", "status=405");
    for needle in [
        "kind=\"GET\" file=\"/boot.ipxe\" bytes=1000",
        "status=206 range=\"bytes 0-99/1000\" outcome=\"complete\"",
        "status=416 range=\"bytes */1000\" outcome=\"refused\"",
        "kind=\"HEAD\" file=\"/boot.ipxe\" bytes=0",
        "file=\"/no-such-file\" bytes=14",
        "status=405 outcome=\"refused\"",
    ] {
        assert!(log.contains(needle), "no {needle:?} in\n{log}");
    }
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn http_keep_alive_reuses_the_connection() {
    let Some(bin) = curl_bin() else { return };
    let fx = Fixture::new();
    let (_server, addr) = start(&fx, "http-keepalive", true, &[]);
    // Two URLs on one command line: curl reuses the connection when the
    // server kept it open after a reply with Content-Length.
    let second = format!("http://{addr}/f513");
    let body2 = fx.out("second");
    let got = curl(
        &bin,
        &fx,
        addr,
        "/f512",
        &["-v", "-o", body2.to_str().unwrap(), &second],
    );
    assert_eq!(got.status, 200);
    // curl pairs `-o` with URLs in order: f513 is the first request.
    assert!(got.body == fx.get("f513"));
    assert!(fs::read(&body2).unwrap() == fx.get("f512"));
    assert!(
        got.stderr.contains("Re-using existing connection"),
        "{}",
        got.stderr
    );
    assert_eq!(
        got.stderr.matches("Connected to").count(),
        1,
        "{}",
        got.stderr
    );
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn http_path_rules_without_s() {
    let Some(bin) = curl_bin() else { return };
    let fx = Fixture::new();
    fx.put("private", b"PRIVATE\n");
    fs::set_permissions(fx.root.join("private"), fs::Permissions::from_mode(0o640)).unwrap();
    // Without -s names are absolute and must lie below the directory; no
    // chroot, so the symlink out really points outside.
    let (_server, addr) = start(&fx, "http-rules", false, &[]);
    let root = fx.root.to_str().unwrap();
    let get = |path: &str| curl(&bin, &fx, addr, path, &[]);

    let ok = get(&format!("{root}/f511"));
    assert_eq!((ok.status, ok.body), (200, fx.get("f511")));
    for (path, status) in [
        (format!("{root}/../outside/secret"), 403),
        (format!("{root}/%2e%2e/outside/secret"), 403),
        (format!("{root}/%2E%2E%2Foutside%2Fsecret"), 400),
        (format!("{root}/..%2Foutside/secret"), 400),
        (format!("{root}/link-out"), 403),
        (format!("{root}/private"), 403),
        ("/etc/passwd".to_owned(), 403),
        ("/f511".to_owned(), 403),
        (format!("{root}/missing"), 404),
        (format!("{root}/%00"), 400),
    ] {
        let got = get(&path);
        assert_eq!(got.status, status, "{path}");
        let body = String::from_utf8_lossy(&got.body);
        assert!(
            !body.contains("SECRET") && !body.contains("PRIVATE") && !body.contains("root:"),
            "{path}: {body}"
        );
    }
    let log = wait_log(&fx, "http-rules", "file=\"/etc/passwd\"");
    assert!(
        log.contains("reason=\"Path leaves the root directory\""),
        "{log}"
    );
    assert!(
        log.contains("reason=\"File must have global read permissions\""),
        "{log}"
    );
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn http_with_s_refuses_traversal_and_applies_remap_rules() {
    let Some(bin) = curl_bin() else { return };
    let fx = Fixture::new();
    let rules = fx.tmp.path().join("rules");
    fs::write(&rules, "r ^/alias$ /f512\na ^/denied$ no\n").unwrap();
    let (_server, addr) = start(&fx, "http-remap", true, &["-m", rules.to_str().unwrap()]);
    let get = |path: &str| curl(&bin, &fx, addr, path, &[]);
    let alias = get("/alias");
    assert_eq!((alias.status, alias.body), (200, fx.get("f512")));
    assert_eq!(get("/denied").status, 403);
    for path in [
        "/../outside/secret",
        "/%2e%2e/outside/secret",
        "/a/../../outside/secret",
    ] {
        let got = get(path);
        assert_eq!(got.status, 403, "{path}");
        assert!(!String::from_utf8_lossy(&got.body).contains("SECRET"));
    }
    let log = wait_log(&fx, "http-remap", "file=\"/denied\"");
    assert!(log.contains("file=\"/f512\" requested=\"/alias\""), "{log}");
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn http_streams_a_file_larger_than_the_cache() {
    let Some(bin) = curl_bin() else { return };
    let fx = Fixture::new();
    let big = pattern(24 * 1024 * 1024 + 3, 77);
    fx.put("big.img", &big);
    // A 1 MiB cache: the 24 MiB file is streamed from disk in chunks.
    let (_server, addr) = start(&fx, "http-stream", true, &["--cache-size", "1"]);
    let whole = curl(&bin, &fx, addr, "/big.img", &[]);
    assert_eq!(whole.status, 200);
    assert_eq!(whole.body.len(), big.len());
    assert!(whole.body == big, "body differs from the file");
    // A range across a chunk boundary, and the cached 3 MiB file beside it.
    let part = curl(&bin, &fx, addr, "/big.img", &["-r", "524000-1049999"]);
    assert_eq!(part.status, 206);
    assert!(part.body == big[524000..1050000], "range differs");
    let cached = curl(&bin, &fx, addr, "/random-3m", &[]);
    assert!(cached.body == fx.get("random-3m"));
}

#[test]
fn http_flag_is_long_only_and_repeatable() {
    use tftpd::cli::{self, Command};
    let parse = |args: &[&str]| cli::parse(std::iter::once("tftpd").chain(args.iter().copied()));
    match parse(&[
        "-L",
        "--http",
        "0.0.0.0:8080",
        "--http",
        "[::1]:80",
        "-s",
        "/srv",
    ]) {
        Ok(Command::Run(config)) => {
            let want: Vec<SocketAddr> =
                vec!["0.0.0.0:8080".parse().unwrap(), "[::1]:80".parse().unwrap()];
            assert_eq!(config.http, want);
        }
        other => panic!("{other:?}"),
    }
    match parse(&["-L", "-s", "/srv"]) {
        Ok(Command::Run(config)) => assert!(config.http.is_empty()),
        other => panic!("{other:?}"),
    }
    // An address needs a port; a bad one is a usage error (exit 64).
    let err = parse(&["-L", "--http", "0.0.0.0", "-s", "/srv"]).unwrap_err();
    assert_eq!(err.code, tftpd::exit::USAGE);
}
