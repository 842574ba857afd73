//! Upload sinks: atomic (write a hidden temporary file beside the target,
//! rename it over the target when the transfer completes) where the
//! directory is writable, in place (tftp-hpa's way) where it is not.

use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::WriteSink;

/// Buffer in front of the file: uploads arrive in 512-byte blocks by default.
const BUFFER: usize = 256 * 1024;

/// A [`WriteSink`] that makes the file appear all at once.
///
/// - Data goes to `.tftp-upload.<pid>.<n>.part` in the target's directory,
///   created with mode 0600, so a partial upload is never served as the file.
/// - `finish` flushes, sets the final mode, `fsync`s and renames the temporary
///   file over the target: readers see the old file or the new one, never a
///   torn one; two concurrent uploads of one name leave the one that finished
///   last.
/// - Dropping the sink without `finish` (timeout, ERROR from the client, too
///   large) deletes the temporary file. Only a crash of the whole process can
///   leave a `.part` file behind; it is never served under the target's name.
#[derive(Debug)]
pub(super) struct AtomicFileSink {
    file: Option<BufWriter<File>>,
    temp: PathBuf,
    target: PathBuf,
    mode: u32,
    written: u64,
    limit: Option<u64>,
}

impl AtomicFileSink {
    /// Creates the temporary file in `dir`; `target` must be inside `dir`.
    pub(super) fn create(
        dir: &Path,
        target: PathBuf,
        mode: u32,
        limit: Option<u64>,
    ) -> io::Result<(Self, File)> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let mut tries = 0;
        loop {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let temp = dir.join(format!(".tftp-upload.{}.{n}.part", std::process::id()));
            let opened = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
                .open(&temp);
            match opened {
                Ok(file) => {
                    let check = file.try_clone()?;
                    let sink = Self {
                        file: Some(BufWriter::with_capacity(BUFFER, file)),
                        temp,
                        target,
                        mode,
                        written: 0,
                        limit,
                    };
                    return Ok((sink, check));
                }
                // A leftover of a crashed process with the same pid: next name.
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists && tries < 16 => {
                    tries += 1;
                }
                Err(err) => return Err(err),
            }
        }
    }
}

/// Counts `data` into `written` and writes it, unless that goes past `limit`.
fn write_limited(
    file: &mut Option<BufWriter<File>>,
    written: &mut u64,
    limit: Option<u64>,
    data: &[u8],
) -> io::Result<()> {
    *written += data.len() as u64;
    if limit.is_some_and(|max| *written > max) {
        // EFBIG maps to "Disk full or allocation exceeded" (code 3).
        return Err(io::Error::from_raw_os_error(libc::EFBIG));
    }
    match file {
        Some(file) => file.write_all(data),
        None => Err(finished()),
    }
}

fn finished() -> io::Error {
    io::Error::other("upload already finished")
}

impl WriteSink for AtomicFileSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        write_limited(&mut self.file, &mut self.written, self.limit, data)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().ok_or_else(finished)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.set_permissions(Permissions::from_mode(self.mode))?;
        file.sync_all()?;
        drop(file);
        fs::rename(&self.temp, &self.target)?;
        // Renamed: nothing left for Drop to remove.
        self.temp = PathBuf::new();
        Ok(())
    }
}

impl Drop for AtomicFileSink {
    fn drop(&mut self) {
        if !self.temp.as_os_str().is_empty() {
            drop(self.file.take());
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// A [`WriteSink`] that writes the existing target itself, opened and
/// truncated by the caller: what tftp-hpa does for every upload. Used only
/// where the server cannot create the temporary file an atomic upload needs.
/// The file keeps its inode, owner and mode; an aborted upload leaves what
/// was written so far.
#[derive(Debug)]
pub(super) struct InPlaceSink {
    file: Option<BufWriter<File>>,
    written: u64,
    limit: Option<u64>,
}

impl InPlaceSink {
    pub(super) fn new(file: File, limit: Option<u64>) -> Self {
        Self {
            file: Some(BufWriter::with_capacity(BUFFER, file)),
            written: 0,
            limit,
        }
    }
}

impl WriteSink for InPlaceSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        write_limited(&mut self.file, &mut self.written, self.limit, data)
    }

    fn finish(mut self: Box<Self>) -> io::Result<()> {
        let file = self.file.take().ok_or_else(finished)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        file.sync_all()
    }
}
