//! Boot chains over HTTP: iPXE (qemu's BIOS ROM, or `ipxe.efi` loaded by
//! OVMF's own UEFI HTTP boot client) gets an `http://` script URL from
//! `dhcpd-pxe`, the script is the one `pxecfg generate --format ipxe` writes
//! with `[output] base_url` pointing at `tftpd --http`, and kernel and initrd
//! come from there over HTTP. Setup, teardown, boot times and kept logs are
//! those of [`crate::scenario`]; [`crate::http_stage`] judges.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::Daemon;
use crate::http_stage::{self, Chain};
use crate::lab::{Lab, BRIDGE, SERVER_IP};
use crate::machine::{self, Machine, Unmet};
use crate::qemu;
use crate::scenario::{self, Passed};
use crate::tree;

/// The port `tftpd --http` listens on, beside TFTP on 69.
pub const HTTP_PORT: u16 = 8080;
/// The iPXE script `pxecfg generate --format ipxe` writes (the default menu).
pub const SCRIPT: &str = "ipxe/boot.ipxe";
/// iPXE for x64 UEFI with its own drivers (package ipxe).
pub const IPXE_EFI: &str = "/usr/lib/ipxe/ipxe.efi";
/// Its name in the tree: the program UEFI HTTP boot loads.
pub const IPXE_EFI_NAME: &str = "ipxe.efi";
/// OVMF's fw_cfg switches for its PXE boot options: with both off, the
/// boot manager's network entries for the NIC are UEFI HTTPv4 and HTTPv6.
const NO_PXE: [&str; 2] = [
    "name=opt/org.tianocore/IPv4PXESupport,string=n",
    "name=opt/org.tianocore/IPv6PXESupport,string=n",
];

/// Which firmware starts the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// SeaBIOS with iPXE as the e1000's ROM: iPXE asks DHCP, gets the script URL.
    BiosIpxe,
    /// OVMF's HTTP boot client on a virtio NIC without option ROM (OVMF's
    /// own driver): DHCP with vendor class `HTTPClient` and architecture 16
    /// gives the URL of `ipxe.efi`, which asks DHCP again and gets the script URL.
    UefiHttpBoot,
}

/// One HTTP chain to boot.
#[derive(Debug, Clone)]
pub struct HttpScenario {
    /// Test name, also part of the namespace and directory names.
    pub name: &'static str,
    /// The firmware.
    pub start: Start,
    /// The VM's MAC address.
    pub mac: &'static str,
    /// How long the boot may take, power-on to marker.
    pub deadline: Duration,
}

/// `http://192.0.2.1:8080/PATH`.
pub fn url(path: &str) -> String {
    format!("http://{SERVER_IP}:{HTTP_PORT}/{path}")
}

/// Runs the chain if the machine allows (skip outside CI, fail under
/// `CI=true`), panics with the broken stage otherwise, prints the boot time.
pub fn check(s: &HttpScenario) {
    let _one = crate::one_at_a_time();
    machine::run_or_skip(s.name, |m| {
        let dhcpd_pxe = match m.dhcpd_pxe() {
            Ok(bin) => bin,
            Err(Unmet(reason)) => return machine::skip(s.name, &reason),
        };
        if s.start == Start::UefiHttpBoot && !Path::new(IPXE_EFI).is_file() {
            let reason = format!("missing {IPXE_EFI} (run scripts/install-e2e-peers as root)");
            return machine::skip(s.name, &reason);
        }
        scenario::repeat_boots(s.name, || run(s, m, &dhcpd_pxe));
    });
}

