//! Running `tftpd` as an operator would for the log and metrics tests:
//! started in the foreground on 127.0.0.1, its log read back.

// Each test file uses its own part.
#![allow(dead_code)]

use std::fs;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::peers::{self, Fixture, RunningServer};

/// `tftpd -L -a 127.0.0.1:PORT -u USER ARGS -s ROOT`, environment `env`,
/// logging to `NAME.log` beside the root.
pub(crate) fn start(
    fx: &Fixture,
    name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> RunningServer {
    let user = peers::current_user();
    peers::start_server(name, fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", &user])
            .args(args)
            .arg("-s")
            .arg(&fx.root)
            .env_remove("RUST_LOG")
            .env_remove("TFTPD_LOG_STDERR")
            .env_remove("JOURNAL_STREAM");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    })
}

pub(crate) fn log_of(fx: &Fixture, name: &str) -> String {
    fs::read_to_string(fx.tmp.path().join(format!("{name}.log"))).unwrap_or_default()
}

/// Waits (bounded) until `name`'s log has a line with `needle`; returns the log.
pub(crate) fn wait_log(fx: &Fixture, name: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = log_of(fx, name);
        if log.contains(needle) || Instant::now() > deadline {
            return log;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The metrics address the server logged (`--metrics 127.0.0.1:0`).
/// Whether this process runs as root.
pub(crate) fn is_root() -> bool {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}
