//! [`DirectoryRoot`]: files from a directory on disk, with tftp-hpa 5.2's rules.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::sink::AtomicFileSink;
use super::{mmap, resolve, FileSource, RequestContext, SourceError, WriteSink};

/// How [`DirectoryRoot`] turns a file into [`Bytes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReadStrategy {
    /// Memory-map the file: no copy, shared page cache. A file truncated in
    /// place while mapped crashes the process with `SIGBUS` (see the crate
    /// docs of `source`); replace served files by renaming.
    #[default]
    Mmap,
    /// Read the whole file into memory when the transfer starts. Safe against
    /// in-place rewrites, at the cost of one copy per transfer.
    Copy,
}

/// Settings of a [`DirectoryRoot`]; the names follow `in.tftpd`'s flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// The directory served (`-s DIR`).
    pub root: PathBuf,
    /// `-p`: skip the world-readable / world-writable checks; the server's
    /// own Unix permissions still apply.
    pub permissive: bool,
    /// `-c`: write requests may create new files.
    pub allow_create: bool,
    /// `-U`: new files get mode `0o666 & !umask`.
    pub umask: u32,
    /// Largest upload accepted, in bytes (`None`: no limit). A larger `tsize`
    /// or upload fails with "Disk full or allocation exceeded" (code 3).
    pub max_write_size: Option<u64>,
    /// Memory map (default) or copy.
    pub read_strategy: ReadStrategy,
}

impl DirectoryConfig {
    /// tftp-hpa's defaults for `root`: checks on, no create, umask 0, no limit.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            permissive: false,
            allow_create: false,
            umask: 0,
            max_write_size: None,
            read_strategy: ReadStrategy::Mmap,
        }
    }
}

/// Serves the files below one directory, as `in.tftpd -s DIR` does.
///
/// # Rules (tftp-hpa 5.2, `validate_access`)
/// - RRQ: a regular file that is world-readable (mode `o+r`) unless
///   `permissive`. Not found / not a directory / `EPERM`: code 1; not
///   world-readable: code 2; a directory: code 0 "Is a directory" (tftp-hpa
///   opens it and fails reading); other special files (FIFOs, devices): code 2
///   (tftp-hpa would read them).
/// - WRQ: an existing world-writable regular file (`o+w`) unless `permissive`;
///   a missing file only with `allow_create`, created with `0o666 & !umask`.
///   A replaced file keeps its mode. Uploads are atomic (see below).
///
/// # Names
/// A leading `/` is relative to the root (tftp-hpa `-s` chroots, so `/a` is
/// `<root>/a`). `..` components, control characters, and any path that
/// resolves (through symlinks) outside the root are refused with code 2;
/// symlinks that stay inside the root are followed. Where tftp-hpa's chroot
/// would resolve an absolute symlink relative to the root, this refuses it.
/// Backslashes are ordinary bytes. Hard links to files outside the root
/// cannot be told apart from regular files (as with tftp-hpa).
///
/// # Uploads
/// A write goes to a hidden `.tftp-upload.*.part` file in the target's
/// directory and is renamed over the target only when the transfer ends
/// successfully; an aborted upload leaves the old file (or no file) and no
/// partial file. tftp-hpa instead truncates the target at the start.
#[derive(Debug)]
pub struct DirectoryRoot {
    config: DirectoryConfig,
    root: PathBuf,
}

impl DirectoryRoot {
    /// Opens the root: it must exist and be a directory.
    pub fn new(config: DirectoryConfig) -> io::Result<Self> {
        let root = fs::canonicalize(&config.root)?;
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        Ok(Self { config, root })
    }

    /// The canonical path of the root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The settings this root was made with.
    pub fn config(&self) -> &DirectoryConfig {
        &self.config
    }

    fn open_checked(&self, path: &Path, options: &OpenOptions) -> Result<File, SourceError> {
        let file = options.open(path).map_err(|err| match err.raw_os_error() {
            // O_NOFOLLOW: the last component became a symlink after the check.
            Some(libc::ELOOP) => SourceError::AccessViolation(resolve::OUTSIDE_ROOT.to_owned()),
            _ => SourceError::from_io(err),
        })?;
        resolve::check_opened(&self.root, &file)?;
        Ok(file)
    }

    fn write_target(&self, rel: &Path) -> Result<(PathBuf, u32), SourceError> {
        match fs::symlink_metadata(self.root.join(rel)) {
            Ok(_) => {
                let target = resolve::within_root(&self.root, rel)?;
                let meta = fs::metadata(&target)?;
                if meta.is_dir() {
                    return Err(SourceError::Io(io::Error::from_raw_os_error(libc::EISDIR)));
                }
                if !meta.is_file() {
                    return Err(not_regular());
                }
                if !self.config.permissive && meta.mode() & 0o002 == 0 {
                    return Err(SourceError::AccessViolation(
                        "File must have global write permissions".to_owned(),
                    ));
                }
                Ok((target, meta.mode() & 0o7777))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound && self.config.allow_create => {
                let name = rel.file_name().ok_or(SourceError::NotFound)?;
                let parent = match rel.parent() {
                    Some(p) if !p.as_os_str().is_empty() => resolve::within_root(&self.root, p)?,
                    _ => self.root.clone(),
                };
                if !fs::metadata(&parent)?.is_dir() {
                    return Err(SourceError::NotFound);
                }
                Ok((parent.join(name), 0o666 & !self.config.umask))
            }
            Err(err) => Err(SourceError::from_io(err)),
        }
    }
}

fn not_regular() -> SourceError {
    SourceError::AccessViolation("Not a regular file".to_owned())
}

impl FileSource for DirectoryRoot {
    fn open_read(&self, path: &[u8], _ctx: &RequestContext) -> Result<Bytes, SourceError> {
        let rel = resolve::relative_path(path)?;
        let real = resolve::within_root(&self.root, &rel)?;
        let mut options = OpenOptions::new();
        // O_NONBLOCK: opening a FIFO must not hang the server; it has no effect
        // on regular files. O_NOFOLLOW: `real` has no symlinks left.
        options
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        let mut file = self.open_checked(&real, &options)?;
        let meta = file.metadata()?;
        if meta.is_dir() {
            return Err(SourceError::Io(io::Error::from_raw_os_error(libc::EISDIR)));
        }
        if !meta.is_file() {
            return Err(not_regular());
        }
        if !self.config.permissive && meta.mode() & 0o004 == 0 {
            return Err(SourceError::AccessViolation(
                "File must have global read permissions".to_owned(),
            ));
        }
        match self.config.read_strategy {
            ReadStrategy::Mmap => Ok(mmap::map(&file, meta.len())?),
            ReadStrategy::Copy => {
                let mut data = Vec::with_capacity(meta.len() as usize);
                file.read_to_end(&mut data)?;
                Ok(Bytes::from(data))
            }
        }
    }

    fn open_write(
        &self,
        path: &[u8],
        ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        let rel = resolve::relative_path(path)?;
        let limit = self.config.max_write_size;
        if let (Some(max), Some(size)) = (limit, ctx.size_hint) {
            if size > max {
                return Err(SourceError::DiskFull);
            }
        }
        let (target, mode) = self.write_target(&rel)?;
        let dir = target.parent().unwrap_or(&self.root);
        let (sink, file) = AtomicFileSink::create(dir, target.clone(), mode, limit)?;
        // Dropping `sink` on a failed check removes its temporary file.
        resolve::check_opened(&self.root, &file)?;
        Ok(Box::new(sink))
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
