//! The TFTP wire format: RRQ, WRQ, DATA, ACK, ERROR (RFC 1350) and OACK (RFC 2347).
//!
//! ```text
//!  RRQ/WRQ  | 01/02 | filename | 0 | mode | 0 | opt1 | 0 | value1 | 0 | ...
//!  DATA     | 03    | block #  | data (0..blksize bytes)
//!  ACK      | 04    | block #  |
//!  ERROR    | 05    | code     | message | 0 |
//!  OACK     | 06    | opt1 | 0 | value1 | 0 | ...
//! ```
//!
//! [`Packet::parse`] returns a view that borrows the datagram: file name, mode,
//! options, payload and message are slices of the input, nothing is allocated.
//! Every accessor works on bytes whose length was checked by the parser, so none
//! of them can panic. Encoding writes into a caller's buffer.

use std::fmt;

use nom::bytes::complete::take_until;
use nom::number::complete::be_u16;
use nom::IResult;
use nom::Parser;

/// Length of the opcode + block number header of DATA and ACK.
pub const DATA_HEADER_LEN: usize = 4;

/// Default block size of RFC 1350.
pub const DEFAULT_BLKSIZE: u16 = 512;

/// The server's well-known port, the `tftp` service (RFC 1350 §4).
pub const TFTP_PORT: u16 = 69;

/// Opcode, the first two bytes of every packet (RFC 1350 §5, RFC 2347).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum Opcode {
    /// Read request.
    Rrq = 1,
    /// Write request.
    Wrq = 2,
    /// Data block.
    Data = 3,
    /// Acknowledgement.
    Ack = 4,
    /// Error.
    Error = 5,
    /// Option acknowledgement (RFC 2347).
    Oack = 6,
}

/// Which request a transfer answers: the one type for remap rules (`G`/`P`),
/// option negotiation (`tsize` means different things) and the accept step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// RRQ: the server sends the file.
    Read,
    /// WRQ: the server receives the file.
    Write,
}

impl Direction {
    /// `RRQ` or `WRQ`, as tftp-hpa's log lines name the request.
    pub fn request_name(self) -> &'static str {
        match self {
            Self::Read => "RRQ",
            Self::Write => "WRQ",
        }
    }

    /// The direction of a request datagram (opcode 1 or 2), from its first
    /// two bytes alone; `None` for every other datagram.
    pub fn of_request(datagram: &[u8]) -> Option<Self> {
        match datagram {
            [0, 1, ..] => Some(Self::Read),
            [0, 2, ..] => Some(Self::Write),
            _ => None,
        }
    }
}

/// Transfer mode of a request (RFC 1350 §5). Case-insensitive on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Bytes as they are.
    Octet,
    /// NVT ASCII: CR LF line ends, CR NUL for a bare CR.
    Netascii,
    /// Obsolete mail mode; recognised so it can be refused.
    Mail,
}

impl Mode {
    fn from_bytes(raw: &[u8]) -> Option<Self> {
        if raw.eq_ignore_ascii_case(b"octet") {
            Some(Self::Octet)
        } else if raw.eq_ignore_ascii_case(b"netascii") {
            Some(Self::Netascii)
        } else if raw.eq_ignore_ascii_case(b"mail") {
            Some(Self::Mail)
        } else {
            None
        }
    }

    /// The mode's name as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Octet => "octet",
            Self::Netascii => "netascii",
            Self::Mail => "mail",
        }
    }
}

/// ERROR codes of RFC 1350 §5 and RFC 2347 (8).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// 0: not defined, see the message.
    Undefined,
    /// 1: file not found.
    FileNotFound,
    /// 2: access violation.
    AccessViolation,
    /// 3: disk full or allocation exceeded.
    DiskFull,
    /// 4: illegal TFTP operation.
    IllegalOperation,
    /// 5: unknown transfer ID.
    UnknownTid,
    /// 6: file already exists.
    FileExists,
    /// 7: no such user.
    NoSuchUser,
    /// 8: option negotiation refused (RFC 2347).
    OptionRefused,
    /// Any other value.
    Other(u16),
}

