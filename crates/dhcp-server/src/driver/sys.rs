//! The socket layer: binding with SO_BINDTODEVICE and broadcast, receiving with
//! IP_PKTINFO, sending from a chosen address and interface, and ARP entries for
//! clients without an address (SIOCSARP, as dnsmasq does).
//!
//! All `unsafe` of the crate lives here; each block says why it is sound. Linux only.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, RawFd};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::io::Interest;
use tokio::net::UdpSocket;

/// What the kernel told about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RecvMeta {
    pub(crate) len: usize,
    pub(crate) src: SocketAddrV4,
    /// The receiving interface's address for broadcasts, else the destination address.
    pub(crate) local: Ipv4Addr,
    pub(crate) ifindex: u32,
}

/// Binds a UDP socket on `addr`, tied to `device` when given, with broadcast
/// and packet info enabled. `reuse` sets SO_REUSEADDR (several devices on one
/// port, or sharing port 67 with a DHCP server on the same host).
pub(crate) fn bind(addr: SocketAddrV4, device: Option<&str>, reuse: bool) -> io::Result<UdpSocket> {
    let s = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP))?;
    if reuse {
        s.set_reuse_address(true)?;
    }
    s.set_broadcast(true)?;
    if let Some(d) = device {
        s.bind_device(Some(d.as_bytes()))?;
    }
    setsockopt_int(s.as_raw_fd(), libc::IPPROTO_IP, libc::IP_PKTINFO, 1)?;
    s.set_nonblocking(true)?;
    s.bind(&addr.into())?;
    UdpSocket::from_std(s.into())
}

fn setsockopt_int(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    v: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `fd` is an open socket for the duration of the call; the value
    // points to a live c_int and the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            (&v as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Control buffer for one `in_pktinfo`, aligned for `cmsghdr`.
type ControlBuf = [u64; 8];

/// Receives one datagram with its packet info.
pub(crate) async fn recv(sock: &UdpSocket, buf: &mut [u8]) -> io::Result<RecvMeta> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::READABLE, || recv_once(fd, buf))
        .await
}

