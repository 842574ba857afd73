//! Option negotiation: blksize (RFC 2348), timeout and tsize (RFC 2349),
//! windowsize (RFC 7440), and tftp-hpa's utimeout, blksize2 and rollover.
//!
//! The server side is liberal: out-of-range values are clamped where the RFCs
//! allow a smaller answer (blksize, windowsize), and ignored (left out of the
//! OACK, so the default applies) where they do not. The OACK lists only the
//! options the client asked for, spelled as the client spelled them, in the
//! client's order.

use std::time::Duration;

use crate::packet::{OptionList, DEFAULT_BLKSIZE};

/// Largest blksize of RFC 2348.
pub const MAX_BLKSIZE: u16 = 65464;
/// Smallest blksize of RFC 2348.
pub const MIN_BLKSIZE: u16 = 8;
/// Every option [`negotiate`] knows, lower case: RFC 2348/2349/7440 and
/// tftp-hpa's `blksize2`, `utimeout`, `rollover`. These are the names
/// [`Limits::refused`] can name (`in.tftpd -r`).
pub const OPTION_NAMES: &[&str] = &[
    "blksize",
    "blksize2",
    "tsize",
    "timeout",
    "utimeout",
    "rollover",
    "windowsize",
];
/// tftp-hpa 6.0's default cap on window bytes (`--window-bytes`, 4 MiB).
pub const DEFAULT_MAX_WINDOW_BYTES: u64 = 4 << 20;

/// What the server allows; set from the command line (`-B`, `-W`, `-r`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest block size granted (`-B`); at most 65464.
    pub max_blksize: u16,
    /// Largest window granted (`-W`).
    pub max_windowsize: u16,
    /// Largest window in bytes, blksize × windowsize (tftp-hpa 6.0's
    /// `--window-bytes`); `None`: no cap. Applied after both options are
    /// negotiated, whatever their order in the request.
    pub max_window_bytes: Option<u64>,
    /// Option names never acknowledged (`-r`), lower case.
    pub refused: Vec<String>,
    /// Largest file a WRQ may announce with `tsize`; larger ones get ERROR 3.
    pub max_tsize_write: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_blksize: MAX_BLKSIZE,
            max_windowsize: 64,
            max_window_bytes: None,
            refused: Vec::new(),
            max_tsize_write: None,
        }
    }
}

impl Limits {
    fn refuses(&self, name: &str) -> bool {
        self.refused.iter().any(|r| r.eq_ignore_ascii_case(name))
    }
}

pub use crate::packet::Direction;

/// `timeout` values in seconds (RFC 2349).
const TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=255;
/// tftp-hpa's `utimeout` values in microseconds (also the range of its `-T`).
pub const UTIMEOUT_MICROS: std::ops::RangeInclusive<u64> = 10_000..=255_000_000;

/// What block number follows 65535.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Rollover {
    /// 65535 → 0: tftp-hpa, atftp, dnsmasq, U-Boot (the default).
    #[default]
    ToZero,
    /// 65535 → 1.
    ToOne,
}

/// Transfer parameters after negotiation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Negotiated {
    /// Block size.
    pub blksize: u16,
    /// Window size (1 = lockstep).
    pub windowsize: u16,
    /// Retransmission interval the client asked for (timeout or utimeout).
    pub timeout: Option<Duration>,
    /// RRQ: the size reported; WRQ: the size announced by the client.
    pub tsize: Option<u64>,
    /// Block number after 65535.
    pub rollover: Rollover,
    /// The OACK to send: `(name as the client spelled it, value)`, empty when no option was taken.
    pub oack: Vec<(String, String)>,
}

impl Default for Negotiated {
    fn default() -> Self {
        Self {
            blksize: DEFAULT_BLKSIZE,
            windowsize: 1,
            timeout: None,
            tsize: None,
            rollover: Rollover::ToZero,
            oack: Vec::new(),
        }
    }
}

