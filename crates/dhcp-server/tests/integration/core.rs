//! Full mode: DORA, NAK, renew, RELEASE, DECLINE, INFORM, BOOTP, relays, expiry,
//! returning clients, group commit, hygiene.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcp_pxe::wire::message::MessageType;
use dhcp_server::addressing::Destination;
use dhcp_server::{Expiry, Mode, Reservation, Server, ServerConfig};

use crate::support::*;

#[test]
fn dora_gives_address_boot_file_and_options() {
    let mut h = Harness::full();
    let (offer, t) = h.one(&discover(1));
    assert_eq!(offer.yiaddr, Ipv4Addr::new(192, 0, 2, 100));
    assert!(
        is_hw_unicast(&t, 1),
        "no broadcast flag, no ciaddr: unicast to chaddr"
    );
    assert_eq!(t.src_port, 67);
    assert_eq!(t.from, SERVER);
    assert_eq!(offer.options.get(54), Some(&SERVER.octets()[..]));
    assert_eq!(offer.options.get(51), Some(&600u32.to_be_bytes()[..]));
    let (ack, _) = h.one(&request(1, offer.yiaddr, Some(SERVER)));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.file, b"pxelinux.0");
    assert_eq!(ack.options.get(67), Some(&b"pxelinux.0"[..]));
    assert_eq!(ack.options.get(1), Some(&[255, 255, 255, 0][..]));
    assert_eq!(ack.options.get(3), Some(&SERVER.octets()[..]));
    assert_eq!(ack.options.get(58), Some(&300u32.to_be_bytes()[..]));
}

#[test]
fn second_client_gets_a_different_address() {
    let mut h = Harness::full();
    let a = h.dora(1);
    let b = h.dora(2);
    assert_ne!(a, b);
    // The first client's DISCOVER again: same address (it still holds it).
    let (offer, _) = h.one(&discover(1));
    assert_eq!(offer.yiaddr, a);
}

#[test]
fn acks_wait_for_their_batch_to_be_durable() {
    let mut h = Harness::full();
    let (o1, _) = h.one(&discover(1));
    let (o2, _) = h.one(&discover(2));
    for (mac, a) in [(1, o1.yiaddr), (2, o2.yiaddr)] {
        let bytes = dhcp_pxe::encode(&request(mac, a, Some(SERVER)), &Default::default()).unwrap();
        let d = dhcp_server::Datagram {
            ifindex: 3,
            interface: None,
            local: SERVER,
            local_port: 67,
            src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            payload: &bytes,
        };
        h.server.handle(h.now, &d);
    }
    assert!(
        h.server.poll_transmit().is_none(),
        "no ACK before the fsync"
    );
    let batch = h.server.poll_commit().expect("one batch");
    assert_eq!(batch.records.len(), 2, "both leases in one group commit");
    assert!(h.server.poll_commit().is_none());
    assert!(h.server.poll_transmit().is_none());
    h.server.handle_committed(batch.id);
    assert_eq!(std::iter::from_fn(|| h.server.poll_transmit()).count(), 2);
    let s = h.server.stats();
    assert_eq!((s.commit_batches, s.committed_records), (1, 2));
}

/// Feeds client 1's REQUEST for `addr` to the server without taking its
/// replies: the commit it starts is the test's to drive.
fn handle_request_without_reply(h: &mut Harness, addr: Ipv4Addr) {
    let bytes = dhcp_pxe::encode(&request(1, addr, Some(SERVER)), &Default::default()).unwrap();
    let d = dhcp_server::Datagram {
        ifindex: 3,
        interface: None,
        local: SERVER,
        local_port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        payload: &bytes,
    };
    h.server.handle(h.now, &d);
}

#[test]
fn failed_commit_sends_no_ack() {
    let mut h = Harness::full();
    let (o, _) = h.one(&discover(1));
    handle_request_without_reply(&mut h, o.yiaddr);
    let b = h.server.poll_commit().unwrap();
    h.server.handle_commit_failed(b.id);
    assert!(h.server.poll_transmit().is_none());
    assert_eq!(h.server.stats().commit_failures, 1);
}

