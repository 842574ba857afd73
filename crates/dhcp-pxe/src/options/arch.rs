//! Client system architecture (option 93) and network interface identifier (option 94).
//!
//! RFC 4578 §2.1 defines option 93 as a list of 16-bit architecture types; the values
//! live in the IANA "Processor Architecture Types" registry, reproduced in [`ARCHITECTURES`].
//!
//! RFC 4578's own table lists 7 as "EFI BC" and 9 as "EFI x86-64"; the IANA registry
//! (and most firmware) uses 7 for x64 UEFI and 9 for EBC. Firmware in the field sends
//! either for x64 machines, so [`Arch::is_x64_uefi`] and the boot policy treat both as
//! x64 UEFI.

use std::fmt;

use crate::error::DecodeError;
use crate::wire::code::codes;

/// A processor architecture type (IANA registry; RFC 4578 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arch(pub u16);

/// What a firmware family an architecture value implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Boot {
    /// Legacy BIOS PXE (or other non-UEFI network boot ROMs).
    Bios,
    /// UEFI PXE (TFTP).
    UefiPxe,
    /// UEFI HTTP boot.
    UefiHttp,
    /// U-Boot.
    UBoot,
    /// Other (Open Firmware, s390, rpiboot …).
    Other,
}

macro_rules! arches {
    ($( $v:literal, $konst:ident, $name:literal, $boot:ident; )*) => {
        impl Arch {
            $( #[doc = $name] pub const $konst: Self = Self($v); )*
        }
        /// The IANA Processor Architecture Types registry: value, name, boot family.
        pub const ARCHITECTURES: &[(u16, &str, Boot)] = &[ $( ($v, $name, Boot::$boot), )* ];
    };
}

arches! {
    0, X86_BIOS, "x86 BIOS", Bios;
    1, NEC_PC98, "NEC/PC98 (deprecated)", Other;
    2, ITANIUM, "Itanium", UefiPxe;
    3, DEC_ALPHA, "DEC Alpha (deprecated)", Other;
    4, ARC_X86, "Arc x86 (deprecated)", Other;
    5, INTEL_LEAN, "Intel Lean Client (deprecated)", Other;
    6, X86_UEFI, "x86 UEFI", UefiPxe;
    7, X64_UEFI, "x64 UEFI", UefiPxe;
    8, XSCALE_EFI, "EFI Xscale (deprecated)", UefiPxe;
    9, EBC, "EBC (sent by some x64 UEFI firmware)", UefiPxe;
    10, ARM32_UEFI, "ARM 32-bit UEFI", UefiPxe;
    11, ARM64_UEFI, "ARM 64-bit UEFI", UefiPxe;
    12, PPC_OPEN_FIRMWARE, "PowerPC Open Firmware", Other;
    13, PPC_EPAPR, "PowerPC ePAPR", Other;
    14, POWER_OPAL, "POWER OPAL v3", Other;
    15, X86_UEFI_HTTP, "x86 UEFI boot from HTTP", UefiHttp;
    16, X64_UEFI_HTTP, "x64 UEFI boot from HTTP", UefiHttp;
    17, EBC_HTTP, "EBC boot from HTTP", UefiHttp;
    18, ARM32_UEFI_HTTP, "ARM 32-bit UEFI boot from HTTP", UefiHttp;
    19, ARM64_UEFI_HTTP, "ARM 64-bit UEFI boot from HTTP", UefiHttp;
    20, PCAT_BIOS_HTTP, "PC/AT BIOS boot from HTTP", UefiHttp;
    21, ARM32_UBOOT, "ARM 32-bit uboot", UBoot;
    22, ARM64_UBOOT, "ARM 64-bit uboot", UBoot;
    23, ARM32_UBOOT_HTTP, "ARM uboot 32 boot from HTTP", UBoot;
    24, ARM64_UBOOT_HTTP, "ARM uboot 64 boot from HTTP", UBoot;
    25, RISCV32_UEFI, "RISC-V 32-bit UEFI", UefiPxe;
    26, RISCV32_UEFI_HTTP, "RISC-V 32-bit UEFI boot from HTTP", UefiHttp;
    27, RISCV64_UEFI, "RISC-V 64-bit UEFI", UefiPxe;
    28, RISCV64_UEFI_HTTP, "RISC-V 64-bit UEFI boot from HTTP", UefiHttp;
    29, RISCV128_UEFI, "RISC-V 128-bit UEFI", UefiPxe;
    30, RISCV128_UEFI_HTTP, "RISC-V 128-bit UEFI boot from HTTP", UefiHttp;
    31, S390_BASIC, "s390 Basic", Other;
    32, S390_EXTENDED, "s390 Extended", Other;
    33, MIPS32_UEFI, "MIPS 32-bit UEFI", UefiPxe;
    34, MIPS64_UEFI, "MIPS 64-bit UEFI", UefiPxe;
    35, SUNWAY32_UEFI, "Sunway 32-bit UEFI", UefiPxe;
    36, SUNWAY64_UEFI, "Sunway 64-bit UEFI", UefiPxe;
    37, LOONGARCH32_UEFI, "LoongArch 32-bit UEFI", UefiPxe;
    38, LOONGARCH32_UEFI_HTTP, "LoongArch 32-bit UEFI boot from HTTP", UefiHttp;
    39, LOONGARCH64_UEFI, "LoongArch 64-bit UEFI", UefiPxe;
    40, LOONGARCH64_UEFI_HTTP, "LoongArch 64-bit UEFI boot from HTTP", UefiHttp;
    41, ARM_RPIBOOT, "arm rpiboot", Other;
}

impl Arch {
    /// The registry name, if the value is assigned.
    pub fn name(self) -> Option<&'static str> {
        ARCHITECTURES
            .iter()
            .find(|(v, _, _)| *v == self.0)
            .map(|(_, n, _)| *n)
    }

    /// The boot family; unassigned values are [`Boot::Other`].
    pub fn boot(self) -> Boot {
        ARCHITECTURES
            .iter()
            .find(|(v, _, _)| *v == self.0)
            .map_or(Boot::Other, |(_, _, b)| *b)
    }

    /// Whether this is x64 UEFI: 7, or 9 as sent by firmware following RFC 4578's swapped text.
    pub fn is_x64_uefi(self) -> bool {
        self == Self::X64_UEFI || self == Self::EBC
    }

    /// The value used for matching: 9 is folded into 7 (see the module documentation).
    pub fn canonical(self) -> Self {
        if self.is_x64_uefi() {
            Self::X64_UEFI
        } else {
            self
        }
    }
}

