//! Retransmission timing: exponential backoff with a cap on the interval and
//! on the number of consecutive timeouts.

use std::time::Duration;

/// How a transfer retransmits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// First retransmission interval (tftp-hpa `-T`, default 1 s); a client's
    /// `timeout`/`utimeout` option replaces it for that transfer.
    pub initial: Duration,
    /// The interval doubles after each timeout up to this value.
    pub max_interval: Duration,
    /// Consecutive timeouts after which the transfer fails.
    pub max_retries: u32,
    /// How long a write transfer lingers after its final ACK, to answer a
    /// retransmitted last block (RFC 1350 §6, "dallying").
    pub dally: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            initial: Duration::from_secs(1),
            max_interval: Duration::from_secs(8),
            max_retries: 6,
            dally: Duration::from_secs(2),
        }
    }
}

/// Backoff state of one transfer.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    policy: RetryPolicy,
    interval: Duration,
    retries: u32,
}

impl Backoff {
    pub(crate) fn new(policy: RetryPolicy, negotiated: Option<Duration>) -> Self {
        let mut policy = policy;
        if let Some(t) = negotiated {
            policy.initial = t;
            policy.max_interval = policy.max_interval.max(t);
        }
        Self {
            interval: policy.initial,
            policy,
            retries: 0,
        }
    }

    pub(crate) fn interval(&self) -> Duration {
        self.interval
    }

    pub(crate) fn dally(&self) -> Duration {
        self.policy.dally
    }

    /// Progress was made: back to the first interval.
    pub(crate) fn reset(&mut self) {
        self.interval = self.policy.initial;
        self.retries = 0;
    }

    /// A timeout fired; false when the retry budget is spent.
    pub(crate) fn on_timeout(&mut self) -> bool {
        self.retries += 1;
        self.interval = (self.interval * 2).min(self.policy.max_interval);
        self.retries <= self.policy.max_retries
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn negotiated_timeout_wins() {
        let b = Backoff::new(RetryPolicy::default(), Some(Duration::from_secs(20)));
        assert_eq!(b.interval(), Duration::from_secs(20));
    }
}