/// A batch whose write outlasts the lease: by the time it is durable the record
/// has ended and the address is free again, so its ACK must never leave.
#[test]
fn ack_whose_lease_ended_while_its_write_was_in_flight_is_never_sent() {
    let mut h = Harness::full();
    let (o, _) = h.one(&discover(1));
    handle_request_without_reply(&mut h, o.yiaddr);
    let b = h.server.poll_commit().unwrap();
    let ends = b.records[0].expires;
    assert_eq!(
        ends,
        Expiry::after(dhcp_server::server::unix(h.now), Duration::from_secs(600))
    );
    // The driver sleeps as told: the server wakes no later than the lease's end.
    let wake = h.server.poll_timeout().expect("a timer");
    assert!(wake <= ends.deadline().unwrap());
    h.advance(Duration::from_secs(3601));
    // The table counts the address as free again: another client may get it.
    let l = h.server.leases().get(o.yiaddr).unwrap();
    assert!(l.expires.is_past(dhcp_server::server::unix(h.now)));
    h.server.handle_committed(b.id);
    assert!(
        h.server.poll_transmit().is_none(),
        "ACK sent for a lease that ended before it was durable"
    );
    assert_eq!(h.server.stats().commit_failures, 1);
}

#[test]
fn request_for_an_address_held_by_another_client_is_naked() {
    let mut h = Harness::full();
    let a = h.dora(1);
    let (nak, t) = h.one(&request(2, a, None));
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
    assert_eq!(t.to, Destination::Broadcast);
    assert_eq!(nak.yiaddr, Ipv4Addr::UNSPECIFIED);
    // Wrong network (a client moved from elsewhere, INIT-REBOOT).
    let (nak, _) = h.one(&request(3, Ipv4Addr::new(10, 9, 9, 9), None));
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
}

#[test]
fn choosing_another_server_frees_the_offer() {
    let mut h = Harness::full();
    let (o, _) = h.one(&discover(1));
    assert!(h
        .send(&request(1, o.yiaddr, Some(Ipv4Addr::new(192, 0, 2, 254))))
        .is_empty());
    assert!(h.server.leases().get(o.yiaddr).is_none());
}

#[test]
fn renew_is_answered_to_ciaddr_and_extends_the_lease() {
    let mut h = Harness::full();
    let a = h.dora(1);
    h.advance(Duration::from_secs(300));
    let mut renew = base(1, Some(MessageType::Request));
    renew.ciaddr = a;
    let (ack, t) = h.one(&renew);
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.yiaddr, a);
    assert_eq!(t.to, Destination::Unicast(SocketAddrV4::new(a, 68)));
    let exp = h.server.leases().get(a).unwrap().expires;
    assert_eq!(exp, Expiry::At(dhcp_server::server::unix(h.now) + 600));
    // Rebinding (broadcast) is served the same way.
    renew.flags = renew.flags.set_broadcast();
    let (ack, _) = h.one(&renew);
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
}

#[test]
fn release_frees_the_address_and_a_returning_client_gets_it_back() {
    let mut h = Harness::full();
    let a = h.dora(1);
    let mut rel = base(1, Some(MessageType::Release));
    rel.ciaddr = a;
    rel.options.insert(54, SERVER.octets().to_vec());
    assert!(h.send(&rel).is_empty());
    assert_eq!(
        h.server.leases().get(a).unwrap().state,
        dhcp_server::LeaseState::Released
    );
    // Another client's address request for it now succeeds…
    let mut h2 = Harness::full();
    let a2 = h2.dora(1);
    let mut rel2 = base(1, Some(MessageType::Release));
    rel2.ciaddr = a2;
    h2.send(&rel2);
    let (ack, _) = h2.one(&request(2, a2, None));
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    // …and without competition the first client comes back to its old address.
    let b = h.dora(1);
    assert_eq!(a, b);
}

#[test]
fn decline_quarantines_the_address() {
    let mut h = Harness::full();
    let a = h.dora(1);
    let mut dec = base(1, Some(MessageType::Decline));
    dec.options.insert(50, a.octets().to_vec());
    assert!(h.send(&dec).is_empty());
    // Six addresses (four DHCP-only, two dynamic-bootp that DHCP clients may use too).
    for mac in 2..7 {
        assert_ne!(h.dora(mac), a);
    }
    assert!(
        h.send(&discover(9)).is_empty(),
        "pool exhausted: the declined address stays out"
    );
    h.advance(Duration::from_secs(3601));
    let (o, _) = h.one(&discover(9));
    assert_eq!(o.message_type(), Some(MessageType::Offer));
}