fn run(s: &HttpScenario, m: &Machine, dhcpd_pxe: &Path) -> Result<Passed, String> {
    let dir = std::env::temp_dir().join(format!("netboot-e2e-{}-{}", s.name, std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = run_in(s, m, dhcpd_pxe, &dir);
    if result.is_ok() {
        let _ = fs::remove_dir_all(&dir);
    }
    result.map_err(|why| {
        let kept = scenario::keep_logs(s.name, &dir, &["ipxe"]);
        format!("{why}\nlogs kept in {kept}")
    })
}

fn run_in(s: &HttpScenario, m: &Machine, dhcpd_pxe: &Path, dir: &Path) -> Result<Passed, String> {
    let root = dir.join("tftp");
    build(&root, m, s.start, &dir.join("pxecfg.log"))
        .map_err(|e| format!("stage setup: boot tree: {e}"))?;
    // Declared first, dropped last: servers and qemu die before the namespace.
    let lab = Lab::create(scenario::short(s.name), false)
        .map_err(|e| format!("stage setup: network: {e}"))?;
    let daemons = start_servers(s, m, dhcpd_pxe, &lab, &root, dir)
        .map_err(|e| format!("stage setup: servers: {e}"))?;
    let marker = format!("{}{}", tree::MARKER_PREFIX, tree::DEFAULT_MARKER);
    let boot = boot(s, &lab, &marker, dir).map_err(|e| format!("stage setup: qemu: {e}"))?;
    // Stop the servers so their logs are complete, then judge.
    drop(daemons);
    drop(lab);

    let chain = Chain {
        program: (s.start == Start::UefiHttpBoot).then_some(IPXE_EFI_NAME),
        script: SCRIPT,
        kernel: tree::KERNEL,
        initrd: tree::INITRD,
        marker: tree::DEFAULT_MARKER,
    };
    let accesses = http_stage::accesses(&scenario::read_lossy(&dir.join("tftpd.log")));
    let dhcp_log = scenario::read_lossy(&dir.join("dhcpd-pxe.log"));
    if let Some(t) = boot.marker_after {
        http_stage::confirm(&chain, &accesses)?;
        if s.start == Start::UefiHttpBoot {
            confirm_http_client(&dhcp_log)?;
        }
        return Ok(Passed {
            power_on_to_marker: t,
        });
    }
    let serial = scenario::read_lossy(&boot.serial);
    let stage = http_stage::stage(&chain, &accesses, &serial, &dhcp_log);
    let how = match boot.exited {
        Some(status) => format!("qemu exited ({status}) without the marker"),
        None => format!("no marker within {} s", s.deadline.as_secs()),
    };
    Err(format!("{how}; {stage}"))
}

/// After the marker of a UEFI HTTP boot: `dhcpd-pxe` acknowledged the
/// firmware's own HTTP boot client (vendor class `HTTPClient`, architecture
/// 16) with `ipxe.efi`'s URL (its `-v` line per reply).
fn confirm_http_client(dhcp_log: &str) -> Result<(), String> {
    let want = format!("file \"{}\"", url(IPXE_EFI_NAME));
    if dhcp_log.lines().any(|l| {
        l.contains("class \"HTTPClient:Arch:00016") && l.contains("-> ACK") && l.contains(&want)
    }) {
        Ok(())
    } else {
        Err(format!(
            "marker seen, but dhcpd-pxe's log has no ACK with {want} to an HTTPClient (arch 16)"
        ))
    }
}

/// The tree `tftpd` serves: kernel, initrd, `ipxe.efi` for UEFI HTTP boot,
/// and `ipxe/boot.ipxe` from `pxecfg generate --format ipxe` with the
/// harness's inventory and `base_url` = `tftpd --http`.
pub fn build(root: &Path, m: &Machine, start: Start, log: &Path) -> io::Result<()> {
    fs::create_dir_all(root)?;
    tree::copy(&m.kernel, &root.join(tree::KERNEL))?;
    tree::make_initrd(
        &m.busybox,
        &root.join(tree::INITRD),
        &root.with_extension("initrd-src"),
    )?;
    if start == Start::UefiHttpBoot {
        tree::copy(Path::new(IPXE_EFI), &root.join(IPXE_EFI_NAME))?;
    }
    let inv = root.with_extension("inventory.toml");
    fs::write(&inv, inventory())?;
    let mut out = String::new();
    tree::generate(m, &inv, root, &["--format", "ipxe"], &mut out, log)?;
    fs::write(log, &out)?;
    if !root.join(SCRIPT).is_file() {
        return Err(io::Error::other(format!(
            "pxecfg generate wrote no {SCRIPT}; see {}",
            log.display()
        )));
    }
    Ok(())
}

/// The harness's inventory ([`tree::inventory`]) with kernels and initrds
/// fetched from `tftpd --http`. (For `ipxe.efi` the script's `initrd=NAME`
/// on the kernel line is what lets the EFI-stub kernel find its initrd.)
pub fn inventory() -> String {
    let inv = tree::inventory(None);
    format!("{inv}\n[output]\nbase_url = \"{}\"\n", url(""))
}

/// `tftpd` with TFTP and HTTP on the same tree, and `dhcpd-pxe` in full mode
/// with URLs only: the script for iPXE, `ipxe.efi` for UEFI HTTP boot.
fn start_servers(
    s: &HttpScenario,
    m: &Machine,
    dhcpd_pxe: &Path,
    lab: &Lab,
    root: &Path,
    dir: &Path,
) -> io::Result<Vec<Daemon>> {
    let mut daemons = Vec::new();
    let mut cmd = lab.command(&m.tftpd.to_string_lossy());
    cmd.args(["-L", "-v", "-a", &format!("{SERVER_IP}:69"), "-s"])
        .arg(root)
        .args(["--http", &format!("{SERVER_IP}:{HTTP_PORT}")]);
    let mut d = Daemon::spawn("tftpd", cmd, &dir.join("tftpd.log"))?;
    d.wait_for_log("serving http", Duration::from_secs(10))?;
    daemons.push(d);

    let mut boot_files = vec![format!("ipxe={}", url(SCRIPT))];
    if s.start == Start::UefiHttpBoot {
        boot_files.push(format!("http-x64={}", url(IPXE_EFI_NAME)));
    }
    let mut cmd = lab.command(&dhcpd_pxe.to_string_lossy());
    cmd.args([
        "-v",
        "--interface",
        BRIDGE,
        "--range",
        "192.0.2.100-192.0.2.150",
    ]);
    for b in &boot_files {
        cmd.args(["--boot-file", b]);
    }
    cmd.arg("--lease-file").arg(dir.join("dhcpd-pxe.leases"));
    let mut d = Daemon::spawn("dhcpd-pxe", cmd, &dir.join("dhcpd-pxe.log"))?;
    d.still_running_after(Duration::from_millis(500))?;
    daemons.push(d);
    Ok(daemons)
}

/// Starts the VM and waits for `marker`: BIOS with iPXE's e1000 ROM, or OVMF
/// with a virtio NIC without ROM and its PXE boot options switched off.
fn boot(s: &HttpScenario, lab: &Lab, marker: &str, dir: &Path) -> io::Result<qemu::Boot> {
    let serial: PathBuf = dir.join("serial.log");
    let mut cmd = qemu::command(lab, &serial);
    let nic = match s.start {
        Start::BiosIpxe => format!(
            "e1000,netdev=n0,mac={},romfile={}",
            s.mac,
            machine::PXE_ROM_BIOS
        ),
        Start::UefiHttpBoot => {
            let vars = dir.join("OVMF.fd");
            fs::copy(machine::OVMF, &vars)?;
            cmd.arg("-bios").arg(&vars);
            for opt in NO_PXE {
                cmd.args(["-fw_cfg", opt]);
            }
            format!("virtio-net-pci,netdev=n0,mac={},romfile=", s.mac)
        }
    };
    cmd.args(["-device", &nic]);
    qemu::run(cmd, marker, serial, dir, s.deadline)
}
