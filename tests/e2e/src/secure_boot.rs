//! The Secure Boot chain: OVMF with Microsoft's keys enrolled and Secure Boot
//! on starts Debian's shim (signed by Microsoft), shim checks and starts
//! Debian's signed network GRUB, GRUB reads the `grub.cfg` that `pxecfg
//! generate --format grub` wrote and starts the Debian kernel (signed by
//! Debian, checked through shim). `dhcpd-pxe` gives the address and the boot
//! file (class `efi-x64`), this project's `tftpd` serves every file. See
//! docs/guide-secure-boot.md.
//!
//! The NIC is virtio-net with no option ROM (`romfile=`), driven by OVMF's
//! own driver and network stack. With iPXE's EFI ROM on an e1000 (what the
//! other UEFI scenarios use) OVMF runs the ROM and shim starts, but shim's
//! download of `grubx64.efi` through iPXE's PXE Base Code ends in
//! `Malformed binary after Attribute Certificate Table` (shim hashes a 4 MiB
//! buffer, not the file) and `Verification failed: (0x2) Invalid Parameter`.

use std::fs;
use std::io;
use std::path::Path;
use std::time::Duration;

use crate::chain;
use crate::daemon::Daemon;
use crate::diagnose;
use crate::lab::Lab;
use crate::machine::{self, Machine, Unmet};
use crate::qemu::{self, Boot};
use crate::scenario::{self, read_lossy, Passed};
use crate::tree;

/// OVMF's code with Secure Boot support (package ovmf; `.ms` = the variable
/// store it pairs with has Microsoft's keys).
pub const OVMF_CODE: &str = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd";
/// OVMF's variable store with Microsoft's KEK and db enrolled and Secure Boot
/// on (package ovmf); each boot gets a writable copy.
pub const OVMF_VARS: &str = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd";
/// Debian's shim signed by Microsoft (package shim-signed), where
/// scripts/install-e2e-peers unpacks it.
pub const SHIM: &str = "/opt/netboot-e2e/shim/shimx64.efi.signed";
/// Debian's signed network GRUB (package grub-efi-amd64-signed), where
/// scripts/install-e2e-peers unpacks it.
pub const GRUB_NET: &str = "/opt/netboot-e2e/grub/grubnetx64.efi.signed";

/// The boot file `dhcpd-pxe` names: shim.
pub const BOOT_FILE: &str = "shimx64.efi";
/// The name shim asks for next, from its own directory: the network GRUB.
pub const SECOND_STAGE: &str = "grubx64.efi";
/// The configuration Debian's network GRUB reads: its prefix is `/grub` on
/// the TFTP server it came from, and it reads `$prefix/grub.cfg` (no
/// per-host `grub.cfg-01-<mac>` search).
pub const GRUB_CONFIG: &str = "grub/grub.cfg";
/// The kernel's own console line when it booted with Secure Boot on.
pub const SECURE_BOOT_ON: &str = "secureboot: Secure boot enabled";

/// One Secure Boot run.
#[derive(Debug, Clone)]
pub struct SecureBootScenario {
    /// Test name, also part of the namespace and directory names.
    pub name: &'static str,
    /// The VM's MAC address.
    pub mac: &'static str,
    /// The machine the inventory has a per-host entry for (booting its
    /// `rescue` label): the VM's MAC, another one, or none.
    pub host_mac: Option<&'static str>,
    /// How long the boot may take, power-on to marker.
    pub deadline: Duration,
}

/// Runs the scenario if the machine allows (skips outside CI, fails under
/// `CI=true` otherwise), panics with the broken stage and the kept logs'
/// directory, and prints the boot time.
pub fn check(s: &SecureBootScenario) {
    let _one = crate::one_at_a_time();
    machine::run_or_skip(s.name, |m| {
        if let Err(Unmet(reason)) = require(m) {
            return machine::skip(s.name, &reason);
        }
        scenario::repeat_boots(s.name, || {
            scenario::in_run_dir(s.name, |dir| run_in(s, m, dir))
        });
    });
}

/// What this chain needs beyond every scenario's tools.
fn require(m: &Machine) -> Result<(), Unmet> {
    for file in [OVMF_CODE, OVMF_VARS, SHIM, GRUB_NET] {
        if !Path::new(file).is_file() {
            return Err(Unmet(format!(
                "missing {file} (run scripts/install-e2e-peers as root)"
            )));
        }
    }
    m.dhcpd_pxe().map(drop)
}

