//! DHCPv6 server sockets: UDP 547 on one interface, in the
//! All_DHCP_Relay_Agents_and_Servers group (ff02::1:2, RFC 8415 §7.1), and the
//! interface facts a DHCPv6 server needs (its MAC for a DUID-LL, its addresses).

use std::io;
use std::net::{Ipv6Addr, SocketAddr, SocketAddrV6};

use nix::ifaddrs::getifaddrs;
use nix::net::if_::if_nametoindex;
use tokio::net::UdpSocket;

use crate::{bind_with, BindOptions};

/// All_DHCP_Relay_Agents_and_Servers.
pub const ALL_DHCP_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// A socket on `[::]:port` bound to `device` (`SO_BINDTODEVICE`, `SO_REUSEADDR` so
/// that one socket per interface can share the port), joined to ff02::1:2 on it,
/// with packet info. Returns the socket and the interface index.
pub fn bind_dhcp6_server(device: &str, port: u16) -> io::Result<(UdpSocket, u32)> {
    let ifindex = if_nametoindex(device).map_err(io::Error::from)?;
    let any = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    let sock = bind_with(
        any,
        &BindOptions {
            device: Some(device.to_string()),
            reuse_address: true,
            broadcast: false,
        },
    )?;
    sock.join_multicast_v6(&ALL_DHCP_SERVERS, ifindex)?;
    Ok((sock, ifindex))
}

/// A UDP socket on `[::]:port` bound to `device`, for requests sent to one of its
/// addresses (no multicast group): the PXE boot server port over IPv6.
pub fn bind_dhcp6_unicast(device: &str, port: u16) -> io::Result<UdpSocket> {
    let any = SocketAddr::V6(SocketAddrV6::new(Ipv6Addr::UNSPECIFIED, port, 0, 0));
    bind_with(
        any,
        &BindOptions {
            device: Some(device.to_string()),
            reuse_address: true,
            broadcast: false,
        },
    )
}

/// What a DHCPv6 server needs to know of its interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface6 {
    /// The hardware address, when it is a 6-byte MAC.
    pub mac: Option<[u8; 6]>,
    /// The first link-local (fe80::/10) address.
    pub link_local: Option<Ipv6Addr>,
    /// The first address that is not link-local (for `tftp://[addr]/` URLs).
    pub global: Option<Ipv6Addr>,
}

/// The MAC and IPv6 addresses of `device` (getifaddrs).
pub fn interface6(device: &str) -> io::Result<Interface6> {
    let mut out = Interface6::default();
    for ifa in getifaddrs().map_err(io::Error::from)? {
        if ifa.interface_name != device {
            continue;
        }
        let Some(addr) = ifa.address else { continue };
        if let Some(mac) = addr.as_link_addr().and_then(|l| l.addr()) {
            out.mac.get_or_insert(mac);
        }
        if let Some(a) = addr.as_sockaddr_in6().map(|a| a.ip()) {
            if a.segments()[0] & 0xffc0 == 0xfe80 {
                out.link_local.get_or_insert(a);
            } else if !a.is_loopback() {
                out.global.get_or_insert(a);
            }
        }
    }
    Ok(out)
}
