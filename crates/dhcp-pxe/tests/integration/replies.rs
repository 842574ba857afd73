//! Policy decisions and replies for the real firmware captures.

use std::net::Ipv4Addr;

use dhcp_pxe::explain::Outcome;
use dhcp_pxe::reply::{answer, ReplyKind, ReplyParams};
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, Client};

use crate::support::{fixture, lab_policy, wire_codes, SCRIPT, SERVER};

fn proxy_offer(name: &str) -> dhcp_pxe::reply::Answer {
    answer(
        &fixture(name),
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyOffer, SERVER),
    )
    .unwrap()
}

/// Checks what every reply must satisfy on the wire.
fn check_wire(bytes: &[u8], request: &dhcp_pxe::Message) {
    assert!(bytes.len() >= 300);
    assert!(bytes.len() <= dhcp_pxe::wire::encode::size_limit(request.max_message_size()));
    let codes = wire_codes(bytes);
    assert_eq!(&codes[..2], &[53, 54]);
    // After 53/54, requested options come in the client's order, before the others.
    let prl = request.parameter_request_list();
    let rest = &codes[2..];
    let requested: Vec<u8> = rest
        .iter()
        .copied()
        .take_while(|c| prl.contains(c))
        .collect();
    let mut expected: Vec<u8> = prl
        .iter()
        .copied()
        .filter(|c| rest.contains(c) && *c != 82)
        .collect();
    expected.dedup();
    assert_eq!(requested, expected);
    assert_eq!(bytes[108 + 127], 0, "file NUL-terminated");
    assert_eq!(bytes[44 + 63], 0, "sname NUL-terminated");
    let back = decode_strict(bytes).unwrap();
    assert_eq!(back.xid, request.xid);
    assert_eq!(back.chaddr, request.chaddr);
}

#[test]
fn ipxe_bios_gets_the_script_not_the_binary() {
    let a = proxy_offer("ipxe-bios-discover.bin");
    assert_eq!(a.decision.explanation.chosen(), Some("ipxe-script"));
    assert_eq!(a.reply.message.file, SCRIPT.as_bytes());
    // iPXE asked for 67, so it is there too.
    assert_eq!(a.reply.message.options.get(67), Some(SCRIPT.as_bytes()));
    assert!(a.reply.message.options.get(43).is_none());
    assert_eq!(a.reply.message.options.get(60), Some(&b"PXEClient"[..]));
    check_wire(&a.bytes, &a.request);
    let v = &a.decision.explanation.verdicts[0];
    assert_eq!(v.rule, "ipxe-https");
    assert!(matches!(&v.outcome, Outcome::NotMatched(w) if w[0].contains("HTTPS")));
}

#[test]
fn ovmf_pxe_proxy_offer() {
    let a = proxy_offer("ovmf-pxe-x64-discover.bin");
    let m = &a.reply.message;
    assert_eq!(a.decision.explanation.chosen(), Some("uefi-x64"));
    assert_eq!(m.message_type(), Some(MessageType::Offer));
    assert_eq!(m.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.siaddr, SERVER);
    assert_eq!(m.file, b"ipxe.efi");
    assert_eq!(m.sname, b"tftp.example.test");
    assert_eq!(m.options.get(54), Some(&SERVER.octets()[..]));
    assert_eq!(m.options.get(60), Some(&b"PXEClient"[..]));
    assert_eq!(m.options.get(97), a.request.options.get(97));
    assert_eq!(m.options.get(43), Some(&[6, 1, 8, 255][..]));
    assert!(m.options.get(51).is_none(), "no lease in a proxy offer");
    check_wire(&a.bytes, &a.request);
    let text = a.decision.explanation.to_string();
    assert!(
        text.contains("ipxe-script: no match: client is not iPXE"),
        "{text}"
    );
    assert!(text.contains("uefi-x64: chosen"), "{text}");
    assert!(text.contains("http-boot: not reached"), "{text}");
}

#[test]
fn ovmf_pxe_can_be_sent_to_port_4011() {
    let mut p = ReplyParams::new(ReplyKind::ProxyOffer, SERVER);
    p.uefi_via_4011 = true;
    let a = answer(&fixture("ovmf-pxe-x64-discover.bin"), &lab_policy(), &p).unwrap();
    assert!(a.reply.message.options.get(43).is_none());
    assert_eq!(a.reply.message.options.get(60), Some(&b"PXEClient"[..]));
}

