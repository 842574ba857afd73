//! `FILE:LINE:COLUMN:` for configuration errors, from the byte spans the toml
//! crate keeps for every value (`toml::Spanned`) and for its own parse errors.

use std::fmt::Display;
use std::ops::Range;
use std::path::Path;

use anyhow::anyhow;
use toml::Spanned;

/// A configuration text and its name, to turn byte offsets into places.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// The file name shown in errors.
    pub path: &'a Path,
    /// The whole text.
    pub text: &'a str,
}

impl<'a> Source<'a> {
    /// A source named `path`.
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        Self { path, text }
    }

    /// Line and column (both from 1; columns count characters) of byte `offset`.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let mut at = offset.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        let before = &self.text[..at];
        let line = before.bytes().filter(|b| *b == b'\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// `FILE:LINE:COLUMN: what` for the start of `span`.
    pub fn error(&self, span: Range<usize>, what: impl Display) -> anyhow::Error {
        let (line, col) = self.line_col(span.start);
        anyhow!("{}:{line}:{col}: {what}", self.path.display())
    }

    /// A mapper for `map_err`: the error, placed at `span`, after `context`
    /// (`"subnet 192.0.2.0/24: "`, or empty).
    pub fn at<'c>(
        &'c self,
        span: Range<usize>,
        context: &'c str,
    ) -> impl Fn(anyhow::Error) -> anyhow::Error + 'c {
        move |e| self.error(span.clone(), format_args!("{context}{e:#}"))
    }

    /// Checks a spanned value with `check`, placing its error at the value.
    pub fn check<T, U>(
        &self,
        v: &Spanned<T>,
        context: &str,
        check: impl FnOnce(&T) -> anyhow::Result<U>,
    ) -> anyhow::Result<U> {
        check(v.get_ref()).map_err(self.at(v.span(), context))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_count_from_one_in_characters() {
        let s = Source::new(Path::new("f.toml"), "a = 1\nné = \"x\"\n");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(4), (1, 5));
        assert_eq!(s.line_col(6), (2, 1));
        // "né = " is 6 bytes, 5 characters: the value starts at column 6.
        assert_eq!(s.line_col(12), (2, 6));
        assert_eq!(s.line_col(1000), (3, 1));
        let e = s.error(12..15, "bad").to_string();
        assert_eq!(e, "f.toml:2:6: bad");
    }
}
