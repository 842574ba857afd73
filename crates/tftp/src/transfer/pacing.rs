//! The effective window and pacing of a sending transfer.
//!
//! RFC 7440 leaves the sender no choice about *how many* blocks a window holds:
//! the receiver counts `windowsize` blocks before it ACKs. What the sender can
//! choose is *how fast* it puts them on the wire. A window larger than the
//! receiver's socket buffer (256 × 1468 bytes, or 16 × 65464 bytes, against
//! Linux's default 212,992) loses its tail every time when sent back to back.
//!
//! So a window goes out in bursts of at most `burst` blocks (the effective
//! window, adjusted AIMD-fashion) and, once this transfer has seen loss, one
//! burst per smoothed round trip: the rate of a transfer whose window is
//! `burst` blocks, which a receiver that drains `burst` blocks per round trip
//! keeps up with.
//!
//! - Until the first loss nothing is paced: a whole window leaves at once.
//! - A loss (a gap reported by the receiver, or a timeout) halves `burst`;
//!   at one block per burst it doubles the gap between bursts instead, up to
//!   eight round trips (a receiver slower than one block per round trip:
//!   64 KiB blocks into a small buffer before the round trip is measured).
//!   A gap report says how many blocks the receiver took in order before
//!   the gap: a burst that overran its socket buffer shows what the buffer
//!   holds, so `burst` goes no lower than seven eighths of that (a window
//!   of 256 blocks into a buffer of about 90 settles near 80 instead of
//!   halving down past it).
//! - A window acknowledged in full with no loss first shrinks a doubled gap
//!   by an eighth (never below one round trip), then grows `burst` by
//!   `windowsize / 16` blocks (at least one), never above `windowsize`.
//! - The burst that lost is remembered (the overrun mark): growing back to
//!   it waits for a number of clean windows in a row (the patience, 4 at
//!   first), which doubles each time a burst of that size loses again (up
//!   to 64) and halves when one gets through. A receiver whose buffer holds
//!   3 of 4 blocks of 64 KiB then loses a burst once in dozens of windows,
//!   not every other window.
//! - After a timeout the first burst is a single block, a probe: a receiver
//!   that already holds it answers with the ACK of where it stands. A second
//!   timeout in a row (a receiver that never reports gaps and loses the
//!   tail of every burst) drops `burst` to one block at once.

use std::time::{Duration, Instant};

/// The longest gap between bursts, in round trips: random loss must not
/// slow a transfer to a crawl, and a round trip that is measured includes
/// the time the receiver takes to read its backlog.
const MAX_GAP_RTTS: u32 = 8;
/// The round trip assumed for the gap while none is measured.
const MIN_GAP: Duration = Duration::from_micros(100);
/// Clean windows in a row before a burst grows back to the size that lost.
const MIN_PATIENCE: u32 = 4;
/// The most clean windows a burst waits before trying the size that lost.
const MAX_PATIENCE: u32 = 64;

#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    windowsize: u64,
    /// Blocks sent back to back: the effective window.
    burst: u64,
    /// Set by the first loss: from then on bursts are spread over time.
    paced: bool,
    /// The gap between bursts beyond one round trip (zero: one round trip).
    gap: Duration,
    /// Blocks sent in the current burst.
    in_burst: u64,
    /// The next burst may not leave before this.
    release: Option<Instant>,
    /// After a timeout: the next burst is one block.
    probe: bool,
    /// A loss was seen since the last window-end ACK.
    lossy_window: bool,
    /// Timeouts since the last ACK that made progress.
    stalled: u32,
    srtt: Option<Duration>,
    /// The smallest burst that lost since the last one of that size got
    /// through (`u64::MAX`: none).
    overrun: u64,
    /// Clean windows in a row needed before the burst grows to `overrun`.
    patience: u32,
    /// Clean windows in a row so far.
    clean: u32,
}

impl Pacer {
    pub(crate) fn new(windowsize: u64) -> Self {
        Self {
            windowsize,
            burst: windowsize,
            paced: false,
            gap: Duration::ZERO,
            in_burst: 0,
            release: None,
            probe: false,
            lossy_window: false,
            stalled: 0,
            srtt: None,
            overrun: u64::MAX,
            patience: MIN_PATIENCE,
            clean: 0,
        }
    }

    /// True when a block may leave at `now`.
    pub(crate) fn ready(&self, now: Instant) -> bool {
        self.release.is_none_or(|r| now >= r)
    }

