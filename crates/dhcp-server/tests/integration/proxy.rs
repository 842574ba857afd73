//! Proxy mode: proxy OFFERs on port 67, ACKs on port 4011, silence to everyone else.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_pxe::wire::message::MessageType;
use dhcp_server::addressing::Destination;
use dhcp_server::{Mode, ServerConfig};

use crate::support::*;

fn proxy() -> Harness {
    Harness::with(ServerConfig::new(Mode::Proxy, vec![], policy()))
}

#[test]
fn pxe_discover_gets_a_broadcast_proxy_offer() {
    let mut h = proxy();
    let (o, t) = h.one(&pxe_discover(1));
    assert_eq!(o.message_type(), Some(MessageType::Offer));
    assert_eq!(o.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(o.options.get(60), Some(&b"PXEClient"[..]));
    assert_eq!(o.file, b"pxelinux.0");
    assert_eq!(o.siaddr, SERVER);
    assert_eq!(t.to, Destination::Broadcast);
    assert!(
        h.server.leases().is_empty(),
        "proxy mode hands out no addresses"
    );
}

#[test]
fn non_pxe_clients_and_requests_on_67_get_silence() {
    let mut h = proxy();
    assert!(h.send(&discover(1)).is_empty());
    let mut req = request(
        1,
        Ipv4Addr::new(192, 0, 2, 100),
        Some(Ipv4Addr::new(192, 0, 2, 2)),
    );
    req.options
        .insert(60, b"PXEClient:Arch:00000:UNDI:002001".to_vec());
    assert!(h.send(&req).is_empty());
    assert_eq!(h.server.stats().silent, 2);
}

#[test]
fn port_4011_request_is_answered_to_its_sender() {
    let mut h = proxy();
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dhcp-pxe/tests/fixtures/ovmf-pxe-x64-request-4011.bin"
    ))
    .unwrap();
    let from = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 150), 4011);
    let mut r = h.send_raw(&bytes, from, 4011);
    assert_eq!(r.len(), 1);
    let (ack, t) = r.remove(0);
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(t.to, Destination::Unicast(from));
    assert_eq!(t.src_port, 4011);
    assert_eq!(ack.file, b"pxelinux.0");
}

#[test]
fn full_mode_also_serves_port_4011() {
    let mut h = Harness::full();
    let mut req = pxe_discover(3);
    req.set_message_type(MessageType::Request);
    req.ciaddr = Ipv4Addr::new(192, 0, 2, 101);
    let from = SocketAddrV4::new(req.ciaddr, 68);
    let r = h.send_from(&req, from, 4011);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].1.to, Destination::Unicast(from));
}

#[test]
fn uefi_via_4011_leaves_option_43_out() {
    let mut c = ServerConfig::new(Mode::Proxy, vec![], policy());
    c.uefi_via_4011 = true;
    let mut h = Harness::with(c);
    let mut d = pxe_discover(4);
    d.options
        .insert(60, b"PXEClient:Arch:00007:UNDI:003001".to_vec());
    d.options.insert(93, vec![0, 7]);
    let (o, _) = h.one(&d);
    assert!(o.options.get(43).is_none());
}
