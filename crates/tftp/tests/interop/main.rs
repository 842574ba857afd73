//! Interop with real TFTP peers on loopback.
//!
//! - the client matrix (curl, atftp, tftp-hpa, busybox) against tftp-hpa's
//!   `in.tftpd`: the reference behaviour, and the proof that the harness
//!   works (the same matrix runs against our `tftpd` in
//!   `bins/tftpd/tests/interop.rs`);
//! - our async client against `in.tftpd` and `atftpd`.
//!
//! Missing tools skip a test with a message, or fail it under `CI=true`.

mod matrix;
mod our_client;
mod peers;

use matrix::Target;
use peers::{require_tool, start_in_tftpd, Fixture, RunningServer};

fn in_tftpd(fx: &Fixture, extra: &[&str]) -> Option<RunningServer> {
    let bin = require_tool("in.tftpd")?;
    Some(start_in_tftpd(&bin, &fx.root, extra))
}

fn target<'a>(fx: &'a Fixture, server: &RunningServer) -> Target<'a> {
    Target {
        addr: server.addr,
        fx,
        traversal_is_access_violation: false,
        chrooted: true,
    }
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_serves_curl() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::curl_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_serves_atftp() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::atftp_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_serves_tftp_hpa() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::tftp_hpa_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_serves_busybox() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::busybox_downloads(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_missing_file_is_code_1() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::missing_file(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_refuses_traversal() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &[]) else {
        return;
    };
    matrix::traversal(&target(&fx, &server));
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn in_tftpd_stores_uploads_with_create() {
    let fx = Fixture::new();
    let Some(server) = in_tftpd(&fx, &["-c"]) else {
        return;
    };
    matrix::uploads(&target(&fx, &server));
}
