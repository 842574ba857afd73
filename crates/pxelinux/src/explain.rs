//! What one machine would see: which configuration file PXELINUX loads for it,
//! the menu, and the exact command line of every entry and of the default.

use std::fmt::Write as _;

use crate::cmdline::{kernel_command_line, label_command, SysAppend};
use crate::confine::Located;
use crate::directive::Keyword;
use crate::include::{SourceFile, SourceSet};
use crate::lookup::Client;
use crate::model::Config;
use crate::resolve::{Target, Tree};
use crate::syntax::Document;

/// One file PXELINUX asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The name relative to the prefix (`pxelinux.cfg/…`).
    pub name: String,
    /// The TFTP path requested (prefix applied).
    pub tftp_path: String,
    /// Whether it exists under the root.
    pub exists: bool,
}

/// A menu entry as the machine would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The LABEL name (as menu.c32 sees it).
    pub label: String,
    /// The text shown.
    pub display: String,
    /// The submenu path (MENU BEGIN tags), empty at top level.
    pub submenu: Vec<String>,
    /// MENU HIDE.
    pub hidden: bool,
    /// The command syslinux records for the entry.
    pub command: String,
    /// What the Linux kernel receives, for Linux entries.
    pub kernel_command_line: Option<String>,
}

/// The result of [`explain`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Every request PXELINUX makes until one succeeds.
    pub attempts: Vec<Attempt>,
    /// The file that loads, if any.
    pub loaded: Option<String>,
    /// The menu module (`menu.c32`, …) if a menu is shown.
    pub menu_module: Option<String>,
    /// The menu title.
    pub title: Option<String>,
    /// Entries in order.
    pub entries: Vec<Entry>,
    /// The default: what runs on timeout or Enter, and its command line.
    pub default: Option<(String, String)>,
    /// TIMEOUT in tenths of a second.
    pub timeout: Option<String>,
    /// What ONTIMEOUT runs instead of the default, and its command line.
    pub ontimeout: Option<(String, String)>,
}

/// Work out what the machine `client` sees when booting from `tree`.
pub fn explain(tree: &Tree, client: &Client) -> Explanation {
    let mut attempts = Vec::new();
    let mut loaded = None;
    for name in client.candidates() {
        let (tftp_path, found) = match tree.resolve(&name) {
            Target::Tftp(p) => match tree.locate(&p) {
                Located::File(real) => (p, Some(real)),
                _ => (p, None),
            },
            Target::Url(u) | Target::Remote(u) => (u, None),
        };
        attempts.push(Attempt {
            name: name.clone(),
            tftp_path: tftp_path.clone(),
            exists: found.is_some(),
        });
        if let Some(real) = found {
            loaded = Some((tftp_path, real));
            break;
        }
    }
    let mut ex = Explanation {
        attempts,
        loaded: loaded.as_ref().map(|(p, _)| p.clone()),
        menu_module: None,
        title: None,
        entries: Vec::new(),
        default: None,
        timeout: None,
        ontimeout: None,
    };
    let Some((path, real)) = loaded else {
        return ex;
    };
    let bytes = tree.read(&real).unwrap_or_default();
    let set = SourceSet::load_at(
        SourceFile {
            name: path,
            doc: Document::parse(&bytes),
        },
        Some(&real),
        Some(tree),
    );
    let cfg = Config::from_set(&set);
    let sys = SysAppend {
        mac: Some(client.mac),
        ip: client.ip,
        uuid: client.uuid,
    };
    ex.menu_module = cfg.uses_menu().then(|| cfg.menu_module()).flatten();
    ex.title = cfg.menus[0].title.as_ref().map(|t| t.value.clone());
    ex.timeout = cfg
        .globals
        .last(Keyword::Timeout)
        .map(|t| t.value.trim().to_string());
    for l in &cfg.labels {
        let mut submenu = Vec::new();
        let mut m = l.menu;
        while m != 0 {
            submenu.insert(0, cfg.menus[m].tag.clone());
            m = cfg.menus[m].parent.unwrap_or(0);
        }
        ex.entries.push(Entry {
            label: l.menu_name.clone(),
            display: l.display(),
            submenu,
            hidden: l.hidden,
            command: match &l.goto {
                Some(g) => format!("{} {}", set_keyword(&set, g.pos), g.value.trim_end())
                    .trim_end()
                    .to_string(),
                None => label_command(l, &cfg.globals, &sys),
            },
            kernel_command_line: kernel_command_line(l, &cfg.globals, &sys),
        });
    }
    ex.default = match cfg.default_label() {
        Some(l) => Some((
            format!("label `{}`", l.menu_name),
            kernel_command_line(l, &cfg.globals, &sys)
                .unwrap_or_else(|| label_command(l, &cfg.globals, &sys)),
        )),
        None => cfg.globals.last(Keyword::Default).map(|d| {
            let cmd = d.value.trim_end();
            let first = cmd.split_whitespace().next().unwrap_or("");
            if crate::cmdline::is_linux_name(first) {
                (
                    "kernel (no label by that name)".to_string(),
                    crate::cmdline::boot_image(cmd),
                )
            } else {
                ("command".to_string(), cmd.to_string())
            }
        }),
    };
    ex.ontimeout = cfg.globals.last(Keyword::OnTimeout).map(|t| {
        let cmd = t.value.trim_end();
        let word = cmd.split_whitespace().next().unwrap_or("");
        match cfg.find_label(word, false) {
            Some(l) => (
                format!("label `{}`", l.menu_name),
                kernel_command_line(l, &cfg.globals, &sys)
                    .unwrap_or_else(|| label_command(l, &cfg.globals, &sys)),
            ),
            None => ("command".to_string(), cmd.to_string()),
        }
    });
    ex
}

