//! The client matrix: real TFTP clients against a server under test, with
//! byte-exact comparison. Shared with `bins/tftpd/tests/interop.rs`.
#![allow(dead_code, unreachable_pub)]

use std::fs;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::peers::{pattern, require_tool, run_client, ClientRun, Fixture};

/// Per-client deadline; the 40 MiB transfer gets more.
const LIMIT: Duration = Duration::from_secs(60);
const BIG_LIMIT: Duration = Duration::from_secs(240);

/// Files every server must serve byte for byte (besides `empty`).
pub const FILES: &[&str] = &["f511", "f512", "f513", "random-3m"];

/// A server to test and what it is expected to answer to traversal.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its tree.
    pub fx: &'a Fixture,
    /// Whether it must answer traversal with TFTP code 2 (ours); tftp-hpa's
    /// chroot answers code 1 instead, since `..` stays inside the chroot.
    pub traversal_is_access_violation: bool,
    /// Whether the server runs in a real `chroot(2)` (ours when started as
    /// root with `-s`): an absolute symlink out of the root then resolves
    /// inside it, to a missing file (code 1), as with tftp-hpa.
    pub chrooted: bool,
}

fn url(t: &Target<'_>, name: &str) -> String {
    format!("tftp://{}/{name}", t.addr)
}

fn same(t: &Target<'_>, name: &str, out: &Path, run: &ClientRun, client: &str) {
    assert_eq!(
        run.code,
        Some(0),
        "{client} GET {name} failed: {}",
        run.output
    );
    let got = fs::read(out).unwrap_or_else(|e| panic!("{client} GET {name}: no output ({e})"));
    let want = t.fx.get(name);
    assert!(
        got == want,
        "{client} GET {name}: {} bytes received, {} expected (content differs)",
        got.len(),
        want.len()
    );
}

/// `curl --tftp-blksize N -o OUT tftp://…/NAME`.
pub fn curl_get(t: &Target<'_>, name: &str, out: &Path, blksize: Option<u16>) -> ClientRun {
    let curl = require_tool("curl").expect("checked by caller");
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--path-as-is", "--max-time", "200", "-o"])
        .arg(out);
    if let Some(b) = blksize {
        cmd.args(["--tftp-blksize", &b.to_string()]);
    }
    cmd.arg(url(t, name));
    run_client(cmd, BIG_LIMIT)
}

/// curl at blksize 512, 1468 and 65464, every file; the empty file with
/// `--tftp-no-options` (curl 7.88 exits 71 on an empty file after an OACK).
pub fn curl_downloads(t: &Target<'_>) {
    let Some(curl) = require_tool("curl") else {
        return;
    };
    for blksize in [512u16, 1468, 65464] {
        for name in FILES {
            let out = t.fx.out(&format!("curl-{blksize}-{name}"));
            let run = curl_get(t, name, &out, Some(blksize));
            same(t, name, &out, &run, &format!("curl blksize {blksize}"));
        }
    }
    let out = t.fx.out("curl-empty");
    let mut cmd = Command::new(curl);
    cmd.args(["-sS", "--tftp-no-options", "-o"])
        .arg(&out)
        .arg(url(t, "empty"));
    let run = run_client(cmd, LIMIT);
    same(t, "empty", &out, &run, "curl --tftp-no-options");
}

/// 40 MiB at blksize 512: 81920 blocks, so the block number wraps past 65535.
pub fn curl_rollover(t: &Target<'_>) {
    if require_tool("curl").is_none() {
        return;
    }
    t.fx.put("big-40m", &pattern(40 * 1024 * 1024, 7));
    let out = t.fx.out("curl-40m");
    let run = curl_get(t, "big-40m", &out, Some(512));
    same(t, "big-40m", &out, &run, "curl blksize 512 (rollover)");
    let _ = fs::remove_file(&out);
}

/// `atftp --option "blksize 1468" --option "windowsize 16" --get`.
pub fn atftp_downloads(t: &Target<'_>) {
    let Some(atftp) = require_tool("atftp") else {
        return;
    };
    for name in FILES.iter().chain(&["empty"]) {
        let out = t.fx.out(&format!("atftp-{name}"));
        let mut cmd = Command::new(&atftp);
        cmd.args([
            "--option",
            "blksize 1468",
            "--option",
            "windowsize 16",
            "--get",
        ])
        .args(["-r", name, "-l"])
        .arg(&out)
        .arg(t.addr.ip().to_string())
        .arg(t.addr.port().to_string());
        let run = run_client(cmd, LIMIT);
        same(t, name, &out, &run, "atftp blksize 1468 windowsize 16");
    }
}

fn tftp_hpa(t: &Target<'_>, tftp: &Path, command: &[&str]) -> ClientRun {
    let mut cmd = Command::new(tftp);
    cmd.args(["-m", "binary"])
        .arg(t.addr.ip().to_string())
        .arg(t.addr.port().to_string())
        .arg("-c")
        .args(command);
    run_client(cmd, LIMIT)
}

/// tftp-hpa's `tftp -m binary -c get`. It exits 0 even on errors, so the
/// output is checked for "Error code".
pub fn tftp_hpa_downloads(t: &Target<'_>) {
    let Some(tftp) = require_tool("tftp") else {
        return;
    };
    for name in FILES.iter().chain(&["empty"]) {
        let out = t.fx.out(&format!("tftp-{name}"));
        let run = tftp_hpa(t, &tftp, &["get", name, out.to_str().unwrap()]);
        assert!(
            !run.output.contains("Error code"),
            "tftp get {name}: {}",
            run.output
        );
        same(t, name, &out, &run, "tftp-hpa");
    }
}

