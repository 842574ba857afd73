//! UEFI PXE over IPv6 only: OVMF (its own virtio-net driver and network
//! stack, PXE over IPv4 switched off by fw_cfg) asks DHCPv6 for an address
//! and the boot file URL (option 59, `tftp://[2001:db8::1]/grubx64.efi`),
//! loads Debian's network GRUB from this project's `tftpd` over IPv6, and
//! GRUB (from the cached DHCPv6 reply) reads the `grub.cfg` that `pxecfg
//! generate --format grub` wrote and loads kernel and initrd over TFTP/IPv6.
//! The bridge has no IPv4 address at all. See docs/guide-ipv6-pxe.md.
//!
//! The DHCPv6 server is started in one place, [`start_dhcpv6`]; which one
//! run is [`Dhcp6Server`] (both in [`crate::ipv6_dhcp`]). No router advertisement is needed: OVMF takes
//! its address from the IA_NA of the REPLY and reaches the server on the
//! same /64 directly.

use std::fs;
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::daemon::Daemon;
use crate::diagnose::{self, strip_ansi};
use crate::ipv6_dhcp::{start_dhcpv6, Dhcp6Server};
use crate::ipv6_stage;
use crate::lab::{Lab, BRIDGE};
use crate::machine::{self, Machine, Unmet};
use crate::qemu::{self, Boot};
use crate::scenario::{self, read_lossy, Passed};
use crate::secure_boot::GRUB_NET;
use crate::tree;

/// The boot servers' address on `br0` (a /64: clients in it are on-link).
pub const SERVER_IP6: &str = "2001:db8::1";
/// The bridge's only link-local address (DHCPv6 servers answer from it).
pub const SERVER_LINK_LOCAL: &str = "fe80::1";
/// The prefix [`SERVER_IP6`] and the client addresses share.
pub const SUBNET6: &str = "2001:db8::/64";
/// The addresses the DHCPv6 server hands out (IA_NA).
pub const RANGE6: (&str, &str) = ("2001:db8::100", "2001:db8::1ff");
/// The boot file: Debian's network GRUB, unsigned use (Secure Boot off).
pub const BOOT_FILE: &str = "grubx64.efi";
/// The configuration the network GRUB reads (its prefix is `/grub`).
pub const GRUB_CONFIG: &str = crate::secure_boot::GRUB_CONFIG;
/// A veth pair whose bridge end gives `br0` carrier before qemu opens the
/// tap (a DHCPv6 server refuses an interface that is not running).
const CARRIER: [&str; 2] = ["vc0", "vc1"];
/// OVMF's fw_cfg switch: no PXE over IPv4, so its first network boot
/// option is PXE over IPv6.
const NO_PXE4: &str = "name=opt/org.tianocore/IPv4PXESupport,string=n";

/// The boot file URL the DHCPv6 server sends (option 59).
pub fn boot_url() -> String {
    format!("tftp://[{SERVER_IP6}]/{BOOT_FILE}")
}

/// How far an IPv6 boot is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// To the marker the kernel's initrd prints: the whole chain.
    Marker,
    /// To OVMF's console line that the boot file (network GRUB) was
    /// downloaded: the firmware's part of the chain. Debian's GRUB 2.06 takes
    /// its network configuration from the DHCPv6 REPLY that gave the address
    /// only, never from a proxy offer, so behind a DHCPv6 proxy it finds no
    /// boot server of its own.
    BootFile,
}

/// OVMF's console line once the boot file is in memory.
pub const NBP_DOWNLOADED: &str = "NBP file downloaded successfully";

/// One boot over IPv6.
#[derive(Debug, Clone)]
pub struct Ipv6Scenario {
    /// Test name, also part of the namespace and directory names.
    pub name: &'static str,
    /// The VM's MAC address.
    pub mac: &'static str,
    /// Who answers DHCPv6.
    pub server: Dhcp6Server,
    /// How far the boot must get: the kernel's marker, or only the firmware's
    /// download of the boot file (see [`Reach`]).
    pub reach: Reach,
    /// How long the boot may take, power-on to marker.
    pub deadline: Duration,
}

