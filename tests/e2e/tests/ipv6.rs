//! UEFI PXE over IPv6 only: OVMF with PXE over IPv4 switched off, DHCPv6
//! (addresses and the boot file URL, option 59), Debian's network GRUB,
//! `grub.cfg` from `pxecfg generate --format grub`, every file from `tftpd`
//! over IPv6, no IPv4 address on the bridge. As root with the peers of
//! scripts/install-e2e-peers it runs; otherwise it prints `SKIPPED` and
//! passes, except under `CI=true`, where it fails. See
//! docs/guide-ipv6-pxe.md.

use std::time::Duration;

use netboot_e2e::ipv6::{check, Ipv6Scenario, Reach};
use netboot_e2e::ipv6_dhcp::Dhcp6Server;

/// x64 UEFI PXE over IPv6: `dhcpd-pxe` (`[dhcpv6] mode = "full"`) gives an
/// address from 2001:db8::100–1ff and `tftp://[2001:db8::1]/grubx64.efi`; GRUB takes the
/// server from the cached DHCPv6 reply and loads `grub/grub.cfg`, kernel and
/// initrd over TFTP/IPv6; the default entry's marker appears, and tftpd's log
/// shows every file sent to an IPv6 peer.
#[test]
#[ignore = "needs root, qemu and the network GRUB: run by scripts/test"]
fn uefi_pxe_ipv6() {
    check(&Ipv6Scenario {
        name: "uefi_pxe_ipv6",
        mac: "52:54:00:e2:e0:61",
        server: Dhcp6Server::DhcpdPxeFull,
        reach: Reach::Marker,
        deadline: Duration::from_secs(240),
    });
}

/// UEFI PXE over IPv6 with the address from `kea-dhcp6` (no boot file in its
/// configuration) and option 59 from `dhcpd-pxe` in stateless mode beside it,
/// `radvd` announcing the /64 on-link: `dhcpd-pxe`'s ADVERTISE carries
/// `PXEClient` (option 16), OVMF takes it as a proxy offer, takes its address
/// from Kea, asks `dhcpd-pxe` again on port 4011 (checked in its log) and
/// downloads the boot file that REPLY names from `tftpd` over IPv6. Followed
/// to the download only ([`Reach::BootFile`]: Debian's GRUB reads no proxy
/// offer over IPv6).
#[test]
#[ignore = "needs root, qemu, kea-dhcp6, radvd and the network GRUB: run by scripts/test"]
fn uefi_pxe_ipv6_proxy_beside_kea() {
    check(&Ipv6Scenario {
        name: "uefi_pxe_ipv6_proxy_beside_kea",
        mac: "52:54:00:e2:e0:62",
        server: Dhcp6Server::KeaWithDhcpdPxeProxy,
        reach: Reach::BootFile,
        deadline: Duration::from_secs(240),
    });
}
