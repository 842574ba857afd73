//! Lint of iPXE scripts and grub.cfg files, generated or hand-written: the
//! files they load exist under the root, every command is one the loader
//! knows, jump targets and defaults exist, the syntax holds, and per-host
//! file names are ones the loader requests. Findings carry the same codes
//! and `file:line:col` locations as the pxelinux lint.

use pxelinux::confine::Located;
use pxelinux::{Code, Finding, Location, Tree};

use crate::commands::{GRUB_COMMANDS, IPXE_COMMANDS};
use crate::names::{grub_name_problem, ipxe_name_problem};
use crate::words::{self, Word};

/// Which loader reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// iPXE.
    Ipxe,
    /// GRUB.
    Grub,
}

/// The loader a file is for: `#!ipxe` on line 1 or a `.ipxe` name; a name
/// `grub.cfg` or `grub.cfg-…`. `None`: a pxelinux configuration.
pub fn detect(file_name: &str, bytes: &[u8]) -> Option<Kind> {
    if bytes.starts_with(b"#!ipxe") || file_name.ends_with(".ipxe") {
        Some(Kind::Ipxe)
    } else if file_name == "grub.cfg" || file_name.starts_with("grub.cfg-") {
        Some(Kind::Grub)
    } else {
        None
    }
}

/// Where the file sits, for checking what it loads.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The TFTP root; without it no file is checked.
    pub tree: Option<&'a Tree>,
    /// The file's directory relative to the root (`""` or ending in `/`):
    /// iPXE resolves relative names against the script's own URI.
    pub dir: &'a str,
}

/// Lint one file of the given kind; `file` is the name shown in findings.
pub fn lint(kind: Kind, file: &str, bytes: &[u8], ctx: Context<'_>) -> Vec<Finding> {
    let text = String::from_utf8_lossy(bytes);
    let base = file.rsplit('/').next().unwrap_or(file);
    let mut out = Vec::new();
    let name_problem = match kind {
        Kind::Ipxe => ipxe_name_problem(base),
        Kind::Grub => grub_name_problem(base),
    };
    if let Some(why) = name_problem {
        out.push(Finding::new(
            Code::LoaderFileName,
            at(file, 1, 1),
            why,
            "rename the file as the loader requests it (`pxecfg generate` writes these names)",
        ));
    }
    match kind {
        Kind::Ipxe => lint_ipxe(file, &text, ctx, &mut out),
        Kind::Grub => lint_grub(file, &text, ctx, &mut out),
    }
    out
}

fn at(file: &str, line: usize, column: usize) -> Location {
    Location {
        file: file.to_string(),
        line,
        column,
    }
}

