//! The lossless syntax tree: one [`Line`] per physical line, every byte kept.
//!
//! syslinux reads a file with `fgets()`, cuts each line at the first `\r` or `\n`,
//! skips leading whitespace and matches the first word. Nothing is quoted or
//! escaped, `#` is only special as the first byte of a line, and `TEXT` … `ENDTEXT`
//! blocks are taken raw. [`Document::to_bytes`] returns exactly the parsed input.

use std::ops::Range;

use crate::directive::{recognize, skip_space, Keyword};

/// syslinux reads lines with `fgets()` into a 4096-byte buffer: a physical line
/// longer than 4095 bytes (its `\n` counted) is read as several lines. The tree
/// keeps those pieces as separate [`Line`]s, all but the last without `newline`.
pub const MAX_LINE: usize = 4095;

/// What a line is, as syslinux sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineKind {
    /// Empty or whitespace only.
    Blank,
    /// First non-blank byte is `#` (syslinux ignores it as an unknown word).
    Comment,
    /// A recognized keyword.
    Directive(Directive),
    /// A first word neither parser knows; syslinux ignores the line silently.
    Unknown {
        /// Byte range of the unknown word.
        word: Range<usize>,
    },
    /// A line inside a `TEXT` block (kept raw; never parsed as a directive).
    Text,
}

/// A directive line: keyword and argument byte ranges within [`Line::raw`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Directive {
    /// The keyword.
    pub keyword: Keyword,
    /// Range of the keyword words (e.g. `MENU   LABEL`).
    pub keyword_span: Range<usize>,
    /// Range of the argument: after the whitespace following the keyword up to the
    /// end of the effective text (trailing whitespace included, as syslinux keeps it).
    pub arg_span: Range<usize>,
}

/// One physical line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The bytes of the line without the terminating `\n` (a `\r` stays here).
    pub raw: Vec<u8>,
    /// Whether a `\n` followed the line.
    pub newline: bool,
    /// The classification.
    pub kind: LineKind,
}

impl Line {
    /// The part syslinux reads: up to the first `\r`.
    pub fn effective(&self) -> &[u8] {
        let end = self
            .raw
            .iter()
            .position(|&b| b == b'\r')
            .unwrap_or(self.raw.len());
        &self.raw[..end]
    }

    /// The directive, if this line is one.
    pub fn directive(&self) -> Option<&Directive> {
        match &self.kind {
            LineKind::Directive(d) => Some(d),
            _ => None,
        }
    }

    /// The argument bytes of a directive line (empty otherwise).
    pub fn arg_bytes(&self) -> &[u8] {
        self.directive()
            .map_or(&[][..], |d| &self.raw[d.arg_span.clone()])
    }

    /// The argument as text (invalid UTF-8 replaced).
    pub fn arg(&self) -> String {
        String::from_utf8_lossy(self.arg_bytes()).into_owned()
    }

    /// The keyword as written (e.g. `MENU   label`).
    pub fn keyword_text(&self) -> String {
        self.directive().map_or_else(String::new, |d| {
            String::from_utf8_lossy(&self.raw[d.keyword_span.clone()]).into_owned()
        })
    }

    /// Offset of the first non-blank byte.
    pub fn indent(&self) -> usize {
        skip_space(self.effective(), 0)
    }

    /// The whole line as text (invalid UTF-8 replaced, `\r` kept).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }
}

/// A parsed configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// The lines, in order.
    pub lines: Vec<Line>,
}

impl Document {
    /// Parse bytes. Never fails: every byte sequence is a configuration syslinux would read.
    pub fn parse(input: &[u8]) -> Self {
        let mut lines = Vec::new();
        let mut in_text = false;
        let mut rest = input;
        while !rest.is_empty() {
            // fgets() into a 4096-byte buffer: at most 4095 bytes, `\n` included.
            let limit = rest.len().min(MAX_LINE);
            let (raw, newline, next) = match rest[..limit].iter().position(|&b| b == b'\n') {
                Some(i) => (&rest[..i], true, &rest[i + 1..]),
                None => (&rest[..limit], false, &rest[limit..]),
            };
            rest = next;
            let (kind, opens_text) = classify(raw, in_text);
            in_text = opens_text;
            lines.push(Line {
                raw: raw.to_vec(),
                newline,
                kind,
            });
        }
        Self { lines }
    }

    /// Parse a string.
    pub fn parse_str(input: &str) -> Self {
        Self::parse(input.as_bytes())
    }

