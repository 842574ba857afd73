//! Decoding and classification of packets captured from real firmware (see tests/fixtures/README.md).

use dhcp_pxe::options::{
    Arch, ClientFamily, Feature, InterfaceId, MachineId, UserClass, VendorClass,
};
use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_strict, decode_tolerant, Client, Firmware};

use crate::support::{fixture, CAPTURES};

#[test]
fn every_capture_decodes_strictly_and_tolerantly_alike() {
    for name in CAPTURES {
        let b = fixture(name);
        let strict = decode_strict(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
        let tolerant = decode_tolerant(&b).unwrap();
        assert!(
            tolerant.dropped.is_empty(),
            "{name}: {:?}",
            tolerant.dropped
        );
        assert_eq!(strict, tolerant.message, "{name}");
    }
}

#[test]
fn every_capture_reencodes_stably() {
    for name in CAPTURES {
        let m1 = decode_strict(&fixture(name)).unwrap();
        let b1 = encode(&m1, &EncodeParams::default()).unwrap();
        let m2 = decode_strict(&b1).unwrap();
        let b2 = encode(&m2, &EncodeParams::default()).unwrap();
        assert_eq!(b1, b2, "{name}");
        let mut o1: Vec<_> = m1.options.iter().cloned().collect();
        let mut o2: Vec<_> = m2.options.iter().cloned().collect();
        o1.sort_by_key(|o| o.code);
        o2.sort_by_key(|o| o.code);
        assert_eq!(o1, o2, "{name}");
        assert_eq!((m1.xid, m1.chaddr, &m1.file), (m2.xid, m2.chaddr, &m2.file));
    }
}

#[test]
fn ipxe_bios_rom_discover() {
    let m = decode_strict(&fixture("ipxe-bios-discover.bin")).unwrap();
    assert_eq!(m.message_type(), Some(MessageType::Discover));
    assert_eq!(m.mac(), Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]));
    assert_eq!(m.max_message_size(), Some(1472));
    let c = Client::classify(&m);
    let Firmware::Ipxe { arch, features } = &c.firmware else {
        panic!("{:?}", c.firmware)
    };
    assert_eq!(*arch, Some(Arch::X86_BIOS));
    for f in [
        Feature::HTTP,
        Feature::TFTP,
        Feature::PXE,
        Feature::BZIMAGE,
        Feature::ISCSI,
    ] {
        assert!(features.contains(&f), "{f:?}");
    }
    assert!(!features.contains(&Feature::HTTPS));
    assert_eq!(c.ipxe.as_ref().and_then(|i| i.version()), Some((1, 0, 0)));
    assert_eq!(c.user_class, Some(UserClass::Raw(b"iPXE".to_vec())));
    assert_eq!(
        c.vendor_class,
        Some(VendorClass::Boot {
            family: ClientFamily::Pxe,
            arch: Some(Arch(0)),
            undi: Some((2, 1))
        })
    );
    assert_eq!(c.archs, [Arch(0)]);
    assert_eq!(
        c.interface,
        Some(InterfaceId {
            kind: 1,
            major: 2,
            minor: 1
        })
    );
    assert!(matches!(c.machine_id, Some(MachineId::Guid(_))));
    assert!(c.relay.is_none() && c.relay_addr.is_none());
}

#[test]
fn ipxe_requests_carry_50_and_54() {
    for name in ["ipxe-bios-request.bin", "ipxe-efi-x64-request.bin"] {
        let m = decode_strict(&fixture(name)).unwrap();
        assert_eq!(m.message_type(), Some(MessageType::Request), "{name}");
        assert_eq!(m.options.get(54), Some(&[192, 0, 2, 1][..]), "{name}");
        assert_eq!(m.options.get(50).map(<[u8]>::len), Some(4), "{name}");
        assert!(Client::classify(&m).firmware.is_ipxe(), "{name}");
    }
}

#[test]
fn ipxe_efi_driver_is_ipxe_on_x64() {
    let c = Client::classify(&decode_strict(&fixture("ipxe-efi-x64-discover.bin")).unwrap());
    assert!(matches!(
        c.firmware,
        Firmware::Ipxe {
            arch: Some(Arch(7)),
            ..
        }
    ));
    assert!(c.ipxe.unwrap().has(Feature::EFI));
}

#[test]
fn ovmf_uefi_pxe_discover_and_request() {
    let d = decode_strict(&fixture("ovmf-pxe-x64-discover.bin")).unwrap();
    let c = Client::classify(&d);
    assert_eq!(c.firmware, Firmware::UefiPxe(Arch::X64_UEFI));
    assert_eq!(c.message_type, Some(MessageType::Discover));
    assert_eq!(
        c.interface,
        Some(InterfaceId {
            kind: 1,
            major: 3,
            minor: 1
        })
    );
    assert!(c.machine_id.as_ref().and_then(MachineId::guid).is_some());
    assert!(c.user_class.is_none() && c.ipxe.is_none());
    assert_eq!(d.parameter_request_list().len(), 35);
    let r = Client::classify(&decode_strict(&fixture("ovmf-pxe-x64-request.bin")).unwrap());
    assert_eq!(r.firmware, Firmware::UefiPxe(Arch(7)));
    assert_eq!(r.message_type, Some(MessageType::Request));
}

#[test]
fn ovmf_http_boot_discover_and_request() {
    for (name, ty) in [
        ("ovmf-http-x64-discover.bin", MessageType::Discover),
        ("ovmf-http-x64-request.bin", MessageType::Request),
    ] {
        let c = Client::classify(&decode_strict(&fixture(name)).unwrap());
        assert_eq!(
            c.firmware,
            Firmware::UefiHttp(Arch::X64_UEFI_HTTP),
            "{name}"
        );
        assert_eq!(c.message_type, Some(ty));
        assert_eq!(
            c.vendor_class.as_ref().and_then(VendorClass::family),
            Some(ClientFamily::Http)
        );
    }
}

#[test]
fn dnsmasq_offer_is_a_reply_with_53_first() {
    let m = decode_strict(&fixture("dnsmasq-offer-to-ipxe-bios.bin")).unwrap();
    assert_eq!(m.message_type(), Some(MessageType::Offer));
    assert_eq!(m.options.iter().next().map(|o| o.code), Some(53));
    // dnsmasq writes option 67 with a trailing NUL (RFC 2132 §2 says options are not
    // NUL-terminated); the decoder keeps the bytes as sent.
    assert_eq!(m.options.get(67), Some(&b"nonexistent.file\0"[..]));
}

#[test]
fn dnsmasq_pxe_offer_option_43_is_typed() {
    let m = decode_strict(&fixture("dnsmasq-offer-to-ovmf-pxe.bin")).unwrap();
    let v = dhcp_pxe::options::VendorOptions::decode(m.options.get(43).unwrap()).unwrap();
    assert_eq!(
        v.0,
        [dhcp_pxe::options::VendorOption::MenuPrompt {
            timeout: 0,
            prompt: b"Booting".to_vec()
        }]
    );
    assert_eq!(m.options.get(60), Some(&b"PXEClient"[..]));
}
