//! Writing `grub.cfg`: `set default` (an entry id) and `set timeout` (whole
//! seconds, `-1` waits forever), an optional serial console, one `menuentry`
//! per entry with `linux` (the command Debian's signed network GRUB uses,
//! for BIOS and UEFI alike) and `initrd`, or `exit` for a local boot.

use pxelinux::Mac;

use crate::model::{bootif, hotkey, Action, Menu, Source};

/// The configuration for `menu`; `header` becomes the comment on line 1.
/// With `direct`, only the default entry is written and it boots at once.
/// `BOOTIF=` is written literally with `mac`; without, it is built from
/// `$net_default_mac` (`52:54:…`) with `regexp`, as GRUB has no variable with
/// the MAC in PXELINUX's form.
pub fn write(
    menu: &Menu,
    src: &Source,
    header: &str,
    mac: Option<&Mac>,
    direct: bool,
) -> Result<String, String> {
    write_inner(menu, src, header, mac, direct, false)
}

/// The default `grub.cfg` of a tree with per-host files: as [`write`], after a
/// `configfile` of the booting machine's `grub.cfg-01-<mac>` next to it. GRUB
/// builds that search for that file themselves never get here when it exists;
/// the ones that do not (Debian's signed network GRUB reads `$prefix/grub.cfg`
/// only) load it here; where there is none, `configfile` fails with a line on
/// the console and the menu below follows. Files named by IP address or UUID
/// are left to GRUB's own search.
pub fn write_default_with_hosts(menu: &Menu, src: &Source, header: &str) -> Result<String, String> {
    write_inner(menu, src, header, None, false, true)
}

