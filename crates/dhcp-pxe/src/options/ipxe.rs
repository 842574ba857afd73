//! Option 175, iPXE encapsulated options (iPXE `include/ipxe/dhcp.h`, `features.h`).
//!
//! iPXE puts its own sub-options in option 175: feature flags in 0x10–0x7f (the
//! presence of a code says "this build supports it"; the payload is a version byte),
//! and settings such as priority (1), keep-san (8), skip-san-boot (9), bus id (177) and
//! its version (235). Every sub-option is kept in order with its bytes.

use super::{parse_tlv, write_tlv};
use crate::error::DecodeError;
use crate::wire::code::codes;

macro_rules! features {
    ($( $code:literal, $konst:ident, $name:literal; )*) => {
        /// An iPXE feature flag (a sub-option code in 0x10–0x7f).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct Feature(pub u8);
        impl Feature {
            $( #[doc = $name] pub const $konst: Self = Self($code); )*
        }
        /// Known feature flags: code and name.
        pub const FEATURES: &[(u8, &str)] = &[ $( ($code, $name), )* ];
    };
}

features! {
    0x10, PXE_EXT, "PXE API extensions";
    0x11, ISCSI, "iSCSI";
    0x12, AOE, "AoE";
    0x13, HTTP, "HTTP";
    0x14, HTTPS, "HTTPS";
    0x15, TFTP, "TFTP";
    0x16, FTP, "FTP";
    0x17, DNS, "DNS";
    0x18, BZIMAGE, "bzImage";
    0x19, MULTIBOOT, "Multiboot";
    0x1a, SLAM, "SLAM";
    0x1b, SRP, "SRP";
    0x20, NBI, "NBI";
    0x21, PXE, "PXE image";
    0x22, ELF, "ELF";
    0x23, COMBOOT, "COMBOOT";
    0x24, EFI, "EFI image";
    0x25, FCOE, "FCoE";
    0x26, VLAN, "VLAN";
    0x27, MENU, "menu";
    0x28, SDI, "SDI";
    0x29, NFS, "NFS";
}

impl Feature {
    /// The feature's name, if known.
    pub fn name(self) -> Option<&'static str> {
        FEATURES.iter().find(|f| f.0 == self.0).map(|f| f.1)
    }
}

/// Sub-option 1: boot priority (signed).
pub const PRIORITY: u8 = 1;
/// Sub-option 8: keep the SAN device after boot.
pub const KEEP_SAN: u8 = 8;
/// Sub-option 9: skip booting from the SAN device.
pub const SKIP_SAN_BOOT: u8 = 9;
/// Sub-option 177: bus id.
pub const BUS_ID: u8 = 177;
/// Sub-option 235: version (major, minor, build bytes).
pub const VERSION: u8 = 235;

/// A decoded option 175: every sub-option in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct IpxeOptions(pub Vec<(u8, Vec<u8>)>);

impl IpxeOptions {
    /// Parses the sub-options (pads skipped, 255 ends).
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        parse_tlv(data, codes::IPXE).map(Self)
    }

    /// Writes the sub-options (no End: iPXE does not send one).
    pub fn encode(&self) -> Result<Vec<u8>, crate::Error> {
        write_tlv(&self.0, codes::IPXE)
    }

    /// The payload of sub-option `code`.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| d.as_slice())
    }

    /// Feature flags the client announced, in order.
    pub fn features(&self) -> Vec<Feature> {
        self.0
            .iter()
            .filter(|(c, _)| (0x10..=0x7f).contains(c))
            .map(|(c, _)| Feature(*c))
            .collect()
    }

    /// Whether the client announced `feature`.
    pub fn has(&self, feature: Feature) -> bool {
        self.get(feature.0).is_some()
    }

    /// The version (235) as (major, minor, build), when it has that three-byte form.
    pub fn version(&self) -> Option<(u8, u8, u8)> {
        match self.get(VERSION) {
            Some(&[a, b, c]) => Some((a, b, c)),
            _ => None,
        }
    }

    /// The bus id (177): bus type and location, raw.
    pub fn bus_id(&self) -> Option<&[u8]> {
        self.get(BUS_ID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn features_and_version() {
        let b = [0x13, 1, 1, 0x15, 1, 1, 0x24, 1, 1, 235, 3, 1, 21, 0];
        let o = IpxeOptions::decode(&b).unwrap();
        assert_eq!(o.features(), [Feature::HTTP, Feature::TFTP, Feature::EFI]);
        assert!(o.has(Feature::HTTP) && !o.has(Feature::HTTPS));
        assert_eq!(o.version(), Some((1, 21, 0)));
        assert_eq!(o.encode().unwrap(), b);
        assert_eq!(Feature::HTTPS.name(), Some("HTTPS"));
    }

    #[test]
    fn overrun_fails() {
        assert!(IpxeOptions::decode(&[0x13, 4, 1]).is_err());
    }
}
