//! The lease journal file: an append-only file of checksummed, numbered group
//! commits ([`super::format`] has the bytes and the recovery rules).
//!
//! - A new journal is written whole (header, sync) under a temporary name and
//!   renamed into place, so an empty or half-headed file is never one of ours.
//! - A torn tail (the last group's write cut short by a crash; it was never
//!   acknowledged) is copied to `PATH.torn-OFFSET` and cut off, with a warning.
//! - Any other damage stops the start-up with the file and the offset; the file
//!   is never truncated or rewritten then.
//! - An older journal (version 1 or 2) is read, kept as `PATH.vN` (synced), and
//!   rewritten as the current version the way a new one is written (under a
//!   temporary name, renamed into place): a crash at any point leaves either the
//!   old file or the whole new one at `PATH`, and a leftover `PATH.new` is never read.
//! - An append that fails is cut off again, so that a later one never lands
//!   behind half a group.

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use super::format::{encode_group, header, replay, Damage, HEADER_LEN, VERSION};
use super::LeaseStore;
use crate::error::Error;
use crate::lease::{Lease, LeaseState};

/// An open lease journal.
#[derive(Debug)]
pub struct LeaseJournal {
    path: PathBuf,
    file: File,
    records: usize,
    /// Length of the file up to the end of the last durable group.
    len: u64,
    next_seq: u64,
}

/// `path` with `suffix` appended to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name: OsString = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

/// Writes `bytes` to a temporary sibling, syncs it and renames it over `path`.
pub(crate) fn write_whole(path: &Path, bytes: &[u8], what: &str) -> Result<(), Error> {
    let tmp = sibling(path, ".new");
    let err = |e| Error::io(format!("{what} {}", path.display()), e);
    let mut f = File::create(&tmp).map_err(err)?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(err)?;
    std::fs::rename(&tmp, path).map_err(err)?;
    sync_dir(path)
}

impl LeaseJournal {
    /// Opens (or creates) the journal at `path` and reads every record back.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, Vec<Lease>), Error> {
        let path = path.as_ref().to_path_buf();
        let data = match File::open(&path) {
            Ok(mut f) => {
                let mut data = Vec::new();
                f.read_to_end(&mut data)
                    .map_err(|e| Error::io(format!("reading lease file {}", path.display()), e))?;
                data
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_whole(&path, &header(), "creating lease file")?;
                return Ok((Self::append_to(path, HEADER_LEN as u64, 1, 0)?, Vec::new()));
            }
            Err(e) => {
                return Err(Error::io(
                    format!("opening lease file {}", path.display()),
                    e,
                ))
            }
        };
        let r = replay(&data).map_err(|d| match d {
            Damage::Foreign => Error::ForeignJournal { path: path.clone() },
            Damage::Corrupt { offset, reason } => Error::CorruptJournal {
                path: path.clone(),
                offset,
                reason,
            },
        })?;
        if r.version < VERSION {
            // Keep the old file beside, then write its leases in the current version.
            let old = sibling(&path, &format!(".v{}", r.version));
            std::fs::copy(&path, &old)
                .and_then(|_| File::open(&old)?.sync_all())
                .map_err(|e| {
                    Error::io(
                        format!("keeping {} as {}", path.display(), old.display()),
                        e,
                    )
                })?;
            // A version 1 record may claim an offer, which no later version holds.
            let leases: Vec<Lease> = r
                .leases
                .into_iter()
                .filter(|l| l.state != LeaseState::Offered)
                .collect();
            let mut bytes = header();
            encode_group(1, &leases, &mut bytes);
            write_whole(&path, &bytes, "upgrading lease file")?;
            tracing::info!(
                path = %path.display(),
                old = %old.display(),
                records = leases.len(),
                "lease journal upgraded from version {} to {VERSION}",
                r.version
            );
            let len = bytes.len() as u64;
            let n = leases.len();
            return Ok((Self::append_to(path, len, 2, n)?, leases));
        }
        if let Some(why) = r.torn {
            let keep = sibling(&path, &format!(".torn-{}", r.good_end));
            let tail = &data[r.good_end..];
            tracing::warn!(
                path = %path.display(),
                offset = r.good_end,
                bytes = tail.len(),
                kept = %keep.display(),
                "cutting off a torn last group ({why}): a crash interrupted its write, \
                 so none of its leases was acknowledged"
            );
            std::fs::write(&keep, tail).map_err(|e| {
                Error::io(format!("keeping the torn tail in {}", keep.display()), e)
            })?;
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| {
                    f.set_len(r.good_end as u64)?;
                    f.sync_all()
                })
                .map_err(|e| Error::io(format!("truncating lease file {}", path.display()), e))?;
        }
        let n = r.leases.len();
        Ok((
            Self::append_to(path, r.good_end as u64, r.next_seq, n)?,
            r.leases,
        ))
    }

    fn append_to(path: PathBuf, len: u64, next_seq: u64, records: usize) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening lease file {}", path.display()), e))?;
        Ok(Self {
            path,
            file,
            records,
            len,
            next_seq,
        })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

pub(crate) fn sync_dir(path: &Path) -> Result<(), Error> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(format!("syncing directory {}", dir.display()), e))
}

impl LeaseStore for LeaseJournal {
    fn append(&mut self, records: &[Lease]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(records.len() * 32 + 20);
        encode_group(self.next_seq, records, &mut buf);
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Nothing of this group was acknowledged: cut it off, so that the next
            // group follows the last good one (best effort; replay would take a
            // leftover at the end for a torn tail).
            let _ = self.file.set_len(self.len);
            return Err(Error::io(
                format!("appending to lease file {}", self.path.display()),
                e,
            ));
        }
        self.len += buf.len() as u64;
        self.next_seq += 1;
        self.records += records.len();
        Ok(())
    }

    fn wants_compaction(&self, live: usize) -> bool {
        self.records > 2 * live + 4096
    }

    fn compact(&mut self, live: &[Lease]) -> Result<(), Error> {
        let keep: Vec<Lease> = live
            .iter()
            .filter(|l| l.state != LeaseState::Offered)
            .cloned()
            .collect();
        let mut buf = header();
        encode_group(1, &keep, &mut buf);
        write_whole(&self.path, &buf, "compacting lease file")?;
        let fresh = Self::append_to(self.path.clone(), buf.len() as u64, 2, keep.len())?;
        *self = fresh;
        Ok(())
    }
}
