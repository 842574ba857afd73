//! The receiving half of a transfer (server WRQ, client RRQ): accepts blocks
//! in order and decides when to ACK (RFC 1350, RFC 7440).
//!
//! - The last block of each window, and the final (short) block, are ACKed.
//! - A block from the future (a gap) is answered at once with an ACK of the
//!   last in-order block, so the sender restarts from there without waiting for
//!   its timer (RFC 7440 §4). Once per gap: the blocks that follow it in the
//!   same round are dropped silently; a block at or below the highest one
//!   already answered means the sender restarted and lost again, a new gap.
//! - An old block (our ACK was lost, the sender timed out and rewound) is
//!   answered with the same ACK once per rewind. A rewind starts at or below
//!   the block that drew the last answer (the sender's first unacknowledged
//!   block, or a later one when that was lost on the way); the rest of a
//!   round climbs above it and is dropped silently. So an old block at or
//!   below the last one answered is answered again: the sender rewound
//!   again, perhaps because that answer was lost.

use super::block;
use crate::options::Rollover;

/// What a DATA block did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DataEffect {
    /// In order: deliver the payload; `ack` says whether to ACK now.
    Accept {
        /// Send `ACK block` now.
        ack: bool,
        /// This was the final block.
        last: bool,
    },
    /// Out of order or duplicate: drop it; `ack` carries the in-order ACK to send, if any.
    Drop {
        /// Block number to ACK, if an ACK is due.
        ack: Option<u16>,
    },
}

#[derive(Debug)]
pub(crate) struct Receiver {
    blksize: usize,
    windowsize: u64,
    rollover: Rollover,
    /// Index of the last block received in order (0: none yet).
    received: u64,
    /// Blocks accepted since the last ACK.
    since_ack: u64,
    /// The highest future block answered or seen since the last progress
    /// (a gap was reported).
    gap_high: Option<u64>,
    /// Index of the old block that drew the last answer since the last
    /// progress.
    old_answered: Option<u64>,
    done: bool,
}

impl Receiver {
    pub(crate) fn new(blksize: u16, windowsize: u16, rollover: Rollover) -> Self {
        Self {
            blksize: usize::from(blksize),
            windowsize: u64::from(windowsize.max(1)),
            rollover,
            received: 0,
            since_ack: 0,
            gap_high: None,
            old_answered: None,
            done: false,
        }
    }

    /// Applies a DATA packet.
    pub(crate) fn on_data(&mut self, block: u16, len: usize) -> DataEffect {
        let expected = block::wire(self.received + 1, self.rollover);
        if block == expected && !self.done {
            if len > self.blksize {
                // Larger than negotiated: not a block of this transfer.
                return DataEffect::Drop { ack: None };
            }
            self.received += 1;
            self.since_ack += 1;
            self.gap_high = None;
            self.old_answered = None;
            let last = len < self.blksize;
            self.done = last;
            let ack = last || self.since_ack >= self.windowsize;
            if ack {
                self.since_ack = 0;
            }
            return DataEffect::Accept { ack, last };
        }
        if self.done {
            // Dallying: the sender missed our final ACK; answer every repeat.
            return DataEffect::Drop {
                ack: Some(self.last_block()),
            };
        }
        let future = block::index_at_or_after(
            self.received + 2,
            block,
            self.windowsize.saturating_sub(2),
            self.rollover,
        );
        let answer = match (future, self.gap_high) {
            // A gap: answered unless it continues the round already answered.
            (Some(k), Some(high)) if k > high => {
                self.gap_high = Some(k);
                false
            }
            (Some(k), _) => {
                self.gap_high = Some(k);
                true
            }
            (None, _) => match self.old_index(block) {
                Some(k) if self.old_answered.is_none_or(|a| k <= a) => {
                    self.old_answered = Some(k);
                    true
                }
                _ => false,
            },
        };
        if !answer {
            return DataEffect::Drop { ack: None };
        }
        self.since_ack = 0;
        DataEffect::Drop {
            ack: Some(self.last_block()),
        }
    }

    /// The index of `block` among the last window's worth of blocks received
    /// (a sender never holds more than one window unacknowledged, so a
    /// rewind never reaches further back).
    fn old_index(&self, block: u16) -> Option<u64> {
        let from = self.received.saturating_sub(self.windowsize - 1).max(1);
        block::index_at_or_after(
            from,
            block,
            self.received.saturating_sub(from),
            self.rollover,
        )
        .filter(|&k| k <= self.received)
    }

    /// Wire number of the last block received in order (0 before the first).
    pub(crate) fn last_block(&self) -> u16 {
        block::wire(self.received, self.rollover)
    }

    /// The retransmission timer fired: the ACK to send again.
    pub(crate) fn on_timeout(&mut self) -> u16 {
        self.since_ack = 0;
        self.gap_high = None;
        self.old_answered = None;
        self.last_block()
    }