impl ErrorCode {
    /// The numeric code.
    pub fn to_u16(self) -> u16 {
        match self {
            Self::Undefined => 0,
            Self::FileNotFound => 1,
            Self::AccessViolation => 2,
            Self::DiskFull => 3,
            Self::IllegalOperation => 4,
            Self::UnknownTid => 5,
            Self::FileExists => 6,
            Self::NoSuchUser => 7,
            Self::OptionRefused => 8,
            Self::Other(c) => c,
        }
    }

    /// The code for a number.
    pub fn from_u16(code: u16) -> Self {
        match code {
            0 => Self::Undefined,
            1 => Self::FileNotFound,
            2 => Self::AccessViolation,
            3 => Self::DiskFull,
            4 => Self::IllegalOperation,
            5 => Self::UnknownTid,
            6 => Self::FileExists,
            7 => Self::NoSuchUser,
            8 => Self::OptionRefused,
            c => Self::Other(c),
        }
    }

    /// The conventional message for the code.
    pub fn default_message(self) -> &'static str {
        match self {
            Self::Undefined | Self::Other(_) => "Undefined error",
            Self::FileNotFound => "File not found",
            Self::AccessViolation => "Access violation",
            Self::DiskFull => "Disk full or allocation exceeded",
            Self::IllegalOperation => "Illegal TFTP operation",
            Self::UnknownTid => "Unknown transfer ID",
            Self::FileExists => "File already exists",
            Self::NoSuchUser => "No such user",
            Self::OptionRefused => "Option negotiation refused",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.to_u16(), self.default_message())
    }
}

/// The options of a request or an OACK: `name\0value\0` pairs, borrowed.
///
/// The parser checks the framing once; iteration cannot fail afterwards.
/// A trailing name without its value is ignored (RFC 2347 leaves it undefined;
/// real clients never send it).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct OptionList<'a> {
    raw: &'a [u8],
}

impl<'a> OptionList<'a> {
    /// Wraps bytes that hold complete `name\0value\0` pairs.
    fn new(raw: &'a [u8]) -> Self {
        // Keep only whole pairs, so that every iterator step finds two NULs.
        let mut end = 0;
        let mut nuls = 0;
        for (i, b) in raw.iter().enumerate() {
            if *b == 0 {
                nuls += 1;
                if nuls % 2 == 0 {
                    end = i + 1;
                }
            }
        }
        Self { raw: &raw[..end] }
    }

    /// An empty list.
    pub const EMPTY: OptionList<'static> = OptionList { raw: &[] };

    /// The pairs in wire order, names as the peer spelled them.
    pub fn iter(&self) -> OptionIter<'a> {
        OptionIter { rest: self.raw }
    }

    /// The value of the first option whose name matches, case-insensitively.
    pub fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v)
    }

    /// True when there is no option.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    /// The raw wire bytes of the pairs.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.raw
    }
}

impl fmt::Debug for OptionList<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(
                self.iter()
                    .map(|(n, v)| (String::from_utf8_lossy(n), String::from_utf8_lossy(v))),
            )
            .finish()
    }
}

/// Iterator over `(name, value)` pairs of an [`OptionList`].
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let n = self.rest.iter().position(|b| *b == 0)?;
        let name = &self.rest[..n];
        let after = &self.rest[n + 1..];
        let v = after.iter().position(|b| *b == 0)?;
        let value = &after[..v];
        self.rest = &after[v + 1..];
        Some((name, value))
    }
}

/// A read or write request, borrowed from the datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The file name exactly as sent (any bytes but NUL).
    pub filename: &'a [u8],
    /// The transfer mode.
    pub mode: Mode,
    /// Options (RFC 2347).
    pub options: OptionList<'a>,
}

