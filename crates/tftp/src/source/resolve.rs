//! Turning a requested file name into a path that cannot leave the root.
//!
//! Two steps. [`relative_path`] checks the name itself (no control characters,
//! no `..`) and turns it into a relative path of plain components; a leading
//! `/` is stripped, because tftp-hpa with `-s` chroots into the root and so
//! serves `/pxelinux.0` as `<root>/pxelinux.0`. [`within_root`] then resolves
//! symlinks with `canonicalize` and checks that the result is still below the
//! (canonical) root; after opening, [`check_opened`] asks the kernel where the
//! open file really is (`/proc/self/fd`), which closes the window between the
//! check and the open.

use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::io::AsRawFd;
use std::path::{Component, Path, PathBuf};

use super::SourceError;

/// Message for every attempt to reach a file outside the root.
pub(super) const OUTSIDE_ROOT: &str = "Path leaves the root directory";

/// Validates a requested name and returns it as a relative path of plain
/// components (`a/b/c`), ready to be joined to the root.
///
/// - NUL and other control characters (below 0x20, and 0x7f) are refused;
/// - leading and repeated slashes and `.` components are dropped;
/// - any `..` component is refused (tftp-hpa: "Reverse path not allowed");
/// - a backslash is an ordinary byte of a file name (use a remap rule to turn
///   it into `/`, as with tftp-hpa).
pub(super) fn relative_path(name: &[u8]) -> Result<PathBuf, SourceError> {
    if let Some(&c) = name.iter().find(|&&c| c < 0x20 || c == 0x7f) {
        return Err(SourceError::IllegalName(format!(
            "control character 0x{c:02x} in file name"
        )));
    }
    let mut out = PathBuf::new();
    for part in name.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                return Err(SourceError::AccessViolation(
                    "Reverse path not allowed".to_owned(),
                ))
            }
            _ => out.push(OsStr::from_bytes(part)),
        }
    }
    if out.as_os_str().is_empty() {
        return Err(SourceError::IllegalName("empty file name".to_owned()));
    }
    debug_assert!(out.components().all(|c| matches!(c, Component::Normal(_))));
    Ok(out)
}

/// Resolves `root/rel` (symlinks included) and checks it stays below `root`.
///
/// `root` must be canonical. A name that does not exist gives
/// [`SourceError::NotFound`] only if its deepest existing ancestor is inside the
/// root; otherwise (a symlinked directory pointing out) it is an access
/// violation, so a client cannot probe for files outside.
pub(super) fn within_root(root: &Path, rel: &Path) -> Result<PathBuf, SourceError> {
    let joined = root.join(rel);
    match fs::canonicalize(&joined) {
        Ok(real) if real.starts_with(root) => Ok(real),
        Ok(_) => Err(outside()),
        Err(err) => {
            let mut ancestor = joined.parent();
            while let Some(dir) = ancestor {
                if let Ok(real) = fs::canonicalize(dir) {
                    if !real.starts_with(root) {
                        return Err(outside());
                    }
                    break;
                }
                if dir == root {
                    break;
                }
                ancestor = dir.parent();
            }
            Err(SourceError::from_io(err))
        }
    }
}

/// Checks where an opened file really is, using `/proc/self/fd`.
///
/// Between [`within_root`] and `open` another process could swap a directory
/// for a symlink; the descriptor is what is read, so its path is the one to
/// trust. Without `/proc` the check is skipped (the canonicalize check stays).
pub(super) fn check_opened(root: &Path, file: &File) -> Result<(), SourceError> {
    let link = format!("/proc/self/fd/{}", file.as_raw_fd());
    match fs::read_link(link) {
        Ok(real) if !real.starts_with(root) => Err(outside()),
        Ok(_) => Ok(()),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(err) => Err(SourceError::Io(err)),
    }
}

fn outside() -> SourceError {
    SourceError::AccessViolation(OUTSIDE_ROOT.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn code(r: Result<PathBuf, SourceError>) -> u16 {
        r.expect_err("must be refused").tftp_code()
    }

    #[test]
    fn plain_names_become_relative_paths() {
        assert_eq!(relative_path(b"a").unwrap(), Path::new("a"));
        assert_eq!(relative_path(b"/a/b").unwrap(), Path::new("a/b"));
        assert_eq!(relative_path(b"//a//./b/").unwrap(), Path::new("a/b"));
        assert_eq!(relative_path(b"a\\b").unwrap(), Path::new("a\\b"));
        assert_eq!(relative_path(b"..a/b..").unwrap(), Path::new("..a/b.."));
        let utf8_free = relative_path(b"\xff\xfe").unwrap();
        assert_eq!(utf8_free.as_os_str().as_bytes(), b"\xff\xfe");
    }

    #[test]
    fn dot_dot_anywhere_is_refused() {
        for name in [&b".."[..], b"../etc/passwd", b"a/../../b", b"/..", b"a/.."] {
            assert_eq!(code(relative_path(name)), 2, "{name:?}");
        }
    }

    #[test]
    fn control_characters_and_empty_names_are_refused() {
        for name in [
            &b"a\0b"[..],
            b"a\nb",
            b"\x1b[2J",
            b"a\x7f",
            b"",
            b"/",
            b"./.",
        ] {
            assert_eq!(code(relative_path(name)), 2, "{name:?}");
        }
    }

    #[test]
    fn symlinks_may_not_leave_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let outside_dir = tmp.path().join("outside");
        let root = tmp.path().join("root");
        fs::create_dir_all(root.join("sub")).unwrap();
        fs::create_dir(&outside_dir).unwrap();
        fs::write(outside_dir.join("secret"), b"s").unwrap();
        fs::write(root.join("sub/in"), b"i").unwrap();
        symlink(&outside_dir, root.join("dir-out")).unwrap();
        symlink(outside_dir.join("secret"), root.join("file-out")).unwrap();
        symlink("../outside/secret", root.join("rel-out")).unwrap();
        symlink("sub/in", root.join("file-in")).unwrap();
        let root = fs::canonicalize(&root).unwrap();

        let inside = within_root(&root, Path::new("file-in")).unwrap();
        assert_eq!(inside, root.join("sub/in"));
        assert_eq!(code(within_root(&root, Path::new("file-out"))), 2);
        assert_eq!(code(within_root(&root, Path::new("rel-out"))), 2);
        assert_eq!(code(within_root(&root, Path::new("dir-out/secret"))), 2);
        // A missing file behind a link out is refused too, not "not found".
        assert_eq!(code(within_root(&root, Path::new("dir-out/nope"))), 2);
        assert_eq!(code(within_root(&root, Path::new("sub/nope"))), 1);
        assert_eq!(code(within_root(&root, Path::new("nope/deeper"))), 1);
    }

    #[test]
    fn opened_file_location_is_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::write(root.join("f"), b"x").unwrap();
        let file = File::open(root.join("f")).unwrap();
        check_opened(&root, &file).unwrap();
        let elsewhere = root.join("sub");
        fs::create_dir(&elsewhere).unwrap();
        let err = check_opened(&elsewhere, &file).unwrap_err();
        assert_eq!(err.tftp_code(), 2);
    }
}
