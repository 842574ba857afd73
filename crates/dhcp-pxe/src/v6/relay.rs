//! Relay agent messages (RFC 8415 §9, §19): a RELAY-FORW carries the client's message
//! (or another RELAY-FORW, one per relay on the way) in a Relay Message option (9);
//! the server answers with a RELAY-REPL per level, each with the same hop count, link
//! and peer addresses, the Interface-Id option (18) echoed, and the reply inside.
//!
//! ```text
//! RELAY-FORW / RELAY-REPL:  msg-type (1)  hop-count (1)  link-address (16)  peer-address (16)  options
//! ```
//!
//! Read and written here on the bytes: dhcproto 0.15 decodes the content of option 9
//! as another relay message even when it is the client's message, and has no way to
//! build a relay message.

use std::net::Ipv6Addr;

/// RELAY-FORW's message type.
pub const RELAY_FORW: u8 = 12;
/// RELAY-REPL's message type.
pub const RELAY_REPL: u8 = 13;
/// Relay Message option.
pub const RELAY_MSG: u16 = 9;
/// Interface-Id option.
pub const INTERFACE_ID: u16 = 18;
/// Relays a message may pass at most (RFC 8415 §7.6, HOP_COUNT_LIMIT): deeper
/// nesting is refused, which also bounds the work on a hostile datagram.
pub const HOP_COUNT_LIMIT: usize = 8;

const HEADER: usize = 34;

/// One relay on a request's way, outermost first in [`Relayed::hops`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayHop {
    /// Hop count as the relay set it.
    pub hop_count: u8,
    /// An address on the client's link (unspecified when the relay has none).
    pub link: Ipv6Addr,
    /// Where the relay got the message from: the client, or the next relay.
    pub peer: Ipv6Addr,
    /// Option 18 as sent, echoed in the reply.
    pub interface_id: Option<Vec<u8>>,
}

/// A request with its relay envelopes taken off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relayed<'a> {
    /// The relays, outermost (the one that sent the datagram) first; empty when
    /// the client's message came directly.
    pub hops: Vec<RelayHop>,
    /// The client's message.
    pub message: &'a [u8],
}

/// Why a RELAY-FORW cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayError {
    /// Shorter than the relay header.
    #[error("relay message of {0} bytes is shorter than its 34-byte header")]
    Short(usize),
    /// An option runs past the end.
    #[error("relay option {code} of {len} bytes runs past the end of the message")]
    Truncated {
        /// The option code.
        code: u16,
        /// Its length as written.
        len: usize,
    },
    /// No option 9.
    #[error("RELAY-FORW without a Relay Message option")]
    NoRelayMessage,
    /// More relays than [`HOP_COUNT_LIMIT`].
    #[error("more than {HOP_COUNT_LIMIT} relays")]
    TooDeep,
    /// The innermost message is a relay's own (RELAY-REPL), not a client's.
    #[error("a relay reply is not a request")]
    NotARequest,
}

/// Takes the relay envelopes off `payload`. A message that is not a RELAY-FORW
/// comes back as it is, with no hops.
pub fn unwrap_relays(payload: &[u8]) -> Result<Relayed<'_>, RelayError> {
    let mut hops = Vec::new();
    let mut message = payload;
    while message.first() == Some(&RELAY_FORW) {
        if hops.len() == HOP_COUNT_LIMIT {
            return Err(RelayError::TooDeep);
        }
        if message.len() < HEADER {
            return Err(RelayError::Short(message.len()));
        }
        let addr = |at: usize| {
            let mut a = [0u8; 16];
            a.copy_from_slice(&message[at..at + 16]);
            Ipv6Addr::from(a)
        };
        let mut hop = RelayHop {
            hop_count: message[1],
            link: addr(2),
            peer: addr(18),
            interface_id: None,
        };
        let mut inner = None;
        for (code, data) in options(&message[HEADER..])? {
            match code {
                RELAY_MSG if inner.is_none() => inner = Some(data),
                INTERFACE_ID if hop.interface_id.is_none() => {
                    hop.interface_id = Some(data.to_vec());
                }
                _ => {}
            }
        }
        hops.push(hop);
        message = inner.ok_or(RelayError::NoRelayMessage)?;
    }
    if message.first() == Some(&RELAY_REPL) {
        return Err(RelayError::NotARequest);
    }
    Ok(Relayed { hops, message })
}

