//! How a test that cannot run on this machine says so (a peer not installed,
//! no root for namespaces or chroot, no IPv6 loopback).
//!
//! Under `CI=true` that is a failure: CI installs every peer and runs as
//! root. Elsewhere the test prints `SKIPPED: <test>: <reason>` and returns,
//! and, when `NETBOOT_SKIPPED` names a file (`scripts/test` sets it), appends
//! the same line there, so that the run ends with the list of what did not
//! run instead of counting it among the passes. Included with `#[path]` by
//! each test crate that needs it.

// Public for the crates that include it; unreachable from some of them.
#![allow(unreachable_pub)]

use std::io::Write;

/// Fails under `CI=true`; otherwise reports `test` as skipped for `reason`.
#[track_caller]
pub fn skip(test: &str, reason: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: cannot run under CI=true: {reason}"
    );
    let line = format!("SKIPPED: {test}: {reason}");
    eprintln!("{line}");
    if let Some(path) = std::env::var_os("NETBOOT_SKIPPED") {
        // One `write` of a whole line to a file opened for appending: lines
        // of tests running at once do not mix.
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}
