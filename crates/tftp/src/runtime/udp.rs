//! UDP socket layer: the listener, per-transfer sockets, receiving with the
//! destination address, and vectored sends of DATA packets.
//!
//! All `unsafe` of the socket path lives in this module (`setsockopt`,
//! `recvmsg`, `sendmsg` and control-message parsing through `libc`); each
//! block says why it is sound. Linux only (as the rest of the project).
//!
//! # Batching
//! GSO (`UDP_SEGMENT`) and `sendmmsg` detection belong here, beside
//! [`send_data`]: probe once at socket setup, send a window of equal-sized
//! blocks in one call, and fall back to one `sendmsg` per block on `EIO` /
//! `EINVAL` with one log line (quinn-udp does the same). Not implemented yet.

use std::hash::{BuildHasher, Hasher};
use std::io;
use std::mem;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// What [`recv_with_dst`] learnt about one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written to the buffer. A datagram longer than the buffer is
    /// truncated to it (the rest is lost, as with `recv_from`).
    pub len: usize,
    /// Who sent it.
    pub peer: SocketAddr,
    /// The local address it was sent to (`IP_PKTINFO` / `IPV6_PKTINFO`); the
    /// reply should leave from this address. For a datagram sent to the
    /// limited broadcast (255.255.255.255) or a multicast group this is the
    /// local address of the receiving interface instead. `None` when the
    /// kernel gave no packet info.
    pub dst: Option<IpAddr>,
    /// The index of the interface it arrived on, when known.
    pub ifindex: Option<u32>,
}

/// Binds the well-known-port socket of a server.
///
/// `SO_REUSEADDR` is not set, as with tftp-hpa: a second server on the same
/// address fails with `EADDRINUSE` instead of silently sharing the port (on
/// Linux, two UDP sockets with `SO_REUSEADDR` may bind the very same
/// address). `IPV6_V6ONLY` is set for IPv6 addresses
/// (IPv4 gets its own socket, as with tftp-hpa), packet info is enabled for
/// [`recv_with_dst`], and the socket is non-blocking. Must be called inside a
/// tokio runtime.
pub fn bind_listener(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    enable_pktinfo(socket.as_raw_fd(), addr.is_ipv6())?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Binds a fresh socket for one transfer (its TID, RFC 1350 §4).
///
/// `local` is the address the request was sent to, so replies come from the
/// address the client talks to. Without `port_range` the kernel picks an
/// ephemeral port. With `Some((lo, hi))` (`-R lo:hi`) ports are tried from a
/// random offset in the range, wrapping around, each at most once; only
/// `EADDRINUSE` moves on to the next port. Must be called inside a tokio
/// runtime.
pub fn bind_transfer(local: IpAddr, port_range: Option<(u16, u16)>) -> io::Result<UdpSocket> {
    let Some((lo, hi)) = port_range else {
        return bind_plain(SocketAddr::new(local, 0));
    };
    if lo > hi {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("empty port range {lo}:{hi}"),
        ));
    }
    let span = u32::from(hi - lo) + 1;
    let start = random_u32() % span;
    for i in 0..span {
        let port = lo + ((start + i) % span) as u16;
        match bind_plain(SocketAddr::new(local, port)) {
            Err(err) if err.raw_os_error() == Some(libc::EADDRINUSE) => continue,
            other => return other,
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AddrInUse,
        format!("no free port in {lo}:{hi} on {local}"),
    ))
}

fn bind_plain(addr: SocketAddr) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// A random number for the port-range start; not for anything secret.
fn random_u32() -> u32 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish() as u32
}

#[allow(unsafe_code)]
fn enable_pktinfo(fd: RawFd, v6: bool) -> io::Result<()> {
    let on: libc::c_int = 1;
    let (level, name) = if v6 {
        (libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO)
    } else {
        (libc::IPPROTO_IP, libc::IP_PKTINFO)
    };
    // SAFETY: `fd` is an open socket owned by the caller for the duration of
    // the call; the option value points to a live c_int and the length passed
    // is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Receives one datagram with its sender, destination address and interface.
///
/// Use on sockets from [`bind_listener`] (packet info enabled); on other
/// sockets `dst` and `ifindex` are `None`.
pub async fn recv_with_dst(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::READABLE, || recv_once(fd, buf))
        .await
}

