//! Boot chains over HTTP: iPXE fetches a script written by `pxecfg generate
//! --format ipxe`, kernel and initrd from `tftpd --http`; once started by
//! qemu's BIOS iPXE ROM, once by OVMF's own UEFI HTTP boot client loading
//! `ipxe.efi`. As root with the peers of scripts/install-e2e-peers they run;
//! otherwise they print `SKIPPED` and pass, except under `CI=true`, where
//! they fail. See docs/e2e.md, docs/guide-ipxe-http.md and
//! docs/guide-uefi-http-boot.md.

use std::time::Duration;

use netboot_e2e::http::{check, HttpScenario, Start};

/// BIOS, iPXE ROM: `dhcpd-pxe` (full mode, class `ipxe`) hands iPXE the
/// script's `http://` URL; kernel and initrd come over HTTP, nothing over TFTP.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn bios_ipxe_http() {
    check(&HttpScenario {
        name: "bios_ipxe_http",
        start: Start::BiosIpxe,
        mac: "52:54:00:e2:e0:21",
        deadline: Duration::from_secs(120),
    });
}

/// x64 UEFI HTTP boot: OVMF's HTTP boot client (architecture 16, vendor
/// class `HTTPClient`) gets `ipxe.efi`'s URL from `dhcpd-pxe` (class
/// `http-x64`), loads it over HTTP, and iPXE runs the script as above.
#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn uefi_http_boot() {
    check(&HttpScenario {
        name: "uefi_http_boot",
        start: Start::UefiHttpBoot,
        mac: "52:54:00:e2:e0:22",
        deadline: Duration::from_secs(180),
    });
}