/// A WRQ announced more bytes than the server accepts (sent as ERROR 3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("announced size {announced} exceeds the limit {limit}")]
pub struct TooLarge {
    /// tsize sent by the client.
    pub announced: u64,
    /// The server's limit.
    pub limit: u64,
}

fn number(v: &[u8]) -> Option<u64> {
    if v.is_empty() || v.len() > 20 || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(v).ok()?.parse().ok()
}

/// A request whose option value the server refuses with ERROR 8 (RFC 2347)
/// instead of leaving the option out of the OACK.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Unsupported option(s) requested")]
pub struct OptionRefused {
    /// The option's name as the client spelled it.
    pub name: String,
    /// Its value.
    pub value: String,
}

/// The values tftp-hpa refuses with ERROR 8 rather than ignoring: a number
/// below 8 for `blksize` or `blksize2`, a `timeout` outside 1–255 s, a
/// `utimeout` outside 10 ms–255 s. Values that are not numbers, numbers too
/// large for `blksize` (clamped), unknown options and options refused by
/// [`Limits::refused`] pass; [`negotiate`] ignores or clamps them.
pub fn check(options: &OptionList<'_>, limits: &Limits) -> Result<(), OptionRefused> {
    for (name, value) in options.iter() {
        let Ok(spelled) = std::str::from_utf8(name) else {
            continue;
        };
        let lower = spelled.to_ascii_lowercase();
        if limits.refuses(&lower) {
            continue;
        }
        let Some(n) = number(value) else { continue };
        let bad = match lower.as_str() {
            "blksize" | "blksize2" => n < u64::from(MIN_BLKSIZE),
            "timeout" => !TIMEOUT_SECS.contains(&n),
            "utimeout" => !UTIMEOUT_MICROS.contains(&n),
            _ => false,
        };
        if bad {
            return Err(OptionRefused {
                name: spelled.to_owned(),
                value: String::from_utf8_lossy(value).into_owned(),
            });
        }
    }
    Ok(())
}

/// Negotiates a request's options.
///
/// `file_size` is the size to report for an RRQ `tsize` (after netascii
/// conversion); `None` leaves tsize out of the OACK.
pub fn negotiate(
    options: &OptionList<'_>,
    direction: Direction,
    file_size: Option<u64>,
    limits: &Limits,
) -> Result<Negotiated, TooLarge> {
    let mut out = Negotiated::default();
    let mut seen: Vec<&'static str> = Vec::new();
    for (name, value) in options.iter() {
        let Ok(spelled) = std::str::from_utf8(name) else {
            continue;
        };
        let lower = spelled.to_ascii_lowercase();
        let key: &'static str = match lower.as_str() {
            "blksize" => "blksize",
            "blksize2" => "blksize2",
            "timeout" => "timeout",
            "utimeout" => "utimeout",
            "tsize" => "tsize",
            "windowsize" => "windowsize",
            "rollover" => "rollover",
            _ => continue, // unknown options are ignored (RFC 2347)
        };
        // blksize and blksize2 set the same parameter; so do timeout and utimeout.
        let slot = match key {
            "blksize2" => "blksize",
            "utimeout" => "timeout",
            k => k,
        };
        if seen.contains(&slot) || limits.refuses(key) {
            continue;
        }
        let Some(n) = number(value) else { continue };
        let reply: Option<u64> = match key {
            "blksize" if n >= u64::from(MIN_BLKSIZE) => {
                let b = n.min(u64::from(
                    limits.max_blksize.clamp(MIN_BLKSIZE, MAX_BLKSIZE),
                ));
                out.blksize = b as u16;
                Some(b)
            }
            "blksize2" if n >= u64::from(MIN_BLKSIZE) => {
                // The largest power of two not above the request, the cap and 32768.
                let cap = n.min(u64::from(limits.max_blksize)).min(32768);
                let b = 1u64 << (63 - cap.leading_zeros());
                (b >= u64::from(MIN_BLKSIZE)).then(|| {
                    out.blksize = b as u16;
                    b
                })
            }
            "timeout" if TIMEOUT_SECS.contains(&n) => {
                out.timeout = Some(Duration::from_secs(n));
                Some(n)
            }
            "utimeout" if UTIMEOUT_MICROS.contains(&n) => {
                out.timeout = Some(Duration::from_micros(n));
                Some(n)
            }
            "tsize" => match direction {
                Direction::Read => file_size.inspect(|s| out.tsize = Some(*s)),
                Direction::Write => {
                    if let Some(limit) = limits.max_tsize_write {
                        if n > limit {
                            return Err(TooLarge {
                                announced: n,
                                limit,
                            });
                        }
                    }
                    out.tsize = Some(n);
                    Some(n)
                }
            },
            "windowsize" if n >= 1 => {
                let w = n.min(u64::from(limits.max_windowsize.max(1)));
                out.windowsize = w as u16;
                Some(w)
            }
            "rollover" if n <= 1 => {
                out.rollover = if n == 0 {
                    Rollover::ToZero
                } else {
                    Rollover::ToOne
                };
                Some(n)
            }
            _ => None,
        };
        if let Some(v) = reply {
            seen.push(slot);
            out.oack.push((spelled.to_owned(), v.to_string()));
        }
    }
    cap_window(&mut out, limits);
    Ok(out)
}

