//! Named client classes (`bios`, `efi-x64`, `ipxe`, …) and the [`Policy`] a list of
//! `[CLASS=]FILE` boot files makes: the policy a server builds from plain
//! configuration, without writing rules by hand.
//!
//! The order of the rules is part of the policy: iPXE first (so that a class whose
//! file is an iPXE binary is never reached by iPXE while an iPXE script exists), then
//! UEFI HTTP boot, then each PXE architecture, then the files for every client.
//!
//! An architecture class also serves iPXE running as that machine's boot ROM: qemu's
//! and many NICs' PXE ROMs are iPXE and say so in option 77 or 175. With
//! `bios=pxelinux.0` alone such a machine boots PXELINUX, as it would from ISC dhcpd's
//! `filename`. When the file is itself an iPXE binary, the policy's chainload-loop rule
//! ([`crate::policy::is_ipxe_binary`]) refuses it to iPXE and an `ipxe` file is needed.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::options::Arch;
use crate::policy::{FirmwareKind, Policy, Rule};

/// A client class a boot file can be given for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BootClass {
    /// iPXE (user class `iPXE` or option 175): the file is its script or file.
    Ipxe,
    /// x64 UEFI HTTP boot (architecture 16): the file is a URL.
    HttpX64,
    /// ARM64 UEFI HTTP boot (architecture 19): the file is a URL.
    HttpArm64,
    /// BIOS PXE ROMs (architecture 0), and iPXE as a BIOS machine's boot ROM.
    Bios,
    /// 32-bit x86 UEFI PXE (6).
    EfiIa32,
    /// x64 UEFI PXE (7, and 9 as some firmware sends).
    EfiX64,
    /// ARM64 UEFI PXE (11).
    EfiArm64,
}

impl BootClass {
    /// Every class, in the order their rules are tried.
    pub const ALL: [Self; 7] = [
        Self::Ipxe,
        Self::HttpX64,
        Self::HttpArm64,
        Self::Bios,
        Self::EfiIa32,
        Self::EfiX64,
        Self::EfiArm64,
    ];

    /// The class's name in configuration.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ipxe => "ipxe",
            Self::HttpX64 => "http-x64",
            Self::HttpArm64 => "http-arm64",
            Self::Bios => "bios",
            Self::EfiIa32 => "efi-ia32",
            Self::EfiX64 => "efi-x64",
            Self::EfiArm64 => "efi-arm64",
        }
    }

    /// Which clients the class holds, in words (for help texts).
    pub fn clients(self) -> &'static str {
        match self {
            Self::Ipxe => "iPXE (user class iPXE or option 175): gets FILE as its script or file",
            Self::HttpX64 => "x64 UEFI HTTP boot (16): FILE is a URL",
            Self::HttpArm64 => "ARM64 UEFI HTTP boot (19): FILE is a URL",
            Self::Bios => "BIOS PXE (option 93 = 0), iPXE boot ROMs on BIOS machines included",
            Self::EfiIa32 => "32-bit x86 UEFI PXE (6)",
            Self::EfiX64 => "x64 UEFI PXE (7, and 9 as some firmware sends)",
            Self::EfiArm64 => "ARM64 UEFI PXE (11)",
        }
    }

    /// The rules giving this class `file` (more than one when the class also
    /// covers an iPXE boot ROM).
    fn rules(self, file: &str, next_server: Option<Ipv4Addr>) -> Vec<Rule> {
        let mut r = Rule::new(self.name());
        r.then.next_server = next_server;
        let arch = |r: &mut Rule, a: Arch| {
            r.when.arch = vec![a];
            r.then.boot_file = Some(file.to_string());
        };
        match self {
            Self::Ipxe => {
                r.when.ipxe = Some(true);
                r.then.ipxe_script = Some(file.to_string());
            }
            Self::HttpX64 | Self::HttpArm64 => {
                r.when.firmware = vec![FirmwareKind::UefiHttp];
                r.when.arch = vec![if self == Self::HttpX64 {
                    Arch::X64_UEFI_HTTP
                } else {
                    Arch::ARM64_UEFI_HTTP
                }];
                r.then.http_url = Some(file.to_string());
            }
            Self::Bios => {
                r.when.firmware = vec![FirmwareKind::BiosPxe];
                r.then.boot_file = Some(file.to_string());
                let mut rom = Rule::new("bios (iPXE boot ROM)");
                rom.when.ipxe = Some(true);
                rom.when.arch = vec![Arch::X86_BIOS];
                rom.then = r.then.clone();
                return vec![r, rom];
            }
            Self::EfiIa32 => arch(&mut r, Arch::X86_UEFI),
            Self::EfiX64 => arch(&mut r, Arch::X64_UEFI),
            Self::EfiArm64 => arch(&mut r, Arch::ARM64_UEFI),
        }
        vec![r]
    }
}

