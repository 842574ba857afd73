//! The DHCPv6 lease file: the bindings of full mode, appended as records and
//! synced before the REPLY that grants them leaves, read back at start.
//!
//! ```text
//! header   "DHCPDPXE-LEASE6\n" (16 bytes)  version u32 BE (1)
//! group    as in the DHCPv4 lease journal (crate::store::format): sequence,
//!          length, header CRC, records, CRC of the records
//! record   address (16)  state (1: bound, 2: released, 3: declined)
//!          expires u64 BE (Unix s)  IAID u32 BE  DUID length (1)  DUID
//! ```
//!
//! The framing, the torn-tail rule (only the last group's write cut short by a
//! crash is dropped, and kept beside as `PATH.torn-OFFSET`) and the whole-file
//! rewrite (temporary name, sync, rename) are the DHCPv4 journal's. A later record
//! of an address wins; the file is compacted to the live bindings when it holds
//! more than twice as many records plus 4096.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::Ipv6Addr;
use std::path::{Path, PathBuf};

use super::binding::{Binding6, IaKey, State6};
use crate::error::Error;
use crate::store::format::{corrupt, encode_frame, in_group, walk_groups, Damage};
use crate::store::journal::{sibling, write_whole};

/// The file's first bytes.
pub const LEASE6_MAGIC: &[u8; 16] = b"DHCPDPXE-LEASE6\n";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 20;
/// A DUID is at most 128 bytes (RFC 8415 §11.1); the length byte allows 255.
const FIXED: usize = 16 + 1 + 8 + 4 + 1;

fn header() -> Vec<u8> {
    let mut h = LEASE6_MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_be_bytes());
    h
}

fn encode(records: &[Binding6], out: &mut Vec<u8>) {
    for b in records {
        let duid = &b.ia.duid[..b.ia.duid.len().min(255)];
        out.extend_from_slice(&b.addr.octets());
        out.push(b.state.code());
        out.extend_from_slice(&b.expires.to_be_bytes());
        out.extend_from_slice(&b.ia.iaid.to_be_bytes());
        out.push(duid.len() as u8);
        out.extend_from_slice(duid);
    }
}

/// One record at `d[at..]` and its length.
fn decode(d: &[u8], at: usize) -> Result<(Binding6, usize), Damage> {
    let f = d
        .get(at..at + FIXED)
        .ok_or_else(|| corrupt(at, "record cut short"))?;
    let mut addr = [0; 16];
    addr.copy_from_slice(&f[..16]);
    let state = State6::from_code(f[16]).ok_or_else(|| corrupt(at, "unknown binding state"))?;
    let mut exp = [0; 8];
    exp.copy_from_slice(&f[17..25]);
    let iaid = u32::from_be_bytes([f[25], f[26], f[27], f[28]]);
    let n = usize::from(f[29]);
    let duid = d
        .get(at + FIXED..at + FIXED + n)
        .ok_or_else(|| corrupt(at, "DUID cut short"))?;
    let b = Binding6 {
        addr: Ipv6Addr::from(addr),
        ia: IaKey {
            duid: duid.to_vec(),
            iaid,
        },
        state,
        expires: u64::from_be_bytes(exp),
    };
    Ok((b, FIXED + n))
}

/// A lease file's bytes read back: the records, where appends continue, the
/// next group's sequence number, and why the tail was dropped, if it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay6 {
    /// Every record, in order.
    pub records: Vec<Binding6>,
    /// End of the last good group.
    pub good_end: usize,
    /// The next group's sequence number.
    pub next_seq: u64,
    /// Why the bytes after `good_end` were taken for a torn tail.
    pub torn: Option<&'static str>,
}

/// Reads a whole lease file's bytes (no I/O: fuzzable).
pub fn replay6(data: &[u8]) -> Result<Replay6, Damage> {
    if data.len() < HEADER_LEN || &data[..16] != LEASE6_MAGIC {
        return Err(Damage::Foreign);
    }
    let v = u32::from_be_bytes([data[16], data[17], data[18], data[19]]);
    if v != VERSION {
        return Err(corrupt(
            16,
            format!("version {v}, this program reads {VERSION}"),
        ));
    }
    let mut records = Vec::new();
    let w = walk_groups(data, HEADER_LEN, |body_at, body| {
        let mut i = 0;
        while i < body.len() {
            let (b, n) = decode(body, i).map_err(|e| in_group(e, body_at))?;
            records.push(b);
            i += n;
        }
        Ok(())
    })?;
    Ok(Replay6 {
        records,
        good_end: w.good_end,
        next_seq: w.next_seq,
        torn: w.torn,
    })
}

