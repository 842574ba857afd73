//! What the server counts ([`Stats`], kept as events happen) and what it
//! holds ([`LeaseCounts`], counted when asked): read by the daemon's
//! statistics line and metrics endpoint.

use std::time::SystemTime;

use crate::lease::LeaseState;
use crate::server::{unix, Server};

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Datagrams handled.
    pub received: u64,
    /// Datagrams that are not DHCP messages, or DHCP messages with a malformed
    /// option 53 (e.g. twice), dropped.
    pub malformed: u64,
    /// Requests over a client's rate limit (dropped).
    pub rate_limited: u64,
    /// Requests over the total rate limit (dropped).
    pub total_rate_limited: u64,
    /// Requests refused because a lease cap (fresh or BOOTP leases) was reached.
    pub capped: u64,
    /// BOOTP requests answered with an address.
    pub bootp: u64,
    /// BOOTP requests where the subnet serves no BOOTP (dropped).
    pub bootp_not_served: u64,
    /// Replies queued.
    pub replies: u64,
    /// OFFERs among them (proxy OFFERs included).
    pub offers: u64,
    /// ACKs among them (to REQUEST and INFORM, port-4011 ACKs included).
    pub acks: u64,
    /// NAKs among them.
    pub naks: u64,
    /// BOOTREPLYs among them (answers to BOOTP clients).
    pub bootreplies: u64,
    /// Requests answered with silence (not for us, no address, not PXE…).
    pub silent: u64,
    /// ACKs dropped because their lease could not be written, or was written
    /// only after it had ended.
    pub commit_failures: u64,
    /// Batches handed out by `poll_commit` (one fsync each in the driver).
    pub commit_batches: u64,
    /// Lease records in those batches.
    pub committed_records: u64,
    /// Log events dropped because the driver did not collect them.
    pub events_dropped: u64,
    /// Lease records a shared store refused (another server holds the address);
    /// their ACKs are not sent.
    pub refused: u64,
}

/// Lease records by state ([`Server::lease_counts`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LeaseCounts {
    /// Offered, not yet requested.
    pub offered: u64,
    /// Bound and not past their end.
    pub bound: u64,
    /// Bound, past their end, not reused yet.
    pub expired: u64,
    /// Given back (DHCPRELEASE).
    pub released: u64,
    /// Quarantined after a DHCPDECLINE.
    pub declined: u64,
}

impl Server {
    /// Counters.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// The lease records by state at `now` (a bound lease past its end counts
    /// as expired until it is reused).
    pub fn lease_counts(&self, now: SystemTime) -> LeaseCounts {
        let now = unix(now);
        let mut c = LeaseCounts::default();
        for l in self.leases.iter() {
            let n = match l.state {
                LeaseState::Offered => &mut c.offered,
                LeaseState::Bound if l.expires.unix().is_some_and(|t| t <= now) => &mut c.expired,
                LeaseState::Bound => &mut c.bound,
                LeaseState::Released => &mut c.released,
                LeaseState::Declined => &mut c.declined,
            };
            *n += 1;
        }
        c
    }
}
