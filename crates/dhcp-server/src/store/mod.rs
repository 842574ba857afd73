//! Where leases live between restarts: the [`LeaseStore`] trait, the default
//! [`LeaseJournal`] file and an in-memory store.

pub mod format;
mod journal;
mod snapshot;

pub use format::{replay, Damage, Replay, MAGIC};
pub use journal::LeaseJournal;
pub use snapshot::JournalSnapshot;

use crate::error::Error;
use crate::lease::Lease;

/// Durable lease storage. [`append`](LeaseStore::append) returns only once the
/// records survive a crash (the driver releases ACKs after it).
pub trait LeaseStore: Send {
    /// Makes `records` durable, in order.
    fn append(&mut self, records: &[Lease]) -> Result<(), Error>;

    /// Whether a [`compact`](LeaseStore::compact) would pay off given `live` current leases.
    fn wants_compaction(&self, live: usize) -> bool;

    /// Rewrites the store to hold exactly `live`, atomically.
    fn compact(&mut self, live: &[Lease]) -> Result<(), Error>;
}

/// A store that keeps nothing (proxy mode, tests).
#[derive(Debug, Default)]
pub struct MemoryStore {
    /// Every record appended.
    pub records: Vec<Lease>,
}

impl LeaseStore for MemoryStore {
    fn append(&mut self, records: &[Lease]) -> Result<(), Error> {
        self.records.extend_from_slice(records);
        Ok(())
    }

    fn wants_compaction(&self, live: usize) -> bool {
        self.records.len() > 2 * live + 1024
    }

    fn compact(&mut self, live: &[Lease]) -> Result<(), Error> {
        self.records = live.to_vec();
        Ok(())
    }
}
