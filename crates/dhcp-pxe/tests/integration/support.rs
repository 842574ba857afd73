//! Shared helpers: fixture loading, a lab policy, a raw packet builder and a TLV walker.

use std::net::Ipv4Addr;

use dhcp_pxe::options::{Arch, Feature};
use dhcp_pxe::policy::{FirmwareKind, Policy, Rule};

/// Reads a committed fixture.
pub(crate) fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every real capture, by name.
pub(crate) const CAPTURES: &[&str] = &[
    "ipxe-bios-discover.bin",
    "ipxe-bios-request.bin",
    "ipxe-efi-x64-discover.bin",
    "ipxe-efi-x64-request.bin",
    "ovmf-pxe-x64-discover.bin",
    "ovmf-pxe-x64-request.bin",
    "ovmf-http-x64-discover.bin",
    "ovmf-http-x64-request.bin",
    "dnsmasq-offer-to-ipxe-bios.bin",
    "ipxe-efi-x64-request-4011.bin",
    "ovmf-pxe-x64-request-4011.bin",
    "dnsmasq-offer-to-ovmf-pxe.bin",
];

pub(crate) const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
pub(crate) const SCRIPT: &str = "http://192.0.2.1/boot.ipxe";

/// The policy used across the tests.
pub(crate) fn lab_policy() -> Policy {
    let mut https = Rule::new("ipxe-https");
    https.when.ipxe = Some(true);
    https.when.ipxe_features = vec![Feature::HTTPS];
    https.then.ipxe_script = Some("https://192.0.2.1/secure.ipxe".into());

    let mut ipxe = Rule::new("ipxe-script");
    ipxe.when.ipxe = Some(true);
    ipxe.then.ipxe_script = Some(SCRIPT.into());

    let mut pi = Rule::new("raspberry-pi");
    pi.when.firmware = vec![FirmwareKind::RaspberryPi];
    pi.then.boot_file = Some("bootcode.bin".into());

    let mut bios = Rule::new("bios");
    bios.when.firmware = vec![FirmwareKind::BiosPxe];
    bios.then.boot_file = Some("undionly.kpxe".into());

    let mut x64 = Rule::new("uefi-x64");
    x64.when.firmware = vec![FirmwareKind::UefiPxe];
    x64.when.arch = vec![Arch::X64_UEFI];
    x64.then.boot_file = Some("ipxe.efi".into());
    x64.then.tftp_server_name = Some("tftp.example.test".into());

    let mut arm = Rule::new("uefi-arm64");
    arm.when.arch = vec![Arch::ARM64_UEFI];
    arm.then.boot_file = Some("ipxe-arm64.efi".into());
    arm.then.next_server = Some(Ipv4Addr::new(192, 0, 2, 9));

    let mut http = Rule::new("http-boot");
    http.when.firmware = vec![FirmwareKind::UefiHttp];
    http.then.http_url = Some("http://192.0.2.1/ipxe.efi".into());

    Policy::new(vec![https, ipxe, pi, bios, x64, arm, http])
}

/// A raw DHCP request, written byte by byte without the crate's encoder.
pub(crate) fn raw_packet(
    mac: [u8; 6],
    xid: u32,
    giaddr: [u8; 4],
    options: &[(u8, &[u8])],
) -> Vec<u8> {
    let mut p = vec![0u8; 236];
    p[0] = 1;
    p[1] = 1;
    p[2] = 6;
    p[3] = u8::from(giaddr != [0; 4]);
    p[4..8].copy_from_slice(&xid.to_be_bytes());
    p[10] = 0x80; // broadcast
    p[24..28].copy_from_slice(&giaddr);
    p[28..34].copy_from_slice(&mac);
    p.extend_from_slice(&[99, 130, 83, 99]);
    for (code, data) in options {
        p.push(*code);
        p.push(data.len() as u8);
        p.extend_from_slice(data);
    }
    p.push(255);
    p
}

/// The option codes of the options field, in wire order (Pad skipped, stops at End).
pub(crate) fn wire_codes(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 240;
    while let Some(&c) = bytes.get(i) {
        match c {
            0 => i += 1,
            255 => break,
            _ => {
                out.push(c);
                i += 2 + usize::from(bytes[i + 1]);
            }
        }
    }
    out
}
