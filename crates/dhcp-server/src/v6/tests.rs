//! The stateless responder against hand-built requests as UEFI firmware sends them.

use std::net::Ipv6Addr;

use dhcp_pxe::boot_class::{policy, BootFile};
use dhcproto::v6::{DhcpOption, Message, MessageType, OptionCode, UnknownOption, IANA, ORO};
use dhcproto::Encodable;

use super::{respond, server_duid_ll, V6Config};

const LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const CLIENT_DUID: [u8; 10] = [0, 3, 0, 1, 0x52, 0x54, 0, 0x12, 0x34, 0x56];

fn config() -> V6Config {
    let files: Vec<BootFile> = [
        "efi-x64=grubx64.efi",
        "http-x64=http://[2001:db8::5]/x64.efi",
        "ipxe=http://[2001:db8::5]/boot.ipxe",
    ]
    .iter()
    .map(|f| f.parse().unwrap())
    .collect();
    let mut c = V6Config::new(server_duid_ll([2, 0, 0, 0, 0, 1]), policy(&files, None));
    c.dns = vec!["2001:db8::53".parse().unwrap()];
    c
}

fn request(ty: MessageType, arch: Option<u16>) -> Message {
    let mut m = Message::new_with_id(ty, [1, 2, 3]);
    let o = m.opts_mut();
    o.insert(DhcpOption::ClientId(CLIENT_DUID.to_vec()));
    if let Some(a) = arch {
        o.insert(DhcpOption::ClientArchType(vec![a.into()]));
    }
    o.insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(59), OptionCode::from(23)],
    }));
    o.insert(DhcpOption::IANA(IANA {
        id: 1,
        t1: 0,
        t2: 0,
        opts: Default::default(),
    }));
    m
}

/// An option as raw bytes: dhcproto 0.15 mis-encodes the lengths of 15 and 16.
fn raw(code: u16, data: &[u8]) -> DhcpOption {
    DhcpOption::Unknown(UnknownOption::new(OptionCode::from(code), data.to_vec()))
}

fn bytes(m: &Message) -> Vec<u8> {
    m.to_vec().unwrap()
}

fn url(m: &Message) -> Option<String> {
    match m.opts().get(OptionCode::from(59))? {
        DhcpOption::Unknown(u) => Some(String::from_utf8_lossy(u.data()).into_owned()),
        _ => None,
    }
}

#[test]
fn uefi_pxe_solicit_gets_a_tftp_url_and_no_ia() {
    let cfg = config();
    let out = respond(&cfg, &bytes(&request(MessageType::Solicit, Some(7))), LOCAL);
    let (m, wire) = out.reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Advertise);
    assert_eq!(m.xid(), [1, 2, 3]);
    assert_eq!(url(&m).as_deref(), Some("tftp://[fe80::1]/grubx64.efi"));
    assert!(m.opts().get(OptionCode::IANA).is_none(), "stateless: no IA");
    assert!(m.opts().get(OptionCode::StatusCode).is_none());
    assert_eq!(
        m.opts().get(OptionCode::ClientId),
        Some(&DhcpOption::ClientId(CLIENT_DUID.to_vec()))
    );
    assert!(
        matches!(m.opts().get(OptionCode::DomainNameServers), Some(DhcpOption::DomainNameServers(d)) if d.len() == 1)
    );
    assert_eq!(out.decision.unwrap().explanation.chosen(), Some("efi-x64"));
    // The wire form decodes to the same message.
    let back = <Message as dhcproto::Decodable>::decode(&mut dhcproto::Decoder::new(&wire));
    assert_eq!(back.unwrap(), m);
    // The REQUEST that follows, to this server: a REPLY with the same URL.
    let mut req = request(MessageType::Request, Some(7));
    req.opts_mut()
        .insert(DhcpOption::ServerId(cfg.server_duid.clone()));
    let (m, _) = respond(&cfg, &bytes(&req), LOCAL).reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Reply);
    assert_eq!(url(&m).as_deref(), Some("tftp://[fe80::1]/grubx64.efi"));
    // A configured TFTP server wins over the local address.
    let mut cfg = config();
    cfg.tftp = Some("2001:db8::69".parse().unwrap());
    let (m, _) = respond(&cfg, &bytes(&req), LOCAL).reply.unwrap();
    assert_eq!(
        url(&m).as_deref(),
        Some("tftp://[2001:db8::69]/grubx64.efi")
    );
}

