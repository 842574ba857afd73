//! `[dhcpv6]`: DHCPv6 for network boot, beside another DHCPv6 server (stateless/proxy
//! mode) or giving addresses from a range itself (full mode), validated into a
//! [`V6Settings`] with `FILE:LINE:COLUMN:` errors.

use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Result};
use dhcp_pxe::boot_class::{policy, BootClass, BootFile};
use dhcp_pxe::policy::Rule;
use dhcp_server::v6::{FullV6, Range6, V6Config};
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
    /// `[dhcpv6] lease_file` as written ([`V6Settings::lease_file_with`] gives
    /// full mode's file).
    pub lease_file: Option<PathBuf>,
}

impl V6Settings {
    /// Full mode's lease file: `lease_file`, else [`LEASE6_FILE_NAME`] beside the
    /// DHCPv4 one (`v4`, after `--lease-file`). `None` in stateless mode.
    pub fn lease_file_with(&self, v4: Option<&Path>) -> Result<Option<PathBuf>> {
        if self.config.full.is_none() {
            return Ok(None);
        }
        match (&self.lease_file, v4) {
            (Some(p), _) => Ok(Some(p.clone())),
            (None, Some(v4)) => Ok(Some(v4.with_file_name(LEASE6_FILE_NAME))),
            (None, None) => bail!(
                "[dhcpv6] mode \"full\" needs a lease file ([dhcpv6] lease_file, or the DHCPv4 lease_file or --lease-file beside which it goes)"
            ),
        }
    }
}

/// The DHCPv6 lease file's name beside the DHCPv4 one.
pub const LEASE6_FILE_NAME: &str = "dhcp6.leases";

/// `range` as written: two addresses, or a prefix.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RangeToml {
    Pair(Vec<String>),
    Prefix(String),
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
    range: Option<Spanned<RangeToml>>,
    preferred_lifetime: Option<Spanned<u32>>,
    valid_lifetime: Option<Spanned<u32>>,
    rapid_commit: Option<bool>,
    lease_file: Option<PathBuf>,
}

/// `[[dhcpv6.boot]]`: as `[[boot]]`, a file (path or URL) for a class.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Boot6Toml {
    class: Option<Spanned<String>>,
    file: Spanned<String>,
}

fn range(r: &RangeToml) -> Result<Range6> {
    let parse = |a: &str| -> Result<Ipv6Addr> {
        a.parse()
            .map_err(|_| anyhow::anyhow!("{a:?} is not an IPv6 address"))
    };
    match r {
        RangeToml::Pair(v) => {
            let [a, b] = v.as_slice() else {
                bail!("range takes two addresses, [\"first\", \"last\"], or a prefix \"2001:db8::/64\"");
            };
            let (a, b) = (parse(a)?, parse(b)?);
            Range6::new(a, b)
                .ok_or_else(|| anyhow::anyhow!("range {a} to {b}: the last comes before the first"))
        }
        RangeToml::Prefix(p) => {
            let (a, len) = p.split_once('/').ok_or_else(|| {
                anyhow::anyhow!("range {p:?}: a prefix is written ADDRESS/LENGTH")
            })?;
            let len: u8 = len
                .parse()
                .map_err(|_| anyhow::anyhow!("range {p:?}: prefix length {len:?}"))?;
            Range6::from_prefix(parse(a)?, len)
                .ok_or_else(|| anyhow::anyhow!("range {p:?}: a prefix of at most 127 bits"))
        }
    }
}

/// Full mode's keys: the range, the lifetimes (RFC 8415 §21.6: preferred at most
/// valid) and Rapid Commit.
fn full(t: &Dhcpv6Toml, src: &Source<'_>, at: std::ops::Range<usize>) -> Result<FullV6> {
    let Some(r) = &t.range else {
        return Err(src.error(
            at,
            "[dhcpv6]: mode \"full\" needs a range ([\"first\", \"last\"] or \"prefix/len\")",
        ));
    };
    let mut f = FullV6::new(src.check(r, "[dhcpv6]: ", range)?);
    if let Some(p) = &t.preferred_lifetime {
        f.preferred_lifetime = src.check(p, "[dhcpv6]: ", |&p| {
            if p == 0 {
                bail!("preferred_lifetime 0: the address would be deprecated at once");
            }
            Ok(p)
        })?;
    }
    if let Some(v) = &t.valid_lifetime {
        f.valid_lifetime = *v.get_ref();
    }
    if f.preferred_lifetime > f.valid_lifetime {
        let span = t
            .valid_lifetime
            .as_ref()
            .or(t.preferred_lifetime.as_ref())
            .map_or(at, Spanned::span);
        return Err(src.error(
            span,
            format_args!(
                "[dhcpv6]: preferred_lifetime {} is longer than valid_lifetime {} (RFC 8415 §21.6)",
                f.preferred_lifetime, f.valid_lifetime
            ),
        ));
    }
    f.rapid_commit = t.rapid_commit.unwrap_or(false);
    Ok(f)
}

