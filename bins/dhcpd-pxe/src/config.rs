//! The configuration file (docs/dhcpd-pxe-config.md), validated into a [`ServerConfig`]
//! with `FILE:LINE:` in every error.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};
use dhcp_server::driver::Listen;
use dhcp_server::ratelimit::RateLimit;
use dhcp_server::store::PgOptions;
use dhcp_server::{Mode, Reservation, ServerConfig, Subnet};
use serde::Deserialize;
use toml::Spanned;

use crate::boot::{policy, BootFile};
use crate::lease_store::{lease_store, scan_offset, LeaseStoreToml};
use crate::values::{parse_cidr, parse_duration, parse_hex_bytes, parse_mac, parse_range};

/// Everything the daemon needs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The core's configuration.
    pub server: ServerConfig,
    /// Sockets.
    pub listen: Listen,
    /// The lease journal.
    pub lease_file: Option<PathBuf>,
    /// The shared PostgreSQL lease store (`[lease_store] kind = "postgres"`),
    /// instead of the journal.
    pub lease_db: Option<PgOptions>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Dur {
    Secs(u64),
    Text(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mode: Option<String>,
    #[serde(default)]
    interfaces: Vec<String>,
    lease_file: Option<PathBuf>,
    tftp_server: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    #[serde(default)]
    uefi_via_4011: bool,
    #[serde(default)]
    share_port: bool,
    routers: Option<Vec<Ipv4Addr>>,
    dns: Option<Vec<Ipv4Addr>>,
    domain_name: Option<String>,
    lease_time: Option<Dur>,
    max_lease_time: Option<Dur>,
    #[serde(default)]
    option: Vec<OptionToml>,
    #[serde(default)]
    subnet: Vec<Spanned<SubnetToml>>,
    #[serde(default)]
    boot: Vec<Spanned<BootToml>>,
    limits: Option<LimitsToml>,
    lease_store: Option<Spanned<LeaseStoreToml>>,
}

/// `[limits]`: request rates.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsToml {
    client_burst: Option<u32>,
    client_rate: Option<u32>,
    total_burst: Option<u32>,
    total_rate: Option<u32>,
}

/// Settings a subnet may give and the top level gives as defaults.
#[derive(Debug)]
struct Common<'a> {
    routers: &'a Option<Vec<Ipv4Addr>>,
    dns: &'a Option<Vec<Ipv4Addr>>,
    domain_name: &'a Option<String>,
    lease_time: &'a Option<Dur>,
    max_lease_time: &'a Option<Dur>,
    option: &'a [OptionToml],
}

