//! File sources: where the bytes of a read request come from and where the
//! bytes of a write request go.
//!
//! The server asks a [`FileSource`] for a file's [`FileData`] (`open_read`):
//! usually one shared [`Bytes`] buffer, so every DATA packet is a slice of it
//! and nothing is copied per packet (see `DESIGN.md`, "The zero-copy data
//! path"). Uploads go to a [`WriteSink`] (`open_write`).
//!
//! Implementations:
//! - [`DirectoryRoot`]: a directory on disk with tftp-hpa's `-s`/`-p`/`-c`/`-U`
//!   rules; files are read once into a shared cache (large ones streamed);
//!   uploads are atomic where the directory is writable.
//! - [`DirectoryList`]: absolute names below several such directories, as
//!   `in.tftpd DIR...` serves without `-s`.
//! - [`MemorySource`]: a fixed, read-only map of names to bytes.
//! - [`FnSource`]: a closure that produces the bytes of a file on request, for
//!   embedders that generate files (per-client configs and the like).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;

mod cache;
mod data;
mod directory;
mod prefixes;
mod resolve;
mod sink;
mod stream;

pub use cache::DEFAULT_CACHE_SIZE;
pub use data::FileData;
pub use directory::{DirectoryConfig, DirectoryRoot};
pub use prefixes::DirectoryList;

/// A place files are read from (RRQ) and written to (WRQ).
///
/// `path` is the file name exactly as the client sent it (raw bytes, no
/// encoding assumed). Implementations must be safe to call concurrently from
/// several threads: the server calls them for many requests at once. Both
/// calls may block on disk I/O (a [`DirectoryRoot`] reads a file into its
/// cache, or waits for another request's read of the same file).
pub trait FileSource: Send + Sync + fmt::Debug + 'static {
    /// RRQ: the file's bytes (shared, never copied per packet; or streamed
    /// for files too large to hold).
    fn open_read(&self, path: &[u8], ctx: &RequestContext) -> Result<FileData, SourceError>;

    /// WRQ: a sink for the incoming file.
    fn open_write(
        &self,
        path: &[u8],
        ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError>;
}

/// Who asked, and what they told us, for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The client's address and port (its TID).
    pub peer: SocketAddr,
    /// The local address the request was sent to, when known (IP_PKTINFO).
    pub local: Option<IpAddr>,
    /// WRQ: the size the client announced with the `tsize` option (RFC 2349).
    pub size_hint: Option<u64>,
}

impl RequestContext {
    /// A context for a request from `peer`, with no local address or size hint.
    pub fn new(peer: SocketAddr) -> Self {
        Self {
            peer,
            local: None,
            size_hint: None,
        }
    }
}

/// Where the bytes of one upload go.
///
/// `write` is called with each DATA payload in order; `finish` after the last
/// one. Dropping a sink without calling `finish` aborts the upload; every
/// implementation in this crate then leaves no partial file behind.
pub trait WriteSink: Send + fmt::Debug {
    /// Append `data` to the file.
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
    /// The upload is complete: make the file visible under its name.
    fn finish(self: Box<Self>) -> io::Result<()>;
}

/// Why a source refused or failed a request; maps to a TFTP ERROR packet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The file does not exist (TFTP code 1).
    #[error("File not found")]
    NotFound,
    /// The request is not allowed; the string says why (TFTP code 2).
    #[error("{0}")]
    AccessViolation(String),
    /// Disk full, or the upload is larger than allowed (TFTP code 3).
    #[error("Disk full or allocation exceeded")]
    DiskFull,
    /// The file already exists and may not be replaced (TFTP code 6).
    #[error("File already exists")]
    FileExists,
    /// The file name is malformed; the string says how (TFTP code 2).
    #[error("Illegal file name: {0}")]
    IllegalName(String),
    /// Any other operating-system error (TFTP code 0 with the OS message).
    #[error("{}", os_message(.0))]
    Io(io::Error),
}

