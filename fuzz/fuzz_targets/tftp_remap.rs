//! Remap rule files (`tftpd -m`): any bytes as a rule file must parse or give
//! a line-numbered error without panicking, and rules that parse must map any
//! name, for either direction and address family, without panicking, within
//! the step limit (256 here) and with no result longer than `MAX_NAME_LEN` unless the
//! name already was (a runaway rule is refused, never run on).
//!
//! Input: the rule file, then optionally `0xFF` and names separated by `0xFF`
//! (a byte that cannot occur in a regex the parser accepts as UTF-8 text).
#![no_main]
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use tftp::remap::{Direction, RemapRules, MAX_NAME_LEN};

/// Names tried when the input brings none: what PXE clients really ask for.
const NAMES: &[&[u8]] = &[
    b"pxelinux.0",
    b"/boot/pxelinux.cfg/01-52-54-00-12-34-56",
    b"boot\\grub\\x86_64-efi\\grub.cfg",
    b"../../etc/passwd",
    b"",
];

/// Client and direction pairs: IPv4 read, IPv6 write, and an IPv4 client
/// seen on a dual-stack socket (must act as IPv4), so that `4`/`6` and
/// `G`/`P` rules both match and skip.
const REQUESTS: [(IpAddr, Direction); 3] = [
    (IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), Direction::Read),
    (
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
        Direction::Write,
    ),
    (
        IpAddr::V6(Ipv6Addr::new(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0207)),
        Direction::Read,
    ),
];

fuzz_target!(|data: &[u8]| {
    let (text, names) = match data.iter().position(|b| *b == 0xFF) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };
    let mut rules = match RemapRules::parse(text) {
        Ok(r) => r,
        Err(e) => {
            let lines = text.split(|b| *b == b'\n').count();
            assert!(
                (1..=lines).contains(&e.line),
                "error line {} of {lines}",
                e.line
            );
            assert!(!e.reason.is_empty());
            return;
        }
    };
    // The same limit logic as the server's 4096 steps, at a cost per input
    // that keeps thousands of inputs a second (a rule that grows the name by
    // one byte per step costs steps x length).
    rules.max_steps = 256;
    let given: Vec<&[u8]> = match names {
        Some(n) => n.split(|b| *b == 0xFF).take(8).collect(),
        None => NAMES.to_vec(),
    };
    for name in given {
        for (client, direction) in REQUESTS {
            match rules.apply(name, client, direction) {
                Ok(mapped) => assert!(
                    mapped.len() <= name.len().max(MAX_NAME_LEN),
                    "a {}-byte name mapped to {} bytes",
                    name.len(),
                    mapped.len()
                ),
                Err(refused) => assert!(!refused.message.is_empty(), "a refusal has a message"),
            }
        }
    }
});
