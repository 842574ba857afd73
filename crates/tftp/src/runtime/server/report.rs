//! The server's log lines: tftp-hpa's request line, one structured line per
//! transfer, and the refusal summary. Every client-supplied string goes
//! through [`LogText`] (escaped, capped).

use std::io;
use std::net::SocketAddr;
use std::time::Instant;

use tracing::{debug, info, warn};

use super::{Cut, TransferOutcome};
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
        (_, true) => debug!(%peer, kind, file = ?name, "malformed request"),
        (Some(m), false) => info!(
            "{kind} from {ip} filename {name} remapped to {}",
            LogText(m)
        ),
        (None, false) => info!("{kind} from {ip} filename {name}"),
    }
}

/// How a transfer ended, for its log line.
pub(super) struct Ended<'a> {
    /// What the driver returned.
    pub(super) result: &'a io::Result<()>,
    /// Cut short by the full-server policy.
    pub(super) cut: Option<Cut>,
    /// As counted.
    pub(super) outcome: TransferOutcome,
    /// The request was malformed.
    pub(super) malformed: bool,
}

/// One line per finished transfer: at info when it did what the client
/// wanted or the file does not exist (PXELINUX looks up a dozen names that
/// mostly are not there; in.tftpd does not log those), at debug when the
/// refusal summary counts it, else at warn.
pub(super) fn log_transfer(
    t: &Transfer,
    direction: Direction,
    file: &[u8],
    peer: SocketAddr,
    started: Instant,
    ended: &Ended<'_>,
) {
    let Ended {
        result: io,
        cut,
        outcome: counted,
        malformed,
    } = *ended;
    let s = t.stats();
    let n = t.negotiated();
    let kind = direction.request_name();
    let file = LogText(file);
    let secs = s
        .ended
        .unwrap_or_else(Instant::now)
        .duration_since(started)
        .as_secs_f64();
    // The outcome in words; a code and a message (the client's own text for
    // an ERROR it sent, quoted and escaped) as fields of their own.
    let socket_error = io.as_ref().err().map(ToString::to_string);
    let (outcome, code, reason): (&str, Option<u16>, Option<&str>) = match (cut, t.outcome()) {
        _ if socket_error.is_some() => ("socket error", None, socket_error.as_deref()),
        (Some(Cut::Reclaimed), _) => ("reclaimed: no answer while the server was full", None, None),
        (Some(Cut::Expired), _) => (
            "handshake deadline passed while the server was busy",
            None,
            None,
        ),
        (None, Some(Outcome::Complete)) => ("complete", None, None),
        (None, Some(Outcome::SizeProbe)) => ("size probe", None, None),
        (None, Some(Outcome::Refused { code, message })) => {
            ("refused", Some(code.to_u16()), Some(message))
        }
        (None, Some(Outcome::PeerError { code, message })) => {
            ("aborted by peer", Some(code.to_u16()), Some(message))
        }
        (None, Some(Outcome::TimedOut)) => ("timed out", None, None),
        (None, None) => ("unfinished", None, None),
    };
    let reason = reason.map(|m| tracing::field::debug(LogText::str(m)));
    let oack: Vec<String> = n.oack.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let options = oack.join(",");
    let options = LogText::str(&options);
    let srtt_us = s.srtt.map_or(0, |d| d.as_micros() as u64);
    let pacing_us = s.pacing.map_or(0, |d| d.as_micros() as u64);
    macro_rules! line {
        ($level:ident) => {
            $level!(
                %peer, kind, ?file, ?options, bytes = s.bytes, secs,
                retransmits = s.retransmits, timeouts = s.timeouts,
                fast_recoveries = s.fast_recoveries, tail_probes = s.tail_probes, srtt_us, window = s.window, pacing_us,
                outcome, code, reason, "transfer"
            )
        };
    }
    let expected = matches!(
        counted,
        TransferOutcome::Complete | TransferOutcome::SizeProbe | TransferOutcome::NotFound
    );
    if expected && !malformed {
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
