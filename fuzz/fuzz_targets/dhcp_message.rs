//! Decoding fuzz target: no input may panic, and decode → encode → decode must be stable.
#![no_main]
use dhcp_pxe::reply::{build_reply, ReplyKind, ReplyParams};
use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_pxe::{decode_strict, decode_tolerant, Client, Error, Policy, Rule};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Strict decoding may fail but must agree with tolerant decoding when it succeeds.
    let strict = decode_strict(data);
    let Ok(decoded) = decode_tolerant(data) else {
        assert!(strict.is_err());
        return;
    };
    if let Ok(m) = &strict {
        assert!(decoded.dropped.is_empty());
        assert_eq!(m, &decoded.message);
    }
    let m1 = decoded.message;

    // The rest of the per-packet path must not panic either.
    let client = Client::classify(&m1);
    let mut rule = Rule::new("any");
    rule.then.boot_file = Some("undionly.kpxe".into());
    rule.then.ipxe_script = Some("http://192.0.2.1/boot.ipxe".into());
    rule.then.http_url = Some("http://192.0.2.1/ipxe.efi".into());
    let decision = Policy::new(vec![rule]).decide(&client);
    for kind in [ReplyKind::Offer, ReplyKind::ProxyOffer, ReplyKind::ProxyAck] {
        let params = ReplyParams::new(kind, [192, 0, 2, 1].into());
        if let Ok(reply) = build_reply(&m1, &client, &decision, &params) {
            let _ = reply.to_bytes();
        }
    }

    // decode → encode → decode → encode gives the same bytes and the same options.
    let b1 = match encode(&m1, &EncodeParams::default()) {
        Ok(b) => b,
        Err(Error::TooLarge { .. } | Error::FieldTooLong { .. }) => return,
        Err(e) => panic!("unexpected encode error {e}"),
    };
    let m2 = decode_strict(&b1).expect("our own encoding decodes strictly");
    let b2 = encode(&m2, &EncodeParams::default()).expect("re-encode");
    assert_eq!(b1, b2);
    let mut o1: Vec<_> = m1.options.iter().cloned().collect();
    let mut o2: Vec<_> = m2.options.iter().cloned().collect();
    o1.sort_by_key(|o| o.code);
    o2.sort_by_key(|o| o.code);
    assert_eq!(o1, o2);
    assert_eq!(
        (m1.xid, m1.chaddr, &m1.file, &m1.sname),
        (m2.xid, m2.chaddr, &m2.file, &m2.sname)
    );
});
