//! Resolving file names as PXELINUX does, against a TFTP root on disk, and
//! loading a configuration with everything it INCLUDEs.
//!
//! PXELINUX keeps a text prefix (option 210, else the directory of the boot file
//! name) and prepends it to every relative name. A leading `/` does not escape
//! the prefix; `::path` names a file from the TFTP root and `host::path` or a URL
//! names another server.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::directive::{Keyword, MenuKeyword};
use crate::model::Pos;
use crate::syntax::Document;

/// Where a name points once PXELINUX has applied its rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A path on the boot TFTP server, relative to its root (no leading `/`).
    Tftp(String),
    /// A URL (`http://…`, `ftp://…`, `tftp://…`); not checked.
    Url(String),
    /// `host::path`: another TFTP server; not checked.
    Remote(String),
}

/// The prefix of a boot file name: everything up to and including the last `/`.
pub fn prefix_of_boot_file(boot_file: &str) -> String {
    match boot_file.rfind('/') {
        Some(i) => boot_file[..=i].to_string(),
        None => String::new(),
    }
}

/// Apply PXELINUX's rules to `name` with `prefix` (option 210 or boot file directory).
pub fn resolve(prefix: &str, name: &str) -> Target {
    if let Some(i) = name.find("://") {
        if i > 0 && name[..i].bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Target::Url(name.to_string());
        }
    }
    if let Some(i) = name.find("::") {
        if i == 0 {
            return Target::Tftp(name[2..].trim_start_matches('/').to_string());
        }
        return Target::Remote(name.to_string());
    }
    let prefix = prefix.trim_start_matches('/');
    Target::Tftp(format!("{prefix}{}", name.trim_start_matches('/')))
}

/// A TFTP root on disk and the PXELINUX prefix in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tree {
    /// The directory tftpd serves.
    pub root: PathBuf,
    /// The prefix (`""`, `bios/`, …).
    pub prefix: String,
}

impl Tree {
    /// A tree with the given root and prefix (a `/` is added to a non-empty prefix).
    pub fn new(root: impl Into<PathBuf>, prefix: &str) -> Self {
        let mut prefix = prefix.trim_start_matches('/').to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Self {
            root: root.into(),
            prefix,
        }
    }

    /// Resolve a name with this tree's prefix.
    pub fn resolve(&self, name: &str) -> Target {
        resolve(&self.prefix, name)
    }

    /// The local path of a TFTP target.
    pub fn local(&self, tftp_path: &str) -> PathBuf {
        self.root.join(tftp_path)
    }

    /// Whether `name` exists: `Some(true/false)` for TFTP targets, `None` for URLs
    /// and other servers (not checked).
    pub fn exists(&self, name: &str) -> Option<bool> {
        match self.resolve(name) {
            Target::Tftp(p) => Some(self.local(&p).is_file()),
            _ => None,
        }
    }

    /// Whether a module exists in the prefix directory or one of the PATH entries.
    pub fn module_exists(&self, name: &str, path: &[String]) -> Option<bool> {
        if name.contains('/') || name.contains("::") {
            return self.exists(name);
        }
        let found = std::iter::once(String::new())
            .chain(path.iter().map(|p| {
                if p.ends_with('/') {
                    p.clone()
                } else {
                    format!("{p}/")
                }
            }))
            .any(|dir| self.exists(&format!("{dir}{name}")) == Some(true));
        Some(found)
    }
}

/// One file of a configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    /// The name used in findings (as given, or the TFTP path).
    pub name: String,
    /// The parsed document.
    pub doc: Document,
}

/// Something that happened while following INCLUDEs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoadEvent {
    /// The included file does not exist.
    Missing {
        /// The INCLUDE line.
        at: Pos,
        /// The name as written.
        name: String,
        /// The TFTP path it resolved to.
        path: String,
    },
    /// The include would re-enter a file being read.
    Loop {
        /// The INCLUDE line.
        at: Pos,
        /// The name as written.
        name: String,
    },
    /// The included file exists but could not be read.
    Unreadable {
        /// The INCLUDE line.
        at: Pos,
        /// The reason.
        reason: String,
    },
}

/// A `MENU INCLUDE file tag` whose file was read: menu.c32 makes it a submenu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submenu {
    /// Index in [`SourceSet::order`] of the MENU INCLUDE line.
    pub start: usize,
    /// Index in [`SourceSet::order`] of the last line read from the included file.
    pub end: usize,
    /// The tag (the rest of the line after the file name).
    pub tag: String,
}

/// A configuration and all files it includes, with the order syslinux reads lines in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSet {
    /// Files; index 0 is the main file.
    pub files: Vec<SourceFile>,
    /// Every line in reading order.
    pub order: Vec<Pos>,
    /// Include problems.
    pub events: Vec<LoadEvent>,
    /// Submenus made by `MENU INCLUDE file tag`.
    pub submenus: Vec<Submenu>,
}

const MAX_DEPTH: usize = 16;
const MAX_LINES: usize = 1_000_000;

impl SourceSet {
    /// A single file; INCLUDEs are not followed.
    pub fn single(main: SourceFile) -> Self {
        let order = (0..main.doc.lines.len())
            .map(|line| Pos { file: 0, line })
            .collect();
        Self {
            files: vec![main],
            order,
            events: Vec::new(),
            submenus: Vec::new(),
        }
    }