    /// The exact bytes that were parsed.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.raw.len() + 1).sum());
        for line in &self.lines {
            out.extend_from_slice(&line.raw);
            if line.newline {
                out.push(b'\n');
            }
        }
        out
    }

    /// Build a document from lines of text, re-classifying them (used by the
    /// formatter and the builder). Every line gets a `\n`.
    pub fn from_text_lines<I, S>(lines: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut text = String::new();
        for l in lines {
            text.push_str(l.as_ref());
            text.push('\n');
        }
        Self::parse_str(&text)
    }

    /// The physical 1-based line and 1-based byte column of byte `col` of line
    /// `index` (pieces of an over-long line share their physical line).
    pub fn position(&self, index: usize, col: usize) -> (usize, usize) {
        let before = &self.lines[..index.min(self.lines.len())];
        let line = 1 + before.iter().filter(|l| l.newline).count();
        let offset: usize = before
            .iter()
            .rev()
            .take_while(|l| !l.newline)
            .map(|l| l.raw.len())
            .sum();
        (line, offset + col + 1)
    }

    /// Whether line `index` is a piece of an over-long physical line that
    /// continues in the next [`Line`].
    pub fn is_split(&self, index: usize) -> bool {
        self.lines.get(index).is_some_and(|l| !l.newline) && index + 1 < self.lines.len()
    }

    /// Iterate over the directive lines with their 0-based index.
    pub fn directives(&self) -> impl Iterator<Item = (usize, &Line, &Directive)> {
        self.lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| l.directive().map(|d| (i, l, d)))
    }
}

/// Classify one line; the bool says whether the next line is inside a TEXT block.
fn classify(raw: &[u8], in_text: bool) -> (LineKind, bool) {
    let end = raw.iter().position(|&b| b == b'\r').unwrap_or(raw.len());
    let eff = &raw[..end];
    let start = skip_space(eff, 0);
    let text = &eff[start..];
    if in_text {
        return match recognize(text) {
            Some(r) if r.keyword == Keyword::EndText => (directive(eff, start, r), false),
            _ => (LineKind::Text, true),
        };
    }
    if text.is_empty() {
        return (LineKind::Blank, false);
    }
    if text[0] == b'#' {
        return (LineKind::Comment, false);
    }
    match recognize(text) {
        Some(r) => {
            let opens = r.keyword == Keyword::Text;
            (directive(eff, start, r), opens)
        }
        None => {
            let len = text.iter().take_while(|&&b| b > b' ').count();
            (
                LineKind::Unknown {
                    word: start..start + len,
                },
                false,
            )
        }
    }
}

fn directive(eff: &[u8], start: usize, r: crate::directive::Recognized) -> LineKind {
    let kw_end = start + r.end;
    let arg_start = skip_space(eff, kw_end);
    LineKind::Directive(Directive {
        keyword: r.keyword,
        keyword_span: start..kw_end,
        arg_span: arg_start..eff.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directive::MenuKeyword;

    #[test]
    fn round_trips_odd_bytes() {
        for input in [
            &b""[..],
            b"\n",
            b"a",
            b"LABEL x\r\n  kernel y \t\n\n",
            b"\xff\xfe\r\r\n#x",
            b"text help\nlabel inside\nendtext\nlabel outside",
        ] {
            assert_eq!(Document::parse(input).to_bytes(), input);
        }
    }

    #[test]
    fn classifies_lines() {
        let doc = Document::parse(b"  # c\n\nKERNEL vmlinuz # x \r\nfoo bar\nMENU LABEL ^A\n");
        assert_eq!(doc.lines[0].kind, LineKind::Comment);
        assert_eq!(doc.lines[1].kind, LineKind::Blank);
        assert_eq!(doc.lines[2].arg(), "vmlinuz # x ");
        assert_eq!(doc.lines[3].kind, LineKind::Unknown { word: 0..3 });
        let d = doc.lines[4].directive().unwrap();
        assert_eq!(d.keyword, Keyword::Menu(MenuKeyword::Label));
        assert_eq!(doc.lines[4].arg(), "^A");
    }

    #[test]
    fn long_lines_are_split_like_fgets() {
        let mut input = b"APPEND ".to_vec();
        input.extend(std::iter::repeat_n(b'x', 4088));
        input.extend_from_slice(b"LABEL tail\nKERNEL k\n");
        let doc = Document::parse(&input);
        assert_eq!(doc.to_bytes(), input);
        assert_eq!(doc.lines[0].raw.len(), MAX_LINE);
        assert!(doc.is_split(0));
        assert_eq!(doc.lines[1].directive().unwrap().keyword, Keyword::Label);
        assert_eq!(doc.position(1, 0), (1, 4096));
        assert_eq!(doc.position(2, 0), (2, 1));
    }

    #[test]
    fn text_blocks_are_raw() {
        let doc = Document::parse(b"TEXT HELP\n  LABEL not-a-label\n ENDTEXT\nLABEL real\n");
        assert_eq!(doc.lines[1].kind, LineKind::Text);
        assert_eq!(doc.lines[2].directive().unwrap().keyword, Keyword::EndText);
        assert_eq!(doc.lines[3].directive().unwrap().keyword, Keyword::Label);
    }
}
