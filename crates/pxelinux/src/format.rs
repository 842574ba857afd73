//! The canonical formatter.
//!
//! It never changes what syslinux reads: keywords are upper-cased and separated
//! from their argument by one space, label bodies are indented by four spaces
//! (two more per `MENU BEGIN` level), comments follow the line after them, runs of
//! blank lines become one, line endings become `\n`. Arguments are kept byte for
//! byte, except trailing whitespace where syslinux ignores it (numbers, kernel and
//! initrd names, APPEND). `TEXT` bodies are kept raw. Formatting is idempotent.

use crate::directive::{Keyword, MenuKeyword};
use crate::syntax::{Document, Line, LineKind, MAX_LINE};

const BODY_INDENT: usize = 4;
const MENU_INDENT: usize = 2;

/// Format a document; returns the canonical bytes.
pub fn format(doc: &Document) -> Vec<u8> {
    let mut plan: Vec<Planned> = Vec::with_capacity(doc.lines.len());
    let mut depth = 0usize;
    let mut in_label = false;
    for (i, line) in doc.lines.iter().enumerate() {
        let p = match &line.kind {
            LineKind::Blank => Planned::Blank,
            LineKind::Text => Planned::Raw(strip_cr(&line.raw).to_vec()),
            _ if has_inner_cr(line) => Planned::Raw(line.raw.clone()),
            LineKind::Comment | LineKind::Unknown { .. } => {
                Planned::Floating(trim_end(&line.effective()[line.indent()..]).to_vec())
            }
            LineKind::Directive(d) => {
                let kw = d.keyword;
                let indent = match kw {
                    Keyword::Label => {
                        in_label = true;
                        depth * MENU_INDENT
                    }
                    Keyword::Menu(MenuKeyword::Begin) => {
                        in_label = false;
                        depth += 1;
                        (depth - 1) * MENU_INDENT
                    }
                    Keyword::Menu(MenuKeyword::End) => {
                        in_label = false;
                        depth = depth.saturating_sub(1);
                        depth * MENU_INDENT
                    }
                    Keyword::EndText => plan
                        .iter()
                        .rev()
                        .find_map(|p| match p {
                            Planned::Directive {
                                indent,
                                is_text: true,
                                ..
                            } => Some(*indent),
                            _ => None,
                        })
                        .unwrap_or(depth * MENU_INDENT),
                    k if in_label && k.is_label_scoped() => depth * MENU_INDENT + BODY_INDENT,
                    _ => depth * MENU_INDENT,
                };
                Planned::Directive {
                    indent,
                    text: directive_text(line, kw),
                    is_text: kw == Keyword::Text,
                }
            }
        };
        // Pieces of a physical line over 4095 bytes stay exactly as they are:
        // syslinux reads them as separate lines already, and re-indenting
        // them would move the split.
        let split = doc.is_split(i) || (i > 0 && doc.is_split(i - 1));
        plan.push(if split { Planned::Verbatim } else { p });
    }
    render(&plan, doc)
}

/// Parse and format bytes.
pub fn format_bytes(input: &[u8]) -> Vec<u8> {
    format(&Document::parse(input))
}

enum Planned {
    Blank,
    Verbatim,
    Raw(Vec<u8>),
    Floating(Vec<u8>),
    Directive {
        indent: usize,
        text: Vec<u8>,
        is_text: bool,
    },
}

fn render(plan: &[Planned], doc: &Document) -> Vec<u8> {
    let mut out = Vec::new();
    let mut pending_blank = false;
    let mut any = false;
    for (i, p) in plan.iter().enumerate() {
        let line = &doc.lines[i];
        let (indent, body): (usize, &[u8]) = match p {
            Planned::Blank => {
                pending_blank = any;
                continue;
            }
            Planned::Verbatim => (0, &line.raw),
            Planned::Raw(b) => (0, b),
            Planned::Directive { indent, text, .. } => (*indent, text),
            Planned::Floating(b) => {
                let next = plan[i + 1..].iter().find_map(|q| match q {
                    Planned::Directive { indent, .. } => Some(*indent),
                    Planned::Raw(_) | Planned::Verbatim => Some(0),
                    _ => None,
                });
                (next.unwrap_or(0), b)
            }
        };
        if pending_blank {
            out.push(b'\n');
            pending_blank = false;
        }
        any = true;
        // A line that would no longer fit syslinux's buffer is kept as it was.
        if matches!(p, Planned::Verbatim) || indent + body.len() >= MAX_LINE {
            out.extend_from_slice(&line.raw);
            if line.newline {
                out.push(b'\n');
            }
            continue;
        }
        out.extend(std::iter::repeat_n(b' ', indent));
        out.extend_from_slice(body);
        out.push(b'\n');
    }
    out
}

