//! Checks that look at one line at a time.

use super::Ctx;
use crate::directive::{self, KernelType, Keyword, MenuKeyword, COLOR_NAMES};
use crate::finding::{Code, Finding};
use crate::model::Pos;
use crate::syntax::{LineKind, MAX_LINE};

pub(super) fn check(ctx: &mut Ctx<'_>) {
    let uses_menu = ctx.cfg.uses_menu();
    let order = ctx.set.order.clone();
    for pos in order {
        let line = ctx.set.line(pos);
        if ctx.set.files[pos.file].doc.is_split(pos.line) {
            let at = ctx.loc(pos, MAX_LINE);
            ctx.push(Finding::new(
                Code::LineTooLong,
                at,
                format!("line is longer than {MAX_LINE} bytes; syslinux reads the rest from here on as a new line"),
                "split the line, or shorten it",
            ));
        }
        match &line.kind {
            LineKind::Unknown { word } => {
                let w = String::from_utf8_lossy(&line.raw[word.clone()]).into_owned();
                let at = ctx.loc(pos, word.start);
                let stem = w.split('=').next().unwrap_or(&w).to_string();
                let hint = match suggest(&stem, directive::top_level_words()) {
                    Some(s) if stem.eq_ignore_ascii_case(s) => {
                        format!(
                            "write `{} {}` with a space (a keyword must be followed by whitespace)",
                            s.to_uppercase(),
                            w[stem.len()..].trim_start_matches('=')
                        )
                    }
                    Some(s) => format!("did you mean `{}`?", s.to_uppercase()),
                    None => "remove the line, or start it with `#` if it is a comment".to_string(),
                };
                ctx.push(Finding::new(
                    Code::UnknownKeyword,
                    at,
                    format!("unknown keyword `{w}` is ignored"),
                    hint,
                ));
            }
            LineKind::Directive(d) => {
                let kw = d.keyword;
                if let Keyword::Menu(MenuKeyword::Unknown) = kw {
                    unknown_menu_word(ctx, pos);
                } else if !kw.readers().ldlinux && !uses_menu {
                    let at = ctx.kw_loc(pos);
                    ctx.push(Finding::new(
                        Code::MenuOnlyKeyword,
                        at,
                        format!("`{}` is read only by menu.c32/vesamenu.c32, and no UI menu module is set", ctx.set.line(pos).keyword_text()),
                        "add `UI menu.c32` (or vesamenu.c32), or remove the line",
                    ));
                }
                directive_checks(ctx, pos, kw);
            }
            LineKind::Blank | LineKind::Comment | LineKind::Text => {}
        }
    }
    unterminated_text(ctx);
}

fn unknown_menu_word(ctx: &mut Ctx<'_>, pos: Pos) {
    let line = ctx.set.line(pos);
    let eff = line.effective();
    let start = directive::skip_space(eff, line.indent() + 4);
    let len = eff[start..].iter().take_while(|&&b| b > b' ').count();
    let w = String::from_utf8_lossy(&eff[start..start + len]).into_owned();
    let hint = match suggest(&w, directive::menu_words()) {
        Some(s) => format!("did you mean `MENU {}`?", s.to_uppercase()),
        None => "see syslinux doc/menu.txt for the MENU keywords".to_string(),
    };
    let msg = if w.is_empty() {
        "`MENU` without a keyword is ignored".to_string()
    } else {
        format!("unknown `MENU {w}` is ignored")
    };
    let at = ctx.loc(pos, start);
    ctx.push(Finding::new(Code::UnknownMenuKeyword, at, msg, hint));
}