    /// The main file and, with a tree, every file it includes (followed recursively).
    pub fn load(main: SourceFile, tree: Option<&Tree>) -> Self {
        let Some(tree) = tree else {
            return Self::single(main);
        };
        let mut set = Self {
            files: vec![main],
            order: Vec::new(),
            events: Vec::new(),
            submenus: Vec::new(),
        };
        let mut by_path: HashMap<String, usize> = HashMap::new();
        let mut stack = vec![0usize];
        set.expand(0, tree, &mut by_path, &mut stack);
        set
    }

    fn expand(
        &mut self,
        file: usize,
        tree: &Tree,
        by_path: &mut HashMap<String, usize>,
        stack: &mut Vec<usize>,
    ) {
        for line in 0..self.files[file].doc.lines.len() {
            if self.order.len() >= MAX_LINES {
                return;
            }
            let pos = Pos { file, line };
            self.order.push(pos);
            let l = &self.files[file].doc.lines[line];
            let Some(kw) = l.directive().map(|d| d.keyword) else {
                continue;
            };
            if !matches!(kw, Keyword::Include | Keyword::Menu(MenuKeyword::Include)) {
                continue;
            }
            let arg = l.arg();
            let Some(name) = arg.split_whitespace().next().map(str::to_string) else {
                continue;
            };
            let Target::Tftp(path) = tree.resolve(&name) else {
                continue;
            };
            let idx = match by_path.get(&path) {
                Some(&i) => i,
                None => match std::fs::read(tree.local(&path)) {
                    Ok(bytes) => {
                        self.files.push(SourceFile {
                            name: path.clone(),
                            doc: Document::parse(&bytes),
                        });
                        by_path.insert(path.clone(), self.files.len() - 1);
                        self.files.len() - 1
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::NotFound
                            || !tree.local(&path).exists() =>
                    {
                        self.events.push(LoadEvent::Missing {
                            at: pos,
                            name,
                            path,
                        });
                        continue;
                    }
                    Err(e) => {
                        self.events.push(LoadEvent::Unreadable {
                            at: pos,
                            reason: format!("{path}: {e}"),
                        });
                        continue;
                    }
                },
            };
            if stack.contains(&idx) || stack.len() >= MAX_DEPTH {
                self.events.push(LoadEvent::Loop { at: pos, name });
                continue;
            }
            let start = self.order.len() - 1;
            stack.push(idx);
            self.expand(idx, tree, by_path, stack);
            stack.pop();
            let tag = arg.split_whitespace().skip(1).collect::<Vec<_>>().join(" ");
            if kw == Keyword::Menu(MenuKeyword::Include) && !tag.is_empty() {
                let end = self.order.len() - 1;
                self.submenus.push(Submenu { start, end, tag });
            }
        }
    }

    /// The line at a position.
    pub fn line(&self, pos: Pos) -> &crate::syntax::Line {
        &self.files[pos.file].doc.lines[pos.line]
    }

    /// Lines in reading order, for [`crate::Config::from_lines`].
    pub fn lines(&self) -> impl Iterator<Item = (Pos, &crate::syntax::Line)> {
        self.order.iter().map(move |&p| (p, self.line(p)))
    }

    /// The file name of a position, for findings.
    pub fn file_name(&self, pos: Pos) -> &str {
        &self.files[pos.file].name
    }
}

/// Infer the prefix from where a config file sits under the root:
/// `ROOT/bios/pxelinux.cfg/default` gives `bios/`.
pub fn infer_prefix(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    let dir = file.parent()?;
    if dir.file_name()? != "pxelinux.cfg" {
        return None;
    }
    let rel = dir.parent()?.strip_prefix(&root).ok()?;
    let mut s = rel.to_string_lossy().replace('\\', "/");
    if !s.is_empty() {
        s.push('/');
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_slash_stays_under_prefix() {
        assert_eq!(
            resolve("bios/", "/centos/vmlinuz"),
            Target::Tftp("bios/centos/vmlinuz".into())
        );
        assert_eq!(resolve("", "vmlinuz"), Target::Tftp("vmlinuz".into()));
        assert_eq!(resolve("bios/", "::/boot/x"), Target::Tftp("boot/x".into()));
        assert_eq!(
            resolve("bios/", "10.0.0.1::x"),
            Target::Remote("10.0.0.1::x".into())
        );
        assert_eq!(resolve("", "http://h/k"), Target::Url("http://h/k".into()));
        assert_eq!(prefix_of_boot_file("bios/pxelinux.0"), "bios/");
        assert_eq!(prefix_of_boot_file("pxelinux.0"), "");
    }

    #[test]
    fn includes_are_followed_and_loops_caught() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("pxelinux.cfg")).unwrap();
        std::fs::write(dir.path().join("a.cfg"), "LABEL a\nINCLUDE b.cfg\n").unwrap();
        std::fs::write(dir.path().join("b.cfg"), "LABEL b\nINCLUDE a.cfg\n").unwrap();
        let main = SourceFile {
            name: "default".into(),
            doc: Document::parse_str("INCLUDE a.cfg\nINCLUDE nope.cfg\n"),
        };
        let tree = Tree::new(dir.path(), "");
        let set = SourceSet::load(main, Some(&tree));
        assert_eq!(set.files.len(), 3);
        assert!(set
            .events
            .iter()
            .any(|e| matches!(e, LoadEvent::Loop { name, .. } if name == "a.cfg")));
        assert!(set
            .events
            .iter()
            .any(|e| matches!(e, LoadEvent::Missing { name, .. } if name == "nope.cfg")));
        assert_eq!(set.order.len(), 6);
    }
}
