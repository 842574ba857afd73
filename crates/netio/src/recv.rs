//! Batched receives for a transfer socket: up to [`RECV_MAX`] datagrams,
//! with their senders, in one `recvmmsg`.
//!
//! The buffers, and the room for the senders' addresses, live as long as
//! the [`RecvBatch`]; the message headers that point into them are built on
//! the stack for each call. Nothing is allocated per receive: in a lockstep
//! transfer a receive is made for every DATA packet sent, and the heap
//! allocations of a general-purpose `recvmmsg` wrapper (headers, addresses,
//! iovecs) were a visible share of a lockstep storm's profile.

use std::io;
use std::mem::size_of;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::RawFd;

/// Most datagrams one [`RecvBatch`] takes in a call.
pub const RECV_MAX: usize = 8;

/// Buffers for [`TransferSocket::recv_batch`](crate::TransferSocket::recv_batch):
/// a few datagrams of a fixed largest size, with their senders.
#[derive(Debug)]
pub struct RecvBatch {
    bufs: Vec<Vec<u8>>,
    lens: Vec<usize>,
    peers: Vec<Option<SocketAddr>>,
    /// Where the kernel writes each sender's address.
    names: Vec<libc::sockaddr_storage>,
}

impl RecvBatch {
    /// Room for `count` datagrams (at least 2, so that a short read proves
    /// the queue empty, and at most [`RECV_MAX`]) of up to `size` bytes
    /// each; longer ones are truncated to `size`.
    pub fn new(count: usize, size: usize) -> Self {
        let count = count.clamp(2, RECV_MAX);
        Self {
            bufs: vec![vec![0; size]; count],
            lens: vec![0; count],
            peers: vec![None; count],
            names: vec![zeroed_storage(); count],
        }
    }

    /// How many datagrams one receive can take.
    pub(crate) fn capacity(&self) -> usize {
        self.bufs.len()
    }

    /// Datagram `i` of the last receive and its sender (`None` for a sender
    /// that is not an IP address, which never happens on a UDP socket).
    pub fn get(&self, i: usize) -> (Option<SocketAddr>, &[u8]) {
        (self.peers[i], &self.bufs[i][..self.lens[i]])
    }

    /// One non-blocking `recvmmsg` of up to [`Self::capacity`] datagrams;
    /// returns how many came (at least one) or the error (`WouldBlock` when
    /// none was waiting).
    #[allow(unsafe_code)]
    pub(crate) fn recv(&mut self, fd: RawFd) -> io::Result<usize> {
        let count = self.bufs.len();
        let mut iovs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; RECV_MAX];
        // SAFETY: an all-zero `mmsghdr` is a valid value (null pointers,
        // zero lengths); the entries used are filled in below.
        let mut hdrs: [libc::mmsghdr; RECV_MAX] = unsafe { std::mem::zeroed() };
        for i in 0..count {
            iovs[i] = libc::iovec {
                iov_base: self.bufs[i].as_mut_ptr().cast(),
                iov_len: self.bufs[i].len(),
            };
            let h = &mut hdrs[i].msg_hdr;
            h.msg_name = (&raw mut self.names[i]).cast();
            h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
            h.msg_iov = &raw mut iovs[i];
            h.msg_iovlen = 1;
        }
        // SAFETY: `fd` is open for the call (the caller holds the socket);
        // the first `count` headers point to buffers, address storage and
        // iovecs that live, unaliased, until the call returns, with their
        // true lengths; the kernel writes no further than those lengths.
        // (`syscall(2)` rather than the libc wrapper, a thread-cancellation
        // point whose bookkeeping took about as many instructions as the rest
        // of this function; nothing in this process cancels threads.)
        let rc = unsafe {
            libc::syscall(
                libc::SYS_recvmmsg,
                fd,
                hdrs.as_mut_ptr(),
                count as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut::<libc::timespec>(),
            )
        };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = rc as usize;
        for (i, h) in hdrs.iter().enumerate().take(n) {
            self.lens[i] = (h.msg_len as usize).min(self.bufs[i].len());
            self.peers[i] = socket_addr(&self.names[i], h.msg_hdr.msg_namelen);
        }
        Ok(n)
    }
}

/// The IPv4 or IPv6 address of `len` bytes the kernel wrote into `name`.
#[allow(unsafe_code)]
fn socket_addr(name: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    let len = len as usize;
    let p: *const libc::sockaddr_storage = name;
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET if len >= size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says `name` holds a `sockaddr_in`, which a
            // `sockaddr_storage` is large and aligned enough for.
            let a = unsafe { &*p.cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 if len >= size_of::<libc::sockaddr_in6>() => {
            // SAFETY: as above, for a `sockaddr_in6`.
            let a = unsafe { &*p.cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// An all-zero `sockaddr_storage` (family `AF_UNSPEC`).
#[allow(unsafe_code)]
fn zeroed_storage() -> libc::sockaddr_storage {
    // SAFETY: `sockaddr_storage` is plain integers; all-zero is a valid value.
    unsafe { std::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use std::net::UdpSocket;
    use std::os::fd::AsRawFd;

    use super::*;

    /// Datagrams waiting beyond the capacity stay for the next call; each
    /// comes with its sender and its length, truncated to the buffer.
    #[test]
    fn takes_at_most_capacity_and_reports_senders() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("[::1]:0").ok();
        let to = rx.local_addr().unwrap();
        let mut batch = RecvBatch::new(2, 3);
        assert_eq!(batch.capacity(), 2);
        assert_eq!(
            batch.recv(rx.as_raw_fd()).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        for d in [&b"one"[..], b"twotwo", b"3"] {
            a.send_to(d, to).unwrap();
        }
        let mut got = Vec::new();
        for _ in 0..100 {
            match batch.recv(rx.as_raw_fd()) {
                Ok(n) => {
                    assert!(n <= 2);
                    for i in 0..n {
                        let (from, d) = batch.get(i);
                        assert_eq!(from, Some(a.local_addr().unwrap()));
                        got.push(d.to_vec());
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("{e}"),
            }
            if got.len() == 3 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(got, [b"one".to_vec(), b"two".to_vec(), b"3".to_vec()]);
        // An IPv6 sender's address comes back whole (where IPv6 exists).
        if let (Some(b), Ok(rx6)) = (b, UdpSocket::bind("[::1]:0")) {
            b.send_to(b"v6", rx6.local_addr().unwrap()).unwrap();
            for _ in 0..100 {
                if let Ok(n) = batch.recv(rx6.as_raw_fd()) {
                    assert_eq!(n, 1);
                    assert_eq!(batch.get(0), (Some(b.local_addr().unwrap()), &b"v6"[..]));
                    return;
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            panic!("no IPv6 datagram");
        }
    }

    #[test]
    fn capacity_is_clamped() {
        assert_eq!(RecvBatch::new(0, 1).capacity(), 2);
        assert_eq!(RecvBatch::new(100, 1).capacity(), RECV_MAX);
    }
}
