//! The server's counters, kept where the events happen (listeners,
//! admission, the end of each transfer) and read by whoever asks (the
//! daemon's metrics endpoint, its SIGUSR1 line). Plain atomics: this crate
//! knows no exposition format.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::Cut;
use crate::packet::{Direction, ErrorCode};
use crate::transfer::{Outcome, Transfer};

/// How a transfer ended, as counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransferOutcome {
    /// Every byte delivered and acknowledged.
    Complete,
    /// A UEFI size probe (aborted after the OACK, by design).
    SizeProbe,
    /// Refused with ERROR 1, "File not found" (most of them PXELINUX's
    /// configuration lookup).
    NotFound,
    /// Refused or aborted by this server with another ERROR.
    Refused,
    /// The client sent an ERROR.
    AbortedByPeer,
    /// The client stopped answering.
    TimedOut,
    /// The transfer socket failed.
    SocketError,
    /// Cut by the full-server policy (slot reclaimed, handshake deadline).
    Cut,
    /// Stopped before an outcome (shutdown).
    Unfinished,
}

impl TransferOutcome {
    /// Every outcome, in a fixed order.
    pub const ALL: [Self; 9] = [
        Self::Complete,
        Self::SizeProbe,
        Self::NotFound,
        Self::Refused,
        Self::AbortedByPeer,
        Self::TimedOut,
        Self::SocketError,
        Self::Cut,
        Self::Unfinished,
    ];

    /// A short name for labels: `complete`, `not_found`, `timed_out`…
    pub fn label(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::SizeProbe => "size_probe",
            Self::NotFound => "not_found",
            Self::Refused => "refused",
            Self::AbortedByPeer => "aborted_by_peer",
            Self::TimedOut => "timed_out",
            Self::SocketError => "socket_error",
            Self::Cut => "cut",
            Self::Unfinished => "unfinished",
        }
    }

    /// The outcome of `t`, whose driver returned `io`, cut or not.
    pub(super) fn of(t: &Transfer, io: &io::Result<()>, cut: Option<Cut>) -> Self {
        if io.is_err() {
            return Self::SocketError;
        }
        if cut.is_some() {
            return Self::Cut;
        }
        match t.outcome() {
            Some(Outcome::Complete) => Self::Complete,
            Some(Outcome::SizeProbe) => Self::SizeProbe,
            Some(Outcome::Refused {
                code: ErrorCode::FileNotFound,
                ..
            }) => Self::NotFound,
            Some(Outcome::Refused { .. }) => Self::Refused,
            Some(Outcome::PeerError { .. }) => Self::AbortedByPeer,
            Some(Outcome::TimedOut) => Self::TimedOut,
            None => Self::Unfinished,
        }
    }
}

/// The counters of one [`Server`](super::Server) (shared through
/// [`ServerConfig::counters`](super::ServerConfig::counters)).
#[derive(Debug, Default)]
pub struct Counters {
    read_requests: AtomicU64,
    write_requests: AtomicU64,
    transfers: [AtomicU64; TransferOutcome::ALL.len()],
    sent_bytes: AtomicU64,
    received_bytes: AtomicU64,
    retransmissions: AtomicU64,
    timeouts: AtomicU64,
    busy_replied: AtomicU64,
    busy_dropped: AtomicU64,
    not_requests: AtomicU64,
    malformed: AtomicU64,
    active: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CounterSnapshot {
    /// RRQs received on a listening port.
    pub read_requests: u64,
    /// WRQs received on a listening port.
    pub write_requests: u64,
    /// Finished transfers, indexed like [`TransferOutcome::ALL`].
    pub transfers: [u64; TransferOutcome::ALL.len()],
    /// Payload bytes delivered to clients (RRQ).
    pub sent_bytes: u64,
    /// Payload bytes accepted from clients (WRQ).
    pub received_bytes: u64,
    /// Packets sent again (after a timeout, a gap, a tail probe).
    pub retransmissions: u64,
    /// Retransmission timeouts that fired.
    pub timeouts: u64,
    /// Requests answered "Server busy" (no free transfer slot).
    pub busy_replied: u64,
    /// Requests dropped without an answer (no slot, over the busy-reply rate).
    pub busy_dropped: u64,
    /// Datagrams on a listening port that are not requests (ignored).
    pub not_requests: u64,
    /// Malformed requests (answered ERROR 4).
    pub malformed: u64,
    /// Transfers running now.
    pub active: u64,
}

impl CounterSnapshot {
    /// Finished transfers with `outcome`.
    pub fn transfers(&self, outcome: TransferOutcome) -> u64 {
        let i = TransferOutcome::ALL.iter().position(|o| *o == outcome);
        i.map_or(0, |i| self.transfers[i])
    }
}

impl Counters {
    /// The values now (each read on its own: a snapshot taken during a
    /// transfer may count its request but not yet its end).
    pub fn snapshot(&self) -> CounterSnapshot {
        let get = |c: &AtomicU64| c.load(Relaxed);
        CounterSnapshot {
            read_requests: get(&self.read_requests),
            write_requests: get(&self.write_requests),
            transfers: std::array::from_fn(|i| get(&self.transfers[i])),
            sent_bytes: get(&self.sent_bytes),
            received_bytes: get(&self.received_bytes),
            retransmissions: get(&self.retransmissions),
            timeouts: get(&self.timeouts),
            busy_replied: get(&self.busy_replied),
            busy_dropped: get(&self.busy_dropped),
            not_requests: get(&self.not_requests),
            malformed: get(&self.malformed),
            active: get(&self.active),
        }
    }

    pub(super) fn request(&self, direction: Direction) {
        match direction {
            Direction::Read => self.read_requests.fetch_add(1, Relaxed),
            Direction::Write => self.write_requests.fetch_add(1, Relaxed),
        };
    }

    pub(super) fn not_request(&self) {
        self.not_requests.fetch_add(1, Relaxed);
    }

    pub(super) fn busy(&self, replied: bool) {
        let c = if replied {
            &self.busy_replied
        } else {
            &self.busy_dropped
        };
        c.fetch_add(1, Relaxed);
    }

    pub(super) fn malformed(&self) {
        self.malformed.fetch_add(1, Relaxed);
    }

    /// A transfer starts; it counts as active until the guard is dropped.
    pub(super) fn started(&self) -> Active<'_> {
        self.active.fetch_add(1, Relaxed);
        Active(self)
    }

    /// A transfer ended.
    pub(super) fn finished(&self, t: &Transfer, direction: Direction, outcome: TransferOutcome) {
        let i = TransferOutcome::ALL.iter().position(|o| *o == outcome);
        if let Some(i) = i {
            self.transfers[i].fetch_add(1, Relaxed);
        }
        let s = t.stats();
        let bytes = match direction {
            Direction::Read => &self.sent_bytes,
            Direction::Write => &self.received_bytes,
        };
        bytes.fetch_add(s.bytes, Relaxed);
        self.retransmissions.fetch_add(s.retransmits, Relaxed);
        self.timeouts.fetch_add(s.timeouts, Relaxed);
    }
}

/// A running transfer, for [`CounterSnapshot::active`].
#[derive(Debug)]
pub(super) struct Active<'a>(&'a Counters);

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Relaxed);
    }
}
