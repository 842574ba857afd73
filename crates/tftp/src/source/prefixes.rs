//! [`DirectoryList`]: absolute file names below a list of directories, as
//! `in.tftpd DIR...` serves without `-s`.

use std::ffi::OsStr;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use super::directory::{DirectoryConfig, DirectoryRoot};
use super::{resolve, FileData, FileSource, RequestContext, SourceError, WriteSink};

/// Message for a relative name (tftp-hpa's wording).
const NOT_ABSOLUTE: &str = "Only absolute filenames allowed";
/// Message for an absolute name outside every directory (tftp-hpa's wording).
const FORBIDDEN: &str = "Forbidden directory";

/// Serves absolute names that fall inside one of several directories.
///
/// tftp-hpa without `-s` takes its directory arguments as the allowed
/// prefixes: a client asks for `/srv/tftp/pxelinux.0`, never `pxelinux.0`.
///
/// # Rules (tftp-hpa 6.0, "PATH VALIDATION")
/// - the name must begin with `/` (else code 2, "Only absolute filenames
///   allowed");
/// - it may not hold `..` components or control characters; `.` components
///   and repeated or trailing slashes are dropped (code 2 otherwise, as for
///   [`DirectoryRoot`]);
/// - the cleaned name must lie below one of the directories, compared
///   component by component with each directory as given on the command line
///   (also cleaned), first match wins (else code 2, "Forbidden directory").
///   `/srv/tftpboot/x` is not inside `/srv/tftp` (tftp-hpa 5.2 compared bytes,
///   and served it);
/// - the rest of the name is then served by that directory's
///   [`DirectoryRoot`], with all its rules: world-readable files only unless
///   `permissive`, and nothing that resolves (through symlinks) outside it.
#[derive(Debug)]
pub struct DirectoryList {
    dirs: Vec<(PathBuf, DirectoryRoot)>,
}

impl DirectoryList {
    /// One [`DirectoryRoot`] per directory, each with `template`'s settings
    /// and an equal share of its cache. Every directory must be absolute and
    /// exist.
    pub fn new(template: &DirectoryConfig, dirs: &[PathBuf]) -> io::Result<Self> {
        if dirs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "directory list not specified",
            ));
        }
        let share = template.cache_size / dirs.len() as u64;
        let mut out = Vec::with_capacity(dirs.len());
        for dir in dirs {
            let prefix = clean_dir(dir).ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{}: not an absolute path without `..` components",
                        dir.display()
                    ),
                )
            })?;
            let mut config = template.clone();
            config.root = dir.clone();
            config.cache_size = share;
            let root = DirectoryRoot::new(config)
                .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", dir.display())))?;
            out.push((prefix, root));
        }
        Ok(Self { dirs: out })
    }

    /// The directories, cleaned, in the order they are tried.
    pub fn prefixes(&self) -> impl Iterator<Item = &Path> {
        self.dirs.iter().map(|(p, _)| p.as_path())
    }

    /// The directory a requested name falls in, and the name relative to it.
    fn route(&self, name: &[u8]) -> Result<(&DirectoryRoot, Vec<u8>), SourceError> {
        if name.first() != Some(&b'/') {
            return Err(SourceError::AccessViolation(NOT_ABSOLUTE.to_owned()));
        }
        let rel = resolve::relative_path(name)?;
        for (prefix, root) in &self.dirs {
            if let Ok(rest) = rel.strip_prefix(prefix) {
                return Ok((root, rest.as_os_str().as_bytes().to_vec()));
            }
        }
        Err(SourceError::AccessViolation(FORBIDDEN.to_owned()))
    }
}

