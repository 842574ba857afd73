//! Client-supplied text in log lines: file names, option names and values,
//! remapped names, ERROR messages from peers.
//!
//! A name is any bytes but NUL, up to 65 KB, so written as it is it could end
//! a log line and forge the next one, or fill the log. [`LogText`] displays
//! it escaped and capped: control characters (C0, DEL, C1) as `\n`, `\r`,
//! `\t` or `\xNN`, a backslash as `\\`, bytes that are not UTF-8 as `\xNN`,
//! and after [`MAX_LOGGED`] bytes of input a marker with the length left out.

use std::fmt::{self, Write as _};

/// Input bytes shown at most; the rest is summarised as `…(+N bytes)`.
pub const MAX_LOGGED: usize = 256;

/// Displays client bytes escaped and capped; see the module documentation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct LogText<'a>(pub &'a [u8]);

impl<'a> LogText<'a> {
    /// Wraps text given as a `str` (an ERROR message already decoded, say).
    pub fn str(text: &'a str) -> Self {
        Self(text.as_bytes())
    }
}

impl LogText<'_> {
    /// Writes the text escaped; `quoted` also escapes `"` (for a quoted value).
    fn write(&self, f: &mut fmt::Formatter<'_>, quoted: bool) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(MAX_LOGGED)];
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                match c {
                    '\\' => f.write_str("\\\\")?,
                    '\n' => f.write_str("\\n")?,
                    '\r' => f.write_str("\\r")?,
                    '\t' => f.write_str("\\t")?,
                    '"' if quoted => f.write_str("\\\"")?,
                    c if c.is_control() => write!(f, "\\x{{{:x}}}", u32::from(c))?,
                    c => f.write_char(c)?,
                }
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        if self.0.len() > shown.len() {
            write!(f, "…(+{} bytes)", self.0.len() - shown.len())?;
        }
        Ok(())
    }
}

/// The escaped text as it is (tftp-hpa's request line).
impl fmt::Display for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

/// The escaped text in double quotes, `"` escaped too: a structured field's
/// value, which a client cannot end early to add fields of its own.
impl fmt::Debug for LogText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        self.write(f, true)?;
        f.write_str("\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(b: &[u8]) -> String {
        LogText(b).to_string()
    }

    #[test]
    fn plain_names_are_unchanged() {
        assert_eq!(show(b"pxelinux.0"), "pxelinux.0");
        assert_eq!(show("ünïcode.txt".as_bytes()), "ünïcode.txt");
    }

    #[test]
    fn a_newline_cannot_start_a_line() {
        let forged = b"x\n2026-11-30T00:00:00Z INFO transfer outcome=complete\r\x1b[2J";
        let s = show(forged);
        assert!(!s.contains('\n') && !s.contains('\r') && !s.contains('\x1b'));
        assert!(s.starts_with("x\\n2026"));
        assert!(s.ends_with("\\r\\x{1b}[2J"));
    }

    #[test]
    fn backslashes_and_bad_bytes_are_escaped() {
        assert_eq!(show(b"a\\b"), "a\\\\b");
        assert_eq!(show(b"a\xffb\x7f"), "a\\xffb\\x{7f}");
        assert_eq!(show("a\u{85}b".as_bytes()), "a\\x{85}b");
    }

    #[test]
    fn quoted_values_cannot_be_closed_early() {
        let v = format!("{:?}", LogText(b"a\" peer=\"x"));
        assert_eq!(v, "\"a\\\" peer=\\\"x\"");
        assert_eq!(LogText(b"a\"b").to_string(), "a\"b");
    }

    #[test]
    fn long_names_are_capped() {
        let long = vec![b'a'; 65_000];
        let s = show(&long);
        assert!(s.len() < MAX_LOGGED + 32, "{}", s.len());
        assert!(s.ends_with(&format!("…(+{} bytes)", 65_000 - MAX_LOGGED)));
        // A cut inside a multi-byte character shows the cut bytes escaped.
        let mut cut = vec![b'a'; MAX_LOGGED - 1];
        cut.extend_from_slice("é".as_bytes());
        assert!(show(&cut).contains("\\xc3…(+1 bytes)"));
    }
}