/// A parsed TFTP packet borrowing its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packet<'a> {
    /// Read request.
    Rrq(Request<'a>),
    /// Write request.
    Wrq(Request<'a>),
    /// Data block.
    Data {
        /// Block number on the wire.
        block: u16,
        /// Payload, 0..=blksize bytes.
        payload: &'a [u8],
    },
    /// Acknowledgement.
    Ack {
        /// Block number on the wire.
        block: u16,
    },
    /// Error.
    Error {
        /// Error code.
        code: ErrorCode,
        /// Message bytes without the terminating NUL (not always UTF-8).
        message: &'a [u8],
    },
    /// Option acknowledgement.
    Oack(OptionList<'a>),
}

/// Why a datagram is not a TFTP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Shorter than the fixed part of its type.
    #[error("packet too short")]
    Truncated,
    /// Opcode outside 1..=6.
    #[error("unknown opcode {0}")]
    UnknownOpcode(u16),
    /// A request whose last field (mode or option) lacks its terminating NUL.
    #[error("Request not null-terminated")]
    Unterminated,
    /// A mode other than octet, netascii or mail.
    #[error("Unknown mode")]
    UnknownMode,
    /// A request without a mode (nothing, or an empty field, after the name).
    #[error("Missing mode")]
    MissingMode,
}

/// A buffer too small for the packet being encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("buffer of {available} bytes too small for a {needed}-byte packet")]
pub struct BufferTooSmall {
    /// Bytes needed.
    pub needed: usize,
    /// Bytes available.
    pub available: usize,
}

fn cstr(input: &[u8]) -> IResult<&[u8], &[u8]> {
    let (rest, s) = take_until(&b"\0"[..]).parse(input)?;
    Ok((&rest[1..], s))
}

/// A request's fields, checked in tftp-hpa's order: a name without a mode
/// after it (even without its NUL) is "Missing mode"; a mode or option whose
/// NUL is missing (the datagram does not end in NUL) is "not
/// null-terminated"; then the mode must be known.
fn request(body: &[u8]) -> Result<Request<'_>, PacketError> {
    let (rest, filename) = cstr(body).map_err(|_| PacketError::MissingMode)?;
    if rest.is_empty() || rest[0] == 0 {
        return Err(PacketError::MissingMode);
    }
    if body.last() != Some(&0) {
        return Err(PacketError::Unterminated);
    }
    let (rest, mode) = cstr(rest).map_err(|_| PacketError::Unterminated)?;
    let mode = Mode::from_bytes(mode).ok_or(PacketError::UnknownMode)?;
    Ok(Request {
        filename,
        mode,
        options: OptionList::new(rest),
    })
}

impl<'a> Packet<'a> {
    /// Parses one datagram. Never panics; any input either parses or yields a [`PacketError`].
    pub fn parse(datagram: &'a [u8]) -> Result<Self, PacketError> {
        let (body, opcode) =
            be_u16::<_, nom::error::Error<&[u8]>>(datagram).map_err(|_| PacketError::Truncated)?;
        match opcode {
            1 => request(body).map(Packet::Rrq),
            2 => request(body).map(Packet::Wrq),
            3 => {
                let (payload, block) = be_u16::<_, nom::error::Error<&[u8]>>(body)
                    .map_err(|_| PacketError::Truncated)?;
                Ok(Packet::Data { block, payload })
            }
            4 => {
                // Trailing bytes after the block number are ignored, as every peer does.
                let (_, block) = be_u16::<_, nom::error::Error<&[u8]>>(body)
                    .map_err(|_| PacketError::Truncated)?;
                Ok(Packet::Ack { block })
            }
            5 => {
                let (rest, code) = be_u16::<_, nom::error::Error<&[u8]>>(body)
                    .map_err(|_| PacketError::Truncated)?;
                // A missing NUL is tolerated: the message is the rest of the datagram.
                let message = match rest.iter().position(|b| *b == 0) {
                    Some(n) => &rest[..n],
                    None => rest,
                };
                Ok(Packet::Error {
                    code: ErrorCode::from_u16(code),
                    message,
                })
            }
            6 => Ok(Packet::Oack(OptionList::new(body))),
            other => Err(PacketError::UnknownOpcode(other)),
        }
    }

