//! `[dhcpv6]`: DHCPv6 for network boot beside another DHCPv6 server (stateless/proxy
//! mode), validated into a [`V6Settings`] with `FILE:LINE:COLUMN:` errors.

use std::net::Ipv6Addr;

use anyhow::{bail, Result};
use dhcp_pxe::boot_class::{policy, BootClass, BootFile};
use dhcp_pxe::policy::Rule;
use dhcp_server::v6::V6Config;
use serde::Deserialize;
use toml::Spanned;

use crate::location::Source;

/// The DHCPv6 side of the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Settings {
    /// Links to serve (multicast is per link: at least one).
    pub interfaces: Vec<String>,
    /// The responder's configuration; its `server_duid` is empty until the daemon
    /// starts (the DUID-LL of the first interface's MAC).
    pub config: V6Config,
}

/// `[dhcpv6]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Dhcpv6Toml {
    mode: Option<Spanned<String>>,
    interfaces: Spanned<Vec<String>>,
    tftp_server: Option<Ipv6Addr>,
    #[serde(default)]
    dns: Vec<Ipv6Addr>,
    #[serde(default)]
    boot: Vec<Spanned<Boot6Toml>>,
}

/// `[[dhcpv6.boot]]`: as `[[boot]]`, a file (path or URL) for a class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Boot6Toml {
    class: Option<Spanned<String>>,
    file: Spanned<String>,
}

/// Validates `[dhcpv6]`. Without `[[dhcpv6.boot]]` the DHCPv4 boot files serve;
/// `hosts` (the `[[host]]` rules) come first either way.
pub(crate) fn dhcpv6(
    t: &Dhcpv6Toml,
    v4_files: &[BootFile],
    hosts: &[Rule],
    src: &Source<'_>,
) -> Result<V6Settings> {
    if let Some(m) = &t.mode {
        src.check(m, "[dhcpv6]: ", |m| match m.as_str() {
            "stateless" | "proxy" => Ok(()),
            "full" => bail!(
                "mode \"full\" (addresses in IA_NA) is not available; \"stateless\" answers boot clients beside another DHCPv6 server"
            ),
            m => bail!("mode {m:?} is not \"stateless\" (or its other name, \"proxy\")"),
        })?;
    }
    if t.interfaces.get_ref().is_empty() {
        return Err(src.error(
            t.interfaces.span(),
            "[dhcpv6]: interfaces is empty (DHCPv6 multicast is per link: name them)",
        ));
    }
    let mut files = Vec::new();
    for b in &t.boot {
        let b = b.get_ref();
        let class = b
            .class
            .as_ref()
            .map(|c| {
                src.check(c, "[dhcpv6] boot: ", |c| {
                    c.parse::<BootClass>().map_err(Into::into)
                })
            })
            .transpose()?;
        let file = src.check(&b.file, "[dhcpv6] boot: ", |f| {
            if f.is_empty() {
                bail!("empty file name");
            }
            if f.contains("://")
                && !f.starts_with("http://")
                && !f.starts_with("https://")
                && !f.starts_with("tftp://[")
            {
                bail!("URL {f:?}: option 59 takes http://, https:// or tftp://[address]/");
            }
            Ok(f.clone())
        })?;
        files.push(BootFile { class, file });
    }
    let files = if files.is_empty() { v4_files } else { &files };
    if files.is_empty() && hosts.is_empty() {
        return Err(src.error(
            t.interfaces.span(),
            "[dhcpv6]: no boot file ([[dhcpv6.boot]], [[boot]] or [[host]])",
        ));
    }
    let mut boot = policy(files, None);
    boot.rules.splice(0..0, hosts.iter().cloned());
    let mut config = V6Config::new(Vec::new(), boot);
    config.dns.clone_from(&t.dns);
    config.tftp = t.tftp_server;
    Ok(V6Settings {
        interfaces: t.interfaces.get_ref().clone(),
        config,
    })
}