impl fmt::Display for Arch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{} ({n})", self.0),
            None => write!(f, "{} (unassigned)", self.0),
        }
    }
}

impl From<dhcproto::v4::Architecture> for Arch {
    fn from(a: dhcproto::v4::Architecture) -> Self {
        Self(a.0)
    }
}

impl From<Arch> for dhcproto::v4::Architecture {
    fn from(a: Arch) -> Self {
        Self(a.0)
    }
}

/// Option 93: every architecture the client listed, in order (RFC 4578 §2.1).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArchList(pub Vec<Arch>);

impl ArchList {
    /// Parses the payload: a non-empty, even-length list of 16-bit values.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        if data.is_empty() || data.len() % 2 != 0 {
            return Err(DecodeError::Payload {
                code: codes::CLIENT_ARCH,
                reason: "length must be a non-zero multiple of 2",
            });
        }
        Ok(Self(
            data.chunks_exact(2)
                .map(|c| Arch(u16::from_be_bytes([c[0], c[1]])))
                .collect(),
        ))
    }

    /// Writes the payload.
    pub fn encode(&self) -> Vec<u8> {
        self.0.iter().flat_map(|a| a.0.to_be_bytes()).collect()
    }

    /// The first (preferred) architecture.
    pub fn primary(&self) -> Option<Arch> {
        self.0.first().copied()
    }
}

/// Option 94: client network interface identifier (RFC 4578 §2.2): type 1 = UNDI, major, minor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InterfaceId {
    /// Interface type (1 = UNDI).
    pub kind: u8,
    /// Major revision.
    pub major: u8,
    /// Minor revision.
    pub minor: u8,
}

impl InterfaceId {
    /// Parses the three-byte payload.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        match data {
            &[kind, major, minor] => Ok(Self { kind, major, minor }),
            _ => Err(DecodeError::Payload {
                code: codes::CLIENT_NDI,
                reason: "length must be 3",
            }),
        }
    }

    /// Writes the payload.
    pub fn encode(&self) -> Vec<u8> {
        vec![self.kind, self.major, self.minor]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_0_to_41_in_order() {
        let values: Vec<u16> = ARCHITECTURES.iter().map(|a| a.0).collect();
        assert_eq!(values, (0..=41).collect::<Vec<u16>>());
    }

    #[test]
    fn seven_and_nine_are_both_x64() {
        assert!(Arch(7).is_x64_uefi() && Arch(9).is_x64_uefi());
        assert!(!Arch(6).is_x64_uefi());
        assert_eq!(Arch(9).canonical(), Arch(7));
        assert_eq!(Arch(11).canonical(), Arch(11));
    }

    #[test]
    fn boot_families() {
        assert_eq!(Arch(0).boot(), Boot::Bios);
        assert_eq!(Arch(16).boot(), Boot::UefiHttp);
        assert_eq!(Arch(22).boot(), Boot::UBoot);
        assert_eq!(Arch(500).boot(), Boot::Other);
        assert_eq!(Arch(500).to_string(), "500 (unassigned)");
    }

    #[test]
    fn list_keeps_every_entry() {
        let l = ArchList::decode(&[0, 7, 0, 0, 0, 11]).unwrap();
        assert_eq!(l.0, [Arch(7), Arch(0), Arch(11)]);
        assert_eq!(l.encode(), [0, 7, 0, 0, 0, 11]);
        assert!(ArchList::decode(&[0]).is_err());
        assert!(ArchList::decode(&[]).is_err());
    }

    #[test]
    fn interface_id() {
        let i = InterfaceId::decode(&[1, 3, 16]).unwrap();
        assert_eq!((i.kind, i.major, i.minor), (1, 3, 16));
        assert_eq!(i.encode(), [1, 3, 16]);
        assert!(InterfaceId::decode(&[1, 2]).is_err());
    }
}
