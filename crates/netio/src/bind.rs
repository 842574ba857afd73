//! Binding: the well-known-port listeners (with packet info) and the
//! per-transfer sockets (their TID, RFC 1350 §4), with the `-R lo:hi` range.

use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::AsFd;

use nix::sys::socket::{setsockopt, sockopt};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

/// How [`bind_with`] sets a listener up beyond the defaults of
/// [`bind_listener`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindOptions {
    /// `SO_BINDTODEVICE`: only datagrams that arrive on this interface.
    pub device: Option<String>,
    /// `SO_REUSEADDR`: share the port (one socket per device, or a DHCP
    /// server on the same host).
    pub reuse_address: bool,
    /// `SO_BROADCAST`: allow sending to broadcast addresses.
    pub broadcast: bool,
}

/// Binds the well-known-port socket of a server.
///
/// `SO_REUSEADDR` is not set, as with tftp-hpa: a second server on the same
/// address fails with `EADDRINUSE` instead of silently sharing the port (on
/// Linux, two UDP sockets with `SO_REUSEADDR` may bind the very same
/// address). `IPV6_V6ONLY` is set for IPv6 addresses (IPv4 gets its own
/// socket, as with tftp-hpa), packet info is enabled for
/// [`recv_meta`](crate::recv_meta), and the socket is non-blocking. Must be
/// called inside a tokio runtime.
pub fn bind_listener(addr: SocketAddr) -> io::Result<UdpSocket> {
    bind_with(addr, &BindOptions::default())
}

/// [`bind_listener`] with a device, `SO_REUSEADDR` and broadcast as asked.
pub fn bind_with(addr: SocketAddr, options: &BindOptions) -> io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    if options.reuse_address {
        socket.set_reuse_address(true)?;
    }
    if options.broadcast {
        socket.set_broadcast(true)?;
    }
    if let Some(device) = &options.device {
        socket.bind_device(Some(device.as_bytes()))?;
    }
    enable_pktinfo(&socket, addr.is_ipv6())?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// Turns on `IP_PKTINFO` (IPv4) or `IPV6_RECVPKTINFO` (IPv6), so each
/// datagram comes with its destination address and interface.
pub(crate) fn enable_pktinfo(fd: &impl AsFd, v6: bool) -> io::Result<()> {
    if v6 {
        setsockopt(fd, sockopt::Ipv6RecvPacketInfo, &true)?;
    } else {
        setsockopt(fd, sockopt::Ipv4PacketInfo, &true)?;
    }
    Ok(())
}

/// Binds a fresh socket on `local` for one transfer.
///
/// Without `port_range` the kernel picks an ephemeral port. With
/// `Some((lo, hi))` (`-R lo:hi`) ports are tried from a random offset in the
/// range, wrapping around, each at most once; only `EADDRINUSE` moves on to
/// the next port.
pub(crate) fn bind_transfer(local: IpAddr, port_range: Option<(u16, u16)>) -> io::Result<Socket> {
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

/// A non-blocking UDP socket on `addr`. No `IP_MTU_DISCOVER` is set, so the
/// kernel default for UDP stays: large DATA blocks (blksize up to 65464) may
/// be fragmented, and GSO is only used for segments that fit the path MTU.
fn bind_plain(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket)
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