/// `busybox tftp -g -b 1468`.
pub fn busybox_downloads(t: &Target<'_>) {
    let Some(busybox) = require_tool("busybox") else {
        return;
    };
    for name in FILES.iter().chain(&["empty"]) {
        let out = t.fx.out(&format!("busybox-{name}"));
        let mut cmd = Command::new(&busybox);
        cmd.args(["tftp", "-g", "-b", "1468", "-r", name, "-l"])
            .arg(&out)
            .arg(t.addr.ip().to_string())
            .arg(t.addr.port().to_string());
        let run = run_client(cmd, LIMIT);
        same(t, name, &out, &run, "busybox tftp -b 1468");
    }
}

/// A missing file is TFTP error 1: curl exits 68 (CURLE_TFTP_NOTFOUND),
/// tftp-hpa prints "Error code 1", busybox exits 1 saying "File not found".
pub fn missing_file(t: &Target<'_>) {
    if let Some(_curl) = require_tool("curl") {
        let run = curl_get(t, "no-such-file", &t.fx.out("curl-missing"), None);
        assert_eq!(run.code, Some(68), "curl: {}", run.output);
    }
    if let Some(tftp) = require_tool("tftp") {
        let out = t.fx.out("tftp-missing");
        let run = tftp_hpa(t, &tftp, &["get", "no-such-file", out.to_str().unwrap()]);
        assert!(run.output.contains("Error code 1"), "tftp: {}", run.output);
    }
    if let Some(busybox) = require_tool("busybox") {
        let mut cmd = Command::new(busybox);
        cmd.args(["tftp", "-g", "-r", "no-such-file", "-l"])
            .arg(t.fx.out("busybox-missing"))
            .arg(t.addr.ip().to_string())
            .arg(t.addr.port().to_string());
        let run = run_client(cmd, LIMIT);
        assert_eq!(run.code, Some(1), "busybox: {}", run.output);
        assert!(
            run.output.contains("File not found"),
            "busybox: {}",
            run.output
        );
    }
}

/// `..`, absolute names and a symlink out are refused and nothing outside
/// the root is ever received.
pub fn traversal(t: &Target<'_>) {
    let abs = t.fx.outside.join("secret");
    let abs = abs.to_str().unwrap();
    // (name, TFTP code our server must give)
    let attempts: [(&str, u16); 5] = [
        ("../outside/secret", 2),
        ("a/../../outside/secret", 2),
        ("link-out", if t.chrooted { 1 } else { 2 }),
        (abs, 1), // absolute names are relative to the root: not there
        ("/../outside/secret", 2),
    ];
    if require_tool("curl").is_some() {
        for (i, (name, code)) in attempts.iter().enumerate() {
            let out = t.fx.out(&format!("curl-trav-{i}"));
            let name = name.trim_start_matches('/');
            let run = curl_get(t, name, &out, None);
            assert_ne!(run.code, Some(0), "curl got {name}: {}", run.output);
            if t.traversal_is_access_violation {
                let want = if *code == 2 { 69 } else { 68 };
                assert_eq!(run.code, Some(want), "curl {name}: {}", run.output);
            }
            let got = fs::read(&out).unwrap_or_default();
            assert!(!got.starts_with(b"SECRET"), "curl read outside via {name}");
        }
    }
    if let Some(tftp) = require_tool("tftp") {
        for (i, (name, code)) in attempts.iter().enumerate() {
            let out = t.fx.out(&format!("tftp-trav-{i}"));
            let run = tftp_hpa(t, &tftp, &["get", name, out.to_str().unwrap()]);
            assert!(
                run.output.contains("Error code"),
                "tftp got {name}: {}",
                run.output
            );
            if t.traversal_is_access_violation {
                let want = format!("Error code {code}");
                assert!(run.output.contains(&want), "tftp {name}: {}", run.output);
            }
            let got = fs::read(&out).unwrap_or_default();
            assert!(!got.starts_with(b"SECRET"), "tftp read outside via {name}");
        }
    }
    assert_eq!(fs::read(t.fx.outside.join("secret")).unwrap(), b"SECRET\n");
}

/// WRQ with `-c`: tftp-hpa `tftp -c put` and `curl -T` store byte-exact files.
pub fn uploads(t: &Target<'_>) {
    let local = t.fx.out("upload-src");
    let data = pattern(2 * 1024 * 1024 + 1, 99);
    fs::write(&local, &data).unwrap();
    if let Some(tftp) = require_tool("tftp") {
        let run = tftp_hpa(t, &tftp, &["put", local.to_str().unwrap(), "up-tftp"]);
        assert!(
            !run.output.contains("Error code"),
            "tftp put: {}",
            run.output
        );
        assert_eq!(run.code, Some(0), "tftp put: {}", run.output);
        assert!(t.fx.get("up-tftp") == data, "tftp put: stored file differs");
    }
    if let Some(curl) = require_tool("curl") {
        for (name, blksize) in [("up-curl-512", "512"), ("up-curl-1468", "1468")] {
            let mut cmd = Command::new(&curl);
            cmd.args(["-sS", "--max-time", "60", "--tftp-blksize", blksize, "-T"])
                .arg(&local)
                .arg(url(t, name));
            let run = run_client(cmd, LIMIT);
            assert_eq!(run.code, Some(0), "curl -T {name}: {}", run.output);
            assert!(
                t.fx.get(name) == data,
                "curl -T {name}: stored file differs"
            );
        }
    }
}