    /// The opcode of this packet.
    pub fn opcode(&self) -> Opcode {
        match self {
            Self::Rrq(_) => Opcode::Rrq,
            Self::Wrq(_) => Opcode::Wrq,
            Self::Data { .. } => Opcode::Data,
            Self::Ack { .. } => Opcode::Ack,
            Self::Error { .. } => Opcode::Error,
            Self::Oack(_) => Opcode::Oack,
        }
    }

    /// Encoded length in bytes.
    pub fn encoded_len(&self) -> usize {
        match self {
            Self::Rrq(r) | Self::Wrq(r) => {
                2 + r.filename.len() + 1 + r.mode.as_str().len() + 1 + r.options.as_bytes().len()
            }
            Self::Data { payload, .. } => 4 + payload.len(),
            Self::Ack { .. } => 4,
            Self::Error { message, .. } => 4 + message.len() + 1,
            Self::Oack(o) => 2 + o.as_bytes().len(),
        }
    }

    /// Writes the packet at the start of `out` and returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let mut w = Writer::new(out, self.encoded_len())?;
        w.u16(self.opcode() as u16);
        match self {
            Self::Rrq(r) | Self::Wrq(r) => {
                w.bytes(r.filename);
                w.bytes(b"\0");
                w.bytes(r.mode.as_str().as_bytes());
                w.bytes(b"\0");
                w.bytes(r.options.as_bytes());
            }
            Self::Data { block, payload } => {
                w.u16(*block);
                w.bytes(payload);
            }
            Self::Ack { block } => w.u16(*block),
            Self::Error { code, message } => {
                w.u16(code.to_u16());
                w.bytes(message);
                w.bytes(b"\0");
            }
            Self::Oack(o) => w.bytes(o.as_bytes()),
        }
        Ok(w.pos)
    }
}

/// The 4-byte header of a DATA packet; the payload follows as a separate slice.
pub fn data_header(block: u16) -> [u8; DATA_HEADER_LEN] {
    let b = block.to_be_bytes();
    [0, Opcode::Data as u8, b[0], b[1]]
}

/// Encodes an ERROR packet with `message` (NUL bytes in it are dropped).
pub fn encode_error(
    out: &mut [u8],
    code: ErrorCode,
    message: &str,
) -> Result<usize, BufferTooSmall> {
    let msg: Vec<u8> = message.bytes().filter(|b| *b != 0).collect();
    Packet::Error {
        code,
        message: &msg,
    }
    .encode(out)
}

/// Encodes a request or OACK from owned option pairs.
///
/// `kind` is [`Opcode::Rrq`], [`Opcode::Wrq`] or [`Opcode::Oack`]; `request`
/// is the file name and mode for RRQ/WRQ and ignored for OACK.
pub fn encode_with_options<'o>(
    out: &mut [u8],
    kind: Opcode,
    request: Option<(&[u8], Mode)>,
    options: impl IntoIterator<Item = (&'o str, &'o str)> + Clone,
) -> Result<usize, BufferTooSmall> {
    let head = match (kind, request) {
        (Opcode::Rrq | Opcode::Wrq, Some((name, mode))) => name.len() + mode.as_str().len() + 2,
        _ => 0,
    };
    let opts: usize = options
        .clone()
        .into_iter()
        .map(|(n, v)| n.len() + v.len() + 2)
        .sum();
    let mut w = Writer::new(out, 2 + head + opts)?;
    w.u16(kind as u16);
    if let (Opcode::Rrq | Opcode::Wrq, Some((name, mode))) = (kind, request) {
        w.bytes(name);
        w.bytes(b"\0");
        w.bytes(mode.as_str().as_bytes());
        w.bytes(b"\0");
    }
    for (n, v) in options {
        w.bytes(n.as_bytes());
        w.bytes(b"\0");
        w.bytes(v.as_bytes());
        w.bytes(b"\0");
    }
    Ok(w.pos)
}

