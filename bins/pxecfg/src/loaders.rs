//! `pxecfg generate`, iPXE and GRUB part: the same profiles, menus and hosts
//! as the PXELINUX files, through the [`bootcfg`] writers. The inventory was
//! checked by [`crate::generate::plan`]; only what iPXE or GRUB cannot express
//! is reported here.

use std::collections::BTreeMap;

use bootcfg::lint::{detect, lint, Context};
use bootcfg::model::{Action, Entry, Menu, Serial, Source};
use bootcfg::names::{
    grub_host, ipxe_host, HostId, GRUB_DEFAULT, GRUB_DIR, IPXE_DEFAULT, IPXE_DIR,
};
use bootcfg::{grub, ipxe};
use pxelinux::{Mac, Severity, Uuid};

use crate::generate::{Planned, HEADER_TEXT};
use crate::inventory::{line_col, Format, Host, Inventory, NameBy, Profile};

/// Plan `ipxe/…` and `grub/…` for the formats asked for (PXELINUX is planned elsewhere).
pub fn plan(
    inv: &Inventory,
    text: &str,
    file: &str,
    formats: &[Format],
    errors: &mut Vec<String>,
) -> Vec<Planned> {
    let (want_ipxe, want_grub) = (
        formats.contains(&Format::Ipxe),
        formats.contains(&Format::Grub),
    );
    let mut out = Vec::new();
    if !want_ipxe && !want_grub {
        return out;
    }
    let at = |offset: usize| {
        let (l, c) = line_col(text, offset);
        format!("{file}:{l}:{c}")
    };
    let src = match Source::parse(inv.output.base_url.as_deref(), &inv.output.prefix) {
        Ok(s) => s,
        Err(e) => {
            errors.push(format!("{file}: [output] base_url: {e}"));
            return out;
        }
    };
    let mut entries = BTreeMap::new();
    for (name, p) in &inv.profiles {
        match entry(name, p.get_ref()) {
            Ok(e) => {
                entries.insert(name.as_str(), e);
            }
            Err(e) => errors.push(format!(
                "{}: profile `{name}`: {e} (needed for {})",
                at(p.span().start),
                loaders(want_ipxe, want_grub)
            )),
        }
    }
    let serial = inv.menu.serial.map(|s| Serial {
        port: s.port,
        baud: s.baud,
    });
    let menu_of = |names: &[String], default: Option<String>| Menu {
        title: inv.menu.title.clone(),
        timeout_tenths: inv.menu.timeout,
        default,
        entries: names
            .iter()
            .filter_map(|n| entries.get(n.as_str()).cloned())
            .collect(),
        serial,
    };
    let all: Vec<String> = match &inv.menu.entries {
        Some(list) => list.iter().map(|n| n.get_ref().clone()).collect(),
        None => inv.profiles.keys().cloned().collect(),
    };
    let default_menu = menu_of(&all, inv.menu.default.as_ref().map(|d| d.get_ref().clone()));
    let mut emit =
        |rel: String, r: Result<String, String>, what: &str, errors: &mut Vec<String>| match r {
            Ok(t) => {
                check(&rel, &t, file, errors);
                out.push((rel, t.into_bytes()));
            }
            Err(e) => errors.push(format!("{what}: {rel}: {e}")),
        };
    let ipxe_default = format!("{IPXE_DIR}/{IPXE_DEFAULT}");
    let grub_default = format!("{GRUB_DIR}/{GRUB_DEFAULT}");
    if want_ipxe {
        let h = format!("{HEADER_TEXT} ({ipxe_default}); do not edit");
        let r = ipxe::write(&default_menu, &src, &h, None, ipxe::Shape::ChainThenMenu);
        emit(ipxe_default, r, file, errors);
    }
    if want_grub {
        let h = format!("{HEADER_TEXT} ({grub_default}); do not edit");
        // Per-host files by MAC: the default file loads them itself for GRUB
        // builds that do not look for them (Debian's signed network GRUB).
        let by_mac = inv
            .hosts
            .iter()
            .any(|h| matches!(identity(h.get_ref()).0, Some(Id::Mac(_))));
        let r = if by_mac {
            grub::write_default_with_hosts(&default_menu, &src, &h)
        } else {
            grub::write(&default_menu, &src, &h, None, false)
        };
        emit(grub_default, r, file, errors);
    }
    for h in &inv.hosts {
        let host = h.get_ref();
        let pos = format!("{}: host `{}`", at(h.span().start), host.name);
        let (Some(id), mac) = identity(host) else {
            continue; // reported by the PXELINUX plan
        };
        let id = match &id {
            Id::Mac(m) => HostId::Mac(m),
            Id::Ip(ip) => HostId::Ip(*ip),
            Id::Uuid(u) => HostId::Uuid(u),
        };
        let (menu, direct) = match (&host.profile, &host.entries) {
            (Some(p), None) => (menu_of(std::slice::from_ref(p), Some(p.clone())), true),
            (None, Some(list)) => (menu_of(list, host.default.clone()), false),
            _ => continue,
        };
        let header = format!(
            "{HEADER_TEXT} from {file} for host {}; do not edit",
            host.name
        );
        if want_ipxe {
            let shape = if direct {
                ipxe::Shape::Direct
            } else {
                ipxe::Shape::Menu
            };
            let r = ipxe::write(&menu, &src, &header, mac.as_ref(), shape);
            emit(ipxe_host(id), r, &pos, errors);
        }
        if want_grub {
            let r = grub::write(&menu, &src, &header, mac.as_ref(), direct);
            emit(grub_host(id), r, &pos, errors);
        }
    }
    out
}