/// Runs the scenario if the machine allows (skips outside CI, fails under
/// `CI=true` otherwise), panics with the broken stage and the kept logs'
/// directory, and prints the boot time.
pub fn check(s: &Ipv6Scenario) {
    let _one = crate::one_at_a_time();
    machine::run_or_skip(s.name, |m| {
        if let Err(Unmet(reason)) = require(s.server, m) {
            return machine::skip(s.name, &reason);
        }
        scenario::repeat_boots(s.name, || {
            scenario::in_run_dir(s.name, |dir| run_in(s, m, dir))
        });
    });
}

fn require(server: Dhcp6Server, m: &Machine) -> Result<(), Unmet> {
    if !Path::new(GRUB_NET).is_file() {
        return Err(Unmet(format!(
            "missing {GRUB_NET} (run scripts/install-e2e-peers as root)"
        )));
    }
    server.require(m)
}

fn run_in(s: &Ipv6Scenario, m: &Machine, dir: &Path) -> Result<Passed, String> {
    let root = dir.join("tftp");
    build_tree(&root, m, &dir.join("pxecfg.log"))
        .map_err(|e| format!("stage setup: TFTP tree: {e}"))?;

    // Declared first, dropped last: the servers and qemu die before the
    // namespace goes.
    let lab = network(scenario::short(s.name)).map_err(|e| format!("stage setup: network: {e}"))?;
    let mut daemons: Vec<Daemon> = Vec::new();
    daemons
        .push(start_tftpd6(m, &lab, &root, dir).map_err(|e| format!("stage setup: servers: {e}"))?);
    daemons.extend(
        start_dhcpv6(s.server, m, &lab, dir).map_err(|e| format!("stage setup: servers: {e}"))?,
    );
    let marker = match s.reach {
        Reach::Marker => format!("{}{}", tree::MARKER_PREFIX, tree::DEFAULT_MARKER),
        Reach::BootFile => NBP_DOWNLOADED.to_owned(),
    };
    let boot = boot(&lab, s.mac, &marker, dir, s.deadline)
        .map_err(|e| format!("stage setup: qemu: {e}"))?;
    // After the boot too: nothing gave the bridge an IPv4 address.
    let ipv4 = bridge_ipv4(&lab).map_err(|e| format!("stage setup: network: {e}"))?;

    // Stop the servers so their logs are complete, then judge.
    drop(daemons);
    drop(lab);
    let serial = strip_ansi(&read_lossy(&boot.serial));
    let tftpd_log = read_lossy(&dir.join("tftpd.log"));
    let requests = diagnose::tftpd_requests(&tftpd_log);
    let dhcp6_log = read_lossy(&dir.join(s.server.log_name()));
    if let Some(t) = boot.marker_after {
        if !ipv4.is_empty() {
            return Err(format!(
                "marker seen, but {BRIDGE} had an IPv4 address: {ipv4}"
            ));
        }
        let files: &[&str] = match s.reach {
            Reach::Marker => &ipv6_stage::CHAIN,
            Reach::BootFile => &[BOOT_FILE],
        };
        ipv6_stage::confirm(&requests, &tftpd_log, files)?;
        s.server.confirm(dir)?;
        if !s.server.leased(&dhcp6_log) {
            return Err(format!(
                "marker seen, but {}'s log shows no address from {SUBNET6} given in a REPLY",
                s.server.log_name()
            ));
        }
        return Ok(Passed {
            power_on_to_marker: t,
        });
    }
    let stage = ipv6_stage::stage(&requests, &serial, &dhcp6_log, tree::DEFAULT_MARKER);
    let how = match boot.exited {
        Some(status) => format!("qemu exited ({status}) without the marker"),
        None => format!("no marker within {} s", s.deadline.as_secs()),
    };
    Err(format!("{how}; {stage}"))
}

