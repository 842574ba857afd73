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
#[ignore = "needs peer tools: run by scripts/test"]
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
#[ignore = "needs peer tools: run by scripts/test"]
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

/// BIOS, `dhcpd-pxe` in full mode: a per-host file written by `pxecfg
/// generate` (named by MAC, `pxelinux.cfg/01-52-54-00-e2-e0-05`) boots the
/// `rescue` label instead of `default`'s `linux`: the marker says which.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn bios_per_host_label() {
    check(&Scenario {
        name: "bios_per_host_label",
        firmware: Firmware::Bios,
        dhcp: Dhcp::DhcpdPxe,
        mac: "52:54:00:e2:e0:05",
        per_host: true,
        deadline: BIOS_DEADLINE,
    });
}

/// BIOS, `dhcpd-pxe` in full mode: address and `pxelinux.0` for option 93 = 0.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn bios_dhcpd_pxe_full() {
    check(&Scenario {
        name: "bios_dhcpd_pxe_full",
        firmware: Firmware::Bios,
        dhcp: Dhcp::DhcpdPxe,
        mac: "52:54:00:e2:e0:11",
        per_host: false,
        deadline: BIOS_DEADLINE,
    });
}

/// BIOS, ISC dhcpd on another host hands out the address, `dhcpd-pxe --proxy`
/// adds the boot information.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn bios_isc_dhcpd_with_proxy() {
    check(&Scenario {
        name: "bios_isc_dhcpd_with_proxy",
        firmware: Firmware::Bios,
        dhcp: Dhcp::IscWithProxy,
        mac: "52:54:00:e2:e0:12",
        per_host: false,
        deadline: BIOS_DEADLINE,
    });
}

/// x64 UEFI, `dhcpd-pxe` in full mode: `efi64/syslinux.efi` for option 93 = 7.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn uefi_dhcpd_pxe_full() {
    check(&Scenario {
        name: "uefi_dhcpd_pxe_full",
        firmware: Firmware::Uefi,
        dhcp: Dhcp::DhcpdPxe,
        mac: "52:54:00:e2:e0:13",
        per_host: false,
        deadline: UEFI_DEADLINE,
    });
}

/// x64 UEFI beside ISC dhcpd, `dhcpd-pxe --proxy` adds the boot information.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn uefi_isc_dhcpd_with_proxy() {
    check(&Scenario {
        name: "uefi_isc_dhcpd_with_proxy",
        firmware: Firmware::Uefi,
        dhcp: Dhcp::IscWithProxy,
        mac: "52:54:00:e2:e0:14",
        per_host: false,
        deadline: UEFI_DEADLINE,
    });
}
