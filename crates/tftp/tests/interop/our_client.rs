//! Our async client (`tftp::client::Client`) against tftp-hpa's `in.tftpd`
//! and atftpd.

use std::time::Duration;

use bytes::Bytes;
use tftp::client::{Client, ClientError};

use super::matrix::FILES;
use super::peers::{pattern, require_tool, start_atftpd, start_in_tftpd, Fixture};

/// Every transfer here is small; a hang is a failure, not a wait.
const LIMIT: Duration = Duration::from_secs(60);

async fn get(client: &Client, name: &str) -> Result<Bytes, ClientError> {
    tokio::time::timeout(LIMIT, client.get(name))
        .await
        .unwrap_or_else(|_| panic!("GET {name} did not finish in {LIMIT:?}"))
}

async fn fetch_all(fx: &Fixture, client: &Client, label: &str) {
    for name in FILES.iter().chain(&["empty"]) {
        let got = get(client, name)
            .await
            .unwrap_or_else(|e| panic!("{label}: GET {name}: {e}"));
        assert!(
            got == fx.get(name),
            "{label}: GET {name}: {} bytes, want {}",
            got.len(),
            fx.get(name).len()
        );
    }
}

fn remote_code(err: &ClientError) -> Option<u16> {
    match err {
        ClientError::Remote { code, .. } => Some(code.to_u16()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peer tools: run by scripts/test"]
async fn our_client_gets_from_in_tftpd() {
    let Some(bin) = require_tool("in.tftpd") else {
        return;
    };
    let fx = Fixture::new();
    let server = start_in_tftpd(&bin, &fx.root, &[]);
    for (blksize, label) in [
        (None, "no options"),
        (Some(1468), "blksize 1468"),
        (Some(65464), "blksize 65464"),
    ] {
        let mut client = Client::new(server.addr).tsize(true);
        if let Some(b) = blksize {
            client = client.blksize(b);
        }
        fetch_all(&fx, &client, &format!("in.tftpd {label}")).await;
    }
    let err = get(&Client::new(server.addr), "no-such-file")
        .await
        .unwrap_err();
    assert_eq!(remote_code(&err), Some(1), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peer tools: run by scripts/test"]
async fn our_client_rolls_over_with_in_tftpd() {
    let Some(bin) = require_tool("in.tftpd") else {
        return;
    };
    let fx = Fixture::new();
    // 70000 blocks of 512 bytes: the block number wraps to 0 (tftp-hpa's default).
    let data = pattern(512 * 70_000 + 100, 5);
    fx.put("wrap", &data);
    let server = start_in_tftpd(&bin, &fx.root, &[]);
    let got = tokio::time::timeout(
        Duration::from_secs(240),
        Client::new(server.addr).get("wrap"),
    )
    .await
    .expect("40 MB transfer finished in time")
    .unwrap();
    assert!(
        got == data,
        "rollover: {} bytes, want {}",
        got.len(),
        data.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peer tools: run by scripts/test"]
async fn our_client_puts_to_in_tftpd() {
    let Some(bin) = require_tool("in.tftpd") else {
        return;
    };
    let fx = Fixture::new();
    let server = start_in_tftpd(&bin, &fx.root, &["-c"]);
    for (name, len, blksize) in [
        ("p0", 0, 512),
        ("p512", 512, 512),
        ("pbig", 1_500_001, 1468),
    ] {
        let data = Bytes::from(pattern(len, len as u64));
        let client = Client::new(server.addr).blksize(blksize);
        tokio::time::timeout(LIMIT, client.put(name, data.clone()))
            .await
            .expect("put finished in time")
            .unwrap_or_else(|e| panic!("PUT {name}: {e}"));
        assert!(fx.get(name) == data, "PUT {name}: stored file differs");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peer tools: run by scripts/test"]
async fn our_client_gets_from_atftpd_with_windowsize() {
    let Some(bin) = require_tool("atftpd") else {
        return;
    };
    let fx = Fixture::new();
    let server = start_atftpd(&bin, &fx.root);
    for (blksize, window) in [(512, 1), (1468, 16), (8192, 4)] {
        let client = Client::new(server.addr)
            .blksize(blksize)
            .windowsize(window)
            .tsize(true);
        fetch_all(
            &fx,
            &client,
            &format!("atftpd blksize {blksize} windowsize {window}"),
        )
        .await;
    }
    let err = get(&Client::new(server.addr), "no-such-file")
        .await
        .unwrap_err();
    assert_eq!(remote_code(&err), Some(1), "{err}");
}
