//! The option layout of a DHCPv6 client message, checked on the bytes before
//! dhcproto decodes it: dhcproto 0.15 subtracts a fixed part from an option's
//! length without checking it first (status code 13 under 2 bytes, vendor class 16
//! and vendor options 17 under 4, authentication 11 under 11: an overflow, a panic
//! where overflow checks are on), and follows nested options (inside IA_NA, IA
//! addresses, relay messages …) as deep as they go. It also reads some fixed-size
//! options (preference 7, elapsed time 8, server unicast 12, rapid commit 14,
//! reconfigure 19 and 20) for their size whatever their length says, which puts it
//! out of step with the options after them: their length must be exactly that.

/// Nested option lists followed at most (a client's IA_NA holds an IA address that
/// holds a status code: depth 3).
pub const MAX_DEPTH: usize = 8;

/// Why a message's options are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayoutError {
    /// Shorter than the 4-byte header (type and transaction id).
    #[error("DHCPv6 message of {0} bytes is shorter than its header")]
    Short(usize),
    /// An option header or body runs past the end of its list.
    #[error("option {code} runs past the end of its list")]
    Truncated {
        /// The option code (0 when its header was cut).
        code: u16,
    },
    /// An option shorter than its fixed part.
    #[error("option {code} of {len} bytes is shorter than its fixed {min} bytes")]
    TooShort {
        /// The option code.
        code: u16,
        /// Its length.
        len: usize,
        /// The length of its fixed fields.
        min: usize,
    },
    /// A fixed-size option of another length.
    #[error("option {code} of {len} bytes is not its fixed {size} bytes")]
    NotItsSize {
        /// The option code.
        code: u16,
        /// Its length.
        len: usize,
        /// Its size.
        size: usize,
    },
    /// Options nested deeper than [`MAX_DEPTH`].
    #[error("options nested more than {MAX_DEPTH} deep")]
    TooDeep,
}

/// Options whose body starts with fixed fields: (code, fixed bytes, whether
/// options follow them).
const FIXED: [(u16, usize, bool); 10] = [
    (3, 12, true),   // IA_NA: IAID, T1, T2
    (4, 4, true),    // IA_TA: IAID
    (5, 24, true),   // IA address: address, lifetimes
    (9, 34, true),   // relay message, as dhcproto reads it: a relay header
    (11, 11, false), // authentication
    (13, 2, false),  // status code
    (16, 4, false),  // vendor class: enterprise number
    (17, 4, true),   // vendor options: enterprise number
    (25, 12, true),  // IA_PD
    (26, 25, true),  // IA prefix
];

/// Options of one fixed size: (code, bytes).
const EXACT: [(u16, usize); 6] = [(7, 1), (8, 2), (12, 16), (14, 0), (19, 1), (20, 0)];

/// Checks the option layout of the client message `payload`.
pub fn check_layout(payload: &[u8]) -> Result<(), LayoutError> {
    if payload.len() < 4 {
        return Err(LayoutError::Short(payload.len()));
    }
    check_options(&payload[4..], 1)
}

fn check_options(bytes: &[u8], depth: usize) -> Result<(), LayoutError> {
    if depth > MAX_DEPTH {
        return Err(LayoutError::TooDeep);
    }
    let list = options(bytes).map_err(|o| LayoutError::Truncated { code: o.code })?;
    for (code, body) in list {
        let len = body.len();
        if let Some(&(_, size)) = EXACT.iter().find(|(c, _)| *c == code) {
            if len != size {
                return Err(LayoutError::NotItsSize { code, len, size });
            }
        }
        if let Some(&(_, min, nested)) = FIXED.iter().find(|(c, _, _)| *c == code) {
            if len < min {
                return Err(LayoutError::TooShort { code, len, min });
            }
            if nested {
                check_options(&body[min..], depth + 1)?;
            }
        }
    }
    Ok(())
}