/// The byte cap on the window (`--window-bytes`), then tftp-hpa 6.0's rule
/// that a window of one block is not acknowledged at all: the transfer is
/// plain lockstep and the OACK leaves `windowsize` out.
fn cap_window(out: &mut Negotiated, limits: &Limits) {
    if let Some(cap) = limits.max_window_bytes {
        let fit = cap / u64::from(out.blksize);
        if fit < u64::from(out.windowsize) {
            out.windowsize = fit.max(1) as u16;
        }
    }
    let Some(at) = out
        .oack
        .iter()
        .position(|(name, _)| name.eq_ignore_ascii_case("windowsize"))
    else {
        return;
    };
    if out.windowsize < 2 {
        out.windowsize = 1;
        out.oack.remove(at);
    } else {
        out.oack[at].1 = out.windowsize.to_string();
    }
}

/// What a client asks for in its request.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    /// `blksize` to ask for.
    pub blksize: Option<u16>,
    /// `windowsize` to ask for.
    pub windowsize: Option<u16>,
    /// `timeout` in seconds to ask for.
    pub timeout: Option<u8>,
    /// Send `tsize` (0 on RRQ, the file size on WRQ).
    pub tsize: bool,
    /// `rollover` to ask for.
    pub rollover: Option<Rollover>,
}

impl RequestOptions {
    /// The pairs to put in the request; `size` is the WRQ file size.
    pub fn pairs(&self, size: Option<u64>) -> Vec<(String, String)> {
        let mut v = Vec::new();
        if let Some(b) = self.blksize {
            v.push(("blksize".into(), b.to_string()));
        }
        if let Some(w) = self.windowsize {
            v.push(("windowsize".into(), w.to_string()));
        }
        if let Some(t) = self.timeout {
            v.push(("timeout".into(), t.to_string()));
        }
        if self.tsize {
            v.push(("tsize".into(), size.unwrap_or(0).to_string()));
        }
        if let Some(r) = self.rollover {
            let s = if r == Rollover::ToOne { "1" } else { "0" };
            v.push(("rollover".into(), s.into()));
        }
        v
    }

