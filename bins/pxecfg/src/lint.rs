//! `pxecfg lint`: pxelinux.cfg files through the [`pxelinux`] lint, iPXE
//! scripts and grub.cfg files through [`bootcfg::lint`].

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pxelinux::resolve::infer_prefix;
use pxelinux::{
    lint, Code, Document, Finding, LintOptions, Location, Severity, SourceFile, SourceSet, Tree,
};

use crate::cli::{OutputFormat, PrefixArgs};

/// Lint every file; print findings; exit 1 on errors (or warnings when denied).
pub fn run(
    root: Option<&Path>,
    prefix: &PrefixArgs,
    format: OutputFormat,
    deny_warnings: bool,
    files: &[PathBuf],
) -> anyhow::Result<ExitCode> {
    let mut all = Vec::new();
    for file in files {
        all.extend(lint_file(root, prefix, file));
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        OutputFormat::Text => {
            for f in &all {
                writeln!(out, "{f}")?;
            }
            let count = |s| all.iter().filter(|f| f.severity == s).count();
            writeln!(
                out,
                "{} error(s), {} warning(s), {} info",
                count(Severity::Error),
                count(Severity::Warning),
                count(Severity::Info)
            )?;
        }
        OutputFormat::Json => {
            let v: Vec<_> = all.iter().map(to_json).collect();
            writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
        }
    }
    let fail = all.iter().any(|f| {
        f.severity == Severity::Error || (deny_warnings && f.severity == Severity::Warning)
    });
    Ok(if fail {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Lint one file (an unreadable file is an error finding).
pub fn lint_file(root: Option<&Path>, prefix: &PrefixArgs, file: &Path) -> Vec<Finding> {
    let name = file.display().to_string();
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            let loc = Location {
                file: name,
                line: 1,
                column: 1,
            };
            return vec![Finding::new(
                Code::Unreadable,
                loc,
                format!("cannot read: {e}"),
                "check the path",
            )];
        }
    };
    let base = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(kind) = bootcfg::lint::detect(&base, &bytes) {
        let tree = root.map(|r| Tree::new(r, ""));
        let dir = root.map(|r| dir_under(r, file)).unwrap_or_default();
        let ctx = bootcfg::lint::Context {
            tree: tree.as_ref(),
            dir: &dir,
        };
        return bootcfg::lint::lint(kind, &name, &bytes, ctx);
    }
    let tree = root.map(|r| {
        let p = crate::prefix_of(prefix)
            .or_else(|| infer_prefix(r, file))
            .unwrap_or_default();
        Tree::new(r, &p)
    });
    let in_cfg_dir = file
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "pxelinux.cfg");
    let config_name = in_cfg_dir
        .then(|| file.file_name().map(|n| n.to_string_lossy().into_owned()))
        .flatten();
    // The real path lets an INCLUDE that leads back to this file count as a loop.
    let real = std::fs::canonicalize(file).ok();
    let set = SourceSet::load_at(
        SourceFile {
            name,
            doc: Document::parse(&bytes),
        },
        real.as_deref(),
        tree.as_ref(),
    );
    lint(&set, &LintOptions { tree, config_name })
}

/// The file's directory relative to the root (`""` or ending in `/`); `""` if
/// the file is not under the root.
fn dir_under(root: &Path, file: &Path) -> String {
    let (Ok(root), Some(Ok(dir))) = (
        std::fs::canonicalize(root),
        file.parent().map(|d| {
            std::fs::canonicalize(if d.as_os_str().is_empty() {
                Path::new(".")
            } else {
                d
            })
        }),
    ) else {
        return String::new();
    };
    match dir.strip_prefix(&root) {
        Ok(rel) if rel.as_os_str().is_empty() => String::new(),
        Ok(rel) => format!("{}/", rel.to_string_lossy()),
        Err(_) => String::new(),
    }
}

fn to_json(f: &Finding) -> serde_json::Value {
    serde_json::json!({
        "file": f.location.file,
        "line": f.location.line,
        "column": f.location.column,
        "severity": f.severity.as_str(),
        "code": f.code.id(),
        "name": f.code.name(),
        "message": f.message,
        "hint": f.hint,
    })
}