fn lint_ipxe(file: &str, text: &str, ctx: Context<'_>, out: &mut Vec<Finding>) {
    if !text.starts_with("#!ipxe") {
        out.push(Finding::new(
            Code::ScriptSyntax,
            at(file, 1, 1),
            "line 1 is not `#!ipxe`: iPXE does not run this file as a script",
            "start the script with the line `#!ipxe`",
        ));
    }
    let s = words::ipxe(text);
    let mut items = Vec::new();
    for c in &s.commands {
        if c[0].text == "item" {
            if let Some(w) = args(&c[1..], &["-k", "--key", "-m", "--menu"]).first() {
                items.push(w.text.clone());
            }
        }
    }
    for c in &s.commands {
        let name = c[0].text.as_str();
        if name.contains("${") {
            continue;
        }
        if !IPXE_COMMANDS.contains(&name) {
            out.push(Finding::new(
                Code::UnknownCommand,
                at(file, c[0].line, c[0].column),
                format!("iPXE has no command `{name}`"),
                "check the spelling against ipxe.org/cmd, or build iPXE with the command",
            ));
            continue;
        }
        let rest = &c[1..];
        let value_opts: &[&str] = &["-n", "--name", "-t", "--timeout"];
        let target = args(rest, value_opts).into_iter().next();
        match name {
            "goto" => {
                if let Some(w) = target.filter(|w| !w.text.contains('$')) {
                    if !s.labels.iter().any(|(l, _)| *l == w.text) {
                        out.push(Finding::new(
                            Code::EntryTargetMissing,
                            at(file, w.line, w.column),
                            format!("`goto {}`: no label `:{}` in this script", w.text, w.text),
                            "add the label or correct the name",
                        ));
                    }
                }
            }
            "choose" => {
                if let Some(d) = option_value(rest, &["-d", "--default"]) {
                    if !d.text.contains('$') && !items.contains(&d.text) {
                        out.push(Finding::new(
                            Code::EntryTargetMissing,
                            at(file, d.line, d.column),
                            format!(
                                "`choose --default {}`: no `item {}` in this script",
                                d.text, d.text
                            ),
                            "name one of the menu's items",
                        ));
                    }
                }
            }
            "kernel" | "imgexec" | "imgload" | "imgselect" | "initrd" | "module" | "imgfetch"
            | "chain" => {
                if let (Some(w), Some(tree)) = (target, ctx.tree) {
                    if let Some(path) = ipxe_path(&w.text, ctx.dir) {
                        let code = match name {
                            "initrd" | "module" | "imgfetch" => Code::MissingInitrd,
                            "chain" => Code::MissingChained,
                            _ => Code::MissingKernel,
                        };
                        check_file(file, tree, w, &path, code, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The TFTP path (relative to the root) an iPXE URI names on this server, if any.
fn ipxe_path(uri: &str, dir: &str) -> Option<String> {
    if let Some(rest) = uri.strip_prefix("tftp://${next-server}/") {
        return (!rest.contains("${")).then(|| rest.to_string());
    }
    if uri.contains("${") || uri.contains("://") || uri.contains(':') {
        return None;
    }
    Some(match uri.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None => format!("{dir}{uri}"),
    })
}

fn lint_grub(file: &str, text: &str, ctx: Context<'_>, out: &mut Vec<Finding>) {
    let s = words::grub(text);
    for (l, c, why) in &s.errors {
        out.push(Finding::new(
            Code::ScriptSyntax,
            at(file, *l, *c),
            why.clone(),
            "GRUB rejects the whole file: close the quote or brace",
        ));
    }
    let mut entries = Vec::new();
    let mut functions = Vec::new();
    let mut local_root = false;
    for c in &s.commands {
        match c[0].text.as_str() {
            "menuentry" | "submenu" => {
                if let Some(t) = c.get(1) {
                    entries.push(t.text.clone());
                }
                for (i, w) in c.iter().enumerate() {
                    if let Some(id) = w.text.strip_prefix("--id=") {
                        entries.push(id.to_string());
                    } else if w.text == "--id" {
                        entries.extend(c.get(i + 1).map(|w| w.text.clone()));
                    }
                }
            }
            "function" => functions.extend(c.get(1).map(|w| w.text.clone())),
            _ => {}
        }
    }
    for c in &s.commands {
        let w0 = &c[0];
        let name = w0.text.as_str();
        if name.contains('$') || functions.iter().any(|f| f == name) {
            continue;
        }
        if !w0.quoted && name.contains('=') && !name.starts_with('=') {
            continue;
        }
        if !GRUB_COMMANDS.contains(&name) {
            out.push(Finding::new(
                Code::UnknownCommand,
                at(file, w0.line, w0.column),
                format!("GRUB has no command `{name}`"),
                "check the spelling against the GRUB manual, or `insmod` the module first",
            ));
            continue;
        }
        let rest = &c[1..];
        match name {
            "set" => {
                for w in rest {
                    if let Some(v) = w.text.strip_prefix("root=") {
                        local_root =
                            !(v.starts_with("(tftp") || v.starts_with("tftp") || v.contains('$'));
                    }
                    if let Some(d) = w.text.strip_prefix("default=") {
                        let ok = d.is_empty()
                            || d.contains('$')
                            || d.bytes().all(|b| b.is_ascii_digit() || b == b'>')
                            || entries.iter().any(|e| e == d);
                        if !ok {
                            out.push(Finding::new(
                                Code::EntryTargetMissing,
                                at(file, w.line, w.column),
                                format!("`set default={d}`: no menuentry has this id or title"),
                                "name a menuentry's `--id` or title, or give its number",
                            ));
                        }
                    }
                }
            }
            "linux" | "linux16" | "linuxefi" | "multiboot" | "multiboot2" | "initrd"
            | "initrd16" | "initrdefi" | "module" | "module2" | "chainloader" | "configfile"
            | "source" => {
                let Some(tree) = ctx.tree else { continue };
                let files = args(rest, &[]);
                let (code, files) = match name {
                    n if n.starts_with("initrd") => (Code::MissingInitrd, files),
                    n if n.starts_with("linux") || n.starts_with("multiboot") => {
                        (Code::MissingKernel, files.into_iter().take(1).collect())
                    }
                    n if n.starts_with("module") => {
                        (Code::MissingInitrd, files.into_iter().take(1).collect())
                    }
                    _ => (Code::MissingChained, files.into_iter().take(1).collect()),
                };
                for w in files {
                    if let Some(path) = grub_path(&w.text, local_root) {
                        check_file(file, tree, w, &path, code, out);
                    }
                }
            }
            _ => {}
        }
    }
}

/// The TFTP path a GRUB file name names on the server GRUB booted from, if any.
fn grub_path(name: &str, local_root: bool) -> Option<String> {
    if name.contains('$') {
        return None;
    }
    if let Some(dev) = name.strip_prefix('(') {
        let (dev, rest) = dev.split_once(')')?;
        let proto = dev.split(',').next().unwrap_or("");
        // `(tftp)` / `(pxe)`: the boot server; `(tftp,host)`: assumed to be this one.
        return matches!(proto, "tftp" | "pxe").then(|| rest.trim_start_matches('/').to_string());
    }
    (!local_root && name.starts_with('/')).then(|| name.trim_start_matches('/').to_string())
}

/// Arguments that are not options (skipping the values of `value_opts`).
fn args<'a>(words: &'a [Word], value_opts: &[&str]) -> Vec<&'a Word> {
    let mut out = Vec::new();
    let mut skip = false;
    for w in words {
        if skip {
            skip = false;
        } else if w.text.starts_with('-') && !w.quoted {
            skip = value_opts.contains(&w.text.as_str());
        } else {
            out.push(w);
        }
    }
    out
}

fn option_value<'a>(words: &'a [Word], names: &[&str]) -> Option<&'a Word> {
    let i = words
        .iter()
        .position(|w| names.contains(&w.text.as_str()))?;
    words.get(i + 1)
}

fn check_file(file: &str, tree: &Tree, w: &Word, path: &str, code: Code, out: &mut Vec<Finding>) {
    let loc = at(file, w.line, w.column);
    let shown = pxelinux::finding::shown(path);
    match tree.locate(path) {
        Located::File(_) => {}
        Located::Refused(r) => {
            let (code, hint) = if r.is_outside() {
                (Code::OutsideRoot, "keep every file under the TFTP root")
            } else {
                (Code::RefusedName, "use a plain relative file name")
            };
            out.push(Finding::new(
                code,
                loc,
                format!("`{shown}`: the TFTP server refuses this name ({r:?})"),
                hint,
            ));
        }
        _ => out.push(Finding::new(
            code,
            loc,
            format!("`{shown}` does not exist under the root"),
            "copy the file there or correct the name",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(f: &[Finding]) -> Vec<(&'static str, usize, usize)> {
        f.iter()
            .map(|f| (f.code.id(), f.location.line, f.location.column))
            .collect()
    }

    #[test]
    fn ipxe_findings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("ipxe")).unwrap();
        std::fs::write(dir.path().join("k"), "k").unwrap();
        std::fs::write(dir.path().join("ipxe/i"), "i").unwrap();
        let tree = Tree::new(dir.path(), "");
        let ctx = Context {
            tree: Some(&tree),
            dir: "ipxe/",
        };
        let text = "#!ipxe\nkernel tftp://${next-server}/k a=b\ninitrd i\ninitrd /nope\nchain http://x/y\nkernal k\ngoto nowhere\nchoose --default zz t\nchain ../../etc/passwd\n";
        let f = lint(
            Kind::Ipxe,
            "ipxe/52:54:00:ab:cd:ef.ipxe",
            text.as_bytes(),
            ctx,
        );
        assert_eq!(
            codes(&f),
            vec![
                ("BCF034", 1, 1),
                ("PXL041", 4, 8),
                ("BCF001", 6, 1),
                ("BCF012", 7, 6),
                ("BCF012", 8, 18),
                ("PXL048", 9, 7),
            ],
            "{f:#?}"
        );
        let f = lint(
            Kind::Ipxe,
            "a.ipxe",
            b"kernel k\n",
            Context {
                tree: None,
                dir: "",
            },
        );
        assert_eq!(codes(&f), vec![("BCF002", 1, 1)]);
    }

    #[test]
    fn grub_findings() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("k"), "k").unwrap();
        let tree = Tree::new(dir.path(), "");
        let ctx = Context {
            tree: Some(&tree),
            dir: "grub/",
        };
        let text = "set default=nope\nset timeout=5\nmenuentry 'A' --id a {\n linux /k x=1\n initrd (tftp)/i\n linux (http,h)/remote\n}\nlinuks /k\nmenuentry 'B' {\n";
        let f = lint(
            Kind::Grub,
            "grub/grub.cfg-01-52-54-00-AB-cd-ef",
            text.as_bytes(),
            ctx,
        );
        assert_eq!(
            codes(&f),
            vec![
                ("BCF034", 1, 1),
                ("BCF002", 9, 15),
                ("BCF012", 1, 5),
                ("PXL041", 5, 9),
                ("BCF001", 8, 1),
            ],
            "{f:#?}"
        );
        assert_eq!(detect("grub.cfg", b""), Some(Kind::Grub));
        assert_eq!(detect("x", b"#!ipxe\n"), Some(Kind::Ipxe));
        assert_eq!(detect("default", b"DEFAULT x\n"), None);
    }

    #[test]
    fn malformed_input_never_panics() {
        let inputs = [
            "",
            "\"",
            "\\",
            "{",
            "}}}",
            "#!ipxe\n||\n&& &&\n:",
            "\u{0}\u{1b}[2J",
            "menuentry",
            "'\\\n",
            "\"\\",
            "set default=",
            "linux",
            "initrd (tftp",
            "chain",
            "goto",
            "item --key",
            "choose --default",
            "linux (tftp)/../../x",
            "é\\é'é\"é",
            "function",
            "set root=",
        ];
        let dir = tempfile::tempdir().unwrap();
        let tree = Tree::new(dir.path(), "");
        for text in inputs {
            for kind in [Kind::Ipxe, Kind::Grub] {
                let ctx = Context {
                    tree: Some(&tree),
                    dir: "",
                };
                let _ = lint(kind, "grub.cfg-01-", text.as_bytes(), ctx);
                let _ = lint(kind, "x.ipxe", format!("#!ipxe\n{text}").as_bytes(), ctx);
            }
        }
    }
}