impl SourceError {
    /// The TFTP error code (RFC 1350 §5) to send for this error.
    pub fn tftp_code(&self) -> u16 {
        match self {
            Self::NotFound => 1,
            Self::AccessViolation(_) | Self::IllegalName(_) => 2,
            Self::DiskFull => 3,
            Self::FileExists => 6,
            Self::Io(_) => 0,
        }
    }

    /// The text for the ERROR packet.
    pub fn message(&self) -> String {
        self.to_string()
    }

    /// Classifies an OS error the way tftp-hpa does: `ENOENT`, `ENOTDIR` and
    /// `EPERM` are "not found", `ENOSPC`/`EDQUOT` "disk full", `EEXIST`
    /// "exists"; everything else (including `EACCES`) is code 0 with the OS
    /// message. `EFBIG` (what [`DirectoryRoot`]'s sinks return past the
    /// configured upload limit) is "disk full or allocation exceeded" too.
    pub fn from_io(err: io::Error) -> Self {
        match err.raw_os_error() {
            Some(libc::ENOENT | libc::ENOTDIR | libc::EPERM) => Self::NotFound,
            Some(libc::ENOSPC | libc::EDQUOT | libc::EFBIG) => Self::DiskFull,
            Some(libc::EEXIST) => Self::FileExists,
            _ if err.kind() == io::ErrorKind::NotFound => Self::NotFound,
            _ => Self::Io(err),
        }
    }
}

impl From<io::Error> for SourceError {
    fn from(err: io::Error) -> Self {
        Self::from_io(err)
    }
}

/// The OS message without Rust's " (os error N)" suffix, as `strerror` gives it.
fn os_message(err: &io::Error) -> String {
    let text = err.to_string();
    match text.rfind(" (os error ") {
        Some(at) if err.raw_os_error().is_some() => text[..at].to_owned(),
        _ => text,
    }
}

/// Strips the leading slashes clients often send (`/pxelinux.0`), so names in
/// memory and generated sources match with or without them.
fn strip_leading_slashes(mut path: &[u8]) -> &[u8] {
    while let [b'/', rest @ ..] = path {
        path = rest;
    }
    path
}

/// A read-only source of files held in memory.
///
/// Names are matched byte for byte after leading slashes are removed from both
/// the stored name and the request (`/a` and `a` are the same file). Write
/// requests are refused with an access violation.
#[derive(Debug, Clone, Default)]
pub struct MemorySource {
    files: HashMap<Vec<u8>, Bytes>,
}

impl MemorySource {
    /// An empty source.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) a file; returns `self` for chaining.
    pub fn with(mut self, name: impl AsRef<[u8]>, data: impl Into<Bytes>) -> Self {
        self.insert(name, data);
        self
    }

    /// Adds (or replaces) a file.
    pub fn insert(&mut self, name: impl AsRef<[u8]>, data: impl Into<Bytes>) {
        let key = strip_leading_slashes(name.as_ref()).to_vec();
        self.files.insert(key, data.into());
    }

    /// The number of files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether the source holds no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

impl FileSource for MemorySource {
    fn open_read(&self, path: &[u8], _ctx: &RequestContext) -> Result<FileData, SourceError> {
        self.files
            .get(strip_leading_slashes(path))
            .cloned()
            .map(FileData::from)
            .ok_or(SourceError::NotFound)
    }

    fn open_write(
        &self,
        _path: &[u8],
        _ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        Err(read_only())
    }
}

fn read_only() -> SourceError {
    SourceError::AccessViolation("Read-only source".to_owned())
}

type Generator = dyn Fn(&[u8], &RequestContext) -> Result<Bytes, SourceError> + Send + Sync;

/// A read-only source whose files are produced by a closure on request.
///
/// The closure gets the requested name (leading slashes removed) and the
/// request context, so it can generate per-client files (for example a
/// `pxelinux.cfg/01-<mac>` built from a database). Write requests are refused.
///
/// ```
/// use bytes::Bytes;
/// use tftp::source::{FileSource, FnSource, RequestContext, SourceError};
///
/// let source = FnSource::new(|name: &[u8], ctx: &RequestContext| match name {
///     b"whoami.txt" => Ok(Bytes::from(format!("{}\n", ctx.peer.ip()))),
///     _ => Err(SourceError::NotFound),
/// });
/// let ctx = RequestContext::new("127.0.0.1:2000".parse().unwrap());
/// let data = source.open_read(b"/whoami.txt", &ctx).unwrap();
/// assert_eq!(data.shared().unwrap(), "127.0.0.1\n");
/// ```
pub struct FnSource {
    generate: Box<Generator>,
}

impl FnSource {
    /// A source that calls `generate` for every read request.
    pub fn new<F>(generate: F) -> Self
    where
        F: Fn(&[u8], &RequestContext) -> Result<Bytes, SourceError> + Send + Sync + 'static,
    {
        Self {
            generate: Box::new(generate),
        }
    }
}

impl fmt::Debug for FnSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FnSource").finish_non_exhaustive()
    }
}

