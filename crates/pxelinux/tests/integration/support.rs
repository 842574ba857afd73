//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};

use pxelinux::{lint, Code, Finding, LintOptions, SourceFile, SourceSet, Tree};

/// The fixtures directory.
pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Every file under `dir`, sorted.
pub(crate) fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().unwrap() != "README.md" {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Lint `name` (a path under `root`) with the tree checks on.
pub(crate) fn lint_in_tree(root: &Path, name: &str) -> Vec<Finding> {
    let bytes = std::fs::read(root.join(name)).unwrap();
    let tree = Tree::new(root, "");
    let set = SourceSet::load(
        SourceFile {
            name: name.into(),
            doc: pxelinux::Document::parse(&bytes),
        },
        Some(&tree),
    );
    lint(
        &set,
        &LintOptions {
            tree: Some(tree),
            config_name: None,
        },
    )
}

/// Codes of the findings.
pub(crate) fn codes(f: &[Finding]) -> Vec<Code> {
    f.iter().map(|f| f.code).collect()
}

/// Create an empty file (and its directories).
pub(crate) fn touch(root: &Path, rel: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, b"").unwrap();
}
