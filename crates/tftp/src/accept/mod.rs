//! The accept step: what a server decides when a datagram arrives on a
//! listening port, as a plain function over bytes, without sockets.
//!
//! [`accept`] takes the datagram, the client's address, the local address it
//! was sent to, the time, an [`AcceptConfig`] and a [`FileSource`], and
//! returns either [`Ignored`] (not a request: never answered from a
//! listening port, so two servers cannot bounce ERRORs at each other) or an
//! [`Accepted`] request holding the [`Transfer`] to run — a real one, or one
//! that sends a single ERROR and ends. The decisions, in tftp-hpa's order:
//!
//! 1. a malformed request (missing, unknown or unterminated mode) is ERROR 4,
//!    as is the obsolete `mail` mode and an empty file name;
//! 2. an option value tftp-hpa refuses (`blksize 0`, `timeout 300`, …) is
//!    ERROR 8 ([`options::check`]);
//! 3. a WRQ when writes are off is ERROR 2;
//! 4. the remap rules run (a refusal is ERROR 2 with the rule's message);
//! 5. a mapped name with a control character is ERROR 1, as tftp-hpa answers
//!    (no file of that name is served), and a name ending in `/` never
//!    reaches a regular file (ERROR 1, as `open` gives `ENOTDIR`);
//! 6. the source opens the file (the WRQ `tsize` is its size hint) and its
//!    errors become TFTP codes ([`SourceError::tftp_code`]).
//!
//! Opening may block on the disk: a server calls [`accept`] on a thread that
//! may block, never on a thread that serves transfers.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use crate::options::{self, Limits};
use crate::packet::{Direction, ErrorCode, Mode, Packet, Request};
use crate::remap::Remap;
use crate::source::{FileSource, RequestContext, SourceError};
use crate::transfer::retry::RetryPolicy;
use crate::transfer::Transfer;

mod admission;
mod logtext;

pub use admission::{Admission, AdmissionConfig, Admit, SlotId, Summary};
pub use logtext::{LogText, MAX_LOGGED};

/// What the accept step needs besides the request.
#[derive(Clone)]
pub struct AcceptConfig {
    /// Option limits (`-B`, `-W`, `-r`).
    pub limits: Limits,
    /// Retransmission policy of the transfers (`-T`).
    pub retry: RetryPolicy,
    /// Accept WRQ at all. The source still applies its own rules.
    pub allow_write: bool,
    /// File-name remapping (`-m`), applied before the source sees a name.
    pub remap: Option<Arc<dyn Remap>>,
}

impl Default for AcceptConfig {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            allow_write: true,
            remap: None,
        }
    }
}

impl fmt::Debug for AcceptConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcceptConfig")
            .field("limits", &self.limits)
            .field("retry", &self.retry)
            .field("allow_write", &self.allow_write)
            .field("remap", &self.remap.is_some())
            .finish()
    }
}

/// A datagram on a listening port that is not a request: never answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not a request (opcode {opcode:?})")]
pub struct Ignored {
    /// Its opcode, if it had two bytes.
    pub opcode: Option<u16>,
}

/// Why a request is refused: the ERROR packet the transfer sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The code sent.
    pub code: ErrorCode,
    /// The message sent.
    pub message: String,
    /// The request was malformed (ERROR 4 for its framing or mode): servers
    /// count these rather than log each one.
    pub malformed: bool,
}

/// A request and the transfer that answers it.
#[derive(Debug)]
pub struct Accepted {
    /// RRQ or WRQ.
    pub direction: Direction,
    /// The file name as sent (up to its NUL; for a malformed request, the
    /// bytes up to the first NUL or the end).
    pub filename: Vec<u8>,
    /// The name after the remap rules, when they changed it.
    pub remapped: Option<Vec<u8>>,
    /// The transfer to drive on a fresh socket: the real one, or one that
    /// sends [`Accepted::refusal`]'s ERROR and ends.
    pub transfer: Transfer,
    /// Set when the request is refused.
    pub refusal: Option<Refusal>,
}

impl Accepted {
    /// The name the source saw (or would have seen).
    pub fn served_name(&self) -> &[u8] {
        self.remapped.as_deref().unwrap_or(&self.filename)
    }
}

