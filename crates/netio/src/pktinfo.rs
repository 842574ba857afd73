//! Datagrams with packet info: the destination address and interface of
//! each received datagram (`IP_PKTINFO`, `IPV6_PKTINFO`), and replies sent
//! from a chosen source address out of a chosen interface.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use nix::sys::socket::{
    recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags, SockaddrStorage,
};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::RecvMeta;

/// Receives one datagram with its sender, destination address and interface.
///
/// Use on sockets from [`bind_listener`](crate::bind_listener) or adopted by
/// [`inherit`](crate::inherit) (packet info enabled); on other sockets `dst`
/// and `ifindex` are `None`.
pub async fn recv_meta(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::READABLE, || recv_once(fd, buf))
        .await
}

fn recv_once(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let mut iov = [IoSliceMut::new(buf)];
    let mut control = nix::cmsg_space!(libc::in6_pktinfo, libc::in_pktinfo);
    let msg = recvmsg::<SockaddrStorage>(fd, &mut iov, Some(&mut control), MsgFlags::empty())?;
    let peer = msg.address.as_ref().and_then(to_std).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidData, "datagram from a non-IP address")
    })?;
    let mut meta = RecvMeta {
        len: msg.bytes,
        peer,
        dst: None,
        ifindex: None,
    };
    // A truncated control area only loses the packet info.
    for cmsg in msg.cmsgs().into_iter().flatten() {
        match cmsg {
            ControlMessageOwned::Ipv4PacketInfo(info) => {
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
            ControlMessageOwned::Ipv6PacketInfo(info) => {
                meta.dst = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                meta.ifindex = Some(info.ipi6_ifindex);
            }
            _ => {}
        }
    }
    Ok(meta)
}

/// The `std` form of an address the kernel reported, if it is IPv4 or IPv6.
pub(crate) fn to_std(addr: &SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = addr.as_sockaddr_in() {
        return Some(SocketAddr::V4((*v4).into()));
    }
    addr.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6((*v6).into()))
}

/// Sends `payload` to `to` from source address `from` out of interface
/// `ifindex` (a packet-info control message); with both `None` the kernel
/// chooses, as with `send_to`. The source address must be local (or the
/// socket allowed to use foreign ones).
pub async fn send_from(
    sock: &UdpSocket,
    to: SocketAddr,
    from: Option<IpAddr>,
    ifindex: Option<u32>,
    payload: &[u8],
) -> io::Result<usize> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::WRITABLE, || {
        send_once(fd, to, from, ifindex, payload)
    })
    .await
}

fn send_once(
    fd: RawFd,
    to: SocketAddr,
    from: Option<IpAddr>,
    ifindex: Option<u32>,
    payload: &[u8],
) -> io::Result<usize> {
    let iov = [IoSlice::new(payload)];
    let addr = SockaddrStorage::from(to);
    let v4;
    let v6;
    let control: &[ControlMessage<'_>] = match (to, from, ifindex) {
        (_, None, None) => &[],
        (SocketAddr::V4(_), from, ifindex) => {
            let spec = match from {
                Some(IpAddr::V4(a)) => a,
                _ => Ipv4Addr::UNSPECIFIED,
            };
            v4 = [libc::in_pktinfo {
                ipi_ifindex: ifindex.unwrap_or(0) as libc::c_int,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from(spec).to_be(),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            }];
            &[ControlMessage::Ipv4PacketInfo(&v4[0])]
        }
        (SocketAddr::V6(_), from, ifindex) => {
            let src = match from {
                Some(IpAddr::V6(a)) => a,
                _ => Ipv6Addr::UNSPECIFIED,
            };
            v6 = [libc::in6_pktinfo {
                ipi6_addr: libc::in6_addr {
                    s6_addr: src.octets(),
                },
                ipi6_ifindex: ifindex.unwrap_or(0),
            }];
            &[ControlMessage::Ipv6PacketInfo(&v6[0])]
        }
    };
    Ok(sendmsg(fd, &iov, control, MsgFlags::empty(), Some(&addr))?)
}
