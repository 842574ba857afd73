//! Packets for `explain`: DHCP datagrams out of a pcap file (Ethernet, Linux cooked
//! v1/v2 or raw IP), a hex dump (plain, `xxd`, `hexdump -C`, tshark) or one raw datagram.

use std::net::{Ipv4Addr, SocketAddrV4};

use anyhow::{anyhow, bail, Result};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use pcap_parser::data::{get_packetdata, PacketData, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use pcap_parser::pcapng::Block;
use pcap_parser::{create_reader, Linktype, PcapBlockOwned, PcapError};

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
        let pcap = matches!(
            m,
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
        );
        if pcap || m == [0x0a, 0x0d, 0x0d, 0x0a] {
            return capture(data, dhcp_datagram);
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
        let datagram = SlicedPacket::from_ethernet(&bytes)
            .ok()
            .and_then(|p| dhcp_datagram(&p, label))
            .or_else(|| {
                SlicedPacket::from_ip(&bytes)
                    .ok()
                    .and_then(|p| dhcp_datagram(&p, label))
            });
        if let Some(p) = datagram {
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

/// The link types `explain` reads: Ethernet, Linux cooked v1 and v2, raw IP.
const LINKS: [Linktype; 5] = [
    Linktype::ETHERNET,
    Linktype::LINUX_SLL,
    Linktype::LINUX_SLL2,
    Linktype::RAW,
    Linktype::IPV4,
];

/// Whether `data` is a pcap or pcapng file.
pub(crate) fn is_capture(data: &[u8]) -> bool {
    matches!(
        data.get(..4),
        Some(
            [0xd4, 0xc3, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0xc3, 0xd4]
                | [0x4d, 0x3c, 0xb2, 0xa1]
                | [0xa1, 0xb2, 0x3c, 0x4d]
                | [0x0a, 0x0d, 0x0d, 0x0a]
        )
    )
}

/// A pcap or pcapng file (`pcap-parser`): every frame of a supported link type that
/// `pick` takes (a UDP datagram on a DHCP or DHCPv6 port).
pub(crate) fn capture<T>(
    data: &[u8],
    pick: impl Fn(&SlicedPacket<'_>, &str) -> Option<T>,
) -> Result<Vec<T>> {
    // The whole file fits the buffer, so once the reader has seen the end of its
    // input, "incomplete" means cut short.
    let mut reader = create_reader(data.len() + 1, data)
        .map_err(|e| anyhow!("not a pcap or pcapng file: {e:?}"))?;
    let mut links: Vec<Linktype> = Vec::new();
    let mut out = Vec::new();
    let mut frame = 0;
    let mut exhausted = false;
    // Each round consumes a block (or once, finds the end): a file of N bytes has
    // fewer than N blocks.
    for _ in 0..=data.len() + 1 {
        let (used, block) = match reader.next() {
            Ok(b) => b,
            Err(PcapError::Eof) => return Ok(out),
            Err(PcapError::Incomplete(_)) if !exhausted => {
                // The reader learns that its input has ended only by reading again.
                exhausted = true;
                reader
                    .refill()
                    .map_err(|e| anyhow!("reading the capture: {e:?}"))?;
                continue;
            }
            Err(PcapError::Incomplete(_) | PcapError::UnexpectedEof) => {
                bail!("capture cut short after frame {frame}")
            }
            Err(e) => bail!("capture damaged after frame {frame}: {e:?}"),
        };
        let packet = match block {
            PcapBlockOwned::LegacyHeader(h) => {
                if !LINKS.contains(&h.network) {
                    bail!(
                        "pcap link type {} is not supported (Ethernet, Linux cooked or raw IP)",
                        h.network.0
                    );
                }
                links = vec![h.network];
                None
            }
            PcapBlockOwned::Legacy(b) => Some((links.first().copied(), b.data, b.caplen)),
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                links.clear();
                None
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(i)) => {
                links.push(i.linktype);
                None
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(p)) => {
                Some((links.get(p.if_id as usize).copied(), p.data, p.caplen))
            }
            PcapBlockOwned::NG(Block::SimplePacket(p)) => {
                Some((links.first().copied(), p.data, p.origlen))
            }
            PcapBlockOwned::NG(_) => None,
        };
        if let Some((link, bytes, caplen)) = packet {
            frame += 1;
            let caplen = (caplen as usize).min(bytes.len());
            let datagram = link
                .filter(|l| LINKS.contains(l))
                .and_then(|l| get_packetdata(bytes, l, caplen))
                .and_then(|d| match d {
                    PacketData::L2(eth) => SlicedPacket::from_ethernet(eth).ok(),
                    PacketData::L3(ETHERTYPE_IPV4 | ETHERTYPE_IPV6, ip) => {
                        SlicedPacket::from_ip(ip).ok()
                    }
                    _ => None,
                })
                .and_then(|p| pick(&p, &format!("frame {frame}")));
            out.extend(datagram);
        }
        reader.consume(used);
    }
    bail!("capture has more blocks than bytes")
}

/// The UDP datagram of `p` when it is IPv4 to or from a DHCP port (`etherparse`).
fn dhcp_datagram(p: &SlicedPacket<'_>, label: &str) -> Option<Packet> {
    let (Some(NetSlice::Ipv4(ip)), Some(TransportSlice::Udp(udp))) = (&p.net, &p.transport) else {
        return None;
    };
    let (sport, dport) = (udp.source_port(), udp.destination_port());
    if !DHCP_PORTS.contains(&sport) && !DHCP_PORTS.contains(&dport) {
        return None;
    }
    Some(Packet {
        label: label.into(),
        src: SocketAddrV4::new(ip.header().source_addr(), sport),
        dst: SocketAddrV4::new(ip.header().destination_addr(), dport),
        payload: udp.payload().to_vec(),
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

    /// An IPv4/UDP datagram 192.0.2.9:68 -> 255.255.255.255:67 carrying `payload`.
    fn ip_udp(payload: &[u8]) -> Vec<u8> {
        let total = (20 + 8 + payload.len()) as u16;
        let mut ip = vec![
            0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 9, 255, 255, 255, 255,
        ];
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        ip.extend([0, 68, 0, 67]);
        ip.extend(((8 + payload.len()) as u16).to_be_bytes());
        ip.extend([0, 0]);
        ip.extend_from_slice(payload);
        ip
    }

    /// A little-endian pcap file of `link` holding `frames`.
    fn pcap_file(link: u32, frames: &[Vec<u8>]) -> Vec<u8> {
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        f.extend([0; 8]);
        f.extend(65535u32.to_le_bytes());
        f.extend(link.to_le_bytes());
        for fr in frames {
            f.extend([0; 8]);
            f.extend((fr.len() as u32).to_le_bytes());
            f.extend((fr.len() as u32).to_le_bytes());
            f.extend_from_slice(fr);
        }
        f
    }

    #[test]
    fn pcap_link_types_vlan_and_damage() {
        let ip = ip_udp(&[1, 2, 3]);
        // Ethernet with an 802.1Q tag, then an ARP frame that is skipped.
        let mut eth = vec![0xff; 6];
        eth.extend([2, 0, 0, 0, 0, 9, 0x81, 0x00, 0, 5, 0x08, 0x00]);
        eth.extend_from_slice(&ip);
        let mut arp = vec![0xff; 6];
        arp.extend([2, 0, 0, 0, 0, 9, 0x08, 0x06]);
        arp.extend([0; 28]);
        let p = read(&pcap_file(1, &[eth.clone(), arp])).unwrap();
        assert_eq!(p.len(), 1);
        assert_eq!(
            (p[0].label.as_str(), p[0].payload.as_slice()),
            ("frame 1", &[1, 2, 3][..])
        );
        assert_eq!(p[0].src, "192.0.2.9:68".parse().unwrap());
        // Linux cooked v2: protocol type, then 18 more header bytes.
        let mut sll2 = vec![0x08, 0x00];
        sll2.extend([0; 18]);
        sll2.extend_from_slice(&ip);
        assert_eq!(
            read(&pcap_file(276, &[sll2])).unwrap()[0].payload,
            [1, 2, 3]
        );
        assert_eq!(read(&pcap_file(101, &[ip])).unwrap()[0].dst.port(), 67);
        let e = read(&pcap_file(105, &[])).unwrap_err().to_string();
        assert!(e.contains("link type 105 is not supported"), "{e}");
        let whole = pcap_file(1, &[eth]);
        let e = read(&whole[..whole.len() - 5]).unwrap_err().to_string();
        assert!(e.contains("cut short"), "{e}");
    }
}
