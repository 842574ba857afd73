//! A virtual clock, request builders and a harness around the sans-IO server.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, Message, Policy, Rule};
use dhcp_server::addressing::Destination;
use dhcp_server::{Datagram, Mode, Range, Server, ServerConfig, Subnet, Transmit};

pub(crate) const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

pub(crate) fn subnet() -> Subnet {
    let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 100),
        end: Ipv4Addr::new(192, 0, 2, 103),
        bootp: false,
    });
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 200),
        end: Ipv4Addr::new(192, 0, 2, 201),
        bootp: true,
    });
    s.routers.push(SERVER);
    s.lease_time = Duration::from_secs(600);
    s
}

pub(crate) fn policy() -> Policy {
    let mut r = Rule::new("all");
    r.then.boot_file = Some("pxelinux.0".into());
    Policy::new(vec![r])
}

pub(crate) struct Harness {
    pub(crate) server: Server,
    pub(crate) now: SystemTime,
}

impl Harness {
    pub(crate) fn full() -> Self {
        Self::with(ServerConfig::new(Mode::Full, vec![subnet()], policy()))
    }

    pub(crate) fn with(config: ServerConfig) -> Self {
        Self {
            server: Server::new(config),
            now: SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        }
    }

    pub(crate) fn advance(&mut self, d: Duration) {
        self.now += d;
        self.server.handle_timeout(self.now);
    }

    /// Sends `m` to port `port` from `src`; commits every batch; returns the replies.
    pub(crate) fn send_from(
        &mut self,
        m: &Message,
        src: SocketAddrV4,
        port: u16,
    ) -> Vec<(Message, Transmit)> {
        let bytes = encode(m, &EncodeParams::default()).unwrap();
        self.send_raw(&bytes, src, port)
    }

    pub(crate) fn send_raw(
        &mut self,
        bytes: &[u8],
        src: SocketAddrV4,
        port: u16,
    ) -> Vec<(Message, Transmit)> {
        let d = Datagram {
            ifindex: 3,
            interface: Some("veth0"),
            local: SERVER,
            local_port: port,
            src,
            payload: bytes,
        };
        self.server.handle(self.now, &d);
        while let Some(b) = self.server.poll_commit() {
            self.server.handle_committed(b.id);
        }
        let mut out = Vec::new();
        while let Some(t) = self.server.poll_transmit() {
            out.push((decode_strict(&t.payload).unwrap(), t));
        }
        out
    }

    pub(crate) fn send(&mut self, m: &Message) -> Vec<(Message, Transmit)> {
        self.send_from(m, SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68), 67)
    }

    pub(crate) fn one(&mut self, m: &Message) -> (Message, Transmit) {
        let mut r = self.send(m);
        assert_eq!(r.len(), 1, "expected one reply, got {r:?}");
        r.remove(0)
    }

    /// DISCOVER, REQUEST: the address acknowledged.
    pub(crate) fn dora(&mut self, mac: u8) -> Ipv4Addr {
        let (offer, _) = self.one(&discover(mac));
        assert_eq!(offer.message_type(), Some(MessageType::Offer));
        let (ack, _) = self.one(&request(mac, offer.yiaddr, Some(SERVER)));
        assert_eq!(ack.message_type(), Some(MessageType::Ack));
        assert_eq!(ack.yiaddr, offer.yiaddr);
        ack.yiaddr
    }
}

pub(crate) fn base(mac: u8, ty: Option<MessageType>) -> Message {
    let mut m = Message {
        xid: 0x1000 + u32::from(mac),
        ..Message::default()
    };
    m.chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, mac]);
    if let Some(t) = ty {
        m.set_message_type(t);
    }
    m.options.insert(55, vec![1, 3, 6, 51, 67]);
    m
}

pub(crate) fn discover(mac: u8) -> Message {
    base(mac, Some(MessageType::Discover))
}

pub(crate) fn pxe_discover(mac: u8) -> Message {
    let mut m = discover(mac);
    m.options
        .insert(60, b"PXEClient:Arch:00000:UNDI:002001".to_vec());
    m.options.insert(93, vec![0, 0]);
    m
}

pub(crate) fn request(mac: u8, addr: Ipv4Addr, server: Option<Ipv4Addr>) -> Message {
    let mut m = base(mac, Some(MessageType::Request));
    m.options.insert(50, addr.octets().to_vec());
    if let Some(s) = server {
        m.options.insert(54, s.octets().to_vec());
    }
    m
}

pub(crate) fn is_hw_unicast(t: &Transmit, mac: u8) -> bool {
    matches!(t.to, Destination::UnicastToHardware { mac: m, .. } if m == [2, 0, 0, 0, 0, mac])
}
