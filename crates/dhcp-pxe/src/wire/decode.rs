//! Decoding: header, magic cookie, options, overloaded `file`/`sname` and RFC 3396 joining.
//!
//! Two modes:
//! - [`decode_strict`] fails on the first bad option and names its code and offset;
//! - [`decode_tolerant`] keeps every option that is valid, drops the rest and lists
//!   them in [`Decoded::dropped`]. It fails only when there is no message at all
//!   (short header, wrong cookie).
//!
//! Every slice access below goes through `get`, so no input can make decoding panic.

use std::net::Ipv4Addr;

use super::code::{codes, spec};
use super::message::{
    Flags, Message, Opcode, Options, FILE_LEN, HEADER_LEN, MAGIC_COOKIE, SNAME_LEN,
};
use crate::error::DecodeError;

/// Offset of `sname` in the header.
const SNAME_OFFSET: usize = 44;
/// Offset of `file` in the header.
const FILE_OFFSET: usize = 108;

/// How to treat a bad option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fail on the first bad option.
    Strict,
    /// Drop bad options and report them.
    Tolerant,
}

/// Where an option was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// The options field.
    Options,
    /// The `file` field, overloaded (RFC 2132 §9.3).
    File,
    /// The `sname` field, overloaded.
    Sname,
}

/// An option (or the rest of an area) that tolerant decoding left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dropped {
    /// Option code.
    pub code: u8,
    /// Offset of its code byte in the message.
    pub offset: usize,
    /// Where it was.
    pub area: Area,
    /// Why it was dropped.
    pub reason: &'static str,
}

/// The result of a tolerant decode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// The message with every valid option.
    pub message: Message,
    /// What was left out, in the order it was met.
    pub dropped: Vec<Dropped>,
}

/// Decodes a message; the first malformed option is an error naming its code and offset.
pub fn decode_strict(bytes: &[u8]) -> Result<Message, DecodeError> {
    decode(bytes, Mode::Strict).map(|d| d.message)
}

/// Decodes a message, keeping what is valid and reporting what was dropped.
pub fn decode_tolerant(bytes: &[u8]) -> Result<Decoded, DecodeError> {
    decode(bytes, Mode::Tolerant)
}

/// Decodes a message in the given mode.
pub fn decode(bytes: &[u8], mode: Mode) -> Result<Decoded, DecodeError> {
    let header = bytes
        .get(..HEADER_LEN + 4)
        .ok_or(DecodeError::Truncated { len: bytes.len() })?;
    let mut cookie = [0; 4];
    cookie.copy_from_slice(&header[HEADER_LEN..]);
    if cookie != MAGIC_COOKIE {
        return Err(DecodeError::BadCookie(cookie));
    }
    let u32_at =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let ip_at = |i: usize| Ipv4Addr::from(u32_at(i));
    let mut chaddr = [0; 16];
    chaddr.copy_from_slice(&header[28..44]);
    let sname_field = &header[SNAME_OFFSET..SNAME_OFFSET + SNAME_LEN];
    let file_field = &header[FILE_OFFSET..FILE_OFFSET + FILE_LEN];

    let mut state = State {
        mode,
        chunks: Vec::new(),
        dropped: Vec::new(),
    };
    let main = bytes.get(HEADER_LEN + 4..).unwrap_or(&[]);
    let ended = state.area(main, HEADER_LEN + 4, Area::Options)?;

    // Option overload (RFC 2132 §9.3) is read from the options field only.
    let mut overload = 0u8;
    if let Some(i) = state.chunks.iter().position(|c| c.code == codes::OVERLOAD) {
        let c = state.chunks.remove(i);
        match c.data.as_slice() {
            [v @ 1..=3] => overload = *v,
            _ => state.bad(
                c.code,
                c.offset,
                Area::Options,
                "overload must be one byte 1, 2 or 3",
            )?,
        }
        state.chunks.retain(|c| c.code != codes::OVERLOAD);
    }
    // RFC 3396 §7: options field, then `file`, then `sname`.
    if overload & 1 != 0 {
        state.area(file_field, FILE_OFFSET, Area::File)?;
    }
    if overload & 2 != 0 {
        state.area(sname_field, SNAME_OFFSET, Area::Sname)?;
    }
    state.chunks.retain(|c| c.code != codes::OVERLOAD);

    let options = state.join()?;
    // Reported after the option checks, so that a bad option earlier in the area wins.
    if !ended && mode == Mode::Strict {
        return Err(DecodeError::MissingEnd { area: "options" });
    }
    let text = |field: &[u8], used: bool| {
        if used {
            Vec::new()
        } else {
            field.iter().take_while(|&&b| b != 0).copied().collect()
        }
    };
    let message = Message {
        op: Opcode::from(header[0]),
        htype: header[1],
        hlen: header[2],
        hops: header[3],
        xid: u32_at(4),
        secs: u16::from_be_bytes([header[8], header[9]]),
        flags: Flags::from(u16::from_be_bytes([header[10], header[11]])),
        ciaddr: ip_at(12),
        yiaddr: ip_at(16),
        siaddr: ip_at(20),
        giaddr: ip_at(24),
        chaddr,
        sname: text(sname_field, overload & 2 != 0),
        file: text(file_field, overload & 1 != 0),
        options,
    };
    Ok(Decoded {
        message,
        dropped: state.dropped,
    })
}

