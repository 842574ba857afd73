//! `[[host]]`: a boot file for one machine, by MAC, in full and proxy modes. Each host
//! becomes a policy rule tried before the class rules, named `host MAC` in `explain`.

use std::net::Ipv4Addr;

use anyhow::{bail, Result};
use dhcp_pxe::policy::{is_ipxe_binary, Rule};
use serde::Deserialize;
use toml::Spanned;

use crate::location::Source;
use crate::values::parse_mac;

/// One `[[host]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostToml {
    mac: Spanned<String>,
    boot_file: Spanned<String>,
    ipxe_script: Option<Spanned<String>>,
}

fn is_url(f: &str) -> bool {
    f.starts_with("http://") || f.starts_with("https://")
}

/// The rule for one host: firmware gets `boot_file` (a URL also serves UEFI HTTP
/// boot), iPXE gets `ipxe_script`; an iPXE binary is never handed to iPXE (the
/// policy's loop protection then falls through to the `ipxe` class).
pub(crate) fn host_rule(
    mac: [u8; 6],
    boot_file: &str,
    ipxe_script: Option<&str>,
    next_server: Option<Ipv4Addr>,
) -> Rule {
    let name = mac
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":");
    let mut r = Rule::new(format!("host {name}"));
    r.when.mac_prefix = Some(mac.to_vec());
    r.then.boot_file = Some(boot_file.to_string());
    if is_url(boot_file) {
        r.then.http_url = Some(boot_file.to_string());
    }
    r.then.ipxe_script = ipxe_script.map(str::to_string);
    r.then.next_server = next_server;
    r
}

/// The rules for every `[[host]]`, in file order; a MAC given twice is an error at
/// its second place.
pub(crate) fn host_rules(
    hosts: &[Spanned<HostToml>],
    src: &Source<'_>,
    next_server: Option<Ipv4Addr>,
) -> Result<Vec<Rule>> {
    let mut seen = Vec::new();
    let mut rules = Vec::new();
    for h in hosts {
        let h = h.get_ref();
        let mac = src.check(&h.mac, "host: ", |m| {
            let mac = parse_mac(m)?;
            if seen.contains(&mac) {
                bail!("MAC {m} has a [[host]] table already");
            }
            Ok(mac)
        })?;
        seen.push(mac);
        let nonempty = |f: &String| {
            if f.is_empty() {
                bail!("empty file name");
            }
            Ok(f.clone())
        };
        let file = src.check(&h.boot_file, "host: ", nonempty)?;
        let script = h
            .ipxe_script
            .as_ref()
            .map(|s| src.check(s, "host: ", nonempty))
            .transpose()?;
        if let Some(s) = &script {
            if is_ipxe_binary(s) {
                return Err(src.error(
                    h.ipxe_script.as_ref().map_or(0..0, Spanned::span),
                    format_args!("host: ipxe_script {s:?} is an iPXE binary (chainload loop)"),
                ));
            }
        }
        rules.push(host_rule(mac, &file, script.as_deref(), next_server));
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcp_pxe::wire::message::Message;
    use dhcp_pxe::{Client, Policy};

    fn client(mac: [u8; 6], opts: &[(u8, &[u8])]) -> Client {
        let mut m = Message::default();
        m.chaddr[..6].copy_from_slice(&mac);
        for (c, d) in opts {
            m.options.insert(*c, d.to_vec());
        }
        Client::classify(&m)
    }

    const MAC: [u8; 6] = [0x52, 0x54, 0, 0x12, 0x34, 0x56];
    const BIOS: &[u8] = b"PXEClient:Arch:00000:UNDI:002001";

    #[test]
    fn host_gets_its_file_and_ipxe_its_http_script() {
        let mut all = Rule::new("all");
        all.then.boot_file = Some("pxelinux.0".into());
        let host = host_rule(
            MAC,
            "undionly.kpxe",
            Some("http://192.0.2.1/host.ipxe"),
            None,
        );
        let p = Policy::new(vec![host, all]);
        let fw = p.decide(&client(MAC, &[(60, BIOS)]));
        assert_eq!(fw.explanation.chosen(), Some("host 52:54:00:12:34:56"));
        assert_eq!(fw.target.unwrap().file, "undionly.kpxe");
        let ipxe = p.decide(&client(MAC, &[(60, BIOS), (77, b"iPXE")]));
        let t = ipxe.target.unwrap();
        assert_eq!(
            (t.file.as_str(), t.http),
            ("http://192.0.2.1/host.ipxe", true)
        );
        let other = p.decide(&client([2, 0, 0, 0, 0, 1], &[(60, BIOS)]));
        assert_eq!(other.explanation.chosen(), Some("all"));
    }

    #[test]
    fn ipxe_binary_for_the_host_falls_through_for_ipxe() {
        let mut ipxe = Rule::new("ipxe");
        ipxe.when.ipxe = Some(true);
        ipxe.then.ipxe_script = Some("http://192.0.2.1/boot.ipxe".into());
        let p = Policy::new(vec![host_rule(MAC, "undionly.kpxe", None, None), ipxe]);
        let d = p.decide(&client(MAC, &[(77, b"iPXE")]));
        assert_eq!(d.explanation.chosen(), Some("ipxe"));
    }
}
