//! The file cache of a [`super::DirectoryRoot`]: one shared, owned copy of
//! each served file version, so any number of transfers of a file hold one
//! buffer between them.
//!
//! - **Key**: device, inode, size, modification and change times in
//!   nanoseconds ([`Version`]). A file that changes in any way is a new
//!   entry; the old entry stays valid for the transfers that hold it and is
//!   dropped once they end.
//! - **Pinning**: an entry is in use while any `Bytes` handed out for it is
//!   alive (a transfer holds one); in-use entries count against the cap but
//!   are never evicted or changed.
//! - **Cap**: the total size of the entries. To make room for a new file the
//!   least recently used entries not in use are evicted; if that is not
//!   enough (or the file alone is larger than the cap) the file is not
//!   cached and the caller streams it instead.
//! - **Single flight**: concurrent first requests for the same version wait
//!   for one read of the file instead of reading it each.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use bytes::Bytes;

use super::stream::Version;

/// The cap a [`super::DirectoryConfig`] starts with: 512 MiB.
pub const DEFAULT_CACHE_SIZE: u64 = 512 << 20;

/// One file version's bytes; `Bytes` handed out own an `Arc` of it, so the
/// `Arc`'s count says whether a transfer still uses it.
#[derive(Debug)]
struct Buffer(Vec<u8>);

struct Owner(Arc<Buffer>);

impl AsRef<[u8]> for Owner {
    fn as_ref(&self) -> &[u8] {
        &self.0 .0
    }
}

fn share(buffer: &Arc<Buffer>) -> Bytes {
    Bytes::from_owner(Owner(buffer.clone()))
}

/// What a failed read left for the requests that waited for it.
type Failure = (io::ErrorKind, String);

#[derive(Debug, Default)]
struct Flight {
    done: Mutex<Option<Result<Arc<Buffer>, Failure>>>,
    ready: Condvar,
}

impl Flight {
    fn complete(&self, result: Result<Arc<Buffer>, Failure>) {
        *lock(&self.done) = Some(result);
        self.ready.notify_all();
    }

