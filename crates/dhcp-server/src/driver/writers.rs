//! The lease writer threads: one per store connection (the journal has one, a
//! PostgreSQL store `pool_size`), each doing one job at a time off the tokio
//! thread; the driver hands jobs to idle ones and collects what they did.

use std::sync::mpsc as std_mpsc;
use std::thread::JoinHandle;

use tokio::sync::mpsc;

use crate::error::Error;
use crate::lease::Lease;
use crate::server::CommitBatch;
use crate::store::{LeaseStore, Verdict};

/// Work for a writer.
pub(super) enum Job {
    /// Commit a batch; the number of live leases decides on compaction.
    Append(CommitBatch, usize),
    /// Rewrite the store to hold these.
    Compact(Vec<Lease>),
    /// Read the rows other servers wrote.
    Refresh,
}

/// What a writer did.
pub(super) enum Done {
    Committed {
        id: u64,
        verdicts: Vec<Verdict>,
        compact: bool,
    },
    Failed {
        id: u64,
        error: Error,
    },
    Learned(Result<Vec<Lease>, Error>),
    Compacted(Result<(), Error>),
}

/// The writer threads and which of them are busy.
pub(super) struct Writers {
    jobs: Vec<std_mpsc::Sender<Job>>,
    busy: Vec<bool>,
    threads: Vec<JoinHandle<()>>,
    /// Results, with the index of the writer that did the job.
    pub(super) done: mpsc::UnboundedReceiver<(usize, Done)>,
}

impl Writers {
    /// One thread per store.
    pub(super) fn start(stores: Vec<Box<dyn LeaseStore>>) -> Result<Self, Error> {
        let (done_tx, done) = mpsc::unbounded_channel();
        let mut w = Self {
            jobs: Vec::new(),
            busy: Vec::new(),
            threads: Vec::new(),
            done,
        };
        for (i, store) in stores.into_iter().enumerate() {
            let (tx, rx) = std_mpsc::channel();
            let done_tx = done_tx.clone();
            let t = std::thread::Builder::new()
                .name(format!("lease-writer-{i}"))
                .spawn(move || work(i, store, &rx, &done_tx))
                .map_err(|e| Error::io("starting a lease writer thread", e))?;
            w.jobs.push(tx);
            w.busy.push(false);
            w.threads.push(t);
        }
        if w.jobs.is_empty() {
            return Err(Error::Config("no lease store".into()));
        }
        Ok(w)
    }

    /// An idle writer.
    pub(super) fn idle(&self) -> Option<usize> {
        self.busy.iter().position(|b| !b)
    }

    /// Whether any writer is at work.
    pub(super) fn any_busy(&self) -> bool {
        self.busy.iter().any(|b| *b)
    }

    /// Hands `job` to writer `w`; false when that thread has gone.
    pub(super) fn send(&mut self, w: usize, job: Job) -> bool {
        let ok = self.jobs[w].send(job).is_ok();
        self.busy[w] = ok;
        ok
    }

    /// Writer `w` has reported its job.
    pub(super) fn finished(&mut self, w: usize) {
        if let Some(b) = self.busy.get_mut(w) {
            *b = false;
        }
    }

    /// Closes the job queues and waits for the threads.
    pub(super) fn stop(self) {
        drop(self.jobs);
        for t in self.threads {
            let _ = t.join();
        }
    }
}

fn work(
    i: usize,
    mut store: Box<dyn LeaseStore>,
    jobs: &std_mpsc::Receiver<Job>,
    done: &mpsc::UnboundedSender<(usize, Done)>,
) {
    while let Ok(job) = jobs.recv() {
        let msg = match job {
            Job::Append(b, live) => match store.commit(&b.records) {
                Ok(verdicts) => Done::Committed {
                    id: b.id,
                    verdicts,
                    compact: store.wants_compaction(live),
                },
                Err(error) => Done::Failed { id: b.id, error },
            },
            Job::Compact(live) => Done::Compacted(store.compact(&live)),
            Job::Refresh => Done::Learned(store.changes()),
        };
        if done.send((i, msg)).is_err() {
            return;
        }
    }
}