/// `/a//b/./c/` as the relative path `a/b/c`, the form [`resolve::relative_path`]
/// gives requested names; `None` for a relative path or one with `..`.
fn clean_dir(dir: &Path) -> Option<PathBuf> {
    if !dir.is_absolute() {
        return None;
    }
    let mut out = PathBuf::new();
    for part in dir.components() {
        match part {
            Component::RootDir | Component::CurDir => {}
            Component::Normal(p) => out.push(OsStr::new(p)),
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl FileSource for DirectoryList {
    fn open_read(&self, path: &[u8], ctx: &RequestContext) -> Result<FileData, SourceError> {
        let (root, rest) = self.route(path)?;
        root.open_read(&rest, ctx)
    }

    fn open_write(
        &self,
        path: &[u8],
        ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        let (root, rest) = self.route(path)?;
        root.open_write(&rest, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn ctx() -> RequestContext {
        RequestContext::new("127.0.0.1:4000".parse().unwrap())
    }

    fn fixture() -> (tempfile::TempDir, DirectoryList) {
        let tmp = tempfile::tempdir().unwrap();
        for (dir, file, text) in [("a", "f", "in a"), ("ab", "g", "in ab"), ("b", "h", "in b")] {
            fs::create_dir(tmp.path().join(dir)).unwrap();
            fs::write(tmp.path().join(dir).join(file), text).unwrap();
        }
        fs::write(tmp.path().join("top"), "outside").unwrap();
        let dirs = [tmp.path().join("a"), tmp.path().join("./b/")];
        let list = DirectoryList::new(&DirectoryConfig::new("/"), &dirs).unwrap();
        (tmp, list)
    }

    fn read(list: &DirectoryList, name: &str) -> Result<Vec<u8>, (u16, String)> {
        list.open_read(name.as_bytes(), &ctx())
            .map(|d| d.shared().unwrap().to_vec())
            .map_err(|e| (e.tftp_code(), e.message()))
    }

    #[test]
    fn serves_absolute_names_inside_the_directories() {
        let (tmp, list) = fixture();
        let base = tmp.path().display().to_string();
        assert_eq!(read(&list, &format!("{base}/a/f")).unwrap(), b"in a");
        assert_eq!(read(&list, &format!("{base}/b/h")).unwrap(), b"in b");
        assert_eq!(read(&list, &format!("/{base}//a/./f")).unwrap(), b"in a");
        assert_eq!(read(&list, &format!("{base}/a/nope")).unwrap_err().0, 1);
    }

    #[test]
    fn refuses_relative_names_and_names_outside() {
        let (tmp, list) = fixture();
        let base = tmp.path().display().to_string();
        let refused = |name: String, why: &str| {
            assert_eq!(read(&list, &name), Err((2, why.to_owned())), "{name}");
        };
        refused("a/f".to_owned(), NOT_ABSOLUTE);
        refused(format!("{base}/top"), FORBIDDEN);
        // A byte prefix is not a directory prefix.
        refused(format!("{base}/ab/g"), FORBIDDEN);
        refused(format!("{base}/a/../top"), "Reverse path not allowed");
        refused(format!("{base}/b/../a/f"), "Reverse path not allowed");
        let err = list
            .open_write(format!("{base}/top").as_bytes(), &ctx())
            .unwrap_err();
        assert_eq!(err.tftp_code(), 2);
    }

    #[test]
    fn a_symlink_out_of_a_directory_is_refused() {
        let (tmp, list) = fixture();
        std::os::unix::fs::symlink(tmp.path().join("top"), tmp.path().join("a/link")).unwrap();
        let base = tmp.path().display().to_string();
        assert_eq!(read(&list, &format!("{base}/a/link")).unwrap_err().0, 2);
    }

    #[test]
    fn directories_must_be_absolute_and_exist() {
        let cfg = DirectoryConfig::new("/");
        assert!(DirectoryList::new(&cfg, &[]).is_err());
        assert!(DirectoryList::new(&cfg, &[PathBuf::from("relative")]).is_err());
        assert!(DirectoryList::new(&cfg, &[PathBuf::from("/no/such/dir/here")]).is_err());
        assert!(DirectoryList::new(&cfg, &[PathBuf::from("/tmp/../etc")]).is_err());
    }
}