macro_rules! common {
    ($x:expr) => {
        Common {
            routers: &$x.routers,
            dns: &$x.dns,
            domain_name: &$x.domain_name,
            lease_time: &$x.lease_time,
            max_lease_time: &$x.max_lease_time,
            option: &$x.option,
        }
    };
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubnetToml {
    network: String,
    interface: Option<String>,
    #[serde(default)]
    range: Vec<String>,
    #[serde(default)]
    bootp_range: Vec<String>,
    renew_time: Option<Dur>,
    rebind_time: Option<Dur>,
    bootp_lease_time: Option<Dur>,
    allow_bootp: Option<bool>,
    bootp_lease_cap: Option<u8>,
    fresh_lease_cap: Option<u8>,
    #[serde(default)]
    reservation: Vec<ReservationToml>,
    routers: Option<Vec<Ipv4Addr>>,
    dns: Option<Vec<Ipv4Addr>>,
    domain_name: Option<String>,
    lease_time: Option<Dur>,
    max_lease_time: Option<Dur>,
    #[serde(default)]
    option: Vec<OptionToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionToml {
    code: u8,
    text: Option<String>,
    ip: Option<Vec<Ipv4Addr>>,
    hex: Option<String>,
    u32: Option<u32>,
    u16: Option<u16>,
    u8: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReservationToml {
    mac: Option<String>,
    client_id: Option<String>,
    address: Ipv4Addr,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BootToml {
    class: Option<String>,
    file: String,
}

pub(crate) fn dur(d: &Dur) -> Result<Duration> {
    match d {
        Dur::Secs(n) => Ok(Duration::from_secs(*n)),
        Dur::Text(t) => parse_duration(t),
    }
}

/// A BOOTP lease length: a duration or "infinite".
fn bootp_len(d: &Dur) -> Result<Option<Duration>> {
    match d {
        Dur::Text(t) if t == "infinite" => Ok(None),
        d => dur(d).map(Some),
    }
}

fn percent(what: &str, v: u8) -> Result<u8> {
    if v > 100 {
        bail!("{what} = {v}: a percentage, 0 to 100");
    }
    Ok(v)
}

fn limits(l: &LimitsToml) -> Result<RateLimit> {
    let mut r = RateLimit::default();
    for (v, slot) in [
        (l.client_burst, &mut r.burst),
        (l.client_rate, &mut r.per_second),
        (l.total_burst, &mut r.total_burst),
        (l.total_rate, &mut r.total_per_second),
    ] {
        if let Some(v) = v {
            if v == 0 {
                bail!("[limits]: a limit of 0 would refuse every request");
            }
            *slot = v;
        }
    }
    Ok(r)
}

fn option_bytes(o: &OptionToml) -> Result<(u8, Vec<u8>)> {
    if matches!(o.code, 0 | 255 | 52 | 53 | 54 | 82) {
        bail!("option {} is the server's to write", o.code);
    }
    let mut forms = Vec::new();
    if let Some(t) = &o.text {
        forms.push(t.as_bytes().to_vec());
    }
    if let Some(ip) = &o.ip {
        forms.push(ip.iter().flat_map(|a| a.octets()).collect());
    }
    if let Some(h) = &o.hex {
        forms.push(parse_hex_bytes(h)?);
    }
    if let Some(v) = o.u32 {
        forms.push(v.to_be_bytes().to_vec());
    }
    if let Some(v) = o.u16 {
        forms.push(v.to_be_bytes().to_vec());
    }
    if let Some(v) = o.u8 {
        forms.push(vec![v]);
    }
    match forms.len() {
        1 => Ok((o.code, forms.remove(0))),
        0 => bail!(
            "option {} has no value (text, ip, hex, u32, u16 or u8)",
            o.code
        ),
        _ => bail!("option {} has more than one value", o.code),
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())]
        .bytes()
        .filter(|b| *b == b'\n')
        .count()
        + 1
}

fn apply_common(s: &mut Subnet, c: &Common<'_>) -> Result<()> {
    if let Some(r) = &c.routers {
        s.routers.clone_from(r);
    }
    if let Some(d) = &c.dns {
        s.dns.clone_from(d);
    }
    if let Some(d) = &c.domain_name {
        s.domain_name = Some(d.clone());
    }
    if let Some(d) = &c.lease_time {
        s.lease_time = dur(d)?;
        s.max_lease_time = s.max_lease_time.max(s.lease_time);
    }
    if let Some(d) = &c.max_lease_time {
        s.max_lease_time = dur(d)?;
    }
    for o in c.option {
        let (code, data) = option_bytes(o)?;
        s.options.retain(|(c, _)| *c != code);
        s.options.push((code, data));
    }
    Ok(())
}

/// Checks a subnet for mistakes that would hand out wrong addresses.
pub(crate) fn validate_subnet(s: &Subnet) -> Result<()> {
    for r in &s.ranges {
        if !s.contains(r.start) || !s.contains(r.end) {
            bail!(
                "range {}-{} is not inside {}/{}",
                r.start,
                r.end,
                s.network,
                s.prefix_len
            );
        }
    }
    for r in &s.reservations {
        if !s.contains(r.addr) {
            bail!(
                "reservation {} is not inside {}/{}",
                r.addr,
                s.network,
                s.prefix_len
            );
        }
    }
    Ok(())
}

/// Reads and validates a configuration file.
pub fn from_file(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    from_toml(&text, path)
}

/// Validates a configuration given as TOML text (`path` names it in errors).
pub fn from_toml(text: &str, path: &Path) -> Result<Settings> {
    let p = path.display();
    let f: FileConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| line_of(text, s.start));
        anyhow!("{p}:{line}: {}", e.message())
    })?;
    let mode = match f.mode.as_deref() {
        None | Some("full") => Mode::Full,
        Some("proxy") => Mode::Proxy,
        Some(m) => bail!("{p}: mode {m:?} is neither \"full\" nor \"proxy\""),
    };
    let mut subnets = Vec::new();
    for st in &f.subnet {
        let line = line_of(text, st.span().start);
        let t = st.get_ref();
        let at = |e: anyhow::Error| anyhow!("{p}:{line}: subnet {}: {e:#}", t.network);
        let (net, len) = parse_cidr(&t.network).map_err(at)?;
        let mut s = Subnet::new(net, len);
        s.interface.clone_from(&t.interface);
        apply_common(&mut s, &common!(f)).map_err(at)?;
        apply_common(&mut s, &common!(t)).map_err(at)?;
        for r in &t.range {
            s.ranges.push(parse_range(r, false).map_err(at)?);
        }
        for r in &t.bootp_range {
            s.ranges.push(parse_range(r, true).map_err(at)?);
        }
        s.renew_time = t.renew_time.as_ref().map(dur).transpose().map_err(at)?;
        s.rebind_time = t.rebind_time.as_ref().map(dur).transpose().map_err(at)?;
        if let Some(d) = &t.bootp_lease_time {
            s.bootp_lease_time = bootp_len(d).map_err(at)?;
        }
        if let Some(b) = t.allow_bootp {
            s.allow_bootp = b;
        }
        if let Some(v) = t.bootp_lease_cap {
            s.caps.bootp_percent = percent("bootp_lease_cap", v).map_err(at)?;
        }
        if let Some(v) = t.fresh_lease_cap {
            s.caps.fresh_percent = percent("fresh_lease_cap", v).map_err(at)?;
        }
        for r in &t.reservation {
            if r.mac.is_none() && r.client_id.is_none() {
                return Err(at(anyhow!(
                    "reservation {} names neither mac nor client_id",
                    r.address
                )));
            }
            s.reservations.push(Reservation {
                mac: r.mac.as_deref().map(parse_mac).transpose().map_err(at)?,
                client_id: r
                    .client_id
                    .as_deref()
                    .map(parse_hex_bytes)
                    .transpose()
                    .map_err(at)?,
                addr: r.address,
            });
        }
        validate_subnet(&s).map_err(at)?;
        if let Some(o) = subnets
            .iter()
            .find(|o: &&Subnet| o.contains(s.network) || s.contains(o.network))
        {
            return Err(at(anyhow!(
                "overlaps subnet {}/{}",
                o.network,
                o.prefix_len
            )));
        }
        subnets.push(s);
    }
    let mut files = Vec::new();
    for b in &f.boot {
        let line = line_of(text, b.span().start);
        let t = b.get_ref();
        let spec = match &t.class {
            Some(c) => format!("{c}={}", t.file),
            None => t.file.clone(),
        };
        files.push(BootFile::parse(&spec).map_err(|e| anyhow!("{p}:{line}: boot: {e}"))?);
    }
    let rate = limits(f.limits.as_ref().unwrap_or(&LimitsToml::default()))
        .map_err(|e| anyhow!("{p}: {e:#}"))?;
    let lease_db = match &f.lease_store {
        Some(t) => {
            let line = line_of(text, t.span().start);
            lease_store(t.get_ref(), f.lease_file.is_some())
                .map_err(|e| anyhow!("{p}:{line}: [lease_store]: {e:#}"))?
        }
        None => None,
    };
    let mut s = finish(
        mode,
        subnets,
        &files,
        f.tftp_server,
        f.server_id,
        f.interfaces,
        f.lease_file,
        f.uefi_via_4011,
        f.share_port,
    )
    .map_err(|e| anyhow!("{p}: {e:#}"))?;
    s.server.rate_limit = rate;
    if let Some(db) = &lease_db {
        s.server.scan_offset = scan_offset(&db.instance);
    }
    s.lease_db = lease_db;
    Ok(s)
}

