//! Keeping every file access inside the TFTP root, by the rules the TFTP server
//! (`tftpd`, tftp-hpa with `-s`) applies to the names PXELINUX requests.
//!
//! A TFTP path is checked in two steps, as the server does:
//! 1. the name itself ([`tftp_relative`]): no control characters (below 0x20,
//!    and 0x7f), no `..` component anywhere, leading and repeated `/` and `.`
//!    components dropped, something left;
//! 2. the file system ([`locate`]): the path is walked one component at a time
//!    from the canonical root; a symlink is followed only while its target stays
//!    inside the root.
//!
//! Step 2 never touches anything outside the root: a symlink whose target
//! leaves the root is refused from its text alone, before the target is looked
//! at, so the answer for such a name is the same whether or not anything exists
//! out there. (`tftpd` canonicalizes first and checks after; it refuses the same
//! existing names, and answers "not found" for a dangling link that points out
//! of the root, which this refuses.)

use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed in one walk before giving up (Linux's `MAXSYMLINKS`).
const MAX_LINKS: usize = 40;

/// Why a TFTP path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// A `..` component: the TFTP server refuses every one ("Reverse path not allowed").
    DotDot,
    /// A symlink on the way leads outside the root.
    SymlinkOut,
    /// A control character (below 0x20, or 0x7f) in the name.
    ControlCharacter(u8),
    /// Nothing is left of the name once `/` and `.` are dropped.
    Empty,
}

impl Refusal {
    /// Whether the name leads (or may lead) outside the root.
    pub fn is_outside(self) -> bool {
        matches!(self, Self::DotDot | Self::SymlinkOut)
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DotDot => f.write_str("a `..` component leads outside the TFTP root"),
            Self::SymlinkOut => f.write_str("a symlink on the way leads outside the TFTP root"),
            Self::ControlCharacter(c) => write!(f, "control character 0x{c:02x} in the name"),
            Self::Empty => f.write_str("no file name is left"),
        }
    }
}

/// What is at a TFTP path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Located {
    /// A regular file; its path with every symlink resolved (inside the root).
    File(PathBuf),
    /// A directory; its resolved path.
    Dir(PathBuf),
    /// Something else (FIFO, device, socket): never opened.
    Special,
    /// Nothing there (or a component on the way is not a directory).
    Missing,
    /// The TFTP server refuses the name.
    Refused(Refusal),
    /// The walk failed (permissions, a symlink loop): the reason.
    Unknown(String),
}

/// Step 1: the TFTP path as plain relative components, or why it is refused.
pub fn tftp_relative(path: &[u8]) -> Result<Vec<&OsStr>, Refusal> {
    if let Some(&c) = path.iter().find(|&&c| c < 0x20 || c == 0x7f) {
        return Err(Refusal::ControlCharacter(c));
    }
    let mut out = Vec::new();
    for part in path.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(Refusal::DotDot),
            _ => out.push(OsStr::from_bytes(part)),
        }
    }
    if out.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(out)
}

/// Steps 1 and 2: what `path` (a TFTP path) names under `root`.
///
/// `root` must be canonical (no symlinks); `alias` is another spelling of it
/// (the root as the user gave it), accepted in absolute symlink targets.
pub fn locate(root: &Path, alias: &Path, path: &[u8]) -> Located {
    let parts = match tftp_relative(path) {
        Ok(p) => p,
        Err(r) => return Located::Refused(r),
    };
    let mut pending: VecDeque<OsString> = parts.into_iter().map(OsStr::to_os_string).collect();
    let mut cur = root.to_path_buf();
    let mut links = 0;
    while let Some(part) = pending.pop_front() {
        if part == ".." {
            // Only from a symlink's target: `cur` is real, so its parent is too.
            if cur == root {
                return Located::Refused(Refusal::SymlinkOut);
            }
            cur.pop();
            continue;
        }
        let next = cur.join(&part);
        let meta = match fs::symlink_metadata(&next) {
            Ok(m) => m,
            Err(e) if is_absent(&e) => return Located::Missing,
            Err(e) => return Located::Unknown(e.to_string()),
        };
        if !meta.file_type().is_symlink() {
            if !pending.is_empty() && !meta.is_dir() {
                return Located::Missing;
            }
            cur = next;
            continue;
        }
        links += 1;
        if links > MAX_LINKS {
            return Located::Unknown("too many levels of symbolic links".to_owned());
        }
        let target = match fs::read_link(&next) {
            Ok(t) => t,
            Err(e) => return Located::Unknown(e.to_string()),
        };
        let rest = if target.is_absolute() {
            match target
                .strip_prefix(root)
                .or_else(|_| target.strip_prefix(alias))
            {
                Ok(rest) => {
                    cur = root.to_path_buf();
                    rest.to_path_buf()
                }
                Err(_) => return Located::Refused(Refusal::SymlinkOut),
            }
        } else {
            target
        };
        for c in rest.components().rev() {
            match c {
                Component::Normal(n) => pending.push_front(n.to_os_string()),
                Component::ParentDir => pending.push_front(OsString::from("..")),
                Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
            }
        }
    }
    match fs::metadata(&cur) {
        Ok(m) if m.is_file() => Located::File(cur),
        Ok(m) if m.is_dir() => Located::Dir(cur),
        Ok(_) => Located::Special,
        Err(e) if is_absent(&e) => Located::Missing,
        Err(e) => Located::Unknown(e.to_string()),
    }
}

