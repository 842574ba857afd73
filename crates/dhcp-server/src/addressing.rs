//! Where a reply goes (RFC 2131 §4.1, PXE 2.1 for port 4011). Computed here so the
//! driver only obeys.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_pxe::Message;

/// The DHCP server port.
pub const SERVER_PORT: u16 = 67;
/// The DHCP client port.
pub const CLIENT_PORT: u16 = 68;
/// The PXE boot-server (proxyDHCP) port.
pub const PXE_PORT: u16 = 4011;

/// How a reply reaches its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// An ordinary unicast to an address that answers ARP (relay, ciaddr, port-4011 peer).
    Unicast(SocketAddrV4),
    /// To the limited broadcast 255.255.255.255:68 on the receiving interface.
    Broadcast,
    /// To `addr`:68 for a client that has no address yet: the driver must not ARP
    /// for it; it uses `mac` (an ARP entry or a packet socket), or falls back to broadcast.
    UnicastToHardware {
        /// The client's new address (yiaddr).
        addr: Ipv4Addr,
        /// The client's MAC.
        mac: [u8; 6],
    },
}

/// The destination of `reply` to `request`, which arrived from `src` on `local_port`.
///
/// RFC 2131 §4.1: giaddr set → the relay, port 67; else ciaddr set → ciaddr, port 68;
/// else broadcast flag or a NAK → broadcast; else unicast to yiaddr at chaddr, when
/// the hardware address is a MAC. A request on port 4011 is answered where it came from.
pub fn destination(
    request: &Message,
    reply: &Message,
    src: SocketAddrV4,
    local_port: u16,
    nak: bool,
) -> Destination {
    if local_port == PXE_PORT {
        return Destination::Unicast(src);
    }
    if !request.giaddr.is_unspecified() {
        return Destination::Unicast(SocketAddrV4::new(request.giaddr, SERVER_PORT));
    }
    if nak {
        return Destination::Broadcast;
    }
    if !request.ciaddr.is_unspecified() {
        return Destination::Unicast(SocketAddrV4::new(request.ciaddr, CLIENT_PORT));
    }
    if request.broadcast() || reply.broadcast() || reply.yiaddr.is_unspecified() {
        return Destination::Broadcast;
    }
    match request.mac() {
        Some(mac) => Destination::UnicastToHardware {
            addr: reply.yiaddr,
            mac,
        },
        None => Destination::Broadcast,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68)
    }

    fn reply(yi: [u8; 4]) -> Message {
        Message {
            yiaddr: yi.into(),
            ..Message::default()
        }
    }

    #[test]
    fn relay_first() {
        let req = Message {
            giaddr: Ipv4Addr::new(198, 18, 0, 1),
            ciaddr: Ipv4Addr::new(198, 19, 0, 5),
            ..Message::default()
        };
        let d = destination(&req, &reply([198, 19, 0, 5]), src(), 67, true);
        assert_eq!(d, Destination::Unicast("198.18.0.1:67".parse().unwrap()));
    }

    #[test]
    fn ciaddr_then_broadcast_then_hardware() {
        let mut req = Message {
            ciaddr: Ipv4Addr::new(192, 0, 2, 9),
            ..Message::default()
        };
        req.chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        assert_eq!(
            destination(&req, &reply([192, 0, 2, 9]), src(), 67, false),
            Destination::Unicast("192.0.2.9:68".parse().unwrap())
        );
        assert_eq!(
            destination(&req, &reply([0; 4]), src(), 67, true),
            Destination::Broadcast
        );
        req.ciaddr = Ipv4Addr::UNSPECIFIED;
        assert_eq!(
            destination(&req, &reply([192, 0, 2, 9]), src(), 67, false),
            Destination::UnicastToHardware {
                addr: Ipv4Addr::new(192, 0, 2, 9),
                mac: [2, 0, 0, 0, 0, 1]
            }
        );
        req.flags = req.flags.set_broadcast();
        assert_eq!(
            destination(&req, &reply([192, 0, 2, 9]), src(), 67, false),
            Destination::Broadcast
        );
    }

    #[test]
    fn port_4011_answers_the_sender() {
        let from = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 50), 4011);
        let req = Message::default();
        assert_eq!(
            destination(&req, &reply([0; 4]), from, PXE_PORT, false),
            Destination::Unicast(from)
        );
    }
}
