//! Encoding: option order, RFC 3396 splitting, size limit, overload and padding.
//!
//! Every message this crate writes goes through [`encode`]:
//! 1. option order: 53 first, 54 next, then the client's parameter request list
//!    order (option 55), then the rest in insertion order, and 82 last (RFC 3046 §2.1);
//! 2. options longer than 255 bytes are split into consecutive instances (RFC 3396 §5);
//! 3. the message must fit the limit (see [`size_limit`]); when the options field is
//!    too small, whole options spill into `file` and then `sname` (when those are not in
//!    use) and option 52 says which (RFC 2132 §9.3, RFC 2131 §4.1);
//! 4. `file` and `sname` are NUL-terminated (so at most 127 and 63 bytes of name);
//! 5. the message is padded with zeros to at least 300 bytes (the BOOTP
//!    message size of RFC 951, whose `vend` field is 64 bytes; some PXE ROMs and relays
//!    drop shorter messages, and dnsmasq pads the same way).

use super::code::codes;
use super::message::{Message, RawOption, FILE_LEN, HEADER_LEN, MAGIC_COOKIE, SNAME_LEN};
use crate::error::Error;

/// The smallest message size a client must accept (RFC 2131 §2): 576-byte IP datagrams.
pub const MIN_DATAGRAM: usize = 576;
/// IPv4 (20) plus UDP (8) header bytes, subtracted from datagram sizes.
pub const IP_UDP_HEADERS: usize = 28;
/// The minimum message length written: the BOOTP size of RFC 951 (236 + 64-byte `vend`).
pub const MIN_MESSAGE: usize = 300;

/// The largest DHCP message (UDP payload) that may be sent to a client that sent
/// `max_message_size` (option 57), or none.
///
/// Option 57 and the 576-byte minimum count the whole IP datagram (RFC 2131 §2 derives
/// 576 from a 312-byte options field plus 236 header bytes plus IP and UDP headers),
/// so 28 bytes are taken off. Values under 576 are illegal (RFC 2132 §9.10) and ignored.
pub fn size_limit(max_message_size: Option<u16>) -> usize {
    let datagram = max_message_size.map_or(MIN_DATAGRAM, |v| usize::from(v).max(MIN_DATAGRAM));
    datagram - IP_UDP_HEADERS
}

/// What the wire layer needs to know about the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeParams<'a> {
    /// The peer's parameter request list (option 55); empty for none.
    pub request_order: &'a [u8],
    /// Largest UDP payload allowed (see [`size_limit`]).
    pub max_len: usize,
}

impl Default for EncodeParams<'_> {
    fn default() -> Self {
        Self {
            request_order: &[],
            max_len: size_limit(None),
        }
    }
}

impl<'a> EncodeParams<'a> {
    /// Parameters for a reply to `request`: its option 55 order and option 57 limit.
    pub fn for_reply_to(request: &'a Message) -> Self {
        Self {
            request_order: request.parameter_request_list(),
            max_len: size_limit(request.max_message_size()),
        }
    }
}

/// The order in which options are written; see the module documentation.
pub fn option_order<'m>(msg: &'m Message, request_order: &[u8]) -> Vec<&'m RawOption> {
    let all: Vec<&RawOption> = msg
        .options
        .iter()
        .filter(|o| o.code != codes::OVERLOAD)
        .collect();
    let mut out: Vec<&RawOption> = Vec::with_capacity(all.len());
    let push = |o: &'m RawOption, out: &mut Vec<&'m RawOption>| {
        if !out.iter().any(|x| x.code == o.code) {
            out.push(o);
        }
    };
    let find = |code: u8| all.iter().copied().find(|o| o.code == code);
    for code in [codes::MESSAGE_TYPE, codes::SERVER_ID]
        .iter()
        .chain(request_order.iter())
    {
        if *code == codes::RELAY_AGENT_INFO {
            continue;
        }
        if let Some(o) = find(*code) {
            push(o, &mut out);
        }
    }
    for o in all.iter().copied() {
        if o.code != codes::RELAY_AGENT_INFO {
            push(o, &mut out);
        }
    }
    if let Some(o) = find(codes::RELAY_AGENT_INFO) {
        push(o, &mut out);
    }
    out
}

