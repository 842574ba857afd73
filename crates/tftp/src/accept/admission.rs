//! Who gets a transfer slot, and what a full server answers: the policy the
//! tokio server applies, without sockets or a clock of its own.
//!
//! - At most [`AdmissionConfig::max_transfers`] transfers run at once.
//! - A transfer is *in handshake* until its client's first ACK of data (RRQ)
//!   or first DATA (WRQ) arrived; the driver reports that with
//!   [`Admission::progressed`]. A client that never answers holds its slot
//!   only while the server has room: above [`AdmissionConfig::high_water`]
//!   running transfers, a handshake older than
//!   [`AdmissionConfig::handshake_deadline`] is dropped
//!   ([`Admission::handshake_expired`]); and when a request arrives while
//!   the server is full, the oldest handshake older than
//!   [`AdmissionConfig::reclaim_after`] gives its slot to the newcomer
//!   ([`Admit::Reclaimed`]). A transfer that has made progress is never
//!   reclaimed.
//! - A request that finds no slot is refused with "Server busy" from the
//!   listening port at most [`AdmissionConfig::busy_replies_per_sec`] times
//!   a second in total and [`AdmissionConfig::busy_replies_per_client_per_sec`]
//!   per client address (token buckets); the others are dropped silently, so
//!   spoofed requests cannot make the server a reflector, and two full servers
//!   spoofed at each other cannot keep each other busy.
//! - Refusals are counted and come out as one summary at most every
//!   [`AdmissionConfig::summary_every`] ([`Admission::poll_summary`]), never as
//!   a line per datagram.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits of [`Admission`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdmissionConfig {
    /// Transfers running at most.
    pub max_transfers: usize,
    /// Above this many running transfers, handshakes get
    /// [`AdmissionConfig::handshake_deadline`].
    pub high_water: usize,
    /// How long a transfer may wait for its client's first answer while the
    /// server is above the high-water mark.
    pub handshake_deadline: Duration,
    /// How old a handshake must be before a new request may take its slot
    /// when the server is full.
    pub reclaim_after: Duration,
    /// "Server busy" replies per second from the listening ports, in total.
    pub busy_replies_per_sec: u32,
    /// "Server busy" replies per second to one client address.
    pub busy_replies_per_client_per_sec: u32,
    /// Shortest time between two refusal summaries.
    pub summary_every: Duration,
}

impl AdmissionConfig {
    /// Defaults for `max_transfers` slots: high water at three quarters (below
    /// the cap, so a full server is always above it),
    /// 2 s handshake deadline above it, reclaim after 500 ms, 10 busy replies
    /// a second in total and 1 per client, a summary at most every 10 s.
    pub fn new(max_transfers: usize) -> Self {
        let max_transfers = max_transfers.max(1);
        Self {
            max_transfers,
            high_water: (max_transfers * 3 / 4).min(max_transfers - 1),
            handshake_deadline: Duration::from_secs(2),
            reclaim_after: Duration::from_millis(500),
            busy_replies_per_sec: 10,
            busy_replies_per_client_per_sec: 1,
            summary_every: Duration::from_secs(10),
        }
    }
}

impl Default for AdmissionConfig {
    /// 512 slots, as before this policy existed.
    fn default() -> Self {
        Self::new(512)
    }
}

/// A transfer slot handed out by [`Admission::request`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SlotId(u64);

/// What to do with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Run it in this slot.
    Granted(SlotId),
    /// Run it in `slot`, which was `victim`'s: abort that transfer (it has
    /// already left the table; releasing it again is harmless).
    Reclaimed {
        /// The new transfer's slot.
        slot: SlotId,
        /// The handshake to abort.
        victim: SlotId,
    },
    /// No slot. `reply`: send "Server busy" (within the rate limits);
    /// otherwise drop the request silently.
    Busy {
        /// Whether to answer.
        reply: bool,
    },
}

/// Refusals since the previous summary, and the state now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    /// Requests answered "Server busy".
    pub busy_replied: u64,
    /// Requests dropped without an answer (busy, over the reply rate).
    pub busy_dropped: u64,
    /// Handshakes aborted to give their slot to a new request.
    pub reclaimed: u64,
    /// Handshakes dropped at their deadline above the high-water mark.
    pub expired: u64,
    /// Datagrams on a listening port that are not requests (never answered).
    pub not_requests: u64,
    /// Malformed requests (answered with ERROR 4 from a transfer port).
    pub malformed: u64,
    /// Transfers running now.
    pub running: usize,
}