/// Room for one `in6_pktinfo` (the larger) control message, with headroom;
/// `u64` elements keep it aligned for `cmsghdr`.
type ControlBuf = [u64; 16];

#[allow(unsafe_code)]
fn recv_once(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: all-zero bytes are a valid value for these plain C structs.
    let mut name: libc::sockaddr_storage = unsafe { mem::zeroed() };
    let mut control: ControlBuf = [0; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<ControlBuf>() as _;
    // SAFETY: every pointer in `msg` points to a live local (name, iov, control)
    // or to `buf`, with the lengths given; they outlive the call, and the
    // kernel writes at most those lengths.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let peer = sockaddr_to_std(&name)?;
    let mut meta = RecvMeta {
        len: n as usize,
        peer,
        dst: None,
        ifindex: None,
    };
    // SAFETY: `msg` was filled by a successful recvmsg, so msg_control and
    // msg_controllen describe the control messages the kernel wrote into
    // `control`; CMSG_FIRSTHDR/CMSG_NXTHDR stay within that length and return
    // null at its end. CMSG_DATA of a header with the matching level/type
    // points to a payload of that type, read unaligned into a local copy.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let header = &*cmsg;
            let data = libc::CMSG_DATA(cmsg);
            match (header.cmsg_level, header.cmsg_type) {
                (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                    let info: libc::in_pktinfo = std::ptr::read_unaligned(data.cast());
                    let to = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                    let spec = Ipv4Addr::from(u32::from_be(info.ipi_spec_dst.s_addr));
                    let local = if to.is_broadcast() || to.is_multicast() {
                        spec
                    } else {
                        to
                    };
                    meta.dst = Some(IpAddr::V4(local));
                    meta.ifindex = u32::try_from(info.ipi_ifindex).ok();
                }
                (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                    let info: libc::in6_pktinfo = std::ptr::read_unaligned(data.cast());
                    meta.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    meta.ifindex = Some(info.ipi6_ifindex);
                }
                _ => {}
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(meta)
}

#[allow(unsafe_code)]
fn sockaddr_to_std(name: &libc::sockaddr_storage) -> io::Result<SocketAddr> {
    match libc::c_int::from(name.ss_family) {
        libc::AF_INET => {
            // SAFETY: ss_family says the storage holds a sockaddr_in;
            // sockaddr_storage is large enough and suitably aligned for it.
            let sin =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Ok(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 =
                unsafe { &*(name as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Ok(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        family => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("datagram from address family {family}"),
        )),
    }
}

/// Sends one datagram made of `header` followed by `payload`, without copying
/// them into one buffer (`sendmsg` with two iovecs).
///
/// For DATA packets `header` is the 4-byte opcode + block number and `payload`
/// a slice of the shared file bytes. Returns the bytes sent (UDP sends whole
/// datagrams, so this is `header.len() + payload.len()` on success).
pub async fn send_data(
    sock: &UdpSocket,
    dest: SocketAddr,
    header: &[u8],
    payload: &[u8],
) -> io::Result<usize> {
    let fd = sock.as_raw_fd();
    let addr = SockAddr::from(dest);
    sock.async_io(Interest::WRITABLE, || send_once(fd, &addr, header, payload))
        .await
}

#[allow(unsafe_code)]
fn send_once(fd: RawFd, addr: &SockAddr, header: &[u8], payload: &[u8]) -> io::Result<usize> {
    // sendmsg takes *mut iovec but only reads through it (POSIX: the data is
    // not modified); the casts from shared slices are therefore sound.
    let mut iov = [
        libc::iovec {
            iov_base: header.as_ptr() as *mut libc::c_void,
            iov_len: header.len(),
        },
        libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        },
    ];
    // SAFETY: all-zero bytes are a valid msghdr.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = addr.as_ptr() as *mut libc::c_void;
    msg.msg_namelen = addr.len();
    msg.msg_iov = iov.as_mut_ptr();
    msg.msg_iovlen = iov.len() as _;
    // SAFETY: `msg` points to the live address, the iovec array and the two
    // borrowed slices, all valid for the duration of the call; the kernel only
    // reads them.
    let n = unsafe { libc::sendmsg(fd, &msg, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reports a test skipped because the machine lacks something; under
    /// `CI=true` a missing capability is a failure instead.
    fn skip(test: &str, why: &str) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{test}: {why} (CI=true: not skipping)"
        );
        eprintln!("SKIPPED: {test}: {why}");
    }

    async fn client(bind: &str) -> UdpSocket {
        UdpSocket::bind(bind).await.unwrap()
    }

    async fn recv_timeout(sock: &UdpSocket, buf: &mut [u8]) -> RecvMeta {
        tokio::time::timeout(std::time::Duration::from_secs(5), recv_with_dst(sock, buf))
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

    #[tokio::test]
    async fn plain_sockets_report_no_destination() {
        let sock = bind_transfer("127.0.0.1".parse().unwrap(), None).unwrap();
        let c = client("127.0.0.1:0").await;
        c.send_to(b"abc", sock.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 2];
        let meta = recv_timeout(&sock, &mut buf).await;
        // Truncated to the buffer; no packet info on a transfer socket.
        assert_eq!((meta.len, meta.dst, meta.ifindex), (2, None, None));
    }

    async fn vectored_send_arrives_as_one_datagram(local: &str) {
        let ip: IpAddr = local.parse().unwrap();
        let Ok(sock) = bind_transfer(ip, None) else {
            skip("vectored_send", &format!("{local} not available"));
            return;
        };
        assert_eq!(sock.local_addr().unwrap().ip(), ip);
        let c = client(&SocketAddr::new(ip, 0).to_string()).await;
        let payload: Vec<u8> = (0..1468u32).map(|i| (i * 7) as u8).collect();
        let header = [0u8, 3, 0xff, 0xfe];
        let dest = c.local_addr().unwrap();
        let sent = send_data(&sock, dest, &header, &payload).await.unwrap();
        assert_eq!(sent, 1472);
        let mut buf = [0u8; 4096];
        let (n, from) =
            tokio::time::timeout(std::time::Duration::from_secs(5), c.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(from, sock.local_addr().unwrap());
        assert_eq!(n, 1472);
        assert_eq!(buf[..4], header);
        assert_eq!(&buf[4..n], &payload[..]);
        // An empty payload (the last DATA of a file that is a multiple of
        // the block size) is a 4-byte datagram.
        send_data(&sock, dest, &header, &[]).await.unwrap();
        let (n, _) = c.recv_from(&mut buf).await.unwrap();
        assert_eq!(n, 4);
    }

    #[tokio::test]
    async fn vectored_send_v4() {
        vectored_send_arrives_as_one_datagram("127.0.0.1").await;
    }

    #[tokio::test]
    async fn vectored_send_v6() {
        vectored_send_arrives_as_one_datagram("::1").await;
    }

    #[tokio::test]
    async fn port_range_is_honoured_and_exhaustion_reported() {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        // Find a free port, hold it, and ask for a range of just that port.
        let held = bind_transfer(ip, None).unwrap();
        let port = held.local_addr().unwrap().port();
        let err = bind_transfer(ip, Some((port, port))).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        drop(held);
        let sock = bind_transfer(ip, Some((port, port))).unwrap();
        assert_eq!(sock.local_addr().unwrap().port(), port);

        let (lo, hi) = (
            port.saturating_sub(20).max(1024),
            port.saturating_sub(10).max(1034),
        );
        for _ in 0..5 {
            if let Ok(s) = bind_transfer(ip, Some((lo, hi))) {
                let got = s.local_addr().unwrap().port();
                assert!((lo..=hi).contains(&got), "{got} not in {lo}:{hi}");
            }
        }
        let bad = bind_transfer(ip, Some((10, 9))).unwrap_err();
        assert_eq!(bad.kind(), io::ErrorKind::InvalidInput);
    }
}