/// Decides what answers `datagram`, a datagram from `peer` that arrived on a
/// listening port at `local`; see the module documentation.
pub fn accept(
    datagram: &[u8],
    peer: SocketAddr,
    local: Option<IpAddr>,
    now: Instant,
    config: &AcceptConfig,
    source: &dyn FileSource,
) -> Result<Accepted, Ignored> {
    let Some(direction) = Direction::of_request(datagram) else {
        let opcode = datagram.get(..2).map(|b| u16::from_be_bytes([b[0], b[1]]));
        return Err(Ignored { opcode });
    };
    let refuse = |filename: &[u8], remapped, code, message: &str, malformed| Accepted {
        direction,
        filename: filename.to_vec(),
        remapped,
        transfer: Transfer::refuse(now, peer, code, message),
        refusal: Some(Refusal {
            code,
            message: message.to_owned(),
            malformed,
        }),
    };
    let req = match Packet::parse(datagram) {
        Ok(Packet::Rrq(r) | Packet::Wrq(r)) => r,
        Ok(_) => return Err(Ignored { opcode: None }),
        Err(e) => {
            let body = &datagram[2..];
            let name = &body[..body.iter().position(|b| *b == 0).unwrap_or(body.len())];
            return Ok(refuse(
                name,
                None,
                ErrorCode::IllegalOperation,
                &e.to_string(),
                true,
            ));
        }
    };
    let name = req.filename;
    if req.mode == Mode::Mail {
        return Ok(refuse(
            name,
            None,
            ErrorCode::IllegalOperation,
            "Unknown mode",
            true,
        ));
    }
    if name.is_empty() {
        return Ok(refuse(
            name,
            None,
            ErrorCode::IllegalOperation,
            "Illegal operation",
            true,
        ));
    }
    if let Err(e) = options::check(&req.options, &config.limits) {
        return Ok(refuse(
            name,
            None,
            ErrorCode::OptionRefused,
            &e.to_string(),
            false,
        ));
    }
    if direction == Direction::Write && !config.allow_write {
        let msg = "Write requests are not accepted";
        return Ok(refuse(name, None, ErrorCode::AccessViolation, msg, false));
    }
    let mapped = match &config.remap {
        Some(remap) => match remap.remap(name, peer.ip(), direction) {
            Ok(m) => m,
            Err(r) => {
                return Ok(refuse(
                    name,
                    None,
                    ErrorCode::AccessViolation,
                    &r.message,
                    false,
                ));
            }
        },
        None => name.to_vec(),
    };
    let remapped = (mapped.as_slice() != name).then(|| mapped.clone());
    if mapped.iter().any(|&c| c < 0x20 || c == 0x7f) || mapped.is_empty() {
        let not_found = ErrorCode::FileNotFound.default_message();
        return Ok(refuse(
            name,
            remapped,
            ErrorCode::FileNotFound,
            not_found,
            false,
        ));
    }
    let mut ctx = RequestContext::new(peer);
    ctx.local = local;
    let req = Request {
        filename: &mapped,
        ..req
    };
    let opened = match direction {
        Direction::Read => open_read(source, &req, &ctx)
            .map(|data| Transfer::server_read(now, peer, &req, data, &config.limits, config.retry)),
        Direction::Write => open_write(source, &req, &mut ctx).map(|sink| {
            Transfer::server_write(now, peer, &req, sink, &config.limits, config.retry)
        }),
    };
    Ok(match opened {
        Ok(transfer) => Accepted {
            direction,
            filename: name.to_vec(),
            remapped,
            transfer,
            refusal: None,
        },
        Err(e) => refuse(
            name,
            remapped,
            ErrorCode::from_u16(e.tftp_code()),
            &e.message(),
            false,
        ),
    })
}

/// A name whose last component is empty or `.` (`a/`, `a/.`, `a/./`) names a
/// directory: a regular file found under it is "not found" (`ENOTDIR`), as
/// `open(2)` answers tftp-hpa.
fn names_directory(name: &[u8]) -> bool {
    match name.iter().rposition(|&c| c == b'/') {
        Some(slash) => matches!(&name[slash + 1..], b"" | b"."),
        None => false,
    }
}

fn open_read(
    source: &dyn FileSource,
    req: &Request<'_>,
    ctx: &RequestContext,
) -> Result<crate::source::FileData, SourceError> {
    let data = source.open_read(req.filename, ctx)?;
    if names_directory(req.filename) {
        return Err(SourceError::NotFound);
    }
    Ok(data)
}

fn open_write(
    source: &dyn FileSource,
    req: &Request<'_>,
    ctx: &mut RequestContext,
) -> Result<Box<dyn crate::source::WriteSink>, SourceError> {
    if names_directory(req.filename) {
        // Never opened: a sink would write the file the name lacks a slash for.
        return Err(SourceError::NotFound);
    }
    ctx.size_hint = req
        .options
        .get("tsize")
        .and_then(|v| std::str::from_utf8(v).ok())
        .and_then(|v| v.parse().ok());
    source.open_write(req.filename, ctx)
}

#[cfg(test)]
mod tests;