    /// When the next burst may leave, while one is held back.
    pub(crate) fn release(&self) -> Option<Instant> {
        self.release
    }

    /// A block left at `now`.
    pub(crate) fn on_send(&mut self, now: Instant) {
        self.release = None;
        self.in_burst += 1;
        let limit = if self.probe { 1 } else { self.burst };
        if self.paced && self.in_burst >= limit {
            self.in_burst = 0;
            self.probe = false;
            self.release = Some(now + self.interval());
        }
    }

    /// The gap between bursts: one smoothed round trip (zero until
    /// measured), or longer after losses at one block per burst.
    pub(crate) fn interval(&self) -> Duration {
        self.srtt.unwrap_or_default().max(self.gap)
    }

    pub(crate) fn on_srtt(&mut self, srtt: Duration) {
        self.srtt = Some(srtt);
    }

    /// A new round starts (a window opens or the sender restarts after an
    /// ACK): its first burst may leave at once.
    pub(crate) fn on_round(&mut self) {
        self.in_burst = 0;
        self.release = None;
    }

    /// The receiver reported a gap after taking `delivered` blocks of this
    /// round in order.
    pub(crate) fn on_gap(&mut self, delivered: u64) {
        let kept = delivered.min(self.burst) * 7 / 8;
        self.on_loss(false);
        self.burst = self.burst.max(kept).max(1);
    }

    /// The receiver reported a gap or the timer fired.
    pub(crate) fn on_loss(&mut self, timeout: bool) {
        self.paced = true;
        self.lossy_window = true;
        self.clean = 0;
        if self.burst >= self.overrun {
            // Grown back to the size that lost, and lost again.
            self.patience = (self.patience * 2).min(MAX_PATIENCE);
        }
        self.overrun = self.overrun.min(self.burst);
        if timeout {
            self.stalled += 1;
        }
        if self.burst > 1 {
            self.burst = if self.stalled > 1 { 1 } else { self.burst / 2 };
        } else {
            let max = self.srtt.unwrap_or_default().max(MIN_GAP) * MAX_GAP_RTTS;
            self.gap = (self.interval() * 2).clamp(MIN_GAP, max);
        }
        self.probe |= timeout;
        self.on_round();
    }

    /// An ACK acknowledged new blocks.
    pub(crate) fn on_progress(&mut self) {
        self.stalled = 0;
    }

    /// The last block of a window was acknowledged.
    pub(crate) fn on_window_acked(&mut self) {
        if !self.lossy_window {
            let floor = self.srtt.unwrap_or_default().max(MIN_GAP);
            if self.gap > floor {
                self.gap -= self.gap / 8;
            } else {
                self.gap = Duration::ZERO;
                self.grow();
            }
        }
        self.lossy_window = false;
        self.on_round();
    }

    /// One clean window more: the burst grows, up to just below the
    /// overrun mark until `patience` clean windows came in a row.
    fn grow(&mut self) {
        if self.burst >= self.overrun {
            // A burst of the size that lost got through.
            self.patience = (self.patience / 2).max(MIN_PATIENCE);
            self.overrun = u64::MAX;
        }
        self.clean += 1;
        let step = (self.windowsize / 16).max(1);
        let mut next = (self.burst + step).min(self.windowsize);
        if next >= self.overrun {
            if self.clean >= self.patience {
                next = self.overrun;
                self.clean = 0;
            } else {
                next = (self.overrun - 1).max(self.burst);
            }
        }
        self.burst = next;
    }

    /// The effective window in blocks.
    pub(crate) fn burst(&self) -> u64 {
        self.burst
    }

