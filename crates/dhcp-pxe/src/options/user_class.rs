//! Option 77, user class.
//!
//! RFC 3004 §4 frames the payload as one or more `length, data` instances. iPXE
//! sends the four raw bytes `iPXE` instead (not framed: read as RFC 3004 it would
//! claim 105 bytes), so both forms are kept: [`UserClass::Rfc3004`] when the framing
//! consumes the payload exactly with non-empty entries, [`UserClass::Raw`] otherwise.

/// A decoded option 77.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum UserClass {
    /// RFC 3004 instances, each 1–255 bytes.
    Rfc3004(Vec<Vec<u8>>),
    /// An unframed payload such as iPXE's `iPXE`.
    Raw(Vec<u8>),
}

impl UserClass {
    /// Parses the payload.
    pub fn decode(data: &[u8]) -> Self {
        let mut items = Vec::new();
        let mut i = 0;
        while i < data.len() {
            let n = usize::from(data[i]);
            match data.get(i + 1..i + 1 + n) {
                Some(item) if n > 0 => items.push(item.to_vec()),
                _ => return Self::Raw(data.to_vec()),
            }
            i += 1 + n;
        }
        if items.is_empty() {
            Self::Raw(data.to_vec())
        } else {
            Self::Rfc3004(items)
        }
    }

    /// Writes the payload; an RFC 3004 entry must be 1–255 bytes.
    pub fn encode(&self) -> Result<Vec<u8>, crate::Error> {
        match self {
            Self::Raw(b) => Ok(b.clone()),
            Self::Rfc3004(items) => {
                let mut out = Vec::new();
                for it in items {
                    let n = u8::try_from(it.len()).ok().filter(|n| *n > 0).ok_or(
                        crate::Error::Unencodable {
                            code: 77,
                            reason: "a user class must be 1 to 255 bytes",
                        },
                    )?;
                    out.push(n);
                    out.extend_from_slice(it);
                }
                Ok(out)
            }
        }
    }

    /// Every class: the instances, or the raw payload as one.
    pub fn classes(&self) -> Vec<&[u8]> {
        match self {
            Self::Rfc3004(items) => items.iter().map(Vec::as_slice).collect(),
            Self::Raw(b) => vec![b.as_slice()],
        }
    }

    /// Whether any class equals `name`.
    pub fn has(&self, name: &[u8]) -> bool {
        self.classes().contains(&name)
    }

    /// Whether this is iPXE's user class (`iPXE`, raw or framed).
    pub fn is_ipxe(&self) -> bool {
        self.has(b"iPXE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipxe_raw() {
        let u = UserClass::decode(b"iPXE");
        assert_eq!(u, UserClass::Raw(b"iPXE".to_vec()));
        assert!(u.is_ipxe());
        assert_eq!(u.encode().unwrap(), b"iPXE");
    }

    #[test]
    fn rfc3004_framing() {
        let b = [4, b'i', b'P', b'X', b'E', 2, b'a', b'b'];
        let u = UserClass::decode(&b);
        assert_eq!(u.classes(), [&b"iPXE"[..], b"ab"]);
        assert!(u.is_ipxe());
        assert_eq!(u.encode().unwrap(), b);
        assert!(UserClass::Rfc3004(vec![vec![]]).encode().is_err());
        assert!(matches!(UserClass::decode(&[0]), UserClass::Raw(_)));
        assert!(!UserClass::decode(b"gPXE").is_ipxe());
    }
}
