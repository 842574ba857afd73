//! Option 60, vendor class identifier, as PXE and UEFI HTTP boot clients send it.
//!
//! PXE 2.1 §2.2 fixes the form `PXEClient:Arch:xxxxx:UNDI:yyyzzz` (architecture as five
//! decimal digits, UNDI major and minor as three each); UEFI 2.x HTTP boot uses the same
//! layout with `HTTPClient`. Servers answer with the bare `PXEClient` or `HTTPClient`.
//! Anything else is kept verbatim in [`VendorClass::Other`].

use super::arch::Arch;

/// Which boot client family the vendor class names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClientFamily {
    /// `PXEClient`.
    Pxe,
    /// `HTTPClient`.
    Http,
}

impl ClientFamily {
    /// The identifier as written on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pxe => "PXEClient",
            Self::Http => "HTTPClient",
        }
    }
}

/// A decoded option 60.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VendorClass {
    /// `PXEClient` / `HTTPClient`, optionally with architecture and UNDI version.
    Boot {
        /// PXE or HTTP.
        family: ClientFamily,
        /// `Arch:xxxxx`.
        arch: Option<Arch>,
        /// `UNDI:yyyzzz` as (major, minor).
        undi: Option<(u16, u16)>,
    },
    /// Any other vendor class, byte for byte.
    Other(Vec<u8>),
}

fn digits(s: &str, n: usize) -> Option<u32> {
    (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

impl VendorClass {
    /// Parses the payload. Only the exact PXE 2.1 layouts are typed, so that
    /// [`VendorClass::encode`] gives back the same bytes.
    pub fn decode(data: &[u8]) -> Self {
        Self::parse(data).unwrap_or_else(|| Self::Other(data.to_vec()))
    }

    fn parse(data: &[u8]) -> Option<Self> {
        let s = std::str::from_utf8(data).ok()?;
        let mut parts = s.split(':');
        let family = match parts.next()? {
            "PXEClient" => ClientFamily::Pxe,
            "HTTPClient" => ClientFamily::Http,
            _ => return None,
        };
        let rest: Vec<&str> = parts.collect();
        let (arch, undi) = match rest.as_slice() {
            [] => (None, None),
            ["Arch", a] => (Some(digits(a, 5)?), None),
            ["Arch", a, "UNDI", u] => (Some(digits(a, 5)?), Some(digits(u, 6)?)),
            _ => return None,
        };
        let arch = match arch {
            Some(a) => Some(Arch(u16::try_from(a).ok()?)),
            None => None,
        };
        let undi = undi.map(|u| ((u / 1000) as u16, (u % 1000) as u16));
        Some(Self::Boot { family, arch, undi })
    }

    /// Writes the payload.
    pub fn encode(&self) -> Vec<u8> {
        match self {
            Self::Other(b) => b.clone(),
            Self::Boot { family, arch, undi } => {
                let mut s = family.as_str().to_string();
                if let Some(a) = arch {
                    s.push_str(&format!(":Arch:{:05}", a.0));
                    if let Some((maj, min)) = undi {
                        s.push_str(&format!(":UNDI:{:03}{:03}", maj % 1000, min % 1000));
                    }
                }
                s.into_bytes()
            }
        }
    }

    /// The bare identifier a server answers with.
    pub fn reply(family: ClientFamily) -> Self {
        Self::Boot {
            family,
            arch: None,
            undi: None,
        }
    }

    /// The client family, also for non-canonical strings that start with it.
    pub fn family(&self) -> Option<ClientFamily> {
        match self {
            Self::Boot { family, .. } => Some(*family),
            Self::Other(b) if b.starts_with(b"PXEClient") => Some(ClientFamily::Pxe),
            Self::Other(b) if b.starts_with(b"HTTPClient") => Some(ClientFamily::Http),
            Self::Other(_) => None,
        }
    }

    /// The architecture named in the string, if any.
    pub fn arch(&self) -> Option<Arch> {
        match self {
            Self::Boot { arch, .. } => *arch,
            Self::Other(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pxe_and_http_forms() {
        let v = VendorClass::decode(b"PXEClient:Arch:00007:UNDI:003001");
        assert_eq!(
            v,
            VendorClass::Boot {
                family: ClientFamily::Pxe,
                arch: Some(Arch(7)),
                undi: Some((3, 1))
            }
        );
        assert_eq!(v.encode(), b"PXEClient:Arch:00007:UNDI:003001");
        let h = VendorClass::decode(b"HTTPClient:Arch:00016");
        assert_eq!(h.family(), Some(ClientFamily::Http));
        assert_eq!(h.arch(), Some(Arch(16)));
        assert_eq!(VendorClass::reply(ClientFamily::Pxe).encode(), b"PXEClient");
    }

    #[test]
    fn anything_else_is_verbatim() {
        for s in [
            &b"MSFT 5.0"[..],
            b"PXEClient:Arch:7",
            b"PXEClient:Arch:99999",
            b"U-Boot.armv8",
        ] {
            let v = VendorClass::decode(s);
            assert!(matches!(v, VendorClass::Other(_)), "{s:?}");
            assert_eq!(v.encode(), s);
        }
        assert_eq!(
            VendorClass::decode(b"PXEClient:Arch:7").family(),
            Some(ClientFamily::Pxe)
        );
    }
}