/// The options of a relay message: (code, data) pairs, all checked to fit.
fn options(bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, RelayError> {
    super::layout::options(bytes).map_err(|o| RelayError::Truncated {
        code: o.code,
        len: o.len,
    })
}

/// The reply to a relayed request: `reply` (the server's message to the client) in
/// one RELAY-REPL per hop, innermost first, each echoing its hop's fields and
/// Interface-Id. With no hops, `reply` as it is. `None` when a level would not fit
/// an option's 16-bit length.
pub fn wrap_reply(hops: &[RelayHop], reply: &[u8]) -> Option<Vec<u8>> {
    let mut out = reply.to_vec();
    for hop in hops.iter().rev() {
        let mut level = Vec::with_capacity(HEADER + 8 + out.len());
        level.push(RELAY_REPL);
        level.push(hop.hop_count);
        level.extend_from_slice(&hop.link.octets());
        level.extend_from_slice(&hop.peer.octets());
        if let Some(id) = &hop.interface_id {
            push_option(&mut level, INTERFACE_ID, id)?;
        }
        push_option(&mut level, RELAY_MSG, &out)?;
        out = level;
    }
    Some(out)
}

fn push_option(out: &mut Vec<u8>, code: u16, data: &[u8]) -> Option<()> {
    let len = u16::try_from(data.len()).ok()?;
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(data);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOLICIT: &[u8] = &[1, 0xaa, 0xbb, 0xcc, 0, 1, 0, 2, 0xde, 0xad];

    fn forw(hop_count: u8, peer: u16, iface: Option<&[u8]>, inner: &[u8]) -> Vec<u8> {
        let mut m = vec![RELAY_FORW, hop_count];
        m.extend_from_slice(&Ipv6Addr::new(0x2001, 0xdb8, 0, 1, 0, 0, 0, 1).octets());
        m.extend_from_slice(&Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, peer).octets());
        // An option the server does not know comes first: it is skipped.
        push_option(&mut m, 37, b"remote-id").unwrap();
        if let Some(id) = iface {
            push_option(&mut m, INTERFACE_ID, id).unwrap();
        }
        push_option(&mut m, RELAY_MSG, inner).unwrap();
        m
    }

    #[test]
    fn a_client_message_passes_through() {
        let r = unwrap_relays(SOLICIT).unwrap();
        assert!(r.hops.is_empty());
        assert_eq!(r.message, SOLICIT);
        assert_eq!(wrap_reply(&r.hops, b"reply").unwrap(), b"reply");
    }

    #[test]
    fn two_relays_are_unwrapped_and_the_reply_wrapped_back_in_order() {
        let inner = forw(0, 7, Some(b"port-3"), SOLICIT);
        let outer = forw(1, 9, None, &inner);
        let r = unwrap_relays(&outer).unwrap();
        assert_eq!(r.message, SOLICIT);
        assert_eq!(r.hops.len(), 2);
        assert_eq!((r.hops[0].hop_count, r.hops[1].hop_count), (1, 0));
        assert_eq!(r.hops[0].peer.segments()[7], 9);
        assert_eq!(r.hops[1].interface_id.as_deref(), Some(&b"port-3"[..]));
        let reply = wrap_reply(&r.hops, b"ADVERTISE").unwrap();
        // The reply has the request's shape, RELAY-REPL for RELAY-FORW, without
        // the options the server does not echo (37).
        assert_eq!(reply[0], RELAY_REPL);
        assert_eq!(&reply[1..34], &outer[1..34]);
        let back = options(&reply[34..]).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].0, RELAY_MSG);
        let level2 = back[0].1;
        assert_eq!(level2[0], RELAY_REPL);
        assert_eq!(&level2[1..34], &inner[1..34]);
        let opts = options(&level2[34..]).unwrap();
        assert_eq!(
            opts,
            [
                (INTERFACE_ID, &b"port-3"[..]),
                (RELAY_MSG, &b"ADVERTISE"[..])
            ]
        );
    }

    #[test]
    fn malformed_relays_are_refused_with_the_reason() {
        let good = forw(0, 1, None, SOLICIT);
        assert_eq!(unwrap_relays(&good[..20]), Err(RelayError::Short(20)));
        assert!(matches!(
            unwrap_relays(&good[..good.len() - 1]),
            Err(RelayError::Truncated {
                code: RELAY_MSG,
                ..
            })
        ));
        let mut none = good[..HEADER].to_vec();
        push_option(&mut none, INTERFACE_ID, b"x").unwrap();
        assert_eq!(unwrap_relays(&none), Err(RelayError::NoRelayMessage));
        let repl = forw(0, 1, None, &[RELAY_REPL; 40]);
        assert_eq!(unwrap_relays(&repl), Err(RelayError::NotARequest));
        let mut deep = SOLICIT.to_vec();
        for i in 0..=HOP_COUNT_LIMIT {
            deep = forw(i as u8, 1, None, &deep);
        }
        assert_eq!(unwrap_relays(&deep), Err(RelayError::TooDeep));
    }

    #[test]
    fn every_prefix_and_byte_flip_of_a_relayed_message_is_handled() {
        let m = forw(1, 9, None, &forw(0, 7, Some(b"eth1"), SOLICIT));
        for n in 0..m.len() {
            let _ = unwrap_relays(&m[..n]);
            for bit in 0..8 {
                let mut x = m.clone();
                x[n] ^= 1 << bit;
                if let Ok(r) = unwrap_relays(&x) {
                    let _ = wrap_reply(&r.hops, r.message);
                }
            }
        }
    }
}
