//! One transfer's socket: bound to the address the request was sent to,
//! `connect`ed to the peer once it is known, sending a window of datagrams in
//! one call, and receiving without a trailing `EAGAIN`.
//!
//! # Connected sockets
//! After [`TransferSocket::connect`] the kernel does the route lookup once
//! instead of on every send, and the path MTU is known (GSO segments must fit
//! it). It also delivers only the peer's datagrams: one from another port (an
//! unknown TID, RFC 1350 §4) is answered by the kernel with ICMP port
//! unreachable instead of reaching the transfer, which then cannot answer
//! ERROR 5. tftp-hpa's `in.tftpd` connects its transfer sockets the same way.
//!
//! # Readiness
//! The socket is registered with the poller for reading only. Registered for
//! writing too, every DATA the peer consumes (its buffer freed on this side)
//! would wake the poller once more for nothing: one `epoll_wait` per packet
//! in lockstep. Only when the send buffer is full does a second descriptor
//! of the same socket get registered for writing, to wait for room.
//!
//! # Fallback
//! A socket starts with the best [`TxMode`] of [`Capabilities::get`]. When a
//! GSO send fails with `EIO`, `EINVAL` or `EMSGSIZE` (a device or path that
//! refuses segmentation offload) the socket sends with `sendmmsg` from then
//! on, and a `sendmmsg` that fails with `ENOSYS` makes it send one datagram
//! per call; the batch is sent again the lesser way at once. The first such
//! step in the process is logged at `warn`, later ones at `debug`.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::OnceLock;

use nix::sys::socket::SockaddrStorage;
use socket2::SockRef;
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use crate::batch::{self, Capabilities, TxMode, GSO_MAX_BYTES};
use crate::bind;
use crate::recv::RecvBatch;

/// A UDP socket for one transfer. See the module docs.
#[derive(Debug)]
pub struct TransferSocket {
    io: AsyncFd<std::net::UdpSocket>,
    /// A duplicate descriptor registered for writability, made when a send
    /// first finds the buffer full.
    room: OnceLock<AsyncFd<OwnedFd>>,
    peer: Option<SocketAddr>,
    /// Path MTU of the connected route.
    mtu: Option<usize>,
    caps: Capabilities,
    mode: AtomicU8,
}

impl TransferSocket {
    /// Binds a fresh socket on `local` (port from `port_range`, `-R lo:hi`,
    /// tried from a random offset; ephemeral when `None`). Must be called
    /// inside a tokio runtime.
    pub fn bind(local: IpAddr, port_range: Option<(u16, u16)>) -> io::Result<Self> {
        let socket = bind::bind_transfer(local, port_range)?;
        Self::from_std(socket.into())
    }

