//! Values in flags and the file: durations, ranges, networks, MACs, hex bytes.

use std::net::Ipv4Addr;
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use dhcp_server::Range;

/// Parses `3600`, `600s`, `10m`, `12h`, `1d`.
pub fn parse_duration(s: &str) -> Result<Duration> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| anyhow!("bad duration {s:?} (use 3600, 600s, 10m, 12h or 1d)"))?;
    let mult = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => bail!("bad duration unit in {s:?} (s, m, h or d)"),
    };
    Ok(Duration::from_secs(n.saturating_mul(mult)))
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

/// Parses `192.0.2.0/24`.
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8)> {
    let (a, p) = s
        .split_once('/')
        .ok_or_else(|| anyhow!("network {s:?} is not ADDRESS/PREFIX"))?;
    let a: Ipv4Addr = a
        .parse()
        .with_context(|| format!("network {s:?}: bad address"))?;
    let p: u8 = p
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or_else(|| anyhow!("network {s:?}: bad prefix length"))?;
    Ok((a, p))
}

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
        assert!(parse_duration("1w").is_err());
        assert!(parse_range("192.0.2.9-192.0.2.1", false).is_err());
        assert_eq!(parse_cidr("198.18.0.0/15").unwrap().1, 15);
        assert!(parse_cidr("198.18.0.0/33").is_err());
        assert_eq!(parse_mac("52:54:00:12:34:56").unwrap()[5], 0x56);
        assert!(parse_hex_bytes("0g").is_err());
    }
}
