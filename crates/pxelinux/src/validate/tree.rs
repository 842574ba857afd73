//! Checks against the TFTP tree: every file a configuration names, resolved as
//! PXELINUX would, and the library modules `.c32` files need.

use super::events::refused;
use super::Ctx;
use crate::cmdline::effective_append;
use crate::confine::Located;
use crate::directive::{KernelType, Keyword, MenuKeyword};
use crate::finding::{Code, Finding, Location};
use crate::lookup::unrequested_name;
use crate::model::Pos;
use crate::resolve::{Status, Target, Tree};

/// Library modules each module needs (syslinux 6.x).
const MODULE_DEPS: &[(&str, &[&str])] = &[
    ("menu.c32", &["libutil.c32"]),
    ("vesamenu.c32", &["libutil.c32", "libcom32.c32"]),
    ("chain.c32", &["libutil.c32", "libcom32.c32"]),
];

fn deps_of(module: &str) -> &'static [&'static str] {
    let base = module.rsplit('/').next().unwrap_or(module);
    MODULE_DEPS
        .iter()
        .find(|(m, _)| *m == base)
        .map_or(&[], |(_, d)| d)
}

pub(super) fn check_config_name(ctx: &mut Ctx<'_>, name: &str) {
    if let Some(why) = unrequested_name(name) {
        let loc = Location {
            file: ctx.set.files[0].name.clone(),
            line: 1,
            column: 1,
        };
        ctx.push(Finding::new(
            Code::ConfigFileName,
            loc,
            format!("PXELINUX never requests `pxelinux.cfg/{name}`"),
            format!("rename the file: {why}"),
        ));
    }
}

pub(super) fn check_without_tree(ctx: &mut Ctx<'_>) {
    if let Some((pos, module)) = menu_module_line(ctx) {
        let deps = deps_of(&module);
        let mut need = vec!["ldlinux.c32"];
        need.extend_from_slice(deps);
        let at = ctx.arg_loc(pos);
        ctx.push(Finding::new(
            Code::ModuleDependencies,
            at,
            format!(
                "{module} needs {} in the PXELINUX prefix directory",
                need.join(", ")
            ),
            "run `pxecfg lint --root <tftp-root>` to check that they are there",
        ));
    }
}

fn menu_module_line(ctx: &Ctx<'_>) -> Option<(Pos, String)> {
    let g = &ctx.cfg.globals;
    let s = g.last(Keyword::Ui).or_else(|| {
        g.last(Keyword::Default)
            .filter(|_| ctx.cfg.menu_module().is_some())
    })?;
    Some((s.pos, s.value.split_whitespace().next()?.to_string()))
}