struct Writer<'b> {
    out: &'b mut [u8],
    pos: usize,
}

impl<'b> Writer<'b> {
    fn new(out: &'b mut [u8], needed: usize) -> Result<Self, BufferTooSmall> {
        if out.len() < needed {
            return Err(BufferTooSmall {
                needed,
                available: out.len(),
            });
        }
        Ok(Self { out, pos: 0 })
    }
    // Lengths were checked in `new`, so the slices below are in bounds.
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_be_bytes());
    }
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rrq_with_options() {
        let d = b"\x00\x01pxelinux.0\x00OCTET\x00tsize\x000\x00BlkSize\x001408\x00";
        let Packet::Rrq(r) = Packet::parse(d).unwrap() else {
            panic!("not an RRQ")
        };
        assert_eq!(r.filename, b"pxelinux.0");
        assert_eq!(r.mode, Mode::Octet);
        assert_eq!(r.options.get("blksize"), Some(&b"1408"[..]));
        assert_eq!(r.options.get("TSIZE"), Some(&b"0"[..]));
        let names: Vec<_> = r.options.iter().map(|(n, _)| n).collect();
        assert_eq!(names, vec![&b"tsize"[..], &b"BlkSize"[..]]);
    }

    #[test]
    fn request_errors() {
        assert_eq!(Packet::parse(b""), Err(PacketError::Truncated));
        assert_eq!(Packet::parse(b"\x00"), Err(PacketError::Truncated));
        assert_eq!(
            Packet::parse(b"\x00\x09"),
            Err(PacketError::UnknownOpcode(9))
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file"),
            Err(PacketError::MissingMode)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00"),
            Err(PacketError::MissingMode)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00\x00"),
            Err(PacketError::MissingMode)
        );
        assert_eq!(
            Packet::parse(b"\x00\x01\x00octet\x00"),
            Ok(Packet::Rrq(Request {
                filename: b"",
                mode: Mode::Octet,
                options: OptionList::EMPTY
            }))
        );
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00octet\x00blksize\x00512"),
            Err(PacketError::Unterminated)
        );
        assert_eq!(Direction::of_request(b"\x00\x02f"), Some(Direction::Write));
        assert_eq!(Direction::of_request(b"\x00\x05\x00\x00"), None);
        assert_eq!(
            Packet::parse(b"\x00\x01file\x00octet"),
            Err(PacketError::Unterminated)
        );
        assert_eq!(
            Packet::parse(b"\x00\x02f\x00binary\x00"),
            Err(PacketError::UnknownMode)
        );
        assert_eq!(Packet::parse(b"\x00\x03\x00"), Err(PacketError::Truncated));
        assert_eq!(Packet::parse(b"\x00\x04"), Err(PacketError::Truncated));
    }

    #[test]
    fn dangling_option_name_is_dropped() {
        let d = b"\x00\x01f\x00octet\x00blksize\x001024\x00tsize\x00";
        let Packet::Rrq(r) = Packet::parse(d).unwrap() else {
            panic!()
        };
        assert_eq!(r.options.iter().count(), 1);
    }

    #[test]
    fn empty_option_value_is_kept_as_empty() {
        let d = b"\x00\x01f\x00octet\x00tsize\x00\x00";
        let Packet::Rrq(r) = Packet::parse(d).unwrap() else {
            panic!()
        };
        assert_eq!(r.options.get("tsize"), Some(&b""[..]));
    }

    #[test]
    fn error_without_nul_is_tolerated() {
        let p = Packet::parse(b"\x00\x05\x00\x08abort").unwrap();
        assert_eq!(
            p,
            Packet::Error {
                code: ErrorCode::OptionRefused,
                message: b"abort"
            }
        );
    }

    #[test]
    fn encodes_each_kind() {
        let mut buf = [0u8; 64];
        let n = Packet::Ack { block: 0x1234 }.encode(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"\x00\x04\x12\x34");
        let n = encode_error(&mut buf, ErrorCode::FileNotFound, "File not found").unwrap();
        assert_eq!(&buf[..n], b"\x00\x05\x00\x01File not found\x00");
        let n = encode_with_options(
            &mut buf,
            Opcode::Oack,
            None,
            [("BlkSize", "1408"), ("tsize", "99")],
        )
        .unwrap();
        assert_eq!(&buf[..n], b"\x00\x06BlkSize\x001408\x00tsize\x0099\x00");
        let n = encode_with_options(
            &mut buf,
            Opcode::Rrq,
            Some((b"a/b", Mode::Netascii)),
            [("windowsize", "4")],
        )
        .unwrap();
        assert_eq!(&buf[..n], b"\x00\x01a/b\x00netascii\x00windowsize\x004\x00");
        assert_eq!(data_header(65535), [0, 3, 255, 255]);
    }

    use proptest::prelude::*;

    fn name() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(1u8..=255, 0..40)
    }

    proptest! {
        #[test]
        fn request_round_trip(
            file in name(),
            netascii in any::<bool>(),
            opts in proptest::collection::vec((name(), name()), 0..6),
            write in any::<bool>(),
        ) {
            let mut raw = Vec::new();
            for (n, v) in &opts {
                raw.extend_from_slice(n);
                raw.push(0);
                raw.extend_from_slice(v);
                raw.push(0);
            }
            let req = Request {
                filename: &file,
                mode: if netascii { Mode::Netascii } else { Mode::Octet },
                options: OptionList::new(&raw),
            };
            let p = if write { Packet::Wrq(req) } else { Packet::Rrq(req) };
            let mut buf = vec![0u8; p.encoded_len()];
            prop_assert_eq!(p.encode(&mut buf).unwrap(), buf.len());
            let back = Packet::parse(&buf).unwrap();
            prop_assert_eq!(back, p);
            let pairs: Vec<_> = back_options(&back);
            prop_assert_eq!(pairs, opts);
        }

        #[test]
        fn data_ack_error_oack_round_trip(
            block in any::<u16>(),
            payload in proptest::collection::vec(any::<u8>(), 0..1500),
            code in 0u16..20,
            message in name(),
        ) {
            let raw_opts = b"blksize\x001468\x00tsize\x0099\x00";
            for p in [
                Packet::Data { block, payload: &payload },
                Packet::Ack { block },
                Packet::Error { code: ErrorCode::from_u16(code), message: &message },
                Packet::Oack(OptionList::new(raw_opts)),
            ] {
                let mut buf = vec![0u8; p.encoded_len()];
                p.encode(&mut buf).unwrap();
                prop_assert_eq!(Packet::parse(&buf).unwrap(), p);
            }
        }

        #[test]
        fn parse_never_panics(data in proptest::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(p) = Packet::parse(&data) {
                let mut buf = vec![0u8; p.encoded_len()];
                p.encode(&mut buf).unwrap();
                prop_assert_eq!(Packet::parse(&buf).unwrap(), p);
            }
        }
    }

    fn back_options(p: &Packet<'_>) -> Vec<(Vec<u8>, Vec<u8>)> {
        match p {
            Packet::Rrq(r) | Packet::Wrq(r) => r
                .options
                .iter()
                .map(|(n, v)| (n.to_vec(), v.to_vec()))
                .collect(),
            _ => Vec::new(),
        }
    }

    #[test]
    fn encode_checks_buffer() {
        let mut small = [0u8; 3];
        assert_eq!(
            Packet::Ack { block: 1 }.encode(&mut small),
            Err(BufferTooSmall {
                needed: 4,
                available: 3
            })
        );
    }
}
