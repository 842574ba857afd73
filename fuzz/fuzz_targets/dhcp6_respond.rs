//! Arbitrary datagrams through the stateless DHCPv6 responder, relay envelopes
//! included. Nothing may panic, and a reply keeps the request's shape: through
//! relays a RELAY-REPL per RELAY-FORW whose innermost content is the client's
//! message that was decided, byte for byte; that message decodes.
#![no_main]
use std::net::Ipv6Addr;

use dhcp_pxe::boot_class::{policy, BootFile};
use dhcp_pxe::v6::relay::{RELAY_MSG, RELAY_REPL};
use dhcp_server::v6::{respond, server_duid_ll, V6Config};
use libfuzzer_sys::fuzz_target;

const LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

fn config() -> V6Config {
    let files: Vec<BootFile> = [
        "efi-x64=grubx64.efi",
        "http-x64=http://[2001:db8::5]/x64.efi",
        "ipxe=http://[2001:db8::5]/boot.ipxe",
        "bootx64.efi",
    ]
    .iter()
    .map(|f| f.parse().unwrap())
    .collect();
    let mut c = V6Config::new(server_duid_ll([2, 0, 0, 0, 0, 1]), policy(&files, None));
    c.dns = vec![Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53)];
    c
}

/// The content of the last Relay Message option of a RELAY-REPL.
fn inner(reply: &[u8]) -> &[u8] {
    let mut at = 34;
    let mut found = &reply[reply.len()..];
    while at + 4 <= reply.len() {
        let code = u16::from_be_bytes([reply[at], reply[at + 1]]);
        let len = usize::from(u16::from_be_bytes([reply[at + 2], reply[at + 3]]));
        let data = &reply[at + 4..at + 4 + len];
        if code == RELAY_MSG {
            found = data;
        }
        at += 4 + len;
    }
    assert_eq!(at, reply.len(), "options fill the relay reply");
    found
}

fuzz_target!(|data: &[u8]| {
    let cfg = config();
    let out = respond(&cfg, data, LOCAL);
    let Ok((m, mut bytes)) = out.reply else {
        return;
    };
    for _ in &out.relays {
        assert_eq!(bytes[0], RELAY_REPL);
        bytes = inner(&bytes).to_vec();
    }
    // The client's message, byte for byte as encoded, and one a client can read.
    // (Compared as bytes: dhcproto 0.15 decodes some options it encodes typed,
    // 32 for one, as unknown ones.)
    assert_eq!(bytes, dhcproto::Encodable::to_vec(&m).unwrap());
    let back = <dhcproto::v6::Message as dhcproto::Decodable>::decode(
        &mut dhcproto::Decoder::new(&bytes),
    );
    assert_eq!(back.map(|b| b.xid()).ok(), Some(m.xid()));
});