#[test]
fn ovmf_http_full_offer_and_ack() {
    for (name, kind, ty) in [
        (
            "ovmf-http-x64-discover.bin",
            ReplyKind::Offer,
            MessageType::Offer,
        ),
        (
            "ovmf-http-x64-request.bin",
            ReplyKind::Ack,
            MessageType::Ack,
        ),
    ] {
        let mut p = ReplyParams::new(kind, SERVER);
        p.yiaddr = Ipv4Addr::new(192, 0, 2, 100);
        p.options = vec![
            (51, 3600u32.to_be_bytes().to_vec()),
            (1, vec![255, 255, 255, 0]),
            (3, SERVER.octets().to_vec()),
        ];
        let a = answer(&fixture(name), &lab_policy(), &p).unwrap();
        let m = &a.reply.message;
        assert_eq!(m.message_type(), Some(ty), "{name}");
        assert_eq!(m.yiaddr, p.yiaddr);
        assert_eq!(m.options.get(60), Some(&b"HTTPClient"[..]));
        assert_eq!(m.file, b"http://192.0.2.1/ipxe.efi");
        assert_eq!(
            m.siaddr,
            Ipv4Addr::UNSPECIFIED,
            "HTTP boot needs no TFTP server"
        );
        assert_eq!(m.options.get(51), Some(&3600u32.to_be_bytes()[..]));
        assert!(m.options.get(43).is_none());
        check_wire(&a.bytes, &a.request);
        // OVMF asks 1, 2, 3 … in that order: the reply follows it.
        let codes = wire_codes(&a.bytes);
        assert_eq!(&codes[..5], &[53, 54, 1, 3, 51]);
    }
}

#[test]
fn ovmf_port_4011_request_gets_the_boot_file_without_43() {
    let req = decode_strict(&fixture("ovmf-pxe-x64-request-4011.bin")).unwrap();
    assert_eq!(req.ciaddr, Ipv4Addr::new(192, 0, 2, 114));
    assert!(!req.broadcast());
    let c = Client::classify(&req);
    assert_eq!(
        c.firmware,
        dhcp_pxe::Firmware::UefiPxe(dhcp_pxe::options::Arch(7))
    );
    assert!(c.vendor.is_none(), "OVMF sends no 43.71");
    let a = answer(
        &fixture("ovmf-pxe-x64-request-4011.bin"),
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyAck, SERVER),
    )
    .unwrap();
    let m = &a.reply.message;
    assert_eq!(m.message_type(), Some(MessageType::Ack));
    assert_eq!((m.ciaddr, m.yiaddr), (req.ciaddr, Ipv4Addr::UNSPECIFIED));
    assert_eq!(m.flags, req.flags);
    assert_eq!(m.file, b"ipxe.efi");
    assert_eq!(m.siaddr, SERVER);
    assert!(m.options.get(43).is_none());
    assert_eq!(m.options.get(60), Some(&b"PXEClient"[..]));
    assert_eq!(m.options.get(97), req.options.get(97));
    check_wire(&a.bytes, &a.request);
}

#[test]
fn port_4011_ack_echoes_boot_item() {
    // The captured OVMF port-4011 REQUEST, with 43.71 added as PXE 2.1 boot server
    // discovery sends it (OVMF's BINL request has none).
    let mut req = decode_strict(&fixture("ovmf-pxe-x64-request-4011.bin")).unwrap();
    req.options
        .insert(43, vec![71, 4, 0x80, 0x00, 0x00, 0x00, 255]);
    let client = Client::classify(&req);
    let d = lab_policy().decide(&client);
    let r = dhcp_pxe::build_reply(
        &req,
        &client,
        &d,
        &ReplyParams::new(ReplyKind::ProxyAck, SERVER),
    )
    .unwrap();
    let m = &r.message;
    assert_eq!(m.message_type(), Some(MessageType::Ack));
    assert_eq!(m.ciaddr, req.ciaddr);
    assert_eq!(m.options.get(43), Some(&[71, 4, 0x80, 0, 0, 0, 255][..]));
    assert_eq!(m.file, b"ipxe.efi");
    check_wire(&r.to_bytes().unwrap(), &req);
}

