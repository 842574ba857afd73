//! Replay of arbitrary bytes as a DHCPv6 lease file (`dhcp6.leases`) never
//! panics, ends its good part within the input, and the bindings a full-mode
//! server restores from what it accepts never give one address to two IAs
//! nor two addresses to one IA, and stay in its range.
#![no_main]
use std::net::Ipv6Addr;

use dhcp_pxe::Policy;
use dhcp_server::v6::{replay6, server_duid_ll, FullServer6, FullV6, Range6, V6Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = replay6(data) else { return };
    assert!(r.good_end <= data.len());
    let mut c = V6Config::new(server_duid_ll([2, 0, 0, 0, 0, 1]), Policy::new(vec![]));
    let range = Range6::new(
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x1ff),
    )
    .unwrap();
    c.full = Some(FullV6::new(range));
    let mut s = FullServer6::new(c).unwrap();
    s.restore(r.records);
    for b in s.bindings().iter() {
        assert!(s.bindings().range().contains(b.addr), "{b:?}");
        assert_eq!(s.bindings().of(&b.ia).map(|o| o.addr), Some(b.addr), "{b:?}");
    }
    let _ = s.bindings().live(1_800_000_000);
});
