//! Checks on the model: label names, DEFAULT / ONTIMEOUT / MENU GOTO targets,
//! menu nesting.

use std::collections::HashMap;

use super::Ctx;
use crate::directive::{Keyword, MenuKeyword};
use crate::finding::{Code, Finding};
use crate::model::{Label, Pos};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    names(ctx);
    defaults(ctx);
    targets(ctx);
    menus(ctx);
}

fn names(ctx: &mut Ctx<'_>) {
    let labels: Vec<Label> = ctx.cfg.labels.clone();
    let mut cli: HashMap<&str, &Label> = HashMap::new();
    let mut menu: HashMap<&str, &Label> = HashMap::new();
    for l in &labels {
        let first_cli = cli.get(l.cli_name.as_str()).copied();
        let first_menu = menu.get(l.menu_name.as_str()).copied();
        if let Some(first) = first_cli.or(first_menu).filter(|f| conflicts(ctx, f, l)) {
            let at = ctx.arg_loc(l.pos);
            let first_at = ctx.arg_loc(first.pos);
            let msg = if first.menu_name == l.menu_name {
                format!("label `{}` is already defined at {first_at}", l.menu_name)
            } else {
                format!(
                    "label `{}` is `{}` to ldlinux, like `{}` at {first_at}",
                    l.menu_name, l.cli_name, first.menu_name
                )
            };
            ctx.push(Finding::new(
                Code::DuplicateLabel,
                at,
                msg,
                "give every LABEL a unique one-word name; put the text users see in MENU LABEL",
            ));
        }
        cli.entry(&l.cli_name).or_insert(l);
        menu.entry(&l.menu_name).or_insert(l);
        if l.menu_name.trim_end().contains(|c: char| c <= ' ') {
            let at = ctx.arg_loc(l.pos);
            ctx.push(Finding::new(
                Code::LabelWithSpace,
                at,
                format!(
                    "label `{}` contains a space: ldlinux (DEFAULT, ONTIMEOUT, the boot prompt) calls it `{}`, menu.c32 `{}`",
                    l.menu_name.trim_end(),
                    l.cli_name,
                    l.menu_name
                ),
                format!(
                    "use `LABEL {}` and `MENU LABEL {}`",
                    l.menu_name.split_whitespace().collect::<Vec<_>>().join("_"),
                    l.menu_name.trim_end()
                ),
            ));
        }
    }
}

/// Two labels with one name conflict in the same menu; across submenus only when
/// both boot something and boot different things (Debian reuses `mainmenu` for
/// every MENU EXIT entry, which is harmless).
fn conflicts(ctx: &Ctx<'_>, a: &Label, b: &Label) -> bool {
    if a.disabled || b.disabled {
        return false;
    }
    if a.menu == b.menu {
        return true;
    }
    let sys = crate::cmdline::SysAppend::default();
    let cmd = |l: &Label| crate::cmdline::label_command(l, &ctx.cfg.globals, &sys);
    a.goto.is_none() && b.goto.is_none() && cmd(a) != cmd(b)
}

fn defaults(ctx: &mut Ctx<'_>) {
    let defaults: Vec<_> = ctx.cfg.globals.all(Keyword::Default).cloned().collect();
    for d in defaults.iter().skip(1) {
        let at = ctx.kw_loc(d.pos);
        ctx.push(Finding::new(
            Code::MultipleDefault,
            at,
            format!(
                "DEFAULT given {} times; the last one (`{}`) wins",
                defaults.len(),
                defaults.last().map_or("", |s| s.value.trim_end())
            ),
            "keep one DEFAULT line",
        ));
    }
    let has_ui = ctx.cfg.has_ui();
    let module = ctx.cfg.menu_module();
    if !has_ui {
        if let (Some(d), Some(m)) = (defaults.last(), &module) {
            let at = ctx.arg_loc(d.pos);
            ctx.push(Finding::new(
                Code::DefaultMenuModule,
                at,
                format!("`DEFAULT {m}` starts the menu the pre-4.x way"),
                format!("write `UI {m}` and let DEFAULT name the preselected label"),
            ));
        }
    }
    // Without any DEFAULT this is most likely a fragment INCLUDEd from a menu.
    if !has_ui && module.is_none() && !defaults.is_empty() {
        let menu_line = ctx.set.lines().find_map(|(p, l)| {
            matches!(
                l.directive().map(|d| d.keyword),
                Some(Keyword::Menu(
                    MenuKeyword::Label
                        | MenuKeyword::Title
                        | MenuKeyword::Begin
                        | MenuKeyword::Default
                ))
            )
            .then_some(p)
        });
        if let Some(mp) = menu_line {
            let at = match defaults.last() {
                Some(d) => ctx.kw_loc(d.pos),
                None => ctx.kw_loc(mp),
            };
            let what = defaults.last().map_or_else(
                || "without DEFAULT or UI".to_string(),
                |d| format!("`DEFAULT {}` without UI", d.value.trim_end()),
            );
            ctx.push(Finding::new(
                Code::DefaultWithoutUi,
                at,
                format!("{what}: no menu is shown, MENU lines (from line {}) are ignored and DEFAULT runs as a command", mp.line + 1),
                "add `UI menu.c32` (and ship menu.c32, libutil.c32) to show the menu; DEFAULT then preselects a label",
            ));
        }
    }
    for m in 0..ctx.cfg.menus.len() {
        let marked: Vec<Pos> = ctx
            .cfg
            .labels
            .iter()
            .filter(|l| l.menu == m)
            .filter_map(|l| l.menu_default)
            .collect();
        for p in marked.iter().skip(1) {
            let at = ctx.kw_loc(*p);
            ctx.push(Finding::new(
                Code::MultipleMenuDefault,
                at,
                format!(
                    "{} labels in this menu carry MENU DEFAULT; the last one wins",
                    marked.len()
                ),
                "keep MENU DEFAULT on one label",
            ));
        }
    }
}

