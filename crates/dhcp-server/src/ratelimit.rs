//! Rate limiting with bounded memory: a token bucket per client key, in a table
//! that never grows past a fixed number of clients, and one bucket for all
//! requests together (a flood from ever-new client keys passes every per-client
//! bucket).

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

/// Limits per client and in total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests a client may send at once.
    pub burst: u32,
    /// Requests per second a client may send in the long run.
    pub per_second: u32,
    /// Clients tracked at most; when full, buckets that are full again are
    /// forgotten first and a client beyond that is refused (memory stays bounded).
    pub max_clients: usize,
    /// Requests from all clients together at once.
    pub total_burst: u32,
    /// Requests per second from all clients together in the long run.
    pub total_per_second: u32,
}

impl Default for RateLimit {
    /// Per client: burst 20, 5/s; in total: burst and rate 20,000/s, above the
    /// highest lease rate measured here (9,000 leases/s, 18,000 requests/s).
    fn default() -> Self {
        Self {
            burst: 20,
            per_second: 5,
            max_clients: 65_536,
            total_burst: 20_000,
            total_per_second: 20_000,
        }
    }
}

/// Which limit a request went over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Its client's.
    Client,
    /// The total one.
    Total,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: SystemTime,
}

/// Token buckets keyed by client.
#[derive(Debug)]
pub struct RateLimiter {
    limit: RateLimit,
    buckets: HashMap<Vec<u8>, Bucket>,
    total: Option<Bucket>,
}

impl RateLimiter {
    /// A limiter with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            buckets: HashMap::new(),
            total: None,
        }
    }

    /// Number of clients tracked.
    pub fn len(&self) -> usize {
        self.buckets.len()
    }

    /// Whether no client is tracked.
    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    fn refill(&self, b: &mut Bucket, now: SystemTime) {
        let dt = now.duration_since(b.at).unwrap_or(Duration::ZERO);
        b.tokens = (b.tokens + dt.as_secs_f64() * f64::from(self.limit.per_second))
            .min(f64::from(self.limit.burst));
        b.at = now;
    }

    /// Takes one request from the total bucket and then from `client`'s; says
    /// which limit it is over, if any (a request over the total limit costs its
    /// client nothing).
    pub fn check(&mut self, client: &[u8], now: SystemTime) -> Result<(), Limited> {
        let mut t = self.total.unwrap_or(Bucket {
            tokens: f64::from(self.limit.total_burst),
            at: now,
        });
        let dt = now.duration_since(t.at).unwrap_or(Duration::ZERO);
        t.tokens = (t.tokens + dt.as_secs_f64() * f64::from(self.limit.total_per_second))
            .min(f64::from(self.limit.total_burst));
        t.at = now;
        if t.tokens < 1.0 {
            self.total = Some(t);
            return Err(Limited::Total);
        }
        t.tokens -= 1.0;
        self.total = Some(t);
        if self.allow(client, now) {
            Ok(())
        } else {
            Err(Limited::Client)
        }
    }

    /// Takes one request from `client`'s bucket; `false` when it is over its limit.
    pub fn allow(&mut self, client: &[u8], now: SystemTime) -> bool {
        if !self.buckets.contains_key(client) && self.buckets.len() >= self.limit.max_clients {
            self.prune(now);
            if self.buckets.len() >= self.limit.max_clients {
                return false;
            }
        }
        let mut b = self.buckets.get(client).copied().unwrap_or(Bucket {
            tokens: f64::from(self.limit.burst),
            at: now,
        });
        self.refill(&mut b, now);
        let ok = b.tokens >= 1.0;
        if ok {
            b.tokens -= 1.0;
        }
        self.buckets.insert(client.to_vec(), b);
        ok
    }

    /// Forgets clients whose buckets are full again (they are indistinguishable from new ones).
    pub fn prune(&mut self, now: SystemTime) {
        let limit = self.limit;
        self.buckets.retain(|_, b| {
            let dt = now.duration_since(b.at).unwrap_or(Duration::ZERO);
            b.tokens + dt.as_secs_f64() * f64::from(limit.per_second) < f64::from(limit.burst)
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut r = RateLimiter::new(RateLimit {
            burst: 3,
            per_second: 1,
            max_clients: 10,
            ..RateLimit::default()
        });
        assert!((0..3).all(|_| r.allow(b"a", t0)));
        assert!(!r.allow(b"a", t0));
        assert!(r.allow(b"b", t0), "other clients are not disturbed");
        assert!(r.allow(b"a", t0 + Duration::from_secs(1)));
        assert!(!r.allow(b"a", t0 + Duration::from_secs(1)));
    }

    #[test]
    fn memory_is_bounded() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut r = RateLimiter::new(RateLimit {
            burst: 2,
            per_second: 1,
            max_clients: 4,
            ..RateLimit::default()
        });
        for i in 0..100u32 {
            r.allow(&i.to_be_bytes(), t0);
        }
        assert!(r.len() <= 4);
        // Once their buckets are full again, new clients fit.
        assert!(r.allow(b"late", t0 + Duration::from_secs(10)));
        assert!(r.len() <= 4);
    }

    #[test]
    fn the_total_limit_holds_ever_new_clients() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let mut r = RateLimiter::new(RateLimit {
            total_burst: 10,
            total_per_second: 10,
            ..RateLimit::default()
        });
        let ok = (0..100u32)
            .filter(|i| r.check(&i.to_be_bytes(), t0).is_ok())
            .count();
        assert_eq!(ok, 10);
        assert_eq!(r.check(b"x", t0), Err(Limited::Total));
        assert_eq!(r.check(b"x", t0 + Duration::from_millis(100)), Ok(()));
    }
}
