//! Errors: [`DecodeError`] for bytes that are not a valid DHCP message, [`enum@Error`] for everything else.

use thiserror::Error;

/// Why a DHCP message or one of its options could not be decoded.
///
/// Every variant that concerns an option names the option code and the byte offset
/// (from the start of the UDP payload) where it starts, so a strict decode points at
/// the first bad byte.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The message is shorter than the fixed BOOTP header plus the magic cookie (240 bytes).
    #[error("message is {len} bytes, shorter than the 240-byte header and magic cookie")]
    Truncated {
        /// Length of the input.
        len: usize,
    },
    /// The four bytes after the header are not the magic cookie 99.130.83.99 (RFC 2131 §3).
    #[error("bad magic cookie {0:02x?}")]
    BadCookie([u8; 4]),
    /// An option's length byte runs past the end of its area.
    #[error("option {code} at offset {offset} runs past the end of its area")]
    Overrun {
        /// Option code.
        code: u8,
        /// Offset of the option's code byte.
        offset: usize,
    },
    /// An option's payload does not have the form its code requires.
    #[error("option {code} at offset {offset} is malformed: {reason}")]
    Malformed {
        /// Option code.
        code: u8,
        /// Offset of the option's code byte.
        offset: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// An area (options, `file` or `sname`) has no End option (255).
    #[error("the {area} area has no end option")]
    MissingEnd {
        /// Which area.
        area: &'static str,
    },
    /// A typed option (outside a message) could not be parsed.
    #[error("option {code}: {reason}")]
    Payload {
        /// Option code.
        code: u8,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Errors from building or encoding replies and from typed option values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A message could not be decoded.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The encoded message does not fit the client's size limit even with option overload.
    #[error("reply needs {needed} bytes but the client accepts at most {limit}")]
    TooLarge {
        /// Bytes the message would need.
        needed: usize,
        /// Maximum DHCP message size for this client.
        limit: usize,
    },
    /// A string does not fit its fixed-size header field with its terminating NUL.
    #[error("{field} value is {len} bytes; at most {max} fit with the terminating NUL")]
    FieldTooLong {
        /// `file` or `sname`.
        field: &'static str,
        /// Length of the value.
        len: usize,
        /// Largest length that fits.
        max: usize,
    },
    /// A typed option value cannot be written (for example a list entry longer than 255 bytes).
    #[error("option {code} cannot be encoded: {reason}")]
    Unencodable {
        /// Option code.
        code: u8,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The request lacks something this reply needs.
    #[error("cannot build the reply: {0}")]
    Reply(&'static str),
}
