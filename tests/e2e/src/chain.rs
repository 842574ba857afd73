//! Which link of the Secure Boot chain (firmware → shim → GRUB → kernel)
//! broke, decided from `tftpd`'s requests and the serial console; and, after
//! the marker, that the chain really ran as claimed with Secure Boot on.
//! DHCP and the boot file itself are judged as in every scenario
//! ([`diagnose::stage`]).

use crate::diagnose::{self, Expected, Request};
use crate::secure_boot::{BOOT_FILE, GRUB_CONFIG, SECOND_STAGE, SECURE_BOOT_ON};
use crate::tree::{INITRD, KERNEL, MARKER_PREFIX};

/// Console words of a refused signature or a failed start: OVMF's
/// (`Access Denied`, `Security Violation`), shim's (`Verification failed`,
/// `Malformed binary`), GRUB's (`bad shim signature`).
const REFUSALS: [&str; 7] = [
    "Access Denied",
    "Security Violation",
    "Verification failed",
    "Malformed binary",
    "bad shim signature",
    "failed to start",
    "start_image() returned",
];

/// After the marker: shim, GRUB, its configuration, kernel and initrd all
/// came from `tftpd`, and the kernel said Secure Boot was on.
pub fn confirm(requests: &[Request], serial: &str) -> Result<(), String> {
    for file in [BOOT_FILE, SECOND_STAGE, GRUB_CONFIG, KERNEL, INITRD] {
        if !requests.iter().any(|r| r.file == file && r.sent) {
            return Err(format!(
                "marker seen, but tftpd's log shows no complete transfer of {file} (requests: {})",
                names(requests)
            ));
        }
    }
    if !serial.contains(SECURE_BOOT_ON) {
        let said: Vec<&str> = serial
            .lines()
            .filter(|l| l.to_ascii_lowercase().contains("secure boot"))
            .map(str::trim)
            .collect();
        return Err(format!(
            "stage Secure Boot: marker seen, but the kernel never said {SECURE_BOOT_ON:?} \
             (its lines about Secure Boot: {})",
            if said.is_empty() {
                "none".to_owned()
            } else {
                said.join(" | ")
            }
        ));
    }
    Ok(())
}

/// The broken link, as `stage <name>: <why>`, for a boot without the marker.
/// `marker` is the value the default entry of `grub.cfg` prints.
pub fn stage(requests: &[Request], serial: &str, dhcp_log: &str, marker: &str) -> String {
    let sent = |f: &str| requests.iter().any(|r| r.file == f && r.sent);
    let asked = |f: &str| requests.iter().any(|r| r.file == f);
    let why_not = |f: &str| {
        requests
            .iter()
            .rev()
            .find(|r| r.file == f)
            .map_or_else(|| "never requested".to_owned(), |r| r.outcome.clone())
    };
    if !sent(BOOT_FILE) {
        // No request at all (DHCP), or the boot file refused: as every scenario.
        let exp = Expected {
            boot_file: BOOT_FILE,
            prefix: "",
            ldlinux: "",
            marker,
        };
        return diagnose::stage(&exp, requests, serial, dhcp_log).to_string();
    }
    if !asked(SECOND_STAGE) {
        return format!(
            "stage shim: {BOOT_FILE} sent, but {SECOND_STAGE} never requested: the firmware \
             refused or did not start shim; console: {}",
            refusals(serial)
        );
    }
    if !sent(SECOND_STAGE) {
        return format!(
            "stage TFTP file: {SECOND_STAGE} not sent ({})",
            why_not(SECOND_STAGE)
        );
    }
    if !asked(GRUB_CONFIG) {
        return format!(
            "stage GRUB: {SECOND_STAGE} sent, but {GRUB_CONFIG} never requested: shim refused \
             GRUB or GRUB found no prefix; console: {}; requests: {}",
            refusals(serial),
            names(requests)
        );
    }
    if !sent(GRUB_CONFIG) {
        return format!(
            "stage TFTP file: {GRUB_CONFIG} not sent ({})",
            why_not(GRUB_CONFIG)
        );
    }
    if let Some(other) = serial
        .lines()
        .filter_map(|l| l.split_once(MARKER_PREFIX).map(|(_, v)| v.trim()))
        .find(|v| *v != marker)
    {
        return format!(
            "stage config: the wrong entry booted: marker {other:?}, expected {marker:?}"
        );
    }
    for file in [KERNEL, INITRD] {
        if !asked(file) {
            return format!(
                "stage config: {GRUB_CONFIG} read, but {file} never requested: wrong entry or \
                 broken grub.cfg; console: {}",
                tail(serial)
            );
        }
        if !sent(file) {
            return format!("stage TFTP file: {file} not sent ({})", why_not(file));
        }
    }
    if let Some(line) = serial.lines().find(|l| l.contains("bad shim signature")) {
        return format!(
            "stage kernel signature: GRUB refused {KERNEL} through shim ({})",
            line.trim()
        );
    }
    diagnose::kernel(serial).to_string()
}

