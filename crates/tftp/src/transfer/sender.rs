//! The sending half of a transfer (server RRQ, client WRQ): windows of DATA
//! blocks sliced out of one shared buffer (RFC 1350, RFC 7440).
//!
//! Rules it keeps:
//! - a window of `windowsize` blocks goes out back to back, then the sender waits;
//! - an ACK inside the window that is not its last block means the receiver
//!   lost what followed: the sender restarts from the block after it at once;
//! - a duplicate ACK never causes a resend (Sorcerer's Apprentice, RFC 1123 §4.2.3.1);
//!   only the retransmission timer does, from the last acknowledged block on.

use bytes::Bytes;

use super::block;
use crate::options::Rollover;
use crate::source::FileData;

/// What an ACK did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckEffect {
    /// New blocks acknowledged.
    Progress,
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
    /// Blocks sent more than once.
    pub(crate) retransmitted: u64,
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
        Self {
            data,
            read_error: None,
            blksize,
            windowsize: u64::from(windowsize.max(1)),
            rollover,
            total,
            acked: 0,
            next: 1,
            sent_high: 0,
            retransmitted: 0,
        }
    }

    fn window_end(&self) -> u64 {
        (self.acked + self.windowsize).min(self.total)
    }

    /// The next DATA block of the current window, if any remains to send.
    /// `None` also when the block cannot be read: see [`Sender::take_read_error`].
    pub(crate) fn next_block(&mut self) -> Option<(u16, Bytes)> {
        if self.next > self.window_end() {
            return None;
        }
        let index = self.next;
        let len = self.data.len();
        let start = ((index - 1) * self.blksize).min(len);
        let end = (start + self.blksize).min(len);
        let ahead = (self.window_end() * self.blksize).min(len);
        let keep = (self.acked * self.blksize).min(start);
        let payload = match self.data.block(start, end, ahead, keep) {
            Ok(payload) => payload,
            Err(err) => {
                self.read_error = Some(err);
                return None;
            }
        };
        if index <= self.sent_high {
            self.retransmitted += 1;
        }
        self.sent_high = self.sent_high.max(index);
        self.next += 1;
        Some((block::wire(index, self.rollover), payload))
    }

    /// Why `next_block` returned `None` although blocks were due, if a read failed.
    pub(crate) fn take_read_error(&mut self) -> Option<std::io::Error> {
        self.read_error.take()
    }

    /// True while blocks of the current window remain unsent.
    #[cfg(test)]
    pub(crate) fn has_pending(&self) -> bool {
        self.next <= self.window_end()
    }

    /// Applies an ACK carrying wire block number `block`.
    pub(crate) fn on_ack(&mut self, block: u16) -> AckEffect {
        let span = self.sent_high.saturating_sub(self.acked);
        match block::index_at_or_after(self.acked, block, span, self.rollover) {
            Some(k) if k > self.acked => {
                self.acked = k;
                if k == self.total {
                    return AckEffect::Complete;
                }
                // A partial-window ACK rewinds to the first unacknowledged block
                // now; a full-window ACK simply opens the next window.
                if k < self.sent_high {
                    self.next = k + 1;
                }
                AckEffect::Progress
            }
            _ => AckEffect::Ignored,
        }
    }

    /// The retransmission timer fired: resend from the first unacknowledged block.
    pub(crate) fn rewind(&mut self) {
        self.next = self.acked + 1;
    }

    /// Payload bytes acknowledged so far.
    pub(crate) fn bytes_acked(&self) -> u64 {
        (self.acked * self.blksize).min(self.data.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(s: &mut Sender) -> Vec<u16> {
        std::iter::from_fn(|| s.next_block().map(|(b, _)| b)).collect()
    }

    #[test]
    fn lockstep_and_final_short_block() {
        let mut s = Sender::new(Bytes::from(vec![7u8; 1024]), 512, 1, Rollover::ToZero);
        assert_eq!(drain(&mut s), vec![1]);
        assert_eq!(s.on_ack(1), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![2]);
        assert_eq!(s.on_ack(2), AckEffect::Progress);
        let (b, p) = s.next_block().unwrap();
        assert_eq!((b, p.len()), (3, 0));
        assert_eq!(s.on_ack(3), AckEffect::Complete);
    }

    #[test]
    fn duplicate_ack_never_resends() {
        let mut s = Sender::new(Bytes::from(vec![0u8; 4096]), 512, 1, Rollover::ToZero);
        drain(&mut s);
        s.on_ack(1);
        drain(&mut s);
        assert_eq!(s.on_ack(1), AckEffect::Ignored);
        assert!(!s.has_pending());
    }

    #[test]
    fn partial_window_restarts_at_once() {
        let mut s = Sender::new(Bytes::from(vec![0u8; 10 * 512]), 512, 4, Rollover::ToZero);
        assert_eq!(drain(&mut s), vec![1, 2, 3, 4]);
        assert_eq!(s.on_ack(2), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![3, 4, 5, 6]);
        assert_eq!(s.retransmitted, 2);
        assert_eq!(s.on_ack(6), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![7, 8, 9, 10]);
        s.rewind();
        assert_eq!(drain(&mut s), vec![7, 8, 9, 10]);
        assert_eq!(s.on_ack(10), AckEffect::Progress);
        assert_eq!(drain(&mut s), vec![11]);
        assert_eq!(s.on_ack(11), AckEffect::Complete);
    }

    #[test]
    fn ack_beyond_what_was_sent_is_ignored() {
        let mut s = Sender::new(Bytes::from(vec![0u8; 10 * 512]), 512, 4, Rollover::ToZero);
        drain(&mut s);
        assert_eq!(s.on_ack(9), AckEffect::Ignored);
    }
}
