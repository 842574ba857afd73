//! One TFTP transfer as a sans-IO state machine: no socket and no clock inside.
//!
//! The four roles (server read, server write, client get, client put) share one
//! type and one driving contract, in the manner of quinn's `Connection`:
//!
//! 1. feed every datagram that arrives on the transfer's socket to [`Transfer::handle`];
//! 2. after `handle` and after [`Transfer::handle_timeout`], call
//!    [`Transfer::poll_transmit`] until it returns `None`, sending each [`Transmit`];
//! 3. sleep until [`Transfer::poll_timeout`] (or the next datagram), then call
//!    [`Transfer::handle_timeout`] and poll again: the deadline is either the
//!    retransmission timer or the release time of a paced burst;
//! 4. stop when [`Transfer::is_finished`] is true; [`Transfer::outcome`] says how it ended.
//!
//! A driver that can run blocking work elsewhere calls [`Transfer::hand_off_finish`]
//! first; then after each `handle` it also checks [`Transfer::poll_finish`] and
//! reports the finished upload with [`Transfer::handle_finished`].
//!
//! A DATA transmit is a 4-byte header written into the caller's buffer plus a
//! [`Bytes`] slice of the file: the file's bytes are never copied.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::netascii;
use crate::options::{self, Direction, Limits, Negotiated, RequestOptions};
use crate::packet::{self, ErrorCode, Mode, Opcode, Packet, Request};
use crate::source::{FileData, SourceError, WriteSink};
use receiver::Receiver;
use retry::{Backoff, RetryPolicy};
use sender::Sender;

mod block;
mod handle;
mod pacing;
mod receiver;
pub mod retry;
mod sender;
mod storage;

use storage::Storage;

/// The shortest wait before a sending transfer repeats the last block of a
/// round that drew no answer (the tail probe): a round trip on a LAN is a
/// fraction of it, a retransmission timeout ([`RetryPolicy::min_rto`]) ten.
const MIN_TAIL_PROBE: Duration = Duration::from_millis(1);

/// One datagram to send.
#[derive(Debug, Clone)]
pub struct Transmit {
    /// Where to send it.
    pub destination: SocketAddr,
    /// Bytes written at the start of the caller's buffer: a whole control
    /// packet, or the 4-byte DATA header.
    pub len: usize,
    /// DATA payload to send right after those bytes (empty for control packets).
    pub payload: Bytes,
}

/// DATA blocks to send back to back to one destination: what
/// [`Transfer::poll_transmit_batch`] yields. Each block is its 4-byte header
/// and a slice of the file; the driver keeps one `DataBatch` per transfer and
/// reuses its allocation.
#[derive(Debug, Clone)]
pub struct DataBatch {
    /// Where every block goes.
    pub destination: SocketAddr,
    /// Header and payload of each block, in order.
    pub blocks: Vec<([u8; packet::DATA_HEADER_LEN], Bytes)>,
}

impl DataBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self {
            destination: SocketAddr::from(([0, 0, 0, 0], 0)),
            blocks: Vec::new(),
        }
    }
}

impl Default for DataBatch {
    fn default() -> Self {
        Self::new()
    }
}

/// How a transfer ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Every byte was delivered and acknowledged.
    Complete,
    /// The client aborted right after the OACK of a request that asked for
    /// `tsize`: UEFI firmware probing the size. Normal, not a failure.
    SizeProbe,
    /// The peer sent an ERROR.
    PeerError {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// This side refused or aborted the transfer with an ERROR.
    Refused {
        /// The code sent.
        code: ErrorCode,
        /// The message sent.
        message: String,
    },
    /// The peer stopped answering.
    TimedOut,
}

