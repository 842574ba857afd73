//! The TFTP tree: PXELINUX and its BIOS modules at the root, SYSLINUX for x64
//! UEFI and its modules under `efi64/` (its own prefix, so its own
//! `efi64/pxelinux.cfg/`), the kernel and an initrd made here from static
//! busybox, and the configuration written by `pxecfg generate`.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::busybox;
use crate::machine::{self, Machine};

/// The kernel's name in the tree.
pub const KERNEL: &str = "vmlinuz";
/// The initrd's name in the tree.
pub const INITRD: &str = "initrd.gz";
/// The BIOS boot file.
pub const BIOS_BOOT_FILE: &str = "pxelinux.0";
/// The x64 UEFI boot file.
pub const EFI64_BOOT_FILE: &str = "efi64/syslinux.efi";
/// What the init prints, followed by the `e2e_marker=` value of the kernel
/// command line. The kernel's own echo of its command line never contains it.
pub const MARKER_PREFIX: &str = "NETBOOT-E2E-MARKER:";

/// The marker of the profile `pxelinux.cfg/default` boots.
pub const DEFAULT_MARKER: &str = "default-linux";
/// The marker of the profile only a per-host file boots.
pub const HOST_MARKER: &str = "host-rescue";

const BIOS_MODULES: [&str; 4] = ["ldlinux.c32", "menu.c32", "libutil.c32", "libcom32.c32"];
const EFI64_MODULES: [&str; 4] = ["ldlinux.e64", "menu.c32", "libutil.c32", "libcom32.c32"];

/// The `/init` of the test initrd: prints the marker given on the kernel
/// command line, then powers off (qemu runs with `-no-reboot`).
const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
m=none
for w in $(/bin/busybox cat /proc/cmdline); do
    case "$w" in e2e_marker=*) m="${w#e2e_marker=}" ;; esac
done
echo "NETBOOT-E2E-MARKER:$m" > /dev/console
/bin/busybox sync
/bin/busybox poweroff -f
"#;

/// The inventory `pxecfg generate` reads: a menu whose default boots the
/// kernel with [`DEFAULT_MARKER`], a second profile with [`HOST_MARKER`], and
/// with `host_mac` a host file choosing that second profile.
pub fn inventory(host_mac: Option<&str>) -> String {
    let append = |marker: &str| format!("console=ttyS0 panic=-1 e2e_marker={marker}");
    let mut s = String::new();
    let _ = write!(
        s,
        r#"# netboot-e2e: written by the test harness
[menu]
title = "netboot e2e"
timeout = 1
default = "linux"
entries = ["linux", "rescue"]

[profiles.linux]
kernel = "{KERNEL}"
initrd = ["{INITRD}"]
append = "{}"

[profiles.rescue]
kernel = "{KERNEL}"
initrd = ["{INITRD}"]
append = "{}"
"#,
        append(DEFAULT_MARKER),
        append(HOST_MARKER)
    );
    if let Some(mac) = host_mac {
        let _ = write!(
            s,
            "\n[[hosts]]\nname = \"e2e-vm\"\nmac = \"{mac}\"\nprofile = \"rescue\"\n"
        );
    }
    s
}

/// Builds the tree in `root` (which must not exist yet or be empty) and runs
/// `pxecfg generate` for the BIOS prefix and the `efi64/` prefix. `pxecfg`'s
/// output goes to `log`.
pub fn build(root: &Path, m: &Machine, host_mac: Option<&str>, log: &Path) -> io::Result<()> {
    let efi = root.join("efi64");
    fs::create_dir_all(&efi)?;
    copy(Path::new(machine::PXELINUX), &root.join(BIOS_BOOT_FILE))?;
    for module in BIOS_MODULES {
        copy(
            &Path::new(machine::BIOS_MODULES).join(module),
            &root.join(module),
        )?;
    }
    copy(
        Path::new(machine::SYSLINUX_EFI64),
        &root.join(EFI64_BOOT_FILE),
    )?;
    for module in EFI64_MODULES {
        copy(
            &Path::new(machine::EFI64_MODULES).join(module),
            &efi.join(module),
        )?;
    }
    copy(&m.kernel, &root.join(KERNEL))?;
    make_initrd(
        &m.busybox,
        &root.join(INITRD),
        &root.with_extension("initrd-src"),
    )?;
    for name in [KERNEL, INITRD] {
        fs::hard_link(root.join(name), efi.join(name))?;
    }

    let inv = root.with_extension("inventory.toml");
    fs::write(&inv, inventory(host_mac))?;
    let mut out = String::new();
    for dir in [root, efi.as_path()] {
        generate(m, &inv, dir, &[], &mut out, log)?;
    }
    fs::write(log, &out)?;
    Ok(())
}

/// Runs `pxecfg generate INV --out DIR ARGS`, adding the command line and its
/// output to `transcript`; when it fails, writes the transcript to `log` and
/// returns an error naming it.
pub fn generate(
    m: &Machine,
    inv: &Path,
    dir: &Path,
    args: &[&str],
    transcript: &mut String,
    log: &Path,
) -> io::Result<()> {
    let o = Command::new(&m.pxecfg)
        .arg("generate")
        .arg(inv)
        .arg("--out")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()?;
    let _ = writeln!(
        transcript,
        "$ pxecfg generate {} --out {}{}{}\n{}{}",
        inv.display(),
        dir.display(),
        if args.is_empty() { "" } else { " " },
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    if !o.status.success() {
        fs::write(log, &*transcript)?;
        return Err(io::Error::other(format!(
            "pxecfg generate failed ({}); see {}",
            o.status,
            log.display()
        )));
    }
    Ok(())
}

/// Copies `from` to `to`, world-readable (tftpd serves only those).
pub fn copy(from: &Path, to: &Path) -> io::Result<()> {
    fs::copy(from, to)
        .map_err(|e| io::Error::new(e.kind(), format!("copy {}: {e}", from.display())))?;
    set_mode(to, 0o644)
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// A gzipped newc cpio with `/bin/busybox`, `/init` ([`INIT`]), `/proc`, `/dev`.
/// Refuses a `busybox` that is not static, saying so ([`busybox::check_static`]).
pub fn make_initrd(busybox: &Path, out: &Path, scratch: &Path) -> io::Result<()> {
    busybox::check_static(busybox).map_err(io::Error::other)?;
    let _ = fs::remove_dir_all(scratch);
    for dir in ["bin", "proc", "dev", "sys"] {
        fs::create_dir_all(scratch.join(dir))?;
    }
    fs::copy(busybox, scratch.join("bin/busybox"))?;
    set_mode(&scratch.join("bin/busybox"), 0o755)?;
    fs::write(scratch.join("init"), INIT)?;
    set_mode(&scratch.join("init"), 0o755)?;
    let status = Command::new("sh")
        .arg("-c")
        .arg("find . | cpio -o -H newc --quiet | gzip -1 > \"$0\"")
        .arg(out)
        .current_dir(scratch)
        .stdin(Stdio::null())
        .status()?;
    fs::remove_dir_all(scratch)?;
    if !status.success() {
        return Err(io::Error::other(format!("cpio | gzip failed: {status}")));
    }
    set_mode(out, 0o644)
}
