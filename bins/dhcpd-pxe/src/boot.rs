//! `--boot-file [CLASS=]FILE` and `[[boot]]` entries as boot-policy rules.

use dhcp_pxe::options::Arch;
use dhcp_pxe::policy::{FirmwareKind, Policy, Rule};

/// The client classes `--boot-file CLASS=FILE` knows.
pub const CLASSES: &[(&str, &str)] = &[
    ("bios", "BIOS PXE (option 93 = 0)"),
    ("efi-ia32", "32-bit x86 UEFI PXE (6)"),
    ("efi-x64", "x64 UEFI PXE (7, and 9 as some firmware sends)"),
    ("efi-arm64", "ARM64 UEFI PXE (11)"),
    (
        "ipxe",
        "iPXE (user class iPXE or option 175): gets FILE as its script or file",
    ),
    ("http-x64", "x64 UEFI HTTP boot (16): FILE is a URL"),
];

/// One boot file for a class of clients (`None`: every client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFile {
    /// The class name, one of [`CLASSES`].
    pub class: Option<String>,
    /// File name or URL.
    pub file: String,
}

impl BootFile {
    /// Parses `CLASS=FILE` or `FILE`.
    pub fn parse(s: &str) -> Result<Self, String> {
        if let Some((c, f)) = s.split_once('=') {
            if CLASSES.iter().any(|(n, _)| *n == c) {
                if f.is_empty() {
                    return Err(format!("--boot-file {s}: empty file name"));
                }
                return Ok(Self {
                    class: Some(c.into()),
                    file: f.into(),
                });
            }
            if !c.contains('/') && !c.contains('.') {
                let names: Vec<_> = CLASSES.iter().map(|(n, _)| *n).collect();
                return Err(format!(
                    "unknown client class {c:?} (known: {})",
                    names.join(", ")
                ));
            }
        }
        if s.is_empty() {
            return Err("--boot-file: empty file name".into());
        }
        Ok(Self {
            class: None,
            file: s.into(),
        })
    }
}

/// Rules for `files`: iPXE first (so that it is never handed a binary it would load
/// again), then each architecture class, then the files for every client.
///
/// An architecture class also serves iPXE running as that machine's PXE firmware
/// (qemu's and many NICs' boot ROMs are iPXE and say so in option 77): with
/// `bios=pxelinux.0` alone such a machine boots PXELINUX, as it would from ISC
/// dhcpd's `filename`. When that file is itself an iPXE binary the policy refuses
/// it to iPXE clients (a chainload loop) and an `ipxe=` file is needed.
pub fn policy(files: &[BootFile], next_server: Option<std::net::Ipv4Addr>) -> Policy {
    let mut rules = Vec::new();
    let order = [
        "ipxe",
        "http-x64",
        "bios",
        "efi-ia32",
        "efi-x64",
        "efi-arm64",
    ];
    for class in order {
        for f in files.iter().filter(|f| f.class.as_deref() == Some(class)) {
            let mut r = Rule::new(class);
            match class {
                "ipxe" => {
                    r.when.ipxe = Some(true);
                    r.then.ipxe_script = Some(f.file.clone());
                }
                "http-x64" => {
                    r.when.firmware = vec![FirmwareKind::UefiHttp];
                    r.when.arch = vec![Arch::X64_UEFI_HTTP];
                    r.then.http_url = Some(f.file.clone());
                }
                "bios" => {
                    r.when.firmware = vec![FirmwareKind::BiosPxe];
                    r.then.boot_file = Some(f.file.clone());
                    // iPXE as a BIOS machine's boot ROM (architecture 0).
                    let mut rom = Rule::new("bios (iPXE boot ROM)");
                    rom.when.ipxe = Some(true);
                    rom.when.arch = vec![Arch::X86_BIOS];
                    rom.then.boot_file = Some(f.file.clone());
                    rom.then.next_server = next_server;
                    r.then.next_server = next_server;
                    rules.push(r);
                    rules.push(rom);
                    continue;
                }
                "efi-ia32" => {
                    r.when.arch = vec![Arch::X86_UEFI];
                    r.then.boot_file = Some(f.file.clone());
                }
                "efi-x64" => {
                    r.when.arch = vec![Arch::X64_UEFI];
                    r.then.boot_file = Some(f.file.clone());
                }
                _ => {
                    r.when.arch = vec![Arch::ARM64_UEFI];
                    r.then.boot_file = Some(f.file.clone());
                }
            }
            r.then.next_server = next_server;
            rules.push(r);
        }
    }
    for f in files.iter().filter(|f| f.class.is_none()) {
        let mut r = Rule::new("all");
        r.then.boot_file = Some(f.file.clone());
        if f.file.starts_with("http://") || f.file.starts_with("https://") {
            r.then.http_url = Some(f.file.clone());
        }
        r.then.next_server = next_server;
        rules.push(r);
    }
    Policy::new(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_and_bare_files() {
        assert_eq!(BootFile::parse("pxelinux.0").unwrap().class, None);
        let b = BootFile::parse("efi-x64=grubx64.efi").unwrap();
        assert_eq!(
            (b.class.as_deref(), b.file.as_str()),
            (Some("efi-x64"), "grubx64.efi")
        );
        assert!(BootFile::parse("efi-x65=a")
            .unwrap_err()
            .contains("unknown client class"));
        // A '=' inside a path is a file name.
        assert_eq!(BootFile::parse("boot/a=b.efi").unwrap().class, None);
        let p = policy(
            &[
                BootFile::parse("undionly.kpxe").unwrap(),
                BootFile::parse("ipxe=http://x/boot.ipxe").unwrap(),
            ],
            None,
        );
        assert_eq!(p.rules[0].name, "ipxe");
        assert_eq!(p.rules[1].name, "all");
    }

    #[test]
    fn architecture_classes_also_serve_ipxe_boot_roms() {
        let p = policy(
            &[
                BootFile::parse("bios=pxelinux.0").unwrap(),
                BootFile::parse("efi-x64=undionly.kpxe").unwrap(),
            ],
            None,
        );
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["bios", "bios (iPXE boot ROM)", "efi-x64"]);
        assert_eq!(p.rules[1].when.ipxe, Some(true));
        assert_eq!(p.rules[1].when.arch, vec![Arch::X86_BIOS]);
        // No `ipxe = false`: the policy itself refuses iPXE binaries to iPXE.
        assert_eq!(p.rules[2].when.ipxe, None);
    }
}