#[allow(clippy::too_many_arguments)]
pub(crate) fn finish(
    mode: Mode,
    subnets: Vec<Subnet>,
    files: &[BootFile],
    tftp_server: Option<Ipv4Addr>,
    server_id: Option<Ipv4Addr>,
    interfaces: Vec<String>,
    lease_file: Option<PathBuf>,
    uefi_via_4011: bool,
    share_port: bool,
) -> Result<Settings> {
    if mode == Mode::Full && subnets.is_empty() {
        bail!("full mode needs at least one subnet");
    }
    if mode == Mode::Proxy && files.is_empty() {
        bail!("proxy mode needs at least one boot file");
    }
    let mut server = ServerConfig::new(mode, subnets, policy(files, tftp_server));
    server.server_id = server_id;
    server.uefi_via_4011 = uefi_via_4011;
    let mut listen = Listen::new(interfaces);
    listen.share_port = share_port || mode == Mode::Proxy;
    Ok(Settings {
        server,
        listen,
        lease_file,
        lease_db: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_and_line() {
        let text = "mode = \"full\"\n\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"10.0.0.1-10.0.0.9\"]\n";
        let e = from_toml(text, Path::new("x.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("x.toml:3: subnet 192.0.2.0/24: range 10.0.0.1-10.0.0.9 is not inside"),
            "{e}"
        );
        let e = from_toml("mode = \"full\"\nbogus = 1\n", Path::new("y.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("y.toml:2: unknown field `bogus`"), "{e}");
    }
}
