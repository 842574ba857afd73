//! Typed PXE-related options on top of the raw option list.
//!
//! | code | type | defined in |
//! |---|---|---|
//! | 43 | [`VendorOptions`] | PXE 2.1 §2.4 |
//! | 60 | [`VendorClass`] | RFC 2132 §9.13, PXE 2.1 §2.2 |
//! | 77 | [`UserClass`] | RFC 3004 (and iPXE's raw form) |
//! | 82 | [`RelayInfo`] | RFC 3046 |
//! | 93 | [`ArchList`] | RFC 4578 §2.1 |
//! | 94 | [`InterfaceId`] | RFC 4578 §2.2 |
//! | 97 | [`MachineId`] | RFC 4578 §2.3 |
//! | 175 | [`IpxeOptions`] | iPXE |
//!
//! [`PxeOption`] ties them to their codes, with [`PxeOption::Unknown`] keeping raw bytes.

pub mod arch;
pub mod class_id;
pub mod guid;
pub mod ipxe;
pub mod relay;
pub mod user_class;
pub mod vendor;

pub use arch::{Arch, ArchList, InterfaceId};
pub use class_id::{ClientFamily, VendorClass};
pub use guid::MachineId;
pub use ipxe::{Feature, IpxeOptions};
pub use relay::RelayInfo;
pub use user_class::UserClass;
pub use vendor::{VendorOption, VendorOptions};

use crate::error::DecodeError;
use crate::wire::code::codes;

/// A PXE-related option, typed, or any other option raw.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PxeOption {
    /// 43.
    Vendor(VendorOptions),
    /// 60.
    VendorClass(VendorClass),
    /// 77.
    UserClass(UserClass),
    /// 82.
    Relay(RelayInfo),
    /// 93.
    Arch(ArchList),
    /// 94.
    InterfaceId(InterfaceId),
    /// 97.
    MachineId(MachineId),
    /// 175.
    Ipxe(IpxeOptions),
    /// Any other code, or a typed one whose payload did not parse.
    Unknown {
        /// Option code.
        code: u8,
        /// Payload.
        data: Vec<u8>,
    },
}

impl PxeOption {
    /// Types a raw option. A payload that does not parse stays [`PxeOption::Unknown`].
    pub fn from_raw(code: u8, data: &[u8]) -> Self {
        let typed = match code {
            codes::VENDOR_SPECIFIC => VendorOptions::decode(data).ok().map(Self::Vendor),
            codes::VENDOR_CLASS => Some(Self::VendorClass(VendorClass::decode(data))),
            codes::USER_CLASS => Some(Self::UserClass(UserClass::decode(data))),
            codes::RELAY_AGENT_INFO => RelayInfo::decode(data).ok().map(Self::Relay),
            codes::CLIENT_ARCH => ArchList::decode(data).ok().map(Self::Arch),
            codes::CLIENT_NDI => InterfaceId::decode(data).ok().map(Self::InterfaceId),
            codes::CLIENT_MACHINE_ID => Some(Self::MachineId(MachineId::decode(data))),
            codes::IPXE => IpxeOptions::decode(data).ok().map(Self::Ipxe),
            _ => None,
        };
        typed.unwrap_or_else(|| Self::Unknown {
            code,
            data: data.to_vec(),
        })
    }

    /// The option code.
    pub fn code(&self) -> u8 {
        match self {
            Self::Vendor(_) => codes::VENDOR_SPECIFIC,
            Self::VendorClass(_) => codes::VENDOR_CLASS,
            Self::UserClass(_) => codes::USER_CLASS,
            Self::Relay(_) => codes::RELAY_AGENT_INFO,
            Self::Arch(_) => codes::CLIENT_ARCH,
            Self::InterfaceId(_) => codes::CLIENT_NDI,
            Self::MachineId(_) => codes::CLIENT_MACHINE_ID,
            Self::Ipxe(_) => codes::IPXE,
            Self::Unknown { code, .. } => *code,
        }
    }

    /// The payload bytes.
    pub fn to_raw(&self) -> Result<Vec<u8>, crate::Error> {
        Ok(match self {
            Self::Vendor(v) => v.encode()?,
            Self::VendorClass(v) => v.encode(),
            Self::UserClass(u) => u.encode()?,
            Self::Relay(r) => r.encode(),
            Self::Arch(a) => a.encode(),
            Self::InterfaceId(i) => i.encode(),
            Self::MachineId(m) => m.encode(),
            Self::Ipxe(i) => i.encode()?,
            Self::Unknown { data, .. } => data.clone(),
        })
    }
}

/// Parses `code, length, data` sub-options (pads skipped, 255 ends) of option `parent`.
pub(crate) fn parse_tlv(data: &[u8], parent: u8) -> Result<Vec<(u8, Vec<u8>)>, DecodeError> {
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&code) = data.get(i) {
        match code {
            0 => i += 1,
            255 => break,
            _ => {
                let body = data
                    .get(i + 1)
                    .and_then(|&n| data.get(i + 2..i + 2 + usize::from(n)))
                    .ok_or(DecodeError::Payload {
                        code: parent,
                        reason: "sub-option runs past the end of the option",
                    })?;
                out.push((code, body.to_vec()));
                i += 2 + body.len();
            }
        }
    }
    Ok(out)
}

/// Writes `code, length, data` sub-options; each must be at most 255 bytes.
pub(crate) fn write_tlv(items: &[(u8, Vec<u8>)], parent: u8) -> Result<Vec<u8>, crate::Error> {
    let mut out = Vec::new();
    for (code, data) in items {
        let n = u8::try_from(data.len()).map_err(|_| crate::Error::Unencodable {
            code: parent,
            reason: "sub-option longer than 255 bytes",
        })?;
        out.push(*code);
        out.push(n);
        out.extend_from_slice(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_and_unknown() {
        assert!(matches!(
            PxeOption::from_raw(93, &[0, 7]),
            PxeOption::Arch(_)
        ));
        assert!(matches!(
            PxeOption::from_raw(93, &[0]),
            PxeOption::Unknown { code: 93, .. }
        ));
        let o = PxeOption::from_raw(200, &[1, 2]);
        assert_eq!(o.code(), 200);
        assert_eq!(o.to_raw().unwrap(), [1, 2]);
    }

    #[test]
    fn tlv_round_trip_and_errors() {
        let items = vec![(1, vec![1, 2]), (2, vec![])];
        let b = write_tlv(&items, 82).unwrap();
        assert_eq!(parse_tlv(&b, 82).unwrap(), items);
        assert!(write_tlv(&[(1, vec![0; 256])], 82).is_err());
        assert!(parse_tlv(&[1], 82).is_err());
    }
}