    /// The pacing interval in force, if pacing started.
    pub(crate) fn pacing(&self) -> Option<Duration> {
        self.paced.then(|| self.interval())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpaced_until_loss_then_one_burst_per_rtt() {
        let t0 = Instant::now();
        let mut p = Pacer::new(8);
        p.on_srtt(Duration::from_millis(2));
        for _ in 0..8 {
            assert!(p.ready(t0));
            p.on_send(t0);
        }
        assert_eq!(p.release(), None, "a whole window at once before any loss");
        p.on_loss(false);
        assert_eq!(p.burst(), 4);
        for _ in 0..4 {
            assert!(p.ready(t0));
            p.on_send(t0);
        }
        assert!(!p.ready(t0));
        assert_eq!(p.release(), Some(t0 + Duration::from_millis(2)));
        assert_eq!(p.pacing(), Some(Duration::from_millis(2)));
    }

    #[test]
    fn aimd_never_above_windowsize_nor_below_one() {
        let mut p = Pacer::new(32);
        for _ in 0..10 {
            p.on_loss(false);
        }
        assert_eq!(p.burst(), 1);
        p.on_window_acked(); // the window that saw the loss does not grow it
        assert_eq!(p.burst(), 1);
        for _ in 0..100 {
            p.on_window_acked();
        }
        assert_eq!(p.burst(), 32);
    }

    #[test]
    fn at_one_block_per_burst_the_gap_grows_and_shrinks_back() {
        let srtt = Duration::from_millis(1);
        let mut p = Pacer::new(4);
        p.on_srtt(srtt);
        p.on_loss(false);
        p.on_loss(false);
        assert_eq!((p.burst(), p.interval()), (1, srtt));
        p.on_loss(false);
        assert_eq!(p.interval(), 2 * srtt);
        p.on_loss(false);
        assert_eq!(p.interval(), 4 * srtt);
        for _ in 0..40 {
            p.on_window_acked();
        }
        assert_eq!(p.interval(), srtt);
        assert!(p.burst() > 1, "then the burst grows");
    }

    #[test]
    fn an_overrun_buffer_sets_the_burst_near_what_it_held() {
        let mut p = Pacer::new(256);
        // The whole window left at once; the receiver's buffer took 90.
        p.on_gap(90);
        assert_eq!(p.burst(), 128, "halved: more than the buffer showed");
        p.on_gap(90);
        assert_eq!(p.burst(), 78, "seven eighths of what the buffer held");
        p.on_gap(3);
        assert_eq!(p.burst(), 39, "random loss early in a burst: halved");
    }

    #[test]
    fn the_size_that_lost_is_tried_again_after_more_and_more_clean_windows() {
        // 64 KiB blocks, windowsize 4, a receiver buffer that holds three.
        let mut p = Pacer::new(4);
        let lost_at = |p: &mut Pacer| {
            assert_eq!(p.burst(), 4);
            p.on_gap(4); // the tail probe brought the fourth block
            p.on_window_acked();
            assert_eq!(p.burst(), 3);
            let mut clean = 0;
            while p.burst() < 4 {
                p.on_window_acked();
                clean += 1;
                assert!(clean <= 64, "the burst never grew back");
            }
            clean
        };
        assert_eq!(lost_at(&mut p), 4);
        assert_eq!(lost_at(&mut p), 8, "lost again at 4: twice the patience");
        assert_eq!(lost_at(&mut p), 16);
        // A burst of 4 that gets through halves the patience.
        p.on_window_acked();
        assert_eq!(lost_at(&mut p), 8);
    }

    #[test]
    fn the_overrun_mark_only_caps_a_growth_step_that_would_reach_it() {
        let mut p = Pacer::new(64);
        p.on_gap(40); // 64 sent, 40 taken: halved to 32, kept at 35
        assert_eq!(p.burst(), 35);
        p.on_window_acked(); // the lossy window itself
        for _ in 0..7 {
            p.on_window_acked();
        }
        assert_eq!(p.burst(), 63, "grows by 4 a window, stops below the mark");
        p.on_window_acked();
        assert_eq!(
            p.burst(),
            64,
            "seven clean windows in a row already exceed the patience"
        );
    }

    #[test]
    fn timeouts_in_a_row_drop_to_one_block() {
        let mut p = Pacer::new(64);
        p.on_loss(true);
        assert_eq!(p.burst(), 32);
        p.on_progress();
        p.on_loss(true);
        assert_eq!(p.burst(), 16);
        p.on_loss(true);
        assert_eq!(p.burst(), 1);
    }

    #[test]
    fn a_timeout_probes_with_one_block() {
        let t0 = Instant::now();
        let mut p = Pacer::new(16);
        p.on_srtt(Duration::from_millis(1));
        p.on_loss(true);
        p.on_send(t0);
        assert!(!p.ready(t0), "one block, then a round trip to hear back");
        let t1 = p.release().unwrap();
        for _ in 0..8 {
            assert!(p.ready(t1));
            p.on_send(t1);
        }
        assert!(!p.ready(t1));
    }
}
