//! `explain` for DHCPv6: the datagrams to UDP 547 in a pcap file, a hex dump (a whole
//! Ethernet frame or IPv6 packet, or the DHCPv6 message alone) or one raw message,
//! and what the `[dhcpv6]` server does with each: the client, every rule's verdict,
//! in full mode what became of each IA_NA (against the bindings of the lease file,
//! read and never written, and of the packets before), the reply's options.

use std::fmt::Write as _;
use std::net::Ipv6Addr;
use std::path::Path;

use anyhow::Result;
use dhcp_server::v6::{respond, server_duid_ll, FullServer6, LeaseFile6, V6Outcome};
use dhcproto::v6::{DhcpOption, Message};
use etherparse::{NetSlice, SlicedPacket, TransportSlice};

use crate::dhcpv6::V6Settings;
use crate::packet::{capture, hex, is_capture};

/// One DHCPv6 datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet6 {
    /// Where it came from ("frame 3", "dump 1").
    pub label: String,
    /// Sender and destination, when the frame said.
    pub addrs: Option<(Ipv6Addr, Ipv6Addr)>,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

fn datagram6(p: &SlicedPacket<'_>, label: &str) -> Option<Packet6> {
    let (Some(NetSlice::Ipv6(ip)), Some(TransportSlice::Udp(udp))) = (&p.net, &p.transport) else {
        return None;
    };
    if udp.destination_port() != dhcp_pxe::v6::SERVER_PORT {
        return None;
    }
    let h = ip.header();
    Some(Packet6 {
        label: label.into(),
        addrs: Some((h.source_addr(), h.destination_addr())),
        payload: udp.payload().to_vec(),
    })
}

/// Whether `b` starts like a DHCPv6 client message (types 1–11, RFC 8415 §7.3) and
/// is no BOOTP/DHCPv4 message (those carry the magic cookie at 236).
fn client_message(b: &[u8]) -> bool {
    matches!(b.first(), Some(1..=11))
        && b.len() >= 4
        && !(b.len() >= 240 && b[236..240] == [99, 130, 83, 99])
}

/// The DHCPv6 client messages in `data` (empty when there are none).
pub fn read6(data: &[u8]) -> Result<Vec<Packet6>> {
    if is_capture(data) {
        return capture(data, datagram6);
    }
    let whole = |label: &str, b: Vec<u8>| {
        SlicedPacket::from_ethernet(&b)
            .ok()
            .and_then(|p| datagram6(&p, label))
            .or_else(|| {
                SlicedPacket::from_ip(&b)
                    .ok()
                    .and_then(|p| datagram6(&p, label))
            })
            .or_else(|| {
                client_message(&b).then(|| Packet6 {
                    label: label.into(),
                    addrs: None,
                    payload: b,
                })
            })
    };
    match std::str::from_utf8(data).ok().and_then(|t| hex(t).ok()) {
        Some(dumps) => Ok(dumps
            .into_iter()
            .filter_map(|p| whole(&p.label, p.payload))
            .collect()),
        None => Ok(whole("datagram", data.to_vec()).into_iter().collect()),
    }
}