fn run_in(s: &SecureBootScenario, m: &Machine, dir: &Path) -> Result<Passed, String> {
    let root = dir.join("tftp");
    build_tree(&root, m, &dir.join("pxecfg.log"), s.host_mac)
        .map_err(|e| format!("stage setup: TFTP tree: {e}"))?;

    // Declared first, dropped last: the servers and qemu die before the
    // namespace goes.
    let lab = Lab::create(s.name, false).map_err(|e| format!("stage setup: network: {e}"))?;
    let mut daemons: Vec<Daemon> = Vec::new();
    daemons.push(
        scenario::start_tftpd(m, &lab, &root, dir)
            .map_err(|e| format!("stage setup: servers: {e}"))?,
    );
    daemons.push(
        scenario::start_dhcpd_pxe_full(m, &lab, &[format!("efi-x64={BOOT_FILE}")], dir)
            .map_err(|e| format!("stage setup: servers: {e}"))?,
    );

    // The per-host file for this MAC, when the inventory has one, else grub.cfg.
    let expected = if s.host_mac == Some(s.mac) {
        tree::HOST_MARKER
    } else {
        tree::DEFAULT_MARKER
    };
    let marker = format!("{}{expected}", tree::MARKER_PREFIX);
    let boot = boot(&lab, s.mac, &marker, dir, s.deadline)
        .map_err(|e| format!("stage setup: qemu: {e}"))?;

    // Stop the servers so their logs are complete, then judge.
    drop(daemons);
    drop(lab);
    let serial = diagnose::strip_ansi(&read_lossy(&boot.serial));
    let requests = diagnose::tftpd_requests(&read_lossy(&dir.join("tftpd.log")));
    if let Some(t) = boot.marker_after {
        chain::confirm(&requests, &serial)?;
        return Ok(Passed {
            power_on_to_marker: t,
        });
    }
    let dhcp_log = read_lossy(&dir.join("dhcpd-pxe.log"));
    let stage = chain::stage(&requests, &serial, &dhcp_log, expected);
    let how = match boot.exited {
        Some(status) => format!("qemu exited ({status}) without the marker"),
        None => format!("no marker within {} s", s.deadline.as_secs()),
    };
    Err(format!("{how}; {stage}"))
}

/// The TFTP tree: `shimx64.efi`, `grubx64.efi` (the network GRUB under the
/// name shim asks for), `vmlinuz`, `initrd.gz`, and `grub/grub.cfg` from
/// `pxecfg generate --format grub` over [`tree::inventory`]. `pxecfg`'s
/// output goes to `log`.
pub fn build_tree(root: &Path, m: &Machine, log: &Path, host_mac: Option<&str>) -> io::Result<()> {
    fs::create_dir_all(root)?;
    tree::copy(Path::new(SHIM), &root.join(BOOT_FILE))?;
    tree::copy(Path::new(GRUB_NET), &root.join(SECOND_STAGE))?;
    grub_payload(root, m, log, host_mac)
}

/// What every network GRUB tree holds besides its boot files: the kernel,
/// the initrd, and [`GRUB_CONFIG`] (with per-host files for `host_mac`) from
/// `pxecfg generate --format grub` over [`tree::inventory`]; `pxecfg`'s
/// output goes to `log`.
pub fn grub_payload(
    root: &Path,
    m: &Machine,
    log: &Path,
    host_mac: Option<&str>,
) -> io::Result<()> {
    tree::copy(&m.kernel, &root.join(tree::KERNEL))?;
    tree::make_initrd(
        &m.busybox,
        &root.join(tree::INITRD),
        &root.with_extension("initrd-src"),
    )?;
    let inv = root.with_extension("inventory.toml");
    fs::write(&inv, tree::inventory(host_mac))?;
    let mut out = String::new();
    tree::generate(m, &inv, root, &["--format", "grub"], &mut out, log)?;
    fs::write(log, &out)?;
    if !root.join(GRUB_CONFIG).is_file() {
        return Err(io::Error::other(format!(
            "pxecfg generate wrote no {GRUB_CONFIG}; see {}",
            log.display()
        )));
    }
    Ok(())
}

/// Boots q35 with SMM (OVMF's Secure Boot build keeps its variables in SMM),
/// OVMF's code read-only and a copy of its Microsoft-keyed variable store in
/// secure pflash, and a virtio-net NIC without option ROM on the lab's tap.
fn boot(lab: &Lab, mac: &str, marker: &str, dir: &Path, deadline: Duration) -> io::Result<Boot> {
    let serial = dir.join("serial.log");
    let vars = dir.join("OVMF_VARS.fd");
    fs::copy(OVMF_VARS, &vars)?;
    let mut cmd = qemu::command(lab, &serial);
    cmd.args([
        "-machine",
        "q35,smm=on",
        "-global",
        "driver=cfi.pflash01,property=secure,value=on",
        "-drive",
        &format!("if=pflash,format=raw,unit=0,readonly=on,file={OVMF_CODE}"),
        "-drive",
        &format!("if=pflash,format=raw,unit=1,file={}", vars.display()),
        "-device",
        &format!("virtio-net-pci,netdev=n0,mac={mac},romfile="),
    ]);
    qemu::run(cmd, marker, serial, dir, deadline)
}