pub(super) fn check(ctx: &mut Ctx<'_>, tree: &Tree) {
    let path: Vec<String> = ctx
        .cfg
        .globals
        .all(Keyword::Path)
        .flat_map(|s| {
            s.value
                .split([':', ' ', '\t'])
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    if tree.module_status("ldlinux.c32", &[]) != Status::File {
        let loc = Location {
            file: ctx.set.files[0].name.clone(),
            line: 1,
            column: 1,
        };
        ctx.push(Finding::new(
            Code::MissingLibrary,
            loc,
            format!("ldlinux.c32 is missing from `{}` (the PXELINUX prefix); pxelinux.0 5.x and later stops before reading this file", display_dir(tree)),
            "copy ldlinux.c32 from the same syslinux version as pxelinux.0 next to it",
        ));
    }
    if let Some((pos, module)) = menu_module_line(ctx) {
        module_check(ctx, tree, &path, pos, &module);
    }
    path_dirs(ctx, tree);
    commands(ctx, tree, &path);
    files(ctx, tree, &path);
    config_dir(ctx, tree);
}

/// PATH directories the TFTP server refuses (modules are never found there).
fn path_dirs(ctx: &mut Ctx<'_>, tree: &Tree) {
    let settings: Vec<_> = ctx.cfg.globals.all(Keyword::Path).cloned().collect();
    for s in settings {
        for dir in s.value.split([':', ' ', '\t']).filter(|p| !p.is_empty()) {
            let Target::Tftp(p) = tree.resolve(dir) else {
                continue;
            };
            if let Located::Refused(r) = tree.locate(&p) {
                let at = ctx.arg_loc(s.pos);
                ctx.push(refused(at, "PATH directory", dir, r));
            }
        }
    }
}

/// DEFAULT (without UI) and ONTIMEOUT that name a file rather than a label.
fn commands(ctx: &mut Ctx<'_>, tree: &Tree, path: &[String]) {
    let menu_module = ctx.cfg.menu_module();
    for (kw, code) in [
        (Keyword::Default, Code::DefaultTargetMissing),
        (Keyword::OnTimeout, Code::OnTimeoutTargetMissing),
    ] {
        if kw == Keyword::Default && ctx.cfg.has_ui() {
            continue;
        }
        let Some(s) = ctx.cfg.globals.last(kw).cloned() else {
            continue;
        };
        let word = s.value.split_whitespace().next().unwrap_or("").to_string();
        let is_label = ctx.cfg.find_label(&word, false).is_some()
            || ctx.cfg.find_label(s.value.trim_end(), true).is_some();
        if word.is_empty() || is_label || menu_module.as_deref() == Some(word.as_str()) {
            continue;
        }
        if word.ends_with(".c32") {
            module_check(ctx, tree, path, s.pos, &word);
        } else {
            let col = ctx
                .set
                .line(s.pos)
                .directive()
                .map_or(0, |d| d.arg_span.start);
            missing(
                ctx,
                tree,
                code,
                s.pos,
                col,
                "file (no label has this name)",
                &word,
            );
        }
    }
}

fn display_dir(tree: &Tree) -> String {
    if tree.prefix.is_empty() {
        "/".to_string()
    } else {
        tree.prefix.clone()
    }
}

fn module_check(ctx: &mut Ctx<'_>, tree: &Tree, path: &[String], pos: Pos, module: &str) {
    match tree.module_status(module, path) {
        Status::Missing => {
            let at = ctx.arg_loc(pos);
            ctx.push(Finding::new(
                Code::MissingModule,
                at,
                format!(
                    "module `{module}` not found in `{}` or PATH",
                    display_dir(tree)
                ),
                "copy it from the syslinux version pxelinux.0 comes from",
            ));
        }
        Status::Refused(r) => {
            let at = ctx.arg_loc(pos);
            ctx.push(refused(at, "module", module, r));
            return;
        }
        Status::File | Status::Elsewhere => {}
    }
    for dep in deps_of(module) {
        if tree.module_status(dep, path) == Status::Missing {
            let at = ctx.arg_loc(pos);
            ctx.push(Finding::new(
                Code::MissingLibrary,
                at,
                format!(
                    "{module} needs {dep}, which is not in `{}` or PATH",
                    display_dir(tree)
                ),
                format!("copy {dep} from the same syslinux version next to {module}"),
            ));
        }
    }
}

fn missing(
    ctx: &mut Ctx<'_>,
    tree: &Tree,
    code: Code,
    pos: Pos,
    col: usize,
    what: &str,
    name: &str,
) {
    match tree.status(name) {
        Status::File | Status::Elsewhere => return,
        Status::Refused(r) => {
            let at = ctx.loc(pos, col);
            ctx.push(refused(at, what, name, r));
            return;
        }
        Status::Missing => {}
    }
    let Target::Tftp(p) = tree.resolve(name) else {
        return;
    };
    let at = ctx.loc(pos, col);
    let beside = format!("pxelinux.cfg/{}", name.trim_start_matches('/'));
    let hint = if tree.status(&beside) == Status::File {
        format!("`{beside}` exists: names are relative to the prefix, not to pxelinux.cfg/; write `{beside}`")
    } else if name.starts_with('/') {
        "a leading `/` stays under the prefix; write `::/path` to start at the TFTP root"
            .to_string()
    } else {
        format!(
            "names are relative to the prefix `{}`, not to pxelinux.cfg/",
            display_dir(tree)
        )
    };
    ctx.push(Finding::new(
        code,
        at,
        format!("{what} `{name}` not found (TFTP path `{p}`)"),
        hint,
    ));
}

fn files(ctx: &mut Ctx<'_>, tree: &Tree, path: &[String]) {
    let labels = ctx.cfg.labels.clone();
    for label in &labels {
        let Some(file) = label.kernel_file() else {
            continue;
        };
        let (kind, pos) = match &label.kernel {
            Some((t, s)) => (*t, s.pos),
            None => (KernelType::Kernel, label.pos),
        };
        let col = ctx
            .set
            .line(pos)
            .directive()
            .map_or(0, |d| d.arg_span.start);
        if kind == KernelType::Com32 || file.ends_with(".c32") {
            module_check(ctx, tree, path, pos, file);
        } else if kind == KernelType::Config {
            missing(
                ctx,
                tree,
                Code::MissingKernel,
                pos,
                col,
                "CONFIG file",
                file,
            );
        } else {
            let what = if label.kernel.is_none() {
                "kernel (the label name, no KERNEL line)"
            } else {
                "kernel"
            };
            missing(ctx, tree, Code::MissingKernel, pos, col, what, file);
        }
        if let Some(initrd) = &label.initrd {
            let start = ctx
                .set
                .line(initrd.pos)
                .directive()
                .map_or(0, |d| d.arg_span.start);
            let mut off = 0;
            for part in initrd.value.split(',') {
                let name = part.trim();
                if !name.is_empty() {
                    missing(
                        ctx,
                        tree,
                        Code::MissingInitrd,
                        initrd.pos,
                        start + off,
                        "initrd",
                        name,
                    );
                }
                off += part.len() + 1;
            }
        } else {
            let append = effective_append(label, &ctx.cfg.globals).to_string();
            let apos = label
                .append
                .as_ref()
                .or_else(|| ctx.cfg.globals.last(Keyword::Append))
                .map(|s| s.pos);
            if let (Some(apos), Some(idx)) = (apos, append.find("initrd=")) {
                let start = ctx
                    .set
                    .line(apos)
                    .directive()
                    .map_or(0, |d| d.arg_span.start)
                    + idx
                    + 7;
                let list = append[idx + 7..]
                    .split_whitespace()
                    .next()
                    .unwrap_or("")
                    .to_string();
                for name in list.split(',').filter(|n| !n.is_empty()) {
                    missing(ctx, tree, Code::MissingInitrd, apos, start, "initrd", name);
                }
            }
        }
    }
    for (pos, line) in ctx.set.lines().collect::<Vec<_>>() {
        let Some(d) = line.directive() else { continue };
        let arg = line.arg();
        let first = arg.split_whitespace().next().unwrap_or("").to_string();
        let col = d.arg_span.start;
        let what = match d.keyword {
            Keyword::FKey(_) => "help file",
            Keyword::Display => "display file",
            Keyword::Font => "font",
            Keyword::KbdMap => "keymap",
            Keyword::Menu(MenuKeyword::Background) if !first.starts_with('#') => "background",
            Keyword::Menu(MenuKeyword::Help) => "help file",
            _ => continue,
        };
        if !first.is_empty() {
            missing(ctx, tree, Code::MissingFile, pos, col, what, &first);
        }
        // `F1 file background` and `MENU HELP file background`.
        if matches!(
            d.keyword,
            Keyword::FKey(_) | Keyword::Menu(MenuKeyword::Help)
        ) {
            if let Some(bg) = arg
                .split_whitespace()
                .nth(1)
                .filter(|b| !b.starts_with('#'))
            {
                let off = arg.find(bg).unwrap_or(0);
                missing(
                    ctx,
                    tree,
                    Code::MissingFile,
                    pos,
                    col + off,
                    "background",
                    bg,
                );
            }
        }
    }
}

fn config_dir(ctx: &mut Ctx<'_>, tree: &Tree) {
    let Located::Dir(dir) = tree.locate(&format!("{}pxelinux.cfg", tree.prefix)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        if let Some(why) = unrequested_name(&name) {
            let loc = Location {
                file: format!("{}pxelinux.cfg/{name}", tree.prefix),
                line: 1,
                column: 1,
            };
            ctx.push(Finding::new(
                Code::ConfigFileName,
                loc,
                format!("PXELINUX never requests `pxelinux.cfg/{name}`"),
                format!("rename the file: {why}"),
            ));
        }
    }
}
