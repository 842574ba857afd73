//! The server's log lines: tftp-hpa's request line, one structured line per
//! transfer, and the refusal summary. Every client-supplied string goes
//! through [`LogText`] (escaped, capped).

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use tracing::{debug, info, warn};

use super::Cut;
use crate::accept::{LogText, Summary};
use crate::packet::Direction;
use crate::transfer::{Outcome, Transfer};

/// tftp-hpa's request line (`-v`): `RRQ from 192.0.2.7 filename pxelinux.0`,
/// with ` remapped to NAME` when the rules changed it; names escaped and
/// capped ([`LogText`]). Malformed requests only at debug level.
pub(super) fn log_request(
    direction: Direction,
    peer: SocketAddr,
    name: &[u8],
    remapped: Option<&[u8]>,
    malformed: bool,
) {
    let kind = direction.request_name();
    let ip = peer.ip();
    let name = LogText(name);
    match (remapped, malformed) {
        (_, true) => debug!(%peer, kind, file = %name, "malformed request"),
        (Some(m), false) => info!(
            "{kind} from {ip} filename {name} remapped to {}",
            LogText(m)
        ),
        (None, false) => info!("{kind} from {ip} filename {name}"),
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn log_transfer(
    t: &Transfer,
    direction: Direction,
    file: &[u8],
    peer: SocketAddr,
    started: Instant,
    io: &io::Result<()>,
    cut: Option<Cut>,
    malformed: bool,
) {
    let s = t.stats();
    let n = t.negotiated();
    let kind = direction.request_name();
    let file = LogText(file);
    let secs = s
        .ended
        .unwrap_or_else(Instant::now)
        .duration_since(started)
        .as_secs_f64();
    let outcome = match (cut, t.outcome(), io) {
        (_, _, Err(e)) => format!("socket error: {e}"),
        (Some(Cut::Reclaimed), _, _) => "reclaimed: no answer while the server was full".to_owned(),
        (Some(Cut::Expired), _, _) => {
            "handshake deadline passed while the server was busy".to_owned()
        }
        (None, Some(Outcome::Complete), _) => "complete".to_owned(),
        (None, Some(Outcome::SizeProbe), _) => "size probe".to_owned(),
        (None, Some(Outcome::Refused { code, message }), _) => {
            format!("refused: {} {}", code.to_u16(), LogText::str(message))
        }
        (None, Some(Outcome::PeerError { code, message }), _) => {
            format!(
                "aborted by peer: {} {}",
                code.to_u16(),
                LogText::str(message)
            )
        }
        (None, Some(Outcome::TimedOut), _) => "timed out".to_owned(),
        (None, None, _) => "unfinished".to_owned(),
    };
    let oack: Vec<String> = n
        .oack
        .iter()
        .map(|(k, v)| format!("{}={}", LogText::str(k), LogText::str(v)))
        .collect();
    let options = oack.join(",");
    let ok = matches!(t.outcome(), Some(Outcome::Complete | Outcome::SizeProbe)) && io.is_ok();
    macro_rules! line {
        ($level:ident) => {
            $level!(%peer, kind, %file, %options, bytes = s.bytes, secs, retransmits = s.retransmits, %outcome, "transfer")
        };
    }
    if ok && cut.is_none() {
        line!(info);
    } else if malformed || cut.is_some() {
        // Counted in the refusal summary; one line each only at debug.
        line!(debug);
    } else {
        line!(warn);
    }
}

/// The refusal summary: WARN while the server refused requests for lack of
/// slots, INFO when it only ignored junk.
pub(super) fn log_summary(s: &Summary) {
    let full = s.busy_replied + s.busy_dropped + s.reclaimed + s.expired > 0;
    macro_rules! summary {
        ($level:ident) => {
            $level!(
                busy_replied = s.busy_replied,
                busy_dropped = s.busy_dropped,
                reclaimed = s.reclaimed,
                expired = s.expired,
                not_requests = s.not_requests,
                malformed = s.malformed,
                running = s.running,
                "refused and ignored datagrams since the last summary"
            )
        };
    }
    if full {
        summary!(warn);
    } else {
        summary!(info);
    }
}
