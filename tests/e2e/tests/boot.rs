//! The end-to-end scenarios: real firmware in qemu boots Linux over the
//! network, each in its own namespace, one at a time. As root with the peers
//! of scripts/install-e2e-peers they run; otherwise they print `SKIPPED` and
//! pass, except under `CI=true`, where they fail. See docs/e2e.md.

use std::time::Duration;

use netboot_e2e::qemu::Firmware;
use netboot_e2e::scenario::{check, Dhcp, Scenario};

const BIOS_DEADLINE: Duration = Duration::from_secs(120);
const UEFI_DEADLINE: Duration = Duration::from_secs(180);

/// The reference: dnsmasq answers DHCP and serves TFTP.
#[test]
fn bios_dnsmasq_reference() {
    check(&Scenario {
        name: "bios_dnsmasq_reference",
        firmware: Firmware::Bios,
        dhcp: Dhcp::DnsmasqWithTftp,
        mac: "52:54:00:e2:e0:01",
        per_host: false,
        deadline: BIOS_DEADLINE,
    });
}

/// dnsmasq answers DHCP; our `tftpd` serves the tree `pxecfg generate` configured.
#[test]
fn bios_dnsmasq_dhcp_with_tftpd() {
    check(&Scenario {
        name: "bios_dnsmasq_dhcp_with_tftpd",
        firmware: Firmware::Bios,
        dhcp: Dhcp::Dnsmasq,
        mac: "52:54:00:e2:e0:02",
        per_host: false,
        deadline: BIOS_DEADLINE,
    });
}

/// x64 UEFI (OVMF) with dnsmasq's DHCP and our `tftpd`: `efi64/syslinux.efi`
/// with `ldlinux.e64` and its own `efi64/pxelinux.cfg/`.
#[test]
fn uefi_dnsmasq_dhcp_with_tftpd() {
    check(&Scenario {
        name: "uefi_dnsmasq_dhcp_with_tftpd",
        firmware: Firmware::Uefi,
        dhcp: Dhcp::Dnsmasq,
        mac: "52:54:00:e2:e0:03",
        per_host: false,
        deadline: UEFI_DEADLINE,
    });
}

/// A per-host file written by `pxecfg generate` (named by MAC) boots the
/// `rescue` label instead of `default`'s `linux`: the marker says which.
#[test]
fn bios_per_host_label() {
    check(&Scenario {
        name: "bios_per_host_label",
        firmware: Firmware::Bios,
        dhcp: Dhcp::Dnsmasq,
        mac: "52:54:00:e2:e0:05",
        per_host: true,
        deadline: BIOS_DEADLINE,
    });
}