/// One option instance as found on the wire.
#[derive(Debug)]
struct Chunk {
    code: u8,
    offset: usize,
    area: Area,
    data: Vec<u8>,
}

#[derive(Debug)]
struct State {
    mode: Mode,
    chunks: Vec<Chunk>,
    dropped: Vec<Dropped>,
}

impl State {
    /// Records a bad option: an error in strict mode, a drop in tolerant mode.
    fn bad(
        &mut self,
        code: u8,
        offset: usize,
        area: Area,
        reason: &'static str,
    ) -> Result<(), DecodeError> {
        match self.mode {
            Mode::Strict => Err(DecodeError::Malformed {
                code,
                offset,
                reason,
            }),
            Mode::Tolerant => {
                self.dropped.push(Dropped {
                    code,
                    offset,
                    area,
                    reason,
                });
                Ok(())
            }
        }
    }

    /// Reads the TLVs of one area; returns whether an End option was met.
    fn area(&mut self, bytes: &[u8], base: usize, area: Area) -> Result<bool, DecodeError> {
        let mut i = 0;
        while let Some(&code) = bytes.get(i) {
            match code {
                codes::PAD => i += 1,
                codes::END => return Ok(true),
                _ => {
                    let offset = base + i;
                    let Some(&len) = bytes.get(i + 1) else {
                        return self.overrun(code, offset, area).map(|_| false);
                    };
                    let Some(data) = bytes.get(i + 2..i + 2 + usize::from(len)) else {
                        return self.overrun(code, offset, area).map(|_| false);
                    };
                    self.chunks.push(Chunk {
                        code,
                        offset,
                        area,
                        data: data.to_vec(),
                    });
                    i += 2 + usize::from(len);
                }
            }
        }
        Ok(false)
    }

    fn overrun(&mut self, code: u8, offset: usize, area: Area) -> Result<(), DecodeError> {
        match self.mode {
            // A malformed option before the overrun is the first bad option.
            Mode::Strict => Err(self
                .first_malformed()
                .unwrap_or(DecodeError::Overrun { code, offset })),
            Mode::Tolerant => {
                self.dropped.push(Dropped {
                    code,
                    offset,
                    area,
                    reason: "length runs past the end of the area; rest of the area dropped",
                });
                Ok(())
            }
        }
    }

    /// The first option collected so far whose (joined) payload fails the table check.
    fn first_malformed(&self) -> Option<DecodeError> {
        let mut joined = Options::new();
        for c in &self.chunks {
            joined.append(c.code, &c.data);
        }
        self.chunks.iter().find_map(|c| {
            let data = joined.get(c.code)?;
            let reason = spec(c.code)?.payload.check(data.len()).err()?;
            Some(DecodeError::Malformed {
                code: c.code,
                offset: c.offset,
                reason,
            })
        })
    }

