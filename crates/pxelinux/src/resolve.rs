//! Resolving file names as PXELINUX does, against a TFTP root on disk.
//!
//! PXELINUX keeps a text prefix (option 210, else the directory of the boot file
//! name) and prepends it to every relative name. A leading `/` does not escape
//! the prefix; `::path` names a file from the TFTP root and `host::path` or a URL
//! names another server. The TFTP path that results is then looked up by the
//! TFTP server's rules ([`crate::confine`]): nothing outside the root is read,
//! or even looked at.

use std::io;
use std::path::{Path, PathBuf};

use crate::confine::{self, Located, Refusal};

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
    /// `root` with every symlink resolved; `None` if it cannot be (then
    /// nothing is found under it).
    real_root: Option<PathBuf>,
}

/// What a name in a configuration points at, for the checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// A regular file under the root.
    File,
    /// Nothing the TFTP server would serve: absent, a directory, a special file,
    /// or not reachable (the reason).
    Missing,
    /// The TFTP server refuses the name; nothing was looked up.
    Refused(Refusal),
    /// A URL or another server: not checked.
    Elsewhere,
}

impl Tree {
    /// A tree with the given root and prefix (a `/` is added to a non-empty prefix).
    pub fn new(root: impl Into<PathBuf>, prefix: &str) -> Self {
        let mut prefix = prefix.trim_start_matches('/').to_string();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        let root = root.into();
        let real_root = std::fs::canonicalize(&root).ok();
        Self {
            root,
            prefix,
            real_root,
        }
    }

    /// Resolve a name with this tree's prefix.
    pub fn resolve(&self, name: &str) -> Target {
        resolve(&self.prefix, name)
    }

    /// What a TFTP path (prefix already applied) names under the root, by the
    /// TFTP server's rules.
    pub fn locate(&self, tftp_path: &str) -> Located {
        match &self.real_root {
            Some(real) => confine::locate(real, &self.root, tftp_path.as_bytes()),
            // Refusals do not depend on the file system.
            None => match confine::tftp_relative(tftp_path.as_bytes()) {
                Err(r) => Located::Refused(r),
                Ok(_) => Located::Missing,
            },
        }
    }

    /// Read a file [`Tree::locate`] found.
    pub fn read(&self, located: &Path) -> io::Result<Vec<u8>> {
        match &self.real_root {
            Some(real) => confine::read(real, located),
            None => Err(io::ErrorKind::NotFound.into()),
        }
    }

    /// What `name` (as written in a configuration) points at.
    pub fn status(&self, name: &str) -> Status {
        match self.resolve(name) {
            Target::Tftp(p) => match self.locate(&p) {
                Located::File(_) => Status::File,
                Located::Refused(r) => Status::Refused(r),
                _ => Status::Missing,
            },
            Target::Url(_) | Target::Remote(_) => Status::Elsewhere,
        }
    }

    /// Whether a module is in the prefix directory or one of the PATH entries.
    /// A refused name is [`Status::Refused`]; a PATH entry the server refuses
    /// counts as not having the module.
    pub fn module_status(&self, name: &str, path: &[String]) -> Status {
        if name.contains('/') || name.contains("::") {
            return self.status(name);
        }
        let plain = self.status(name);
        if matches!(plain, Status::File | Status::Refused(_)) {
            return plain;
        }
        let in_path = path.iter().any(|p| {
            let dir = if p.ends_with('/') {
                p.clone()
            } else {
                format!("{p}/")
            };
            self.status(&format!("{dir}{name}")) == Status::File
        });
        if in_path {
            Status::File
        } else {
            Status::Missing
        }
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
}
