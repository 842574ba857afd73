//! Option 97, client machine identifier (RFC 4578 §2.3): type 0 followed by a 16-byte GUID.
//!
//! Some Intel ROMs leave the option out, and some firmware sends the 16 bytes without
//! the type byte or with another type; those forms are kept as [`MachineId::Other`]
//! and echoed back unchanged.

use std::fmt;

/// A decoded option 97.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MachineId {
    /// Type 0 and a 16-byte GUID (the SMBIOS UUID).
    Guid([u8; 16]),
    /// Any other payload, byte for byte.
    Other(Vec<u8>),
}

impl MachineId {
    /// Parses the payload.
    pub fn decode(data: &[u8]) -> Self {
        match data.split_first() {
            Some((0, rest)) if rest.len() == 16 => {
                let mut g = [0; 16];
                g.copy_from_slice(rest);
                Self::Guid(g)
            }
            _ => Self::Other(data.to_vec()),
        }
    }

    /// Writes the payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Guid(g) => {
                let mut v = vec![0];
                v.extend_from_slice(g);
                v
            }
            Self::Other(b) => b.clone(),
        }
    }

    /// The GUID, for the standard form and for a bare 16-byte payload.
    pub fn guid(&self) -> Option<[u8; 16]> {
        match self {
            Self::Guid(g) => Some(*g),
            Self::Other(b) if b.len() == 16 => <[u8; 16]>::try_from(b.as_slice()).ok(),
            Self::Other(_) => None,
        }
    }
}

impl fmt::Display for MachineId {
    /// The GUID as 8-4-4-4-12 hex digits in wire order, or the raw bytes in hex.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.guid() {
            Some(g) => {
                for (i, b) in g.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        f.write_str("-")?;
                    }
                    write!(f, "{b:02x}")?;
                }
                Ok(())
            }
            None => self.encode().iter().try_for_each(|b| write!(f, "{b:02x}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_form() {
        let mut p = vec![0];
        p.extend(1..=16u8);
        let m = MachineId::decode(&p);
        assert_eq!(m.guid().unwrap()[0], 1);
        assert_eq!(m.encode(), p);
        assert_eq!(m.to_string(), "01020304-0506-0708-090a-0b0c0d0e0f10");
    }

    #[test]
    fn odd_forms_are_kept() {
        let bare: Vec<u8> = (1..=16).collect();
        let m = MachineId::decode(&bare);
        assert!(matches!(m, MachineId::Other(_)));
        assert_eq!(m.guid().unwrap()[15], 16);
        assert_eq!(MachineId::decode(&[]).encode(), Vec::<u8>::new());
        assert_eq!(MachineId::decode(&[1, 2, 3]).to_string(), "010203");
    }
}