    /// Number of blocks received in order.
    pub(crate) fn blocks(&self) -> u64 {
        self.received
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_window_ends_and_final() {
        let mut r = Receiver::new(512, 2, Rollover::ToZero);
        assert_eq!(
            r.on_data(1, 512),
            DataEffect::Accept {
                ack: false,
                last: false
            }
        );
        assert_eq!(
            r.on_data(2, 512),
            DataEffect::Accept {
                ack: true,
                last: false
            }
        );
        assert_eq!(
            r.on_data(3, 100),
            DataEffect::Accept {
                ack: true,
                last: true
            }
        );
    }

    #[test]
    fn gap_is_answered_once() {
        let mut r = Receiver::new(512, 4, Rollover::ToZero);
        r.on_data(1, 512);
        assert_eq!(r.on_data(3, 512), DataEffect::Drop { ack: Some(1) });
        assert_eq!(r.on_data(4, 512), DataEffect::Drop { ack: None });
        assert_eq!(
            r.on_data(2, 512),
            DataEffect::Accept {
                ack: false,
                last: false
            }
        );
        assert_eq!(r.on_data(2, 512), DataEffect::Drop { ack: Some(2) });
        // The sender rewound to 1: below the block last answered.
        assert_eq!(r.on_data(1, 512), DataEffect::Drop { ack: Some(2) });
        // The rest of that round climbs: silent.
        assert_eq!(r.on_data(2, 512), DataEffect::Drop { ack: None });
        // The sender rewound again: answered once more.
        assert_eq!(r.on_data(1, 512), DataEffect::Drop { ack: Some(2) });
    }

    /// Our window ACK is lost, and the sender's first resent block too: the
    /// round is answered at its second block, and that answer is lost. The
    /// next rewind starts below it and must be answered, or only our own
    /// timer (seconds) ends the silence.
    #[test]
    fn every_rewind_is_answered_whatever_was_lost() {
        let mut r = Receiver::new(512, 4, Rollover::ToZero);
        for i in 1..=64u16 {
            r.on_data(i, 512);
        }
        // Rewind 1: 61 lost, 62 answered (the answer is lost), 63, 64 silent.
        assert_eq!(r.on_data(62, 512), DataEffect::Drop { ack: Some(64) });
        for b in [63, 64] {
            assert_eq!(r.on_data(b, 512), DataEffect::Drop { ack: None }, "{b}");
        }
        // Rewind 2 starts at 61.
        assert_eq!(r.on_data(61, 512), DataEffect::Drop { ack: Some(64) });
        for b in [62, 63, 64] {
            assert_eq!(r.on_data(b, 512), DataEffect::Drop { ack: None }, "{b}");
        }
        // Rewind 3, the same.
        assert_eq!(r.on_data(61, 512), DataEffect::Drop { ack: Some(64) });
    }

    #[test]
    fn rewinds_across_the_wrap_are_answered() {
        for rollover in [Rollover::ToZero, Rollover::ToOne] {
            let mut r = Receiver::new(8, 4, rollover);
            for i in 1..=65537u64 {
                r.on_data(block::wire(i, rollover), 8);
            }
            let old = |i| block::wire(i, rollover);
            assert_eq!(
                r.on_data(old(65535), 8),
                DataEffect::Drop {
                    ack: Some(r.last_block())
                }
            );
            assert_eq!(r.on_data(old(65536), 8), DataEffect::Drop { ack: None });
            assert_eq!(
                r.on_data(old(65534), 8),
                DataEffect::Drop {
                    ack: Some(r.last_block())
                }
            );
        }
    }

    #[test]
    fn a_restart_that_loses_again_is_a_new_gap() {
        let mut r = Receiver::new(512, 8, Rollover::ToZero);
        r.on_data(1, 512);
        // Round 1: 2 lost; 3..5 arrive.
        assert_eq!(r.on_data(3, 512), DataEffect::Drop { ack: Some(1) });
        assert_eq!(r.on_data(4, 512), DataEffect::Drop { ack: None });
        assert_eq!(r.on_data(5, 512), DataEffect::Drop { ack: None });
        // The sender restarts at 2 and loses it again: 3 shows a new round.
        assert_eq!(r.on_data(3, 512), DataEffect::Drop { ack: Some(1) });
        assert_eq!(r.on_data(4, 512), DataEffect::Drop { ack: None });
        assert_eq!(
            r.on_data(2, 512),
            DataEffect::Accept {
                ack: false,
                last: false
            }
        );
    }

    #[test]
    fn gap_at_the_wrap() {
        let mut r = Receiver::new(8, 4, Rollover::ToZero);
        for i in 1..=65535u32 {
            r.on_data(i as u16, 8);
        }
        assert_eq!(r.on_data(1, 8), DataEffect::Drop { ack: Some(65535) });
        assert_eq!(
            r.on_data(0, 8),
            DataEffect::Accept {
                ack: false,
                last: false
            }
        );
    }

    #[test]
    fn oversized_block_is_dropped() {
        let mut r = Receiver::new(512, 1, Rollover::ToZero);
        assert_eq!(r.on_data(1, 513), DataEffect::Drop { ack: None });
    }
}