    /// Takes over a bound socket (made non-blocking). Must be called inside
    /// a tokio runtime.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<Self> {
        Self::with_capabilities(socket, Capabilities::get())
    }

    /// [`Self::from_std`], assuming `caps` instead of what the kernel offers:
    /// for tests and for turning batching off.
    pub fn with_capabilities(socket: std::net::UdpSocket, caps: Capabilities) -> io::Result<Self> {
        socket.set_nonblocking(true)?;
        Ok(Self {
            io: register(socket, Interest::READABLE)?,
            room: OnceLock::new(),
            peer: None,
            mtu: None,
            caps,
            mode: AtomicU8::new(caps.best() as u8),
        })
    }

    /// `connect`s the socket to `peer`: sends need no address and no route
    /// lookup, and only `peer`'s datagrams arrive from then on.
    pub fn connect(&mut self, peer: SocketAddr) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).connect(&peer.into())?;
        self.peer = Some(peer);
        self.mtu = batch::path_mtu(self.io.get_ref(), peer.is_ipv6()).ok();
        Ok(())
    }

    /// Sets `SO_RCVBUF` to `bytes` (Linux doubles the value and caps it at
    /// `net.core.rmem_max`): the most a slow receiver holds before the
    /// kernel drops datagrams.
    pub fn set_recv_buffer(&self, bytes: usize) -> io::Result<()> {
        SockRef::from(self.io.get_ref()).set_recv_buffer_size(bytes)
    }

    /// The peer this socket is connected to.
    pub fn peer(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// The bound local address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// How batches leave this socket now.
    pub fn tx_mode(&self) -> TxMode {
        TxMode::from_u8(self.mode.load(Ordering::Relaxed))
    }

    /// Whether datagrams of `seg` bytes may go out as GSO segments: only on a
    /// connected socket (the path MTU is known, and each segment must fit it:
    /// GSO never fragments) and when at least two fit one super-datagram.
    fn gso_fits(&self, seg: usize) -> bool {
        let Some(peer) = self.peer else { return false };
        let header = if peer.is_ipv6() { 48 } else { 28 };
        self.mtu.is_some_and(|mtu| seg + header <= mtu) && 2 * seg <= GSO_MAX_BYTES
    }

    fn mode_for(&self, first_len: usize) -> TxMode {
        match self.tx_mode() {
            TxMode::Gso if !self.gso_fits(first_len) => {
                if self.caps.sendmmsg {
                    TxMode::Sendmmsg
                } else {
                    TxMode::PerDatagram
                }
            }
            m => m,
        }
    }

    /// Steps down after `e` refused `mode`; true when there is a lesser way
    /// to try.
    fn step_down(&self, mode: TxMode, e: &io::Error) -> bool {
        static LOGGED: AtomicBool = AtomicBool::new(false);
        let errno = e.raw_os_error();
        let lesser = match mode {
            TxMode::Gso if matches!(errno, Some(libc::EIO | libc::EINVAL | libc::EMSGSIZE)) => {
                if self.caps.sendmmsg {
                    TxMode::Sendmmsg
                } else {
                    TxMode::PerDatagram
                }
            }
            TxMode::Sendmmsg if errno == Some(libc::ENOSYS) => TxMode::PerDatagram,
            _ => return false,
        };
        self.mode.fetch_min(lesser as u8, Ordering::Relaxed);
        if !LOGGED.swap(true, Ordering::Relaxed) {
            tracing::warn!(error = %e, from = ?mode, to = ?lesser, "batched send refused by the kernel; sending the slower way");
        } else {
            tracing::debug!(error = %e, from = ?mode, to = ?lesser, "batched send refused; stepping down");
        }
        true
    }

    /// Sends one datagram made of `header` and `payload` (two iovecs, no
    /// copy) to `dest`.
    pub async fn send(&self, dest: SocketAddr, header: &[u8], payload: &[u8]) -> io::Result<()> {
        self.send_batch(dest, &[(header, payload)]).await
    }

    /// Sends every datagram of `datagrams` (each a header and a payload) to
    /// `dest`, in order, in as few system calls as the [`TxMode`] allows:
    /// with GSO one call per 64 segments or 64 KiB (several such groups in one
    /// `sendmmsg`), else one `sendmmsg`. Waits while the socket buffer is
    /// full. An error other than that ends the call; datagrams not yet sent
    /// then are not sent.
    pub async fn send_batch<H: AsRef<[u8]>, P: AsRef<[u8]>>(
        &self,
        dest: SocketAddr,
        datagrams: &[(H, P)],
    ) -> io::Result<()> {
        let addr = (self.peer != Some(dest)).then(|| SockaddrStorage::from(dest));
        let mut sent = 0;
        while sent < datagrams.len() {
            let rest = &datagrams[sent..];
            match self.try_send(addr.as_ref(), rest) {
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    let room = self.room()?;
                    let mut guard = room.writable().await?;
                    if let Ok(r) = guard.try_io(|_| self.try_send(addr.as_ref(), rest)) {
                        sent += r?;
                    }
                }
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// One non-blocking send of the front of `datagrams`, stepping down
    /// when the kernel refuses the way tried.
    fn try_send<H: AsRef<[u8]>, P: AsRef<[u8]>>(
        &self,
        addr: Option<&SockaddrStorage>,
        datagrams: &[(H, P)],
    ) -> io::Result<usize> {
        let fd = self.io.as_raw_fd();
        let first = datagrams[0].0.as_ref().len() + datagrams[0].1.as_ref().len();
        loop {
            let mode = self.mode_for(first);
            match batch::try_send(fd, addr, datagrams, mode) {
                Err(e) if self.step_down(mode, &e) => continue,
                r => return r,
            }
        }
    }

    /// The descriptor registered for writability (see the module docs).
    fn room(&self) -> io::Result<&AsyncFd<OwnedFd>> {
        if let Some(room) = self.room.get() {
            return Ok(room);
        }
        let dup = self.io.get_ref().as_fd().try_clone_to_owned()?;
        let room = register(dup, Interest::WRITABLE)?;
        Ok(self.room.get_or_init(|| room))
    }

    /// Waits for datagrams and receives those waiting, up to the batch's
    /// capacity, in one `recvmmsg`. When fewer than the capacity came the
    /// queue was empty, and the readiness is cleared at once: the next wait
    /// goes straight to the poller instead of spending a `recvmsg` that only
    /// returns `EAGAIN`. Cancel-safe (nothing is received before the socket
    /// is ready, and nothing awaits after).
    pub async fn recv_batch(&self, batch: &mut RecvBatch) -> io::Result<usize> {
        let fd = self.io.as_raw_fd();
        loop {
            let mut guard = self.io.readable().await?;
            match batch.recv(fd) {
                Ok(n) => {
                    if n < batch.capacity() {
                        guard.clear_ready();
                    }
                    return Ok(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => guard.clear_ready(),
                Err(e) => return Err(e),
            }
        }
    }
}

/// Registers `owner`'s descriptor with tokio's poller for `interest` only.
#[allow(unsafe_code)]
fn register<T: AsRawFd>(owner: T, interest: Interest) -> io::Result<AsyncFd<T>> {
    // SAFETY: `T` is a `std::net::UdpSocket` or an `OwnedFd`: it owns its
    // descriptor, which stays open and the same until the value is dropped
    // with the `AsyncFd`; this module never replaces it (no `get_mut`).
    unsafe { AsyncFd::register_with_interest(owner, interest) }.map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use tokio::net::UdpSocket;

    use super::*;

    async fn pair() -> (TransferSocket, UdpSocket) {
        let rx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut tx = TransferSocket::bind("127.0.0.1".parse().unwrap(), None).unwrap();
        tx.connect(rx.local_addr().unwrap()).unwrap();
        (tx, rx)
    }

    /// The kernel refuses GSO on this socket (EINVAL): the window still
    /// arrives whole, by sendmmsg, and the socket stays stepped down.
    #[tokio::test]
    async fn refused_gso_falls_back_to_sendmmsg() {
        if !Capabilities::get().gso {
            crate::test_skip::skip("refused_gso_falls_back_to_sendmmsg", "no UDP GSO here");
            return;
        }
        let (tx, rx) = pair().await;
        batch::refuse_gso(tx.io.get_ref());
        assert_eq!(tx.tx_mode(), TxMode::Gso);
        let payload = vec![7u8; 1000];
        let blocks: Vec<([u8; 4], &[u8])> =
            (0..8u8).map(|i| ([0, 3, 0, i], &payload[..])).collect();
        let dest = rx.local_addr().unwrap();
        tx.send_batch(dest, &blocks).await.unwrap();
        assert_eq!(tx.tx_mode(), TxMode::Sendmmsg);
        let mut buf = [0u8; 2048];
        for i in 0..8u8 {
            let (n, _) = rx.recv_from(&mut buf).await.unwrap();
            assert_eq!((n, buf[3]), (1004, i));
        }
        // Later batches go the same way at once.
        tx.send_batch(dest, &blocks[..2]).await.unwrap();
        assert_eq!(rx.recv_from(&mut buf).await.unwrap().0, 1004);
    }

    /// A batch receive that drains the queue clears readiness; the next
    /// datagram must still wake the socket.
    #[tokio::test]
    async fn draining_receive_loses_no_wake_up() {
        let rx = TransferSocket::bind("127.0.0.1".parse().unwrap(), None).unwrap();
        let to = rx.local_addr().unwrap();
        let tx = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let mut batch = RecvBatch::new(2, 64);
        for i in 0..3u8 {
            tx.send_to(&[i], to).await.unwrap();
        }
        let mut seen = Vec::new();
        while seen.len() < 3 {
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv_batch(&mut batch))
                    .await
                    .unwrap()
                    .unwrap();
            for i in 0..n {
                let (from, d) = batch.get(i);
                assert_eq!(from, Some(tx.local_addr().unwrap()));
                seen.push(d[0]);
            }
        }
        assert_eq!(seen, [0, 1, 2]);
        for round in 0..3u8 {
            tx.send_to(&[round], to).await.unwrap();
            let n =
                tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv_batch(&mut batch))
                    .await
                    .expect("a datagram after a draining receive must wake the socket")
                    .unwrap();
            assert_eq!((n, batch.get(0).1), (1, &[round][..]));
        }
    }
}
