//! Which link of UEFI PXE over IPv6 (OVMF's DHCPv6 → network GRUB over
//! TFTP/IPv6 → `grub.cfg` → kernel and initrd) broke, from `tftpd`'s
//! requests, the serial console and the DHCPv6 server's log; and, after the
//! marker, that every file went to an IPv6 peer.

use std::net::{IpAddr, SocketAddr};

use crate::diagnose::{self, field, strip_ansi, Request, Stage};
use crate::ipv6::{BOOT_FILE, GRUB_CONFIG};
use crate::tree::{INITRD, KERNEL, MARKER_PREFIX};

/// OVMF's console line when it starts its PXE over IPv6 boot option.
pub const PXE6_START: &str = "Start PXE over IPv6";
/// The same over IPv4, which the scenario switches off.
pub const PXE4_START: &str = "Start PXE over IPv4";

/// The files of the chain, in the order they are fetched.
pub const CHAIN: [&str; 4] = [BOOT_FILE, GRUB_CONFIG, KERNEL, INITRD];

/// The peers of `tftpd -v`'s `transfer` lines for `file`.
pub fn peers(tftpd_log: &str, file: &str) -> Vec<SocketAddr> {
    strip_ansi(tftpd_log)
        .lines()
        .filter(|l| l.contains(" transfer "))
        .filter(|l| field(l, "file").map(|f| f.trim_start_matches('/')) == Some(file))
        .filter_map(|l| field(l, "peer").and_then(|p| p.parse().ok()))
        .collect()
}

/// Whether `addr` is an IPv6 address of the lab: 2001:db8::/32 or
/// link-local (fe80::/10); an IPv4-mapped or any IPv4 address is not.
pub fn lab_ipv6(addr: &SocketAddr) -> bool {
    match addr.ip() {
        IpAddr::V4(_) => false,
        IpAddr::V6(a) => {
            let s = a.segments();
            (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] & 0xffc0) == 0xfe80
        }
    }
}

/// After the marker: every one of `files` (the [`CHAIN`], or the part of it
/// the scenario follows) was sent whole, and every transfer of it went to an
/// IPv6 peer of the lab.
pub fn confirm(requests: &[Request], tftpd_log: &str, files: &[&str]) -> Result<(), String> {
    for &file in files {
        if !requests.iter().any(|r| r.file == file && r.sent) {
            return Err(format!(
                "marker seen, but tftpd's log shows no complete transfer of {file} (requests: {})",
                names(requests)
            ));
        }
        let peers = peers(tftpd_log, file);
        if peers.is_empty() {
            return Err(format!(
                "marker seen, but tftpd's log has no transfer line with a peer for {file}"
            ));
        }
        if let Some(p) = peers.iter().find(|p| !lab_ipv6(p)) {
            return Err(format!(
                "marker seen, but {file} went to {p}, not to an IPv6 peer in 2001:db8::/32 \
                 or fe80::/10"
            ));
        }
    }
    Ok(())
}

/// The broken link, as `stage <name>: <why>`, for a boot without the marker.
/// `marker` is the value the default entry of `grub.cfg` prints.
pub fn stage(requests: &[Request], serial: &str, dhcp6_log: &str, marker: &str) -> String {
    let sent = |f: &str| requests.iter().any(|r| r.file == f && r.sent);
    let asked = |f: &str| requests.iter().any(|r| r.file == f);
    let why_not = |f: &str| {
        requests
            .iter()
            .rev()
            .find(|r| r.file == f)
            .map_or_else(|| "never requested".to_owned(), |r| r.outcome.clone())
    };
    if requests.is_empty() {
        return dhcp(serial, dhcp6_log).to_string();
    }
    if !sent(BOOT_FILE) {
        return Stage::TftpFile(format!(
            "{BOOT_FILE} not sent ({}); requests: {}",
            why_not(BOOT_FILE),
            names(requests)
        ))
        .to_string();
    }
    if !asked(GRUB_CONFIG) {
        return format!(
            "stage GRUB: {BOOT_FILE} sent, but {GRUB_CONFIG} never requested: GRUB did not \
             start or found no network from the cached DHCPv6 reply; requests: {}; console: {}",
            names(requests),
            firmware_said(serial)
        );
    }
    if !sent(GRUB_CONFIG) {
        return Stage::TftpFile(format!("{GRUB_CONFIG} not sent ({})", why_not(GRUB_CONFIG)))
            .to_string();
    }
    if let Some(other) = serial
        .lines()
        .filter_map(|l| l.split_once(MARKER_PREFIX).map(|(_, v)| v.trim()))
        .find(|v| *v != marker)
    {
        return Stage::Config(format!(
            "the wrong entry booted: marker {other:?}, expected {marker:?}"
        ))
        .to_string();
    }
    for file in [KERNEL, INITRD] {
        if !asked(file) {
            return Stage::Config(format!(
                "{GRUB_CONFIG} read, but {file} never requested: wrong entry or broken \
                 grub.cfg; console: {}",
                firmware_said(serial)
            ))
            .to_string();
        }
        if !sent(file) {
            return Stage::TftpFile(format!("{file} not sent ({})", why_not(file))).to_string();
        }
    }
    diagnose::kernel(serial).to_string()
}