/// The error for `d` in the file at `path`.
fn damage(path: &Path, d: Damage) -> Error {
    match d {
        Damage::Foreign => Error::ForeignJournal {
            path: path.to_path_buf(),
        },
        Damage::Corrupt { offset, reason } => Error::CorruptJournal {
            path: path.to_path_buf(),
            offset,
            reason,
        },
    }
}

/// An open DHCPv6 lease file.
#[derive(Debug)]
pub struct LeaseFile6 {
    path: PathBuf,
    file: File,
    /// Records in the file.
    records: usize,
    /// Length up to the end of the last durable group.
    len: u64,
    next_seq: u64,
}

impl LeaseFile6 {
    /// Opens (or creates) the file at `path`; returns it and every record in it.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, Vec<Binding6>), Error> {
        let path = path.as_ref().to_path_buf();
        let what = |w: &str| format!("{w} DHCPv6 lease file {}", path.display());
        let mut data = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut data)
                    .map_err(|e| Error::io(what("reading"), e))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                write_whole(&path, &header(), "creating DHCPv6 lease file")?;
                return Ok((Self::append_to(path, HEADER_LEN as u64, 1, 0)?, Vec::new()));
            }
            Err(e) => return Err(Error::io(what("opening"), e)),
        }
        let r = replay6(&data).map_err(|d| damage(&path, d))?;
        if let Some(why) = r.torn {
            let keep = sibling(&path, &format!(".torn-{}", r.good_end));
            tracing::warn!(
                path = %path.display(),
                offset = r.good_end,
                kept = %keep.display(),
                "cutting off a torn last group ({why}): none of its replies left"
            );
            std::fs::write(&keep, &data[r.good_end..]).map_err(|e| {
                Error::io(format!("keeping the torn tail in {}", keep.display()), e)
            })?;
            OpenOptions::new()
                .write(true)
                .open(&path)
                .and_then(|f| {
                    f.set_len(r.good_end as u64)?;
                    f.sync_all()
                })
                .map_err(|e| Error::io(what("truncating"), e))?;
        }
        let n = r.records.len();
        let me = Self::append_to(path, r.good_end as u64, r.next_seq, n)?;
        Ok((me, r.records))
    }

    /// Reads the file at `path` without changing it (`--check`, `explain`): its
    /// records, `None` when it does not exist. A torn tail is left out, as
    /// [`open`](Self::open) would cut it; other damage is an error.
    pub fn read(path: impl AsRef<Path>) -> Result<Option<Vec<Binding6>>, Error> {
        let path = path.as_ref();
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                let what = format!("reading DHCPv6 lease file {}", path.display());
                return Err(Error::io(what, e));
            }
        };
        let r = replay6(&data).map_err(|d| damage(path, d))?;
        Ok(Some(r.records))
    }

    fn append_to(path: PathBuf, len: u64, next_seq: u64, records: usize) -> Result<Self, Error> {
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening DHCPv6 lease file {}", path.display()), e))?;
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

    /// Appends `records` as one group and syncs it: when this returns `Ok`, they
    /// survive a crash.
    pub fn append(&mut self, records: &[Binding6]) -> Result<(), Error> {
        if records.is_empty() {
            return Ok(());
        }
        let mut buf = Vec::with_capacity(records.len() * 48 + 20);
        encode_frame(self.next_seq, &mut buf, |out| encode(records, out));
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            // Never acknowledged: cut it off so the next group follows the last good one.
            let _ = self.file.set_len(self.len);
            return Err(Error::io(
                format!("appending to DHCPv6 lease file {}", self.path.display()),
                e,
            ));
        }
        self.len += buf.len() as u64;
        self.next_seq += 1;
        self.records += records.len();
        Ok(())
    }

    /// Whether the file holds enough dead records, given `live` bindings, for a
    /// [`compact`](Self::compact) to pay off.
    pub fn wants_compaction(&self, live: usize) -> bool {
        self.records > 2 * live + 4096
    }

    /// Rewrites the file to hold exactly `live`, atomically.
    pub fn compact(&mut self, live: &[Binding6]) -> Result<(), Error> {
        let mut buf = header();
        encode_frame(1, &mut buf, |out| encode(live, out));
        write_whole(&self.path, &buf, "compacting DHCPv6 lease file")?;
        *self = Self::append_to(self.path.clone(), buf.len() as u64, 2, live.len())?;
        Ok(())
    }
}
