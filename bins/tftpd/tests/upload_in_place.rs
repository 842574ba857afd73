//! Uploads without `-c` onto an existing world-writable file, in a root the
//! server cannot write (directory 0755 owned by root, file 0666, server
//! running as `nobody`): the documented tftp-hpa set-up. Both tftp-hpa's
//! `in.tftpd` and our `tftpd` must store the upload (ours writes the file in
//! place there, having no right to create its temporary file), with
//! tftp-hpa's `tftp` and with curl as the client; a file that is not
//! world-writable is still refused.
//!
//! Needs root (to start the servers as root and drop to `nobody`), curl and
//! tftp-hpa's `tftp` and `in.tftpd`; without them the test prints `SKIPPED`
//! (under `CI=true` it fails).

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use peers::{pattern, require_tool, run_client, start_server, Fixture, RunningServer};

const LIMIT: Duration = Duration::from_secs(30);

fn is_root() -> bool {
    let out = Command::new("id").arg("-u").output().expect("id runs");
    String::from_utf8_lossy(&out.stdout).trim() == "0"
}

fn start(name: &str, bin: &Path, fx: &Fixture) -> RunningServer {
    start_server(name, fx.tmp.path(), |port| {
        let mut cmd = Command::new(bin);
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", "nobody", "-s"])
            .arg(&fx.root);
        cmd
    })
}

/// The tree: root 0755 owned by root, `target` 0666 and `readonly` 0644.
fn fixture() -> Fixture {
    let fx = Fixture::new();
    fs::set_permissions(&fx.root, fs::Permissions::from_mode(0o755)).unwrap();
    for (name, mode) in [("target", 0o666), ("readonly", 0o644)] {
        let path = fx.root.join(name);
        fs::write(&path, pattern(100_000, 3)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).unwrap();
    }
    fx
}

/// Uploads `data` as `name` with tftp-hpa's `tftp` or curl; true if the
/// client reported success.
fn put(
    client: &str,
    tool: &Path,
    server: &RunningServer,
    fx: &Fixture,
    name: &str,
    data: &[u8],
) -> bool {
    let local = fx.out(&format!("{client}-{name}"));
    fs::write(&local, data).unwrap();
    let mut cmd = Command::new(tool);
    if client == "tftp" {
        cmd.args(["-m", "binary"])
            .arg(server.addr.ip().to_string())
            .arg(server.addr.port().to_string())
            .args(["-c", "put"])
            .arg(&local)
            .arg(name);
    } else {
        cmd.args(["-sS", "--max-time", "20", "-T"])
            .arg(&local)
            .arg(format!("tftp://{}/{name}", server.addr));
    }
    let run = run_client(cmd, LIMIT);
    // tftp-hpa exits 0 on errors and prints "Error code" instead.
    run.code == Some(0) && !run.output.contains("Error code")
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn uploads_onto_world_writable_files_in_a_read_only_root() {
    if !is_root() {
        peers::skip::skip(
            "uploads_onto_world_writable_files_in_a_read_only_root",
            "needs root",
        );
        return;
    }
    let (Some(tftp), Some(curl), Some(in_tftpd)) = (
        require_tool("tftp"),
        require_tool("curl"),
        require_tool("in.tftpd"),
    ) else {
        return;
    };
    let servers = [
        ("in.tftpd", in_tftpd),
        ("tftpd", env!("CARGO_BIN_EXE_tftpd").into()),
    ];
    for (server_name, bin) in servers {
        for (client, tool) in [("tftp", &tftp), ("curl", &curl)] {
            let fx = fixture();
            let server = start(server_name, &bin, &fx);
            // Shorter than the old contents: the file must be cut to size.
            let data = pattern(70_001, 9);
            assert!(
                put(client, tool, &server, &fx, "target", &data),
                "{server_name} with {client}: the upload was refused; server log:\n{}",
                fs::read_to_string(fx.tmp.path().join(format!("{server_name}.log")))
                    .unwrap_or_default()
            );
            let target = fx.root.join("target");
            assert!(
                fs::read(&target).unwrap() == data,
                "{server_name} with {client}: stored bytes differ"
            );
            let mode = fs::metadata(&target).unwrap().permissions().mode() & 0o7777;
            assert_eq!(mode, 0o666, "{server_name} with {client}: mode changed");
            assert!(
                !put(client, tool, &server, &fx, "readonly", b"x"),
                "{server_name} with {client}: a file that is not world-writable was written"
            );
            assert_eq!(
                fs::read(fx.root.join("readonly")).unwrap(),
                pattern(100_000, 3)
            );
            let names: Vec<String> = fs::read_dir(&fx.root)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            assert!(
                names.iter().all(|n| !n.starts_with(".tftp-upload")),
                "{server_name} with {client}: leftovers {names:?}"
            );
        }
    }
}
