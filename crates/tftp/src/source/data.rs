//! [`FileData`]: the bytes of one file as a read transfer sees them.

use std::fmt;
use std::io;

use bytes::Bytes;

use super::stream::FileStream;
use crate::netascii;

/// The bytes of a file being served.
///
/// Either **shared**: the whole file in one [`Bytes`] that every transfer of
/// the same file version slices (each DATA packet is a header plus a slice of
/// it, no copy), or **streamed**: read from the open file one window at a
/// time, for files larger than a [`super::DirectoryRoot`]'s cache. A streamed
/// file that shrinks or changes while it is sent makes the read fail, and the
/// transfer ends with an ERROR.
///
/// Sources that hold bytes in memory return them with `FileData::from(bytes)`.
pub struct FileData {
    inner: Inner,
}

enum Inner {
    Shared(Bytes),
    Streamed(Box<FileStream>),
}

impl FileData {
    pub(super) fn streamed(stream: FileStream) -> Self {
        Self {
            inner: Inner::Streamed(Box::new(stream)),
        }
    }

    /// Length in bytes (what `tsize` announces).
    pub fn len(&self) -> u64 {
        match &self.inner {
            Inner::Shared(b) => b.len() as u64,
            Inner::Streamed(s) => s.len(),
        }
    }

    /// True for an empty file.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole file, when it is held in memory (shared); `None` when it is
    /// streamed from disk.
    pub fn shared(&self) -> Option<&Bytes> {
        match &self.inner {
            Inner::Shared(b) => Some(b),
            Inner::Streamed(_) => None,
        }
    }

    /// The bytes `start..end` (`start <= end <= len`). `ahead`: the end of
    /// what the caller will ask for soon (its window), so a streamed file is
    /// read a window per system call; `keep_from`: the caller never asks for
    /// bytes before it again (the first unacknowledged block). A shared file
    /// returns a slice of its buffer and never fails.
    pub(crate) fn block(
        &mut self,
        start: u64,
        end: u64,
        ahead: u64,
        keep_from: u64,
    ) -> io::Result<Bytes> {
        match &mut self.inner {
            Inner::Shared(b) => Ok(b.slice(start as usize..end as usize)),
            Inner::Streamed(s) => s.read(start, end, ahead, keep_from),
        }
    }

    /// The bytes `start..end` (`start <= end <= len`), for servers other
    /// than the TFTP engine (HTTP byte ranges). A shared file returns a
    /// slice of its buffer; a streamed one reads from disk (blocking) and
    /// fails if the file changed since it was opened.
    pub fn read_range(&mut self, start: u64, end: u64) -> io::Result<Bytes> {
        if start > end || end > self.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "range outside the file",
            ));
        }
        self.block(start, end, end, start)
    }

    /// The netascii form (RFC 764: `\n` → `\r\n`, `\r` → `\r\0`). A shared
    /// file is converted into a new buffer; a streamed one is converted as
    /// it is read (its converted length is counted first, for `tsize`).
    pub(crate) fn into_netascii(self) -> io::Result<Self> {
        let inner = match self.inner {
            Inner::Shared(b) => Inner::Shared(netascii::encode(&b)),
            Inner::Streamed(s) => Inner::Streamed(Box::new(s.into_netascii()?)),
        };
        Ok(Self { inner })
    }
}

impl From<Bytes> for FileData {
    fn from(bytes: Bytes) -> Self {
        Self {
            inner: Inner::Shared(bytes),
        }
    }
}

impl From<Vec<u8>> for FileData {
    fn from(bytes: Vec<u8>) -> Self {
        Bytes::from(bytes).into()
    }
}

impl From<&'static [u8]> for FileData {
    fn from(bytes: &'static [u8]) -> Self {
        Bytes::from_static(bytes).into()
    }
}

impl fmt::Debug for FileData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.inner {
            Inner::Shared(_) => "shared",
            Inner::Streamed(_) => "streamed",
        };
        f.debug_struct("FileData")
            .field("kind", &kind)
            .field("len", &self.len())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_blocks_are_slices_of_one_buffer() {
        let buf = Bytes::from(vec![5u8; 4096]);
        let mut data = FileData::from(buf.clone());
        assert_eq!(data.len(), 4096);
        let block = data.block(512, 1024, 4096, 0).unwrap();
        assert_eq!(block.as_ptr(), buf[512..].as_ptr());
        assert!(data.shared().is_some());
        let text = FileData::from(&b"a\nb\r"[..]).into_netascii().unwrap();
        assert_eq!(text.shared().unwrap(), &b"a\r\nb\r\0"[..]);
        assert!(format!("{text:?}").contains("shared"));
        let part = data.read_range(4000, 4096).unwrap();
        assert_eq!(part.as_ptr(), buf[4000..].as_ptr());
        assert!(data.read_range(4000, 4097).is_err());
    }
}
