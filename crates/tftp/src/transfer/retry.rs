//! Retransmission timing: a timer that follows the measured round-trip time
//! in the manner of TCP's RTO (RFC 6298), exponential backoff on repeated
//! loss, and a retry budget.
//!
//! - Before the first sample the interval is [`RetryPolicy::initial`] (or the
//!   client's `timeout`): RFC 1350 behaviour.
//! - A sending transfer measures each round trip (Karn's rule: never a block
//!   or request that was sent twice) and keeps a smoothed RTT and its
//!   variance; its interval becomes `srtt + 4 * rttvar`, at least
//!   [`RetryPolicy::min_rto`] and at most the initial interval, which is thus
//!   the ceiling.
//! - Each timeout doubles the interval (up to [`RetryPolicy::max_interval`]);
//!   the next ACK that makes progress ends the backoff.
//! - The transfer gives up after more than [`RetryPolicy::max_retries`]
//!   consecutive timeouts *and* only once it has waited as long as the
//!   doubling schedule from `initial` would have taken: a short measured
//!   interval brings quicker retransmissions, never an earlier abort.
//! - Whatever else holds the timer back (pacing gaps of a sending transfer),
//!   a peer that makes no progress for [`Backoff::silence_limit`] (the
//!   budget plus one capped interval) ends the transfer.

use std::time::Duration;

/// How a transfer retransmits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First retransmission interval (tftp-hpa `-T`, default 1 s); a client's
    /// `timeout`/`utimeout` option replaces it for that transfer. For a
    /// sending transfer it is also the ceiling of the measured interval.
    pub initial: Duration,
    /// Floor of the interval measured from round trips (default 10 ms).
    pub min_rto: Duration,
    /// The interval doubles after each timeout up to this value (or up to
    /// `initial`, when that is larger).
    pub max_interval: Duration,
    /// Consecutive timeouts after which the transfer fails (once the time the
    /// doubling schedule from `initial` implies has also passed).
    pub max_retries: u32,
    /// How long a write transfer lingers after its final ACK, to answer a
    /// retransmitted last block (RFC 1350 §6, "dallying").
    pub dally: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            min_rto: Duration::from_millis(10),
            max_interval: Duration::from_secs(8),
            max_retries: 6,
            dally: Duration::from_secs(2),
        }
    }
}

impl RetryPolicy {
    /// How long a transfer waits without progress before giving up: the sum
    /// of the doubling intervals from `initial`, one per allowed retry and
    /// one for the last wait.
    pub fn budget(&self) -> Duration {
        let cap = self.max_interval.max(self.initial);
        let mut step = self.initial;
        let mut total = Duration::ZERO;
        for _ in 0..=self.max_retries {
            total = total.saturating_add(step);
            step = (step.saturating_mul(2)).min(cap);
        }
        total
    }
}

/// Retransmission timer state of one transfer.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    /// Follows measured round trips (sending roles); otherwise the classic timer.
    adaptive: bool,
    srtt: Option<Duration>,
    rttvar: Duration,
    interval: Duration,
    retries: u32,
    waited: Duration,
    /// [`RetryPolicy::budget`], computed once.
    budget: Duration,
}

impl Backoff {
    /// A classic timer: `initial` (or the negotiated timeout), doubling.
    pub(crate) fn new(policy: RetryPolicy, negotiated: Option<Duration>) -> Self {
        let mut policy = policy;
        if let Some(t) = negotiated {
            policy.initial = t;
        }
        policy.max_interval = policy.max_interval.max(policy.initial);
        Self {
            interval: policy.initial,
            policy,
            adaptive: false,
            srtt: None,
            rttvar: Duration::ZERO,
            retries: 0,
            waited: Duration::ZERO,
            budget: policy.budget(),
        }
    }

    /// A timer that follows the round trips fed to [`Backoff::on_sample`].
    pub(crate) fn adaptive(policy: RetryPolicy, negotiated: Option<Duration>) -> Self {
        Self {
            adaptive: true,
            ..Self::new(policy, negotiated)
        }
    }

    /// Keeps what was measured so far (the handshake's round trip) when the
    /// negotiated parameters replace the timer.
    pub(crate) fn renegotiated(&self, policy: RetryPolicy, negotiated: Option<Duration>) -> Self {
        let mut b = Self {
            adaptive: self.adaptive,
            ..Self::new(policy, negotiated)
        };
        if let Some(s) = self.srtt {
            b.srtt = Some(s);
            b.rttvar = self.rttvar;
            if b.adaptive {
                b.interval = b.rto();
            }
        }
        b
    }

    /// The current retransmission interval.
    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    /// The smoothed round-trip time, once measured.
    pub(crate) fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    pub(crate) fn dally(&self) -> Duration {
        self.policy.dally
    }

    fn rto(&self) -> Duration {
        let srtt = self.srtt.unwrap_or(self.policy.initial);
        (srtt + 4 * self.rttvar)
            .max(self.policy.min_rto)
            .min(self.policy.initial)
    }

