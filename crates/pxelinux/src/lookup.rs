//! The order in which PXELINUX requests configuration files (core/fs/pxe/pxe.c,
//! `pxe_open_config`): option 209, `pxelinux.cfg/<uuid>`, `pxelinux.cfg/01-<mac>`,
//! the IPv4 address as eight upper-case hex digits shortened one digit at a time,
//! then `pxelinux.cfg/default`. All names are relative to the prefix.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use crate::error::Error;

/// A hardware address as PXELINUX formats it (`BOOTIF=`): `hwtype-aa-bb-…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mac(pub [u8; 6]);

impl FromStr for Mac {
    type Err = Error;

    /// Accepts `52:54:00:12:34:56`, `52-54-00-12-34-56`, `525400123456` and a
    /// leading `01-` ARP type.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidAddress {
            kind: "MAC",
            value: s.to_string(),
        };
        let mut t = s.trim();
        if t.len() == 20 && t.starts_with("01-") {
            t = &t[3..];
        }
        let hex: String = t
            .chars()
            .filter(|c| !matches!(c, ':' | '-' | '.'))
            .collect();
        if hex.len() != 12 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let mut out = [0u8; 6];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
        }
        Ok(Self(out))
    }
}

impl Mac {
    /// The per-host file name: `01-aa-bb-cc-dd-ee-ff` (Ethernet ARP type, lower case).
    pub fn file_name(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        format!("01-{}", parts.join("-"))
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|b| format!("{b:02x}")).collect();
        f.write_str(&parts.join(":"))
    }
}

/// A client UUID (DHCP option 97), kept in wire byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Uuid(pub [u8; 16]);

impl FromStr for Uuid {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let hex: String = s.trim().chars().filter(|&c| c != '-').collect();
        if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::InvalidAddress {
                kind: "UUID",
                value: s.to_string(),
            });
        }
        let mut out = [0u8; 16];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex");
        }
        Ok(Self(out))
    }
}

impl fmt::Display for Uuid {
    /// Lower case, dashes after 4, 6, 8 and 10 bytes (as `SYSUUID=` prints it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The IPv4 address as PXELINUX names its file: eight upper-case hex digits.
pub fn hex_ip(ip: Ipv4Addr) -> String {
    format!("{:08X}", u32::from(ip))
}

/// What PXELINUX knows about the client when it looks for its configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    /// The boot interface's MAC address.
    pub mac: Mac,
    /// The address DHCP gave (`None`: the hex-IP names are skipped).
    pub ip: Option<Ipv4Addr>,
    /// The client UUID from option 97, if sent.
    pub uuid: Option<Uuid>,
    /// DHCP option 209 (configuration file), if the server sent it.
    pub config_file: Option<String>,
    /// DHCP option 210 (path prefix), if the server sent it.
    pub path_prefix: Option<String>,
}

impl Client {
    /// A client known only by its MAC.
    pub fn new(mac: Mac) -> Self {
        Self {
            mac,
            ip: None,
            uuid: None,
            config_file: None,
            path_prefix: None,
        }
    }

    /// The names PXELINUX requests, in order, relative to the prefix
    /// (see [`Client::prefix`]).
    pub fn candidates(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(f) = &self.config_file {
            out.push(f.clone());
        }
        if let Some(u) = &self.uuid {
            out.push(format!("pxelinux.cfg/{u}"));
        }
        out.push(format!("pxelinux.cfg/{}", self.mac.file_name()));
        if let Some(ip) = self.ip {
            let hex = hex_ip(ip);
            for len in (1..=8).rev() {
                out.push(format!("pxelinux.cfg/{}", &hex[..len]));
            }
        }
        out.push("pxelinux.cfg/default".to_string());
        out
    }

    /// The prefix: option 210 when given, else the directory of `boot_file`.
    pub fn prefix(&self, boot_file: &str) -> String {
        match &self.path_prefix {
            Some(p) => p.clone(),
            None => crate::resolve::prefix_of_boot_file(boot_file),
        }
    }
}

