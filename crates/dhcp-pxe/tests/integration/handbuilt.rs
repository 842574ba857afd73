//! Hand-built packets (NOT captured from firmware): Raspberry Pi, ARM64 UEFI, iPXE with
//! HTTPS in 175 and RFC 3004-framed 77, and a relayed request. Their contents follow
//! ../shared/notes/dhcp-pxe.md and the RFCs; each is written byte by byte by `raw_packet`.

use std::net::Ipv4Addr;

use dhcp_pxe::options::{Arch, Feature, RelayInfo, VendorOptions};
use dhcp_pxe::reply::{answer, ReplyKind, ReplyParams};
use dhcp_pxe::{decode_strict, Client, Firmware};

use crate::support::{lab_policy, raw_packet, wire_codes, SERVER};

const GUID: [u8; 17] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

/// A Raspberry Pi 4 boot ROM: arch 0, Pi OUI, no parameter request list.
fn raspberry_pi() -> Vec<u8> {
    raw_packet(
        [0xdc, 0xa6, 0x32, 0x01, 0x02, 0x03],
        0x2604_0001,
        [0; 4],
        &[
            (53, &[1]),
            (93, &[0, 0]),
            (97, &GUID),
            (60, b"PXEClient:Arch:00000:UNDI:002001"),
        ],
    )
}

fn arm64_uefi() -> Vec<u8> {
    raw_packet(
        [0x02, 0, 0, 0, 0, 0x64],
        0x6464_0001,
        [0; 4],
        &[
            (53, &[1]),
            (55, &[1, 3, 43, 60, 66, 67]),
            (93, &[0, 11]),
            (94, &[1, 3, 0]),
            (60, b"PXEClient:Arch:00011:UNDI:003000"),
        ],
    )
}

fn ipxe_https() -> Vec<u8> {
    raw_packet(
        [0x02, 0, 0, 0, 0, 0x17],
        0x1750_0001,
        [0; 4],
        &[
            (53, &[1]),
            (77, &[4, b'i', b'P', b'X', b'E']),
            (
                175,
                &[
                    0x13, 1, 1, 0x14, 1, 1, 0x15, 1, 1, 0x24, 1, 1, 235, 3, 1, 21, 1,
                ],
            ),
            (93, &[0, 7]),
            (60, b"PXEClient:Arch:00007:UNDI:003010"),
        ],
    )
}

fn relayed() -> Vec<u8> {
    raw_packet(
        [0x52, 0x54, 0, 0xaa, 0xbb, 0xcc],
        0x0082_0001,
        [198, 18, 0, 1],
        &[
            (53, &[1]),
            (55, &[67, 66, 43, 60]),
            (93, &[0, 0]),
            (60, b"PXEClient:Arch:00000:UNDI:002001"),
            (
                82,
                &[
                    1, 6, b'v', b'l', b'a', b'n', b'1', b'0', 2, 4, 0xde, 0xad, 0xbe, 0xef,
                ],
            ),
        ],
    )
}

#[test]
fn raspberry_pi_gets_its_option_43_without_asking() {
    let b = raspberry_pi();
    let c = Client::classify(&decode_strict(&b).unwrap());
    assert_eq!(c.firmware, Firmware::RaspberryPi);
    let a = answer(
        &b,
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyOffer, SERVER),
    )
    .unwrap();
    assert_eq!(a.decision.explanation.chosen(), Some("raspberry-pi"));
    let v43 = a.reply.message.options.get(43).unwrap();
    assert!(VendorOptions::decode(v43).unwrap().is_raspberry_pi());
    assert_eq!(&v43[..5], &[9, 20, 0, 0, 17]);
    assert_eq!(a.reply.message.options.get(60), Some(&b"PXEClient"[..]));
    assert_eq!(a.reply.message.options.get(97), Some(&GUID[..]));
    // No option 55: 43, 60 and 97 are sent anyway.
    let codes = wire_codes(&a.bytes);
    assert!(codes.contains(&43) && codes.contains(&60) && codes.contains(&97));
    assert_eq!(a.reply.message.file, b"bootcode.bin");
}

#[test]
fn arm64_uefi_picks_the_arm64_rule() {
    let a = answer(
        &arm64_uefi(),
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyOffer, SERVER),
    )
    .unwrap();
    assert_eq!(a.client.firmware, Firmware::UefiPxe(Arch::ARM64_UEFI));
    assert_eq!(a.decision.explanation.chosen(), Some("uefi-arm64"));
    assert_eq!(a.reply.message.file, b"ipxe-arm64.efi");
    assert_eq!(a.reply.message.siaddr, Ipv4Addr::new(192, 0, 2, 9));
    assert!(
        a.reply.message.options.get(97).is_none(),
        "no 97 sent, none echoed"
    );
    assert_eq!(wire_codes(&a.bytes), [53, 54, 43, 60, 67]);
}

#[test]
fn ipxe_with_https_gets_the_https_script() {
    let a = answer(
        &ipxe_https(),
        &lab_policy(),
        &ReplyParams::new(ReplyKind::ProxyOffer, SERVER),
    )
    .unwrap();
    let Firmware::Ipxe { arch, features } = &a.client.firmware else {
        panic!()
    };
    assert_eq!(*arch, Some(Arch(7)));
    assert!(features.contains(&Feature::HTTPS));
    assert_eq!(a.client.ipxe.as_ref().unwrap().version(), Some((1, 21, 1)));
    assert_eq!(a.decision.explanation.chosen(), Some("ipxe-https"));
    assert_eq!(a.reply.message.file, b"https://192.0.2.1/secure.ipxe");
}

#[test]
fn relayed_request_keeps_and_echoes_82_last() {
    let b = relayed();
    let req = decode_strict(&b).unwrap();
    let c = Client::classify(&req);
    assert_eq!(c.relay_addr, Some(Ipv4Addr::new(198, 18, 0, 1)));
    let relay: &RelayInfo = c.relay.as_ref().unwrap();
    assert_eq!(relay.circuit_id(), Some(&b"vlan10"[..]));
    assert_eq!(relay.remote_id(), Some(&[0xde, 0xad, 0xbe, 0xef][..]));
    let mut p = ReplyParams::new(ReplyKind::Offer, SERVER);
    p.yiaddr = Ipv4Addr::new(198, 18, 0, 50);
    let a = answer(&b, &lab_policy(), &p).unwrap();
    assert_eq!(a.reply.message.giaddr, Ipv4Addr::new(198, 18, 0, 1));
    let codes = wire_codes(&a.bytes);
    assert_eq!(codes.last(), Some(&82));
    assert_eq!(&codes[..6], &[53, 54, 67, 43, 60, 82]);
    assert_eq!(a.reply.message.options.get(82), req.options.get(82));
}