#[test]
fn http_boot_gets_its_url_and_httpclient_echoed_ipxe_its_script() {
    let cfg = config();
    let mut s = request(MessageType::Solicit, Some(16));
    s.opts_mut().insert(raw(
        16,
        b"\0\0\x01\x57\0\x21HTTPClient:Arch:00016:UNDI:003001",
    ));
    let (m, wire) = respond(&cfg, &bytes(&s), LOCAL).reply.unwrap();
    assert_eq!(url(&m).as_deref(), Some("http://[2001:db8::5]/x64.efi"));
    // Decoded from the wire: enterprise 343, one datum `HTTPClient`.
    let back = <Message as dhcproto::Decodable>::decode(&mut dhcproto::Decoder::new(&wire));
    match back.unwrap().opts().get(OptionCode::VendorClass) {
        Some(DhcpOption::VendorClass(v)) => {
            assert_eq!((v.num, v.data.clone()), (343, vec![b"HTTPClient".to_vec()]));
        }
        o => panic!("no vendor class echoed: {o:?}"),
    }
    let mut i = request(MessageType::Solicit, Some(7));
    i.opts_mut().insert(raw(15, b"\0\x04iPXE"));
    let (m, _) = respond(&cfg, &bytes(&i), LOCAL).reply.unwrap();
    assert_eq!(url(&m).as_deref(), Some("http://[2001:db8::5]/boot.ipxe"));
    assert!(m.opts().get(OptionCode::VendorClass).is_none());
}

/// Option 16 as EDK II's UEFI PXE writes it: enterprise 343, one datum.
const PXE_CLIENT_CLASS: &[u8] = b"\0\0\x01\x57\0\x20PXEClient:Arch:00007:UNDI:003016";

/// Whether `wire` carries option 16 as EDK II tests a PXE offer: length at least 13,
/// enterprise 343 first, `PXEClient` at data offset 6.
fn edk2_pxe_offer(wire: &[u8]) -> bool {
    let mut rest = &wire[4..];
    while rest.len() >= 4 {
        let (code, len) = (
            u16::from_be_bytes([rest[0], rest[1]]),
            usize::from(u16::from_be_bytes([rest[2], rest[3]])),
        );
        let data = &rest[4..(4 + len).min(rest.len())];
        if code == 16 {
            return len >= 13 && data[..4] == 343u32.to_be_bytes() && &data[6..15] == b"PXEClient";
        }
        rest = &rest[(4 + len).min(rest.len())..];
    }
    false
}

#[test]
fn uefi_pxe_gets_pxeclient_so_the_firmware_takes_the_advertise_as_a_proxy_offer() {
    let cfg = config();
    let mut s = request(MessageType::Solicit, Some(7));
    s.opts_mut().insert(raw(16, PXE_CLIENT_CLASS));
    let (m, wire) = respond(&cfg, &bytes(&s), LOCAL).reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Advertise);
    assert!(edk2_pxe_offer(&wire), "{m:?}");
    assert!(m.opts().get(OptionCode::IANA).is_none());
    // The firmware's second REQUEST, on port 4011, with this server's id.
    let mut r = request(MessageType::Request, Some(7));
    r.opts_mut().remove(OptionCode::IANA);
    r.opts_mut().insert(raw(16, PXE_CLIENT_CLASS));
    r.opts_mut()
        .insert(DhcpOption::ServerId(cfg.server_duid.clone()));
    let (m, wire) = respond(&cfg, &bytes(&r), LOCAL).reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Reply);
    assert_eq!(url(&m).as_deref(), Some("tftp://[fe80::1]/grubx64.efi"));
    assert!(edk2_pxe_offer(&wire));
    // Without option 16 (dhclient, Kea's tests) no PXEClient; full mode never
    // sends it (tests_full.rs).
    let (_, wire) = respond(&cfg, &bytes(&request(MessageType::Solicit, Some(7))), LOCAL)
        .reply
        .unwrap();
    assert!(!edk2_pxe_offer(&wire));
}

