//! Batched sends on loopback: every datagram of a GSO batch, a `sendmmsg`
//! batch and a one-by-one batch arrives separately, in order, byte-exact,
//! including a short and an empty last block, over IPv4 and IPv6.

use std::net::{IpAddr, SocketAddr};

use netio::{Capabilities, TransferSocket, TxMode};
use nix::sys::socket::{setsockopt, sockopt};
use socket2::SockRef;
use tokio::net::UdpSocket;

use crate::{skip, PATIENCE};

/// One TFTP-like window: `count` blocks of `blksize` bytes, the last one
/// `last` bytes long, each behind a 4-byte header that numbers it.
struct Window {
    file: Vec<u8>,
    blksize: usize,
    count: usize,
}

impl Window {
    fn new(blksize: usize, count: usize, last: usize) -> Self {
        assert!(last <= blksize);
        let len = blksize * (count - 1) + last;
        let file = (0..len as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        Self {
            file,
            blksize,
            count,
        }
    }

    fn datagrams(&self) -> Vec<([u8; 4], &[u8])> {
        (0..self.count)
            .map(|i| {
                let block = (i + 1) as u16;
                let header = [0, 3, (block >> 8) as u8, block as u8];
                let start = i * self.blksize;
                let end = (start + self.blksize).min(self.file.len());
                (header, &self.file[start..end])
            })
            .collect()
    }
}

/// A receiver whose buffer holds a whole test window (SO_RCVBUFFORCE as
/// root; else as much as `rmem_max` allows).
async fn receiver(ip: IpAddr) -> UdpSocket {
    let sock = UdpSocket::bind(SocketAddr::new(ip, 0)).await.unwrap();
    if setsockopt(&sock, sockopt::RcvBufForce, &(16 << 20)).is_err() {
        let _ = SockRef::from(&sock).set_recv_buffer_size(16 << 20);
    }
    sock
}

/// Sends `window` from a socket limited to `caps` (connected to the
/// receiver when `connect`), checks each datagram arrives on its own and
/// byte-exact, and returns the socket's mode afterwards.
async fn round_trip(
    local: &str,
    caps: Capabilities,
    connect: bool,
    window: &Window,
) -> Option<TxMode> {
    let ip: IpAddr = local.parse().unwrap();
    let Ok(std_sock) = std::net::UdpSocket::bind(SocketAddr::new(ip, 0)) else {
        skip("batch round trip", &format!("{local} not available"));
        return None;
    };
    let rx = receiver(ip).await;
    let dest = rx.local_addr().unwrap();
    let mut tx = TransferSocket::with_capabilities(std_sock, caps).unwrap();
    if connect {
        tx.connect(dest).unwrap();
    }
    let datagrams = window.datagrams();
    tx.send_batch(dest, &datagrams).await.unwrap();
    let from = tx.local_addr().unwrap();
    let mut buf = vec![0u8; 65536];
    for (i, (header, payload)) in datagrams.iter().enumerate() {
        let (n, src) = tokio::time::timeout(PATIENCE, rx.recv_from(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("datagram {i} of {} missing", datagrams.len()))
            .unwrap();
        assert_eq!(src, from);
        assert_eq!(n, 4 + payload.len(), "size of datagram {i}");
        assert_eq!(&buf[..4], header, "header of datagram {i} (order)");
        assert!(buf[4..n] == **payload, "payload of datagram {i}");
    }
    Some(tx.tx_mode())
}

fn gso() -> Option<Capabilities> {
    let caps = Capabilities::get();
    if caps.gso {
        Some(caps)
    } else {
        skip("gso", "the kernel refuses UDP_SEGMENT");
        None
    }
}

const MMSG: Capabilities = Capabilities {
    gso: false,
    sendmmsg: true,
};

#[tokio::test]
async fn gso_window_with_a_short_last_block_v4() {
    let Some(caps) = gso() else { return };
    let w = Window::new(1468, 16, 100);
    assert_eq!(
        round_trip("127.0.0.1", caps, true, &w).await,
        Some(TxMode::Gso)
    );
}

/// 200 blocks: more than 64 segments, so several super-datagrams in one
/// `sendmmsg`; the last block is empty (a file that is a multiple of 512).
#[tokio::test]
async fn gso_window_beyond_64_segments_with_an_empty_last_block() {
    let Some(caps) = gso() else { return };
    let w = Window::new(512, 200, 0);
    assert_eq!(
        round_trip("127.0.0.1", caps, true, &w).await,
        Some(TxMode::Gso)
    );
}

/// 50 blocks of 1468: more than 64 KiB, split by size.
#[tokio::test]
async fn gso_window_beyond_64_kib_v6() {
    let Some(caps) = gso() else { return };
    let w = Window::new(1468, 50, 7);
    assert_eq!(
        round_trip("::1", caps, true, &w)
            .await
            .unwrap_or(TxMode::Gso),
        TxMode::Gso
    );
    let w = Window::new(1468, 9, 0);
    assert_eq!(
        round_trip("::1", caps, true, &w)
            .await
            .unwrap_or(TxMode::Gso),
        TxMode::Gso
    );
}

/// blksize 65464 fits no two segments in 64 KiB: sendmmsg, fragmentation
/// allowed (on loopback the MTU takes them whole).
#[tokio::test]
async fn largest_blocks_go_by_sendmmsg() {
    let caps = Capabilities::get();
    for local in ["127.0.0.1", "::1"] {
        let w = Window::new(65464, 3, 65000);
        let mode = round_trip(local, caps, true, &w).await;
        assert!(
            mode.is_none() || mode == Some(caps.best()),
            "{local}: {mode:?}"
        );
    }
}

#[tokio::test]
async fn sendmmsg_window_v4_and_v6() {
    if !Capabilities::get().sendmmsg {
        skip("sendmmsg_window", "no sendmmsg on this kernel");
        return;
    }
    for local in ["127.0.0.1", "::1"] {
        for last in [0, 1, 1468] {
            let w = Window::new(1468, 16, last);
            let mode = round_trip(local, MMSG, true, &w).await;
            assert!(
                mode.is_none() || mode == Some(TxMode::Sendmmsg),
                "{local}: {mode:?}"
            );
        }
    }
}

#[tokio::test]
async fn one_by_one_window_v4_and_v6() {
    for local in ["127.0.0.1", "::1"] {
        let w = Window::new(1468, 10, 3);
        let mode = round_trip(local, Capabilities::NONE, true, &w).await;
        assert!(
            mode.is_none() || mode == Some(TxMode::PerDatagram),
            "{local}: {mode:?}"
        );
    }
}

/// An unconnected socket (a client before it knows the server's port)
/// sends to an address: GSO needs the path MTU of a connected route, so the
/// batch goes by sendmmsg, still whole.
#[tokio::test]
async fn unconnected_socket_sends_a_window_whole() {
    let w = Window::new(1468, 16, 500);
    let mode = round_trip("127.0.0.1", Capabilities::get(), false, &w).await;
    assert_eq!(mode, Some(Capabilities::get().best()));
}