/// Counters of one transfer, and what its loss recovery settled on: the
/// figures a per-transfer log line needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Payload bytes delivered (acknowledged when sending, accepted when receiving).
    pub bytes: u64,
    /// DATA blocks sent again and control packets repeated after a timeout.
    pub retransmits: u64,
    /// Retransmission timeouts that fired.
    pub timeouts: u64,
    /// Sending roles: restarts on the receiver's ACK after a gap (RFC 7440
    /// §4), without waiting for the timer.
    pub fast_recoveries: u64,
    /// Sending roles: tail probes sent (the last block of a round repeated
    /// after two round trips without an answer).
    pub tail_probes: u64,
    /// Smoothed round-trip time, once measured (Karn's rule applies).
    pub srtt: Option<Duration>,
    /// The retransmission interval in force (measured for sending roles,
    /// backoff included).
    pub rto: Duration,
    /// Sending roles: blocks sent back to back (the effective window) when
    /// the transfer ended; receiving roles: the negotiated windowsize.
    pub window: u64,
    /// Sending roles: the interval between paced bursts, once loss started
    /// pacing; `None` when the transfer was never paced.
    pub pacing: Option<Duration>,
    /// Datagrams dropped as malformed or from a foreign TID.
    pub dropped: u64,
    /// Receiving roles: DATA blocks dropped as repeats or as beyond a gap.
    pub discarded: u64,
    /// When the transfer started.
    pub started: Instant,
    /// When it reached its outcome.
    pub ended: Option<Instant>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ServerRead,
    ServerWrite,
    ClientGet,
    ClientPut,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Waiting for the peer's first answer (ACK 0 of an OACK, or the server's first reply).
    Handshake,
    /// Blocks flow.
    Data,
    /// Upload: the last block is written and the sink is handed to the
    /// driver to finish; waiting for `handle_finished`.
    Finishing,
    /// The final block is ACKed; repeats of it are answered until the dally time ends.
    Dally,
    /// Sending the last queued packets (an ERROR, a final ACK), then finished.
    Closing,
    Finished,
}

#[derive(Debug, Clone)]
enum Control {
    Request,
    Oack,
    Ack(u16),
    Error(ErrorCode, String),
}

#[derive(Debug)]
enum Half {
    None,
    Send(Sender),
    Recv {
        receiver: Receiver,
        storage: Storage,
        decoder: Option<netascii::Decoder>,
    },
}

/// One transfer; see the module documentation for how to drive it.
#[derive(Debug)]
pub struct Transfer {
    role: Role,
    phase: Phase,
    half: Half,
    peer: SocketAddr,
    latched: bool,
    queue: VecDeque<(SocketAddr, Control)>,
    backoff: Backoff,
    /// The retransmission (or dally) deadline.
    deadline: Option<Instant>,
    /// When the peer last made progress (or the transfer started): the
    /// transfer ends once it has been silent for `Backoff::silence_limit`.
    quiet_since: Instant,
    /// When the first request or OACK left, and whether it left only once:
    /// the handshake's round trip is the first sample (Karn's rule).
    handshake_sent: Option<(Instant, bool)>,
    negotiated: Negotiated,
    outcome: Option<Outcome>,
    stats: Stats,
    // Client side: what was asked, to send again and to check the OACK against.
    filename: Vec<u8>,
    mode: Mode,
    asked: RequestOptions,
    put_data: Option<Bytes>,
    /// Client get: where the file goes once the transfer starts (memory when `None`).
    get_sink: Option<Box<dyn WriteSink>>,
    retry: RetryPolicy,
    // Server write: finish the sink off the driving thread (opt-in).
    hand_off_finish: bool,
    finishing: Option<Box<dyn WriteSink>>,
    final_ack: Option<u16>,
}

impl Transfer {
    fn base(role: Role, now: Instant, peer: SocketAddr, retry: RetryPolicy) -> Self {
        Self {
            role,
            phase: Phase::Handshake,
            half: Half::None,
            peer,
            latched: matches!(role, Role::ServerRead | Role::ServerWrite),
            queue: VecDeque::new(),
            backoff: match role {
                Role::ServerRead | Role::ClientPut => Backoff::adaptive(retry, None),
                Role::ServerWrite | Role::ClientGet => Backoff::new(retry, None),
            },
            deadline: None,
            quiet_since: now,
            handshake_sent: None,
            negotiated: Negotiated::default(),
            outcome: None,
            stats: Stats {
                bytes: 0,
                retransmits: 0,
                timeouts: 0,
                fast_recoveries: 0,
                tail_probes: 0,
                srtt: None,
                rto: retry.initial,
                window: 1,
                pacing: None,
                dropped: 0,
                discarded: 0,
                started: now,
                ended: None,
            },
            filename: Vec::new(),
            mode: Mode::Octet,
            asked: RequestOptions::default(),
            put_data: None,
            get_sink: None,
            retry,
            hand_off_finish: false,
            finishing: None,
            final_ack: None,
        }
    }

