//! The sans-IO server: datagrams and time in, replies and lease records out.
//!
//! ```text
//!   driver                                   Server
//!   recv ──────── handle(now, Datagram) ───▶ decode, classify, decide, lease table
//!   send ◀─────── poll_transmit() ────────── OFFERs, NAKs, proxy replies at once;
//!                                            ACKs only after their batch is durable
//!   store.append+fsync ◀── poll_commit() ─── lease records of every ACK/RELEASE/DECLINE since
//!                ─────── handle_committed(id) ─▶ releases that batch's ACKs
//!   sleep until ◀──────── poll_timeout() ─── expiries, rate-limit pruning, drop summary
//!               ───────── handle_timeout(now) ─▶
//!   log ◀──────────────── poll_event() ───── one line per exchange (drops at debug)
//! ```
//!
//! No sockets and no clock inside: `now` is wall-clock time given by the caller, as
//! lease expiry is stored on disk as Unix time.

use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use dhcp_pxe::Policy;

use crate::addressing::Destination;
use crate::exchange::{Dropped, Exchange};
use crate::lease::{Lease, LeaseState, LeaseTable, UnixTime};
use crate::ratelimit::{RateLimit, RateLimiter};
pub use crate::stats::{LeaseCounts, Stats};
use crate::subnet::Subnet;

/// How often at most the summary of dropped datagrams is logged at `info`.
pub const DROP_SUMMARY_EVERY: Duration = Duration::from_secs(10);

/// Full DHCP server or proxyDHCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Hands out addresses (and boot information).
    Full,
    /// Boot information only, beside another DHCP server (PXE 2.1 proxyDHCP).
    Proxy,
}

/// Everything the server core needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Full or proxy.
    pub mode: Mode,
    /// Subnets (full mode).
    pub subnets: Vec<Subnet>,
    /// Boot policy: which client gets which boot file.
    pub policy: Policy,
    /// Option 54 and the source of replies; the receiving address when `None`.
    pub server_id: Option<Ipv4Addr>,
    /// How long an offered address is held for the client's REQUEST.
    pub offer_hold: Duration,
    /// How long a declined address stays out of use.
    pub decline_hold: Duration,
    /// Per-client and total request rate limits.
    pub rate_limit: RateLimit,
    /// Proxy OFFERs to UEFI PXE clients leave out option 43, sending them to port 4011.
    pub uefi_via_4011: bool,
    /// Log events kept at most before the driver collects them.
    pub max_events: usize,
    /// Where the scan for never-used addresses starts in each range (modulo
    /// its size): servers sharing one lease store take different values.
    pub scan_offset: u32,
}

impl ServerConfig {
    /// A configuration with defaults: 30 s offer hold, 1 h decline quarantine.
    pub fn new(mode: Mode, subnets: Vec<Subnet>, policy: Policy) -> Self {
        Self {
            mode,
            subnets,
            policy,
            server_id: None,
            offer_hold: Duration::from_secs(30),
            decline_hold: Duration::from_secs(3600),
            rate_limit: RateLimit::default(),
            uefi_via_4011: false,
            max_events: 4096,
            scan_offset: 0,
        }
    }
}

/// One received datagram with what the socket layer learnt about it.
#[derive(Debug, Clone, Copy)]
pub struct Datagram<'a> {
    /// Index of the interface it arrived on.
    pub ifindex: u32,
    /// Name of that interface, when known.
    pub interface: Option<&'a str>,
    /// The address of the receiving interface (or the unicast address it was sent to).
    pub local: Ipv4Addr,
    /// 67 or 4011.
    pub local_port: u16,
    /// Sender.
    pub src: SocketAddrV4,
    /// The UDP payload.
    pub payload: &'a [u8],
}

/// A reply to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// Interface to send on (the one the request came in on).
    pub ifindex: u32,
    /// Source address.
    pub from: Ipv4Addr,
    /// Source port (67, or 4011 for port-4011 replies).
    pub src_port: u16,
    /// Where to.
    pub to: Destination,
    /// The encoded DHCP message.
    pub payload: Vec<u8>,
}

/// Lease records to make durable together (group commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitBatch {
    /// Pass to [`Server::handle_committed`] once the records are on disk.
    pub id: u64,
    /// The records, in order.
    pub records: Vec<Lease>,
}

/// How important a log event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// An exchange, an expiry, a summary.
    Info,
    /// A dropped datagram (malformed, over a limit or a cap): many may come at
    /// once, so they are counted and summed up at `Info` every
    /// [`DROP_SUMMARY_EVERY`].
    Debug,
}

/// One log line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its level.
    pub level: Level,
    /// The text; client-supplied strings in it are escaped and capped.
    pub text: String,
}