#[test]
fn inform_gets_options_without_lease_time() {
    let mut h = Harness::full();
    let mut inf = base(7, Some(MessageType::Inform));
    inf.ciaddr = Ipv4Addr::new(192, 0, 2, 50);
    let (ack, t) = h.one(&inf);
    assert_eq!(ack.message_type(), Some(MessageType::Ack));
    assert_eq!(ack.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert!(ack.options.get(51).is_none());
    assert_eq!(ack.options.get(3), Some(&SERVER.octets()[..]));
    assert_eq!(t.to, Destination::Unicast("192.0.2.50:68".parse().unwrap()));
}

#[test]
fn bootp_client_gets_a_dynamic_bootp_address_for_a_day_by_default() {
    let mut h = Harness::full();
    let m = base(5, None);
    let (r, t) = h.one(&m);
    assert_eq!(r.message_type(), None, "a BOOTREPLY without option 53");
    assert!(r.yiaddr == Ipv4Addr::new(192, 0, 2, 200) || r.yiaddr == Ipv4Addr::new(192, 0, 2, 201));
    assert_eq!(r.file, b"pxelinux.0");
    assert!(is_hw_unicast(&t, 5));
    assert_eq!(
        h.server.leases().get(r.yiaddr).unwrap().expires,
        Expiry::At(dhcp_server::server::unix(h.now) + 86_400)
    );
    assert_eq!(h.server.stats().bootp, 1);
}

#[test]
fn relay_selects_the_subnet_and_gets_the_reply_with_option_82() {
    let mut s2 = dhcp_server::Subnet::new(Ipv4Addr::new(198, 18, 0, 0), 15);
    s2.ranges.push(dhcp_server::Range {
        start: Ipv4Addr::new(198, 19, 0, 1),
        end: Ipv4Addr::new(198, 19, 0, 9),
        bootp: false,
    });
    let mut h = Harness::with(ServerConfig::new(Mode::Full, vec![subnet(), s2], policy()));
    let mut d = discover(1);
    d.giaddr = Ipv4Addr::new(198, 18, 0, 1);
    d.hops = 1;
    let opt82 = vec![1, 3, b'e', b't', b'h', 2, 2, 0xab, 0xcd];
    d.options.insert(82, opt82.clone());
    let (o, t) = h.one(&d);
    assert_eq!(o.yiaddr, Ipv4Addr::new(198, 19, 0, 1));
    assert_eq!(o.giaddr, d.giaddr);
    assert_eq!(t.to, Destination::Unicast("198.18.0.1:67".parse().unwrap()));
    assert_eq!(o.options.get(82), Some(&opt82[..]));
    assert_eq!(
        o.options.iter().last().unwrap().code,
        82,
        "82 is the last option"
    );
    // Unknown relay network: silence.
    d.giaddr = Ipv4Addr::new(203, 0, 113, 1);
    assert!(h.send(&d).is_empty());
}

#[test]
fn expired_leases_are_reused_and_restored_leases_kept() {
    let mut h = Harness::full();
    let addrs: Vec<_> = (1..=6).map(|m| h.dora(m)).collect();
    assert!(
        h.send(&discover(9)).is_empty(),
        "six addresses, six clients"
    );
    // A restarted server with the same leases gives client 3 its address and nobody a taken one.
    let mut h2 = Harness::full();
    h2.now = h.now;
    h2.server
        .restore(h.server.leases().iter().cloned().collect::<Vec<_>>());
    let (o, _) = h2.one(&discover(3));
    assert_eq!(o.yiaddr, addrs[2]);
    assert!(h2.send(&discover(9)).is_empty());
    h.advance(Duration::from_secs(601));
    let (o, _) = h.one(&discover(9));
    assert!(addrs.contains(&o.yiaddr));
}

#[test]
fn reservation_by_mac() {
    let mut s = subnet();
    s.reservations.push(Reservation {
        mac: Some([2, 0, 0, 0, 0, 42]),
        client_id: None,
        addr: Ipv4Addr::new(192, 0, 2, 42),
    });
    let mut h = Harness::with(ServerConfig::new(Mode::Full, vec![s], policy()));
    assert_eq!(h.dora(42), Ipv4Addr::new(192, 0, 2, 42));
    let (nak, _) = h.one(&request(1, Ipv4Addr::new(192, 0, 2, 42), None));
    assert_eq!(nak.message_type(), Some(MessageType::Nak));
}

#[test]
fn malformed_packets_are_counted_and_disturb_nobody() {
    let mut h = Harness::full();
    let src = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68);
    for junk in [&[][..], &[1, 2, 3][..], &[0u8; 300][..]] {
        assert!(h.send_raw(junk, src, 67).is_empty());
    }
    assert_eq!(h.server.stats().malformed, 3);
    assert_eq!(h.dora(1), Ipv4Addr::new(192, 0, 2, 100));
}

