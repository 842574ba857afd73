//! Secure Boot with shim and GRUB: OVMF with Microsoft's keys and Secure Boot
//! on, Debian's signed shim, network GRUB and kernel, `grub.cfg` from `pxecfg
//! generate --format grub`, DHCP from `dhcpd-pxe`, TFTP from `tftpd`. As root
//! with the peers of scripts/install-e2e-peers it runs; otherwise it prints
//! `SKIPPED` and passes, except under `CI=true`, where it fails. See
//! docs/guide-secure-boot.md.

use std::time::Duration;

use netboot_e2e::secure_boot::{check, SecureBootScenario};

/// x64 UEFI with Secure Boot on: `dhcpd-pxe` names `shimx64.efi` for option
/// 93 = 7; the kernel reports `secureboot: Secure boot enabled` and the
/// default entry of `grub/grub.cfg` prints its marker. The inventory has a
/// per-host entry for another machine: `grub.cfg`'s `configfile` of this
/// machine's `grub.cfg-01-<mac>` finds none, and its own menu follows.
#[test]
#[ignore = "needs root, qemu and the Secure Boot packages: run by scripts/test"]
fn uefi_secure_boot() {
    check(&SecureBootScenario {
        name: "uefi_secure_boot",
        mac: "52:54:00:e2:e0:21",
        host_mac: Some("52:54:00:e2:e0:99"),
        deadline: Duration::from_secs(240),
    });
}

/// The same with a per-host entry for this machine: Debian's signed network
/// GRUB does not look for `grub.cfg-01-<mac>` itself; `grub.cfg` loads it,
/// and its `rescue` label's marker appears.
#[test]
#[ignore = "needs root, qemu and the Secure Boot packages: run by scripts/test"]
fn uefi_secure_boot_per_host() {
    check(&SecureBootScenario {
        name: "uefi_secure_boot_per_host",
        mac: "52:54:00:e2:e0:22",
        host_mac: Some("52:54:00:e2:e0:22"),
        deadline: Duration::from_secs(240),
    });
}