impl Summary {
    fn is_empty(&self) -> bool {
        self.busy_replied
            + self.busy_dropped
            + self.reclaimed
            + self.expired
            + self.not_requests
            + self.malformed
            == 0
    }
}

#[derive(Debug)]
struct Slot {
    started: Instant,
    handshake: bool,
}

/// A token bucket of `rate` tokens a second, holding at most `rate`.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn full(rate: u32, now: Instant) -> Self {
        Self {
            tokens: f64::from(rate),
            at: now,
        }
    }

    fn refill(&mut self, rate: u32, now: Instant) {
        let secs = now.saturating_duration_since(self.at).as_secs_f64();
        self.tokens = (self.tokens + secs * f64::from(rate)).min(f64::from(rate));
        self.at = now;
    }
}

/// Per-client buckets kept at most; past it the table starts afresh (the
/// total bucket still bounds the replies).
const MAX_CLIENT_BUCKETS: usize = 4096;

/// The slot table and the refusal policy; see the module documentation.
#[derive(Debug)]
pub struct Admission {
    config: AdmissionConfig,
    slots: BTreeMap<SlotId, Slot>,
    next: u64,
    total: Bucket,
    clients: HashMap<IpAddr, Bucket>,
    counts: Summary,
    last_summary: Instant,
}

impl Admission {
    /// An empty table.
    pub fn new(config: AdmissionConfig, now: Instant) -> Self {
        Self {
            total: Bucket::full(config.busy_replies_per_sec, now),
            config,
            slots: BTreeMap::new(),
            next: 0,
            clients: HashMap::new(),
            counts: Summary::default(),
            last_summary: now,
        }
    }

    /// The limits in force.
    pub fn config(&self) -> &AdmissionConfig {
        &self.config
    }

    /// Transfers holding a slot.
    pub fn running(&self) -> usize {
        self.slots.len()
    }

    /// A request from `client` arrived on a listening port.
    pub fn request(&mut self, now: Instant, client: IpAddr) -> Admit {
        if self.slots.len() < self.config.max_transfers {
            return Admit::Granted(self.insert(now));
        }
        let victim = self
            .slots
            .iter()
            .filter(|(_, s)| {
                s.handshake && now.saturating_duration_since(s.started) >= self.config.reclaim_after
            })
            .min_by_key(|(id, s)| (s.started, **id))
            .map(|(id, _)| *id);
        if let Some(victim) = victim {
            self.slots.remove(&victim);
            self.counts.reclaimed += 1;
            return Admit::Reclaimed {
                slot: self.insert(now),
                victim,
            };
        }
        let reply = self.take_busy_token(now, client);
        if reply {
            self.counts.busy_replied += 1;
        } else {
            self.counts.busy_dropped += 1;
        }
        Admit::Busy { reply }
    }

    fn insert(&mut self, now: Instant) -> SlotId {
        let id = SlotId(self.next);
        self.next += 1;
        self.slots.insert(
            id,
            Slot {
                started: now,
                handshake: true,
            },
        );
        id
    }