/// No TFTP request: OVMF never tried PXE over IPv6, tried IPv4 first, or got
/// no usable DHCPv6 answer.
fn dhcp(serial: &str, dhcp6_log: &str) -> Stage {
    if !serial.contains(PXE6_START) {
        let v4 = if serial.contains(PXE4_START) {
            " (it started PXE over IPv4: the fw_cfg switch IPv4PXESupport=n did not apply)"
        } else {
            ""
        };
        return Stage::Dhcp(format!(
            "OVMF never printed {PXE6_START:?}{v4}; console: {}",
            firmware_said(serial)
        ));
    }
    Stage::Dhcp(format!(
        "OVMF started PXE over IPv6 but no TFTP request reached tftpd; console: {}; \
         DHCPv6 server: {}",
        firmware_said(serial),
        dhcp6_summary(dhcp6_log)
    ))
}

/// How many datagrams the DHCPv6 server logged as received (Kea's
/// `DHCP6_BUFFER_RECEIVED`), and how many lines name SOLICIT, ADVERTISE,
/// REQUEST and REPLY (Kea writes `ADVERTISE (type 2)`, `dhcpd-pxe -v`
/// `reply=Advertise`).
pub fn dhcp6_summary(log: &str) -> String {
    let received = log
        .lines()
        .filter(|l| l.contains("DHCP6_BUFFER_RECEIVED"))
        .count();
    let counts: Vec<String> = [
        ("SOLICIT", "=Solicit"),
        ("ADVERTISE", "=Advertise"),
        ("REQUEST", "=Request"),
        ("REPLY", "=Reply"),
    ]
    .iter()
    .map(|(upper, field)| {
        let n = log
            .lines()
            .filter(|l| l.contains(upper) || l.contains(field))
            .count();
        format!("{upper} {n}")
    })
    .collect();
    format!(
        "{received} datagram(s) logged as received; log lines naming {}",
        counts.join(", ")
    )
}

/// OVMF's and GRUB's own words (PXE status lines, errors), else the
/// console's last lines.
fn firmware_said(serial: &str) -> String {
    let lines: Vec<&str> = serial
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.starts_with("PXE-E")
                || l.starts_with("Station IP")
                || l.starts_with("NBP ")
                || l.starts_with("error:")
                || l.starts_with("BdsDxe: failed")
        })
        .collect();
    if !lines.is_empty() {
        return lines.join(" | ");
    }
    let all: Vec<&str> = serial
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    all[all.len().saturating_sub(5)..].join(" | ")
}

