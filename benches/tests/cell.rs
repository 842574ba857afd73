//! The load client's cells against the project's server on 127.0.0.1:
//! correct files pass, a wrong checksum, a missing file and a silent server
//! are each counted, and none of them ends the run.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use netboot_benches::cell::{run_cell, Expect};
use netboot_benches::fetch::FetchConfig;
use sha2::{Digest, Sha256};
use tftp::options::RequestOptions;
use tftp::server::{Server, ServerConfig};
use tftp::source::MemorySource;

/// Deterministic bytes (xorshift), so a test failure can be reproduced.
fn content(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

async fn serve(files: &[(&str, Vec<u8>)]) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut src = MemorySource::new();
    for (name, data) in files {
        src.insert(name, data.clone());
    }
    let config = ServerConfig::new(vec!["127.0.0.1:0".parse().unwrap()]);
    let server = Server::bind(config, Arc::new(src)).await.unwrap();
    let addr = server.local_addrs()[0];
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = server
            .run(async {
                let _ = rx.await;
            })
            .await;
    });
    (addr, tx)
}

fn config(server: SocketAddr, file: &str, blksize: u16, windowsize: u16) -> FetchConfig {
    FetchConfig {
        server,
        file: file.into(),
        options: RequestOptions {
            blksize: Some(blksize),
            windowsize: Some(windowsize),
            ..RequestOptions::default()
        },
        timeout: Duration::from_millis(300),
        retries: 3,
        max_duration: Duration::from_secs(60),
        rcvbuf: None,
        sha256: false,
    }
}

fn expect(data: &[u8]) -> Expect {
    Expect {
        size: Some(data.len() as u64),
        crc32: Some(crc32fast::hash(data)),
        sha256: None,
    }
}

const LINGER: Duration = Duration::from_millis(50);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_gets_are_checked_and_counted() {
    let data = content(200_017);
    let (server, _stop) = serve(&[("f", data.clone())]).await;
    let r = run_cell(&config(server, "f", 1468, 4), 4, 2, &expect(&data), LINGER).await;
    assert_eq!((r.transfers, r.ok, r.failed), (8, 8, 0), "{r:?}");
    assert_eq!(r.bytes_ok, 8 * data.len() as u64);
    assert!(r.transfer_s_median <= r.transfer_s_p95 && r.transfer_s_p95 <= r.transfer_s_max);

    // SHA-256 on request, checked the same way.
    let mut cfg = config(server, "f", 512, 1);
    cfg.sha256 = true;
    let mut e = expect(&data);
    e.sha256 = Some(Sha256::digest(&data).into());
    let r = run_cell(&cfg, 2, 1, &e, LINGER).await;
    assert_eq!((r.ok, r.failed), (2, 0), "{r:?}");
    e.sha256 = Some([0; 32]);
    let r = run_cell(&cfg, 2, 1, &e, LINGER).await;
    assert_eq!((r.ok, r.corrupt), (0, 2), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_numbers_wrap_past_65535() {
    // 8-byte blocks: 75,001 of them, so the block number wraps once.
    let data = content(600_000);
    let (server, _stop) = serve(&[("w", data.clone())]).await;
    let r = run_cell(&config(server, "w", 8, 64), 1, 1, &expect(&data), LINGER).await;
    assert_eq!((r.ok, r.failed), (1, 0), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_byte_a_missing_file_and_a_silent_server_are_failures() {
    let data = content(10_000);
    let (server, _stop) = serve(&[("f", data.clone())]).await;

    let mut wrong = expect(&data);
    wrong.crc32 = wrong.crc32.map(|c| c ^ 1);
    let r = run_cell(&config(server, "f", 1468, 4), 3, 1, &wrong, LINGER).await;
    assert_eq!((r.ok, r.corrupt, r.failed), (0, 3, 3), "{r:?}");
    assert!(r.first_failure.unwrap().contains("crc32"));

    let mut short = expect(&data);
    short.size = Some(data.len() as u64 + 1);
    let r = run_cell(&config(server, "f", 1468, 4), 1, 1, &short, LINGER).await;
    assert_eq!((r.ok, r.corrupt), (0, 1), "{r:?}");

    let r = run_cell(
        &config(server, "nope", 1468, 4),
        3,
        1,
        &expect(&data),
        LINGER,
    )
    .await;
    assert_eq!((r.ok, r.server_errors, r.failed), (0, 3, 3), "{r:?}");

    // A socket that never answers: every transfer times out, none aborts the cell.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut cfg = config(silent.local_addr().unwrap(), "f", 1468, 4);
    cfg.timeout = Duration::from_millis(50);
    cfg.retries = 2;
    let r = run_cell(&cfg, 3, 1, &expect(&data), LINGER).await;
    assert_eq!((r.ok, r.timed_out, r.failed), (0, 3, 3), "{r:?}");
    assert_eq!(r.aggregate_mbps, 0.0);
}
