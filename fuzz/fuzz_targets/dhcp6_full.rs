//! Arbitrary datagrams through the full-mode DHCPv6 server, twice (the second
//! time an hour later, as a renewing or rebinding client would come back).
//! Nothing may panic; every binding it asks to write is an address of its
//! range; its bindings never give one address to two IAs nor two addresses
//! to one IA; a reply to a client passes the layout check and decodes.
#![no_main]
use std::net::Ipv6Addr;

use dhcp_pxe::boot_class::{policy, BootFile};
use dhcp_pxe::v6::check_layout;
use dhcp_pxe::v6::relay::RELAY_REPL;
use dhcp_server::v6::{server_duid_ll, FullServer6, FullV6, Range6, V6Config};
use libfuzzer_sys::fuzz_target;

const LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const NOW: u64 = 1_800_000_000;

fn server() -> FullServer6 {
    let files: Vec<BootFile> = ["efi-x64=grubx64.efi", "bootx64.efi"]
        .iter()
        .map(|f| f.parse().unwrap())
        .collect();
    let mut c = V6Config::new(server_duid_ll([2, 0, 0, 0, 0, 1]), policy(&files, None));
    // A range of four: exhaustion is reached by a handful of IAs.
    let range = Range6::new(
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x103),
    )
    .unwrap();
    let mut full = FullV6::new(range);
    full.rapid_commit = true;
    c.full = Some(full);
    FullServer6::new(c).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let mut s = server();
    for now in [NOW, NOW + 3600] {
        let out = s.handle(now, data, LOCAL);
        for b in &out.commit {
            assert!(s.bindings().range().contains(b.addr), "{b:?} outside the range");
        }
        if let Ok((m, bytes)) = out.reply {
            if out.relays.is_empty() {
                // What a client reads: it passes the layout check and decodes.
                assert!(check_layout(&bytes).is_ok(), "{m:?}");
                let back = <dhcproto::v6::Message as dhcproto::Decodable>::decode(
                    &mut dhcproto::Decoder::new(&bytes),
                );
                assert!(back.is_ok(), "the reply to {m:?} does not decode");
            } else {
                // Relay envelopes are dhcp6_respond's subject.
                assert_eq!(bytes[0], RELAY_REPL);
            }
        }
        for b in s.bindings().iter() {
            assert_eq!(s.bindings().of(&b.ia).map(|o| o.addr), Some(b.addr), "{b:?}");
            assert_eq!(s.bindings().at(b.addr).map(|o| &o.ia), Some(&b.ia));
        }
    }
});