    /// Joins split instances (RFC 3396) and checks each option against the table.
    fn join(&mut self) -> Result<Options, DecodeError> {
        let mut joined = Options::new();
        let mut first: Vec<(u8, usize, Area)> = Vec::new();
        for c in std::mem::take(&mut self.chunks) {
            if !joined.contains(c.code) {
                first.push((c.code, c.offset, c.area));
            }
            joined.append(c.code, &c.data);
        }
        let mut out = Options::new();
        for (code, offset, area) in first {
            let data = joined.get(code).unwrap_or(&[]);
            let check = spec(code).map_or(Ok(()), |s| s.payload.check(data.len()));
            match check {
                Ok(()) => out.insert(code, data.to_vec()),
                Err(reason) => self.bad(code, offset, area, reason)?,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(options: &[u8]) -> Vec<u8> {
        let mut p = vec![0u8; HEADER_LEN];
        p[0] = 1;
        p[1] = 1;
        p[2] = 6;
        p.extend_from_slice(&MAGIC_COOKIE);
        p.extend_from_slice(options);
        p
    }

    #[test]
    fn short_and_bad_cookie_fail() {
        assert_eq!(
            decode_strict(&[0; 10]),
            Err(DecodeError::Truncated { len: 10 })
        );
        let mut p = packet(&[255]);
        p[HEADER_LEN] = 1;
        assert!(matches!(decode_strict(&p), Err(DecodeError::BadCookie(_))));
    }

    #[test]
    fn strict_names_first_bad_option_and_offset() {
        let p = packet(&[53, 1, 1, 57, 3, 1, 2, 3, 60, 1, b'x', 255]);
        assert_eq!(
            decode_strict(&p),
            Err(DecodeError::Malformed {
                code: 57,
                offset: 243,
                reason: "length must be 2"
            })
        );
    }

    #[test]
    fn tolerant_keeps_later_options_after_a_bad_one() {
        let p = packet(&[53, 1, 1, 57, 3, 1, 2, 3, 60, 1, b'x', 255]);
        let d = decode_tolerant(&p).unwrap();
        assert_eq!(d.message.options.get(60), Some(&b"x"[..]));
        assert_eq!(d.dropped.len(), 1);
        assert_eq!(d.dropped[0].code, 57);
    }

    #[test]
    fn overrun_is_reported() {
        let p = packet(&[53, 1, 1, 60, 9, b'x']);
        assert_eq!(
            decode_strict(&p),
            Err(DecodeError::Overrun {
                code: 60,
                offset: 243
            })
        );
        let d = decode_tolerant(&p).unwrap();
        assert_eq!(
            d.message.message_type(),
            Some(dhcproto::v4::MessageType::Discover)
        );
        assert_eq!(d.dropped[0].offset, 243);
    }

    #[test]
    fn strict_reports_the_earliest_problem() {
        // A bad 57 before an overrun: the 57 is reported.
        let p = packet(&[53, 1, 1, 57, 1, 9, 60, 9, b'x']);
        assert!(matches!(
            decode_strict(&p),
            Err(DecodeError::Malformed {
                code: 57,
                offset: 243,
                ..
            })
        ));
        // A bad 57 and no End: the 57 is reported.
        let p = packet(&[53, 1, 1, 57, 1, 9]);
        assert!(matches!(
            decode_strict(&p),
            Err(DecodeError::Malformed { code: 57, .. })
        ));
    }

    #[test]
    fn missing_end_is_strict_only() {
        let p = packet(&[53, 1, 1]);
        assert_eq!(
            decode_strict(&p),
            Err(DecodeError::MissingEnd { area: "options" })
        );
        assert!(decode_tolerant(&p).is_ok());
    }

    #[test]
    fn split_options_are_joined() {
        let p = packet(&[43, 2, 1, 2, 53, 1, 1, 43, 1, 3, 255]);
        let m = decode_strict(&p).unwrap();
        assert_eq!(m.options.get(43), Some(&[1, 2, 3][..]));
    }

    #[test]
    fn overloaded_file_and_sname_are_read_in_order() {
        let mut p = packet(&[53, 1, 2, 52, 1, 3, 67, 1, b'a', 255]);
        p[FILE_OFFSET..FILE_OFFSET + 4].copy_from_slice(&[67, 1, b'b', 255]);
        p[SNAME_OFFSET..SNAME_OFFSET + 4].copy_from_slice(&[67, 1, b'c', 255]);
        let m = decode_strict(&p).unwrap();
        assert_eq!(m.options.get(67), Some(&b"abc"[..]));
        assert!(m.file.is_empty() && m.sname.is_empty());
        assert!(!m.options.contains(52));
    }

    #[test]
    fn file_and_sname_stop_at_nul() {
        let mut p = packet(&[255]);
        p[FILE_OFFSET..FILE_OFFSET + 3].copy_from_slice(b"a.0");
        p[SNAME_OFFSET] = b's';
        let m = decode_strict(&p).unwrap();
        assert_eq!(m.file, b"a.0");
        assert_eq!(m.sname, b"s");
    }
}