/// Drops since the last summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct DropCounts {
    malformed: u64,
    client_rate: u64,
    total_rate: u64,
    capped: u64,
    no_bootp: u64,
}

/// The DHCP/proxyDHCP server state machine.
#[derive(Debug)]
pub struct Server {
    pub(crate) config: ServerConfig,
    pub(crate) leases: LeaseTable,
    pub(crate) limiter: RateLimiter,
    pub(crate) stats: Stats,
    pub(crate) transmits: VecDeque<Transmit>,
    /// Records and the ACKs that wait for them, not yet handed out.
    pub(crate) pending: Vec<Lease>,
    held: Vec<Held>,
    pub(crate) in_flight: HashMap<u64, Vec<Held>>,
    /// The addresses of each batch in flight (several may be, with a pool of
    /// store connections).
    flying: HashMap<u64, Vec<Ipv4Addr>>,
    /// The last batch failed (its failure was logged; the next ones are not).
    pub(crate) failing: bool,
    next_batch: u64,
    pub(crate) expiries: BinaryHeap<std::cmp::Reverse<(UnixTime, Ipv4Addr)>>,
    next_prune: Option<SystemTime>,
    events: VecDeque<Event>,
    drops: DropCounts,
    next_summary: Option<SystemTime>,
}

/// An ACK waiting for its lease record to be durable, and when that record
/// ends: once it has, the ACK is never sent (the address may already be
/// another client's), however late the batch is written.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) transmit: Transmit,
    until: Option<UnixTime>,
    /// Index in its batch's records of the record the ACK depends on.
    pub(crate) record: Option<usize>,
    /// The reply's log line (`DHCPACK on …`), logged when the ACK leaves: a
    /// line for an ACK that is never sent would mislead whoever reads the log.
    pub(crate) line: Option<String>,
}

/// `now + d`, or `now` where a `SystemTime` cannot hold the sum.
fn later(now: SystemTime, d: Duration) -> SystemTime {
    now.checked_add(d).unwrap_or(now)
}

/// The expiry timer of a record: bound leases and offers to new clients (they
/// count toward a cap until they end), with a finite end only.
pub(crate) fn timer(l: &Lease) -> Option<std::cmp::Reverse<(UnixTime, Ipv4Addr)>> {
    let offer = l.state == LeaseState::Offered && l.tenure == crate::lease::Tenure::Fresh;
    if l.state != LeaseState::Bound && !offer {
        return None;
    }
    let t = l.expires.unix()?;
    l.expires.deadline()?;
    Some(std::cmp::Reverse((t, l.addr)))
}

