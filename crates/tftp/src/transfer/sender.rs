//! The sending half of a transfer (server RRQ, client WRQ): windows of DATA
//! blocks sliced out of one shared buffer (RFC 1350, RFC 7440).
//!
//! Rules it keeps:
//! - a window holds `windowsize` blocks; it leaves back to back until the
//!   transfer sees loss, then in paced bursts (see [`super::pacing`]);
//! - an ACK inside what was sent means the receiver lost what followed
//!   (RFC 7440 §4): the sender restarts from the block after it at once;
//! - an ACK of the block before the window (a duplicate) is that same signal
//!   when the loss hit the window's first block: it restarts the window at
//!   most once, and never after a rewind that may have put old blocks in
//!   flight (their answers are duplicates too). Any other duplicate ACK is
//!   ignored (Sorcerer's Apprentice, RFC 1123 §4.2.3.1);
//! - the retransmission timer resends from the first unacknowledged block,
//!   starting with that block alone;
//! - once a round is on the wire, a tail probe (in the manner of TCP's tail
//!   loss probe) resends its last block after two smoothed round trips
//!   without an answer, once per round: a receiver that lost the tail of the
//!   window then sees a gap and reports it, and one whose ACK was lost
//!   answers the repeat, each in a round trip instead of a retransmission
//!   timeout. It rewinds nothing; like a rewind it may draw a duplicate ACK,
//!   which then restarts nothing. A round that needed it counts as a loss
//!   for pacing, as a gap report after that many blocks does;
//! - an ACK of the last block sent, if that block was sent exactly once, is
//!   a round-trip sample; a block sent twice never is (Karn's rule), nor is
//!   an ACK after a gap (the receiver sends it when a later block arrives)
//!   or after a rewind (it may answer a resent old block).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::block;
use super::pacing::Pacer;
use crate::options::Rollover;
use crate::source::FileData;

/// What an ACK did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckEffect {
    /// New blocks acknowledged, up to the last one sent.
    Progress,
    /// The receiver reported a gap: the sender restarts after its ACK.
    Restart,
    /// The last block is acknowledged: the transfer is complete.
    Complete,
    /// Nothing new (duplicate or stale ACK): ignored.
    Ignored,
}

#[derive(Debug)]
pub(crate) struct Sender {
    data: FileData,
    /// Why the last block could not be read (a streamed file changed).
    read_error: Option<std::io::Error>,
    blksize: u64,
    windowsize: u64,
    rollover: Rollover,
    /// Number of blocks in the transfer; the last one is short (maybe empty).
    total: u64,
    /// Highest index acknowledged (0: only the handshake).
    acked: u64,
    /// Next index to put on the wire.
    next: u64,
    /// Highest index ever sent.
    sent_high: u64,
    /// For each block after `acked` that was sent: when, if it was sent
    /// exactly once (`None` once sent again).
    sent_at: VecDeque<Option<Instant>>,
    /// A round-trip sample taken by the last ACK.
    sample: Option<Duration>,
    /// A duplicate ACK of `acked` may restart the window.
    armed: bool,
    /// Since the last progress the sender rewound in a way that may leave
    /// blocks the receiver already holds in flight.
    risky: bool,
    /// The timer fired since the last progress.
    after_timeout: bool,
    /// When the tail probe of the current round is due.
    probe_at: Option<Instant>,
    /// The tail probe of this round fired or was sent.
    probed: bool,
    /// The tail probe is due to leave.
    probe_pending: bool,
    pacer: Pacer,
    /// Blocks sent more than once.
    pub(crate) retransmitted: u64,
    /// Restarts on the receiver's word, without waiting for the timer.
    pub(crate) fast_restarts: u64,
    /// Tail probes sent.
    pub(crate) tail_probes: u64,
}

impl Sender {
    pub(crate) fn new(
        data: impl Into<FileData>,
        blksize: u16,
        windowsize: u16,
        rollover: Rollover,
    ) -> Self {
        let data = data.into();
        let blksize = u64::from(blksize.max(1));
        let total = data.len() / blksize + 1;
        let windowsize = u64::from(windowsize.max(1));
        Self {
            data,
            read_error: None,
            blksize,
            windowsize,
            rollover,
            total,
            acked: 0,
            next: 1,
            sent_high: 0,
            sent_at: VecDeque::new(),
            sample: None,
            armed: true,
            risky: false,
            after_timeout: false,
            probe_at: None,
            probed: false,
            probe_pending: false,
            pacer: Pacer::new(windowsize),
            retransmitted: 0,
            fast_restarts: 0,
            tail_probes: 0,
        }
    }

    fn window_end(&self) -> u64 {
        (self.acked + self.windowsize).min(self.total)
    }

