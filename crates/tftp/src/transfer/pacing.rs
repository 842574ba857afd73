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
//! - A loss (a gap reported by the receiver, or a timeout) halves `burst`.
//! - A window acknowledged in full with no loss grows `burst` by
//!   `windowsize / 16` blocks (at least one), never above `windowsize`.
//! - After a timeout the first burst is a single block, a probe: a receiver
//!   that already holds it answers with the ACK of where it stands.

use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub(crate) struct Pacer {
    windowsize: u64,
    /// Blocks sent back to back: the effective window.
    burst: u64,
    /// Set by the first loss: from then on bursts are spread over time.
    paced: bool,
    /// Blocks sent in the current burst.
    in_burst: u64,
    /// The next burst may not leave before this.
    release: Option<Instant>,
    /// After a timeout: the next burst is one block.
    probe: bool,
    /// A loss was seen since the last window-end ACK.
    lossy_window: bool,
    srtt: Option<Duration>,
}

impl Pacer {
    pub(crate) fn new(windowsize: u64) -> Self {
        Self {
            windowsize,
            burst: windowsize,
            paced: false,
            in_burst: 0,
            release: None,
            probe: false,
            lossy_window: false,
            srtt: None,
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

    /// The gap between bursts: one smoothed round trip (zero until measured).
    pub(crate) fn interval(&self) -> Duration {
        self.srtt.unwrap_or_default()
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

    /// The receiver reported a gap or the timer fired.
    pub(crate) fn on_loss(&mut self, timeout: bool) {
        self.paced = true;
        self.lossy_window = true;
        self.burst = (self.burst / 2).max(1);
        self.probe |= timeout;
        self.on_round();
    }

    /// The last block of a window was acknowledged.
    pub(crate) fn on_window_acked(&mut self) {
        if !self.lossy_window {
            let step = (self.windowsize / 16).max(1);
            self.burst = (self.burst + step).min(self.windowsize);
        }
        self.lossy_window = false;
        self.on_round();
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
