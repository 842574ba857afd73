//! Where leases live between restarts: the [`LeaseStore`] trait, the default
//! [`LeaseJournal`] file, the shared [`PgLeaseStore`] (several servers on one
//! PostgreSQL database) and an in-memory store.

pub mod format;
pub(crate) mod journal;
mod postgres;
mod postgres_schema;
mod snapshot;

pub use format::{replay, Damage, Replay, MAGIC};
pub use journal::LeaseJournal;
pub use postgres::{PgLeaseStore, PgOptions};
pub use postgres_schema::{SCHEMA_SQL, SCHEMA_VERSION};
pub use snapshot::JournalSnapshot;

use crate::error::Error;
use crate::lease::Lease;

/// What the store made of one record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The record is durable.
    Stored,
    /// Another server holds the address: the record was not written. Carries the
    /// holder's record as the store has it (the core learns it).
    Refused(Lease),
}

/// Durable lease storage. [`commit`](LeaseStore::commit) returns only once the
/// records it accepted survive a crash (the driver releases ACKs after it).
pub trait LeaseStore: Send {
    /// Makes `records` durable, in order.
    fn append(&mut self, records: &[Lease]) -> Result<(), Error>;

    /// Makes `records` durable, in order, each one only if its address is free,
    /// expired or already its client's in the store: one [`Verdict`] per record.
    /// A store with a single writer (the journal) accepts every record: the
    /// in-memory table has already decided.
    fn commit(&mut self, records: &[Lease]) -> Result<Vec<Verdict>, Error> {
        self.append(records)?;
        Ok(vec![Verdict::Stored; records.len()])
    }

    /// Records other servers wrote since the last call (shared stores), to keep
    /// their addresses out of offers. Empty for a store with one writer.
    fn changes(&mut self) -> Result<Vec<Lease>, Error> {
        Ok(Vec::new())
    }

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