/// Why a file in `pxelinux.cfg/` would never be requested, if it would not.
pub fn unrequested_name(name: &str) -> Option<String> {
    let is_hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    if name == "default" {
        return None;
    }
    let uuid_shape = name.len() == 36
        && name.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && name.split('-').all(is_hex);
    if uuid_shape {
        return name.bytes().any(|b| b.is_ascii_uppercase()).then(|| {
            format!(
                "PXELINUX asks for UUIDs in lower case: `{}`",
                name.to_ascii_lowercase()
            )
        });
    }
    let dashed: Vec<&str> = name.split(['-', ':']).collect();
    if dashed.len() == 7 && dashed.iter().all(|p| p.len() == 2 && is_hex(p)) {
        if name.contains(':') {
            return Some(format!(
                "PXELINUX asks for `{}`, with dashes",
                name.replace(':', "-").to_ascii_lowercase()
            ));
        }
        if name.bytes().any(|b| b.is_ascii_uppercase()) {
            return Some(format!(
                "PXELINUX asks for `{}` in lower case",
                name.to_ascii_lowercase()
            ));
        }
        return None;
    }
    if dashed.len() == 6 && dashed.iter().all(|p| p.len() == 2 && is_hex(p)) {
        return Some(format!(
            "a MAC file name needs the ARP type: `01-{}`",
            name.replace(':', "-").to_ascii_lowercase()
        ));
    }
    if is_hex(name) && name.len() <= 8 {
        if name.bytes().any(|b| b.is_ascii_lowercase()) {
            return Some(format!(
                "PXELINUX asks for hex IP names in upper case: `{}`",
                name.to_ascii_uppercase()
            ));
        }
        return None;
    }
    if is_hex(name) && name.len() > 8 {
        return Some("a hex IP name has at most 8 digits".to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_matches_the_wire() {
        let mut c = Client::new("52:54:00:12:34:56".parse().unwrap());
        c.ip = Some(Ipv4Addr::new(192, 0, 2, 157));
        let names = c.candidates();
        assert_eq!(names[0], "pxelinux.cfg/01-52-54-00-12-34-56");
        assert_eq!(names[1], "pxelinux.cfg/C000029D");
        assert_eq!(names[2], "pxelinux.cfg/C000029");
        assert_eq!(names[8], "pxelinux.cfg/C");
        assert_eq!(names[9], "pxelinux.cfg/default");
        assert_eq!(names.len(), 10);
    }

    #[test]
    fn uuid_and_option_209_come_first() {
        let mut c = Client::new("AA-BB-CC-DD-EE-FF".parse().unwrap());
        c.uuid = Some("B8945908-D6A6-41A9-611D-74A6AB80B83D".parse().unwrap());
        c.config_file = Some("boot/custom.cfg".into());
        let names = c.candidates();
        assert_eq!(names[0], "boot/custom.cfg");
        assert_eq!(
            names[1],
            "pxelinux.cfg/b8945908-d6a6-41a9-611d-74a6ab80b83d"
        );
        assert_eq!(names[2], "pxelinux.cfg/01-aa-bb-cc-dd-ee-ff");
        assert_eq!(names[3], "pxelinux.cfg/default");
    }

    #[test]
    fn bad_file_names_are_explained() {
        assert!(unrequested_name("01-52-54-00-12-34-56").is_none());
        assert!(unrequested_name("01-52-54-00-AB-34-56")
            .unwrap()
            .contains("lower case"));
        assert!(unrequested_name("52-54-00-12-34-56")
            .unwrap()
            .contains("ARP type"));
        assert!(unrequested_name("c000029d").unwrap().contains("upper case"));
        assert!(unrequested_name("C000029D").is_none());
        assert!(unrequested_name("menu.cfg").is_none());
        assert!(unrequested_name("b8945908-d6a6-41a9-611d-74a6ab80b83d").is_none());
        assert!(unrequested_name("B8945908-D6A6-41A9-611D-74A6AB80B83D")
            .unwrap()
            .contains("lower case"));
        assert!("zz:54:00:12:34:56".parse::<Mac>().is_err());
    }
}
