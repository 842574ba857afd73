//! The IPv6 lab's DHCPv6 server, started in one place ([`start_dhcpv6`]):
//! addresses (IA_NA) from [`RANGE6`] in [`SUBNET6`] and option 59 =
//! [`boot_url`] on [`BRIDGE`]. [`Dhcp6Server`] says which server that is;
//! nothing else in the harness depends on it.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::daemon::Daemon;
use crate::ipv6::{boot_url, BOOT_FILE, RANGE6, SERVER_IP6, SUBNET6};
use crate::lab::{Lab, BRIDGE};
use crate::machine::{self, Machine, Unmet};
use crate::scenario::read_lossy;

/// Who answers DHCPv6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dhcp6Server {
    /// `kea-dhcp6`, stateful, with `bootfile-url` for every client
    /// ([`kea_config`]).
    Kea,
    /// This project's `dhcpd-pxe` with `[dhcpv6] mode = "full"`
    /// ([`dhcpd_pxe_config`]).
    DhcpdPxeFull,
    /// `kea-dhcp6` gives the addresses and no boot file; `dhcpd-pxe` in
    /// stateless mode beside it gives option 59 ([`dhcpd_pxe_proxy_config`]):
    /// its ADVERTISE says `PXEClient`, so OVMF takes it as a proxy offer and
    /// asks it again on port 4011. `radvd` announces the /64 as on-link, as
    /// a router on a real IPv6 network does: OVMF sends that second REQUEST
    /// before it configures the address it was given, so only an on-link
    /// prefix lets it reach the server's global address.
    KeaWithDhcpdPxeProxy,
}

impl Dhcp6Server {
    /// Its log in the run directory.
    pub fn log_name(self) -> &'static str {
        match self {
            Self::Kea | Self::KeaWithDhcpdPxeProxy => "kea-dhcp6.log",
            Self::DhcpdPxeFull => "dhcpd-pxe.log",
        }
    }

    /// What it needs on this machine.
    pub fn require(self, m: &Machine) -> Result<(), Unmet> {
        match self {
            Self::Kea => machine::require_tool("kea-dhcp6").map(drop),
            Self::DhcpdPxeFull => m.dhcpd_pxe().map(drop),
            Self::KeaWithDhcpdPxeProxy => {
                machine::require_tool("kea-dhcp6")?;
                machine::require_tool("radvd")?;
                m.dhcpd_pxe().map(drop)
            }
        }
    }

    /// Whether its log shows an address of [`SUBNET6`] bound in a REPLY.
    pub fn leased(self, log: &str) -> bool {
        let bound = |l: &&str| match self {
            // Kea's lease line (severity DEBUG or INFO).
            Self::Kea | Self::KeaWithDhcpdPxeProxy => l.contains("DHCP6_LEASE_ALLOC"),
            // dhcpd-pxe -v: `DHCPv6 IA_NA … note=2001:db8::100 bound for 4000 s`.
            Self::DhcpdPxeFull => l.contains("DHCPv6 IA_NA") && l.contains(" bound for "),
        };
        log.lines().filter(bound).any(|l| l.contains("2001:db8::"))
    }

    /// After a boot that reached the marker: what the servers' logs in `dir`
    /// must also show. With the proxy beside Kea, that `dhcpd-pxe` answered
    /// the firmware's REQUEST on port 4011 (the boot file came from there).
    pub fn confirm(self, dir: &Path) -> Result<(), String> {
        if self != Self::KeaWithDhcpdPxeProxy {
            return Ok(());
        }
        let log = read_lossy(&dir.join("dhcpd-pxe.log"));
        let answered = log
            .lines()
            .any(|l| l.contains("DHCPv6 reply") && l.contains("]:4011") && l.contains("Reply"));
        if answered {
            Ok(())
        } else {
            Err(
                "marker seen, but dhcpd-pxe.log shows no REPLY on port 4011 (the proxy path)"
                    .into(),
            )
        }
    }
}

/// Starts `server` on [`BRIDGE`] in `lab`, its configuration, lease file
/// and log in `dir`; returns once it listens (or why it does not).
pub fn start_dhcpv6(
    server: Dhcp6Server,
    m: &Machine,
    lab: &Lab,
    dir: &Path,
) -> io::Result<Vec<Daemon>> {
    match server {
        Dhcp6Server::Kea => Ok(vec![start_kea(lab, dir, true)?]),
        Dhcp6Server::DhcpdPxeFull => {
            Ok(vec![start_dhcpd_pxe(m, lab, dir, &dhcpd_pxe_config(dir))?])
        }
        Dhcp6Server::KeaWithDhcpdPxeProxy => Ok(vec![
            start_radvd(lab, dir)?,
            start_kea(lab, dir, false)?,
            start_dhcpd_pxe(m, lab, dir, &dhcpd_pxe_proxy_config())?,
        ]),
    }
}

/// `kea-dhcp6` with [`kea_config`]; returns once it listens.
fn start_kea(lab: &Lab, dir: &Path, with_url: bool) -> io::Result<Daemon> {
    let log = dir.join("kea-dhcp6.log");
    let ready = Duration::from_secs(10);
    let conf = dir.join("kea-dhcp6.conf");
    fs::write(&conf, kea_config(dir, with_url))?;
    let mut cmd = lab.command("kea-dhcp6");
    // Its PID file and lock file go to the run directory, not /run/kea.
    cmd.env("KEA_PIDFILE_DIR", dir)
        .env("KEA_LOCKFILE_DIR", dir)
        .arg("-c")
        .arg(&conf);
    let mut d = Daemon::spawn("kea-dhcp6", cmd, &log)?;
    d.wait_for_log("DHCP6_STARTED", ready)?;
    // Kea starts even when it could open no socket; say so here.
    let text = read_lossy(&log);
    if let Some(line) = text
        .lines()
        .find(|l| l.contains("DHCPSRV_OPEN_SOCKET_FAIL") || l.contains("DHCPSRV_NO_SOCKETS_OPEN"))
    {
        return Err(io::Error::other(format!("kea-dhcp6: {}", line.trim())));
    }
    Ok(d)
}