/// One option instance as written: code and at most 255 bytes.
fn split(o: &RawOption) -> Vec<(u8, &[u8])> {
    if o.data.is_empty() {
        return vec![(o.code, &[][..])];
    }
    o.data.chunks(255).map(|c| (o.code, c)).collect()
}

fn put(area: &mut Vec<u8>, code: u8, data: &[u8]) {
    area.push(code);
    area.push(data.len() as u8); // split() keeps every piece at 255 bytes or less
    area.extend_from_slice(data);
}

fn name_field(value: &[u8], size: usize, field: &'static str) -> Result<Vec<u8>, Error> {
    if value.len() >= size {
        return Err(Error::FieldTooLong {
            field,
            len: value.len(),
            max: size - 1,
        });
    }
    let mut f = value.to_vec();
    f.resize(size, 0);
    Ok(f)
}

/// Encodes a message with the wire rules above.
pub fn encode(msg: &Message, params: &EncodeParams<'_>) -> Result<Vec<u8>, Error> {
    let mut sname = name_field(&msg.sname, SNAME_LEN, "sname")?;
    let mut file = name_field(&msg.file, FILE_LEN, "file")?;
    let pieces: Vec<(u8, &[u8])> = option_order(msg, params.request_order)
        .into_iter()
        .flat_map(split)
        .collect();
    let needed: usize = pieces.iter().map(|(_, d)| 2 + d.len()).sum();
    let max_len = params.max_len.max(HEADER_LEN + 4 + 1);
    let main_room = max_len - HEADER_LEN - 4 - 1; // End

    let mut main = Vec::with_capacity(needed + 3);
    if needed <= main_room {
        for (code, data) in &pieces {
            put(&mut main, *code, data);
        }
    } else {
        // Overload: 52 goes right after 53/54; options spill in order into file, then sname.
        let lead = pieces
            .iter()
            .take_while(|(c, _)| *c == codes::MESSAGE_TYPE || *c == codes::SERVER_ID)
            .count();
        let mut areas: Vec<(u8, usize, Vec<u8>)> =
            vec![(0, main_room.saturating_sub(3), Vec::new())];
        if msg.file.is_empty() {
            areas.push((1, FILE_LEN - 1, Vec::new()));
        }
        if msg.sname.is_empty() {
            areas.push((2, SNAME_LEN - 1, Vec::new()));
        }
        let mut a = 0;
        for (i, (code, data)) in pieces.iter().enumerate() {
            let len = 2 + data.len();
            while a < areas.len() && areas[a].2.len() + len > areas[a].1 {
                a += 1;
            }
            let Some(area) = areas.get_mut(a) else {
                return Err(Error::TooLarge {
                    needed: HEADER_LEN + 4 + needed + 3 + 1,
                    limit: max_len,
                });
            };
            if i < lead && a != 0 {
                return Err(Error::TooLarge {
                    needed: HEADER_LEN + 4 + needed + 3 + 1,
                    limit: max_len,
                });
            }
            put(&mut area.2, *code, data);
        }
        let overload: u8 = areas
            .iter()
            .filter(|(k, _, bytes)| *k != 0 && !bytes.is_empty())
            .map(|(k, _, _)| *k)
            .sum();
        let mut areas = areas.into_iter();
        let (_, _, body) = areas.next().unwrap_or_default();
        // Rebuild the options field with 52 inserted after the leading options.
        let lead_bytes: usize = pieces.iter().take(lead).map(|(_, d)| 2 + d.len()).sum();
        main.extend_from_slice(body.get(..lead_bytes).unwrap_or(&[]));
        if overload != 0 {
            put(&mut main, codes::OVERLOAD, &[overload]);
        }
        main.extend_from_slice(body.get(lead_bytes..).unwrap_or(&[]));
        for (kind, _, mut bytes) in areas {
            if bytes.is_empty() {
                continue;
            }
            bytes.push(codes::END);
            if kind == 1 {
                bytes.resize(FILE_LEN, 0);
                file = bytes;
            } else {
                bytes.resize(SNAME_LEN, 0);
                sname = bytes;
            }
        }
    }

    let mut out = Vec::with_capacity(MIN_MESSAGE.max(HEADER_LEN + 5 + main.len()));
    out.push(u8::from(msg.op));
    out.extend_from_slice(&[msg.htype, msg.hlen, msg.hops]);
    out.extend_from_slice(&msg.xid.to_be_bytes());
    out.extend_from_slice(&msg.secs.to_be_bytes());
    out.extend_from_slice(&u16::from(msg.flags).to_be_bytes());
    for ip in [msg.ciaddr, msg.yiaddr, msg.siaddr, msg.giaddr] {
        out.extend_from_slice(&ip.octets());
    }
    out.extend_from_slice(&msg.chaddr);
    out.extend_from_slice(&sname);
    out.extend_from_slice(&file);
    out.extend_from_slice(&MAGIC_COOKIE);
    out.extend_from_slice(&main);
    out.push(codes::END);
    if out.len() < MIN_MESSAGE {
        out.resize(MIN_MESSAGE, 0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::decode::decode_strict;

    fn msg(codes: &[u8]) -> Message {
        let mut m = Message::default();
        for &c in codes {
            m.options.insert(c, vec![c]);
        }
        m
    }

    #[test]
    fn order_is_53_54_request_rest_82() {
        let m = msg(&[82, 1, 3, 54, 66, 53, 67]);
        let order: Vec<u8> = option_order(&m, &[67, 3, 82, 99])
            .iter()
            .map(|o| o.code)
            .collect();
        assert_eq!(order, [53, 54, 67, 3, 1, 66, 82]);
    }

    #[test]
    fn pads_to_300_and_terminates_names() {
        let mut m = msg(&[53]);
        m.file = b"x".repeat(127);
        let b = encode(&m, &EncodeParams::default()).unwrap();
        assert_eq!(b.len(), 300);
        assert_eq!(b[108 + 127], 0);
        m.file.push(b'y');
        assert!(matches!(
            encode(&m, &EncodeParams::default()),
            Err(Error::FieldTooLong { field: "file", .. })
        ));
    }

    #[test]
    fn size_limit_uses_57_but_never_below_576() {
        assert_eq!(size_limit(None), 548);
        assert_eq!(size_limit(Some(300)), 548);
        assert_eq!(size_limit(Some(1500)), 1472);
    }

    #[test]
    fn long_options_split_and_rejoin() {
        let mut m = msg(&[53]);
        m.options.insert(43, vec![7; 300]);
        let b = encode(
            &m,
            &EncodeParams {
                request_order: &[],
                max_len: 1472,
            },
        )
        .unwrap();
        assert_eq!(&b[240..243], &[53, 1, 53]);
        assert_eq!(&b[243..245], &[43, 255]);
        let back = decode_strict(&b).unwrap();
        assert_eq!(back.options.get(43), Some(&[7; 300][..]));
    }

    #[test]
    fn overflow_spills_into_file_and_sname_with_52() {
        let mut m = msg(&[53, 54]);
        for code in 100..107u8 {
            m.options.insert(code, vec![code; 60]);
        }
        let b = encode(&m, &EncodeParams::default()).unwrap();
        assert!(b.len() <= 548);
        assert_eq!(&b[240..249], &[53, 1, 53, 54, 1, 54, 52, 1, 3]);
        let back = crate::wire::decode::decode_tolerant(&b).unwrap().message;
        for code in 100..107u8 {
            assert_eq!(back.options.get(code), Some(&vec![code; 60][..]));
        }
    }

    #[test]
    fn too_large_is_an_error() {
        let mut m = msg(&[53]);
        for code in 100..120u8 {
            m.options.insert(code, vec![code; 60]);
        }
        assert!(matches!(
            encode(&m, &EncodeParams::default()),
            Err(Error::TooLarge { .. })
        ));
    }
}