/// Whether a command (DEFAULT without UI, ONTIMEOUT) can run: it names a label,
/// or its first word looks like a file (checked against the tree elsewhere).
fn command_target_ok(ctx: &Ctx<'_>, cmd: &str) -> bool {
    let word = cmd.split_whitespace().next().unwrap_or("");
    word.is_empty()
        || ctx.cfg.find_label(word, false).is_some()
        || ctx.cfg.find_label(cmd.trim_end(), true).is_some()
        || word.contains(['.', '/'])
}

fn targets(ctx: &mut Ctx<'_>) {
    let uses_menu = ctx.cfg.uses_menu();
    if let Some(d) = ctx.cfg.globals.last(Keyword::Default).cloned() {
        let ok = if ctx.cfg.has_ui() && uses_menu {
            ctx.cfg.find_label(&d.value, true).is_some() || command_target_ok(ctx, &d.value)
        } else {
            command_target_ok(ctx, &d.value)
        };
        if !ok {
            missing_target(ctx, Code::DefaultTargetMissing, "DEFAULT", d.pos, &d.value);
        }
    }
    if let Some(t) = ctx.cfg.globals.last(Keyword::OnTimeout).cloned() {
        if !command_target_ok(ctx, &t.value) {
            missing_target(
                ctx,
                Code::OnTimeoutTargetMissing,
                "ONTIMEOUT",
                t.pos,
                &t.value,
            );
        }
    }
    let tags: Vec<String> = ctx
        .cfg
        .menus
        .iter()
        .skip(1)
        .map(|m| m.tag.clone())
        .collect();
    let gotos: Vec<(Pos, String)> = ctx
        .cfg
        .labels
        .iter()
        .filter_map(|l| l.goto.as_ref())
        .map(|g| (g.pos, g.value.clone()))
        .collect();
    for (pos, tag) in gotos {
        let tag = tag.split_whitespace().next().unwrap_or("").to_string();
        let is_exit = ctx.set.line(pos).directive().map(|d| d.keyword)
            == Some(Keyword::Menu(MenuKeyword::Exit));
        if (tag.is_empty() && is_exit) || tag == ".top" || tags.contains(&tag) {
            continue;
        }
        let at = ctx.arg_loc(pos);
        let hint = match tags.first() {
            Some(t) => format!("name the tag of a `MENU BEGIN` block, e.g. `{t}`"),
            None => "add a `MENU BEGIN <tag>` … `MENU END` block with that tag".to_string(),
        };
        ctx.push(Finding::new(
            Code::GotoTargetMissing,
            at,
            format!("no `MENU BEGIN {tag}`: the entry is shown disabled"),
            hint,
        ));
    }
}

fn missing_target(ctx: &mut Ctx<'_>, code: Code, kw: &str, pos: Pos, value: &str) {
    let word = value.split_whitespace().next().unwrap_or("");
    let names: Vec<&str> = ctx.cfg.labels.iter().map(|l| l.cli_name.as_str()).collect();
    let hint = match super::lines::suggest(word, names.iter().copied()) {
        Some(s) => format!("did you mean `{kw} {s}`?"),
        None if names.is_empty() => {
            format!("define `LABEL {word}` or point {kw} at an existing label")
        }
        None => format!("use one of the labels: {}", names.join(", ")),
    };
    let at = ctx.arg_loc(pos);
    ctx.push(Finding::new(
        code,
        at,
        format!("{kw} `{}` names no label", value.trim_end()),
        hint,
    ));
}

