//! The sans-IO part of a request: what to open and what to answer, as pure
//! functions of the request line, two headers and the file's length.
//!
//! [`decide`] turns the method, target and `Range`/`If-Range` headers into a
//! [`Wanted`] file (or a [`Refusal`]); once the source opened it,
//! [`Wanted::reply`] says the status, the byte span and `Content-Range`.
//! Source errors become refusals through [`Refusal::from_source`].

use std::fmt;

use hyper::{Method, StatusCode};
use tftp::source::SourceError;

use crate::name::file_name;
use crate::range::RangeRequest;

/// A request refused before or while opening the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// 400: the target or a header is malformed.
    BadRequest(&'static str),
    /// 403: the path rules refuse the name (the source's reason).
    Forbidden(String),
    /// 404: no such file (directories and `/` included: nothing is listed).
    NotFound,
    /// 405: a method other than `GET` and `HEAD`.
    MethodNotAllowed,
    /// 500: the file could not be read (the OS message).
    Internal(String),
}

impl Refusal {
    /// The status line's code.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The source's refusal in HTTP terms: "not found" (and a directory) is
    /// 404, a path-rule refusal 403 (outside the root, a symlink out, not
    /// world-readable, `..`, not a regular file), permission denied by the
    /// OS 403, a name the source finds illegal (only the empty name `/` is
    /// left after [`crate::name`]) 404, anything else 500.
    pub fn from_source(err: &SourceError) -> Self {
        match err {
            SourceError::NotFound => Self::NotFound,
            SourceError::AccessViolation(why) => Self::Forbidden(why.clone()),
            SourceError::IllegalName(_) => Self::NotFound,
            SourceError::Io(e) => match e.raw_os_error() {
                Some(libc::EISDIR) => Self::NotFound,
                Some(libc::EACCES) => Self::Forbidden(err.message()),
                _ => Self::Internal(err.message()),
            },
            other => Self::Internal(other.message()),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadRequest(why) => f.write_str(why),
            Self::Forbidden(why) | Self::Internal(why) => f.write_str(why),
            Self::NotFound => f.write_str("File not found"),
            Self::MethodNotAllowed => f.write_str("only GET and HEAD"),
        }
    }
}

/// A file to open, and how much of it to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wanted {
    /// The TFTP file name (see [`crate::name`]).
    pub name: Vec<u8>,
    /// `HEAD`: headers only.
    pub head: bool,
    /// The range asked for.
    pub range: RangeRequest,
}

/// The parts of a request the decision depends on.
#[derive(Debug, Clone, Copy)]
pub struct RequestHead<'a> {
    /// The method.
    pub method: &'a Method,
    /// The request target as sent (path and query).
    pub target: &'a str,
    /// The `Range` header's value, if any.
    pub range: Option<&'a [u8]>,
    /// Whether an `If-Range` header was sent. The server sends no validators
    /// (`ETag`, `Last-Modified`), so no `If-Range` can match: the whole file
    /// is sent (RFC 9110 §13.1.5).
    pub if_range: bool,
}

/// Decides what a request asks for, before any file system access.
pub fn decide(req: RequestHead<'_>) -> Result<Wanted, Refusal> {
    let head = match *req.method {
        Method::GET => false,
        Method::HEAD => true,
        _ => return Err(Refusal::MethodNotAllowed),
    };
    let name = file_name(req.target)?;
    let range = match req.if_range {
        true => RangeRequest::Whole,
        false => RangeRequest::parse(req.range),
    };
    Ok(Wanted { name, head, range })
}

/// What to answer for an opened file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// 200, 206 or 416.
    pub status: StatusCode,
    /// First byte to send.
    pub start: u64,
    /// One past the last byte to send (`end - start` is `Content-Length`).
    pub end: u64,
    /// `Content-Range` (206: `bytes a-b/len`; 416: `bytes */len`).
    pub content_range: Option<String>,
}

impl Reply {
    /// The `Content-Length` of this reply (also for `HEAD`, where no body
    /// follows).
    pub fn content_length(&self) -> u64 {
        self.end - self.start
    }
}

