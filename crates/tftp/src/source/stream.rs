//! Files too large for the cache: read from the open file one window at a time.
//!
//! Each read is a `pread` of the window the sender is about to put on the
//! wire into a fresh buffer, and the blocks of that window are slices of it.
//! After each read the file's identity (inode, size, modification and change
//! times) is compared with the one seen when the request was opened: a file
//! that was truncated, grew, or was rewritten in place fails the read with
//! [`FileChanged`], and the transfer ends with an ERROR instead of sending a
//! mix of two versions. A file replaced by a rename is not noticed: the open
//! descriptor keeps the old file, which is sent whole.

use std::fmt;
use std::fs::{File, Metadata};
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};

use bytes::Bytes;

use crate::netascii;

/// How much of the file one netascii conversion step reads.
const CHUNK: usize = 64 * 1024;
/// The most one read fetches ahead (a window of 65535 blocks of 65464 bytes
/// is read in pieces of this size, never whole).
const MAX_READ: u64 = 1 << 20;

/// What identifies one version of a file: a change to its bytes changes at
/// least one field (a write sets the modification and change times in
/// nanoseconds; `touch -d` can restore the first but never the second).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Version {
    pub(super) dev: u64,
    pub(super) ino: u64,
    pub(super) size: u64,
    pub(super) mtime_ns: i128,
    pub(super) ctime_ns: i128,
}

impl Version {
    pub(super) fn of(meta: &Metadata) -> Self {
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        Self {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// The version `file` has now.
    pub(super) fn current(file: &File) -> io::Result<Self> {
        file.metadata().map(|m| Self::of(&m))
    }
}

/// The error of a read that saw the file change under it.
#[derive(Debug, Clone, Copy)]
pub(super) struct FileChanged;

impl fmt::Display for FileChanged {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("File changed while being read")
    }
}

impl std::error::Error for FileChanged {}

pub(super) fn changed() -> io::Error {
    io::Error::other(FileChanged)
}

pub(super) fn is_changed(err: &io::Error) -> bool {
    err.get_ref().is_some_and(|e| e.is::<FileChanged>())
}

/// Reads `len` bytes at `offset`; a short read means the file shrank.
fn read_exact_at(file: &File, offset: u64, len: usize) -> io::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    match file.read_exact_at(&mut buf, offset) {
        Ok(()) => Ok(buf),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(changed()),
        Err(e) => Err(e),
    }
}

/// Reads a whole file of version `version` into memory, or fails with
/// [`FileChanged`] if it changed before or during the read.
pub(super) fn read_whole(file: &File, version: Version) -> io::Result<Vec<u8>> {
    let len = usize::try_from(version.size).map_err(|_| changed())?;
    let data = read_exact_at(file, 0, len)?;
    if Version::current(file)? != version {
        return Err(changed());
    }
    Ok(data)
}

#[derive(Debug)]
struct Netascii {
    /// Length of the converted file.
    len: u64,
    /// How much of the file has been converted into `FileStream::buf`.
    consumed: u64,
}

/// A file read a window at a time (see the module docs).
#[derive(Debug)]
pub(crate) struct FileStream {
    file: File,
    version: Version,
    netascii: Option<Netascii>,
    /// What was read last, in the coordinates of what is sent (converted
    /// bytes in netascii mode), starting at `buf_start`.
    buf: Bytes,
    buf_start: u64,
}

impl FileStream {
    pub(super) fn new(file: File, version: Version) -> Self {
        Self {
            file,
            version,
            netascii: None,
            buf: Bytes::new(),
            buf_start: 0,
        }
    }

    pub(crate) fn len(&self) -> u64 {
        self.netascii.as_ref().map_or(self.version.size, |n| n.len)
    }

    fn check_version(&self) -> io::Result<()> {
        if Version::current(&self.file)? == self.version {
            Ok(())
        } else {
            Err(changed())
        }
    }

    /// Counts the converted length (one pass over the file) and switches to
    /// converting as the file is read.
    pub(crate) fn into_netascii(mut self) -> io::Result<Self> {
        let mut len = 0u64;
        let mut offset = 0u64;
        while offset < self.version.size {
            let n = CHUNK.min((self.version.size - offset) as usize);
            let chunk = read_exact_at(&self.file, offset, n)?;
            let extra = chunk.iter().filter(|&&c| c == b'\n' || c == b'\r').count();
            len += (n + extra) as u64;
            offset += n as u64;
        }
        self.check_version()?;
        self.netascii = Some(Netascii { len, consumed: 0 });
        self.buf = Bytes::new();
        self.buf_start = 0;
        Ok(self)
    }

    /// See [`super::FileData::block`].
    pub(crate) fn read(
        &mut self,
        start: u64,
        end: u64,
        ahead: u64,
        keep_from: u64,
    ) -> io::Result<Bytes> {
        if start == end {
            return Ok(Bytes::new());
        }
        let buf_end = self.buf_start + self.buf.len() as u64;
        if start < self.buf_start || end > buf_end {
            let until = ahead.min(start + MAX_READ).max(end).min(self.len());
            if self.netascii.is_some() {
                self.convert(start, until, keep_from.min(start))?;
            } else {
                let len = usize::try_from(until - start).map_err(|_| changed())?;
                let data = read_exact_at(&self.file, start, len)?;
                self.check_version()?;
                self.buf = Bytes::from(data);
                self.buf_start = start;
            }
        }
        let from = (start - self.buf_start) as usize;
        let to = (end - self.buf_start) as usize;
        if to > self.buf.len() {
            return Err(changed());
        }
        Ok(self.buf.slice(from..to))
    }