impl fmt::Display for BootClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a class name or boot file is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BootFileError {
    /// `CLASS=` names no known class.
    #[error(
        "unknown client class {0:?} (known: ipxe, http-x64, http-arm64, bios, efi-ia32, efi-x64, efi-arm64)"
    )]
    UnknownClass(String),
    /// The file name is empty.
    #[error("empty file name in {0:?}")]
    Empty(String),
}

impl FromStr for BootClass {
    type Err = BootFileError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name() == s)
            .ok_or_else(|| BootFileError::UnknownClass(s.to_string()))
    }
}

/// One boot file for a class of clients (`None`: every client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BootFile {
    /// The class, `None` for every client.
    pub class: Option<BootClass>,
    /// File name or URL.
    pub file: String,
}

impl FromStr for BootFile {
    type Err = BootFileError;

    /// Parses `CLASS=FILE` or `FILE`. A `=` inside a path (`boot/a=b.efi`) belongs
    /// to the file name; a word without `/` or `.` before `=` must be a class.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some((c, f)) = s.split_once('=') {
            if let Ok(class) = c.parse::<BootClass>() {
                if f.is_empty() {
                    return Err(BootFileError::Empty(s.to_string()));
                }
                return Ok(Self {
                    class: Some(class),
                    file: f.into(),
                });
            }
            if !c.contains('/') && !c.contains('.') {
                return Err(BootFileError::UnknownClass(c.to_string()));
            }
        }
        if s.is_empty() {
            return Err(BootFileError::Empty(s.to_string()));
        }
        Ok(Self {
            class: None,
            file: s.into(),
        })
    }
}

/// The policy for `files`: the classes' rules in [`BootClass::ALL`] order (a class's
/// files in the order given), then the files for every client. `next_server` is
/// every rule's `siaddr`. A bare `http://` or `https://` file also serves UEFI HTTP
/// boot clients.
pub fn policy(files: &[BootFile], next_server: Option<Ipv4Addr>) -> Policy {
    let mut rules = Vec::new();
    for class in BootClass::ALL {
        for f in files.iter().filter(|f| f.class == Some(class)) {
            rules.extend(class.rules(&f.file, next_server));
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

    fn file(s: &str) -> BootFile {
        s.parse().unwrap()
    }

    #[test]
    fn classes_and_bare_files() {
        assert_eq!(file("pxelinux.0").class, None);
        let b = file("efi-x64=grubx64.efi");
        assert_eq!(
            (b.class, b.file.as_str()),
            (Some(BootClass::EfiX64), "grubx64.efi")
        );
        assert_eq!(
            "efi-x65=a".parse::<BootFile>(),
            Err(BootFileError::UnknownClass("efi-x65".into()))
        );
        assert!(matches!(
            "bios=".parse::<BootFile>(),
            Err(BootFileError::Empty(_))
        ));
        // A '=' inside a path is a file name.
        assert_eq!(file("boot/a=b.efi").class, None);
        let p = policy(
            &[file("undionly.kpxe"), file("ipxe=http://x/boot.ipxe")],
            None,
        );
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ipxe", "all"]);
    }

    #[test]
    fn architecture_classes_also_serve_ipxe_boot_roms() {
        let p = policy(
            &[file("bios=pxelinux.0"), file("efi-x64=undionly.kpxe")],
            None,
        );
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["bios", "bios (iPXE boot ROM)", "efi-x64"]);
        assert_eq!(p.rules[1].when.ipxe, Some(true));
        assert_eq!(p.rules[1].when.arch, vec![Arch::X86_BIOS]);
        assert_eq!(p.rules[1].then.boot_file.as_deref(), Some("pxelinux.0"));
        // No `ipxe = false`: the policy itself refuses iPXE binaries to iPXE.
        assert_eq!(p.rules[2].when.ipxe, None);
    }

    #[test]
    fn ipxe_comes_first_whatever_the_order_given() {
        let ns = Some(Ipv4Addr::new(192, 0, 2, 5));
        let p = policy(
            &[
                file("efi-arm64=a.efi"),
                file("http-x64=http://x/b.efi"),
                file("ipxe=s.ipxe"),
            ],
            ns,
        );
        let names: Vec<_> = p.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["ipxe", "http-x64", "efi-arm64"]);
        assert!(p.rules.iter().all(|r| r.then.next_server == ns));
    }

    #[test]
    fn http_classes_follow_the_architecture() {
        use crate::wire::message::Message;
        let p = policy(
            &[
                file("http-x64=http://x/x64.efi"),
                file("http-arm64=http://x/aa64.efi"),
            ],
            None,
        );
        for (vc, want) in [
            (
                &b"HTTPClient:Arch:00016:UNDI:003001"[..],
                "http://x/x64.efi",
            ),
            (
                &b"HTTPClient:Arch:00019:UNDI:003001"[..],
                "http://x/aa64.efi",
            ),
        ] {
            let mut m = Message::default();
            m.options.insert(60, vc.to_vec());
            let d = p.decide(&crate::Client::classify(&m));
            assert_eq!(d.target.map(|t| t.file).as_deref(), Some(want));
        }
    }
}