fn write_inner(
    menu: &Menu,
    src: &Source,
    header: &str,
    mac: Option<&Mac>,
    direct: bool,
    chain_hosts: bool,
) -> Result<String, String> {
    let mut out = format!("# {}\n", one_line(header)?);
    if let Some(s) = menu.serial {
        out.push_str(&format!(
            "serial --unit={} --speed={}\nterminal_input serial console\nterminal_output serial console\n",
            s.port, s.baud
        ));
    }
    let default = menu.default_id().ok_or("no entry to boot")?;
    let entries: Vec<_> = if direct {
        menu.entries.iter().filter(|e| e.id == default).collect()
    } else {
        menu.entries.iter().collect()
    };
    if entries.is_empty() {
        return Err(format!("no entry `{default}`"));
    }
    let needs_bootif = entries
        .iter()
        .any(|e| matches!(e.action, Action::Linux { bootif: true, .. }));
    if (needs_bootif && mac.is_none()) || chain_hosts {
        out.push_str(BOOTIF_FROM_MAC);
    }
    if chain_hosts {
        out.push_str(CHAIN_HOST_FILE);
    }
    out.push_str(&format!("set default={}\n", word(default)?));
    let timeout = if direct {
        Some(0)
    } else {
        menu.timeout_seconds()
    };
    match timeout {
        Some(s) => out.push_str(&format!("set timeout={s}\n")),
        None => out.push_str("set timeout=-1\n"),
    }
    for e in entries {
        let (label, key) = hotkey(&e.label);
        let key = key.map(|k| format!(" --hotkey={k}")).unwrap_or_default();
        out.push_str(&format!(
            "menuentry {}{key} --id {} {{\n",
            quoted(one_line(&label)?),
            word(&e.id)?
        ));
        match &e.action {
            Action::Exit => out.push_str("\texit\n"),
            Action::Linux {
                kernel,
                initrd,
                args,
                bootif: with_bootif,
            } => {
                let mut line = format!("\tlinux {}", word(&src.grub_path(kernel)?)?);
                for w in args.split_whitespace() {
                    line.push(' ');
                    line.push_str(&word(w)?);
                }
                if *with_bootif {
                    line.push(' ');
                    match mac {
                        Some(m) => line.push_str(&bootif(m)),
                        None => line.push_str("BOOTIF=01-${bootif_mac}"),
                    }
                }
                out.push_str(&line);
                out.push('\n');
                if !initrd.is_empty() {
                    let mut line = String::from("\tinitrd");
                    for i in initrd {
                        line.push(' ');
                        line.push_str(&word(&src.grub_path(i)?)?);
                    }
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        out.push_str("}\n");
    }
    Ok(out)
}

/// Sets `bootif_mac` to `$net_default_mac` with dashes (`52-54-00-…`).
const BOOTIF_FROM_MAC: &str = "regexp --set=1:m1 --set=2:m2 --set=3:m3 --set=4:m4 --set=5:m5 --set=6:m6 \
'^([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2}):([0-9a-f]{2})$' \"$net_default_mac\"
set bootif_mac=\"${m1}-${m2}-${m3}-${m4}-${m5}-${m6}\"
";

/// Loads this machine's per-host file, when there is one (see
/// [`write_default_with_hosts`]).
const CHAIN_HOST_FILE: &str = "configfile \"$prefix/grub.cfg-01-$bootif_mac\"\n";

/// A word as GRUB's shell reads it back unchanged: bare when it has only
/// plain characters, else in single quotes.
pub fn word(w: &str) -> Result<String, String> {
    if w.chars().any(char::is_control) || w.is_empty() {
        return Err(format!(
            "`{}`: empty, or a control character",
            w.escape_debug()
        ));
    }
    if w.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./,:=+@%~()".contains(c))
    {
        return Ok(w.to_string());
    }
    Ok(quoted(w))
}

fn quoted(w: &str) -> String {
    format!("'{}'", w.replace('\'', "'\\''"))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Entry, Serial};

    fn menu() -> Menu {
        Menu {
            title: None,
            timeout_tenths: 0,
            default: None,
            entries: vec![
                Entry {
                    id: "deb".into(),
                    label: "^Debian's".into(),
                    action: Action::Linux {
                        kernel: "d/linux".into(),
                        initrd: vec!["d/a.gz".into(), "d/b.gz".into()],
                        args: "url=http://x/p?a=1;b console=ttyS0,115200".into(),
                        bootif: false,
                    },
                },
                Entry {
                    id: "local".into(),
                    label: "Local".into(),
                    action: Action::Exit,
                },
            ],
            serial: Some(Serial {
                port: 0,
                baud: 115200,
            }),
        }
    }

    #[test]
    fn menu_config() {
        let src = Source::parse(None, "").unwrap();
        let g = write(&menu(), &src, "h", None, false).unwrap();
        assert_eq!(
            g,
            "# h\nserial --unit=0 --speed=115200\nterminal_input serial console\nterminal_output serial console\n\
             set default=deb\nset timeout=-1\n\
             menuentry 'Debian'\\''s' --hotkey=d --id deb {\n\
             \tlinux /d/linux 'url=http://x/p?a=1;b' console=ttyS0,115200\n\
             \tinitrd /d/a.gz /d/b.gz\n}\n\
             menuentry 'Local' --id local {\n\texit\n}\n"
        );
    }

    #[test]
    fn a_default_with_hosts_loads_the_per_host_file_first() {
        let src = Source::parse(None, "").unwrap();
        let g = write_default_with_hosts(&menu(), &src, "h").unwrap();
        let chain = g
            .find("configfile \"$prefix/grub.cfg-01-$bootif_mac\"\n")
            .unwrap();
        assert!(g.find("set bootif_mac=").unwrap() < chain, "{g}");
        assert!(chain < g.find("set default=deb").unwrap(), "{g}");
        // The rest is the plain default file's, and `regexp` is written once.
        let plain = write(&menu(), &src, "h", None, false).unwrap();
        assert!(
            g.ends_with(&plain[plain.find("set default").unwrap()..]),
            "{g}"
        );
        assert_eq!(g.matches("regexp").count(), 1, "{g}");
    }

    #[test]
    fn direct_and_bootif() {
        let mut m = menu();
        m.default = Some("local".into());
        let src = Source::parse(Some("http://192.0.2.1/b/"), "").unwrap();
        let g = write(&m, &src, "h", None, true).unwrap();
        assert!(g.contains("set timeout=0\nmenuentry 'Local'"), "{g}");
        assert!(!g.contains("deb"), "{g}");
        if let Action::Linux { bootif, .. } = &mut m.entries[0].action {
            *bootif = true;
        }
        let g = write(&m, &src, "h", None, false).unwrap();
        assert!(g.contains("\"$net_default_mac\"\nset bootif_mac="), "{g}");
        assert!(g.contains(" BOOTIF=01-${bootif_mac}\n"), "{g}");
        let mac: Mac = "52:54:00:12:34:56".parse().unwrap();
        let g = write(&m, &src, "h", Some(&mac), false).unwrap();
        assert!(g.contains("\tlinux (http,192.0.2.1)/b/d/linux"), "{g}");
        assert!(g.contains(" BOOTIF=01-52-54-00-12-34-56\n"), "{g}");
    }
}
