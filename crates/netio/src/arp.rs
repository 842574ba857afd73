//! What a DHCP server needs beyond datagrams: an ARP entry for a client that
//! has no address yet (`SIOCSARP`, as dnsmasq does), and interface names.
#![allow(unsafe_code)]

use std::io;
use std::mem;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use tokio::net::UdpSocket;

/// The name of interface `ifindex`.
pub fn ifname(ifindex: u32) -> Option<String> {
    let name = nix::net::if_::if_indextoname(ifindex).ok()?;
    Some(name.to_string_lossy().into_owned())
}

/// Adds an ARP entry `addr` → `mac` on `device` so that a unicast to a client
/// that has no address yet needs no ARP exchange (RFC 2131 §4.1). Needs
/// `CAP_NET_ADMIN`.
pub fn set_arp(sock: &UdpSocket, device: &str, addr: Ipv4Addr, mac: [u8; 6]) -> io::Result<()> {
    if device.len() >= libc::IF_NAMESIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "interface name too long",
        ));
    }
    // SAFETY: all-zero bytes are a valid arpreq (plain C struct).
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
    // covers exactly arp_pa and is unaligned-safe.
    unsafe { std::ptr::write_unaligned((&mut req.arp_pa as *mut libc::sockaddr).cast(), pa) };
    req.arp_ha.sa_family = libc::ARPHRD_ETHER;
    for (d, s) in req.arp_ha.sa_data.iter_mut().zip(mac) {
        *d = s as libc::c_char;
    }
    req.arp_flags = libc::ATF_COM;
    for (d, s) in req.arp_dev.iter_mut().zip(device.bytes()) {
        *d = s as libc::c_char;
    }
    // SAFETY: the socket is open for the call; SIOCSARP reads one arpreq,
    // which `req` is, and writes nothing back.
    let rc = unsafe { libc::ioctl(sock.as_raw_fd(), libc::SIOCSARP as _, &req) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
