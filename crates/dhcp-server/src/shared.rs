//! A lease store shared with other servers: verdicts per record and rows other
//! servers wrote.
//!
//! ```text
//!   driver                                      Server
//!   store.commit ◀──── poll_commit() ────────── records + the ACKs waiting on them
//!                ───── handle_verdicts(id, v) ─▶ Stored: the ACK leaves;
//!                                               Refused(holder): the ACK is dropped
//!                                               (the client retries and is NAKed),
//!                                               the table learns the holder
//!   store.changes ──── learn(rows) ───────────▶ other servers' leases, so their
//!                                               addresses stay out of offers
//! ```
//!
//! Offers stay optimistic (never written); an ACK leaves only for a record the
//! database accepted.

use std::collections::HashSet;

use crate::lease::Lease;
use crate::server::{timer, Level, Server};
use crate::store::Verdict;

impl Server {
    /// The store's verdicts on batch `id`, one per record in order: the ACKs of
    /// stored records leave; those of refused ones never do, and the table takes
    /// the holder's record. A verdict list shorter than the batch counts the rest
    /// as stored (a store that answers for the whole batch at once).
    pub fn handle_verdicts(&mut self, id: u64, verdicts: &[Verdict]) {
        self.landed(id);
        let Some(acks) = self.in_flight.remove(&id) else {
            return;
        };
        self.failing = false;
        let mut refused = HashSet::new();
        for (i, v) in verdicts.iter().enumerate() {
            let Verdict::Refused(holder) = v else {
                continue;
            };
            refused.insert(i);
            self.stats.refused += 1;
            self.log(
                Level::Info,
                format!(
                    "REFUSED {}: held by another server for client {} until {}; no ACK",
                    holder.addr, holder.client, holder.expires
                ),
            );
            if !self.pending.iter().any(|p| p.addr == holder.addr) {
                self.take(holder.clone());
            }
        }
        for h in acks {
            if h.record.is_some_and(|r| refused.contains(&r)) {
                continue;
            }
            self.release(h);
        }
    }

    /// Records read from a shared store (other servers' writes, and ours). Call
    /// only while no batch is in flight: a record still waiting to be written
    /// here is newer than the store's, and is kept.
    pub fn learn(&mut self, leases: impl IntoIterator<Item = Lease>) {
        let waiting: HashSet<_> = self.pending.iter().map(|l| l.addr).collect();
        for l in leases {
            if waiting.contains(&l.addr) || self.leases.get(l.addr) == Some(&l) {
                continue;
            }
            self.take(l);
        }
    }

    fn take(&mut self, l: Lease) {
        if let Some(t) = timer(&l) {
            self.expiries.push(t);
        }
        self.leases.put(l);
    }
}
