//! Quick flags: one subnet (or proxy mode) straight from the command line.

use std::net::Ipv4Addr;

use anyhow::{anyhow, bail, Result};
use dhcp_pxe::boot_class::BootFile;
use dhcp_server::{Mode, Subnet};

use crate::cli::ConfigArgs;
use crate::config::{finish, from_file, validate_subnet, Settings};
use crate::values::{parse_cidr, parse_duration, parse_range};

/// The network (address and prefix) of `interface`'s first IPv4 address (getifaddrs).
fn interface_network(interface: &str) -> Option<(Ipv4Addr, u8)> {
    let addrs = nix::ifaddrs::getifaddrs().ok()?;
    addrs
        .filter(|a| a.interface_name == interface)
        .find_map(|a| {
            let addr = a.address?.as_sockaddr_in()?.ip();
            let mask = u32::from(a.netmask?.as_sockaddr_in()?.ip());
            Some((
                Ipv4Addr::from(u32::from(addr) & mask),
                mask.count_ones() as u8,
            ))
        })
}

/// Settings from the command line (the file, or the quick flags).
pub fn from_args(a: &ConfigArgs) -> Result<Settings> {
    let quick = a.proxy
        || a.range.is_some()
        || a.bootp
        || a.subnet.is_some()
        || !a.routers.is_empty()
        || !a.dns.is_empty()
        || a.lease_time.is_some()
        || !a.boot_files.is_empty()
        || a.tftp_server.is_some();
    if let Some(path) = &a.config {
        if quick {
            bail!("--config and the quick flags (--range, --boot-file, …) do not mix; put everything in the file");
        }
        let mut s = from_file(path)?;
        if !a.interfaces.is_empty() {
            s.listen.interfaces.clone_from(&a.interfaces);
        }
        if a.lease_file.is_some() {
            s.lease_file.clone_from(&a.lease_file);
        }
        return Ok(s);
    }
    let files = a
        .boot_files
        .iter()
        .map(|f| {
            f.parse::<BootFile>()
                .map_err(|e| anyhow!("--boot-file {f}: {e}"))
        })
        .collect::<Result<Vec<_>>>()?;
    if a.proxy {
        if a.range.is_some() {
            bail!("--proxy hands out no addresses: drop --range");
        }
        return finish(
            Mode::Proxy,
            vec![],
            &files,
            a.tftp_server,
            None,
            a.interfaces.clone(),
            None,
            a.uefi_via_4011,
            false,
            vec![],
        );
    }
    // BOOTP only when asked for: a BOOTP range would let forged requests hold
    // addresses that DHCP clients need.
    let range = parse_range(
        a.range
            .as_deref()
            .ok_or_else(|| anyhow!("give --range A-B (or --proxy, or --config FILE)"))?,
        a.bootp,
    )?;
    let (net, len) = match &a.subnet {
        Some(c) => parse_cidr(c)?,
        None => a
            .interfaces
            .first()
            .and_then(|i| interface_network(i))
            .filter(|(n, l)| {
                let s = Subnet::new(*n, *l);
                s.contains(range.start) && s.contains(range.end)
            })
            .unwrap_or((Ipv4Addr::from(u32::from(range.start) & 0xffff_ff00), 24)),
    };
    let mut s = Subnet::new(net, len);
    s.interface = a.interfaces.first().cloned();
    s.ranges.push(range);
    s.routers.clone_from(&a.routers);
    s.dns.clone_from(&a.dns);
    if let Some(l) = &a.lease_time {
        s.lease_time = parse_duration(l)?;
        s.max_lease_time = s.max_lease_time.max(s.lease_time);
    }
    if let Some(l) = &a.bootp_lease_time {
        s.bootp_lease_time = match l.as_str() {
            "infinite" => None,
            l => Some(parse_duration(l)?),
        };
    }
    validate_subnet(&s)?;
    finish(
        Mode::Full,
        vec![s],
        &files,
        a.tftp_server,
        None,
        a.interfaces.clone(),
        a.lease_file.clone(),
        a.uefi_via_4011,
        false,
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loopback_interface_gives_its_network() {
        assert_eq!(
            interface_network("lo"),
            Some((Ipv4Addr::new(127, 0, 0, 0), 8))
        );
        assert_eq!(interface_network("no-such-if0"), None);
        let a = ConfigArgs {
            interfaces: vec!["lo".into()],
            range: Some("127.0.0.10-127.0.0.20".into()),
            lease_file: Some("l".into()),
            ..ConfigArgs::default()
        };
        let s = from_args(&a).unwrap();
        assert_eq!(s.server.subnets[0].prefix_len, 8);
    }
}