    /// The next DATA block of the current window, if one remains and pacing
    /// lets it leave at `now`. `None` also when the block cannot be read:
    /// see [`Sender::take_read_error`].
    pub(crate) fn next_block(&mut self, now: Instant) -> Option<(u16, Bytes)> {
        if self.probe_pending {
            self.probe_pending = false;
            return self.tail_block();
        }
        if self.next > self.window_end() || !self.pacer.ready(now) {
            return None;
        }
        let index = self.next;
        let payload = self.payload(index)?;
        if index <= self.sent_high {
            self.retransmitted += 1;
        }
        let slot = (index - self.acked - 1) as usize;
        match self.sent_at.get_mut(slot) {
            Some(at) => *at = None,
            None => self.sent_at.push_back(Some(now)),
        }
        self.sent_high = self.sent_high.max(index);
        self.next += 1;
        self.pacer.on_send(now);
        Some((block::wire(index, self.rollover), payload))
    }

    /// The bytes of block `index`; `None` when they cannot be read (see
    /// [`Sender::take_read_error`]). A streamed file is read up to the end
    /// of the window at once and keeps nothing before the first
    /// unacknowledged block.
    fn payload(&mut self, index: u64) -> Option<Bytes> {
        let len = self.data.len();
        let start = ((index - 1) * self.blksize).min(len);
        let end = (start + self.blksize).min(len);
        let ahead = (self.window_end() * self.blksize).min(len).max(end);
        let keep = (self.acked * self.blksize).min(start);
        match self.data.block(start, end, ahead, keep) {
            Ok(payload) => Some(payload),
            Err(err) => {
                self.read_error = Some(err);
                None
            }
        }
    }

    /// The last block sent, again: the tail probe.
    fn tail_block(&mut self) -> Option<(u16, Bytes)> {
        let index = self.sent_high;
        if index <= self.acked {
            return None;
        }
        let payload = self.payload(index)?;
        self.retransmitted += 1;
        self.tail_probes += 1;
        if let Some(at) = self.sent_at.get_mut((index - self.acked - 1) as usize) {
            *at = None;
        }
        self.risky = true;
        Some((block::wire(index, self.rollover), payload))
    }

    /// Arms the tail probe `pto` after `now`, once the whole round is on
    /// the wire and if this round has not probed yet.
    pub(crate) fn arm_tail_probe(&mut self, now: Instant, pto: Duration) {
        if !self.probed && self.probe_at.is_none() && self.next > self.window_end() {
            self.probe_at = Some(now + pto);
        }
    }

    /// When the tail probe is due, if armed.
    pub(crate) fn tail_probe_at(&self) -> Option<Instant> {
        self.probe_at
    }

    /// Fires the tail probe if it is due at `now`: the last block sent
    /// leaves again with the next [`Sender::next_block`]. True if it fired.
    pub(crate) fn fire_tail_probe(&mut self, now: Instant) -> bool {
        match self.probe_at {
            Some(at) if now >= at => {
                self.probe_at = None;
                self.probed = true;
                self.probe_pending = true;
                true
            }
            _ => false,
        }
    }

    /// A new round: the tail probe may fire once more.
    fn new_round(&mut self) {
        self.probe_at = None;
        self.probed = false;
        self.probe_pending = false;
    }

    /// Why `next_block` returned `None` although blocks were due, if a read failed.
    pub(crate) fn take_read_error(&mut self) -> Option<std::io::Error> {
        self.read_error.take()
    }

    /// When the next block of the current window may leave, while pacing
    /// holds it back.
    pub(crate) fn release(&self) -> Option<Instant> {
        if self.next > self.window_end() {
            return None;
        }
        self.pacer.release()
    }

    /// True while blocks of the current window remain unsent.
    #[cfg(test)]
    pub(crate) fn has_pending(&self) -> bool {
        self.next <= self.window_end()
    }

