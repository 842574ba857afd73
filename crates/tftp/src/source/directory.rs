//! [`DirectoryRoot`]: files from a directory on disk, with tftp-hpa 5.2's rules.

use std::fs::{self, File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::cache::{FileCache, DEFAULT_CACHE_SIZE};
use super::sink::{AtomicFileSink, InPlaceSink};
use super::stream::{self, FileStream, Version};
use super::{resolve, FileData, FileSource, RequestContext, SourceError, WriteSink};

/// How often a read that saw the file change is tried again before the
/// request fails ("File changed while being read", code 0).
const READ_TRIES: usize = 3;

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
    /// Cap on the total size of the shared file cache, in bytes (default
    /// [`DEFAULT_CACHE_SIZE`], 512 MiB; 0 turns the cache off). Files that do
    /// not fit are streamed from disk a window at a time.
    pub cache_size: u64,
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
            cache_size: DEFAULT_CACHE_SIZE,
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
///   A replaced file keeps its mode (see Uploads).
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
/// # Reads
/// Each file version is read once into a shared buffer held by the root's
/// cache (see [`DirectoryConfig::cache_size`]); every transfer of that
/// version slices it. Nothing is memory-mapped, so a file truncated or
/// rewritten while it is served cannot crash the server: a running transfer
/// finishes with the version it started with, and the next request reads the
/// new one. Files that do not fit in the cache are streamed a window at a
/// time and end with an ERROR if they change while sent.
///
/// # Uploads
/// Where the server can create a file in the target's directory, a write
/// goes to a hidden `.tftp-upload.*.part` file there and is renamed over the
/// target only when the transfer ends successfully; an aborted upload leaves
/// the old file (or no file) and no partial file. Where it cannot (the
/// tftp-hpa set-up: a root-owned 0755 directory holding world-writable files,
/// the server running as `nobody`), an existing target is truncated and
/// written in place, as tftp-hpa always does; an aborted upload then leaves a
/// partial file.
#[derive(Debug)]
pub struct DirectoryRoot {
    config: DirectoryConfig,
    root: PathBuf,
    cache: FileCache,
}

impl DirectoryRoot {
    /// Opens the root: it must exist and be a directory.
    pub fn new(config: DirectoryConfig) -> io::Result<Self> {
        let root = fs::canonicalize(&config.root)?;
        if !fs::metadata(&root)?.is_dir() {
            return Err(io::Error::from_raw_os_error(libc::ENOTDIR));
        }
        let cache = FileCache::new(config.cache_size);
        Ok(Self {
            config,
            root,
            cache,
        })
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

    /// The bytes of an opened, checked regular file: shared from the cache,
    /// or streamed if it does not fit. A file that changes while it is read
    /// into the cache is read again (its new version), up to [`READ_TRIES`].
    fn read(&self, file: File, meta: &Metadata) -> Result<FileData, SourceError> {
        let mut version = Version::of(meta);
        for _ in 0..READ_TRIES {
            if version.size == 0 {
                return Ok(FileData::from(Vec::new()));
            }
            match self
                .cache
                .get(version, || stream::read_whole(&file, version))
            {
                Ok(Some(bytes)) => return Ok(bytes.into()),
                Ok(None) => return Ok(FileData::streamed(FileStream::new(file, version))),
                Err(err) if stream::is_changed(&err) => version = Version::current(&file)?,
                Err(err) => return Err(SourceError::from_io(err)),
            }
        }
        Err(SourceError::Io(stream::changed()))
    }

    /// Where an upload of `rel` goes: the path, the mode the file ends with,
    /// and whether it exists already.
    fn write_target(&self, rel: &Path) -> Result<(PathBuf, u32, bool), SourceError> {
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
                Ok((target, meta.mode() & 0o7777, true))
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
                Ok((parent.join(name), 0o666 & !self.config.umask, false))
            }
            Err(err) => Err(SourceError::from_io(err)),
        }
    }
}

fn not_regular() -> SourceError {
    SourceError::AccessViolation("Not a regular file".to_owned())
}

impl DirectoryRoot {
    /// Opens an existing target for writing in place; it is truncated only
    /// after the check that it is the regular file inside the root.
    fn open_in_place(
        &self,
        target: &Path,
        limit: Option<u64>,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        let mut options = OpenOptions::new();
        options
            .write(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        let file = self.open_checked(target, &options)?;
        if !file.metadata()?.is_file() {
            return Err(not_regular());
        }
        file.set_len(0)?;
        Ok(Box::new(InPlaceSink::new(file, limit)))
    }
}

impl FileSource for DirectoryRoot {
    fn open_read(&self, path: &[u8], _ctx: &RequestContext) -> Result<FileData, SourceError> {
        let rel = resolve::relative_path(path)?;
        let real = resolve::within_root(&self.root, &rel)?;
        let mut options = OpenOptions::new();
        // O_NONBLOCK: opening a FIFO must not hang the server; it has no effect
        // on regular files. O_NOFOLLOW: `real` has no symlinks left.
        options
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC);
        let file = self.open_checked(&real, &options)?;
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
        self.read(file, &meta)
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
        let (target, mode, exists) = self.write_target(&rel)?;
        let dir = target.parent().unwrap_or(&self.root);
        match AtomicFileSink::create(dir, target.clone(), mode, limit) {
            Ok((sink, file)) => {
                // Dropping `sink` on a failed check removes its temporary file.
                resolve::check_opened(&self.root, &file)?;
                Ok(Box::new(sink))
            }
            // The directory is not ours to write: write the file in place.
            Err(err)
                if exists && matches!(err.raw_os_error(), Some(libc::EACCES | libc::EPERM)) =>
            {
                self.open_in_place(&target, limit)
            }
            Err(err) => Err(SourceError::from_io(err)),
        }
    }
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
