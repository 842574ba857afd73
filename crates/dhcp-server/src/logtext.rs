//! Log text: ISC dhcpd's lines for each exchange ([`isc_lines`]), and
//! client-supplied text escaped and capped ([`Escaped`]), so that a host
//! name, vendor class or client id can neither forge a line (a newline, a
//! terminal escape) nor flood the log (a 255-byte option, RFC 3396 joined to
//! more).

use std::fmt::{self, Write as _};
use std::net::Ipv4Addr;

use dhcp_pxe::wire::code::codes;
use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::Message;

use crate::exchange::{addr, Exchange};

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

/// ISC dhcpd's lines for one exchange, so that operators' habits (and log
/// parsers) keep working: the request, with `: why` when nothing is sent,
/// then the reply.
///
/// ```text
/// DHCPDISCOVER from 52:54:00:12:34:56 (pc1) via eth0
/// DHCPOFFER on 192.0.2.10 to 52:54:00:12:34:56 (pc1) via eth0 file "pxelinux.0"
/// DHCPREQUEST for 192.0.2.10 (192.0.2.1) from 52:54:00:12:34:56 (pc1) via eth0
/// DHCPACK on 192.0.2.10 to 52:54:00:12:34:56 (pc1) via eth0 file "pxelinux.0"
/// DHCPRELEASE of 192.0.2.10 from 52:54:00:12:34:56 via eth0: 192.0.2.10 released
/// DHCPDISCOVER from 52:54:00:12:34:57 via eth0
/// DHCPOFFER (proxy) to 52:54:00:12:34:57 via eth0 file "ipxe.efi"
/// ```
///
/// `via` is the relay (giaddr) when there is one, else `interface`. The
/// file is this server's addition (ISC does not log it). An undecodable
/// datagram gives its reason alone.
pub fn isc_lines(ex: &Exchange, interface: Option<&str>) -> Vec<String> {
    let Some(m) = &ex.message else {
        return vec![ex
            .reason
            .clone()
            .unwrap_or_else(|| "malformed datagram".into())];
    };
    let mac = Mac(m);
    let host = m
        .options
        .get(12 /* host name */)
        .map(|h| format!(" ({})", Escaped::new(h)))
        .unwrap_or_default();
    let via = if m.giaddr.is_unspecified() {
        interface.map_or_else(
            || "?".to_string(),
            |i| Escaped::new(i.as_bytes()).to_string(),
        )
    } else {
        m.giaddr.to_string()
    };
    let option_addr = |code| m.options.get(code).and_then(addr);
    let requested = option_addr(codes::REQUESTED_IP);
    let mut request = match m.message_type() {
        None => format!("BOOTREQUEST from {mac} via {via}"),
        Some(MessageType::Request) => {
            let mut s = String::from("DHCPREQUEST for ");
            let _ = match requested {
                Some(a) => write!(s, "{a}"),
                None => write!(s, "{}", m.ciaddr),
            };
            if let Some(sid) = option_addr(codes::SERVER_ID) {
                let _ = write!(s, " ({sid})");
            }
            let _ = write!(s, " from {mac}{host} via {via}");
            s
        }
        Some(MessageType::Release) => {
            format!("DHCPRELEASE of {} from {mac}{host} via {via}", m.ciaddr)
        }
        Some(MessageType::Decline) => format!(
            "DHCPDECLINE of {} from {mac}{host} via {via}",
            requested.unwrap_or(Ipv4Addr::UNSPECIFIED)
        ),
        Some(MessageType::Inform) => format!("DHCPINFORM from {} via {via}", m.ciaddr),
        Some(t) => format!("DHCP{} from {mac}{host} via {via}", type_name(t)),
    };
    let Some(r) = &ex.reply else {
        if let Some(why) = &ex.reason {
            let _ = write!(request, ": {why}");
        }
        return vec![request];
    };
    let yiaddr = r.message.yiaddr;
    let mut reply = match r.message.message_type() {
        None => format!("BOOTREPLY for {yiaddr} to {mac} via {via}"),
        Some(MessageType::Nak) => format!(
            "DHCPNAK on {} to {mac} via {via}",
            requested.unwrap_or(m.ciaddr)
        ),
        Some(MessageType::Ack) if m.message_type() == Some(MessageType::Inform) => {
            format!("DHCPACK to {} ({mac}) via {via}", m.ciaddr)
        }
        // proxyDHCP: boot information only, no address (port 67 OFFER, port 4011 ACK).
        Some(t) if yiaddr.is_unspecified() => {
            format!("DHCP{} (proxy) to {mac} via {via}", type_name(t))
        }
        Some(t) => format!("DHCP{} on {yiaddr} to {mac}{host} via {via}", type_name(t)),
    };
    if !r.message.file.is_empty() {
        let _ = write!(reply, " file \"{}\"", Escaped::new(&r.message.file));
    }
    vec![request, reply]
}

fn type_name(t: MessageType) -> String {
    format!("{t:?}").to_uppercase()
}

/// The client hardware address (chaddr, `hlen` bytes, at most 16) as
/// `52:54:00:12:34:56`.
struct Mac<'a>(&'a Message);

impl fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = usize::from(self.0.hlen).min(self.0.chaddr.len());
        for (i, b) in self.0.chaddr[..n].iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
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
