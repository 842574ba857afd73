//! Writing iPXE scripts (`#!ipxe`): a menu (`menu`, `item`, `choose` with a
//! default and a timeout in milliseconds) or a single entry booted directly;
//! `kernel` with `initrd=NAME` for each initrd (what an EFI-stub kernel needs
//! from iPXE) and the arguments, `initrd`, `boot`; `exit` for a local boot.

use pxelinux::Mac;

use crate::model::{bootif, hotkey, Action, Entry, Menu, Source};
use crate::names::IPXE_HOST_SCRIPTS;

/// The label the menu starts at.
const MENU_LABEL: &str = "menu";
/// Entry labels are this prefix and the entry id (no id can clash with `menu`).
const ENTRY_PREFIX: &str = "boot-";

/// How a script starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// Boot the menu's default entry without showing a menu.
    Direct,
    /// Show the menu.
    Menu,
    /// First chain the per-host script of this client (by UUID, MAC, IP), then the menu.
    ChainThenMenu,
}

/// The script for `menu`; `header` becomes the comment on line 2. With `mac`,
/// `BOOTIF=` is written literally, else from `${net0/mac:hexhyp}`.
pub fn write(
    menu: &Menu,
    src: &Source,
    header: &str,
    mac: Option<&Mac>,
    shape: Shape,
) -> Result<String, String> {
    let mut out = format!("#!ipxe\n# {}\n", one_line(header)?);
    if shape == Shape::Direct {
        let id = menu.default_id().ok_or("no entry to boot")?;
        let e = menu
            .entries
            .iter()
            .find(|e| e.id == id)
            .ok_or_else(|| format!("no entry `{id}`"))?;
        entry_body(&mut out, e, src, mac, false)?;
        return Ok(out);
    }
    if shape == Shape::ChainThenMenu {
        for name in IPXE_HOST_SCRIPTS {
            out.push_str(&format!(
                "chain --autofree {name}.ipxe || echo no host script {name}.ipxe\n"
            ));
        }
    }
    out.push_str(&format!(":{MENU_LABEL}\n"));
    match &menu.title {
        Some(t) => out.push_str(&format!("menu {}\n", text(t)?)),
        None => out.push_str("menu\n"),
    }
    for e in &menu.entries {
        check_id(&e.id)?;
        let (label, key) = hotkey(&e.label);
        let key = key.map(|k| format!("--key {k} ")).unwrap_or_default();
        out.push_str(&format!("item {key}{} {}\n", e.id, text(&label)?));
    }
    let mut choose = String::from("choose");
    if let Some(d) = menu.default_id() {
        check_id(d)?;
        choose.push_str(&format!(" --default {d}"));
    }
    if let Some(ms) = menu.timeout_millis() {
        choose.push_str(&format!(" --timeout {ms}"));
    }
    out.push_str(&format!(
        "{choose} target || goto {MENU_LABEL}\ngoto {ENTRY_PREFIX}${{target}}\n"
    ));
    for e in &menu.entries {
        out.push_str(&format!(":{ENTRY_PREFIX}{}\n", e.id));
        entry_body(&mut out, e, src, mac, true)?;
    }
    Ok(out)
}

fn entry_body(
    out: &mut String,
    e: &Entry,
    src: &Source,
    mac: Option<&Mac>,
    in_menu: bool,
) -> Result<(), String> {
    match &e.action {
        Action::Exit => out.push_str("exit\n"),
        Action::Linux {
            kernel,
            initrd,
            args,
            bootif: with_bootif,
        } => {
            let mut line = format!("kernel {}", uri(src, kernel)?);
            // An EFI-stub kernel started by iPXE reads its initrds from iPXE's
            // file system by the names on its command line (iPXE before 2021
            // hands them over no other way); the BIOS boot protocol ignores them.
            if !args.split_whitespace().any(|w| w.starts_with("initrd=")) {
                for i in initrd {
                    line.push_str(&format!(" initrd={}", word(image_name(i))?));
                }
            }
            for w in args.split_whitespace() {
                line.push(' ');
                line.push_str(word(w)?);
            }
            if *with_bootif {
                match mac {
                    Some(m) => line.push_str(&format!(" {}", bootif(m))),
                    None => line.push_str(" BOOTIF=01-${net0/mac:hexhyp}"),
                }
            }
            out.push_str(&line);
            out.push('\n');
            for i in initrd {
                out.push_str(&format!("initrd {}\n", uri(src, i)?));
            }
            out.push_str(if in_menu {
                "boot || goto menu\n"
            } else {
                "boot\n"
            });
        }
    }
    Ok(())
}