/// Validates `[dhcpv6]`. Without `[[dhcpv6.boot]]` the DHCPv4 boot files serve;
/// `hosts` (the `[[host]]` rules) come first either way.
pub(crate) fn dhcpv6(
    t: &Dhcpv6Toml,
    v4_files: &[BootFile],
    hosts: &[Rule],
    src: &Source<'_>,
) -> Result<V6Settings> {
    let is_full = match &t.mode {
        Some(m) => src.check(m, "[dhcpv6]: ", |m| match m.as_str() {
            "stateless" | "proxy" => Ok(false),
            "full" => Ok(true),
            m => {
                bail!("mode {m:?} is not \"stateless\" (or its other name, \"proxy\") or \"full\"")
            }
        })?,
        None => false,
    };
    let mode_at = t.mode.as_ref().map_or(t.interfaces.span(), Spanned::span);
    if !is_full {
        let stray = [
            t.range.as_ref().map(|r| ("range", r.span())),
            t.preferred_lifetime
                .as_ref()
                .map(|r| ("preferred_lifetime", r.span())),
            t.valid_lifetime
                .as_ref()
                .map(|r| ("valid_lifetime", r.span())),
        ];
        if let Some((key, span)) = stray.into_iter().flatten().next() {
            return Err(src.error(span, format_args!("[dhcpv6]: {key} is for mode = \"full\"")));
        }
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
    if files.is_empty() && hosts.is_empty() && !is_full {
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
    if is_full {
        config.full = Some(full(t, src, mode_at)?);
    }
    Ok(V6Settings {
        interfaces: t.interfaces.get_ref().clone(),
        config,
        lease_file: t.lease_file.clone(),
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::from_toml;

    const V4: &str = "mode = \"proxy\"\n[[boot]]\nfile = \"pxelinux.0\"\n";

    #[test]
    fn full_mode_takes_a_prefix_and_puts_its_lease_file_beside_the_v4_one() {
        let text = format!(
            "{V4}[dhcpv6]\nmode = \"full\"\n\
             interfaces = [\"eth0\"]\nrange = \"2001:db8:1::/64\"\nrapid_commit = true\n"
        );
        let v6 = from_toml(&text, Path::new("x.toml"))
            .unwrap()
            .dhcpv6
            .unwrap();
        let f = v6.config.full.clone().unwrap();
        assert_eq!(
            f.range.first(),
            "2001:db8:1::1".parse::<std::net::Ipv6Addr>().unwrap()
        );
        assert_eq!(f.range.prefix_len(), 64);
        assert_eq!(
            (f.preferred_lifetime, f.valid_lifetime, f.rapid_commit),
            (3000, 4000, true)
        );
        let v4 = Some(Path::new("/var/lib/x/leases"));
        let path = v6.lease_file_with(v4).unwrap();
        assert_eq!(path.as_deref(), Some(Path::new("/var/lib/x/dhcp6.leases")));
        // --lease-file on the command line moves it too; without any, refused.
        let path = v6.lease_file_with(Some(Path::new("/srv/l"))).unwrap();
        assert_eq!(path.as_deref(), Some(Path::new("/srv/dhcp6.leases")));
        let e = v6.lease_file_with(None).unwrap_err();
        assert!(format!("{e:#}").contains("needs a lease file"), "{e:#}");
        // Stateless: no range, no lease file.
        let text = format!("{V4}[dhcpv6]\ninterfaces = [\"eth0\"]\n");
        let v6 = from_toml(&text, Path::new("x.toml"))
            .unwrap()
            .dhcpv6
            .unwrap();
        assert!(v6.config.full.is_none());
        assert_eq!(v6.lease_file_with(Some(Path::new("l"))).unwrap(), None);
    }

    #[test]
    fn full_mode_errors_name_the_value() {
        for (tail, want) in [
            (
                "range = [\"2001:db8::1\"]\nlease_file = \"l6\"\n",
                "x.toml:7:9: [dhcpv6]: range takes two addresses",
            ),
            (
                "range = \"2001:db8::/129\"\nlease_file = \"l6\"\n",
                "x.toml:7:9: [dhcpv6]: range \"2001:db8::/129\": a prefix of at most 127 bits",
            ),
            (
                "range = [\"2001:db8::1\", \"nope\"]\nlease_file = \"l6\"\n",
                "x.toml:7:9: [dhcpv6]: \"nope\" is not an IPv6 address",
            ),
            (
                "range = \"2001:db8::/64\"\nlease_file = \"l6\"\npreferred_lifetime = 0\n",
                "x.toml:9:22: [dhcpv6]: preferred_lifetime 0",
            ),
        ] {
            let text = format!("{V4}[dhcpv6]\nmode = \"full\"\ninterfaces = [\"eth0\"]\n{tail}");
            let e = format!("{:#}", from_toml(&text, Path::new("x.toml")).unwrap_err());
            assert!(e.starts_with(want), "{e}\nwanted {want}");
        }
    }
}
