//! Listen addresses: `-a [addr][:port]` (repeatable) with `-4`/`-6` and
//! `-S` (tftp-hpa 6.0's default port), parsed as tftp-hpa parses them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

pub use tftp::packet::TFTP_PORT;

use crate::cli::{usage, UsageError};
use crate::exit;

/// Address families allowed by `-4` / `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Neither flag: both.
    Any,
    /// `-4`.
    V4,
    /// `-6`.
    V6,
}

impl Family {
    pub(crate) fn allows(self, ip: IpAddr) -> bool {
        match self {
            Self::Any => true,
            Self::V4 => ip.is_ipv4(),
            Self::V6 => ip.is_ipv6(),
        }
    }
}

/// The services database (`services(5)`).
const SERVICES: &str = "/etc/services";

/// A port as `-a …:PORT` or `-S PORT` give it: a number, or a service name
/// looked up (UDP) in `/etc/services`; `tftp` is 69 even without that file.
pub(crate) fn parse_port(text: &str) -> Result<u16, UsageError> {
    let port = match text.parse::<u16>() {
        Ok(n) => Some(n),
        Err(_) => std::fs::read_to_string(SERVICES)
            .ok()
            .and_then(|db| service_port(&db, text))
            .or((text == "tftp").then_some(TFTP_PORT)),
    };
    match port {
        Some(n @ 1..) => Ok(n),
        _ => Err(UsageError {
            message: format!("cannot resolve local bind port: {text}"),
            code: exit::NOINPUT,
        }),
    }
}

/// The UDP port of `name` (or an alias) in a `services(5)` text: lines of
/// `name port/protocol [aliases...]`, `#` comments.
fn service_port(db: &str, name: &str) -> Option<u16> {
    db.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let first = words.next()?;
        let (port, proto) = words.next()?.split_once('/')?;
        let named = first == name || words.any(|alias| alias == name);
        (named && proto == "udp")
            .then(|| port.parse().ok())
            .flatten()
    })
}

pub(crate) fn default_listen(family: Family, port: u16) -> Vec<SocketAddr> {
    [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ]
    .into_iter()
    .filter(|ip| family.allows(*ip))
    .map(|ip| SocketAddr::new(ip, port))
    .collect()
}

/// Parses one `-a [addr][:port]` like tftp-hpa's `split_port`: IPv6 in
/// brackets, the port after the last colon (a number or a service name; without one,
/// `default_port`, which `-S` sets), a missing address means the wildcard of
/// each allowed family, a host name is resolved (to all its addresses).
pub fn listen_addrs(
    spec: &str,
    family: Family,
    default_port: u16,
) -> Result<Vec<SocketAddr>, UsageError> {
    let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| usage(format!("Bad address: {spec}")))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(usage(format!("Bad address: {spec}"))),
            },
        }
    } else if spec.matches(':').count() > 1 {
        return Err(usage("Numeric IPv6 addresses need to be enclosed in []"));
    } else {
        match spec.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (spec, None),
        }
    };
    let port = match port {
        None | Some("") => default_port,
        Some(p) => parse_port(p)?,
    };
    if host.is_empty() {
        return Ok(default_listen(family, port));
    }
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) if spec.starts_with('[') => return Err(usage(format!("Bad IPv6 address: {host}"))),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|err| UsageError {
                message: format!("cannot resolve local bind address: {host}, {err}"),
                code: exit::NOINPUT,
            })?
            .collect(),
    };
    let mut allowed: Vec<SocketAddr> = Vec::new();
    for addr in addrs {
        if family.allows(addr.ip()) && !allowed.contains(&addr) {
            allowed.push(addr);
        }
    }
    if allowed.is_empty() {
        let fam = if family == Family::V4 {
            "AF_INET"
        } else {
            "AF_INET6"
        };
        return Err(usage(format!(
            "Address {host} is not in address family {fam}"
        )));
    }
    Ok(allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_are_looked_up_for_udp() {
        let db = "# comment\ntftp\t\t69/udp\ndomain 53/tcp\ndomain 53/udp\nfoo 7/tcp\nbar 9/udp alt # x\n";
        assert_eq!(service_port(db, "tftp"), Some(69));
        assert_eq!(service_port(db, "domain"), Some(53));
        assert_eq!(service_port(db, "alt"), Some(9));
        assert_eq!(service_port(db, "foo"), None);
        assert_eq!(service_port(db, "comment"), None);
        assert_eq!(service_port(db, "x"), None);
    }
}
