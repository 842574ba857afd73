//! Any datagram: parse must not panic, and what parses must encode and parse
//! back to the same packet (decode → encode → decode is stable).
#![no_main]
use libfuzzer_sys::fuzz_target;
use tftp::Packet;

fuzz_target!(|data: &[u8]| {
    let Ok(first) = Packet::parse(data) else {
        return;
    };
    let mut buf = vec![0u8; first.encoded_len()];
    let n = first.encode(&mut buf).expect("encoded_len is exact");
    assert_eq!(n, buf.len());
    let second = Packet::parse(&buf).expect("an encoded packet parses");
    assert_eq!(first, second);
    let mut again = vec![0u8; second.encoded_len()];
    second.encode(&mut again).unwrap();
    assert_eq!(buf, again);
});