    /// Applies a server's OACK. An option the server grew beyond the request,
    /// or did not know how to answer, is a protocol error (RFC 2347: ERROR 8).
    pub fn accept_oack(&self, oack: &OptionList<'_>) -> Result<Negotiated, String> {
        let mut out = Negotiated::default();
        for (name, value) in oack.iter() {
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            let n = number(value).ok_or_else(|| format!("bad value for {name}"))?;
            match name.as_str() {
                "blksize" => match self.blksize {
                    Some(asked) if n >= u64::from(MIN_BLKSIZE) && n <= u64::from(asked) => {
                        out.blksize = n as u16;
                    }
                    _ => return Err(format!("server answered blksize {n}")),
                },
                "windowsize" => match self.windowsize {
                    Some(asked) if n >= 1 && n <= u64::from(asked) => out.windowsize = n as u16,
                    _ => return Err(format!("server answered windowsize {n}")),
                },
                "timeout" => match self.timeout {
                    Some(_) if (1..=255).contains(&n) => out.timeout = Some(Duration::from_secs(n)),
                    _ => return Err(format!("server answered timeout {n}")),
                },
                "tsize" if self.tsize => out.tsize = Some(n),
                "rollover" if self.rollover.is_some() && n <= 1 => {
                    out.rollover = if n == 1 {
                        Rollover::ToOne
                    } else {
                        Rollover::ToZero
                    };
                }
                other => return Err(format!("server answered an option not asked for: {other}")),
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::Packet;

    fn opts(raw: &'static [u8]) -> OptionList<'static> {
        match Packet::parse(raw).unwrap() {
            Packet::Oack(o) => o,
            _ => unreachable!(),
        }
    }

    #[test]
    fn echoes_spelling_and_order() {
        let o = opts(b"\x00\x06TSize\x000\x00BLKSIZE\x001468\x00windowsize\x004\x00");
        let n = negotiate(&o, Direction::Read, Some(1000), &Limits::default()).unwrap();
        assert_eq!(n.blksize, 1468);
        assert_eq!(n.windowsize, 4);
        assert_eq!(n.tsize, Some(1000));
        assert_eq!(
            n.oack,
            vec![
                ("TSize".into(), "1000".into()),
                ("BLKSIZE".into(), "1468".into()),
                ("windowsize".into(), "4".into())
            ]
        );
    }

    #[test]
    fn clamps_and_ignores() {
        let limits = Limits {
            max_blksize: 1468,
            max_windowsize: 8,
            ..Limits::default()
        };
        let o = opts(b"\x00\x06blksize\x0099999\x00windowsize\x0064\x00timeout\x00300\x00foo\x00bar\x00rollover\x007\x00");
        let n = negotiate(&o, Direction::Read, None, &limits).unwrap();
        assert_eq!((n.blksize, n.windowsize, n.timeout), (1468, 8, None));
        assert_eq!(n.oack.len(), 2);
        let o = opts(b"\x00\x06blksize\x004\x00windowsize\x000\x00tsize\x00\x00");
        let n = negotiate(&o, Direction::Read, Some(5), &limits).unwrap();
        assert_eq!(n, Negotiated::default());
    }

    #[test]
    fn refused_and_duplicates() {
        let limits = Limits {
            refused: vec!["tsize".into()],
            ..Limits::default()
        };
        let o = opts(b"\x00\x06tsize\x000\x00blksize\x001024\x00blksize\x00512\x00");
        let n = negotiate(&o, Direction::Read, Some(1), &limits).unwrap();
        assert_eq!(n.oack, vec![("blksize".into(), "1024".into())]);
        assert_eq!(n.tsize, None);
    }

    #[test]
    fn blksize2_utimeout_rollover() {
        let o = opts(b"\x00\x06blksize2\x001500\x00utimeout\x00500000\x00rollover\x001\x00");
        let n = negotiate(&o, Direction::Read, None, &Limits::default()).unwrap();
        assert_eq!(n.blksize, 1024);
        assert_eq!(n.timeout, Some(Duration::from_millis(500)));
        assert_eq!(n.rollover, Rollover::ToOne);
    }

    #[test]
    fn write_tsize_limit() {
        let limits = Limits {
            max_tsize_write: Some(100),
            ..Limits::default()
        };
        let o = opts(b"\x00\x06tsize\x00101\x00");
        assert!(negotiate(&o, Direction::Write, None, &limits).is_err());
        let o = opts(b"\x00\x06tsize\x00100\x00");
        let n = negotiate(&o, Direction::Write, None, &limits).unwrap();
        assert_eq!(n.tsize, Some(100));
    }

    #[test]
    fn values_tftp_hpa_refuses() {
        let l = Limits::default();
        for raw in [
            &b"\x00\x06blksize\x000\x00"[..],
            b"\x00\x06BLKSIZE\x007\x00",
            b"\x00\x06blksize2\x004\x00",
            b"\x00\x06timeout\x000\x00",
            b"\x00\x06timeout\x00256\x00",
            b"\x00\x06utimeout\x005\x00",
        ] {
            assert!(check(&opts(raw), &l).is_err(), "{raw:?}");
        }
        for raw in [
            &b"\x00\x06blksize\x008\x00"[..],
            b"\x00\x06blksize\x0070000\x00",
            b"\x00\x06blksize\x00abc\x00",
            b"\x00\x06windowsize\x000\x00",
            b"\x00\x06rollover\x002\x00",
            b"\x00\x06frob\x000\x00",
        ] {
            assert!(check(&opts(raw), &l).is_ok(), "{raw:?}");
        }
        let refusing = Limits {
            refused: vec!["blksize".into()],
            ..Limits::default()
        };
        assert!(check(&opts(b"\x00\x06blksize\x000\x00"), &refusing).is_ok());
        let e = check(&opts(b"\x00\x06Timeout\x00300\x00"), &l).unwrap_err();
        assert_eq!((e.name.as_str(), e.value.as_str()), ("Timeout", "300"));
    }

    #[test]
    fn window_bytes_cap_applies_whatever_the_option_order() {
        let limits = Limits {
            max_windowsize: 256,
            max_window_bytes: Some(16 * 1468),
            ..Limits::default()
        };
        // windowsize before blksize: the cap needs the final blksize.
        let o = opts(b"\x00\x06windowsize\x00200\x00blksize\x001468\x00");
        let n = negotiate(&o, Direction::Read, None, &limits).unwrap();
        assert_eq!((n.blksize, n.windowsize), (1468, 16));
        assert_eq!(
            n.oack,
            vec![
                ("windowsize".to_owned(), "16".to_owned()),
                ("blksize".to_owned(), "1468".to_owned())
            ]
        );
        // A cap that fits one block: lockstep, windowsize left out.
        let o = opts(b"\x00\x06blksize\x0065464\x00windowsize\x008\x00");
        let n = negotiate(&o, Direction::Read, None, &limits).unwrap();
        assert_eq!((n.blksize, n.windowsize), (65464, 1));
        assert_eq!(n.oack, vec![("blksize".to_owned(), "65464".to_owned())]);
        // A window of one block is never acknowledged (tftp-hpa 6.0).
        let o = opts(b"\x00\x06windowsize\x001\x00");
        let n = negotiate(&o, Direction::Read, None, &Limits::default()).unwrap();
        assert_eq!((n.windowsize, n.oack.len()), (1, 0));
    }

    #[test]
    fn client_checks_oack() {
        let ask = RequestOptions {
            blksize: Some(1468),
            windowsize: Some(4),
            tsize: true,
            ..RequestOptions::default()
        };
        let n = ask
            .accept_oack(&opts(b"\x00\x06blksize\x001024\x00tsize\x0077\x00"))
            .unwrap();
        assert_eq!((n.blksize, n.windowsize, n.tsize), (1024, 1, Some(77)));
        assert!(ask
            .accept_oack(&opts(b"\x00\x06blksize\x002000\x00"))
            .is_err());
        assert!(ask
            .accept_oack(&opts(b"\x00\x06rollover\x000\x00"))
            .is_err());
    }
}