    /// One round-trip measurement (RFC 6298 §2, α = 1/8, β = 1/4, K = 4).
    pub(crate) fn on_sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                let err = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + err) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
        if self.adaptive {
            self.interval = self.rto();
        }
    }

    /// How long a sending transfer waits for the ACK of a round before its
    /// tail probe: two smoothed round trips, or the round trip plus four
    /// times its variance when the path jitters more (a probe that leaves
    /// before the ACK could have come is wasted), at least `floor`. `None`
    /// before a round trip is measured, or when the probe would not come
    /// before the retransmission timer.
    pub(crate) fn tail_probe(&self, floor: Duration) -> Option<Duration> {
        let srtt = self.srtt?;
        let pto = (srtt * 2).max(srtt + 4 * self.rttvar).max(floor);
        (pto < self.interval).then_some(pto)
    }

    /// Progress was made: the retry count starts over and the backoff goes.
    /// A classic timer goes back to its first interval, a measured one to
    /// the interval its samples give. (RFC 6298 §5.7 allows keeping the
    /// backoff until a new sample; after a timeout a TFTP sender's next ACKs
    /// often cover only resent blocks, which Karn's rule never samples, and
    /// a kept backoff then doubles with each later loss.)
    pub(crate) fn reset(&mut self) {
        self.retries = 0;
        self.waited = Duration::ZERO;
        self.interval = if self.adaptive {
            self.rto()
        } else {
            self.policy.initial
        };
    }

    /// The longest a transfer lives without progress: the budget plus one
    /// capped interval, the most the last doubling step can overshoot it.
    /// Time spent in pacing gaps counts, though the retransmission timer
    /// does not run there.
    pub(crate) fn silence_limit(&self) -> Duration {
        self.budget.saturating_add(self.policy.max_interval)
    }

    /// A timeout fired; false when the retry budget is spent.
    pub(crate) fn on_timeout(&mut self) -> bool {
        self.retries += 1;
        self.waited = self.waited.saturating_add(self.interval);
        self.interval = (self.interval * 2).min(self.policy.max_interval);
        self.retries <= self.policy.max_retries || self.waited < self.budget
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn doubles_caps_and_gives_up() {
        let mut b = Backoff::new(RetryPolicy::default(), None);
        let mut seen = vec![b.interval().as_secs()];
        while b.on_timeout() {
            seen.push(b.interval().as_secs());
        }
        assert_eq!(seen, vec![1, 2, 4, 8, 8, 8, 8]);
        b.reset();
        assert_eq!(b.interval(), Duration::from_secs(1));
        assert_eq!(RetryPolicy::default().budget(), Duration::from_secs(39));
    }

    #[test]
    fn negotiated_timeout_wins() {
        let b = Backoff::new(RetryPolicy::default(), Some(Duration::from_secs(20)));
        assert_eq!(b.interval(), Duration::from_secs(20));
    }

    #[test]
    fn follows_samples_between_floor_and_ceiling() {
        let mut b = Backoff::adaptive(RetryPolicy::default(), None);
        assert_eq!(b.interval(), Duration::from_secs(1), "no sample yet");
        b.on_sample(ms(4));
        // 4 + 4 * 2 = 12 ms.
        assert_eq!(b.interval(), ms(12));
        for _ in 0..50 {
            b.on_sample(ms(4));
        }
        assert_eq!(b.interval(), ms(10), "the floor holds a steady RTT");
        b.on_sample(ms(900));
        assert_eq!(b.interval(), Duration::from_secs(1), "the ceiling holds");
        let mut short = Backoff::adaptive(RetryPolicy::default(), Some(ms(300)));
        short.on_sample(ms(200));
        assert_eq!(
            short.interval(),
            ms(300),
            "a client's timeout is the ceiling"
        );
    }

    #[test]
    fn the_tail_probe_waits_out_the_jitter_and_comes_before_the_timer() {
        let mut b = Backoff::adaptive(RetryPolicy::default(), None);
        assert_eq!(b.tail_probe(ms(1)), None, "no round trip yet");
        for _ in 0..50 {
            b.on_sample(Duration::from_micros(300));
        }
        assert_eq!(b.tail_probe(ms(1)), Some(ms(1)), "the floor");
        for _ in 0..50 {
            b.on_sample(ms(2));
        }
        let steady = b.tail_probe(ms(1)).unwrap();
        assert!(
            steady > ms(3) && steady < ms(5),
            "two round trips: {steady:?}"
        );
        b.on_sample(Duration::from_micros(500));
        b.on_sample(ms(6));
        let jittery = b.tail_probe(ms(1)).unwrap();
        assert!(jittery > ms(4), "{jittery:?}");
        for _ in 0..50 {
            b.on_sample(ms(6));
        }
        assert_eq!(b.tail_probe(ms(1)), None, "the 10 ms timer comes first");
    }

    #[test]
    fn progress_ends_the_backoff() {
        let mut b = Backoff::adaptive(RetryPolicy::default(), None);
        for _ in 0..20 {
            b.on_sample(ms(2));
        }
        assert_eq!(b.interval(), ms(10));
        assert!(b.on_timeout());
        assert!(b.on_timeout());
        assert_eq!(b.interval(), ms(40));
        b.reset();
        assert_eq!(b.interval(), ms(10));
    }

    #[test]
    fn short_intervals_never_give_up_before_the_budget() {
        let mut b = Backoff::adaptive(RetryPolicy::default(), None);
        for _ in 0..20 {
            b.on_sample(ms(1));
        }
        let mut waited = Duration::ZERO;
        loop {
            let step = b.interval();
            let more = b.on_timeout();
            waited += step;
            if !more {
                break;
            }
        }
        assert!(waited >= RetryPolicy::default().budget(), "{waited:?}");
        assert!(waited < RetryPolicy::default().budget() + Duration::from_secs(8));
    }
}