fn names(requests: &[Request]) -> String {
    requests
        .iter()
        .map(|r| r.file.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn transfer(peer: &str, file: &str, outcome: &str) -> String {
        format!(
            "INFO tftp::runtime::server::report: RRQ from {peer} filename {file}\n\
             INFO tftp::runtime::server::report: transfer peer={peer}:1324 kind=\"RRQ\" \
             file=\"{file}\" options=\"\" bytes=10 secs=0.1 outcome=\"{outcome}\"\n"
        )
    }

    /// A whole chain as tftpd logged it for OVMF and GRUB over IPv6 (GRUB
    /// asks with a leading `/`, and for module lists it does not get).
    fn whole_chain(peer: &str) -> String {
        [
            transfer(peer, "grubx64.efi", "complete"),
            transfer(peer, "/grub/x86_64-efi/command.lst", "refused"),
            transfer(peer, "/grub/grub.cfg", "complete"),
            transfer(peer, "/vmlinuz", "complete"),
            transfer(peer, "/initrd.gz", "complete"),
        ]
        .concat()
    }

    #[test]
    fn ipv6_peers_confirm_and_ipv4_peers_do_not() {
        let log = whole_chain("[2001:db8::100]");
        assert_eq!(
            confirm(&diagnose::tftpd_requests(&log), &log, &CHAIN),
            Ok(())
        );
        let p = peers(&log, "vmlinuz");
        assert_eq!(p.len(), 1);
        assert!(lab_ipv6(&p[0]));
        let log = whole_chain("[fe80::5054:ff:fee2:e061]");
        assert_eq!(
            confirm(&diagnose::tftpd_requests(&log), &log, &CHAIN),
            Ok(())
        );
        for other in ["192.0.2.100", "[::ffff:192.0.2.100]", "[2001:db9::1]"] {
            let log = whole_chain(other);
            let e = confirm(&diagnose::tftpd_requests(&log), &log, &CHAIN).unwrap_err();
            assert!(e.contains("not to an IPv6 peer"), "{other}: {e}");
        }
    }

    #[test]
    fn a_missing_file_fails_confirmation() {
        let log = whole_chain("[2001:db8::100]").replace(
            "file=\"/initrd.gz\" options=\"\" bytes=10 secs=0.1 outcome=\"complete\"",
            "file=\"/initrd.gz\" options=\"\" bytes=10 secs=0.1 outcome=\"timed out\"",
        );
        let e = confirm(&diagnose::tftpd_requests(&log), &log, &CHAIN).unwrap_err();
        assert!(e.contains("initrd.gz"), "{e}");
    }

    #[test]
    fn no_request_is_dhcp_with_what_ovmf_did() {
        let s = stage(
            &[],
            ">>Start PXE over IPv4.\n  PXE-E18: Server response timeout.\n",
            "",
            "m",
        );
        assert!(
            s.starts_with("stage DHCP:") && s.contains("IPv4PXESupport"),
            "{s}"
        );
        let kea = "DHCP6_BUFFER_RECEIVED received buffer\nDHCP6_PACKET_SEND ADVERTISE (type 2)\n";
        let s = stage(
            &[],
            ">>Start PXE over IPv6.\n  PXE-E16: No valid offer received.\n",
            kea,
            "m",
        );
        assert!(s.starts_with("stage DHCP:"), "{s}");
        assert!(
            s.contains("PXE-E16")
                && s.contains(
                    "1 datagram(s) logged as received; log lines naming SOLICIT 0, ADVERTISE 1"
                ),
            "{s}"
        );
        let ours = "DHCPv6 reply interface=br0 peer=[fe80::1%2]:546 reply=Advertise\n";
        let s = dhcp6_summary(ours);
        assert!(s.contains("ADVERTISE 1, REQUEST 0, REPLY 0"), "{s}");
    }

    #[test]
    fn each_link_is_named() {
        let all = |peer| diagnose::tftpd_requests(&whole_chain(peer));
        let r = all("[2001:db8::100]");
        let s = stage(
            &r[..1],
            "error: no server is specified.\n",
            "",
            "default-linux",
        );
        assert!(
            s.starts_with("stage GRUB:") && s.contains("no server"),
            "{s}"
        );
        let s = stage(&r[..3], "", "", "default-linux");
        assert!(
            s.starts_with("stage config:") && s.contains("vmlinuz"),
            "{s}"
        );
        let s = stage(&r, "NETBOOT-E2E-MARKER:host-rescue\n", "", "default-linux");
        assert!(s.contains("wrong entry"), "{s}");
        let s = stage(&r, "Linux version 6.1\n", "", "default-linux");
        assert!(s.starts_with("stage kernel:"), "{s}");
        let log = whole_chain("[2001:db8::100]").replace(
            "file=\"grubx64.efi\" options=\"\" bytes=10 secs=0.1 outcome=\"complete\"",
            "file=\"grubx64.efi\" options=\"\" bytes=10 secs=0.1 outcome=\"refused\"",
        );
        let s = stage(&diagnose::tftpd_requests(&log), "", "", "default-linux");
        assert!(
            s.starts_with("stage TFTP file:") && s.contains("grubx64.efi"),
            "{s}"
        );
    }
}
