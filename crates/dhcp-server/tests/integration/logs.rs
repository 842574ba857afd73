//! ISC dhcpd's log lines for every kind of exchange, and the counters of
//! replies by type.

use std::net::{Ipv4Addr, SocketAddrV4};

use dhcp_pxe::wire::message::MessageType;
use dhcp_server::{Level, Mode, ServerConfig};

use crate::support::*;

/// The info lines logged since the last call.
fn info(h: &mut Harness) -> Vec<String> {
    std::iter::from_fn(|| h.server.poll_event())
        .filter(|e| e.level == Level::Info)
        .map(|e| e.text)
        .collect()
}

const MAC1: &str = "02:00:00:00:00:01";

#[test]
fn full_mode_lines_follow_isc_dhcpd() {
    let mut h = Harness::full();
    let mut d = discover(1);
    d.options.insert(12, b"pc1".to_vec());
    let (offer, _) = h.one(&d);
    assert_eq!(
        info(&mut h),
        [
            format!("DHCPDISCOVER from {MAC1} (pc1) via veth0"),
            format!(
                "DHCPOFFER on {} to {MAC1} (pc1) via veth0 file \"pxelinux.0\"",
                offer.yiaddr
            ),
        ]
    );
    let (ack, _) = h.one(&request(1, offer.yiaddr, Some(SERVER)));
    let a = ack.yiaddr;
    assert_eq!(
        info(&mut h),
        [
            format!("DHCPREQUEST for {a} (192.0.2.1) from {MAC1} via veth0"),
            format!("DHCPACK on {a} to {MAC1} via veth0 file \"pxelinux.0\""),
        ]
    );

    // Another client asks for it: NAK.
    let (nak, _) = h.one(&request(2, a, None));
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
    assert_eq!(
        info(&mut h),
        [
            format!("DHCPREQUEST for {a} from 02:00:00:00:00:02 via veth0"),
            format!("DHCPNAK on {a} to 02:00:00:00:00:02 via veth0"),
        ]
    );

    let mut rel = base(1, Some(MessageType::Release));
    rel.ciaddr = a;
    assert!(h.send(&rel).is_empty());
    assert_eq!(
        info(&mut h),
        [format!(
            "DHCPRELEASE of {a} from {MAC1} via veth0: {a} released"
        )]
    );

    let b = h.dora(3);
    let _ = info(&mut h);
    let mut dec = base(3, Some(MessageType::Decline));
    dec.options.insert(50, b.octets().to_vec());
    assert!(h.send(&dec).is_empty());
    assert_eq!(
        info(&mut h),
        [format!(
            "DHCPDECLINE of {b} from 02:00:00:00:00:03 via veth0: {b} declined: quarantined"
        )]
    );

    let mut inf = base(7, Some(MessageType::Inform));
    inf.ciaddr = Ipv4Addr::new(192, 0, 2, 50);
    h.one(&inf);
    let lines = info(&mut h);
    assert_eq!(lines[0], "DHCPINFORM from 192.0.2.50 via veth0");
    assert!(
        lines[1].starts_with("DHCPACK to 192.0.2.50 (02:00:00:00:00:07) via veth0"),
        "{lines:?}"
    );

    let (boot, _) = h.one(&base(5, None));
    assert_eq!(
        info(&mut h),
        [
            "BOOTREQUEST from 02:00:00:00:00:05 via veth0".to_string(),
            format!(
                "BOOTREPLY for {} to 02:00:00:00:00:05 via veth0 file \"pxelinux.0\"",
                boot.yiaddr
            ),
        ]
    );

    let st = h.server.stats();
    // Offers: 1, 3; ACKs: 1, 3, INFORM; NAK: 2; BOOTREPLY: 5.
    assert_eq!(
        (st.offers, st.acks, st.naks, st.bootreplies, st.replies),
        (2, 3, 1, 1, 7),
        "{st:?}"
    );
    // Bound: client 5 (BOOTP); 1 released, 3 declined.
    let leases = h.server.lease_counts(h.now);
    assert_eq!(
        (leases.bound, leases.released, leases.declined),
        (1, 1, 1),
        "{leases:?}"
    );
}

#[test]
fn a_relayed_request_is_via_its_relay_and_silence_says_why() {
    let mut h = Harness::full();
    let mut d = discover(1);
    d.giaddr = Ipv4Addr::new(198, 18, 0, 1);
    d.hops = 1;
    assert!(h.send(&d).is_empty());
    let lines = info(&mut h);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("DHCPDISCOVER from {MAC1} via 198.18.0.1: ")),
        "{lines:?}"
    );
}

#[test]
fn proxy_replies_are_marked_proxy() {
    let mut h = Harness::with(ServerConfig::new(Mode::Proxy, vec![], policy()));
    h.one(&pxe_discover(1));
    assert_eq!(
        info(&mut h),
        [
            format!("DHCPDISCOVER from {MAC1} via veth0"),
            format!("DHCPOFFER (proxy) to {MAC1} via veth0 file \"pxelinux.0\""),
        ]
    );
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../dhcp-pxe/tests/fixtures/ovmf-pxe-x64-request-4011.bin"
    ))
    .unwrap();
    let from = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 150), 4011);
    assert_eq!(h.send_raw(&bytes, from, 4011).len(), 1);
    let lines = info(&mut h);
    assert!(lines[0].starts_with("DHCPREQUEST for "), "{lines:?}");
    assert!(
        lines[1].starts_with("DHCPACK (proxy) to ") && lines[1].ends_with("file \"pxelinux.0\""),
        "{lines:?}"
    );
    assert_eq!(h.server.stats().offers, 1);
    assert_eq!(h.server.stats().acks, 1);
}