    /// Netascii: makes `buf` cover `start..until`, converting the file in
    /// order and keeping what is converted from `keep` on (a rewind to the
    /// first unacknowledged block finds it there).
    fn convert(&mut self, start: u64, until: u64, keep: u64) -> io::Result<()> {
        let size = self.version.size;
        let Some(na) = self.netascii.as_mut() else {
            return Ok(());
        };
        if start < self.buf_start {
            // Asked for bytes already dropped: convert again from the start.
            na.consumed = 0;
            self.buf = Bytes::new();
            self.buf_start = 0;
        }
        let drop = (keep.saturating_sub(self.buf_start)).min(self.buf.len() as u64);
        let mut out = self.buf[drop as usize..].to_vec();
        let mut out_start = self.buf_start + drop;
        while out_start + (out.len() as u64) < until && na.consumed < size {
            let n = CHUNK.min((size - na.consumed) as usize);
            let chunk = read_exact_at(&self.file, na.consumed, n)?;
            out.extend_from_slice(&netascii::encode(&chunk));
            na.consumed += n as u64;
            if out_start + (out.len() as u64) < keep {
                out_start += out.len() as u64;
                out.clear();
            }
        }
        if na.consumed == size && out_start + out.len() as u64 != na.len {
            return Err(changed());
        }
        self.check_version()?;
        self.buf = Bytes::from(out);
        self.buf_start = out_start;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file_with(data: &[u8]) -> (tempfile::NamedTempFile, File, Version) {
        let mut tmp = tempfile::NamedTempFile::new().unwrap();
        tmp.write_all(data).unwrap();
        let file = File::open(tmp.path()).unwrap();
        let version = Version::current(&file).unwrap();
        (tmp, file, version)
    }

    /// Reads the whole stream block by block the way a sender with
    /// `window` blocks of `blksize` does, with one rewind in the middle.
    fn drain(s: &mut FileStream, blksize: u64, window: u64) -> io::Result<Vec<u8>> {
        let len = s.len();
        let mut out = Vec::new();
        let mut block = 0u64;
        let mut rewound = false;
        while block * blksize <= len {
            let start = block * blksize;
            let end = (start + blksize).min(len);
            let window_end = ((block / window + 1) * window * blksize).min(len);
            if !rewound && block == 5 {
                // Lost window: the sender goes back to block 3.
                rewound = true;
                s.read(3 * blksize, 4 * blksize, window_end, 3 * blksize)?;
            }
            out.extend_from_slice(&s.read(start, end, window_end, start)?);
            block += 1;
        }
        Ok(out)
    }

    #[test]
    fn octet_windows_are_read_whole() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
        let (_tmp, file, version) = file_with(&data);
        let mut s = FileStream::new(file, version);
        assert_eq!(s.len(), data.len() as u64);
        assert_eq!(drain(&mut s, 1468, 4).unwrap(), data);
        // Blocks of one window share the window's buffer.
        let a = s.read(0, 512, 2048, 0).unwrap();
        let b = s.read(512, 1024, 2048, 0).unwrap();
        assert_eq!(a.as_ptr().wrapping_add(512), b.as_ptr());
    }

    #[test]
    fn netascii_is_converted_while_read() {
        let data: Vec<u8> = (0..200_000u32)
            .map(|i| [b'a', b'\n', b'\r', b'z'][(i % 7 % 4) as usize])
            .collect();
        let (_tmp, file, version) = file_with(&data);
        let s = FileStream::new(file, version).into_netascii().unwrap();
        let want = netascii::encode(&data);
        assert_eq!(s.len(), want.len() as u64);
        let mut s = s;
        assert_eq!(drain(&mut s, 512, 8).unwrap(), &want[..]);
        // Asking again for the start converts again.
        assert_eq!(s.read(0, 10, 10, 0).unwrap(), &want[..10]);
    }

    #[test]
    fn truncation_and_rewrites_fail_the_read() {
        let data = vec![b'x'; 100_000];
        let (tmp, file, version) = file_with(&data);
        let mut s = FileStream::new(file, version);
        s.read(0, 512, 2048, 0).unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(tmp.path())
            .unwrap()
            .set_len(10_000)
            .unwrap();
        let err = s.read(50_000, 50_512, 52_000, 50_000).unwrap_err();
        assert!(is_changed(&err), "{err}");
        assert_eq!(err.to_string(), "File changed while being read");

        let (tmp, file, version) = file_with(&data);
        let mut s = FileStream::new(file, version);
        std::fs::OpenOptions::new()
            .write(true)
            .open(tmp.path())
            .unwrap()
            .write_all_at(b"yy", 0)
            .unwrap();
        assert!(is_changed(&s.read(0, 512, 512, 0).unwrap_err()));
        assert!(is_changed(
            &read_whole(&File::open(tmp.path()).unwrap(), version).unwrap_err()
        ));
    }
}
