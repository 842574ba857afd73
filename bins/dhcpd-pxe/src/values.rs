//! Values in flags and the file: durations, ranges, networks, MACs, hex bytes.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use dhcp_server::Range;
use ipnet::Ipv4Net;

/// Parses a whole number of seconds (`3600`) or a `humantime` duration (`600s`,
/// `10m`, `12h`, `1d`, `1w`, `1h 30m`); fractions of a second are refused.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: u64 = s
            .parse()
            .map_err(|_| anyhow!("duration {s:?} is too long"))?;
        return Ok(Duration::from_secs(n));
    }
    let d = humantime::parse_duration(s).map_err(|e| anyhow!("bad duration {s:?}: {e}"))?;
    if d.subsec_nanos() != 0 {
        bail!("duration {s:?} is not a whole number of seconds");
    }
    Ok(d)
}

/// Parses `A-B`.
pub fn parse_range(s: &str, bootp: bool) -> Result<Range> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| anyhow!("range {s:?} is not A-B"))?;
    let start: Ipv4Addr = a
        .trim()
        .parse()
        .with_context(|| format!("range {s:?}: bad first address"))?;
    let end: Ipv4Addr = b
        .trim()
        .parse()
        .with_context(|| format!("range {s:?}: bad last address"))?;
    if u32::from(end) < u32::from(start) {
        bail!("range {s:?} ends before it starts");
    }
    Ok(Range { start, end, bootp })
}

/// Parses `192.0.2.0/24` (`ipnet`); host bits may be set (`192.0.2.1/24`).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8)> {
    let net: Ipv4Net = s
        .trim()
        .parse()
        .map_err(|_| anyhow!("network {s:?} is not ADDRESS/PREFIX (prefix 0 to 32)"))?;
    Ok((net.addr(), net.prefix_len()))
}

/// Six hex bytes, through the same reader as client ids and option bytes: every
/// separator `parse_hex_bytes` skips is accepted (`52:54:00:12:34:56`,
/// `52-54-00-12-34-56`, `5254.0012.3456`, `525400123456`).
pub(crate) fn parse_mac(s: &str) -> Result<[u8; 6]> {
    let v = parse_hex_bytes(s)?;
    <[u8; 6]>::try_from(v.as_slice()).map_err(|_| anyhow!("MAC {s:?} is not six bytes"))
}

pub(crate) fn parse_hex_bytes(s: &str) -> Result<Vec<u8>> {
    let clean: String = s
        .chars()
        .filter(|c| !matches!(c, ':' | '-' | ' ' | '.'))
        .collect();
    if clean.len() % 2 != 0 || !clean.chars().all(|c| c.is_ascii_hexdigit()) {
        bail!("{s:?} is not hex bytes");
    }
    Ok((0..clean.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&clean[i..i + 2], 16).unwrap_or(0))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_ranges_networks() {
        assert_eq!(parse_duration("600").unwrap().as_secs(), 600);
        assert_eq!(parse_duration("10m").unwrap().as_secs(), 600);
        assert_eq!(parse_duration("1d").unwrap().as_secs(), 86400);
        assert_eq!(parse_duration(" 600s ").unwrap().as_secs(), 600);
        assert_eq!(parse_duration("1h 30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("1w").unwrap().as_secs(), 7 * 86400);
        assert!(parse_duration("1x").is_err());
        assert!(parse_duration("1500ms").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-5").is_err());
        assert!(parse_range("192.0.2.9-192.0.2.1", false).is_err());
        assert_eq!(parse_cidr("198.18.0.0/15").unwrap().1, 15);
        assert!(parse_cidr("198.18.0.0/33").is_err());
        assert!(parse_cidr("198.18.0.0").is_err());
        assert_eq!(
            parse_cidr("192.0.2.1/24").unwrap(),
            (Ipv4Addr::new(192, 0, 2, 1), 24)
        );
        assert_eq!(parse_mac("5254.0012.3456").unwrap()[0], 0x52);
        assert_eq!(parse_mac("52:54:00:12:34:56").unwrap()[5], 0x56);
        assert!(parse_hex_bytes("0g").is_err());
    }
}