    fn wait(&self) -> io::Result<Bytes> {
        let mut done = lock(&self.done);
        loop {
            match &*done {
                Some(Ok(buffer)) => return Ok(share(buffer)),
                Some(Err((kind, message))) => return Err(rebuild(*kind, message)),
                None => {
                    done = self
                        .ready
                        .wait(done)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

fn rebuild(kind: io::ErrorKind, message: &str) -> io::Error {
    if message == super::stream::FileChanged.to_string() {
        super::stream::changed()
    } else {
        io::Error::new(kind, message.to_owned())
    }
}

#[derive(Debug)]
enum Slot {
    Loading(Arc<Flight>),
    Ready {
        buffer: Arc<Buffer>,
        last_used: u64,
        /// Another version of the same file (device and inode) was seen
        /// since: dropped as soon as no transfer uses it.
        stale: bool,
    },
}

impl Slot {
    fn in_use(&self) -> bool {
        match self {
            Self::Loading(_) => true,
            Self::Ready { buffer, .. } => Arc::strong_count(buffer) > 1,
        }
    }
}

#[derive(Debug, Default)]
struct State {
    slots: HashMap<Version, Slot>,
    /// Bytes of all slots, loading ones included.
    used: u64,
    clock: u64,
}

impl State {
    fn remove(&mut self, version: &Version) {
        if self.slots.remove(version).is_some() {
            self.used -= version.size;
        }
    }

    /// Marks other versions of the same file stale; drops every stale entry
    /// no transfer uses.
    fn retire(&mut self, current: &Version) {
        for (v, slot) in &mut self.slots {
            if let Slot::Ready { stale, .. } = slot {
                if (v.dev, v.ino) == (current.dev, current.ino) && v != current {
                    *stale = true;
                }
            }
        }
        let dead: Vec<Version> = self
            .slots
            .iter()
            .filter(|(_, s)| matches!(s, Slot::Ready { stale: true, .. }) && !s.in_use())
            .map(|(v, _)| *v)
            .collect();
        for v in dead {
            self.remove(&v);
        }
    }

    /// Evicts unused entries, least recently used first, until `size` more
    /// bytes fit under `limit`. False if they cannot.
    fn make_room(&mut self, size: u64, limit: u64) -> bool {
        while self.used + size > limit {
            let victim = self
                .slots
                .iter()
                .filter(|(_, s)| !s.in_use())
                .filter_map(|(v, s)| match s {
                    Slot::Ready { last_used, .. } => Some((*last_used, *v)),
                    Slot::Loading(_) => None,
                })
                .min_by_key(|(last_used, _)| *last_used);
            match victim {
                Some((_, v)) => self.remove(&v),
                None => return false,
            }
        }
        true
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Counters for tests.
#[cfg(test)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Usage {
    /// Entries (loading ones included).
    pub(super) entries: usize,
    /// Their total size in bytes.
    pub(super) bytes: u64,
}

/// See the module docs.
#[derive(Debug)]
pub(super) struct FileCache {
    limit: u64,
    state: Mutex<State>,
}

impl FileCache {
    pub(super) fn new(limit: u64) -> Self {
        Self {
            limit,
            state: Mutex::default(),
        }
    }

    #[cfg(test)]
    pub(super) fn usage(&self) -> Usage {
        let st = lock(&self.state);
        Usage {
            entries: st.slots.len(),
            bytes: st.used,
        }
    }

    /// The shared bytes of `version`, reading them with `load` if no other
    /// request has (or is doing so now). `Ok(None)`: the file does not fit
    /// in the cache; stream it. `load` must return exactly `version.size`
    /// bytes of that version, or fail.
    pub(super) fn get(
        &self,
        version: Version,
        load: impl FnOnce() -> io::Result<Vec<u8>>,
    ) -> io::Result<Option<Bytes>> {
        let flight = {
            let mut st = lock(&self.state);
            st.clock += 1;
            let now = st.clock;
            match st.slots.get_mut(&version) {
                Some(Slot::Ready {
                    buffer, last_used, ..
                }) => {
                    *last_used = now;
                    return Ok(Some(share(buffer)));
                }
                Some(Slot::Loading(flight)) => {
                    let flight = flight.clone();
                    drop(st);
                    return flight.wait().map(Some);
                }
                None => {}
            }
            st.retire(&version);
            if version.size > self.limit || !st.make_room(version.size, self.limit) {
                return Ok(None);
            }
            let flight = Arc::new(Flight::default());
            st.used += version.size;
            st.slots.insert(version, Slot::Loading(flight.clone()));
            flight
        };
        let mut guard = LoadGuard {
            cache: self,
            version,
            flight,
            done: false,
        };
        let loaded = load();
        guard.finish(loaded).map(Some)
    }
}

/// Completes a flight even if `load` panics, so waiters never hang.
struct LoadGuard<'a> {
    cache: &'a FileCache,
    version: Version,
    flight: Arc<Flight>,
    done: bool,
}

impl LoadGuard<'_> {
    fn finish(&mut self, loaded: io::Result<Vec<u8>>) -> io::Result<Bytes> {
        self.done = true;
        let mut st = lock(&self.cache.state);
        match loaded {
            Ok(data) if data.len() as u64 == self.version.size => {
                let buffer = Arc::new(Buffer(data));
                let now = st.clock;
                st.slots.insert(
                    self.version,
                    Slot::Ready {
                        buffer: buffer.clone(),
                        last_used: now,
                        stale: false,
                    },
                );
                drop(st);
                self.flight.complete(Ok(buffer.clone()));
                Ok(share(&buffer))
            }
            other => {
                st.remove(&self.version);
                drop(st);
                let err = other.err().unwrap_or_else(super::stream::changed);
                self.flight.complete(Err((err.kind(), err.to_string())));
                Err(err)
            }
        }
    }
}

impl Drop for LoadGuard<'_> {
    fn drop(&mut self) {
        if !self.done {
            lock(&self.cache.state).remove(&self.version);
            self.flight
                .complete(Err((io::ErrorKind::Other, "file read failed".to_owned())));
        }
    }
}

#[cfg(test)]
#[path = "cache_tests.rs"]
mod tests;
