//! Listeners, packet info on receive, source address on send, port ranges.

use std::io;
use std::net::{IpAddr, SocketAddr};

use netio::{bind_listener, recv_meta, send_from, RecvBatch, RecvMeta, TransferSocket};
use tokio::net::UdpSocket;

use crate::{skip, PATIENCE};

async fn client(bind: &str) -> UdpSocket {
    UdpSocket::bind(bind).await.unwrap()
}

async fn recv_timeout(sock: &UdpSocket, buf: &mut [u8]) -> RecvMeta {
    tokio::time::timeout(PATIENCE, recv_meta(sock, buf))
        .await
        .expect("no datagram within 5 s")
        .unwrap()
}

#[tokio::test]
async fn v4_destination_and_interface_are_reported() {
    let listener = bind_listener("127.0.0.1:0".parse().unwrap()).unwrap();
    let to = listener.local_addr().unwrap();
    let c = client("127.0.0.1:0").await;
    c.send_to(b"\x00\x01hello\x00octet\x00", to).await.unwrap();
    let mut buf = [0u8; 600];
    let meta = recv_timeout(&listener, &mut buf).await;
    assert_eq!(meta.len, 14);
    assert_eq!(&buf[..meta.len], b"\x00\x01hello\x00octet\x00");
    assert_eq!(meta.peer, c.local_addr().unwrap());
    assert_eq!(meta.dst, Some("127.0.0.1".parse().unwrap()));
    assert!(meta.ifindex.is_some_and(|i| i > 0));
}

#[tokio::test]
async fn wildcard_listener_tells_which_address_was_targeted() {
    let listener = bind_listener("0.0.0.0:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    let c = client("127.0.0.1:0").await;
    let mut buf = [0u8; 64];
    for target in ["127.0.0.1", "127.0.0.2"] {
        c.send_to(b"x", (target, port)).await.unwrap();
        let meta = recv_timeout(&listener, &mut buf).await;
        assert_eq!(meta.dst, Some(target.parse().unwrap()), "sent to {target}");
    }
}

#[tokio::test]
async fn v6_destination_is_reported() {
    let Ok(listener) = bind_listener("[::1]:0".parse().unwrap()) else {
        skip("v6_destination_is_reported", "no ::1 on this machine");
        return;
    };
    let c = client("[::1]:0").await;
    c.send_to(b"v6", listener.local_addr().unwrap())
        .await
        .unwrap();
    let mut buf = [0u8; 64];
    let meta = recv_timeout(&listener, &mut buf).await;
    assert_eq!((meta.len, &buf[..2]), (2, &b"v6"[..]));
    assert_eq!(meta.peer, c.local_addr().unwrap());
    assert_eq!(meta.dst, Some("::1".parse().unwrap()));
    assert!(meta.ifindex.is_some_and(|i| i > 0));
}

/// A transfer socket's batch receive truncates to the buffer size and
/// reports each sender.
#[tokio::test]
async fn transfer_socket_receives_a_batch_truncated() {
    let sock = TransferSocket::bind("127.0.0.1".parse().unwrap(), None).unwrap();
    let c = client("127.0.0.1:0").await;
    c.send_to(b"abc", sock.local_addr().unwrap()).await.unwrap();
    c.send_to(b"de", sock.local_addr().unwrap()).await.unwrap();
    let mut batch = RecvBatch::new(4, 2);
    let mut got = Vec::new();
    while got.len() < 2 {
        let n = tokio::time::timeout(PATIENCE, sock.recv_batch(&mut batch))
            .await
            .unwrap()
            .unwrap();
        for i in 0..n {
            let (from, d) = batch.get(i);
            assert_eq!(from, Some(c.local_addr().unwrap()));
            got.push(d.to_vec());
        }
    }
    assert_eq!(got, [b"ab".to_vec(), b"de".to_vec()]);
}

/// A reply from a wildcard listener leaves from the address asked for.
#[tokio::test]
async fn send_from_chooses_the_source_address() {
    let listener = bind_listener("0.0.0.0:0".parse().unwrap()).unwrap();
    let port = listener.local_addr().unwrap().port();
    let c = client("127.0.0.1:0").await;
    let mut buf = [0u8; 64];
    for (from, ifindex) in [("127.0.0.2", None), ("127.0.0.3", Some(1))] {
        let from: IpAddr = from.parse().unwrap();
        let n = send_from(
            &listener,
            c.local_addr().unwrap(),
            Some(from),
            ifindex,
            b"reply",
        )
        .await
        .unwrap();
        assert_eq!(n, 5);
        let (n, src) = tokio::time::timeout(PATIENCE, c.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((n, src), (5, SocketAddr::new(from, port)));
    }
}

#[tokio::test]
async fn send_from_v6() {
    let Ok(listener) = bind_listener("[::]:0".parse().unwrap()) else {
        skip("send_from_v6", "no IPv6 on this machine");
        return;
    };
    let port = listener.local_addr().unwrap().port();
    let c = client("[::1]:0").await;
    let from: IpAddr = "::1".parse().unwrap();
    send_from(&listener, c.local_addr().unwrap(), Some(from), None, b"six")
        .await
        .unwrap();
    let mut buf = [0u8; 16];
    let (n, src) = tokio::time::timeout(PATIENCE, c.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((n, src), (3, SocketAddr::new(from, port)));
}

#[tokio::test]
async fn port_range_is_honoured_and_exhaustion_reported() {
    let ip: IpAddr = "127.0.0.1".parse().unwrap();
    // Find a free port, hold it, and ask for a range of just that port.
    let held = TransferSocket::bind(ip, None).unwrap();
    let port = held.local_addr().unwrap().port();
    let err = TransferSocket::bind(ip, Some((port, port))).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
    drop(held);
    let sock = TransferSocket::bind(ip, Some((port, port))).unwrap();
    assert_eq!(sock.local_addr().unwrap().port(), port);

    let (lo, hi) = (
        port.saturating_sub(20).max(1024),
        port.saturating_sub(10).max(1034),
    );
    for _ in 0..5 {
        if let Ok(s) = TransferSocket::bind(ip, Some((lo, hi))) {
            let got = s.local_addr().unwrap().port();
            assert!((lo..=hi).contains(&got), "{got} not in {lo}:{hi}");
        }
    }
    let bad = TransferSocket::bind(ip, Some((10, 9))).unwrap_err();
    assert_eq!(bad.kind(), io::ErrorKind::InvalidInput);
}

/// A second listener on the same address fails (no SO_REUSEADDR by default).
#[tokio::test]
async fn a_taken_port_is_refused() {
    let first = bind_listener("127.0.0.1:0".parse().unwrap()).unwrap();
    let err = bind_listener(first.local_addr().unwrap()).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
}
