//! Option 82, relay agent information (RFC 3046 §2.0): sub-options such as circuit id (1)
//! and remote id (2). A server keeps it and echoes it unchanged in its reply (§2.2);
//! the wire layer writes it last.

use super::{parse_tlv, write_tlv};
use crate::error::DecodeError;
use crate::wire::code::codes;

/// Sub-option 1: agent circuit id.
pub const CIRCUIT_ID: u8 = 1;
/// Sub-option 2: agent remote id.
pub const REMOTE_ID: u8 = 2;
/// Sub-option 5: link selection (RFC 3527).
pub const LINK_SELECTION: u8 = 5;

/// A decoded option 82, with the original payload kept for the echo.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelayInfo {
    /// Sub-options in order.
    pub sub_options: Vec<(u8, Vec<u8>)>,
    /// The payload exactly as received.
    pub raw: Vec<u8>,
}

impl RelayInfo {
    /// Parses the payload.
    pub fn decode(data: &[u8]) -> Result<Self, DecodeError> {
        Ok(Self {
            sub_options: parse_tlv(data, codes::RELAY_AGENT_INFO)?,
            raw: data.to_vec(),
        })
    }

    /// Builds the payload from sub-options.
    pub fn from_sub_options(sub_options: Vec<(u8, Vec<u8>)>) -> Result<Self, crate::Error> {
        let raw = write_tlv(&sub_options, codes::RELAY_AGENT_INFO)?;
        Ok(Self { sub_options, raw })
    }

    /// The payload to echo: the bytes as received.
    pub fn encode(&self) -> Vec<u8> {
        self.raw.clone()
    }

    /// The payload of sub-option `code`.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.sub_options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, d)| d.as_slice())
    }

    /// The circuit id (1).
    pub fn circuit_id(&self) -> Option<&[u8]> {
        self.get(CIRCUIT_ID)
    }

    /// The remote id (2).
    pub fn remote_id(&self) -> Option<&[u8]> {
        self.get(REMOTE_ID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn circuit_and_remote_id() {
        let b = [1, 3, b'e', b't', b'0', 2, 2, 0xaa, 0xbb];
        let r = RelayInfo::decode(&b).unwrap();
        assert_eq!(r.circuit_id(), Some(&b"et0"[..]));
        assert_eq!(r.remote_id(), Some(&[0xaa, 0xbb][..]));
        assert_eq!(r.encode(), b);
        let again = RelayInfo::from_sub_options(r.sub_options.clone()).unwrap();
        assert_eq!(again, r);
        assert!(RelayInfo::decode(&[1, 9]).is_err());
    }
}