    /// Applies an ACK carrying wire block number `block`, arriving at `now`.
    pub(crate) fn on_ack(&mut self, now: Instant, block: u16) -> AckEffect {
        let span = self.sent_high.saturating_sub(self.acked);
        match block::index_at_or_after(self.acked, block, span, self.rollover) {
            Some(k) if k > self.acked => {
                let newly = (k - self.acked) as usize;
                // An ACK after a gap leaves when a later block arrives, not
                // when block k did, and after a rewind it may answer an old
                // block: only an ACK of everything sent, in a round without
                // a rewind, is timed.
                let timed = k >= self.sent_high && !self.risky;
                if let (true, Some(Some(at))) = (timed, self.sent_at.get(newly - 1)) {
                    self.sample = Some(now.saturating_duration_since(*at));
                }
                self.sent_at.drain(..newly.min(self.sent_at.len()));
                self.pacer.on_progress();
                let probed = self.probed;
                self.new_round();
                let window_end = self.window_end();
                self.acked = k;
                self.armed = !self.risky;
                self.risky = false;
                let answered_probe = std::mem::take(&mut self.after_timeout);
                if k == self.total {
                    return AckEffect::Complete;
                }
                if k < self.sent_high {
                    // RFC 7440 §4: the receiver holds everything up to k.
                    self.next = k + 1;
                    if answered_probe {
                        // Where the receiver stands after a timeout: the
                        // loss was already counted.
                        self.pacer.on_round();
                    } else {
                        // The receiver took `newly` blocks in order before
                        // the gap: what its buffer held of the burst.
                        self.pacer.on_gap(newly as u64);
                        self.fast_restarts += 1;
                    }
                    return AckEffect::Restart;
                }
                // Blocks resent after a restart may still be in flight.
                self.next = self.next.max(k + 1);
                if probed {
                    // The round needed its tail probe: most likely its last
                    // block was lost (a receiver buffer the window overran
                    // drops the tail, and no gap shows), else its ACK was.
                    self.pacer.on_gap(newly as u64);
                }
                if k == window_end {
                    self.pacer.on_window_acked();
                } else {
                    self.pacer.on_round();
                }
                AckEffect::Progress
            }
            Some(k) if k == self.acked && self.armed && self.next > self.acked + 2 => {
                // The first block of the window was lost and the receiver
                // saw a later one: it repeats its last ACK (RFC 7440 §4).
                self.armed = false;
                self.risky = true;
                self.next = self.acked + 1;
                self.new_round();
                self.pacer.on_gap(0);
                self.fast_restarts += 1;
                AckEffect::Restart
            }
            _ => AckEffect::Ignored,
        }
    }

    /// The round trip measured by the last ACK, once.
    pub(crate) fn take_sample(&mut self) -> Option<Duration> {
        self.sample.take()
    }

    /// The smoothed round trip, which sets the pacing interval.
    pub(crate) fn set_srtt(&mut self, srtt: Duration) {
        self.pacer.on_srtt(srtt);
    }

    /// The retransmission timer fired: resend from the first unacknowledged
    /// block, that block alone first.
    pub(crate) fn rewind(&mut self) {
        self.new_round();
        self.next = self.acked + 1;
        self.risky = true;
        self.armed = false;
        self.after_timeout = true;
        self.pacer.on_loss(true);
    }

    /// Payload bytes acknowledged so far.
    pub(crate) fn bytes_acked(&self) -> u64 {
        (self.acked * self.blksize).min(self.data.len())
    }

