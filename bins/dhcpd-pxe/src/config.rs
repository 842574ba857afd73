//! The configuration file (docs/dhcpd-pxe-config.md), validated into a [`ServerConfig`]
//! with `FILE:LINE:COLUMN:` in every error.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context, Result};
use dhcp_pxe::boot_class::{policy, BootClass, BootFile};
use dhcp_pxe::policy::Rule;
use dhcp_server::driver::Listen;
use dhcp_server::ratelimit::RateLimit;
use dhcp_server::store::PgOptions;
use dhcp_server::{Mode, Range, Reservation, ServerConfig, Subnet};
use serde::Deserialize;
use toml::Spanned;

use crate::dhcpv6::{dhcpv6, Dhcpv6Toml, V6Settings};
use crate::host::{host_rules, HostToml};
use crate::lease_store::{lease_store, scan_offset, LeaseStoreToml};
use crate::location::Source;
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
    /// `[dhcpv6]`, when the file has one.
    pub dhcpv6: Option<V6Settings>,
    /// The shared PostgreSQL lease store (`[lease_store] kind = "postgres"`),
    /// instead of the journal.
    pub lease_db: Option<PgOptions>,
}

impl Settings {
    /// The lease journal: required in full mode unless the leases live in
    /// PostgreSQL, optional in proxy mode.
    pub fn required_lease_file(&self) -> Result<Option<&Path>> {
        match (&self.lease_file, self.server.mode) {
            (Some(p), _) => Ok(Some(p)),
            (None, Mode::Proxy) => Ok(None),
            (None, Mode::Full) if self.lease_db.is_some() => Ok(None),
            (None, Mode::Full) => {
                bail!("full mode needs a lease file (--lease-file PATH or lease_file = \"...\") or a [lease_store]")
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Dur {
    Secs(u64),
    Text(String),
}

// Values whose meaning is checked after deserialising are `Spanned`, so that an
// error names the line and column of the value itself (location.rs).

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    mode: Option<Spanned<String>>,
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
    lease_time: Option<Spanned<Dur>>,
    max_lease_time: Option<Spanned<Dur>>,
    #[serde(default)]
    option: Vec<Spanned<OptionToml>>,
    #[serde(default)]
    subnet: Vec<Spanned<SubnetToml>>,
    #[serde(default)]
    boot: Vec<Spanned<BootToml>>,
    #[serde(default)]
    host: Vec<Spanned<HostToml>>,
    dhcpv6: Option<Dhcpv6Toml>,
    limits: Option<LimitsToml>,
    lease_store: Option<Spanned<LeaseStoreToml>>,
}

/// `[limits]`: request rates.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitsToml {
    client_burst: Option<Spanned<u32>>,
    client_rate: Option<Spanned<u32>>,
    total_burst: Option<Spanned<u32>>,
    total_rate: Option<Spanned<u32>>,
}

/// Settings a subnet may give and the top level gives as defaults.
#[derive(Debug)]
struct Common<'a> {
    routers: &'a Option<Vec<Ipv4Addr>>,
    dns: &'a Option<Vec<Ipv4Addr>>,
    domain_name: &'a Option<String>,
    lease_time: &'a Option<Spanned<Dur>>,
    max_lease_time: &'a Option<Spanned<Dur>>,
    option: &'a [Spanned<OptionToml>],
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
    network: Spanned<String>,
    interface: Option<String>,
    #[serde(default)]
    range: Vec<Spanned<String>>,
    #[serde(default)]
    bootp_range: Vec<Spanned<String>>,
    renew_time: Option<Spanned<Dur>>,
    rebind_time: Option<Spanned<Dur>>,
    bootp_lease_time: Option<Spanned<Dur>>,
    allow_bootp: Option<bool>,
    bootp_lease_cap: Option<Spanned<u8>>,
    fresh_lease_cap: Option<Spanned<u8>>,
    #[serde(default)]
    reservation: Vec<Spanned<ReservationToml>>,
    routers: Option<Vec<Ipv4Addr>>,
    dns: Option<Vec<Ipv4Addr>>,
    domain_name: Option<String>,
    lease_time: Option<Spanned<Dur>>,
    max_lease_time: Option<Spanned<Dur>>,
    #[serde(default)]
    option: Vec<Spanned<OptionToml>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OptionToml {
    code: Spanned<u8>,
    text: Option<String>,
    ip: Option<Vec<Ipv4Addr>>,
    hex: Option<Spanned<String>>,
    u32: Option<u32>,
    u16: Option<u16>,
    u8: Option<u8>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReservationToml {
    mac: Option<Spanned<String>>,
    client_id: Option<Spanned<String>>,
    address: Spanned<Ipv4Addr>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BootToml {
    class: Option<Spanned<String>>,
    file: Spanned<String>,
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

fn percent(what: &'static str) -> impl Fn(&u8) -> Result<u8> {
    move |v| {
        if *v > 100 {
            bail!("{what} = {v}: a percentage, 0 to 100");
        }
        Ok(*v)
    }
}

fn limits(l: &LimitsToml, src: &Source<'_>) -> Result<RateLimit> {
    let mut r = RateLimit::default();
    for (v, slot) in [
        (&l.client_burst, &mut r.burst),
        (&l.client_rate, &mut r.per_second),
        (&l.total_burst, &mut r.total_burst),
        (&l.total_rate, &mut r.total_per_second),
    ] {
        if let Some(v) = v {
            *slot = src.check(v, "[limits]: ", |v| {
                if *v == 0 {
                    bail!("a limit of 0 would refuse every request");
                }
                Ok(*v)
            })?;
        }
    }
    Ok(r)
}

fn option_bytes(o: &Spanned<OptionToml>, src: &Source<'_>) -> Result<(u8, Vec<u8>)> {
    let (span, o) = (o.span(), o.get_ref());
    let code = src.check(&o.code, "", |c| {
        if matches!(c, 0 | 255 | 52 | 53 | 54 | 82) {
            bail!("option {c} is the server's to write");
        }
        Ok(*c)
    })?;
    let mut forms = Vec::new();
    if let Some(t) = &o.text {
        forms.push(t.as_bytes().to_vec());
    }
    if let Some(ip) = &o.ip {
        forms.push(ip.iter().flat_map(|a| a.octets()).collect());
    }
    if let Some(h) = &o.hex {
        forms.push(src.check(h, "", |h| parse_hex_bytes(h))?);
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
        1 => Ok((code, forms.remove(0))),
        0 => Err(src.error(
            span,
            format_args!("option {code} has no value (text, ip, hex, u32, u16 or u8)"),
        )),
        _ => Err(src.error(span, format_args!("option {code} has more than one value"))),
    }
}

fn apply_common(s: &mut Subnet, c: &Common<'_>, src: &Source<'_>, ctx: &str) -> Result<()> {
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
        s.lease_time = src.check(d, ctx, dur)?;
        s.max_lease_time = s.max_lease_time.max(s.lease_time);
    }
    if let Some(d) = &c.max_lease_time {
        s.max_lease_time = src.check(d, ctx, dur)?;
    }
    for o in c.option {
        let (code, data) = option_bytes(o, src)?;
        s.options.retain(|(c, _)| *c != code);
        s.options.push((code, data));
    }
    Ok(())
}

fn range_inside(s: &Subnet, r: &Range) -> Result<()> {
    if !s.contains(r.start) || !s.contains(r.end) {
        bail!(
            "range {}-{} is not inside {}/{}",
            r.start,
            r.end,
            s.network,
            s.prefix_len
        );
    }
    Ok(())
}

fn reservation_inside(s: &Subnet, addr: Ipv4Addr) -> Result<()> {
    if !s.contains(addr) {
        bail!(
            "reservation {addr} is not inside {}/{}",
            s.network,
            s.prefix_len
        );
    }
    Ok(())
}

/// Checks a subnet for mistakes that would hand out wrong addresses.
pub(crate) fn validate_subnet(s: &Subnet) -> Result<()> {
    for r in &s.ranges {
        range_inside(s, r)?;
    }
    for r in &s.reservations {
        reservation_inside(s, r.addr)?;
    }
    Ok(())
}

/// Reads and validates a configuration file.
pub fn from_file(path: &Path) -> Result<Settings> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    from_toml(&text, path)
}

fn subnet(f: &FileConfig, st: &SubnetToml, src: &Source<'_>) -> Result<Subnet> {
    let ctx = format!("subnet {}: ", st.network.get_ref());
    let (net, len) = src.check(&st.network, "", |n| parse_cidr(n))?;
    let mut s = Subnet::new(net, len);
    s.interface.clone_from(&st.interface);
    apply_common(&mut s, &common!(f), src, &ctx)?;
    apply_common(&mut s, &common!(st), src, &ctx)?;
    for (list, bootp) in [(&st.range, false), (&st.bootp_range, true)] {
        for r in list {
            let range = src.check(r, &ctx, |r| {
                let range = parse_range(r, bootp)?;
                range_inside(&s, &range)?;
                Ok(range)
            })?;
            s.ranges.push(range);
        }
    }
    let time = |d: &Option<Spanned<Dur>>| d.as_ref().map(|d| src.check(d, &ctx, dur)).transpose();
    s.renew_time = time(&st.renew_time)?;
    s.rebind_time = time(&st.rebind_time)?;
    if let Some(d) = &st.bootp_lease_time {
        s.bootp_lease_time = src.check(d, &ctx, bootp_len)?;
    }
    if let Some(b) = st.allow_bootp {
        s.allow_bootp = b;
    }
    if let Some(v) = &st.bootp_lease_cap {
        s.caps.bootp_percent = src.check(v, &ctx, percent("bootp_lease_cap"))?;
    }
    if let Some(v) = &st.fresh_lease_cap {
        s.caps.fresh_percent = src.check(v, &ctx, percent("fresh_lease_cap"))?;
    }
    for r in &st.reservation {
        let (span, r) = (r.span(), r.get_ref());
        if r.mac.is_none() && r.client_id.is_none() {
            return Err(src.error(
                span,
                format_args!(
                    "{ctx}reservation {} names neither mac nor client_id",
                    r.address.get_ref()
                ),
            ));
        }
        let addr = src.check(&r.address, &ctx, |a| {
            reservation_inside(&s, *a).map(|()| *a)
        })?;
        s.reservations.push(Reservation {
            mac: r
                .mac
                .as_ref()
                .map(|m| src.check(m, &ctx, |m| parse_mac(m)))
                .transpose()?,
            client_id: r
                .client_id
                .as_ref()
                .map(|c| src.check(c, &ctx, |c| parse_hex_bytes(c)))
                .transpose()?,
            addr,
        });
    }
    Ok(s)
}

/// Validates a configuration given as TOML text (`path` names it in errors, as
/// `FILE:LINE:COLUMN:` of the offending key or value).
pub fn from_toml(text: &str, path: &Path) -> Result<Settings> {
    let src = Source::new(path, text);
    let f: FileConfig = toml::from_str(text)
        .map_err(|e| src.error(e.span().unwrap_or(0..0), e.message().trim_end()))?;
    let mode = match &f.mode {
        None => Mode::Full,
        Some(m) => src.check(m, "", |m| match m.as_str() {
            "full" => Ok(Mode::Full),
            "proxy" => Ok(Mode::Proxy),
            m => bail!("mode {m:?} is neither \"full\" nor \"proxy\""),
        })?,
    };
    let mut subnets: Vec<Subnet> = Vec::new();
    for st in &f.subnet {
        let st = st.get_ref();
        let s = subnet(&f, st, &src)?;
        if let Some(o) = subnets
            .iter()
            .find(|o| o.contains(s.network) || s.contains(o.network))
        {
            return Err(src.error(
                st.network.span(),
                format_args!(
                    "subnet {}: overlaps subnet {}/{}",
                    st.network.get_ref(),
                    o.network,
                    o.prefix_len
                ),
            ));
        }
        subnets.push(s);
    }
    let mut files = Vec::new();
    for b in &f.boot {
        let b = b.get_ref();
        let class = b
            .class
            .as_ref()
            .map(|c| src.check(c, "boot: ", |c| c.parse::<BootClass>().map_err(Into::into)))
            .transpose()?;
        let file = src.check(&b.file, "boot: ", |f| {
            if f.is_empty() {
                bail!("empty file name");
            }
            Ok(f.clone())
        })?;
        files.push(BootFile { class, file });
    }
    let hosts = host_rules(&f.host, &src, f.tftp_server)?;
    let v6 = f
        .dhcpv6
        .as_ref()
        .map(|t| dhcpv6(t, &files, &hosts, &src))
        .transpose()?;
    let rate = limits(f.limits.as_ref().unwrap_or(&LimitsToml::default()), &src)?;
    let lease_db = match &f.lease_store {
        Some(t) => src.check(t, "[lease_store]: ", |t| {
            lease_store(t, f.lease_file.is_some())
        })?,
        None => None,
    };
    // What is missing as a whole has no value to point at: the mode, else the top.
    let whole = f.mode.as_ref().map_or(0..0, Spanned::span);
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
        hosts,
    )
    .map_err(src.at(whole, ""))?;
    s.server.rate_limit = rate;
    s.dhcpv6 = v6;
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
    hosts: Vec<Rule>,
) -> Result<Settings> {
    if mode == Mode::Full && subnets.is_empty() {
        bail!("full mode needs at least one subnet");
    }
    if mode == Mode::Proxy && files.is_empty() && hosts.is_empty() {
        bail!("proxy mode needs at least one boot file");
    }
    // Hosts first: a machine's own file wins over its class's.
    let mut boot = policy(files, tftp_server);
    boot.rules.splice(0..0, hosts);
    let mut server = ServerConfig::new(mode, subnets, boot);
    server.server_id = server_id;
    server.uefi_via_4011 = uefi_via_4011;
    let mut listen = Listen::new(interfaces);
    listen.share_port = share_port || mode == Mode::Proxy;
    Ok(Settings {
        server,
        listen,
        lease_file,
        dhcpv6: None,
        lease_db: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error for `text`, which must be refused.
    fn refused(text: &str) -> String {
        format!("{:#}", from_toml(text, Path::new("x.toml")).unwrap_err())
    }

    const SUBNET: &str = "lease_file = \"l\"\n\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\n";

    #[test]
    fn errors_name_the_line_and_column_of_the_value() {
        // The case: a bad lease_time several lines below its [[subnet]].
        let text =
            format!("{SUBNET}range = [\"192.0.2.10-192.0.2.20\"]\n\n\n\nlease_time = \"10x\"\n");
        let e = refused(&text);
        assert!(
            e.starts_with(
                "x.toml:9:14: subnet 192.0.2.0/24: bad duration \"10x\": unknown time unit"
            ),
            "{e}"
        );
        for (tail, want) in [
            // the second range of a list: its own column
            (
                "range = [\"192.0.2.10-192.0.2.20\", \"10.0.0.1-10.0.0.9\"]\n",
                "x.toml:5:35: subnet 192.0.2.0/24: range 10.0.0.1-10.0.0.9 is not inside",
            ),
            (
                "bootp_lease_cap = 150\n",
                "x.toml:5:19: subnet 192.0.2.0/24: bootp_lease_cap = 150",
            ),
            (
                "renew_time = \"1x\"\n",
                "x.toml:5:14: subnet 192.0.2.0/24: bad duration \"1x\"",
            ),
            (
                "[[subnet.reservation]]\nmac = \"52:54:00\"\naddress = \"192.0.2.9\"\n",
                "x.toml:6:7: subnet 192.0.2.0/24: MAC \"52:54:00\" is not six bytes",
            ),
            (
                "[[subnet.reservation]]\nmac = \"52:54:00:12:34:56\"\naddress = \"198.18.0.1\"\n",
                "x.toml:7:11: subnet 192.0.2.0/24: reservation 198.18.0.1 is not inside",
            ),
            (
                "[[subnet.option]]\ncode = 53\nu8 = 1\n",
                "x.toml:6:8: option 53 is the server's to write",
            ),
            (
                "[[subnet.option]]\ncode = 42\nhex = \"0g\"\n",
                "x.toml:7:7: \"0g\" is not hex bytes",
            ),
            (
                "lease_time = true\n",
                "x.toml:5:14: data did not match any variant",
            ),
            (
                "[[subnet]]\nnetwork = \"192.0.2.128/25\"\n",
                "x.toml:6:11: subnet 192.0.2.128/25: overlaps subnet 192.0.2.0/24",
            ),
            (
                "[[boot]]\nclass = \"efi-x65\"\nfile = \"a.efi\"\n",
                "x.toml:6:9: boot: unknown client class \"efi-x65\"",
            ),
            (
                "[[host]]\nmac = \"52:54:00:12:34\"\nboot_file = \"a.efi\"\n",
                "x.toml:6:7: host: MAC \"52:54:00:12:34\" is not six bytes",
            ),
            (
                "[[host]]\nmac = \"52:54:00:12:34:56\"\nboot_file = \"a\"\nipxe_script = \"undionly.kpxe\"\n",
                "x.toml:8:15: host: ipxe_script \"undionly.kpxe\" is an iPXE binary",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\nmode = \"full\"\n",
                "x.toml:7:8: [dhcpv6]: mode \"full\" needs a range",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\nmode = \"full\"\nrange = [\"2001:db8::9\", \"2001:db8::1\"]\n",
                "x.toml:8:9: [dhcpv6]: range 2001:db8::9 to 2001:db8::1: the last comes before the first",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\nmode = \"full\"\nrange = \"2001:db8::/64\"\npreferred_lifetime = 900\nvalid_lifetime = 600\n",
                "x.toml:10:18: [dhcpv6]: preferred_lifetime 900 is longer than valid_lifetime 600",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\nrange = \"2001:db8::/64\"\n",
                "x.toml:7:9: [dhcpv6]: range is for mode = \"full\"",
            ),
            (
                "[dhcpv6]\ninterfaces = []\n",
                "x.toml:6:14: [dhcpv6]: interfaces is empty",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\n",
                "x.toml:6:14: [dhcpv6]: no boot file",
            ),
            (
                "[dhcpv6]\ninterfaces = [\"eth0\"]\n[[dhcpv6.boot]]\nfile = \"ftp://x/a.efi\"\n",
                "x.toml:8:8: [dhcpv6] boot: URL \"ftp://x/a.efi\": option 59 takes",
            ),
            (
                "[limits]\ntotal_rate = 0\n",
                "x.toml:6:14: [limits]: a limit of 0 would refuse every request",
            ),
        ] {
            let e = refused(&format!("{SUBNET}{tail}"));
            assert!(e.starts_with(want), "{tail}: {e}");
        }
        let e = refused("mode = \"full\"\nbogus = 1\n");
        assert!(e.starts_with("x.toml:2:1: unknown field `bogus`"), "{e}");
        let e = refused("\nmode = \"half\"\n");
        assert!(e.starts_with("x.toml:2:8: mode \"half\" is neither"), "{e}");
        let e = refused("mode = \"proxy\"\n");
        assert!(
            e.starts_with("x.toml:1:8: proxy mode needs at least one boot file"),
            "{e}"
        );
    }
}