fn is_absent(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
    )
}

/// Read a file [`locate`] returned, checking again where the opened file is.
///
/// The path has no symlinks left, so it is opened with `O_NOFOLLOW` (a link
/// swapped in since is refused) and `O_NONBLOCK` (a FIFO swapped in does not
/// hang); then the kernel is asked where the descriptor really is.
pub fn read(root: &Path, real: &Path) -> io::Result<Vec<u8>> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(real)?;
    check_opened(root, &file)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn check_opened(root: &Path, file: &File) -> io::Result<()> {
    use std::os::unix::io::AsRawFd;
    match fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())) {
        Ok(real) if !real.starts_with(root) => {
            Err(io::Error::other(Refusal::SymlinkOut.to_string()))
        }
        Ok(_) => Ok(()),
        // Without /proc the walk's check stands alone.
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn names(path: &str) -> Result<Vec<String>, Refusal> {
        tftp_relative(path.as_bytes())
            .map(|v| v.iter().map(|s| s.to_string_lossy().into_owned()).collect())
    }

    #[test]
    fn names_are_checked_as_the_tftp_server_does() {
        assert_eq!(names("//a/./b/").unwrap(), ["a", "b"]);
        assert_eq!(names("..a/b..").unwrap(), ["..a", "b.."]);
        assert_eq!(names("a\\..\\b").unwrap(), ["a\\..\\b"]);
        for bad in ["..", "../x", "a/../b", "/..", "a/.."] {
            assert_eq!(names(bad), Err(Refusal::DotDot), "{bad}");
        }
        assert_eq!(names("a\0b"), Err(Refusal::ControlCharacter(0)));
        assert_eq!(names("\x1b[2J"), Err(Refusal::ControlCharacter(0x1b)));
        assert_eq!(names("a\x7f"), Err(Refusal::ControlCharacter(0x7f)));
        for empty in ["", "/", "./.", "//"] {
            assert_eq!(names(empty), Err(Refusal::Empty), "{empty:?}");
        }
    }

    #[test]
    fn symlinks_are_followed_only_inside_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir(base.join("out")).unwrap();
        fs::write(base.join("out/secret"), "s").unwrap();
        fs::write(root.join("sub/in"), "i").unwrap();
        symlink("sub/in", root.join("rel-in")).unwrap();
        symlink(root.join("sub/in"), root.join("abs-in")).unwrap();
        symlink("../sub/in", root.join("sub/up-in")).unwrap();
        symlink("sub", root.join("dir-in")).unwrap();
        symlink("../out/secret", root.join("rel-out")).unwrap();
        symlink(base.join("out/secret"), root.join("abs-out")).unwrap();
        symlink(base.join("out"), root.join("dir-out")).unwrap();
        symlink(base.join("out/none"), root.join("dangling-out")).unwrap();
        symlink("loop", root.join("loop")).unwrap();
        let at = |p: &str| locate(&root, &root, p.as_bytes());
        let inside = Located::File(root.join("sub/in"));
        for p in [
            "sub/in",
            "/rel-in",
            "abs-in",
            "sub/up-in",
            "dir-in/in",
            "dir-in/up-in",
        ] {
            assert_eq!(at(p), inside, "{p}");
        }
        assert_eq!(at("sub"), Located::Dir(root.join("sub")));
        for p in [
            "rel-out",
            "abs-out",
            "dir-out/secret",
            "dir-out/none",
            "dangling-out",
        ] {
            assert_eq!(at(p), Located::Refused(Refusal::SymlinkOut), "{p}");
        }
        assert_eq!(at("none"), Located::Missing);
        assert_eq!(at("sub/in/x"), Located::Missing);
        assert!(matches!(at("loop"), Located::Unknown(_)));
    }

    #[test]
    fn read_checks_where_the_file_is() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        fs::create_dir(root.join("sub")).unwrap();
        fs::write(root.join("f"), "x").unwrap();
        assert_eq!(read(&root, &root.join("f")).unwrap(), b"x");
        assert!(read(&root.join("sub"), &root.join("f")).is_err());
        symlink("f", root.join("l")).unwrap();
        assert!(read(&root, &root.join("l")).is_err(), "O_NOFOLLOW");
    }
}
