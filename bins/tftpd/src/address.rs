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

/// A port as `-a …:PORT` or `-S PORT` give it: a number, or the service
/// name `tftp`.
pub(crate) fn parse_port(text: &str) -> Result<u16, UsageError> {
    match text {
        "tftp" => Ok(TFTP_PORT),
        p => match p.parse::<u16>() {
            Ok(n @ 1..) => Ok(n),
            _ => Err(UsageError {
                message: format!("cannot resolve local bind port: {p}"),
                code: exit::NOINPUT,
            }),
        },
    }
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
/// brackets, the port after the last colon (a number or `tftp`; without one,
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