    /// A server transfer that only answers `peer` with an ERROR and ends.
    pub fn refuse(now: Instant, peer: SocketAddr, code: ErrorCode, message: &str) -> Self {
        let mut t = Self::base(Role::ServerRead, now, peer, RetryPolicy::default());
        t.fail(now, code, message);
        t
    }

    /// Serves an RRQ with the file's bytes (in local form; netascii is applied here).
    pub fn server_read(
        now: Instant,
        peer: SocketAddr,
        request: &Request<'_>,
        file: impl Into<FileData>,
        limits: &Limits,
        retry: RetryPolicy,
    ) -> Self {
        let file = file.into();
        let data = match request.mode {
            Mode::Octet => file,
            Mode::Netascii => match file.into_netascii() {
                Ok(data) => data,
                Err(err) => {
                    let message = SourceError::Io(err).message();
                    return Self::refuse(now, peer, ErrorCode::Undefined, &message);
                }
            },
            Mode::Mail => {
                return Self::refuse(
                    now,
                    peer,
                    ErrorCode::IllegalOperation,
                    "Mail mode not supported",
                )
            }
        };
        let mut t = Self::base(Role::ServerRead, now, peer, retry);
        // Negotiating a read cannot fail: only WRQ sizes are limited.
        t.negotiated =
            options::negotiate(&request.options, Direction::Read, Some(data.len()), limits)
                .unwrap_or_default();
        t.backoff = Backoff::adaptive(retry, t.negotiated.timeout);
        let n = &t.negotiated;
        t.half = Half::Send(Sender::new(data, n.blksize, n.windowsize, n.rollover));
        if t.negotiated.oack.is_empty() {
            t.phase = Phase::Data;
        } else {
            t.queue.push_back((peer, Control::Oack));
        }
        t
    }

    /// Serves a WRQ, writing what arrives into `sink` (local form; netascii is undone here).
    pub fn server_write(
        now: Instant,
        peer: SocketAddr,
        request: &Request<'_>,
        sink: Box<dyn WriteSink>,
        limits: &Limits,
        retry: RetryPolicy,
    ) -> Self {
        if request.mode == Mode::Mail {
            return Self::refuse(
                now,
                peer,
                ErrorCode::IllegalOperation,
                "Mail mode not supported",
            );
        }
        let negotiated = match options::negotiate(&request.options, Direction::Write, None, limits)
        {
            Ok(n) => n,
            Err(e) => return Self::refuse(now, peer, ErrorCode::DiskFull, &e.to_string()),
        };
        let mut t = Self::base(Role::ServerWrite, now, peer, retry);
        t.backoff = Backoff::new(retry, negotiated.timeout);
        t.half = Half::Recv {
            receiver: Receiver::new(
                negotiated.blksize,
                negotiated.windowsize,
                negotiated.rollover,
            ),
            storage: Storage::Sink(Some(sink)),
            decoder: (request.mode == Mode::Netascii).then(netascii::Decoder::new),
        };
        let first = if negotiated.oack.is_empty() {
            Control::Ack(0)
        } else {
            Control::Oack
        };
        t.negotiated = negotiated;
        t.phase = Phase::Data;
        t.queue.push_back((peer, first));
        t
    }