/// The namespace with `br0` on IPv6 only: [`SERVER_IP6`]/64 and
/// [`SERVER_LINK_LOCAL`] (no other link-local, no duplicate address
/// detection, so both are usable at once), multicast snooping off (DHCPv6
/// SOLICITs go to ff02::1:2), a veth end on the bridge for carrier, and no
/// IPv4 address (checked).
pub fn network(tag: &str) -> io::Result<Lab> {
    let lab = Lab::bridge_only(tag)?;
    let [bridge_end, other_end] = CARRIER;
    let v6 = format!("{SERVER_IP6}/64");
    let ll = format!("{SERVER_LINK_LOCAL}/64");
    for args in [
        &["link", "set", BRIDGE, "addrgenmode", "none"][..],
        &[
            "link",
            "set",
            BRIDGE,
            "type",
            "bridge",
            "mcast_snooping",
            "0",
        ],
        &["addr", "add", &ll, "dev", BRIDGE, "nodad"],
        &["addr", "add", &v6, "dev", BRIDGE, "nodad"],
        &[
            "link", "add", bridge_end, "type", "veth", "peer", "name", other_end,
        ],
        &["link", "set", bridge_end, "master", BRIDGE],
        &["link", "set", bridge_end, "up"],
        &["link", "set", other_end, "up"],
    ] {
        lab.ip(args)?;
    }
    let ipv4 = bridge_ipv4(&lab)?;
    if !ipv4.is_empty() {
        return Err(io::Error::other(format!(
            "{BRIDGE} has an IPv4 address: {ipv4}"
        )));
    }
    Ok(lab)
}

/// `ip -4 -o addr show dev br0`: empty when the bridge has no IPv4 address.
fn bridge_ipv4(lab: &Lab) -> io::Result<String> {
    let out = lab
        .command("ip")
        .args(["-4", "-o", "addr", "show", "dev", BRIDGE])
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "ip -4 addr show dev {BRIDGE}: {}",
            out.status
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// This project's `tftpd` serving `root` on `[SERVER_IP6]:69` only.
pub fn start_tftpd6(m: &Machine, lab: &Lab, root: &Path, dir: &Path) -> io::Result<Daemon> {
    let mut cmd = lab.command(&m.tftpd.to_string_lossy());
    cmd.args(["-L", "-v", "-a", &format!("[{SERVER_IP6}]:69"), "-s"])
        .arg(root);
    let mut d = Daemon::spawn("tftpd", cmd, &dir.join("tftpd.log"))?;
    d.wait_for_log("listening", Duration::from_secs(10))?;
    Ok(d)
}

/// The TFTP tree: `grubx64.efi` (Debian's network GRUB), `vmlinuz`,
/// `initrd.gz`, and `grub/grub.cfg` from `pxecfg generate --format grub`
/// over [`tree::inventory`]. `pxecfg`'s output goes to `log`.
pub fn build_tree(root: &Path, m: &Machine, log: &Path) -> io::Result<()> {
    fs::create_dir_all(root)?;
    tree::copy(Path::new(GRUB_NET), &root.join(BOOT_FILE))?;
    crate::secure_boot::grub_payload(root, m, log, None)
}

/// OVMF (a writable copy) with PXE over IPv4 switched off, and a virtio-net
/// NIC without option ROM (OVMF's own driver and network stack) on the tap.
fn boot(lab: &Lab, mac: &str, marker: &str, dir: &Path, deadline: Duration) -> io::Result<Boot> {
    let serial = dir.join("serial.log");
    let firmware = dir.join("OVMF.fd");
    fs::copy(machine::OVMF, &firmware)?;
    let mut cmd = qemu::command(lab, &serial);
    cmd.arg("-bios")
        .arg(&firmware)
        .args(["-fw_cfg", NO_PXE4])
        .args([
            "-device",
            &format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
        ]);
    qemu::run(cmd, marker, serial, dir, deadline)
}