/// Unix seconds of `t`.
pub fn unix(t: SystemTime) -> UnixTime {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Server {
    /// A server with no leases.
    pub fn new(config: ServerConfig) -> Self {
        let limiter = RateLimiter::new(config.rate_limit);
        let mut leases = LeaseTable::new();
        leases.set_subnets(&config.subnets);
        leases.set_scan_offset(config.scan_offset);
        Self {
            config,
            leases,
            limiter,
            stats: Stats::default(),
            transmits: VecDeque::new(),
            pending: Vec::new(),
            held: Vec::new(),
            in_flight: HashMap::new(),
            flying: HashMap::new(),
            failing: false,
            next_batch: 0,
            expiries: BinaryHeap::new(),
            next_prune: None,
            events: VecDeque::new(),
            drops: DropCounts::default(),
            next_summary: None,
        }
    }

    /// Loads leases read back from the store (later records win). Any expiry,
    /// `Never` or far in the future included, is safe here and in the timers.
    pub fn restore(&mut self, leases: impl IntoIterator<Item = Lease>) {
        for l in leases {
            if let Some(t) = timer(&l) {
                self.expiries.push(t);
            }
            self.leases.put(l);
        }
        self.rebuild_timers_if_stale();
    }

    /// Replaces the configuration (SIGHUP), keeping leases.
    pub fn reconfigure(&mut self, config: ServerConfig) {
        self.limiter = RateLimiter::new(config.rate_limit);
        self.leases.set_subnets(&config.subnets);
        self.leases.set_scan_offset(config.scan_offset);
        self.config = config;
    }

    /// Sets the expiry timer of a record that is not written to disk (an offer).
    pub(crate) fn schedule(&mut self, l: &Lease) {
        if let Some(t) = timer(l) {
            self.expiries.push(t);
        }
    }

    fn rebuild_timers_if_stale(&mut self) {
        if self.expiries.len() > 2 * self.leases.len() + 1024 {
            // Renewals leave stale entries behind: rebuild from the table (bounded memory).
            self.expiries = self.leases.iter().filter_map(timer).collect();
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The lease table.
    pub fn leases(&self) -> &LeaseTable {
        &self.leases
    }

    /// Pending expiry timers (for tests of bounded memory).
    pub fn timer_count(&self) -> usize {
        self.expiries.len()
    }

    /// Handles one datagram. Then call [`poll_transmit`](Self::poll_transmit),
    /// [`poll_commit`](Self::poll_commit) and [`poll_timeout`](Self::poll_timeout).
    pub fn handle(&mut self, now: SystemTime, d: &Datagram<'_>) {
        self.stats.received += 1;
        if self.next_prune.is_none() {
            self.next_prune = Some(later(now, Duration::from_secs(60)));
        }
        let ex = self.process(now, d);
        // The reply line of an ACK held for its lease record: logged when it leaves.
        let mut deferred = None;
        match ex.dropped {
            Some(why) => {
                let c = &mut self.drops;
                match why {
                    Dropped::Malformed => c.malformed += 1,
                    Dropped::ClientRate => c.client_rate += 1,
                    Dropped::TotalRate => c.total_rate += 1,
                    Dropped::Capped => c.capped += 1,
                    Dropped::Bootp => c.no_bootp += 1,
                }
                if self.next_summary.is_none() {
                    self.next_summary = Some(later(now, DROP_SUMMARY_EVERY));
                }
                for line in crate::logtext::isc_lines(&ex, d.interface) {
                    self.log(Level::Debug, line);
                }
            }
            None => {
                let mut lines = crate::logtext::isc_lines(&ex, d.interface);
                if ex.reply.as_ref().is_some_and(|r| r.durable) && lines.len() > 1 {
                    deferred = lines.pop();
                }
                for line in lines {
                    self.log(Level::Info, line);
                }
            }
        }
        // The whole decision (xid, client key, class, reply, file) for -v.
        self.log(Level::Debug, ex.log_line());
        self.stats.silent += u64::from(ex.reply.is_none());
        for r in &ex.records {
            if let Some(t) = timer(r) {
                self.expiries.push(t);
            }
        }
        self.rebuild_timers_if_stale();
        // The end of the record the reply's address depends on: `handle_timeout`
        // drops the ACK if it is still held then (see `poll_timeout`).
        let record = ex.reply.as_ref().and_then(|out| {
            let mut records = ex.records.iter().enumerate().rev();
            records.find(|(_, r)| r.addr == out.message.yiaddr)
        });
        let until = record.and_then(|(_, r)| r.expires.unix());
        let record = record.map(|(i, _)| self.pending.len() + i);
        self.pending.extend(ex.records);
        if let Some(out) = ex.reply {
            self.stats.replies += 1;
            match out.message.message_type() {
                Some(dhcp_pxe::wire::message::MessageType::Offer) => self.stats.offers += 1,
                Some(dhcp_pxe::wire::message::MessageType::Ack) => self.stats.acks += 1,
                Some(_) => {}
                None => self.stats.bootreplies += 1,
            }
            self.stats.naks += u64::from(out.nak);
            let t = Transmit {
                ifindex: d.ifindex,
                from: out.server_id,
                src_port: d.local_port,
                to: out.destination,
                payload: out.bytes,
            };
            if out.durable {
                self.held.push(Held {
                    transmit: t,
                    until,
                    record,
                    line: deferred,
                });
            } else {
                self.transmits.push_back(t);
            }
        }
    }

    /// Processes a datagram without sending or committing anything: what `handle`
    /// would do, for `explain`. The lease table does change (an OFFER holds an address).
    pub fn explain(&mut self, now: SystemTime, d: &Datagram<'_>) -> Exchange {
        self.process(now, d)
    }

    /// The next reply ready to leave. Call until `None` after every `handle`,
    /// `handle_committed` and `handle_timeout`.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmits.pop_front()
    }

    /// Lease records waiting to be made durable, with the ACKs that depend on them.
    /// The driver writes and syncs them and then calls
    /// [`handle_committed`](Self::handle_committed); records handled meanwhile go
    /// into the next batch (group commit). `None` when nothing waits, or when
    /// an address waiting is also in a batch still in flight (a driver writing
    /// several batches at once): records of one address are written in order.
    pub fn poll_commit(&mut self) -> Option<CommitBatch> {
        if self.pending.is_empty() && self.held.is_empty() {
            return None;
        }
        if !self.flying.is_empty() {
            let flying: std::collections::HashSet<Ipv4Addr> =
                self.flying.values().flatten().copied().collect();
            if self.pending.iter().any(|l| flying.contains(&l.addr)) {
                return None;
            }
        }
        let id = self.next_batch;
        self.next_batch += 1;
        self.stats.commit_batches += 1;
        self.stats.committed_records += self.pending.len() as u64;
        self.in_flight.insert(id, std::mem::take(&mut self.held));
        self.flying
            .insert(id, self.pending.iter().map(|l| l.addr).collect());
        Some(CommitBatch {
            id,
            records: std::mem::take(&mut self.pending),
        })
    }

    /// Batch `id` is on disk: its ACKs may leave. (A shared store answers
    /// record by record: [`handle_verdicts`](Self::handle_verdicts).)
    pub fn handle_committed(&mut self, id: u64) {
        self.failing = false;
        self.flying.remove(&id);
        if let Some(ts) = self.in_flight.remove(&id) {
            for h in ts {
                self.release(h);
            }
        }
    }

    /// An ACK whose record is durable: queued, and its line logged.
    pub(crate) fn release(&mut self, h: Held) {
        if let Some(line) = h.line {
            self.log(Level::Info, line);
        }
        self.transmits.push_back(h.transmit);
    }

    /// Batch `id` could not be written: its ACKs are never sent (the clients retry).
    pub fn handle_commit_failed(&mut self, id: u64) {
        self.flying.remove(&id);
        if let Some(ts) = self.in_flight.remove(&id) {
            self.stats.commit_failures += ts.len() as u64;
            // Logged once per run of failures (a lost database fails every batch).
            if !self.failing {
                self.log(
                    Level::Info,
                    format!(
                        "lease write failed: {} ACKs not sent (and none until a write succeeds)",
                        ts.len()
                    ),
                );
            }
            self.failing = true;
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<SystemTime> {
        // Only timers a `SystemTime` can hold are ever queued (see `timer`).
        let exp = self
            .expiries
            .peek()
            .and_then(|std::cmp::Reverse((t, _))| crate::lease::Expiry::At(*t).deadline());
        // The first end of a lease record an ACK still waits for.
        let acks = std::iter::once(&self.held).chain(self.in_flight.values());
        let held = acks
            .flatten()
            .filter_map(|h| crate::lease::Expiry::At(h.until?).deadline())
            .min();
        [exp, held, self.next_prune, self.next_summary]
            .into_iter()
            .flatten()
            .min()
    }

    /// Expires leases (and drops the ACKs still waiting for a record that has
    /// ended), forgets idle rate-limit buckets and logs the summary of dropped
    /// datagrams.
    pub fn handle_timeout(&mut self, now: SystemTime) {
        let secs = unix(now);
        let mut stale = 0;
        for acks in std::iter::once(&mut self.held).chain(self.in_flight.values_mut()) {
            let before = acks.len();
            acks.retain(|h| h.until.is_none_or(|u| u > secs));
            stale += before - acks.len();
        }
        if stale > 0 {
            self.stats.commit_failures += stale as u64;
            self.log(
                Level::Info,
                format!("lease ended before its write completed: {stale} ACKs not sent"),
            );
        }
        while let Some(std::cmp::Reverse((t, addr))) = self.expiries.peek().copied() {
            if t > secs {
                break;
            }
            self.expiries.pop();
            let Some(l) = self.leases.get(addr) else {
                continue;
            };
            if l.expires.unix() == Some(t) {
                let line = (l.state == LeaseState::Bound)
                    .then(|| format!("EXPIRE {addr} client {}", l.client));
                self.leases.expired(addr, t);
                if let Some(line) = line {
                    self.log(Level::Info, line);
                }
            }
        }
        if self.next_prune.is_none_or(|p| p <= now) {
            self.limiter.prune(now);
            self.next_prune = Some(later(now, Duration::from_secs(60)));
        }
        if self.next_summary.is_some_and(|t| t <= now) {
            self.next_summary = None;
            let c = std::mem::take(&mut self.drops);
            if c != DropCounts::default() {
                self.log(
                    Level::Info,
                    format!(
                        "dropped in the last {} s: {} malformed, {} over a client's rate limit, \
                         {} over the total rate limit, {} over a lease cap, {} BOOTP not served here \
                         (each at debug level)",
                        DROP_SUMMARY_EVERY.as_secs(),
                        c.malformed,
                        c.client_rate,
                        c.total_rate,
                        c.capped,
                        c.no_bootp
                    ),
                );
            }
        }
    }

    /// The next log event (one per exchange, plus expiries and drop summaries).
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Batch `id` is no longer in flight (its addresses may go into a new one).
    pub(crate) fn landed(&mut self, id: u64) {
        self.flying.remove(&id);
    }

    pub(crate) fn log(&mut self, level: Level, text: String) {
        if self.events.len() >= self.config.max_events {
            self.stats.events_dropped += 1;
            return;
        }
        self.events.push_back(Event { level, text });
    }
}
