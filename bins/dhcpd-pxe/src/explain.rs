//! `dhcpd-pxe explain`: what the server would do with each packet, field by field.

use std::fmt::Write as _;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use dhcp_pxe::wire::code::{self, codes, Payload};
use dhcp_pxe::Message;
use dhcp_server::addressing::{Destination, PXE_PORT};
use dhcp_server::{Datagram, Exchange, Server};

use crate::config::Settings;
use crate::packet::Packet;

/// An option's value in words, by its payload form in the option table.
fn value(code: u8, d: &[u8]) -> String {
    let payload = code::spec(code).map(|s| s.payload);
    if matches!(payload, Some(Payload::Ip | Payload::IpList)) && !d.is_empty() && d.len() % 4 == 0 {
        return d
            .chunks(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]).to_string())
            .collect::<Vec<_>>()
            .join(", ");
    }
    if matches!(
        code,
        codes::LEASE_TIME | codes::RENEWAL_TIME | codes::REBINDING_TIME
    ) && d.len() == 4
    {
        let s = u32::from_be_bytes([d[0], d[1], d[2], d[3]]);
        return if s == u32::MAX {
            "infinite".into()
        } else {
            format!("{s} s")
        };
    }
    if code == codes::MESSAGE_TYPE && d.len() == 1 {
        return format!("{:?}", dhcp_pxe::wire::message::MessageType::from(d[0])).to_uppercase();
    }
    if !d.is_empty() && d.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        return format!("{:?}", String::from_utf8_lossy(d));
    }
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The reply's header and options, one per line.
pub fn fields(m: &Message) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "      op {:?}  xid {:08x}  flags {}",
        m.op,
        m.xid,
        if m.broadcast() {
            "broadcast"
        } else {
            "unicast"
        }
    );
    let _ = writeln!(
        s,
        "      ciaddr {}  yiaddr {}  siaddr {}  giaddr {}",
        m.ciaddr, m.yiaddr, m.siaddr, m.giaddr
    );
    let hw: Vec<String> = m
        .hardware_address()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let _ = writeln!(s, "      chaddr {}", hw.join(":"));
    let _ = writeln!(s, "      sname {:?}", String::from_utf8_lossy(&m.sname));
    let _ = writeln!(s, "      file {:?}", String::from_utf8_lossy(&m.file));
    for o in m.options.iter() {
        let _ = writeln!(
            s,
            "      option {:3} {:<36} {}",
            o.code,
            code::spec(o.code).map_or("", |s| s.name),
            value(o.code, &o.data)
        );
    }
    s
}

fn destination(d: &Destination) -> String {
    match d {
        Destination::Unicast(a) => format!("unicast to {a}"),
        Destination::Broadcast => "broadcast to 255.255.255.255:68".into(),
        Destination::UnicastToHardware { addr, mac } => format!(
            "unicast to {addr}:68 at {} (no ARP: the client has no address yet)",
            mac.iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":")
        ),
    }
}

/// Renders one exchange.
pub fn render(p: &Packet, ex: &Exchange) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} ({} -> {}, {} bytes)",
        p.label,
        p.src,
        p.dst,
        p.payload.len()
    );
    let _ = writeln!(
        s,
        "  request: {}",
        ex.log_line().split(" -> ").next().unwrap_or("")
    );
    if let Some(d) = &ex.decision {
        write_decision(&mut s, d);
    }
    match &ex.reply {
        Some(r) => {
            let t = r
                .message
                .message_type()
                .map_or("BOOTREPLY (BOOTP)".into(), |t| {
                    format!("{t:?}").to_uppercase()
                });
            let _ = writeln!(
                s,
                "  reply: {t}, {}, from {}",
                destination(&r.destination),
                r.server_id
            );
            if r.durable {
                let _ = writeln!(s, "    (sent once its lease is on disk)");
            }
            s.push_str(&fields(&r.message));
        }
        None => {
            let _ = writeln!(s, "  reply: none: {}", ex.reason.as_deref().unwrap_or("?"));
        }
    }
    s
}

/// Explains every packet against a fresh server built from `settings`; requests
/// from one client see the effect of the earlier ones (an OFFER holds an address).
pub fn explain(settings: &Settings, packets: &[Packet], local: Option<Ipv4Addr>) -> String {
    let mut server = Server::new(settings.server.clone());
    let local = local
        .or(settings.server.server_id)
        .or_else(|| {
            settings
                .server
                .policy
                .rules
                .iter()
                .find_map(|r| r.then.next_server)
        })
        .or_else(|| {
            settings
                .server
                .subnets
                .first()
                .map(|s| Ipv4Addr::from(u32::from(s.network) + 1))
        })
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    let interface = settings.listen.interfaces.first().map(String::as_str);
    let mut out = String::new();
    if packets.is_empty() {
        out.push_str("no DHCP packets found\n");
    }
    for p in packets {
        let port = if p.dst.port() == PXE_PORT {
            PXE_PORT
        } else {
            67
        };
        let d = Datagram {
            ifindex: 0,
            interface,
            local: if p.dst.ip().is_broadcast() || p.dst.ip().is_unspecified() {
                local
            } else {
                *p.dst.ip()
            },
            local_port: port,
            src: p.src,
            payload: &p.payload,
        };
        let ex = server.explain(SystemTime::now(), &d);
        out.push_str(&render(p, &ex));
        out.push('\n');
    }
    out
}

/// The policy's verdicts on each rule, indented, then the rule that chose.
pub(crate) fn write_decision(s: &mut String, d: &dhcp_pxe::Decision) {
    for (i, line) in d.explanation.to_string().lines().enumerate() {
        let _ = writeln!(
            s,
            "  {}{}",
            if i == 0 { "" } else { "  " },
            line.trim_start()
        );
    }
    let _ = writeln!(
        s,
        "  rule: {}",
        d.explanation.chosen().unwrap_or("none matched")
    );
}