    /// Fetches `filename` from the server listening at `server`.
    pub fn client_get(
        now: Instant,
        server: SocketAddr,
        filename: &[u8],
        mode: Mode,
        asked: RequestOptions,
        retry: RetryPolicy,
    ) -> Self {
        let mut t = Self::base(Role::ClientGet, now, server, retry);
        t.filename = filename.to_vec();
        t.mode = mode;
        t.asked = asked;
        t.queue.push_back((server, Control::Request));
        t
    }

    /// Fetches `filename` into `sink` (local form) instead of memory: each
    /// block in order is written as it arrives, and the sink is finished
    /// after the last one, before the final ACK leaves (with
    /// [`Transfer::hand_off_finish`], through [`Transfer::poll_finish`]).
    /// [`Transfer::take_received`] then returns nothing.
    pub fn client_get_into(
        now: Instant,
        server: SocketAddr,
        filename: &[u8],
        mode: Mode,
        asked: RequestOptions,
        retry: RetryPolicy,
        sink: Box<dyn WriteSink>,
    ) -> Self {
        let mut t = Self::client_get(now, server, filename, mode, asked, retry);
        t.get_sink = Some(sink);
        t
    }

    /// Stores `data` (local form) as `filename` on the server at `server`.
    pub fn client_put(
        now: Instant,
        server: SocketAddr,
        filename: &[u8],
        mode: Mode,
        data: Bytes,
        asked: RequestOptions,
        retry: RetryPolicy,
    ) -> Self {
        let mut t = Self::base(Role::ClientPut, now, server, retry);
        t.filename = filename.to_vec();
        t.mode = mode;
        t.asked = asked;
        t.put_data = Some(match mode {
            Mode::Netascii => netascii::encode(&data),
            _ => data,
        });
        t.queue.push_back((server, Control::Request));
        t
    }

    /// Finish uploads off the thread that drives this transfer: once the last
    /// block of a server write is written, the transfer no longer finishes
    /// the sink itself (flush, `fsync`, rename: slow on a busy disk) but
    /// hands it out through [`Transfer::poll_finish`]. Without this call the
    /// sink is finished inside [`Transfer::handle`].
    pub fn hand_off_finish(&mut self) {
        self.hand_off_finish = true;
    }

    /// After [`Transfer::hand_off_finish`]: the sink of an upload whose last
    /// block has arrived, to be finished ([`WriteSink::finish`]) on a
    /// blocking thread; then call [`Transfer::handle_finished`] with the
    /// result. Until then the transfer waits (no timer, datagrams ignored)
    /// and the final ACK is held back, so the client hears of success only
    /// once the file is stored. `None` otherwise; call it after each
    /// `handle`.
    pub fn poll_finish(&mut self) -> Option<Box<dyn WriteSink>> {
        self.finishing.take()
    }

    /// The peer: the client, or the server's transfer ID once it answered.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// The parameters in force.
    pub fn negotiated(&self) -> &Negotiated {
        &self.negotiated
    }

    /// How the transfer ended, as soon as that is known (a write may still dally).
    pub fn outcome(&self) -> Option<&Outcome> {
        self.outcome.as_ref()
    }

    /// True when nothing is left to send or wait for.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }

    /// The largest datagram this transfer expects: a whole DATA block for a
    /// receiving role, a control packet for a sending one. A driver may size
    /// its receive buffer with it; a longer datagram truncated to this size
    /// is never one the transfer would accept.
    pub fn max_datagram(&self) -> usize {
        match self.role {
            Role::ClientGet | Role::ServerWrite => 65536,
            Role::ServerRead | Role::ClientPut => 1024,
        }
    }

    /// Counters.
    pub fn stats(&self) -> Stats {
        let mut s = self.stats;
        s.srtt = self.backoff.srtt();
        s.rto = self.backoff.interval();
        s.window = u64::from(self.negotiated.windowsize);
        if let Half::Send(sender) = &self.half {
            s.bytes = sender.bytes_acked();
            s.retransmits += sender.retransmitted;
            s.fast_recoveries = sender.fast_restarts;
            s.tail_probes = sender.tail_probes;
            (s.window, s.pacing) = sender.pacing();
        }
        s
    }