    fn take_busy_token(&mut self, now: Instant, client: IpAddr) -> bool {
        let (total_rate, client_rate) = (
            self.config.busy_replies_per_sec,
            self.config.busy_replies_per_client_per_sec,
        );
        self.total.refill(total_rate, now);
        if self.clients.len() >= MAX_CLIENT_BUCKETS && !self.clients.contains_key(&client) {
            self.clients.clear();
        }
        let bucket = self
            .clients
            .entry(client)
            .or_insert_with(|| Bucket::full(client_rate, now));
        bucket.refill(client_rate, now);
        if self.total.tokens >= 1.0 && bucket.tokens >= 1.0 {
            self.total.tokens -= 1.0;
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The client of `slot` answered (first ACK of data, or first DATA): the
    /// transfer is no longer a handshake and is never reclaimed.
    pub fn progressed(&mut self, slot: SlotId) {
        if let Some(s) = self.slots.get_mut(&slot) {
            s.handshake = false;
        }
    }

    /// Whether `slot` is due for a look: the server runs above the
    /// high-water mark, and the transfer is still a handshake as far as this
    /// table knows and at least [`AdmissionConfig::reclaim_after`] old (so a
    /// candidate for reclaim or expiry). The driver then checks whether its
    /// client answered ([`Admission::progressed`]) and otherwise asks
    /// [`Admission::handshake_expired`]. Below the mark nothing is ever due,
    /// so a driver need not disturb its transfers then.
    pub fn handshake_due(&self, slot: SlotId, now: Instant) -> bool {
        let age = self
            .config
            .reclaim_after
            .min(self.config.handshake_deadline);
        self.handshake_older_than(slot, now, age)
    }

    fn handshake_older_than(&self, slot: SlotId, now: Instant, age: Duration) -> bool {
        self.under_pressure()
            && self
                .slots
                .get(&slot)
                .is_some_and(|s| s.handshake && now.saturating_duration_since(s.started) >= age)
    }

    /// Whether `slot`, still in handshake, must be dropped now: the server
    /// runs above the high-water mark and the handshake is older than
    /// [`AdmissionConfig::handshake_deadline`]. Counted once; the slot leaves
    /// the table, the caller aborts the transfer.
    pub fn handshake_expired(&mut self, slot: SlotId, now: Instant) -> bool {
        let expired = self.handshake_older_than(slot, now, self.config.handshake_deadline);
        if expired {
            self.slots.remove(&slot);
            self.counts.expired += 1;
        }
        expired
    }

    /// Whether the server runs above the high-water mark, where handshakes
    /// past their deadline are dropped ([`Admission::handshake_due`]).
    pub fn under_pressure(&self) -> bool {
        self.slots.len() > self.config.high_water
    }

    /// A reclaimed `slot` turned out to have progressed just before (the
    /// driver had not reported it yet): it keeps running, as a transfer that
    /// is never reclaimed, even if that puts the server one over its cap
    /// until a transfer ends.
    pub fn reinstate(&mut self, slot: SlotId, now: Instant) {
        self.slots.insert(
            slot,
            Slot {
                started: now,
                handshake: false,
            },
        );
        self.counts.reclaimed = self.counts.reclaimed.saturating_sub(1);
    }

    /// The transfer in `slot` ended.
    pub fn release(&mut self, slot: SlotId) {
        self.slots.remove(&slot);
    }

    /// A datagram that is not a request arrived on a listening port.
    pub fn not_request(&mut self) {
        self.counts.not_requests += 1;
    }

    /// A malformed request was refused.
    pub fn malformed(&mut self) {
        self.counts.malformed += 1;
    }

    /// The counts since the last summary, when there are any and at least
    /// [`AdmissionConfig::summary_every`] has passed since it; `force` (at
    /// shutdown) skips the wait.
    pub fn poll_summary(&mut self, now: Instant, force: bool) -> Option<Summary> {
        let due =
            force || now.saturating_duration_since(self.last_summary) >= self.config.summary_every;
        if !due || self.counts.is_empty() {
            return None;
        }
        self.last_summary = now;
        let mut out = std::mem::take(&mut self.counts);
        out.running = self.slots.len();
        Some(out)
    }

    /// When [`Admission::poll_summary`] may next return something.
    pub fn next_summary(&self) -> Instant {
        self.last_summary + self.config.summary_every
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn granted(a: Admit) -> SlotId {
        match a {
            Admit::Granted(s) => s,
            other => panic!("not granted: {other:?}"),
        }
    }

    #[test]
    fn grants_up_to_the_cap_then_busy_at_a_limited_rate() {
        let t0 = Instant::now();
        let mut adm = Admission::new(AdmissionConfig::new(2), t0);
        let s1 = granted(adm.request(t0, A));
        let s2 = granted(adm.request(t0, A));
        adm.progressed(s1);
        adm.progressed(s2);
        assert_eq!(adm.request(t0, A), Admit::Busy { reply: true });
        // One reply per second to A; B still gets one.
        assert_eq!(adm.request(t0, A), Admit::Busy { reply: false });
        assert_eq!(adm.request(t0, B), Admit::Busy { reply: true });
        // 1000 spoofed requests in one second from as many addresses: 10 replies at most.
        let mut replies = 0;
        for i in 0..1000u32 {
            let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + i));
            let now = t0 + Duration::from_millis(u64::from(i));
            if adm.request(now, ip) == (Admit::Busy { reply: true }) {
                replies += 1;
            }
        }
        assert!(replies <= 10 + 8, "{replies} busy replies in one second");
        let s = adm
            .poll_summary(t0 + Duration::from_secs(10), false)
            .unwrap();
        assert_eq!(s.busy_replied + s.busy_dropped, 1003);
        assert_eq!(s.running, 2);
        assert_eq!(adm.poll_summary(t0 + Duration::from_secs(11), false), None);
    }

    #[test]
    fn a_full_server_reclaims_the_oldest_handshake() {
        let t0 = Instant::now();
        let mut adm = Admission::new(AdmissionConfig::new(3), t0);
        let old = granted(adm.request(t0, A));
        let active = granted(adm.request(t0, A));
        let young = granted(adm.request(t0 + Duration::from_millis(400), A));
        adm.progressed(active);
        let now = t0 + Duration::from_millis(600);
        match adm.request(now, B) {
            Admit::Reclaimed { victim, slot } => {
                assert_eq!(victim, old);
                assert_ne!(slot, old);
            }
            other => panic!("{other:?}"),
        }
        // `young` is only 200 ms old, `active` made progress: nothing to take.
        assert!(matches!(adm.request(now, B), Admit::Busy { .. }));
        adm.release(old); // the aborted victim releases: harmless
        assert_eq!(adm.running(), 3);
        adm.release(young);
        granted(adm.request(now, B));
        // A victim that had progressed unreported keeps running, over the cap.
        let mut adm = Admission::new(AdmissionConfig::new(1), t0);
        let first = granted(adm.request(t0, A));
        assert!(adm.under_pressure(), "a full server is above its mark");
        let later = t0 + Duration::from_secs(1);
        let Admit::Reclaimed { victim, .. } = adm.request(later, B) else {
            panic!("not reclaimed")
        };
        assert_eq!(victim, first);
        adm.reinstate(victim, later);
        assert_eq!(adm.running(), 2);
        assert!(matches!(adm.request(later, B), Admit::Busy { .. }));
        assert_eq!(adm.poll_summary(later, true).unwrap().reclaimed, 0);
    }

    #[test]
    fn handshakes_expire_only_above_high_water() {
        let t0 = Instant::now();
        let mut cfg = AdmissionConfig::new(4);
        cfg.high_water = 2;
        let mut adm = Admission::new(cfg, t0);
        let a = granted(adm.request(t0, A));
        let b = granted(adm.request(t0, A));
        let late = t0 + Duration::from_secs(3);
        // Two running: not above the mark; they may wait for their retries.
        assert!(!adm.handshake_due(a, late) && !adm.handshake_expired(a, late));
        let c = granted(adm.request(t0, A));
        adm.progressed(c);
        assert!(adm.under_pressure());
        assert!(!adm.handshake_due(a, t0 + Duration::from_millis(100)));
        assert!(
            adm.handshake_due(a, t0 + Duration::from_secs(1)),
            "a look at 500 ms"
        );
        assert!(!adm.handshake_expired(a, t0 + Duration::from_secs(1)));
        assert!(!adm.handshake_due(c, late), "c made progress");
        assert!(adm.handshake_expired(a, late));
        // Now two again: b keeps its slot.
        assert!(!adm.handshake_expired(b, late));
        assert!(!adm.handshake_expired(c, late));
        assert_eq!(adm.poll_summary(late, true).unwrap().expired, 1);
    }

    #[test]
    fn an_attacker_holding_every_slot_cannot_lock_out_a_client() {
        let t0 = Instant::now();
        let mut adm = Admission::new(AdmissionConfig::new(16), t0);
        for _ in 0..16 {
            granted(adm.request(t0, A));
        }
        // A legitimate request a second later finds a slot.
        let now = t0 + Duration::from_secs(1);
        assert!(matches!(adm.request(now, B), Admit::Reclaimed { .. }));
    }
}
