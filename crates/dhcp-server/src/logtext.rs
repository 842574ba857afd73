//! Client-supplied text in log lines: escaped and capped, so that a host name,
//! vendor class or client id can neither forge a line (a newline, a terminal
//! escape) nor flood the log (a 255-byte option, RFC 3396 joined to more).

use std::fmt;

/// Client bytes shown at most in one field of a log line.
pub const MAX_SHOWN: usize = 64;

/// Displays client bytes: printable ASCII as is (`\` and `"` escaped), anything
/// else as `\xNN`, at most `max` bytes, then `…(+N bytes)`.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a> {
    bytes: &'a [u8],
    max: usize,
}

impl<'a> Escaped<'a> {
    /// `bytes`, capped at [`MAX_SHOWN`].
    pub fn new(bytes: &'a [u8]) -> Self {
        Self {
            bytes,
            max: MAX_SHOWN,
        }
    }

    /// `bytes`, capped at `max`.
    pub fn capped(bytes: &'a [u8], max: usize) -> Self {
        Self { bytes, max }
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.bytes[..self.bytes.len().min(self.max)];
        for &b in shown {
            match b {
                b'\\' => f.write_str("\\\\")?,
                b'"' => f.write_str("\\\"")?,
                0x20..=0x7e => fmt::Write::write_char(f, char::from(b))?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        if self.bytes.len() > shown.len() {
            write!(f, "…(+{} bytes)", self.bytes.len() - shown.len())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_and_length_capped() {
        let s = Escaped::new(b"pc\n2026-11-30 INFO ACK \x1b[2J\"\\").to_string();
        assert_eq!(s, "pc\\x0a2026-11-30 INFO ACK \\x1b[2J\\\"\\\\");
        let long = vec![b'a'; 300];
        let s = Escaped::new(&long).to_string();
        assert!(
            s.starts_with(&"a".repeat(64)) && s.ends_with("…(+236 bytes)"),
            "{s}"
        );
        assert_eq!(Escaped::capped("é".as_bytes(), 8).to_string(), "\\xc3\\xa9");
    }
}