    /// A client get's received file (local form); empty for other roles.
    pub fn take_received(&mut self) -> Bytes {
        match &mut self.half {
            Half::Recv {
                storage: Storage::Memory(v),
                ..
            } => Bytes::from(std::mem::take(v)),
            _ => Bytes::new(),
        }
    }

    /// When [`Transfer::handle_timeout`] must be called next, then
    /// [`Transfer::poll_transmit`]: the retransmission deadline, or earlier
    /// the release time of the next paced burst of DATA. `None` while there
    /// is nothing to wait for (call again after `handle` or `poll_transmit`).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.phase == Phase::Finished {
            return None;
        }
        let (release, probe) = match (&self.half, self.phase) {
            (Half::Send(sender), Phase::Data) if self.queue.is_empty() => {
                (sender.release(), sender.tail_probe_at())
            }
            _ => (None, None),
        };
        [self.deadline, release, probe].into_iter().flatten().min()
    }

    /// The next datagram to send, if any. DATA comes out as its header in
    /// `buf[..4]` plus a payload slice, so `buf` needs only room for the
    /// largest control packet (516 bytes is plenty; an OACK is at most ~100).
    /// `None` also while a paced burst waits for its release time, which
    /// [`Transfer::poll_timeout`] then returns.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if let Some((dest, control)) = self.queue.pop_front() {
            let len = self.encode(&control, buf)?;
            if matches!(control, Control::Request | Control::Oack) {
                self.handshake_sent = Some(match self.handshake_sent {
                    None => (now, true),
                    Some((first, _)) => (first, false),
                });
            }
            if !matches!(control, Control::Error(..)) {
                self.deadline = Some(if self.phase == Phase::Dally {
                    now + self.backoff.dally()
                } else {
                    self.retransmit_at(now)
                });
            }
            if self.phase == Phase::Closing && self.queue.is_empty() {
                self.finish(now);
            }
            return Some(Transmit {
                destination: dest,
                len,
                payload: Bytes::new(),
            });
        }
        if self.phase != Phase::Data {
            return None;
        }
        let Half::Send(sender) = &mut self.half else {
            return None;
        };
        let Some((block, payload)) = sender.next_block(now) else {
            let err = sender.take_read_error()?;
            self.abort_read(now, err);
            return self.poll_transmit(now, buf);
        };
        buf.get_mut(..packet::DATA_HEADER_LEN)?
            .copy_from_slice(&packet::data_header(block));
        self.arm_after_data(now);
        Some(Transmit {
            destination: self.peer,
            len: packet::DATA_HEADER_LEN,
            payload,
        })
    }

    /// The DATA blocks that may leave now, for a batched send (UDP GSO or
    /// `sendmmsg`): clears `batch`, fills it with at most `max` consecutive
    /// blocks of the current window, all to [`Transfer::peer`], and returns
    /// how many. Returns 0 while a control packet is queued (take those with
    /// [`Transfer::poll_transmit`] first) or when no block is due; a paced
    /// transfer hands out one burst and returns 0 until its release time
    /// ([`Transfer::poll_timeout`]).
    ///
    /// Equivalent to calling `poll_transmit` that many times: the same
    /// blocks, the same timer. A driver calls it until it returns 0, then
    /// `poll_transmit` until `None`.
    pub fn poll_transmit_batch(
        &mut self,
        now: Instant,
        max: usize,
        batch: &mut DataBatch,
    ) -> usize {
        batch.blocks.clear();
        batch.destination = self.peer;
        if !self.queue.is_empty() || self.phase != Phase::Data {
            return 0;
        }
        let Half::Send(sender) = &mut self.half else {
            return 0;
        };
        while batch.blocks.len() < max {
            let Some((block, payload)) = sender.next_block(now) else {
                if let Some(err) = sender.take_read_error() {
                    // The ERROR comes out of `poll_transmit`.
                    batch.blocks.clear();
                    self.abort_read(now, err);
                    return 0;
                }
                break;
            };
            batch.blocks.push((packet::data_header(block), payload));
        }
        if !batch.blocks.is_empty() {
            self.arm_after_data(now);
        }
        batch.blocks.len()
    }

    /// DATA left at `now`: the retransmission timer runs from the last block
    /// of the window, not while pacing holds some of it back (a timeout in a
    /// pacing gap would count the sender's own restraint as loss). Pacing
    /// gaps still count as silence: the deadline is never later than the
    /// end of the silence limit, so a peer that stopped answering ends the
    /// transfer however long the gaps have grown.
    ///
    /// Once the whole round of a window larger than one block is out, the
    /// tail probe is armed (see [`retry::Backoff::tail_probe`]). Lockstep
    /// transfers have none: their one block is the whole round, and the
    /// retransmission timer already follows the round trip.
    fn arm_after_data(&mut self, now: Instant) {
        let held = matches!(&self.half, Half::Send(s) if s.release().is_some());
        self.deadline = Some(if held {
            self.give_up_at()
        } else {
            self.retransmit_at(now)
        });
        let pto = self.backoff.tail_probe(MIN_TAIL_PROBE);
        let windowed = self.negotiated.windowsize > 1;
        if let (Half::Send(sender), Some(pto), false, true) = (&mut self.half, pto, held, windowed)
        {
            sender.arm_tail_probe(now, pto);
        }
    }

    /// When a peer silent since `quiet_since` ends the transfer.
    fn give_up_at(&self) -> Instant {
        self.quiet_since + self.backoff.silence_limit()
    }

    /// The retransmission deadline for a packet sent at `now`.
    fn retransmit_at(&self, now: Instant) -> Instant {
        (now + self.backoff.interval()).min(self.give_up_at())
    }

    /// The peer made progress at `now`: the retry count and the silence
    /// limit start over.
    fn progressed(&mut self, now: Instant) {
        self.backoff.reset();
        self.quiet_since = now;
    }

    fn encode(&self, control: &Control, buf: &mut [u8]) -> Option<usize> {
        let r = match control {
            Control::Ack(block) => Packet::Ack { block: *block }.encode(buf),
            Control::Error(code, msg) => packet::encode_error(buf, *code, msg),
            Control::Oack => packet::encode_with_options(
                buf,
                Opcode::Oack,
                None,
                self.negotiated
                    .oack
                    .iter()
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            ),
            Control::Request => {
                let size = self.put_data.as_ref().map(|d| d.len() as u64);
                let pairs = self.asked.pairs(size);
                let kind = if self.role == Role::ClientPut {
                    Opcode::Wrq
                } else {
                    Opcode::Rrq
                };
                packet::encode_with_options(
                    buf,
                    kind,
                    Some((&self.filename, self.mode)),
                    pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                )
            }
        };
        r.ok()
    }

    fn finish(&mut self, now: Instant) {
        self.phase = Phase::Finished;
        self.deadline = None;
        self.stats.ended.get_or_insert(now);
    }

    fn conclude(&mut self, now: Instant, outcome: Outcome) {
        if self.outcome.is_none() {
            self.outcome = Some(outcome);
            self.stats.ended = Some(now);
        }
    }

    /// A block of the file could not be read (a streamed file that changed
    /// or failed): ERROR 0 with the reason, so the client stops at once.
    fn abort_read(&mut self, now: Instant, err: std::io::Error) {
        let message = SourceError::Io(err).message();
        self.fail(now, ErrorCode::Undefined, &message);
    }

    /// Ends the transfer with an ERROR to the peer.
    fn fail(&mut self, now: Instant, code: ErrorCode, message: &str) {
        self.queue.clear();
        self.queue
            .push_back((self.peer, Control::Error(code, message.to_owned())));
        self.conclude(
            now,
            Outcome::Refused {
                code,
                message: message.to_owned(),
            },
        );
        self.phase = Phase::Closing;
    }

    /// A duration helper for drivers: time left until the deadline.
    pub fn time_to_timeout(&self, now: Instant) -> Option<Duration> {
        self.poll_timeout()
            .map(|d| d.saturating_duration_since(now))
    }
}
