//! Byte ranges (RFC 9110 §14): the `Range` header and what it selects.
//!
//! One range is served as asked: `bytes=a-b`, `bytes=a-` and the suffix
//! form `bytes=-n` (the last `n` bytes). A range that starts past the end
//! (or a suffix of 0 bytes, or any range of an empty file) is unsatisfiable:
//! `416` with `Content-Range: bytes */LEN`. An end past the file is cut to
//! the file (RFC 9110 §14.1.2).
//!
//! A header the server ignores, which the RFC allows (§14.2), so the reply
//! is the whole file with `200`: another unit than `bytes`, a syntax error,
//! and several ranges (`bytes=0-1,5-6`; a multipart reply helps no boot
//! loader, and one `200` is always a correct answer).

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// No usable `Range` header: the whole file.
    Whole,
    /// `bytes=FIRST-LAST` (both inclusive).
    FromTo(u64, u64),
    /// `bytes=FIRST-`.
    From(u64),
    /// `bytes=-N`: the last `N` bytes.
    Suffix(u64),
}

/// Why a range cannot be served (status 416).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

impl RangeRequest {
    /// Reads a `Range` header value (`None`: no header).
    pub fn parse(value: Option<&[u8]>) -> Self {
        let Some(value) = value.and_then(|v| std::str::from_utf8(v).ok()) else {
            return Self::Whole;
        };
        let Some((unit, set)) = value.trim().split_once('=') else {
            return Self::Whole;
        };
        if !unit.trim().eq_ignore_ascii_case("bytes") || set.contains(',') {
            return Self::Whole;
        }
        let Some((first, last)) = set.trim().split_once('-') else {
            return Self::Whole;
        };
        match (number(first), number(last)) {
            (Some(a), Some(b)) if a <= b => Self::FromTo(a, b),
            (Some(a), None) if last.is_empty() => Self::From(a),
            (None, Some(n)) if first.is_empty() => Self::Suffix(n),
            _ => Self::Whole,
        }
    }

    /// The bytes `start..end` (end exclusive) of a file of `len` bytes.
    pub fn resolve(self, len: u64) -> Result<(u64, u64), Unsatisfiable> {
        let (start, end) = match self {
            Self::Whole => return Ok((0, len)),
            Self::FromTo(a, b) => (a, b.saturating_add(1).min(len)),
            Self::From(a) => (a, len),
            Self::Suffix(0) => return Err(Unsatisfiable),
            Self::Suffix(n) => (len.saturating_sub(n), len),
        };
        if start >= len {
            return Err(Unsatisfiable);
        }
        Ok((start, end))
    }
}

/// A run of ASCII digits (`1*DIGIT`) that fits in a `u64`.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: &str) -> RangeRequest {
        RangeRequest::parse(Some(v.as_bytes()))
    }

    #[test]
    fn the_three_forms() {
        assert_eq!(parse("bytes=0-499"), RangeRequest::FromTo(0, 499));
        assert_eq!(parse("bytes=500-"), RangeRequest::From(500));
        assert_eq!(parse("bytes=-500"), RangeRequest::Suffix(500));
        assert_eq!(parse("Bytes = 7-7 "), RangeRequest::FromTo(7, 7));
        assert_eq!(RangeRequest::parse(None), RangeRequest::Whole);
    }

    #[test]
    fn ignored_headers_mean_the_whole_file() {
        for v in [
            "bytes=0-1,5-6",
            "items=0-1",
            "bytes=5-4",
            "bytes=-",
            "bytes=a-b",
            "bytes=+1-2",
            "bytes 0-1",
            "bytes=0-99999999999999999999999",
            "bytes=--1",
        ] {
            assert_eq!(parse(v), RangeRequest::Whole, "{v}");
        }
        assert_eq!(
            RangeRequest::parse(Some(b"bytes=\xff-1")),
            RangeRequest::Whole
        );
    }

    #[test]
    fn resolution_against_the_length() {
        assert_eq!(RangeRequest::Whole.resolve(10), Ok((0, 10)));
        assert_eq!(RangeRequest::Whole.resolve(0), Ok((0, 0)));
        assert_eq!(RangeRequest::FromTo(2, 4).resolve(10), Ok((2, 5)));
        assert_eq!(RangeRequest::FromTo(2, u64::MAX).resolve(10), Ok((2, 10)));
        assert_eq!(RangeRequest::From(9).resolve(10), Ok((9, 10)));
        assert_eq!(RangeRequest::Suffix(3).resolve(10), Ok((7, 10)));
        assert_eq!(RangeRequest::Suffix(30).resolve(10), Ok((0, 10)));
        for r in [
            RangeRequest::FromTo(10, 20),
            RangeRequest::From(10),
            RangeRequest::Suffix(0),
        ] {
            assert_eq!(r.resolve(10), Err(Unsatisfiable), "{r:?}");
        }
        assert_eq!(RangeRequest::Suffix(1).resolve(0), Err(Unsatisfiable));
        assert_eq!(RangeRequest::From(0).resolve(0), Err(Unsatisfiable));
    }
}