fn directive_checks(ctx: &mut Ctx<'_>, pos: Pos, kw: Keyword) {
    let line = ctx.set.line(pos);
    let arg = line.arg();
    match kw {
        Keyword::Timeout | Keyword::TotalTimeout => {
            let v = atoi(&arg);
            if (1..=30).contains(&v) {
                let at = ctx.arg_loc(pos);
                let k = if kw == Keyword::Timeout {
                    "TIMEOUT"
                } else {
                    "TOTALTIMEOUT"
                };
                ctx.push(Finding::new(
                    Code::TimeoutSeconds,
                    at,
                    format!("{k} {v} waits {}.{} s: the unit is 1/10 s", v / 10, v % 10),
                    format!("for {v} seconds write `{k} {}`", v * 10),
                ));
            }
        }
        Keyword::NoHalt => {
            // syslinux reads the value at keyword start + 8 instead of + 6.
            let eff = line.effective();
            let from = (line.indent() + 8).min(eff.len());
            let read = atoi(&String::from_utf8_lossy(
                &eff[directive::skip_space(eff, from)..],
            ));
            let meant = atoi(&arg);
            if read != meant {
                let at = ctx.arg_loc(pos);
                ctx.push(Finding::new(
                    Code::NoHaltBug,
                    at,
                    format!(
                        "`NOHALT {}` is read as {read} (syslinux skips two bytes too many)",
                        arg.trim_end()
                    ),
                    "pad the value: `NOHALT   1` (three spaces) is read as 1",
                ));
            }
        }
        Keyword::FKey(0) => {
            let at = ctx.kw_loc(pos);
            ctx.push(Finding::new(
                Code::F0Bug,
                at,
                "F0 is stored as F11, not F10",
                "write F10 for the F10 key (or F11 if F11 is meant)",
            ));
        }
        Keyword::Kernel(t) => {
            let file = arg.split_whitespace().next().unwrap_or("");
            let removed = matches!(t, KernelType::ComBoot | KernelType::FdImage)
                || (t == KernelType::Kernel
                    && [".com", ".cbt", ".img"].iter().any(|s| file.ends_with(s)));
            if removed {
                let at = ctx.kw_loc(pos);
                ctx.push(Finding::new(
                    Code::RemovedImageType,
                    at,
                    format!("`{}` loads a COMBOOT or floppy image, which syslinux 5 and later cannot run", line.keyword_text()),
                    "boot the image with memdisk (`KERNEL memdisk` + `INITRD image`) or use a COM32 module",
                ));
            }
            hash_in_arg(ctx, pos, "the kernel file name and arguments");
            absolute_path(ctx, pos, file);
        }
        Keyword::Append => {
            hash_in_arg(ctx, pos, "the kernel command line");
            let start = line.directive().map_or(0, |d| d.arg_span.start);
            if let Some(i) = arg
                .find("initrd=/")
                .filter(|&i| i == 0 || arg.as_bytes()[i - 1] <= b' ')
            {
                let file = arg[i + 7..]
                    .split([',', ' ', '\t'])
                    .next()
                    .unwrap_or("")
                    .to_string();
                absolute_path_at(ctx, pos, start + i + 7, &file);
            }
        }
        Keyword::Initrd => {
            hash_in_arg(ctx, pos, "the initrd list");
            let first = arg.split(',').next().unwrap_or("").trim().to_string();
            absolute_path(ctx, pos, &first);
        }
        Keyword::Default | Keyword::OnTimeout | Keyword::Ui | Keyword::Label => {
            hash_in_arg(ctx, pos, "the value");
        }
        Keyword::Menu(MenuKeyword::Color) => color(ctx, pos, &arg),
        _ => {}
    }
}

fn hash_in_arg(ctx: &mut Ctx<'_>, pos: Pos, what: &str) {
    let line = ctx.set.line(pos);
    let Some(d) = line.directive() else { return };
    let arg = &line.raw[d.arg_span.clone()];
    let hit = arg
        .iter()
        .enumerate()
        .find(|&(i, &b)| b == b'#' && (i == 0 || arg[i - 1] <= b' '));
    if let Some((i, _)) = hit {
        let tail = String::from_utf8_lossy(&arg[i..]).trim_end().to_string();
        let at = ctx.loc(pos, d.arg_span.start + i);
        ctx.push(Finding::new(
            Code::HashInArgument,
            at,
            format!("`{tail}` is not a comment: it becomes part of {what}"),
            "move the comment to its own line starting with `#`",
        ));
    }
}