impl Wanted {
    /// The reply for this request on a file of `len` bytes.
    pub fn reply(&self, len: u64) -> Reply {
        match self.range.resolve(len) {
            Ok((start, end)) if self.range == RangeRequest::Whole => Reply {
                status: StatusCode::OK,
                start,
                end,
                content_range: None,
            },
            Ok((start, end)) => Reply {
                status: StatusCode::PARTIAL_CONTENT,
                start,
                end,
                content_range: Some(format!("bytes {start}-{}/{len}", end - 1)),
            },
            Err(_) => Reply {
                status: StatusCode::RANGE_NOT_SATISFIABLE,
                start: 0,
                end: 0,
                content_range: Some(format!("bytes */{len}")),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io;

    use super::*;

    fn head<'a>(method: &'a Method, target: &'a str, range: Option<&'a str>) -> RequestHead<'a> {
        RequestHead {
            method,
            target,
            range: range.map(str::as_bytes),
            if_range: false,
        }
    }

    #[test]
    fn methods() {
        let w = decide(head(&Method::HEAD, "/a", None)).unwrap();
        assert!(w.head);
        assert!(!decide(head(&Method::GET, "/a", None)).unwrap().head);
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::OPTIONS] {
            let r = decide(head(&m, "/a", None)).unwrap_err();
            assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        }
        // The method is checked first: a bad path with POST is still 405.
        let r = decide(head(&Method::POST, "/../x", None)).unwrap_err();
        assert_eq!(r, Refusal::MethodNotAllowed);
    }

    #[test]
    fn replies_for_each_range_form() {
        let reply =
            |range: Option<&str>| decide(head(&Method::GET, "/f", range)).unwrap().reply(1000);
        let whole = reply(None);
        assert_eq!(
            (whole.status, whole.content_length()),
            (StatusCode::OK, 1000)
        );
        assert_eq!(whole.content_range, None);
        let r = reply(Some("bytes=0-99"));
        assert_eq!(
            (r.status, r.start, r.end),
            (StatusCode::PARTIAL_CONTENT, 0, 100)
        );
        assert_eq!(r.content_range.as_deref(), Some("bytes 0-99/1000"));
        let r = reply(Some("bytes=900-"));
        assert_eq!(r.content_range.as_deref(), Some("bytes 900-999/1000"));
        let r = reply(Some("bytes=-10"));
        assert_eq!(r.content_range.as_deref(), Some("bytes 990-999/1000"));
        assert_eq!(r.content_length(), 10);
        let r = reply(Some("bytes=1000-"));
        assert_eq!(r.status, StatusCode::RANGE_NOT_SATISFIABLE);
        assert_eq!(r.content_range.as_deref(), Some("bytes */1000"));
        assert_eq!(r.content_length(), 0);
        let r = reply(Some("bytes=0-1,5-6"));
        assert_eq!((r.status, r.content_length()), (StatusCode::OK, 1000));
    }

    #[test]
    fn if_range_sends_the_whole_file() {
        let mut req = head(&Method::GET, "/f", Some("bytes=0-0"));
        req.if_range = true;
        let r = decide(req).unwrap().reply(5);
        assert_eq!((r.status, r.content_length()), (StatusCode::OK, 5));
    }

    #[test]
    fn source_errors() {
        let map = |e: SourceError| Refusal::from_source(&e).status();
        assert_eq!(map(SourceError::NotFound), StatusCode::NOT_FOUND);
        let outside = SourceError::AccessViolation("Path leaves the root directory".into());
        assert_eq!(map(outside), StatusCode::FORBIDDEN);
        let empty = SourceError::IllegalName("empty file name".into());
        assert_eq!(map(empty), StatusCode::NOT_FOUND);
        let os = |n| SourceError::Io(io::Error::from_raw_os_error(n));
        assert_eq!(map(os(libc::EISDIR)), StatusCode::NOT_FOUND);
        assert_eq!(map(os(libc::EACCES)), StatusCode::FORBIDDEN);
        assert_eq!(map(os(libc::EIO)), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            map(SourceError::DiskFull),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