/// The name iPXE gives an image it fetched: the last part of its path.
fn image_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn uri(src: &Source, path: &str) -> Result<String, String> {
    let u = src.ipxe_uri(word(path)?);
    Ok(u)
}

/// A word iPXE passes on unchanged: no `${` expansion, no `||` / `&&`, no
/// quote or backslash, not a comment.
fn word(w: &str) -> Result<&str, String> {
    if w.is_empty()
        || w.starts_with('#')
        || w.contains("${")
        || w.contains("||")
        || w.contains("&&")
        || w.chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\"\\".contains(c))
    {
        return Err(format!(
            "`{w}` cannot be written in an iPXE script unchanged (`${{`, `||`, `&&`, quotes, backslash or a leading `#`)"
        ));
    }
    Ok(w)
}

/// Menu text: one line, no expansion.
fn text(t: &str) -> Result<String, String> {
    let t = one_line(t)?;
    if t.contains("${") || t.contains("||") || t.contains("&&") {
        return Err(format!("`{t}`: `${{`, `||` and `&&` are special in iPXE"));
    }
    Ok(t.to_string())
}

fn one_line(t: &str) -> Result<&str, String> {
    if t.chars().any(char::is_control) {
        return Err(format!(
            "`{}`: a line break or control character",
            t.escape_debug()
        ));
    }
    Ok(t)
}

fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || !id
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_-.".contains(&c))
    {
        return Err(format!(
            "`{id}`: entry ids are letters, digits, `_`, `-`, `.`"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn menu() -> Menu {
        Menu {
            title: Some("Lab".into()),
            timeout_tenths: 0,
            default: Some("local".into()),
            entries: vec![
                Entry {
                    id: "deb".into(),
                    label: "^Debian".into(),
                    action: Action::Linux {
                        kernel: "d/linux".into(),
                        initrd: vec!["d/a.gz".into(), "d/b.gz".into()],
                        args: "auto=true  quiet".into(),
                        bootif: true,
                    },
                },
                Entry {
                    id: "local".into(),
                    label: "Local".into(),
                    action: Action::Exit,
                },
            ],
            serial: None,
        }
    }

    #[test]
    fn menu_script() {
        let src = Source::parse(Some("http://192.0.2.1/b/"), "").unwrap();
        let s = write(&menu(), &src, "h", None, Shape::ChainThenMenu).unwrap();
        assert!(
            s.starts_with("#!ipxe\n# h\nchain --autofree ${uuid}.ipxe ||"),
            "{s}"
        );
        assert!(
            s.contains("item --key d deb Debian\nitem local Local\n"),
            "{s}"
        );
        assert!(
            s.contains("choose --default local target || goto menu\n"),
            "{s}"
        );
        assert!(s.contains(":boot-deb\nkernel http://192.0.2.1/b/d/linux initrd=a.gz initrd=b.gz auto=true quiet BOOTIF=01-${net0/mac:hexhyp}\ninitrd http://192.0.2.1/b/d/a.gz\ninitrd http://192.0.2.1/b/d/b.gz\nboot || goto menu\n"), "{s}");
        assert!(s.ends_with(":boot-local\nexit\n"), "{s}");
    }

    #[test]
    fn direct_script_and_refusals() {
        let mut m = menu();
        m.default = Some("deb".into());
        let mac: Mac = "52:54:00:12:34:56".parse().unwrap();
        let src = Source::parse(None, "").unwrap();
        let s = write(&m, &src, "h", Some(&mac), Shape::Direct).unwrap();
        assert_eq!(
            s.lines().nth(2).unwrap(),
            "kernel tftp://${next-server}/d/linux initrd=a.gz initrd=b.gz auto=true quiet BOOTIF=01-52-54-00-12-34-56"
        );
        assert!(s.ends_with("boot\n"));
        if let Action::Linux { args, .. } = &mut m.entries[0].action {
            *args = "x=${y}".into();
        }
        assert!(write(&m, &src, "h", None, Shape::Direct).is_err());
        assert!(write(&menu(), &src, "a\nb", None, Shape::Menu).is_err());
    }
}