/// `radvd` on [`BRIDGE`]: [`SUBNET6`] on-link, no address autoconfiguration
/// (the M flag: addresses come from DHCPv6), not a default router; every 3 to
/// 10 s and in answer to router solicitations. Returns once it runs.
fn start_radvd(lab: &Lab, dir: &Path) -> io::Result<Daemon> {
    let conf = dir.join("radvd.conf");
    fs::write(
        &conf,
        format!(
            "interface {BRIDGE} {{\n  AdvSendAdvert on;\n  MinRtrAdvInterval 3;\n  \
             MaxRtrAdvInterval 10;\n  AdvDefaultLifetime 0;\n  AdvManagedFlag on;\n  \
             AdvOtherConfigFlag on;\n  prefix {SUBNET6} {{\n    AdvOnLink on;\n    \
             AdvAutonomous off;\n  }};\n}};\n"
        ),
    )?;
    let mut cmd = lab.command("radvd");
    cmd.args(["-n", "-m", "stderr", "-d", "1", "-C"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("radvd.pid"));
    let mut d = Daemon::spawn("radvd", cmd, &dir.join("radvd.log"))?;
    d.wait_for_log("started", Duration::from_secs(10))?;
    Ok(d)
}

/// `dhcpd-pxe -vv` with `config` (its replies logged); returns once it
/// listens for DHCPv6.
fn start_dhcpd_pxe(m: &Machine, lab: &Lab, dir: &Path, config: &str) -> io::Result<Daemon> {
    let bin = m.dhcpd_pxe().map_err(|Unmet(r)| io::Error::other(r))?;
    let conf = dir.join("dhcpd-pxe.toml");
    fs::write(&conf, config)?;
    let mut cmd = lab.command(&bin.to_string_lossy());
    cmd.args(["-vv", "-c"]).arg(&conf);
    let mut d = Daemon::spawn("dhcpd-pxe", cmd, &dir.join("dhcpd-pxe.log"))?;
    d.wait_for_log("DHCPv6 listening", Duration::from_secs(10))?;
    Ok(d)
}

/// Kea's DHCPv6 configuration: one subnet on [`BRIDGE`], the pool
/// [`RANGE6`], `bootfile-url` (option 59) when `with_url`, leases in
/// memory, a fixed DUID-LL server id (nothing written outside `dir`), log
/// to stdout.
pub fn kea_config(dir: &Path, with_url: bool) -> String {
    let (first, last) = RANGE6;
    let options = if with_url {
        format!(r#"{{ "name": "bootfile-url", "data": "{}" }}"#, boot_url())
    } else {
        String::new()
    };
    format!(
        r#"{{ "Dhcp6": {{
  "interfaces-config": {{ "interfaces": [ "{BRIDGE}" ] }},
  "data-directory": "{dir}",
  "server-id": {{ "type": "LL", "htype": 1, "identifier": "020000000001", "persist": false }},
  "lease-database": {{ "type": "memfile", "persist": false }},
  "preferred-lifetime": 300, "valid-lifetime": 600, "renew-timer": 150, "rebind-timer": 240,
  "subnet6": [ {{
    "subnet": "{SUBNET6}",
    "interface": "{BRIDGE}",
    "pools": [ {{ "pool": "{first}-{last}" }} ],
    "option-data": [ {options} ]
  }} ],
  "loggers": [ {{
    "name": "kea-dhcp6",
    "output_options": [ {{ "output": "stdout" }} ],
    "severity": "DEBUG", "debuglevel": 40
  }} ]
}} }}
"#,
        dir = dir.display(),
    )
}

/// `dhcpd-pxe`'s configuration for full-mode DHCPv6: [`RANGE6`] on
/// [`BRIDGE`], class `efi-x64` gets [`BOOT_FILE`] as
/// `tftp://[SERVER_IP6]/grubx64.efi`, the DHCPv6 lease file in `dir`. The
/// DHCPv4 side (required by the file) is a proxy no client of this lab asks.
pub fn dhcpd_pxe_config(dir: &Path) -> String {
    let (first, last) = RANGE6;
    format!(
        r#"# netboot-e2e: DHCPv6 full mode on an IPv6-only bridge
mode = "proxy"
interfaces = ["{BRIDGE}"]

[[boot]]
class = "efi-x64"
file = "{BOOT_FILE}"

[dhcpv6]
mode = "full"
interfaces = ["{BRIDGE}"]
range = ["{first}", "{last}"]
tftp_server = "{SERVER_IP6}"
lease_file = "{leases}"
"#,
        leases = dir.join("dhcpd-pxe6.leases").display()
    )
}

/// `dhcpd-pxe`'s configuration beside Kea: `[dhcpv6]` in stateless mode on
/// [`BRIDGE`], class `efi-x64` gets `tftp://[SERVER_IP6]/grubx64.efi`, no
/// addresses.
pub fn dhcpd_pxe_proxy_config() -> String {
    format!(
        r#"# netboot-e2e: DHCPv6 boot options beside kea-dhcp6 (stateless mode)
mode = "proxy"
interfaces = ["{BRIDGE}"]

[[boot]]
class = "efi-x64"
file = "{BOOT_FILE}"

[dhcpv6]
mode = "stateless"
interfaces = ["{BRIDGE}"]
tftp_server = "{SERVER_IP6}"
"#
    )
}
