//! The per-host file names each loader requests, and checks of such names.
//!
//! GRUB's network boot tries, in its prefix directory: `grub.cfg-<UUID>`
//! (when DHCP gave one), `grub.cfg-01-<mac>` (lower-case hex, dashes),
//! `grub.cfg-<HEXIP>` (upper-case hex, then ever shorter prefixes), then
//! `grub.cfg`. iPXE has no such search: the default script written by
//! `pxecfg generate` chains `${uuid}.ipxe`, `${net0/mac:hexhyp}.ipxe` and
//! `${net0/ip}.ipxe` next to itself, in that order.

use std::net::Ipv4Addr;

use pxelinux::lookup::hex_ip;
use pxelinux::{Mac, Uuid};

/// Directory (under the output / TFTP root) of the iPXE scripts.
pub const IPXE_DIR: &str = "ipxe";
/// The iPXE script DHCP hands out: chains the per-host script, else the menu.
pub const IPXE_DEFAULT: &str = "boot.ipxe";
/// Directory (GRUB's prefix) of the GRUB configurations.
pub const GRUB_DIR: &str = "grub";
/// The configuration GRUB reads when no per-host one exists.
pub const GRUB_DEFAULT: &str = "grub.cfg";

/// The per-host script names the default iPXE script chains, in order
/// (iPXE expands them; `.ipxe` follows).
pub const IPXE_HOST_SCRIPTS: [&str; 3] = ["${uuid}", "${net0/mac:hexhyp}", "${net0/ip}"];

/// Which identity names a host's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostId<'a> {
    /// By MAC address.
    Mac(&'a Mac),
    /// By IPv4 address.
    Ip(Ipv4Addr),
    /// By UUID (DHCP option 97).
    Uuid(&'a Uuid),
}

/// `ipxe/52-54-00-12-34-56.ipxe`, `ipxe/192.0.2.157.ipxe`, `ipxe/<uuid>.ipxe`.
pub fn ipxe_host(id: HostId<'_>) -> String {
    let stem = match id {
        HostId::Mac(m) => hexhyp(m),
        HostId::Ip(ip) => ip.to_string(),
        HostId::Uuid(u) => u.to_string(),
    };
    format!("{IPXE_DIR}/{stem}.ipxe")
}

/// `grub/grub.cfg-01-52-54-00-12-34-56`, `grub/grub.cfg-C000029D`, `grub/grub.cfg-<uuid>`.
pub fn grub_host(id: HostId<'_>) -> String {
    let suffix = match id {
        HostId::Mac(m) => m.file_name(),
        HostId::Ip(ip) => hex_ip(ip),
        HostId::Uuid(u) => u.to_string(),
    };
    format!("{GRUB_DIR}/{GRUB_DEFAULT}-{suffix}")
}

/// The MAC as iPXE's `hexhyp` type prints it: `52-54-00-12-34-56`.
pub fn hexhyp(m: &Mac) -> String {
    m.0.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join("-")
}

/// Why GRUB never requests a file of this name (`grub.cfg-…`), if it does not.
pub fn grub_name_problem(name: &str) -> Option<String> {
    let suffix = name.strip_prefix("grub.cfg-")?;
    if let Some(mac) = suffix.strip_prefix("01-") {
        if is_mac(mac, '-', false) {
            return None;
        }
        return Some(format!(
            "GRUB requests `grub.cfg-01-` and the MAC as six lower-case hex pairs with dashes, not `{mac}`"
        ));
    }
    let hex = |s: &str| {
        s.bytes()
            .all(|c| c.is_ascii_digit() || (b'A'..=b'F').contains(&c))
    };
    if (1..=8).contains(&suffix.len()) && hex(suffix) {
        return None;
    }
    if suffix.len() == 36 && suffix.parse::<Uuid>().is_ok() && suffix == suffix.to_lowercase() {
        return None;
    }
    if suffix.parse::<std::net::Ipv6Addr>().is_ok() {
        return None;
    }
    if (1..=8).contains(&suffix.len()) && hex(&suffix.to_ascii_uppercase()) {
        return Some(format!(
            "GRUB requests the IPv4 address in upper-case hex: `grub.cfg-{}`",
            suffix.to_ascii_uppercase()
        ));
    }
    Some(format!(
        "`{suffix}` is no MAC (`01-aa-bb-…`), hex IPv4 address, IPv6 address or lower-case UUID"
    ))
}

/// Why the default iPXE script never chains a script of this name, for names
/// that look like a MAC address written another way.
pub fn ipxe_name_problem(name: &str) -> Option<String> {
    let stem = name.strip_suffix(".ipxe")?;
    let stem = stem.strip_prefix("01-").unwrap_or(stem);
    if is_mac(stem, '-', false) && !name.starts_with("01-") {
        return None;
    }
    if is_mac(stem, '-', true) || is_mac(stem, ':', true) {
        return Some(format!(
            "`${{net0/mac:hexhyp}}` is six lower-case hex pairs with dashes: `{}.ipxe`",
            stem.replace(':', "-").to_ascii_lowercase()
        ));
    }
    None
}

fn is_mac(s: &str, sep: char, any_case: bool) -> bool {
    let parts: Vec<&str> = s.split(sep).collect();
    parts.len() == 6
        && parts.iter().all(|p| {
            p.len() == 2
                && p.bytes().all(|c| {
                    c.is_ascii_digit()
                        || (b'a'..=b'f').contains(&c)
                        || any_case && (b'A'..=b'F').contains(&c)
                })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_loaders_request_them() {
        let m: Mac = "52:54:00:AB:cd:ef".parse().unwrap();
        assert_eq!(
            grub_host(HostId::Mac(&m)),
            "grub/grub.cfg-01-52-54-00-ab-cd-ef"
        );
        assert_eq!(ipxe_host(HostId::Mac(&m)), "ipxe/52-54-00-ab-cd-ef.ipxe");
        let ip: Ipv4Addr = "192.0.2.157".parse().unwrap();
        assert_eq!(grub_host(HostId::Ip(ip)), "grub/grub.cfg-C000029D");
        assert_eq!(ipxe_host(HostId::Ip(ip)), "ipxe/192.0.2.157.ipxe");
    }

    #[test]
    fn malformed_names_are_named() {
        assert_eq!(grub_name_problem("grub.cfg"), None);
        assert_eq!(grub_name_problem("grub.cfg-01-52-54-00-ab-cd-ef"), None);
        assert_eq!(grub_name_problem("grub.cfg-C0000"), None);
        assert_eq!(
            grub_name_problem("grub.cfg-7726a678-7fc0-4853-a4f6-c85ac36a120a"),
            None
        );
        assert!(grub_name_problem("grub.cfg-01-52-54-00-AB-cd-ef").is_some());
        assert!(grub_name_problem("grub.cfg-01-52:54:00:ab:cd:ef").is_some());
        assert!(grub_name_problem("grub.cfg-c000029d")
            .unwrap()
            .contains("C000029D"));
        assert!(grub_name_problem("grub.cfg-web1").is_some());
        assert_eq!(ipxe_name_problem("52-54-00-ab-cd-ef.ipxe"), None);
        assert_eq!(ipxe_name_problem("boot.ipxe"), None);
        assert!(ipxe_name_problem("52:54:00:ab:cd:ef.ipxe").is_some());
        assert!(ipxe_name_problem("52-54-00-AB-CD-EF.ipxe").is_some());
        assert!(ipxe_name_problem("01-52-54-00-ab-cd-ef.ipxe").is_some());
    }
}
