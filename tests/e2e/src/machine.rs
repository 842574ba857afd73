//! What the machine must have for a scenario, and what happens when it lacks
//! it: outside CI the scenario prints `SKIPPED: <name>: <reason>` and passes;
//! with `CI=true` it fails with the reason.

use std::path::{Path, PathBuf};
use std::process::Command;

/// iPXE's BIOS option ROM for qemu's e1000 (package ipxe-qemu).
pub const PXE_ROM_BIOS: &str = "/usr/lib/ipxe/qemu/pxe-e1000.rom";
/// iPXE's EFI option ROM for qemu's e1000 (package ipxe-qemu).
pub const PXE_ROM_EFI: &str = "/usr/lib/ipxe/qemu/efi-e1000.rom";
/// OVMF with its variable store in one image (package ovmf); a copy is used.
pub const OVMF: &str = "/usr/share/qemu/OVMF.fd";
/// PXELINUX (package pxelinux).
pub const PXELINUX: &str = "/usr/lib/PXELINUX/pxelinux.0";
/// BIOS COM32 modules (package syslinux-common).
pub const BIOS_MODULES: &str = "/usr/lib/syslinux/modules/bios";
/// SYSLINUX for x64 UEFI, network capable (package syslinux-efi).
pub const SYSLINUX_EFI64: &str = "/usr/lib/SYSLINUX.EFI/efi64/syslinux.efi";
/// x64 UEFI modules, `ldlinux.e64` among them (package syslinux-efi).
pub const EFI64_MODULES: &str = "/usr/lib/syslinux/modules/efi64";
/// Where scripts/install-e2e-peers unpacks the kernel package.
pub const KERNEL_CACHE: &str = "/opt/netboot-e2e/kernel/boot";

/// Why a scenario cannot run here.
#[derive(Debug)]
pub struct Unmet(pub String);

/// Whether this is a CI run (`CI=true`): nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// Everything a scenario uses, found on this machine.
#[derive(Debug, Clone)]
pub struct Machine {
    /// This project's `tftpd`.
    pub tftpd: PathBuf,
    /// This project's `pxecfg`.
    pub pxecfg: PathBuf,
    /// The kernel (`vmlinuz-*` from a linux-image-*-amd64 package).
    pub kernel: PathBuf,
    /// The static busybox of the test initrd ([`crate::busybox`]).
    pub busybox: PathBuf,
}

impl Machine {
    /// Checks root, `/dev/net/tun`, the tools and files every scenario uses,
    /// and finds (or builds) the project's binaries.
    pub fn find() -> Result<Self, Unmet> {
        if !is_root() {
            return Err(Unmet(
                "not root (needs network namespaces and a tap device)".into(),
            ));
        }
        if !Path::new("/dev/net/tun").exists() {
            return Err(Unmet("no /dev/net/tun".into()));
        }
        for tool in ["ip", "qemu-system-x86_64", "cpio", "gzip"] {
            require_tool(tool)?;
        }
        for file in [
            PXE_ROM_BIOS,
            PXE_ROM_EFI,
            OVMF,
            PXELINUX,
            BIOS_MODULES,
            SYSLINUX_EFI64,
            EFI64_MODULES,
        ] {
            if !Path::new(file).exists() {
                return Err(Unmet(format!(
                    "missing {file} (run scripts/install-e2e-peers as root)"
                )));
            }
        }
        let kernel = find_kernel()?;
        let busybox = crate::busybox::find()?;
        Ok(Self {
            tftpd: project_binary("tftpd", "tftpd")?,
            pxecfg: project_binary("pxecfg", "pxecfg")?,
            kernel,
            busybox,
        })
    }

    /// This project's `dhcpd-pxe`, found or built.
    pub fn dhcpd_pxe(&self) -> Result<PathBuf, Unmet> {
        project_binary("dhcpd-pxe", "dhcpd-pxe")
    }
}

/// Runs `f` with the machine, or reports why it cannot: prints
/// `SKIPPED: name: reason` outside CI, panics with the reason under `CI=true`.
pub fn run_or_skip(name: &str, f: impl FnOnce(&Machine)) {
    match Machine::find() {
        Ok(m) => f(&m),
        Err(Unmet(reason)) => skip(name, &reason),
    }
}

#[path = "../../support/skip.rs"]
mod support_skip;
/// Skips (outside CI) or fails (under `CI=true`) with the reason.
pub use support_skip::skip;

/// Fails unless `tool` is on PATH (or in /usr/sbin, /sbin).
pub fn require_tool(tool: &str) -> Result<PathBuf, Unmet> {
    which(tool).ok_or_else(|| {
        Unmet(format!(
            "missing tool {tool} (run scripts/install-e2e-peers as root)"
        ))
    })
}

/// `tool` on PATH, or in /usr/sbin or /sbin (not on a normal user's PATH).
pub fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/sbin".into()])
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

fn is_root() -> bool {
    // The effective uid is the third field of "Uid:" in /proc/self/status.
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|ids| ids.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

fn find_kernel() -> Result<PathBuf, Unmet> {
    if let Some(k) = std::env::var_os("NETBOOT_E2E_KERNEL").filter(|k| !k.is_empty()) {
        let k = PathBuf::from(k);
        return if k.is_file() {
            Ok(k)
        } else {
            Err(Unmet(format!(
                "NETBOOT_E2E_KERNEL={} is not a file",
                k.display()
            )))
        };
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(KERNEL_CACHE)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with("vmlinuz-"))
                })
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found.pop().ok_or_else(|| {
        Unmet(format!(
            "no kernel in {KERNEL_CACHE} and NETBOOT_E2E_KERNEL unset (run scripts/install-e2e-peers as root)"
        ))
    })
}

/// The directory cargo put this test executable's sibling binaries in:
/// `target/<profile>/deps/<test>` → `target/<profile>`.
pub fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let deps = exe.parent()?;
    if deps.file_name()? == "deps" {
        deps.parent().map(Path::to_path_buf)
    } else {
        Some(deps.to_path_buf())
    }
}

/// A binary of this workspace, next to the test executable. Under cargo
/// (`CARGO` set) it is brought up to date first with `cargo build -p PACKAGE
/// --bin NAME` in the same profile (a no-op after `cargo test --workspace`,
/// which builds every member's binaries; `cargo test -p netboot-e2e` alone
/// does not), so a stale binary is never tested.
fn project_binary(package: &str, name: &str) -> Result<PathBuf, Unmet> {
    let dir = profile_dir().ok_or_else(|| Unmet("cannot locate target/<profile>".into()))?;
    let bin = dir.join(name);
    let cargo = std::env::var_os("CARGO");
    if bin.is_file() && cargo.is_none() {
        return Ok(bin);
    }
    let cargo = cargo.unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
    if dir.file_name().is_some_and(|p| p == "release") {
        cmd.arg("--release");
    }
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"));
    let status = cmd
        .status()
        .map_err(|e| Unmet(format!("{name} not built and cargo cannot run: {e}")))?;
    if status.success() && bin.is_file() {
        Ok(bin)
    } else {
        Err(Unmet(format!(
            "{name} is not in {} and `cargo build -p {package} --bin {name}` failed ({status}); \
             build it with `cargo build --workspace`",
            dir.display()
        )))
    }
}
