//! Packets for `explain`: DHCP datagrams out of a pcap file (Ethernet, Linux cooked
//! v1/v2 or raw IP), a hex dump (plain, `xxd`, `hexdump -C`, tshark) or one raw datagram.

use std::net::{Ipv4Addr, SocketAddrV4};

use anyhow::{bail, Result};

/// One UDP datagram on a DHCP port.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Where it came from ("frame 3", "dump 1").
    pub label: String,
    /// Sender (0.0.0.0:68 when unknown).
    pub src: SocketAddrV4,
    /// Destination (255.255.255.255:67 when unknown).
    pub dst: SocketAddrV4,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

const DHCP_PORTS: [u16; 3] = [67, 68, 4011];

/// Reads packets from file contents of any supported form.
pub fn read(data: &[u8]) -> Result<Vec<Packet>> {
    if data.len() >= 4 {
        let m = [data[0], data[1], data[2], data[3]];
        if matches!(
            m,
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
        ) {
            return pcap(data);
        }
        if m == [0x0a, 0x0d, 0x0d, 0x0a] {
            return pcapng(data);
        }
    }
    if matches!(data.first(), Some(1 | 2))
        && data.len() >= 240
        && data[236..240] == [99, 130, 83, 99]
    {
        return Ok(vec![unknown_addrs("datagram", data.to_vec())]);
    }
    match std::str::from_utf8(data) {
        Ok(text) => hex(text),
        Err(_) => bail!("neither a pcap file, a hex dump, nor a DHCP datagram"),
    }
}

/// A dump of a whole frame (`tshark -x`, `tcpdump -xx`: Ethernet, or IPv4 from `tcpdump -x`)
/// or of the DHCP payload alone.
fn frame_or_payload(label: &str, bytes: Vec<u8>) -> Packet {
    let dhcp = bytes.len() >= 240 && bytes[236..240] == [99, 130, 83, 99];
    if !dhcp {
        if let Some(p) = ethernet(&bytes).and_then(|ip| udp(ip, label)) {
            return p;
        }
        if let Some(p) = udp(&bytes, label) {
            return p;
        }
    }
    unknown_addrs(label, bytes)
}

fn unknown_addrs(label: &str, payload: Vec<u8>) -> Packet {
    Packet {
        label: label.into(),
        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
        dst: SocketAddrV4::new(Ipv4Addr::BROADCAST, 67),
        payload,
    }
}

fn pcap(data: &[u8]) -> Result<Vec<Packet>> {
    let le = data[0] == 0xd4 || data[0] == 0x4d;
    let u32_at = |b: &[u8], i: usize| -> Option<u32> {
        let s: [u8; 4] = b.get(i..i + 4)?.try_into().ok()?;
        Some(if le {
            u32::from_le_bytes(s)
        } else {
            u32::from_be_bytes(s)
        })
    };
    let Some(link) = u32_at(data, 20) else {
        bail!("pcap header cut short")
    };
    let mut out = Vec::new();
    let mut at = 24;
    let mut frame = 0;
    while at + 16 <= data.len() {
        frame += 1;
        let caplen = u32_at(data, at + 8).unwrap_or(0) as usize;
        let start = at + 16;
        let Some(pkt) = data.get(start..start + caplen) else {
            bail!("pcap frame {frame} cut short at offset {at}")
        };
        at = start + caplen;
        if !matches!(link, 1 | 113 | 276 | 101 | 228) {
            bail!("pcap link type {link} is not supported (Ethernet, Linux cooked or raw IP)")
        }
        let ip = link_layer(link, pkt);
        if let Some(p) = ip.and_then(|ip| udp(ip, &format!("frame {frame}"))) {
            out.push(p);
        }
    }
    Ok(out)
}

/// pcapng: section header, interface description and (simple/enhanced) packet blocks.
fn pcapng(data: &[u8]) -> Result<Vec<Packet>> {
    let mut le = true;
    let mut links: Vec<u16> = Vec::new();
    let mut out = Vec::new();
    let mut at = 0;
    let mut frame = 0;
    while at + 12 <= data.len() {
        let raw = |i: usize| -> [u8; 4] {
            data.get(i..i + 4)
                .and_then(|s| s.try_into().ok())
                .unwrap_or([0; 4])
        };
        let ty = u32::from_le_bytes(raw(at));
        if ty == 0x0A0D_0D0A {
            le = raw(at + 8) == [0x4d, 0x3c, 0x2b, 0x1a];
            links.clear();
        }
        let u32_at = |i: usize| {
            if le {
                u32::from_le_bytes(raw(i))
            } else {
                u32::from_be_bytes(raw(i))
            }
        };
        let len = u32_at(at + 4) as usize;
        if len < 12 || at + len > data.len() {
            bail!("pcapng block at offset {at} has a bad length");
        }
        let body = &data[at + 8..at + len - 4];
        match u32_at(at) {
            1 => links.push(if le {
                u16::from_le_bytes([body[0], body[1]])
            } else {
                u16::from_be_bytes([body[0], body[1]])
            }),
            6 if body.len() >= 20 => {
                frame += 1;
                let b = |i: usize| -> [u8; 4] { body[i..i + 4].try_into().unwrap_or([0; 4]) };
                let get = |i: usize| {
                    if le {
                        u32::from_le_bytes(b(i))
                    } else {
                        u32::from_be_bytes(b(i))
                    }
                };
                let iface = get(0) as usize;
                let caplen = get(12) as usize;
                let pkt = body.get(20..20 + caplen).unwrap_or(&[]);
                let link = links.get(iface).copied().unwrap_or(1);
                if let Some(p) = link_layer(u32::from(link), pkt)
                    .and_then(|ip| udp(ip, &format!("frame {frame}")))
                {
                    out.push(p);
                }
            }
            _ => {}
        }
        at += len;
    }
    Ok(out)
}