    /// The effective window (blocks per burst) and the pacing interval, if paced.
    pub(crate) fn pacing(&self) -> (u64, Option<Duration>) {
        (self.pacer.burst(), self.pacer.pacing())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sender(blocks: usize, windowsize: u16) -> Sender {
        let mut s = Sender::new(
            Bytes::from(vec![0u8; blocks * 512]),
            512,
            windowsize,
            Rollover::ToZero,
        );
        s.set_srtt(Duration::from_millis(1));
        s
    }

    fn drain(s: &mut Sender) -> Vec<u16> {
        let now = Instant::now();
        std::iter::from_fn(|| s.next_block(now).map(|(b, _)| b)).collect()
    }

    fn ack(s: &mut Sender, block: u16) -> AckEffect {
        s.on_ack(Instant::now(), block)
    }

    #[test]
    fn lockstep_and_final_short_block() {
        let mut s = Sender::new(Bytes::from(vec![7u8; 1024]), 512, 1, Rollover::ToZero);
        assert_eq!(drain(&mut s), vec![1]);
        assert_eq!(ack(&mut s, 1), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![2]);
        assert_eq!(ack(&mut s, 2), AckEffect::Progress);
        let (b, p) = s.next_block(Instant::now()).unwrap();
        assert_eq!((b, p.len()), (3, 0));
        assert_eq!(ack(&mut s, 3), AckEffect::Complete);
    }

    #[test]
    fn duplicate_ack_never_resends() {
        let mut s = Sender::new(Bytes::from(vec![0u8; 4096]), 512, 1, Rollover::ToZero);
        drain(&mut s);
        ack(&mut s, 1);
        drain(&mut s);
        assert_eq!(ack(&mut s, 1), AckEffect::Ignored);
        assert!(!s.has_pending());
    }

    #[test]
    fn partial_window_restarts_at_once() {
        let mut s = sender(10, 4);
        assert_eq!(drain(&mut s), vec![1, 2, 3, 4]);
        assert_eq!(ack(&mut s, 2), AckEffect::Restart);
        // Paced from now on: half the window per burst.
        assert_eq!(drain(&mut s), vec![3, 4]);
        assert_eq!(s.retransmitted, 2);
        assert_eq!(s.fast_restarts, 1);
        let later = s.release().unwrap();
        let more: Vec<u16> = std::iter::from_fn(|| s.next_block(later).map(|(b, _)| b)).collect();
        assert_eq!(more, vec![5, 6]);
        assert_eq!(ack(&mut s, 6), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![7, 8]);
        s.rewind();
        assert_eq!(drain(&mut s), vec![7], "after a timeout one block probes");
        assert_eq!(ack(&mut s, 7), AckEffect::Restart, "the probe's answer");
        assert_eq!(s.fast_restarts, 1, "not a new loss");
        assert_eq!(s.pacing().0, 1, "halved by the timeout");
        assert_eq!(drain(&mut s), vec![8]);
        assert_eq!(ack(&mut s, 10), AckEffect::Ignored, "10 was never sent");
        assert_eq!(ack(&mut s, 8), AckEffect::Progress);
    }

    #[test]
    fn ack_beyond_what_was_sent_is_ignored() {
        let mut s = Sender::new(Bytes::from(vec![0u8; 10 * 512]), 512, 4, Rollover::ToZero);
        drain(&mut s);
        assert_eq!(ack(&mut s, 9), AckEffect::Ignored);
    }

    #[test]
    fn duplicate_ack_after_a_gap_restarts_the_window_once() {
        let mut s = sender(40, 8);
        assert_eq!(drain(&mut s).len(), 8);
        assert_eq!(ack(&mut s, 8), AckEffect::Progress);
        assert_eq!(drain(&mut s), (9..=16).collect::<Vec<_>>());
        // Block 9 was lost; the receiver saw 10 and repeats ACK 8.
        assert_eq!(ack(&mut s, 8), AckEffect::Restart);
        assert_eq!(drain(&mut s), vec![9, 10, 11, 12]);
        // More copies of the same ACK change nothing.
        assert_eq!(ack(&mut s, 8), AckEffect::Ignored);
        assert_eq!(ack(&mut s, 8), AckEffect::Ignored);
    }

    #[test]
    fn duplicate_ack_before_a_gap_could_be_seen_is_ignored() {
        let mut s = sender(40, 8);
        drain(&mut s);
        assert_eq!(ack(&mut s, 8), AckEffect::Progress);
        assert_eq!(s.next_block(Instant::now()).map(|(b, _)| b), Some(9));
        assert_eq!(
            ack(&mut s, 8),
            AckEffect::Ignored,
            "only block 9 sent: no gap"
        );
    }

    #[test]
    fn no_cascade_from_answers_to_old_blocks() {
        let mut s = sender(80, 8);
        drain(&mut s);
        assert_eq!(ack(&mut s, 8), AckEffect::Progress);
        drain(&mut s);
        // A duplicated copy of ACK 8 restarts 9..16 (it cannot be told apart).
        assert_eq!(ack(&mut s, 8), AckEffect::Restart);
        drain(&mut s);
        assert_eq!(ack(&mut s, 16), AckEffect::Progress);
        let t = s.release().unwrap_or_else(Instant::now);
        while s.next_block(t).is_some() {}
        // The receiver answers the resent 9..16 with ACK 16: ignored.
        assert_eq!(ack(&mut s, 16), AckEffect::Ignored);
        // The timer's rewind also disarms the duplicate-ACK restart.
        s.rewind();
        assert_eq!(ack(&mut s, 16), AckEffect::Ignored);
    }

    #[test]
    fn karn_times_only_blocks_sent_once() {
        let t0 = Instant::now();
        let t1 = t0 + Duration::from_millis(3);
        let mut s = Sender::new(Bytes::from(vec![0u8; 10 * 512]), 512, 2, Rollover::ToZero);
        s.next_block(t0);
        s.next_block(t0);
        assert_eq!(s.on_ack(t1, 2), AckEffect::Progress);
        assert_eq!(s.take_sample(), Some(Duration::from_millis(3)));
        s.next_block(t1);
        s.next_block(t1);
        s.rewind();
        s.next_block(t1);
        assert_eq!(
            s.on_ack(t1 + Duration::from_millis(1), 3),
            AckEffect::Restart
        );
        assert_eq!(s.take_sample(), None, "block 3 was sent twice");
        assert_eq!(
            s.on_ack(t1 + Duration::from_millis(2), 4),
            AckEffect::Progress
        );
        assert_eq!(
            s.take_sample(),
            Some(Duration::from_millis(2)),
            "block 4 was sent once"
        );
    }
}
