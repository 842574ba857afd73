//! The tokio server and client against each other on 127.0.0.1 and ::1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tftp::client::{Client, ClientError};
use tftp::server::{Server, ServerConfig};
use tftp::source::{DirectoryConfig, DirectoryRoot, FileSource, MemorySource};
use tftp::{ErrorCode, Mode};

use crate::sim::Rng;

async fn start(
    source: Arc<dyn FileSource>,
    listen: &str,
) -> (
    SocketAddr,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let config = ServerConfig::new(vec![listen.parse().unwrap()]);
    let server = Server::bind(config, source).await.unwrap();
    let addr = server.local_addrs()[0];
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = tokio::spawn(async move {
        server
            .run(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (addr, tx, h)
}

fn files() -> (MemorySource, Vec<(String, Bytes)>) {
    let mut rng = Rng::new(7);
    let mut list = Vec::new();
    for size in [
        0usize,
        1,
        511,
        512,
        513,
        1468,
        100_000,
        3 * 1024 * 1024 + 17,
    ] {
        list.push((format!("f{size}"), Bytes::from(rng.bytes(size))));
    }
    let mut src = MemorySource::new();
    for (n, d) in &list {
        src.insert(n, d.clone());
    }
    (src, list)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_every_size_with_every_option_set() {
    let (src, list) = files();
    let (addr, stop, h) = start(Arc::new(src), "127.0.0.1:0").await;
    let clients = [
        Client::new(addr),
        Client::new(addr).blksize(1468).tsize(true),
        Client::new(addr).blksize(65464),
        Client::new(addr).blksize(1468).windowsize(16),
        Client::new(addr)
            .blksize(8)
            .windowsize(3)
            .rollover(tftp::Rollover::ToOne),
    ];
    for c in &clients {
        for (name, data) in &list {
            if c.initial_timeout() > Duration::from_secs(5)
                || (name.len() > 7 && format!("{c:?}").contains("Some(8)"))
            {
                continue; // 3 MiB at 8-byte blocks is slow in debug builds; the simulation covers tiny blocks
            }
            let got = c
                .get(name)
                .await
                .unwrap_or_else(|e| panic!("{name} with {c:?}: {e}"));
            assert!(
                got == *data,
                "{name} with {c:?}: {} bytes, expected {}",
                got.len(),
                data.len()
            );
        }
    }
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_and_missing_file() {
    let (src, list) = files();
    let Ok(server) = Server::bind(
        ServerConfig::new(vec!["[::1]:0".parse().unwrap()]),
        Arc::new(src),
    )
    .await
    else {
        crate::skip::skip("ipv6_and_missing_file", "no IPv6 loopback here");
        return;
    };
    let addr = server.local_addrs()[0];
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let h = tokio::spawn(server.run(async {
        let _ = rx.await;
    }));
    let got = Client::new(addr)
        .blksize(1024)
        .get(&list[6].0)
        .await
        .unwrap();
    assert_eq!(got, list[6].1);
    match Client::new(addr).get("nope").await {
        Err(ClientError::Remote { code, .. }) => assert_eq!(code, ErrorCode::FileNotFound),
        other => panic!("expected file not found, got {other:?}"),
    }
    tx.send(()).unwrap();
    h.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_then_get_through_a_directory_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = DirectoryRoot::new(DirectoryConfig {
        allow_create: true,
        ..DirectoryConfig::new(dir.path())
    })
    .unwrap();
    let (addr, stop, h) = start(Arc::new(root), "127.0.0.1:0").await;
    let data = Bytes::from(Rng::new(3).bytes(200_000));
    let c = Client::new(addr).blksize(1428).windowsize(8).tsize(true);
    c.put("up.bin", data.clone()).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("up.bin")).unwrap(), data);
    let text = Bytes::from_static(b"line one\nline two\r\nbare\rcr\n");
    let t = Client::new(addr).mode(Mode::Netascii);
    t.put("t.txt", text.clone()).await.unwrap();
    assert_eq!(std::fs::read(dir.path().join("t.txt")).unwrap(), text);
    assert_eq!(t.get("t.txt").await.unwrap(), text);
    stop.send(()).unwrap();
    h.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_gets_share_one_file() {
    let (src, list) = files();
    let (addr, stop, h) = start(Arc::new(src), "127.0.0.1:0").await;
    let (name, data) = list[6].clone();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..32u16 {
        let c = Client::new(addr)
            .blksize(512 + i * 16)
            .windowsize(1 + i % 8);
        let name = name.clone();
        set.spawn(async move { c.get(&name).await });
    }
    while let Some(r) = set.join_next().await {
        assert_eq!(r.unwrap().unwrap(), data);
    }
    stop.send(()).unwrap();
    h.await.unwrap();
}

/// RFC 1350 §4 on real sockets: a datagram to a running transfer's port from
/// a stranger (an unknown TID). The transfer socket is connected to its
/// client, so the kernel keeps the stranger's ACK away from the transfer and
/// answers it with ICMP port unreachable (the stranger's connected socket
/// reads ECONNREFUSED) instead of ERROR 5 — what in.tftpd does too, since it
/// connects its transfer sockets the same way. The transfer goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_cannot_disturb_a_transfer() {
    use tokio::net::UdpSocket;
    let data = Bytes::from(Rng::new(3).bytes(3 * 512 + 10));
    let mut src = MemorySource::new();
    src.insert("f", data.clone());
    let (addr, stop, h) = start(Arc::new(src), "127.0.0.1:0").await;
    let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    client
        .send_to(b"\x00\x01f\x00octet\x00", addr)
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let wait = Duration::from_secs(5);
    let (n, tid) = tokio::time::timeout(wait, client.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((n, &buf[..4]), (516, &[0, 3, 0, 1][..]));
    assert_ne!(tid, addr, "the transfer answers from its own port");

    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger.connect(tid).await.unwrap();
    stranger.send(&[0, 4, 0, 1]).await.unwrap();
    let got = tokio::time::timeout(wait, stranger.recv(&mut buf))
        .await
        .expect("the stranger hears back (ICMP)");
    match got {
        Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused, "{e}"),
        Ok(n) => panic!("the stranger got a datagram: {:?}", &buf[..n]),
    }

    // The real client's transfer is undisturbed: ACK each block, get the file.
    let mut file = buf[4..516].to_vec();
    let mut block = 1u16;
    loop {
        client
            .send_to(&[0, 4, (block >> 8) as u8, block as u8], tid)
            .await
            .unwrap();
        if file.len() == data.len() {
            break;
        }
        let (n, from) = tokio::time::timeout(wait, client.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        block += 1;
        assert_eq!((from, &buf[..4]), (tid, &[0, 3, 0, block as u8][..]));
        file.extend_from_slice(&buf[4..n]);
    }
    assert_eq!(file, data);
    let _ = stop.send(());
    h.await.unwrap();
}

/// A sink that keeps what it is given and whether it was finished.
#[derive(Debug, Clone, Default)]
struct Collect(Arc<std::sync::Mutex<(Vec<u8>, usize)>>);

impl tftp::source::WriteSink for Collect {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.0.lock().unwrap().0.extend_from_slice(data);
        Ok(())
    }
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        self.0.lock().unwrap().1 += 1;
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_into_streams_into_a_sink_and_finishes_it_once() {
    let (src, list) = files();
    let (addr, stop, h) = start(Arc::new(src), "127.0.0.1:0").await;
    let c = Client::new(addr)
        .blksize(1468)
        .windowsize(8)
        .recv_buffer(64 * 1024);
    for (name, data) in &list {
        let sink = Collect::default();
        let stats = c
            .get_into(name, Box::new(sink.clone()))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let (got, finished) = sink.0.lock().unwrap().clone();
        assert!(
            got == data[..],
            "{name}: {} bytes, expected {}",
            got.len(),
            data.len()
        );
        assert_eq!(finished, 1, "{name}: finished once");
        assert_eq!(stats.bytes, data.len() as u64, "{name}");
    }
    // A missing file: the sink is never finished.
    let sink = Collect::default();
    let err = c
        .get_into("nope", Box::new(sink.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::Remote {
                code: ErrorCode::FileNotFound,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(sink.0.lock().unwrap().1, 0);
    stop.send(()).unwrap();
    h.await.unwrap();
}