#[test]
fn silence_for_other_servers_and_plain_clients() {
    let cfg = config();
    // A plain SOLICIT (dhclient without boot options): the other server's business.
    let mut plain = request(MessageType::Solicit, None);
    plain.opts_mut().insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(23)],
    }));
    let e = respond(&cfg, &bytes(&plain), LOCAL).reply.unwrap_err();
    assert!(e.contains("not a network boot client"), "{e}");
    // A REQUEST to another server.
    let mut other = request(MessageType::Request, Some(7));
    other
        .opts_mut()
        .insert(DhcpOption::ServerId(vec![0, 3, 0, 1, 9, 9, 9, 9, 9, 9]));
    let e = respond(&cfg, &bytes(&other), LOCAL).reply.unwrap_err();
    assert!(e.contains("another server"), "{e}");
    for ty in [
        MessageType::Renew,
        MessageType::Rebind,
        MessageType::Release,
    ] {
        assert!(respond(&cfg, &bytes(&request(ty, Some(7))), LOCAL)
            .reply
            .is_err());
    }
    // An architecture no rule serves: silence, with the policy's reasons.
    let out = respond(
        &cfg,
        &bytes(&request(MessageType::Solicit, Some(11))),
        LOCAL,
    );
    assert!(out.reply.is_err());
    assert_eq!(out.decision.unwrap().explanation.chosen(), None);
    // Garbage never panics.
    for junk in [&[][..], &[1], &[1, 2, 3, 4, 0, 1, 0, 200, 1]] {
        assert!(respond(&cfg, junk, LOCAL).reply.is_err());
    }
}

#[test]
fn information_request_gets_dns_and_refresh_time() {
    let cfg = config();
    let mut ir = Message::new_with_id(MessageType::InformationRequest, [9, 9, 9]);
    ir.opts_mut().insert(DhcpOption::ORO(ORO {
        opts: vec![OptionCode::from(23)],
    }));
    let (m, _) = respond(&cfg, &bytes(&ir), LOCAL).reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Reply);
    assert!(m.opts().get(OptionCode::DomainNameServers).is_some());
    assert!(m.opts().get(OptionCode::InformationRefreshTime).is_some());
    assert!(url(&m).is_none(), "not a boot client");
}

#[test]
fn mutated_solicits_never_panic() {
    let cfg = config();
    let good = bytes(&request(MessageType::Solicit, Some(7)));
    // A fixed LCG: the same 5,000 mutants every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (x >> 33) as usize
    };
    let mut answered = 0;
    for _ in 0..5_000 {
        let mut m = good.clone();
        for _ in 0..1 + next() % 4 {
            let i = next() % m.len();
            m[i] = next() as u8;
        }
        m.truncate(1 + next() % m.len());
        if respond(&cfg, &m, LOCAL).reply.is_ok() {
            answered += 1;
        }
    }
    // Some mutants still are valid SOLICITs; most are not.
    assert!(answered < 5_000, "{answered}");
}

/// A RELAY-FORW (hop count, link, peer, Interface-Id, then option 9) around `inner`.
fn relay_forw(hop_count: u8, interface_id: &[u8], inner: &[u8]) -> Vec<u8> {
    let mut m = vec![12, hop_count];
    m.extend_from_slice(&"2001:db8:0:7::1".parse::<Ipv6Addr>().unwrap().octets());
    m.extend_from_slice(
        &"fe80::5054:ff:fe12:3456"
            .parse::<Ipv6Addr>()
            .unwrap()
            .octets(),
    );
    for (code, data) in [(18u16, interface_id), (9, inner)] {
        m.extend_from_slice(&code.to_be_bytes());
        m.extend_from_slice(&(data.len() as u16).to_be_bytes());
        m.extend_from_slice(data);
    }
    m
}