fn recv_once(fd: RawFd, buf: &mut [u8]) -> io::Result<RecvMeta> {
    // SAFETY: all-zero bytes are valid values for these plain C structs.
    let mut name: libc::sockaddr_in = unsafe { mem::zeroed() };
    let mut control: ControlBuf = [0; 8];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (&mut name as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<ControlBuf>() as _;
    // SAFETY: every pointer in `msg` points to a live local or to `buf`, with
    // their lengths; the kernel writes at most those lengths.
    let n = unsafe { libc::recvmsg(fd, &mut msg, 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut meta = RecvMeta {
        len: n as usize,
        src: SocketAddrV4::new(
            Ipv4Addr::from(u32::from_be(name.sin_addr.s_addr)),
            u16::from_be(name.sin_port),
        ),
        local: Ipv4Addr::UNSPECIFIED,
        ifindex: 0,
    };
    // SAFETY: `msg` was filled by a successful recvmsg: msg_control and
    // msg_controllen describe what the kernel wrote into `control`;
    // CMSG_FIRSTHDR/CMSG_NXTHDR stay within it and return null at its end; the
    // payload of an IP_PKTINFO header is an in_pktinfo, read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
        while !cmsg.is_null() {
            let h = &*cmsg;
            if h.cmsg_level == libc::IPPROTO_IP && h.cmsg_type == libc::IP_PKTINFO {
                let info: libc::in_pktinfo = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                let to = Ipv4Addr::from(u32::from_be(info.ipi_addr.s_addr));
                let spec = Ipv4Addr::from(u32::from_be(info.ipi_spec_dst.s_addr));
                meta.local = if to.is_broadcast() || to.is_multicast() {
                    spec
                } else {
                    to
                };
                meta.ifindex = u32::try_from(info.ipi_ifindex).unwrap_or(0);
            }
            cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
        }
    }
    Ok(meta)
}

/// Sends `payload` to `to` from address `from` out of interface `ifindex`
/// (IP_PKTINFO; either may be zero to let the kernel choose).
pub(crate) async fn send(
    sock: &UdpSocket,
    to: SocketAddrV4,
    from: Ipv4Addr,
    ifindex: u32,
    payload: &[u8],
) -> io::Result<()> {
    let fd = sock.as_raw_fd();
    sock.async_io(Interest::WRITABLE, || {
        send_once(fd, to, from, ifindex, payload)
    })
    .await
}

fn send_once(
    fd: RawFd,
    to: SocketAddrV4,
    from: Ipv4Addr,
    ifindex: u32,
    payload: &[u8],
) -> io::Result<()> {
    // SAFETY: all-zero bytes are valid values for these plain C structs.
    let mut dst: libc::sockaddr_in = unsafe { mem::zeroed() };
    dst.sin_family = libc::AF_INET as libc::sa_family_t;
    dst.sin_port = to.port().to_be();
    dst.sin_addr.s_addr = u32::from(*to.ip()).to_be();
    let mut iov = libc::iovec {
        // sendmsg only reads through iov_base.
        iov_base: payload.as_ptr() as *mut libc::c_void,
        iov_len: payload.len(),
    };
    let mut control: ControlBuf = [0; 8];
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { mem::zeroed() };
    msg.msg_name = (&mut dst as *mut libc::sockaddr_in).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if ifindex != 0 || !from.is_unspecified() {
        msg.msg_control = control.as_mut_ptr().cast();
        // SAFETY: CMSG_SPACE only computes a size.
        msg.msg_controllen = unsafe { libc::CMSG_SPACE(size_of::<libc::in_pktinfo>() as u32) } as _;
        // SAFETY: msg_control points to `control`, which is larger than
        // CMSG_SPACE(in_pktinfo) and aligned for cmsghdr, so the first header
        // and its data lie inside it; writes are unaligned-safe.
        unsafe {
            let c = libc::CMSG_FIRSTHDR(&msg);
            (*c).cmsg_level = libc::IPPROTO_IP;
            (*c).cmsg_type = libc::IP_PKTINFO;
            (*c).cmsg_len = libc::CMSG_LEN(size_of::<libc::in_pktinfo>() as u32) as _;
            let info = libc::in_pktinfo {
                ipi_ifindex: ifindex as libc::c_int,
                ipi_spec_dst: libc::in_addr {
                    s_addr: u32::from(from).to_be(),
                },
                ipi_addr: libc::in_addr { s_addr: 0 },
            };
            std::ptr::write_unaligned(libc::CMSG_DATA(c).cast(), info);
        }
    }
    // SAFETY: `msg` points to live locals (dst, iov, control) and `payload`,
    // valid for the call; the kernel only reads them.
    let n = unsafe { libc::sendmsg(fd, &msg, 0) };
    if n < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// The name of interface `ifindex`.
pub(crate) fn ifname(ifindex: u32) -> Option<String> {
    let mut buf = [0 as libc::c_char; libc::IF_NAMESIZE];
    // SAFETY: `buf` has IF_NAMESIZE bytes as if_indextoname requires; on
    // success it holds a NUL-terminated name.
    let p = unsafe { libc::if_indextoname(ifindex, buf.as_mut_ptr()) };
    if p.is_null() {
        return None;
    }
    // SAFETY: if_indextoname succeeded, so `buf` is NUL-terminated.
    let name = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
    Some(name.to_string_lossy().into_owned())
}

/// Adds an ARP entry `addr` → `mac` on `device` so that a unicast to a client
/// that has no address yet needs no ARP exchange (RFC 2131 §4.1).
pub(crate) fn set_arp(
    sock: &UdpSocket,
    device: &str,
    addr: Ipv4Addr,
    mac: [u8; 6],
) -> io::Result<()> {
    if device.len() >= libc::IF_NAMESIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    // SAFETY: all-zero bytes are a valid arpreq.
    let mut req: libc::arpreq = unsafe { mem::zeroed() };
    let pa = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from(addr).to_be(),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sockaddr_in and sockaddr have the same size on Linux; the write
    // covers exactly arp_pa.
    unsafe { std::ptr::write_unaligned((&mut req.arp_pa as *mut libc::sockaddr).cast(), pa) };
    req.arp_ha.sa_family = libc::ARPHRD_ETHER;
    for (d, s) in req.arp_ha.sa_data.iter_mut().zip(mac) {
        *d = s as libc::c_char;
    }
    req.arp_flags = libc::ATF_COM;
    for (d, s) in req.arp_dev.iter_mut().zip(device.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: the socket is open; SIOCSARP reads one arpreq, which `req` is.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSARP as _, &req) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
