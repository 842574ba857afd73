//! Wire-level behaviour on whole messages: malformed input, overload, size limits.

use dhcp_pxe::wire::decode::{decode, Area, Mode};
use dhcp_pxe::wire::encode::{encode, size_limit, EncodeParams};
use dhcp_pxe::{decode_strict, decode_tolerant, DecodeError, Error, Message};

use crate::support::{fixture, raw_packet};

#[test]
fn strict_names_first_bad_option_tolerant_keeps_the_rest() {
    // 93 with an odd length sits between valid options.
    let b = raw_packet(
        [2, 0, 0, 0, 0, 1],
        1,
        [0; 4],
        &[(53, &[1]), (93, &[0, 7, 0]), (60, b"PXEClient")],
    );
    assert_eq!(
        decode_strict(&b),
        Err(DecodeError::Malformed {
            code: 93,
            offset: 243,
            reason: "length must be a non-zero multiple of 2"
        })
    );
    let t = decode_tolerant(&b).unwrap();
    assert_eq!(t.message.options.get(60), Some(&b"PXEClient"[..]));
    assert_eq!(t.dropped.len(), 1);
    assert_eq!(
        (t.dropped[0].code, t.dropped[0].offset, t.dropped[0].area),
        (93, 243, Area::Options)
    );
}

#[test]
fn truncated_capture_is_reported_not_lost() {
    let full = fixture("ovmf-pxe-x64-discover.bin");
    let cut = &full[..full.len() - 10];
    assert!(matches!(
        decode_strict(cut),
        Err(DecodeError::Overrun { .. })
    ));
    let t = decode(cut, Mode::Tolerant).unwrap();
    assert_eq!(t.dropped.len(), 1);
    assert!(t.message.options.contains(53) && t.message.options.contains(93));
}

#[test]
fn overloaded_request_is_decoded_in_rfc_order() {
    let mut b = raw_packet(
        [2, 0, 0, 0, 0, 2],
        2,
        [0; 4],
        &[(53, &[1]), (52, &[3]), (77, b"ab")],
    );
    b[108..114].copy_from_slice(&[77, 2, b'c', b'd', 60, 1]);
    b[114..116].copy_from_slice(&[b'x', 255]);
    b[44..49].copy_from_slice(&[77, 1, b'e', 255, 0]);
    let m = decode_strict(&b).unwrap();
    assert_eq!(m.options.get(77), Some(&b"abcde"[..]));
    assert_eq!(m.options.get(60), Some(&b"x"[..]));
    assert!(m.file.is_empty() && m.sname.is_empty());
}

fn big_reply() -> Message {
    let mut m = decode_strict(&fixture("ovmf-pxe-x64-discover.bin")).unwrap();
    m.op = dhcproto::v4::Opcode::BootReply;
    m.options = Default::default();
    m.set_message_type(dhcproto::v4::MessageType::Offer);
    m.options.insert(54, vec![192, 0, 2, 1]);
    for code in 224..229u8 {
        m.options.insert(code, vec![code; 70]);
    }
    m
}

#[test]
fn reply_over_576_spills_into_file_and_sname() {
    let m = big_reply();
    let b = encode(&m, &EncodeParams::default()).unwrap();
    assert!(b.len() <= 548, "{}", b.len());
    assert_eq!(&b[240..249], &[53, 1, 2, 54, 4, 192, 0, 2, 1]);
    assert_eq!(&b[249..252], &[52, 1, 1]);
    let back = decode_strict(&b).unwrap();
    for code in 224..229u8 {
        assert_eq!(back.options.get(code), Some(&vec![code; 70][..]), "{code}");
    }
}

#[test]
fn option_57_raises_the_limit_and_avoids_overload() {
    let m = big_reply();
    let b = encode(
        &m,
        &EncodeParams {
            request_order: &[],
            max_len: size_limit(Some(1500)),
        },
    )
    .unwrap();
    assert!(b.len() > 548);
    assert!(!crate::support::wire_codes(&b).contains(&52));
}

#[test]
fn boot_file_in_use_blocks_spilling_into_file() {
    let mut m = big_reply();
    m.file = b"ipxe.efi".to_vec();
    let r = encode(&m, &EncodeParams::default());
    assert!(matches!(r, Err(Error::TooLarge { .. })), "{r:?}");
}