fn absolute_path(ctx: &mut Ctx<'_>, pos: Pos, file: &str) {
    let col = ctx
        .set
        .line(pos)
        .directive()
        .map_or(0, |d| d.arg_span.start);
    absolute_path_at(ctx, pos, col, file);
}

fn absolute_path_at(ctx: &mut Ctx<'_>, pos: Pos, col: usize, file: &str) {
    if file.starts_with('/') && !file.starts_with("//") {
        let at = ctx.loc(pos, col);
        ctx.push(Finding::new(
            Code::AbsolutePath,
            at,
            format!("`{file}` is read relative to the PXELINUX prefix (the boot file's directory or option 210), not the TFTP root"),
            format!("write `{}` relative to the prefix, or `::{file}` to name it from the TFTP root", file.trim_start_matches('/')),
        ));
    }
}

fn color(ctx: &mut Ctx<'_>, pos: Pos, arg: &str) {
    let mut words = arg.split_whitespace();
    let name = words.next().unwrap_or("");
    let msg_slot = name.len() == 5
        && name.to_ascii_lowercase().starts_with("msg")
        && name[3..].bytes().all(|b| b.is_ascii_hexdigit());
    let mut problem = None;
    if !COLOR_NAMES.iter().any(|c| c.eq_ignore_ascii_case(name)) && !msg_slot {
        let hint = suggest(name, COLOR_NAMES.iter().copied())
            .map_or(String::new(), |s| format!(" (did you mean `{s}`?)"));
        problem = Some(format!("unknown colour name `{name}`{hint}"));
    } else if let Some(ansi) = words.next() {
        if ansi != "*" && !ansi.bytes().all(|b| b.is_ascii_digit() || b == b';') {
            problem = Some(format!(
                "`{ansi}` is not an ANSI attribute list like `1;36;44`"
            ));
        }
        for c in words.by_ref().take(2) {
            if problem.is_none() && c != "*" && !is_argb(c) {
                problem = Some(format!("`{c}` is not a colour (#AARRGGBB, #RRGGBB, #ARGB, #RGB or *); it shows as bright red"));
            }
        }
        if let Some(s) = words.next() {
            let ok = ["none", "std", "standard", "all", "rev", "reverse", "*"];
            if problem.is_none() && !ok.iter().any(|o| o.eq_ignore_ascii_case(s)) {
                problem = Some(format!("`{s}` is not a shadow mode (none, std, all, rev)"));
            }
        }
    }
    if let Some(p) = problem {
        let at = ctx.arg_loc(pos);
        ctx.push(Finding::new(
            Code::BadColor,
            at,
            p,
            "MENU COLOR name ansi #AARRGGBB #AARRGGBB shadow; see doc/menu.txt",
        ));
    }
}

