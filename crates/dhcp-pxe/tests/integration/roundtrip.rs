//! proptest: encode → decode round trips for every typed option and for whole messages.

use std::net::Ipv4Addr;

use dhcp_pxe::options::vendor::{BootServer, DiscoveryControl, MenuItem};
use dhcp_pxe::options::{
    Arch, ArchList, ClientFamily, InterfaceId, IpxeOptions, MachineId, PxeOption, RelayInfo,
    UserClass, VendorClass, VendorOption, VendorOptions,
};
use dhcp_pxe::wire::code::spec;
use dhcp_pxe::wire::encode::{encode, option_order, EncodeParams};
use dhcp_pxe::{decode_strict, Error, Message};
use proptest::prelude::*;

fn ip() -> impl Strategy<Value = Ipv4Addr> {
    any::<u32>().prop_map(Ipv4Addr::from)
}

fn vendor_option() -> impl Strategy<Value = VendorOption> {
    prop_oneof![
        ip().prop_map(VendorOption::MtftpIp),
        any::<u16>().prop_map(VendorOption::MtftpClientPort),
        any::<u16>().prop_map(VendorOption::MtftpServerPort),
        any::<u8>().prop_map(VendorOption::MtftpTimeout),
        any::<u8>().prop_map(VendorOption::MtftpDelay),
        any::<u8>().prop_map(|b| VendorOption::DiscoveryControl(DiscoveryControl(b))),
        ip().prop_map(VendorOption::MulticastAddr),
        prop::collection::vec(
            (any::<u16>(), prop::collection::vec(ip(), 0..4))
                .prop_map(|(kind, addrs)| BootServer { kind, addrs }),
            0..4
        )
        .prop_map(VendorOption::BootServers),
        prop::collection::vec(
            (any::<u16>(), prop::collection::vec(any::<u8>(), 0..20))
                .prop_map(|(kind, description)| MenuItem { kind, description }),
            0..4
        )
        .prop_map(VendorOption::BootMenu),
        (any::<u8>(), prop::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(timeout, prompt)| VendorOption::MenuPrompt { timeout, prompt }),
        (any::<u16>(), any::<u16>())
            .prop_map(|(kind, layer)| VendorOption::BootItem { kind, layer }),
        // Raw sub-options use codes without a typed meaning.
        (11u8..=70, prop::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(code, data)| VendorOption::Raw { code, data }),
    ]
}

fn sub_options() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    prop::collection::vec((1u8..=254, prop::collection::vec(any::<u8>(), 0..30)), 0..8)
}