fn option_line(o: &DhcpOption) -> String {
    match o {
        DhcpOption::Unknown(u) => {
            let d = u.data();
            let text = !d.is_empty() && d.iter().all(|b| b.is_ascii_graphic() || *b == b' ');
            let v = if text {
                format!("{:?}", String::from_utf8_lossy(d))
            } else {
                d.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            format!("option {:3} {v}", u16::from(u.code()))
        }
        o => {
            let code = u16::from(dhcproto::v6::OptionCode::from(o));
            let colons = |d: &[u8]| {
                d.iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            };
            let v = match o {
                DhcpOption::ClientId(d) | DhcpOption::ServerId(d) => format!("DUID {}", colons(d)),
                DhcpOption::ORO(r) => format!(
                    "asks for {}",
                    r.opts
                        .iter()
                        .map(|c| u16::from(*c).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                DhcpOption::ClientArchType(a) => format!(
                    "architecture {}",
                    a.iter()
                        .map(|x| u16::from(*x).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                DhcpOption::IANA(ia) => {
                    let mut v = format!("IA_NA {}, T1 {} s, T2 {} s", ia.id, ia.t1, ia.t2);
                    for o in ia.opts.iter() {
                        let part = match o {
                            DhcpOption::IAAddr(a) => format!(
                                "{} preferred {} s, valid {} s",
                                a.addr, a.preferred_life, a.valid_life
                            ),
                            DhcpOption::StatusCode(c) => {
                                format!("status {:?} {:?}", c.status, c.msg)
                            }
                            o => format!("{o:?}"),
                        };
                        v.push_str("; ");
                        v.push_str(&part);
                    }
                    v
                }
                DhcpOption::StatusCode(c) => format!("status {:?} {:?}", c.status, c.msg),
                DhcpOption::DomainNameServers(d) => d
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                o => format!("{o:?}"),
            };
            format!("option {code:3} {v}")
        }
    }
}

/// Explains every DHCPv6 packet against `v6` (in full mode with the bindings of
/// `lease_file`); `local` is the address the server puts in `tftp://[…]/` URLs
/// when `tftp_server` is unset.
pub fn explain6(
    v6: &V6Settings,
    lease_file: Option<&Path>,
    packets: &[Packet6],
    local: Ipv6Addr,
) -> String {
    let mut cfg = v6.config.clone();
    if cfg.server_duid.is_empty() {
        // The daemon uses the first interface's MAC; explain has none to read.
        cfg.server_duid = server_duid_ll([0; 6]);
    }
    let mut s = String::new();
    let mut full = FullServer6::new(cfg.clone());
    if let (Some(f), Some(path)) = (&mut full, lease_file) {
        match LeaseFile6::read(path) {
            Ok(Some(records)) => {
                let _ = writeln!(
                    s,
                    "DHCPv6 full mode, bindings of {} ({} record(s)), not written\n",
                    path.display(),
                    records.len()
                );
                f.restore(records);
            }
            Ok(None) => {
                let _ = writeln!(
                    s,
                    "DHCPv6 full mode, no bindings yet (no {})\n",
                    path.display()
                );
            }
            Err(e) => {
                let _ = writeln!(s, "DHCPv6 full mode, no bindings: {e}\n");
            }
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for p in packets {
        let from = p
            .addrs
            .map_or(String::new(), |(a, b)| format!("{a} -> {b}, "));
        let _ = writeln!(s, "{} (DHCPv6, {from}{} bytes)", p.label, p.payload.len());
        let out: V6Outcome = match &mut full {
            Some(f) => f.handle(now, &p.payload, local),
            None => respond(&cfg, &p.payload, local),
        };
        for h in &out.relays {
            let _ = writeln!(
                s,
                "  relayed: hop count {}, link {}, peer {}{}",
                h.hop_count,
                h.link,
                h.peer,
                h.interface_id.as_ref().map_or(String::new(), |i| format!(
                    ", interface-id {}",
                    dhcp_server::logtext::Escaped::new(i)
                ))
            );
        }
        if let Some(r) = &out.request {
            let _ = writeln!(s, "  request: {:?}, xid {:02x?}", r.msg_type(), r.xid());
            for o in r.opts().iter() {
                let _ = writeln!(s, "      {}", option_line(o));
            }
        }
        if let Some(d) = &out.decision {
            crate::explain::write_decision(&mut s, d);
        }
        for ia in &out.ia {
            let _ = writeln!(s, "  IA_NA {}: {}", ia.iaid, ia.note);
        }
        if !out.commit.is_empty() {
            let _ = writeln!(
                s,
                "  written to the lease file before the reply: {} record(s)",
                out.commit.len()
            );
        }
        match &out.reply {
            Ok((m, _)) if !out.relays.is_empty() => {
                let _ = writeln!(
                    s,
                    "  reply: {:?} in {} RELAY-REPL, to the relay's address and port",
                    m.msg_type(),
                    out.relays.len()
                );
                print_opts(&mut s, m);
            }
            Ok((m, _)) => {
                let _ = writeln!(
                    s,
                    "  reply: {:?} to the client's address, port 546",
                    m.msg_type()
                );
                print_opts(&mut s, m);
            }
            Err(why) => {
                let _ = writeln!(s, "  reply: none: {why}");
            }
        }
        s.push('\n');
    }
    s
}

fn print_opts(s: &mut String, m: &Message) {
    for o in m.opts().iter() {
        let _ = writeln!(s, "      {}", option_line(o));
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn full_mode_shows_the_ia_na_decision_and_the_write_before_the_reply() {
        let dir = tempfile::tempdir().unwrap();
        let leases = dir.path().join("dhcp6.leases");
        let text = format!(
            "mode = \"proxy\"\n[[boot]]\nfile = \"pxelinux.0\"\n[dhcpv6]\nmode = \"full\"\n\
             interfaces = [\"lo\"]\nrange = [\"2001:db8:1::100\", \"2001:db8:1::1ff\"]\n\
             lease_file = {:?}\n[[dhcpv6.boot]]\nclass = \"efi-x64\"\nfile = \"grubx64.efi\"\n",
            leases.display()
        );
        let settings = crate::config::from_toml(&text, Path::new("c.toml")).unwrap();
        let v6 = settings.dhcpv6.unwrap();
        // UEFI PXE's SOLICIT: client id, ORO 59 and 23, 61 = 7, and IA_NA 1.
        let solicit = "01abcdef 0001000a 00030001 52540012 3456 0006 0004 003b 0017 \
                       0003 000c 00000001 00000000 00000000 003d 0002 0007";
        let packets = read6(solicit.as_bytes()).unwrap();
        let out = explain6(&v6, Some(&leases), &packets, "fe80::1".parse().unwrap());
        assert!(out.contains("no bindings yet"), "{out}");
        assert!(out.contains("rule: efi-x64"), "{out}");
        assert!(out.contains("IA_NA 1: 2001:db8:1::100 advertised"), "{out}");
        assert!(out.contains("reply: Advertise"), "{out}");
        assert!(
            out.contains("option  59 \"tftp://[fe80::1]/grubx64.efi\""),
            "{out}"
        );
        // The REQUEST that follows: bound, written first. Message type 3, server id
        // of explain (DUID-LL of zeros).
        let request = "03abcdef 0001000a 00030001 52540012 3456 0002 000a 00030001 000000000000 \
                       0003 000c 00000001 00000000 00000000 003d 0002 0007";
        let both = format!("{solicit}\n\n{request}");
        let out = explain6(
            &v6,
            Some(&leases),
            &read6(both.as_bytes()).unwrap(),
            "fe80::1".parse().unwrap(),
        );
        assert!(
            out.contains("IA_NA 1: 2001:db8:1::100 bound for 4000 s"),
            "{out}"
        );
        assert!(
            out.contains("written to the lease file before the reply: 1 record(s)"),
            "{out}"
        );
        assert!(!leases.exists(), "explain never writes");
    }
}