fn set_keyword(set: &SourceSet, pos: crate::model::Pos) -> String {
    set.line(pos).keyword_text().to_ascii_uppercase()
}

impl Explanation {
    /// A human-readable report.
    pub fn render(&self) -> String {
        let mut s = String::new();
        for a in &self.attempts {
            let mark = if a.exists { "found" } else { "missing" };
            let _ = writeln!(s, "tries {:<48} {mark}", a.tftp_path);
        }
        let Some(loaded) = &self.loaded else {
            s.push_str("no configuration file found: PXELINUX stops (\"Unable to locate configuration file\")\n");
            return s;
        };
        let _ = writeln!(s, "loads {loaded}");
        match &self.menu_module {
            Some(m) => {
                let _ = writeln!(
                    s,
                    "menu ({m}): {}",
                    self.title.as_deref().unwrap_or("(no title)")
                );
            }
            None => s.push_str("no menu: boot prompt only\n"),
        }
        if let Some(t) = &self.timeout {
            let _ = writeln!(s, "timeout {t} (1/10 s)");
        }
        for e in &self.entries {
            let path = if e.submenu.is_empty() {
                String::new()
            } else {
                format!("{} > ", e.submenu.join(" > "))
            };
            let hidden = if e.hidden { " (hidden)" } else { "" };
            let _ = writeln!(
                s,
                "entry {path}{}{hidden}: {}",
                e.label.trim_end(),
                e.display.trim_end()
            );
            match &e.kernel_command_line {
                Some(k) => {
                    let _ = writeln!(s, "    kernel command line: {k}");
                }
                None => {
                    let _ = writeln!(s, "    command: {}", e.command);
                }
            }
        }
        match &self.default {
            Some((what, cmd)) => {
                let _ = writeln!(s, "default: {what}\n    {cmd}");
            }
            None => s.push_str("default: none (waits at the prompt)\n"),
        }
        if let Some((what, cmd)) = &self.ontimeout {
            let _ = writeln!(s, "on timeout: {what}\n    {cmd}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_host_file_and_builds_command_lines() {
        let dir = tempfile::tempdir().unwrap();
        let cfgdir = dir.path().join("pxelinux.cfg");
        std::fs::create_dir(&cfgdir).unwrap();
        std::fs::write(
            cfgdir.join("C000029D"),
            "DEFAULT a\nIPAPPEND 2\nLABEL a\n KERNEL vmlinuz\n INITRD i.img\n APPEND quiet\n",
        )
        .unwrap();
        let mut client = Client::new("52:54:00:12:34:56".parse().unwrap());
        client.ip = Some("192.0.2.157".parse().unwrap());
        let ex = explain(&Tree::new(dir.path(), ""), &client);
        assert_eq!(ex.attempts.len(), 2);
        assert_eq!(ex.loaded.as_deref(), Some("pxelinux.cfg/C000029D"));
        let want = "BOOT_IMAGE=vmlinuz quiet initrd=i.img BOOTIF=01-52-54-00-12-34-56";
        assert_eq!(ex.entries[0].kernel_command_line.as_deref(), Some(want));
        assert_eq!(ex.default.as_ref().unwrap().1, want);
        assert!(ex.render().contains("loads pxelinux.cfg/C000029D"));
        assert!(ex.ontimeout.is_none());
    }
}
