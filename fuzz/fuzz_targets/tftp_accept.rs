//! Arbitrary datagrams through the sans-IO accept step (`tftp::accept::accept`),
//! the decision a server takes for a datagram on its listening port, against an
//! in-memory source and with or without remap rules. Nothing may panic; a
//! datagram that is not an RRQ or WRQ is ignored (never answered from the
//! listening port); an accepted request's first transmit parses back with the
//! codec and is a packet a server may send first (ERROR, OACK, DATA 1 or ACK 0).
//!
//! Input: one setup byte (bit 0: remap rules on; bit 1: writes allowed; bit 2:
//! IPv6 client), then the datagram.
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use tftp::accept::{accept, AcceptConfig};
use tftp::packet::{Direction, Packet};
use tftp::remap::{Remap, RemapRules};
use tftp::source::MemorySource;

fn source() -> &'static MemorySource {
    static SOURCE: OnceLock<MemorySource> = OnceLock::new();
    SOURCE.get_or_init(|| {
        MemorySource::new()
            .with("pxelinux.0", vec![7u8; 1500])
            .with("pxelinux.cfg/default", &b"DEFAULT linux\n"[..])
            .with("empty", Vec::new())
    })
}

fn rules() -> Arc<dyn Remap> {
    static RULES: OnceLock<Arc<dyn Remap>> = OnceLock::new();
    RULES
        .get_or_init(|| {
            let text = b"rg \\\\ /\nr ^/+ \nri ^PXELINUX pxelinux\na ^secret refused here\n";
            Arc::new(RemapRules::parse(text).expect("the fixed rules parse"))
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, datagram)) = data.split_first() else {
        return;
    };
    let config = AcceptConfig {
        allow_write: setup & 2 != 0,
        remap: (setup & 1 != 0).then(rules),
        ..AcceptConfig::default()
    };
    let peer = if setup & 4 != 0 {
        SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 2070)
    } else {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 2070)
    };
    let now = Instant::now();
    let result = accept(datagram, peer, None, now, &config, source());
    let opcode = datagram.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
    let Ok(mut accepted) = result else {
        assert!(
            !matches!(opcode, Some(1 | 2)) || Packet::parse(datagram).is_err(),
            "a well-formed request was ignored"
        );
        return;
    };
    let expected = if opcode == Some(1) {
        Direction::Read
    } else {
        Direction::Write
    };
    assert_eq!(
        accepted.direction, expected,
        "direction differs from the opcode"
    );
    let mut buf = [0u8; 1024];
    let Some(tx) = accepted.transfer.poll_transmit(now, &mut buf) else {
        panic!("an accepted request has nothing to send");
    };
    assert_eq!(
        tx.destination, peer,
        "the first reply goes to the requester"
    );
    let mut wire = buf[..tx.len].to_vec();
    wire.extend_from_slice(&tx.payload);
    match Packet::parse(&wire) {
        Ok(Packet::Error { .. } | Packet::Oack(_)) => {}
        Ok(Packet::Data { block: 1, .. }) => assert_eq!(expected, Direction::Read),
        Ok(Packet::Ack { block: 0 }) => assert_eq!(expected, Direction::Write),
        Ok(other) => panic!("a server's first reply was {:?}", other.opcode()),
        Err(e) => panic!("the first reply does not parse: {e}"),
    }
    if accepted.refusal.is_none() {
        assert!(
            !accepted.served_name().is_empty(),
            "an empty name was served"
        );
    }
});