fn menus(ctx: &mut Ctx<'_>) {
    let orphans = ctx.cfg.orphans.clone();
    for p in orphans {
        let at = ctx.kw_loc(p);
        let kw = ctx.set.line(p).keyword_text();
        ctx.push(Finding::new(
            Code::KernelOutsideLabel,
            at,
            format!("`{kw}` before any LABEL is ignored"),
            "put it under a LABEL, or use DEFAULT for a kernel without a label",
        ));
    }
    let unclosed: Vec<Pos> = ctx
        .cfg
        .menus
        .iter()
        .filter(|m| m.begin.is_some() && m.end.is_none())
        .filter_map(|m| m.begin)
        .collect();
    for p in unclosed {
        let at = ctx.kw_loc(p);
        ctx.push(Finding::new(
            Code::UnbalancedMenu,
            at,
            "MENU BEGIN without MENU END",
            "close the submenu with `MENU END`",
        ));
    }
    let stray = ctx.cfg.stray_ends.clone();
    for p in stray {
        let at = ctx.kw_loc(p);
        ctx.push(Finding::new(
            Code::UnbalancedMenu,
            at,
            "MENU END without MENU BEGIN",
            "remove it, or add the matching `MENU BEGIN`",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::finding::Code;
    use crate::validate::lint_bytes;

    fn codes(src: &str) -> Vec<Code> {
        lint_bytes("t", src.as_bytes())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn duplicate_and_spaced_labels() {
        let c = codes("UI menu.c32\nLABEL CentOS 7\n KERNEL a\nLABEL CentOS 7\n KERNEL b\n");
        assert!(c.contains(&Code::DuplicateLabel));
        assert!(c.contains(&Code::LabelWithSpace));
        assert!(codes("LABEL CentOS 7\nLABEL CentOS 8\n").contains(&Code::DuplicateLabel));
        assert!(!codes("LABEL a\nLABEL b\n").contains(&Code::DuplicateLabel));
        let disabled = "UI menu.c32\nLABEL -\n MENU DISABLE\nLABEL -\n MENU DISABLE\n";
        assert!(!codes(disabled).contains(&Code::DuplicateLabel));
    }

    #[test]
    fn targets_must_exist() {
        assert!(codes("DEFAULT nope\nLABEL a\n").contains(&Code::DefaultTargetMissing));
        assert!(!codes("DEFAULT a\nLABEL a\n").contains(&Code::DefaultTargetMissing));
        assert!(!codes("DEFAULT vmlinuz.efi quiet\n").contains(&Code::DefaultTargetMissing));
        assert!(codes("ONTIMEOUT lcoal\nLABEL local\n").contains(&Code::OnTimeoutTargetMissing));
        assert!(
            codes("UI menu.c32\nLABEL x\n MENU GOTO tools\n").contains(&Code::GotoTargetMissing)
        );
        assert!(!codes("UI menu.c32\nMENU BEGIN tools\nLABEL x\n MENU EXIT\nMENU END\nLABEL y\n MENU GOTO tools\n")
            .contains(&Code::GotoTargetMissing));
    }

    #[test]
    fn default_rules() {
        assert!(codes("DEFAULT a\nDEFAULT b\nLABEL a\nLABEL b\n").contains(&Code::MultipleDefault));
        assert!(codes("DEFAULT a\nLABEL a\n MENU LABEL A\n").contains(&Code::DefaultWithoutUi));
        assert!(!codes("UI menu.c32\nDEFAULT a\nLABEL a\n MENU LABEL A\n")
            .contains(&Code::DefaultWithoutUi));
        let c = codes("default menu.c32\nLABEL a\n MENU LABEL A\n");
        assert!(c.contains(&Code::DefaultMenuModule) && !c.contains(&Code::DefaultWithoutUi));
    }

    #[test]
    fn structure() {
        assert!(codes("KERNEL x\n").contains(&Code::KernelOutsideLabel));
        assert!(codes("UI menu.c32\nMENU BEGIN x\n").contains(&Code::UnbalancedMenu));
        assert!(codes("UI menu.c32\nMENU END\n").contains(&Code::UnbalancedMenu));
    }
}