fn loaders(ipxe: bool, grub: bool) -> &'static str {
    match (ipxe, grub) {
        (true, true) => "iPXE and GRUB",
        (true, false) => "iPXE",
        _ => "GRUB",
    }
}

/// A profile as a menu entry.
fn entry(name: &str, p: &Profile) -> Result<Entry, String> {
    let action = match (&p.kernel, p.localboot, &p.com32) {
        (Some(k), None, None) => Action::Linux {
            kernel: k.clone(),
            initrd: p.initrd.clone(),
            args: p.append.clone().unwrap_or_default(),
            bootif: match p.ipappend {
                None | Some(0) => false,
                Some(2) => true,
                Some(m) => {
                    return Err(format!(
                        "ipappend = {m}: only 2 (BOOTIF=) has an iPXE / GRUB equivalent"
                    ))
                }
            },
        },
        (None, Some(_), None) => Action::Exit,
        (None, None, Some(_)) => {
            return Err("`com32` modules run only under PXELINUX".into());
        }
        _ => return Err("give exactly one of `kernel`, `localboot` or `com32`".into()),
    };
    Ok(Entry {
        id: name.to_string(),
        label: p.label.clone().unwrap_or_else(|| name.to_string()),
        action,
    })
}

enum Id {
    Mac(Mac),
    Ip(std::net::Ipv4Addr),
    Uuid(Uuid),
}

/// The identity naming the host's files, and its MAC (for `BOOTIF=`).
fn identity(h: &Host) -> (Option<Id>, Option<Mac>) {
    let mac: Option<Mac> = h.mac.as_deref().and_then(|m| m.parse().ok());
    let id = match h.by {
        NameBy::Mac => mac.map(Id::Mac),
        NameBy::Ip => h.ip.as_deref().and_then(|i| i.parse().ok()).map(Id::Ip),
        NameBy::Uuid => h.uuid.as_deref().and_then(|u| u.parse().ok()).map(Id::Uuid),
    };
    (id, mac)
}

/// What the lint would call an error in a generated file is an error of the inventory.
fn check(rel: &str, text: &str, file: &str, errors: &mut Vec<String>) {
    let base = rel.rsplit('/').next().unwrap_or(rel);
    if let Some(kind) = detect(base, text.as_bytes()) {
        let ctx = Context {
            tree: None,
            dir: "",
        };
        for f in lint(kind, rel, text.as_bytes(), ctx) {
            if f.severity == Severity::Error {
                errors.push(format!("{file}: generated {}: {}", f.location, f.message));
            }
        }
    }
}
