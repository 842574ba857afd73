//! The validator: checks a configuration (and, with a TFTP root, the files it
//! names) and returns [`Finding`]s.

mod args;
mod events;
mod labels;
mod lines;
mod tree;

use crate::finding::{tidy, Finding, Location};
use crate::include::SourceSet;
use crate::model::{Config, Pos};
use crate::resolve::Tree;

/// What the validator knows beyond the configuration text.
#[derive(Debug, Clone, Default)]
pub struct LintOptions {
    /// The TFTP root and prefix; enables file checks.
    pub tree: Option<Tree>,
    /// The configuration's file name inside `pxelinux.cfg/`, checked against the
    /// names PXELINUX requests.
    pub config_name: Option<String>,
}

/// Validate a loaded configuration.
///
/// Findings come sorted by file, line and column.
pub fn lint(set: &SourceSet, options: &LintOptions) -> Vec<Finding> {
    let cfg = Config::from_set(set);
    let mut ctx = Ctx {
        set,
        cfg: &cfg,
        places: set.files.iter().map(|f| places(&f.doc)).collect(),
        out: Vec::new(),
    };
    lines::check(&mut ctx);
    labels::check(&mut ctx);
    args::check(&mut ctx);
    events::check(&mut ctx);
    if let Some(name) = &options.config_name {
        tree::check_config_name(&mut ctx, name);
    }
    match &options.tree {
        Some(t) => tree::check(&mut ctx, t),
        None => tree::check_without_tree(&mut ctx),
    }
    let mut out = ctx.out;
    out.sort_by(|a, b| {
        (a.location.file != set.files[0].name, &a.location, a.code).cmp(&(
            b.location.file != set.files[0].name,
            &b.location,
            b.code,
        ))
    });
    out.dedup();
    out
}

/// Parse and validate one file held in memory (no TFTP root).
pub fn lint_bytes(name: &str, bytes: &[u8]) -> Vec<Finding> {
    let set = SourceSet::single(crate::include::SourceFile {
        name: name.to_string(),
        doc: crate::syntax::Document::parse(bytes),
    });
    lint(&set, &LintOptions::default())
}

pub(crate) struct Ctx<'a> {
    pub(crate) set: &'a SourceSet,
    pub(crate) cfg: &'a Config,
    /// Per file and line: its physical line (1-based) and the byte offset of
    /// the piece in it (see [`crate::Document::position`]), computed once so
    /// that locating a finding costs O(1).
    places: Vec<Vec<(usize, usize)>>,
    pub(crate) out: Vec<Finding>,
}

/// [`crate::Document::position`] of column 0 of every line, in one pass.
fn places(doc: &crate::syntax::Document) -> Vec<(usize, usize)> {
    let mut line = 1;
    let mut offset = 0;
    let mut out = Vec::with_capacity(doc.lines.len());
    for l in &doc.lines {
        out.push((line, offset));
        if l.newline {
            line += 1;
            offset = 0;
        } else {
            offset += l.raw.len();
        }
    }
    out
}

impl Ctx<'_> {
    /// Location of byte `col` (0-based) of the line at `pos`.
    pub(crate) fn loc(&self, pos: Pos, col: usize) -> Location {
        let (line, offset) = self.places[pos.file][pos.line];
        Location {
            file: self.set.file_name(pos).to_string(),
            line,
            column: offset + col + 1,
        }
    }

    /// Location of a directive's argument (or the line start).
    pub(crate) fn arg_loc(&self, pos: Pos) -> Location {
        let line = self.set.line(pos);
        let col = line.directive().map_or(line.indent(), |d| d.arg_span.start);
        self.loc(pos, col)
    }

    /// Location of a directive's keyword (or the line start).
    pub(crate) fn kw_loc(&self, pos: Pos) -> Location {
        let line = self.set.line(pos);
        self.loc(pos, line.indent())
    }

    /// Record a finding; configuration text quoted in it is made safe to print
    /// ([`crate::finding::tidy`]).
    pub(crate) fn push(&mut self, mut f: Finding) {
        f.message = tidy(&f.message);
        f.hint = tidy(&f.hint);
        self.out.push(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Code;

    fn codes(src: &str) -> Vec<Code> {
        lint_bytes("t", src.as_bytes())
            .into_iter()
            .map(|f| f.code)
            .collect()
    }

    #[test]
    fn clean_config_has_no_findings() {
        let src = "UI menu.c32\nDEFAULT a\nTIMEOUT 50\nLABEL a\n  MENU LABEL A\n  KERNEL vmlinuz\n  INITRD initrd.img\n  APPEND inst.ks=http://x/ks.cfg\n";
        let f = lint_bytes("t", src.as_bytes());
        assert!(
            f.iter().all(|f| f.code == Code::ModuleDependencies),
            "{f:#?}"
        );
    }

    #[test]
    fn places_agree_with_document_position() {
        let long = "x".repeat(9000);
        let doc = crate::Document::parse_str(&format!("a\n{long}\n\nb{long}"));
        let table = places(&doc);
        for (i, &(line, offset)) in table.iter().enumerate() {
            assert_eq!(doc.position(i, 3), (line, offset + 4), "line {i}");
        }
    }

    #[test]
    fn quoted_text_is_escaped_and_shortened() {
        let f = lint_bytes(
            "t",
            format!("LABEL a\x1b[2J\nDEFAULT {}\n", "y".repeat(5000)).as_bytes(),
        );
        for f in &f {
            assert!(!f.message.chars().any(char::is_control), "{}", f.message);
            assert!(f.message.len() < 1000, "{}", f.message.len());
        }
        assert!(f.iter().any(|f| f.message.contains("a\\x1b[2J")), "{f:#?}");
    }

    #[test]
    fn findings_are_sorted_with_locations() {
        let f = lint_bytes("t", b"TIMEOUT 5\nfoo\n");
        assert_eq!(f[0].location.line, 1);
        assert_eq!(f[0].code, Code::TimeoutSeconds);
        assert_eq!(f[1].location.to_string(), "t:2:1");
        assert!(codes("kernal x\n").contains(&Code::UnknownKeyword));
    }
}