#[test]
fn a_flooding_client_is_rate_limited_alone() {
    let mut h = Harness::full();
    let mut answered = 0;
    for _ in 0..100 {
        answered += h.send(&discover(1)).len();
    }
    assert!(answered <= 20, "burst is 20, got {answered}");
    assert_eq!(h.server.stats().rate_limited, 100 - answered as u64);
    assert_eq!(
        h.one(&discover(2)).0.message_type(),
        Some(MessageType::Offer)
    );
}

#[test]
fn exchange_log_lines() {
    let mut h = Harness::full();
    h.dora(1);
    let events: Vec<_> = std::iter::from_fn(|| h.server.poll_event()).collect();
    let info: Vec<&str> = events
        .iter()
        .filter(|e| e.level == dhcp_server::Level::Info)
        .map(|e| e.text.as_str())
        .collect();
    // ISC dhcpd's four lines.
    assert_eq!(info.len(), 4, "{info:?}");
    assert!(info[0].starts_with("DHCPDISCOVER from "), "{info:?}");
    assert!(info[0].ends_with(" via veth0"), "{info:?}");
    assert!(
        info[1].starts_with("DHCPOFFER on 192.0.2.100 to "),
        "{info:?}"
    );
    assert!(
        info[2].starts_with("DHCPREQUEST for 192.0.2.100 ("),
        "{info:?}"
    );
    assert!(
        info[3].starts_with("DHCPACK on 192.0.2.100 to ")
            && info[3].ends_with("file \"pxelinux.0\""),
        "{info:?}"
    );
    // The whole decision of each exchange at debug.
    let debug: Vec<&str> = events
        .iter()
        .filter(|e| e.level == dhcp_server::Level::Debug)
        .map(|e| e.text.as_str())
        .collect();
    assert_eq!(debug.len(), 2, "{debug:?}");
    assert!(
        debug[0].starts_with("DISCOVER") && debug[0].contains("-> OFFER 192.0.2.100"),
        "{debug:?}"
    );
    assert!(
        debug[1].contains("-> ACK 192.0.2.100 file \"pxelinux.0\""),
        "{debug:?}"
    );
    let st = h.server.stats();
    assert_eq!((st.offers, st.acks, st.naks, st.replies), (1, 1, 0, 2));
    let leases = h.server.lease_counts(h.now);
    assert_eq!((leases.bound, leases.offered), (1, 0), "{leases:?}");
}

#[test]
fn server_without_subnet_for_the_interface_is_silent() {
    let mut h = Harness::with(ServerConfig::new(Mode::Full, vec![], policy()));
    assert!(h.send(&discover(1)).is_empty());
    let _ = Server::new(ServerConfig::new(Mode::Full, vec![], policy()));
}

#[test]
fn renewals_do_not_grow_memory_without_bound() {
    let mut h = Harness::full();
    let a = h.dora(1);
    let mut renew = base(1, Some(MessageType::Request));
    renew.ciaddr = a;
    for _ in 0..3000 {
        h.advance(Duration::from_millis(300));
        assert_eq!(h.one(&renew).0.message_type(), Some(MessageType::Ack));
    }
    // One lease; the expiry timers stay a small multiple of it.
    assert_eq!(h.server.leases().len(), 1);
    assert!(h.server.timer_count() <= 1026, "{}", h.server.timer_count());
}