fn is_argb(c: &str) -> bool {
    c.strip_prefix('#').is_some_and(|h| {
        matches!(h.len(), 3 | 4 | 6 | 8) && h.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

fn unterminated_text(ctx: &mut Ctx<'_>) {
    for (file, f) in ctx.set.files.iter().enumerate() {
        let mut open = None;
        for (i, l) in f.doc.lines.iter().enumerate() {
            match l.directive().map(|d| d.keyword) {
                Some(Keyword::Text) if open.is_none() => open = Some(i),
                Some(Keyword::EndText) => open = None,
                _ => {}
            }
        }
        if let Some(line) = open {
            let at = ctx.loc(Pos { file, line }, f.doc.lines[line].indent());
            ctx.push(Finding::new(
                Code::UnterminatedText,
                at,
                "TEXT block has no ENDTEXT: every following line is swallowed",
                "add a line `ENDTEXT` after the help text",
            ));
        }
    }
}

/// `atoi()`: optional sign and leading decimal digits after leading whitespace.
pub(crate) fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits: String = body
        .chars()
        .take_while(char::is_ascii_digit)
        .take(18)
        .collect();
    let v = digits.parse::<i64>().unwrap_or(0);
    if neg {
        -v
    } else {
        v
    }
}

/// The closest candidate within edit distance 2 (case-insensitive).
pub(crate) fn suggest<'a>(
    word: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let w = word.to_ascii_lowercase();
    if w.len() < 2 {
        return None;
    }
    candidates
        .map(|c| (distance(&w, c), c))
        .filter(|&(d, c)| d <= 2 && d < c.len().max(2))
        .min_by_key(|&(d, _)| d)
        .map(|(_, c)| c)
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::lint_bytes;

    fn one(src: &str, code: Code) -> Finding {
        let all = lint_bytes("t", src.as_bytes());
        all.iter()
            .find(|f| f.code == code)
            .cloned()
            .unwrap_or_else(|| panic!("no {code} in {all:#?}"))
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            suggest("kernal", directive::top_level_words()),
            Some("kernel")
        );
        assert_eq!(suggest("lable", directive::menu_words()), Some("label"));
        assert_eq!(suggest("zzzzzzzz", directive::top_level_words()), None);
        assert!(one("TIMOUT 50\n", Code::UnknownKeyword)
            .hint
            .contains("TIMEOUT"));
        assert!(one("timeout=50\n", Code::UnknownKeyword)
            .hint
            .contains("TIMEOUT 50"));
        assert!(one("MENU TILTE x\n", Code::UnknownMenuKeyword)
            .hint
            .contains("MENU TITLE"));
    }

    #[test]
    fn long_lines() {
        let long = format!("LABEL a\n APPEND {}LABEL b\n", "x".repeat(4100));
        let f = one(&long, Code::LineTooLong);
        assert_eq!((f.location.line, f.location.column), (2, 4096));
    }

    #[test]
    fn parser_bugs() {
        assert!(one("NOHALT 1\n", Code::NoHaltBug)
            .message
            .contains("read as 0"));
        assert!(lint_bytes("t", b"NOHALT   1\n")
            .iter()
            .all(|f| f.code != Code::NoHaltBug));
        assert_eq!(one("F0 help.txt\n", Code::F0Bug).location.column, 1);
    }

    #[test]
    fn values_and_arguments() {
        assert!(one("TIMEOUT 5\n", Code::TimeoutSeconds)
            .hint
            .contains("TIMEOUT 50"));
        let f = one("LABEL a\n\tkernel vmlinuz # note\n", Code::HashInArgument);
        assert_eq!((f.location.line, f.location.column), (2, 17));
        assert!(lint_bytes("t", b"LABEL a\n APPEND a=#b\n")
            .iter()
            .all(|f| f.code != Code::HashInArgument));
        one("LABEL a\n COMBOOT x.com\n", Code::RemovedImageType);
        one("LABEL a\n KERNEL /c/vmlinuz\n", Code::AbsolutePath);
        assert_eq!(
            one("LABEL a\n APPEND x initrd=/c/i.img\n", Code::AbsolutePath)
                .location
                .column,
            18
        );
        one(
            "UI menu.c32\nMENU COLOR sel 7;37;40 #zz #00000000 std\n",
            Code::BadColor,
        );
        one("UI menu.c32\nMENU COLOR slected 7\n", Code::BadColor);
        assert!(lint_bytes(
            "t",
            b"UI menu.c32\nMENU COLOR sel 7;37;40 #e0ffffff #20ff8000 all\n"
        )
        .iter()
        .all(|f| f.code != Code::BadColor));
        one("TEXT HELP\nhello\n", Code::UnterminatedText);
        one("MENU RESOLUTION 640 480\n", Code::MenuOnlyKeyword);
    }
}