proptest! {
    #[test]
    fn arch_list(v in prop::collection::vec(any::<u16>(), 1..8)) {
        let l = ArchList(v.into_iter().map(Arch).collect());
        prop_assert_eq!(ArchList::decode(&l.encode()).unwrap(), l);
    }

    #[test]
    fn interface_id(kind: u8, major: u8, minor: u8) {
        let i = InterfaceId { kind, major, minor };
        prop_assert_eq!(InterfaceId::decode(&i.encode()).unwrap(), i);
    }

    #[test]
    fn vendor_class_boot(http: bool, arch in prop::option::of(0u16..=65535), undi in prop::option::of((0u16..1000, 0u16..1000))) {
        let family = if http { ClientFamily::Http } else { ClientFamily::Pxe };
        let v = VendorClass::Boot { family, arch: arch.map(Arch), undi: if arch.is_some() { undi } else { None } };
        prop_assert_eq!(VendorClass::decode(&v.encode()), v);
    }

    #[test]
    fn vendor_class_any_bytes_survive(b in prop::collection::vec(any::<u8>(), 0..64)) {
        prop_assert_eq!(VendorClass::decode(&b).encode(), b);
    }

    #[test]
    fn machine_id(g: [u8; 16], other in prop::collection::vec(any::<u8>(), 0..20)) {
        let m = MachineId::Guid(g);
        prop_assert_eq!(MachineId::decode(&m.encode()), m);
        prop_assert_eq!(MachineId::decode(&other).encode(), other);
    }

    #[test]
    fn user_class(items in prop::collection::vec(prop::collection::vec(any::<u8>(), 1..20), 1..5), raw in prop::collection::vec(any::<u8>(), 0..20)) {
        let u = UserClass::Rfc3004(items);
        prop_assert_eq!(UserClass::decode(&u.encode().unwrap()), u);
        prop_assert_eq!(UserClass::decode(&raw).encode().unwrap(), raw);
    }

    #[test]
    fn vendor_options(v in prop::collection::vec(vendor_option(), 0..6)) {
        let v = VendorOptions(v);
        prop_assert_eq!(VendorOptions::decode(&v.encode().unwrap()).unwrap(), v);
    }

    #[test]
    fn ipxe_options(s in sub_options()) {
        let s: Vec<_> = s.into_iter().filter(|(c, _)| *c != 255).collect();
        let o = IpxeOptions(s);
        prop_assert_eq!(IpxeOptions::decode(&o.encode().unwrap()).unwrap(), o);
    }

    #[test]
    fn relay_info(s in sub_options()) {
        let r = RelayInfo::from_sub_options(s).unwrap();
        prop_assert_eq!(RelayInfo::decode(&r.encode()).unwrap(), r);
    }

    #[test]
    fn pxe_option_raw_round_trip(code: u8, data in prop::collection::vec(any::<u8>(), 0..40)) {
        // Whatever a typed option makes of the bytes, writing it back gives a payload
        // that types to the same value.
        let o = PxeOption::from_raw(code, &data);
        let again = PxeOption::from_raw(code, &o.to_raw().unwrap());
        prop_assert_eq!(again, o);
    }

    #[test]
    fn whole_message(
        xid: u32, secs: u16, flags: u16, ips: [u32; 4], chaddr: [u8; 16],
        file in prop::collection::vec(1u8..=255, 0..127),
        sname in prop::collection::vec(1u8..=255, 0..63),
        opts in prop::collection::vec((1u8..=254, prop::collection::vec(any::<u8>(), 0..300)), 0..12),
        order in prop::collection::vec(any::<u8>(), 0..10),
        max in prop::option::of(576u16..=1500),
    ) {
        let mut m = Message { xid, secs, flags: flags.into(), chaddr, file, sname, ..Message::default() };
        m.ciaddr = ips[0].into(); m.yiaddr = ips[1].into(); m.siaddr = ips[2].into(); m.giaddr = ips[3].into();
        for (code, data) in opts {
            let valid = code != 52 && spec(code).is_none_or(|s| s.payload.check(data.len()).is_ok());
            if valid { m.options.insert(code, data); }
        }
        let params = EncodeParams { request_order: &order, max_len: dhcp_pxe::wire::encode::size_limit(max) };
        match encode(&m, &params) {
            Ok(b) => {
                prop_assert!(b.len() >= 300 && b.len() <= params.max_len);
                let back = decode_strict(&b).unwrap();
                let expected: Vec<_> = option_order(&m, &order).into_iter().cloned().collect();
                let got: Vec<_> = back.options.iter().cloned().collect();
                prop_assert_eq!(got, expected);
                prop_assert_eq!((back.xid, back.secs, back.flags, back.chaddr), (m.xid, m.secs, m.flags, m.chaddr));
                prop_assert_eq!((back.ciaddr, back.yiaddr, back.siaddr, back.giaddr), (m.ciaddr, m.yiaddr, m.siaddr, m.giaddr));
                prop_assert_eq!((&back.file, &back.sname), (&m.file, &m.sname));
            }
            Err(Error::TooLarge { .. }) => {}
            Err(e) => prop_assert!(false, "unexpected {e}"),
        }
    }

    #[test]
    fn no_input_panics(b in prop::collection::vec(any::<u8>(), 0..700)) {
        let _ = decode_strict(&b);
        let _ = dhcp_pxe::decode_tolerant(&b);
    }

    #[test]
    fn mutated_captures_never_panic_and_reencode_stably(idx in 0usize..crate::support::CAPTURES.len(), flips in prop::collection::vec((0usize..420, any::<u8>()), 1..6)) {
        let mut b = crate::support::fixture(crate::support::CAPTURES[idx]);
        for (i, v) in flips { if let Some(x) = b.get_mut(i) { *x = v; } }
        if let Ok(d) = dhcp_pxe::decode_tolerant(&b) {
            if let Ok(b1) = encode(&d.message, &EncodeParams::default()) {
                let m2 = decode_strict(&b1).unwrap();
                prop_assert_eq!(encode(&m2, &EncodeParams::default()).unwrap(), b1);
            }
        }
    }
}