fn link_layer(link: u32, pkt: &[u8]) -> Option<&[u8]> {
    match link {
        1 => ethernet(pkt),
        113 => pkt
            .get(14..)
            .map(|p| (u16::from_be_bytes([pkt[12], pkt[13]]), p))
            .and_then(ip_of),
        276 => pkt
            .get(20..)
            .map(|p| (u16::from_be_bytes([pkt[0], pkt[1]]), p))
            .and_then(ip_of),
        101 | 228 => Some(pkt),
        _ => None,
    }
}

fn ip_of((ethertype, p): (u16, &[u8])) -> Option<&[u8]> {
    (ethertype == 0x0800).then_some(p)
}

fn ethernet(f: &[u8]) -> Option<&[u8]> {
    let mut et = u16::from_be_bytes([*f.get(12)?, *f.get(13)?]);
    let mut off = 14;
    while et == 0x8100 || et == 0x88a8 {
        et = u16::from_be_bytes([*f.get(off + 2)?, *f.get(off + 3)?]);
        off += 4;
    }
    ip_of((et, f.get(off..)?))
}

fn udp(ip: &[u8], label: &str) -> Option<Packet> {
    if ip.first()? >> 4 != 4 || *ip.get(9)? != 17 {
        return None;
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    let src = Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]);
    let dst = Ipv4Addr::new(*ip.get(16)?, ip[17], ip[18], ip[19]);
    let u = ip.get(ihl..)?;
    let sport = u16::from_be_bytes([*u.first()?, *u.get(1)?]);
    let dport = u16::from_be_bytes([*u.get(2)?, *u.get(3)?]);
    let len = usize::from(u16::from_be_bytes([*u.get(4)?, *u.get(5)?]));
    if !DHCP_PORTS.contains(&sport) && !DHCP_PORTS.contains(&dport) {
        return None;
    }
    let payload = u.get(8..len.max(8).min(u.len()))?.to_vec();
    Some(Packet {
        label: label.into(),
        src: SocketAddrV4::new(src, sport),
        dst: SocketAddrV4::new(dst, dport),
        payload,
    })
}

/// Hex dumps: one packet per block of lines separated by a blank line. An offset
/// column (`0000:`, `00000000`, `0x0000:`) and an ASCII column (`|...|`, or text
/// after the hex groups) are skipped.
pub fn hex(text: &str) -> Result<Vec<Packet>> {
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let flush = |cur: &mut Vec<u8>, out: &mut Vec<Packet>| {
        if !cur.is_empty() {
            let label = format!("dump {}", out.len() + 1);
            let bytes = std::mem::take(cur);
            out.push(frame_or_payload(&label, bytes));
        }
    };
    for (i, line) in text.lines().enumerate() {
        let line = line.split('|').next().unwrap_or("").trim();
        if line.is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut tokens: Vec<&str> = line.split_whitespace().collect();
        let offset_col = tokens.len() > 1
            && (tokens[0].ends_with(':')
                || (tokens[0].len() >= 4
                    && tokens[0].chars().all(|c| c.is_ascii_hexdigit())
                    && tokens[1].len() == 2));
        if offset_col {
            tokens.remove(0);
        }
        for t in tokens {
            let t = t.trim_start_matches("0x");
            if t.len() % 2 != 0 || !t.chars().all(|c| c.is_ascii_hexdigit()) {
                if offset_col {
                    break; // the ASCII column
                }
                bail!("hex dump line {}: {t:?} is not hex", i + 1);
            }
            for k in (0..t.len()).step_by(2) {
                cur.push(u8::from_str_radix(&t[k..k + 2], 16).unwrap_or(0));
            }
        }
    }
    flush(&mut cur, &mut out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_forms() {
        let p = hex("0000  01 02 0a ff   ....\n0004  10\n\n0x0000: 0102 0304  ab..\n").unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].payload, [1, 2, 10, 255, 16]);
        assert_eq!(p[1].payload, [1, 2, 3, 4]);
        assert_eq!(hex("01020304").unwrap()[0].payload, [1, 2, 3, 4]);
        assert!(hex("zz").is_err());
        assert_eq!(hex("00000000  01 02  |..|\n").unwrap()[0].payload, [1, 2]);
        // A whole Ethernet frame (tshark -x): the UDP payload and the addresses are taken out.
        let mut f = vec![0xff; 6];
        f.extend([2, 0, 0, 0, 0, 1, 0x08, 0x00]);
        f.extend([
            0x45, 0, 0, 32, 0, 0, 0, 0, 64, 17, 0, 0, 0, 0, 0, 0, 255, 255, 255, 255,
        ]);
        f.extend([0, 68, 0, 67, 0, 12, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd]);
        let text: String = f.iter().map(|b| format!("{b:02x} ")).collect();
        let p = hex(&text).unwrap();
        assert_eq!(p[0].payload, [0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(p[0].dst.port(), 67);
    }
}
