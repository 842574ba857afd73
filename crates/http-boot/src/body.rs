//! The body of a reply and its access line.
//!
//! A file held in the shared cache is sent as one slice of the cached buffer
//! (no copy); a file streamed from disk is read a chunk at a time on the
//! blocking pool, never on the thread that serves connections. The body
//! always knows its exact length, so hyper writes `Content-Length` and never
//! chunks.
//!
//! When the body is dropped (sent, or the connection ended) it logs one line
//! in the fields of a TFTP transfer line (`peer`, `kind`, `file`, `bytes`,
//! `secs`, `outcome`, `reason`) plus the HTTP `status` and `range`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Instant;

use hyper::body::{Body, Bytes, Frame, SizeHint};
use tftp::accept::LogText;
use tftp::source::FileData;
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::timeouts::InFlight;

/// Bytes read from disk per step for a streamed file.
pub(crate) const CHUNK: u64 = 512 * 1024;

/// What one request was, for its access line.
#[derive(Debug)]
pub(crate) struct Access {
    pub(crate) peer: SocketAddr,
    /// The method (`GET`, `HEAD`, or the one refused).
    pub(crate) kind: String,
    /// The name served (after remapping).
    pub(crate) file: Vec<u8>,
    /// The name asked for, when the remap rules changed it.
    pub(crate) requested: Option<Vec<u8>>,
    pub(crate) status: u16,
    /// `Content-Range` of a 206 or 416.
    pub(crate) range: Option<String>,
    /// Why a request was refused.
    pub(crate) reason: Option<String>,
    pub(crate) started: Instant,
    /// Keeps the connection's idle timer off until the reply ends.
    pub(crate) _in_flight: InFlight,
}

type Job = JoinHandle<(FileData, io::Result<Bytes>)>;

enum Kind {
    /// Bytes ready to send (a cached file's slice, an error text, nothing).
    Ready(Option<Bytes>),
    /// A file read from disk: `pos..end` still to send.
    Streamed {
        data: Option<FileData>,
        pos: u64,
        end: u64,
        job: Option<Job>,
    },
}

/// A reply body: see the module docs.
pub struct FileBody {
    kind: Kind,
    /// Bytes the body is to carry (its `Content-Length`).
    length: u64,
    sent: u64,
    error: Option<String>,
    access: Access,
}

impl std::fmt::Debug for FileBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileBody")
            .field("length", &self.length)
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

impl FileBody {
    /// Fixed bytes (an error text, or nothing for `HEAD`).
    pub(crate) fn fixed(bytes: Bytes, access: Access) -> Self {
        Self {
            length: bytes.len() as u64,
            kind: Kind::Ready((!bytes.is_empty()).then_some(bytes)),
            sent: 0,
            error: None,
            access,
        }
    }

    /// The bytes `start..end` of `data`.
    pub(crate) fn file(mut data: FileData, start: u64, end: u64, access: Access) -> Self {
        let kind = match data.shared() {
            // A slice of the cached buffer: cannot fail.
            Some(_) => match data.read_range(start, end) {
                Ok(b) => Kind::Ready((!b.is_empty()).then_some(b)),
                Err(_) => Kind::Ready(None),
            },
            None => Kind::Streamed {
                data: Some(data),
                pos: start,
                end,
                job: None,
            },
        };
        Self {
            kind,
            length: end - start,
            sent: 0,
            error: None,
            access,
        }
    }

    fn remaining(&self) -> u64 {
        self.length - self.sent
    }
}

impl Body for FileBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        let this = &mut *self;
        let chunk = match &mut this.kind {
            Kind::Ready(bytes) => match bytes.take() {
                Some(b) => b,
                None => return Poll::Ready(None),
            },
            Kind::Streamed {
                data,
                pos,
                end,
                job,
            } => {
                if *pos >= *end {
                    return Poll::Ready(None);
                }
                let handle = match job {
                    Some(handle) => handle,
                    None => {
                        let Some(mut file) = data.take() else {
                            return Poll::Ready(None);
                        };
                        let (from, to) = (*pos, (*pos + CHUNK).min(*end));
                        job.insert(tokio::task::spawn_blocking(move || {
                            let read = file.read_range(from, to);
                            (file, read)
                        }))
                    }
                };
                let joined = ready!(Pin::new(handle).poll(cx));
                *job = None;
                let read = match joined {
                    Ok((file, read)) => {
                        *data = Some(file);
                        read
                    }
                    Err(e) => Err(io::Error::other(e)),
                };
                match read {
                    Ok(b) => {
                        *pos += b.len() as u64;
                        b
                    }
                    Err(e) => {
                        *pos = *end;
                        this.error = Some(e.to_string());
                        return Poll::Ready(Some(Err(e)));
                    }
                }
            }
        };
        this.sent += chunk.len() as u64;
        Poll::Ready(Some(Ok(Frame::data(chunk))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining() == 0
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.remaining())
    }
}

impl Drop for FileBody {
    fn drop(&mut self) {
        let a = &self.access;
        let peer = a.peer;
        let kind = LogText::str(&a.kind);
        let file = LogText(&a.file);
        let requested = a.requested.as_deref().map(LogText);
        let status = a.status;
        let range = a.range.as_deref();
        let bytes = self.sent;
        let secs = a.started.elapsed().as_secs_f64();
        let (outcome, reason) = match (&self.error, &a.reason) {
            (Some(e), _) => ("read error", Some(e.as_str())),
            (None, Some(why)) => ("refused", Some(why.as_str())),
            (None, None) if self.sent == self.length => ("complete", None),
            (None, None) => ("aborted by peer", None),
        };
        let reason = reason.map(|m| tracing::field::debug(LogText::str(m)));
        macro_rules! line {
            ($level:ident) => {
                $level!(
                    %peer, ?kind, ?file, requested = requested.map(tracing::field::debug),
                    bytes, secs, status, range, outcome, reason, "transfer"
                )
            };
        }
        if status >= 500 || self.error.is_some() {
            line!(warn);
        } else {
            line!(info);
        }
    }
}