impl FileSource for FnSource {
    fn open_read(&self, path: &[u8], ctx: &RequestContext) -> Result<FileData, SourceError> {
        (self.generate)(strip_leading_slashes(path), ctx).map(FileData::from)
    }

    fn open_write(
        &self,
        _path: &[u8],
        _ctx: &RequestContext,
    ) -> Result<Box<dyn WriteSink>, SourceError> {
        Err(read_only())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("127.0.0.1:4000".parse().unwrap())
    }

    #[test]
    fn codes_follow_rfc_1350() {
        assert_eq!(SourceError::NotFound.tftp_code(), 1);
        assert_eq!(SourceError::AccessViolation("x".into()).tftp_code(), 2);
        assert_eq!(SourceError::IllegalName("x".into()).tftp_code(), 2);
        assert_eq!(SourceError::DiskFull.tftp_code(), 3);
        assert_eq!(SourceError::FileExists.tftp_code(), 6);
        let io = SourceError::Io(io::Error::from_raw_os_error(libc::EISDIR));
        assert_eq!(io.tftp_code(), 0);
        assert_eq!(io.message(), "Is a directory");
    }

    #[test]
    fn os_errors_map_like_tftp_hpa() {
        let map = |e| SourceError::from_io(io::Error::from_raw_os_error(e)).tftp_code();
        assert_eq!(map(libc::ENOENT), 1);
        assert_eq!(map(libc::ENOTDIR), 1);
        assert_eq!(map(libc::EPERM), 1);
        assert_eq!(map(libc::ENOSPC), 3);
        assert_eq!(map(libc::EEXIST), 6);
        assert_eq!(map(libc::EACCES), 0);
        let denied = SourceError::from_io(io::Error::from_raw_os_error(libc::EACCES));
        assert_eq!(denied.message(), "Permission denied");
    }

    #[test]
    fn memory_source_serves_and_refuses() {
        let src = MemorySource::new()
            .with("/boot/a", Bytes::from_static(b"aaa"))
            .with("b", Bytes::new());
        assert_eq!(src.len(), 2);
        let read = |name: &[u8]| {
            src.open_read(name, &ctx())
                .unwrap()
                .shared()
                .unwrap()
                .clone()
        };
        assert_eq!(read(b"boot/a"), "aaa");
        assert_eq!(read(b"//boot/a"), "aaa");
        assert!(src.open_read(b"/b", &ctx()).unwrap().is_empty());
        assert!(matches!(
            src.open_read(b"c", &ctx()),
            Err(SourceError::NotFound)
        ));
        let err = src.open_write(b"b", &ctx()).unwrap_err();
        assert_eq!(err.tftp_code(), 2);
    }

    #[test]
    fn fn_source_sees_name_and_peer() {
        let src = FnSource::new(|name, ctx| {
            let mut out = name.to_vec();
            out.extend_from_slice(ctx.peer.port().to_string().as_bytes());
            Ok(Bytes::from(out))
        });
        let data = src.open_read(b"/x-", &ctx()).unwrap();
        assert_eq!(data.shared().unwrap(), "x-4000");
        assert!(src.open_write(b"x", &ctx()).is_err());
        assert!(format!("{src:?}").contains("FnSource"));
    }
}