fn names(requests: &[Request]) -> String {
    requests
        .iter()
        .map(|r| r.file.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The console lines with a refusal in them, else its last lines.
fn refusals(serial: &str) -> String {
    let lines: Vec<&str> = serial
        .lines()
        .filter(|l| REFUSALS.iter().any(|w| l.contains(w)))
        .map(str::trim)
        .collect();
    if lines.is_empty() {
        tail(serial)
    } else {
        lines.join(" | ")
    }
}

fn tail(serial: &str) -> String {
    let lines: Vec<&str> = serial
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    lines[lines.len().saturating_sub(5)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(file: &str, sent: bool) -> Request {
        Request {
            file: file.into(),
            sent,
            outcome: if sent {
                "complete"
            } else {
                "refused: 1 File not found"
            }
            .into(),
        }
    }

    /// The requests of a boot that went through, in the order seen from OVMF,
    /// shim 16 and Debian's network GRUB (shim's optional files not found).
    fn whole_chain() -> Vec<Request> {
        vec![
            req("shimx64.efi", true),
            req("revocations_sbat.efi", false),
            req("grubx64.efi", true),
            req("grub/x86_64-efi/command.lst", false),
            req("grub/grub.cfg", true),
            req("vmlinuz", true),
            req("initrd.gz", true),
        ]
    }

    const MARKER: &str = "default-linux";

    #[test]
    fn confirm_needs_every_file_and_the_secure_boot_line() {
        let serial =
            "[    0.000000] secureboot: Secure boot enabled\nNETBOOT-E2E-MARKER:default-linux\n";
        assert_eq!(confirm(&whole_chain(), serial), Ok(()));
        let e = confirm(&whole_chain(), "EFI stub: UEFI Secure Boot is enabled.\n").unwrap_err();
        assert!(e.starts_with("stage Secure Boot:"), "{e}");
        assert!(e.contains("UEFI Secure Boot is enabled"), "{e}");
        let mut r = whole_chain();
        r.retain(|r| r.file != "grub/grub.cfg");
        let e = confirm(&r, serial).unwrap_err();
        assert!(e.contains("grub/grub.cfg"), "{e}");
    }

    #[test]
    fn no_request_is_dhcp_and_refused_shim_is_tftp_file() {
        let s = stage(&[], "", "DHCPOFFER", MARKER);
        assert!(s.starts_with("stage DHCP:"), "{s}");
        let s = stage(&[req("shimx64.efi", false)], "", "", MARKER);
        assert!(
            s.starts_with("stage TFTP file:") && s.contains("shimx64.efi"),
            "{s}"
        );
    }

    #[test]
    fn shim_that_never_asks_for_grub_is_shim() {
        let serial = "BdsDxe: failed to start Boot0001 \"UEFI PXEv4\": Access Denied\n";
        let s = stage(&[req("shimx64.efi", true)], serial, "", MARKER);
        assert!(
            s.starts_with("stage shim:") && s.contains("Access Denied"),
            "{s}"
        );
    }

    #[test]
    fn grub_refused_by_shim_is_grub() {
        let r = [req("shimx64.efi", true), req("grubx64.efi", true)];
        let serial = "Fetching Netboot Image grubx64.efi\nMalformed binary after Attribute Certificate Table\nVerification failed: (0x2) Invalid Parameter\n";
        let s = stage(&r, serial, "", MARKER);
        assert!(
            s.starts_with("stage GRUB:") && s.contains("Verification failed"),
            "{s}"
        );
        let r = [req("shimx64.efi", true), req("grubx64.efi", false)];
        let s = stage(&r, "", "", MARKER);
        assert!(
            s.starts_with("stage TFTP file:") && s.contains("grubx64.efi"),
            "{s}"
        );
    }

    #[test]
    fn missing_config_kernel_and_wrong_entry() {
        let mut r = whole_chain();
        r[4].sent = false;
        let s = stage(&r, "", "", MARKER);
        assert!(
            s.starts_with("stage TFTP file:") && s.contains("grub/grub.cfg"),
            "{s}"
        );
        let r = &whole_chain()[..5];
        let s = stage(r, "", "", MARKER);
        assert!(
            s.starts_with("stage config:") && s.contains("vmlinuz never"),
            "{s}"
        );
        let s = stage(
            &whole_chain(),
            "NETBOOT-E2E-MARKER:host-rescue\n",
            "",
            MARKER,
        );
        assert!(s.contains("wrong entry"), "{s}");
    }

    #[test]
    fn refused_kernel_and_silent_kernel() {
        let serial =
            "error: ../../grub-core/loader/i386/efi/linux.c:258:(hd0) bad shim signature.\n";
        let s = stage(&whole_chain(), serial, "", MARKER);
        assert!(s.starts_with("stage kernel signature:"), "{s}");
        let s = stage(
            &whole_chain(),
            "Linux version 6.1\nKernel panic\n",
            "",
            MARKER,
        );
        assert!(
            s.starts_with("stage kernel:") && s.contains("kernel started"),
            "{s}"
        );
    }
}