#[test]
fn plain_client_gets_no_proxy_offer() {
    let mut req = decode_strict(&fixture("ovmf-pxe-x64-discover.bin")).unwrap();
    req.options.remove(60);
    req.options.remove(93);
    let c = Client::classify(&req);
    assert!(!c.is_boot_client());
    let d = lab_policy().decide(&c);
    assert!(dhcp_pxe::build_reply(
        &req,
        &c,
        &d,
        &ReplyParams::new(ReplyKind::ProxyOffer, SERVER)
    )
    .is_err());
    // A full offer is still possible, without boot information.
    let mut p = ReplyParams::new(ReplyKind::Offer, SERVER);
    p.yiaddr = Ipv4Addr::new(192, 0, 2, 101);
    let r = dhcp_pxe::build_reply(&req, &c, &d, &p).unwrap();
    assert!(r.message.file.is_empty() && r.message.options.get(60).is_none());
}

#[test]
fn ipxe_port_4011_request_gets_an_ack_with_the_script() {
    let req = decode_strict(&fixture("ipxe-efi-x64-request-4011.bin")).unwrap();
    assert_eq!(req.ciaddr, Ipv4Addr::new(192, 0, 2, 113));
    let c = Client::classify(&req);
    assert!(matches!(
        c.firmware,
        dhcp_pxe::Firmware::Ipxe {
            arch: Some(dhcp_pxe::options::Arch(7)),
            ..
        }
    ));
    assert_eq!(
        c.vendor_class.as_ref().and_then(|v| v.arch()),
        None,
        "bare PXEClient"
    );
    assert!(c.vendor.is_none(), "iPXE sends no 43.71");
    let a = answer(
        &fixture("ipxe-efi-x64-request-4011.bin"),
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyAck, SERVER),
    )
    .unwrap();
    let m = &a.reply.message;
    assert_eq!(m.message_type(), Some(MessageType::Ack));
    assert_eq!(m.ciaddr, req.ciaddr);
    assert_eq!(m.yiaddr, Ipv4Addr::UNSPECIFIED);
    assert_eq!(m.flags, req.flags, "a 4011 ACK keeps the request flags");
    assert_eq!(m.file, SCRIPT.as_bytes());
    assert!(m.options.get(43).is_none());
    check_wire(&a.bytes, &a.request);
}

#[test]
fn explanation_text_for_ovmf_pxe_is_the_documented_one() {
    let a = proxy_offer("ovmf-pxe-x64-discover.bin");
    let expected = "\
client: UEFI PXE arch 7 (x64 UEFI), MAC 52:54:00:12:34:57
  ipxe-https: no match: client is not iPXE; iPXE feature HTTPS not announced
  ipxe-script: no match: client is not iPXE
  raspberry-pi: no match: firmware UEFI PXE arch 7 (x64 UEFI) is not one of [RaspberryPi]
  bios: no match: firmware UEFI PXE arch 7 (x64 UEFI) is not one of [BiosPxe]
  uefi-x64: chosen
  uefi-arm64: not reached
  http-boot: not reached
";
    assert_eq!(a.decision.explanation.to_string(), expected);
}

#[test]
fn arm64_http_boot_gets_its_own_url_in_full_and_proxy_replies() {
    use dhcp_pxe::boot_class::policy;
    use dhcp_pxe::policy::Policy;
    // The OVMF HTTP boot DISCOVER as an ARM64 machine sends it: architecture 19.
    let mut req = decode_strict(&fixture("ovmf-http-x64-discover.bin")).unwrap();
    req.options
        .insert(60, b"HTTPClient:Arch:00019:UNDI:003001".to_vec());
    req.options.insert(93, vec![0, 19]);
    let files: Vec<_> = [
        "http-x64=http://192.0.2.1/x64.efi",
        "http-arm64=http://192.0.2.1/aa64.efi",
    ]
    .iter()
    .map(|f| f.parse().unwrap())
    .collect();
    let p: Policy = policy(&files, None);
    let client = Client::classify(&req);
    let d = p.decide(&client);
    assert_eq!(d.explanation.chosen(), Some("http-arm64"));
    for kind in [ReplyKind::Offer, ReplyKind::ProxyOffer] {
        let mut params = ReplyParams::new(kind, SERVER);
        if kind == ReplyKind::Offer {
            params.yiaddr = Ipv4Addr::new(192, 0, 2, 100);
        }
        let r = dhcp_pxe::build_reply(&req, &client, &d, &params).unwrap();
        let m = &r.message;
        assert_eq!(m.options.get(60), Some(&b"HTTPClient"[..]), "{kind:?}");
        assert_eq!(m.file, b"http://192.0.2.1/aa64.efi", "{kind:?}");
        assert_eq!(m.yiaddr, params.yiaddr);
    }
}
