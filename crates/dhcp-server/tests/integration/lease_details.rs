//! What a lease record tells beyond address, client and end: the core fills it
//! from the request and the reply it sends, renewals keep or update it, and the
//! journal carries it through a restart.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::Duration;

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::Message;
use dhcp_server::server::unix;
use dhcp_server::store::{LeaseJournal, LeaseStore};
use dhcp_server::{Datagram, Lease, LeaseDetails, LeaseState};

use crate::support::{base, discover, request, Harness, SERVER};

/// Sends `m`, commits its batch: the records written (the replies are dropped).
fn records_of(h: &mut Harness, m: &Message) -> Vec<Lease> {
    let bytes = dhcp_pxe::encode(m, &Default::default()).unwrap();
    let d = Datagram {
        ifindex: 3,
        interface: Some("veth0"),
        local: SERVER,
        local_port: 67,
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        payload: &bytes,
    };
    h.server.handle(h.now, &d);
    let mut records = Vec::new();
    while let Some(b) = h.server.poll_commit() {
        records.extend(b.records.iter().cloned());
        h.server.handle_committed(b.id);
    }
    while h.server.poll_transmit().is_some() {}
    records
}

fn named(mut m: Message, host: &[u8], arch: Option<u16>) -> Message {
    m.options.insert(12, host.to_vec());
    if let Some(a) = arch {
        m.options.insert(93, a.to_be_bytes().to_vec());
    }
    m
}

#[test]
fn an_ack_records_start_host_name_architecture_and_boot_file() {
    let mut h = Harness::full();
    let (offer, _) = h.one(&named(discover(1), b"node-1", Some(7)));
    let req = named(request(1, offer.yiaddr, Some(SERVER)), b"node-1", Some(7));
    let r = records_of(&mut h, &req);
    assert_eq!(r.len(), 1, "{r:?}");
    let want = LeaseDetails {
        start: Some(unix(h.now)),
        hostname: b"node-1".to_vec(),
        arch: Some(7),
        boot_file: b"pxelinux.0".to_vec(),
    };
    assert_eq!(r[0].details, want);
    assert_eq!(h.server.leases().get(offer.yiaddr).unwrap().details, want);

    // A renewal without options 12 and 93 keeps them, with a new start.
    h.advance(Duration::from_secs(300));
    let mut renew = base(1, Some(MessageType::Request));
    renew.ciaddr = offer.yiaddr;
    let r = records_of(&mut h, &renew);
    let kept = LeaseDetails {
        start: Some(unix(h.now)),
        ..want.clone()
    };
    assert_eq!(r[0].details, kept);
    // One that sends a new host name updates it.
    let r = records_of(&mut h, &named(renew, b"node-1b", None));
    assert_eq!(r[0].details.hostname, b"node-1b");
    assert_eq!(r[0].details.arch, Some(7));

    // A release keeps what the lease told.
    let mut rel = base(1, Some(MessageType::Release));
    rel.ciaddr = offer.yiaddr;
    rel.options.insert(54, SERVER.octets().to_vec());
    let r = records_of(&mut h, &rel);
    assert_eq!(r[0].state, LeaseState::Released);
    assert_eq!(r[0].details.hostname, b"node-1b");
}

#[test]
fn a_bootp_lease_records_its_boot_file_and_a_non_printable_host_name_as_sent() {
    let mut h = Harness::full();
    let r = records_of(&mut h, &named(base(5, None), b"pc\x00\xff", Some(0)));
    assert_eq!(r.len(), 1, "{r:?}");
    assert_eq!(r[0].details.boot_file, b"pxelinux.0");
    assert_eq!(r[0].details.hostname, b"pc\x00\xff");
    assert_eq!(r[0].details.arch, Some(0));
    assert_eq!(r[0].details.start, Some(unix(h.now)));
}

#[test]
fn details_survive_a_restart_through_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let mut h = Harness::full();
    let (offer, _) = h.one(&named(discover(2), b"n2", Some(11)));
    let r = records_of(
        &mut h,
        &named(request(2, offer.yiaddr, Some(SERVER)), b"n2", Some(11)),
    );
    let (mut j, _) = LeaseJournal::open(&p).unwrap();
    j.append(&r).unwrap();
    drop(j);
    let (_, back) = LeaseJournal::open(&p).unwrap();
    assert_eq!(back, r);
    let mut h2 = Harness::full();
    h2.server.restore(back);
    assert_eq!(
        h2.server.leases().get(offer.yiaddr).unwrap().details,
        r[0].details
    );
}