#[test]
fn relayed_solicit_is_answered_in_a_relay_reply_with_the_interface_id() {
    let cfg = config();
    let solicit = bytes(&request(MessageType::Solicit, Some(7)));
    let datagram = relay_forw(0, b"swp12", &solicit);
    let out = respond(&cfg, &datagram, LOCAL);
    assert_eq!(out.relays.len(), 1);
    assert_eq!(out.relays[0].interface_id.as_deref(), Some(&b"swp12"[..]));
    let (m, wire) = out.reply.unwrap();
    assert_eq!(m.msg_type(), MessageType::Advertise);
    assert_eq!(url(&m).as_deref(), Some("tftp://[fe80::1]/grubx64.efi"));
    // RELAY-REPL, the request's hop count and addresses, then 18 and 9.
    assert_eq!(wire[0], 13);
    assert_eq!(&wire[1..34], &datagram[1..34]);
    let id = [&[0, 18, 0, 5][..], b"swp12"].concat();
    assert_eq!(&wire[34..43], &id[..]);
    assert_eq!(&wire[43..45], &[0, 9]);
    let inner = &wire[47..];
    assert_eq!(
        usize::from(u16::from_be_bytes([wire[45], wire[46]])),
        inner.len()
    );
    let back = <Message as dhcproto::Decodable>::decode(&mut dhcproto::Decoder::new(inner));
    assert_eq!(back.unwrap(), m);
    // Two relays: two levels back, the outer one first.
    let twice = relay_forw(1, b"uplink", &datagram);
    let (_, wire2) = respond(&cfg, &twice, LOCAL).reply.unwrap();
    assert_eq!((wire2[0], wire2[1]), (13, 1));
    assert!(
        wire2.ends_with(&wire),
        "the inner RELAY-REPL is the one-relay reply"
    );
    // A relayed message that is not a boot client's gets nothing, as direct.
    let plain = bytes(&request(MessageType::Solicit, None));
    assert!(respond(&cfg, &relay_forw(0, b"x", &plain), LOCAL)
        .reply
        .is_err());
    // A truncated envelope: no reply, the reason named.
    let why = respond(&cfg, &datagram[..datagram.len() - 3], LOCAL)
        .reply
        .unwrap_err();
    assert!(why.contains("runs past the end"), "{why}");
}

/// Found by the `dhcp6_respond` fuzz target: a vendor class (16) of 2 bytes made
/// dhcproto 0.15 subtract past zero (a panic with overflow checks on, the DHCPv6
/// task gone). The layout is checked first: no reply, the reason named.
#[test]
fn options_shorter_than_their_fixed_part_are_refused_before_decoding() {
    let cfg = config();
    for (code, body) in [
        (16u16, &[0u8, 0x10][..]),
        (13, &[0][..]),
        (17, &[0, 0, 1][..]),
    ] {
        let mut s = request(MessageType::Solicit, Some(7));
        s.opts_mut().insert(raw(code, body));
        let why = respond(&cfg, &bytes(&s), LOCAL).reply.unwrap_err();
        assert!(why.contains("shorter than its fixed"), "{code}: {why}");
        // The same inside a relay envelope.
        let relayed = relay_forw(0, b"p1", &bytes(&s));
        let why = respond(&cfg, &relayed, LOCAL).reply.unwrap_err();
        assert!(why.contains("shorter than its fixed"), "{code}: {why}");
    }
}

/// Found by the fuzz target too: a server unicast option (12) of 0 bytes, which
/// dhcproto 0.15 reads as 16 bytes, so that it then took part of the next option
/// for a vendor class of 2 bytes.
#[test]
fn a_fixed_size_option_of_another_length_is_refused_before_decoding() {
    let mut s = request(MessageType::Solicit, Some(7));
    s.opts_mut().insert(raw(12, &[]));
    let why = respond(&config(), &bytes(&s), LOCAL).reply.unwrap_err();
    assert!(why.contains("not its fixed 16 bytes"), "{why}");
    // The fuzzer's input (fuzz/corpus/dhcp6_respond/seed-found-unicast-of-0-bytes).
    let found: &[u8] = &[
        0xaa, 0x01, 0xbb, 0x25, 0x00, 0x01, 0x00, 0x0a, 0x00, 0x03, 0x00, 0x01, 0x52, 0x54, 0x00,
        0x12, 0x34, 0x56, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3d, 0x00, 0x03,
        0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x0c, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3d,
        0x00, 0x03, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00,
        0x0c, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x5b, 0x00, 0x27,
        0x00, 0x00, 0x01, 0x57, 0x00, 0x21, 0x48, 0x54, 0x54, 0x50, 0x43, 0x6c, 0x69, 0x65, 0x5d,
        0x74, 0x3a, 0x63, 0x68, 0x3a, 0x30, 0x30, 0x30, 0x33, 0x37, 0x3a, 0x55, 0x4e, 0x44, 0x98,
        0x3a, 0x30, 0x33, 0x30, 0x30, 0x33, 0x30, 0x2d, 0x31,
    ];
    let why = respond(&config(), found, LOCAL).reply.unwrap_err();
    assert!(why.contains("not its fixed"), "{why}");
}