fn directive_text(line: &Line, kw: Keyword) -> Vec<u8> {
    let d = line.directive().expect("directive line");
    let written = &line.raw[d.keyword_span.clone()];
    let mut text: Vec<u8> = match kw.canonical() {
        Some(c) => c.as_bytes().to_vec(),
        None => {
            let mut v = Vec::new();
            for (i, w) in written
                .split(|&b| b <= b' ')
                .filter(|w| !w.is_empty())
                .enumerate()
            {
                if i > 0 {
                    v.push(b' ');
                }
                v.extend(w.iter().map(u8::to_ascii_uppercase));
            }
            v
        }
    };
    let arg = &line.raw[d.arg_span.clone()];
    let arg = if trailing_space_ignored(kw) {
        trim_end(arg)
    } else {
        arg
    };
    if !arg.is_empty() {
        text.push(b' ');
        match crate::directive::looking_at(arg, "help") {
            // `TEXT help` is matched case-insensitively: canonical spelling is HELP.
            Some(end) if kw == Keyword::Text => {
                text.extend_from_slice(b"HELP");
                text.extend_from_slice(&arg[end..]);
            }
            _ => text.extend_from_slice(arg),
        }
    }
    text
}

fn trailing_space_ignored(kw: Keyword) -> bool {
    matches!(
        kw,
        Keyword::Append
            | Keyword::Initrd
            | Keyword::Kernel(_)
            | Keyword::Timeout
            | Keyword::TotalTimeout
            | Keyword::Prompt
            | Keyword::NoEscape
            | Keyword::NoComplete
            | Keyword::Implicit
            | Keyword::AllowOptions
            | Keyword::IpAppend
            | Keyword::SysAppend
            | Keyword::Console
            | Keyword::PxeRetry
            | Keyword::Include
            | Keyword::Ui
            | Keyword::EndText
            | Keyword::Menu(
                MenuKeyword::Layout | MenuKeyword::End | MenuKeyword::Hide | MenuKeyword::Default
            )
    )
}

fn has_inner_cr(line: &Line) -> bool {
    let r = strip_cr(&line.raw);
    r.contains(&b'\r')
}

fn strip_cr(raw: &[u8]) -> &[u8] {
    let end = raw.iter().rposition(|&c| c != b'\r').map_or(0, |i| i + 1);
    &raw[..end]
}

fn trim_end(b: &[u8]) -> &[u8] {
    let end = b.iter().rposition(|&c| c > b' ').map_or(0, |i| i + 1);
    &b[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(s: &str) -> String {
        String::from_utf8(format_bytes(s.as_bytes())).unwrap()
    }

    #[test]
    fn canonical_layout() {
        let src = "\n\ndefault  menu.c32\r\n\n\n# entries\nlabel a\n\t# the kernel\n\tkernel   vmlinuz  \nmenu   label ^A \n  timeout 50\nmenu begin x\nlabel b\n menu hide\nmenu end\n\n";
        let want = "DEFAULT menu.c32\n\n# entries\nLABEL a\n    # the kernel\n    KERNEL vmlinuz\n    MENU LABEL ^A \nTIMEOUT 50\nMENU BEGIN x\n  LABEL b\n      MENU HIDE\nMENU END\n";
        assert_eq!(fmt(src), want);
        assert_eq!(fmt(want), want);
    }

    #[test]
    fn text_blocks_stay_raw() {
        let src = "label a\ntext help\n   keep   this  \r\n endtext\n";
        assert_eq!(
            fmt(src),
            "LABEL a\n    TEXT HELP\n   keep   this  \n    ENDTEXT\n"
        );
    }

    #[test]
    fn over_long_lines_stay_as_they_are() {
        let long = format!("label a\n append {}\nkernel k\n", "x".repeat(5000));
        let once = format_bytes(long.as_bytes());
        assert_eq!(format_bytes(&once), once);
        assert!(once.starts_with(b"LABEL a\n append xxx"));
        let edge = format!("label a\nappend {}", "y".repeat(4088));
        let once = format_bytes(edge.as_bytes());
        assert_eq!(format_bytes(&once), once);
    }

    #[test]
    fn keeps_meaningful_trailing_space() {
        assert_eq!(fmt("DEFAULT x \nLABEL x \n"), "DEFAULT x \nLABEL x \n");
    }
}