/// An option that runs past the end of its list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Overrun {
    /// Its code (0 when its header was cut).
    pub code: u16,
    /// Its length as written (the bytes left when its header was cut).
    pub len: usize,
}

/// A list of options (code, length, body …): the (code, body) pairs, all
/// checked to fit.
pub(super) fn options(mut bytes: &[u8]) -> Result<Vec<(u16, &[u8])>, Overrun> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        if bytes.len() < 4 {
            return Err(Overrun {
                code: 0,
                len: bytes.len(),
            });
        }
        let code = u16::from_be_bytes([bytes[0], bytes[1]]);
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        let Some(body) = bytes.get(4..4 + len) else {
            return Err(Overrun { code, len });
        };
        out.push((code, body));
        bytes = &bytes[4 + len..];
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opt(code: u16, body: &[u8]) -> Vec<u8> {
        let mut o = code.to_be_bytes().to_vec();
        o.extend_from_slice(&(body.len() as u16).to_be_bytes());
        o.extend_from_slice(body);
        o
    }

    fn message(opts: &[Vec<u8>]) -> Vec<u8> {
        let mut m = vec![1, 0xaa, 0xbb, 0xcc];
        for o in opts {
            m.extend_from_slice(o);
        }
        m
    }

    #[test]
    fn a_uefi_solicit_with_an_ia_passes() {
        let status = opt(13, &[0, 0, b'o', b'k']);
        let addr = opt(5, &[[0u8; 24].as_slice(), &status].concat());
        let ia = opt(3, &[[0u8; 12].as_slice(), &addr].concat());
        let m = message(&[
            opt(1, &[0, 3, 0, 1, 1, 2, 3, 4, 5, 6]),
            ia,
            opt(61, &[0, 7]),
        ]);
        assert_eq!(check_layout(&m), Ok(()));
    }

    #[test]
    fn short_fixed_parts_are_refused_at_any_depth() {
        let m = message(&[opt(16, &[0, 0, 1])]);
        assert_eq!(
            check_layout(&m),
            Err(LayoutError::TooShort {
                code: 16,
                len: 3,
                min: 4
            })
        );
        let ia = opt(3, &[[0u8; 12].as_slice(), &opt(13, &[0])].concat());
        assert_eq!(
            check_layout(&message(&[ia])),
            Err(LayoutError::TooShort {
                code: 13,
                len: 1,
                min: 2
            })
        );
        assert_eq!(
            check_layout(&message(&[opt(11, &[0; 10])])),
            Err(LayoutError::TooShort {
                code: 11,
                len: 10,
                min: 11
            })
        );
    }

    #[test]
    fn fixed_size_options_must_have_their_size() {
        // A server unicast option of 0 bytes: dhcproto would read the 16 bytes after it.
        let m = message(&[opt(12, &[]), opt(16, &[0; 20])]);
        assert_eq!(
            check_layout(&m),
            Err(LayoutError::NotItsSize {
                code: 12,
                len: 0,
                size: 16
            })
        );
        assert_eq!(
            check_layout(&message(&[opt(8, &[0, 5]), opt(14, &[])])),
            Ok(())
        );
        assert!(check_layout(&message(&[opt(14, &[1])])).is_err());
    }

    #[test]
    fn truncation_and_depth_are_refused() {
        assert_eq!(check_layout(&[1, 2]), Err(LayoutError::Short(2)));
        let m = message(&[opt(1, &[1, 2, 3])]);
        assert_eq!(
            check_layout(&m[..m.len() - 1]),
            Err(LayoutError::Truncated { code: 1 })
        );
        assert_eq!(
            check_layout(&m[..m.len() - 5]),
            Err(LayoutError::Truncated { code: 0 })
        );
        let mut nested = opt(13, &[0, 0]);
        for _ in 0..MAX_DEPTH {
            nested = opt(17, &[[0u8; 4].as_slice(), &nested].concat());
        }
        assert_eq!(check_layout(&message(&[nested])), Err(LayoutError::TooDeep));
    }
}
