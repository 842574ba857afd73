//! The lease journal: an append-only file of checksummed lease records.
//!
//! ```text
//! header   "DHCPDPXE-LEASES\n" (16 bytes)  version u32 BE (1)
//! record   length u16 BE (of the body)  body  CRC-32 u32 BE (of the body)
//! body     address (4)  state (1)  expires u64 BE (Unix seconds)  key length (1)  client key
//! ```
//!
//! Records are replayed in order; the last record of an address wins. A record cut
//! short at the very end of the file, or a bad checksum on the last record, is a
//! write that a crash interrupted before its fsync returned: no ACK depended on it,
//! so it is cut off. Anything else that is wrong stops the start-up with the file
//! and the offset, never a silent reset.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use super::crc::crc32;
use super::LeaseStore;
use crate::error::Error;
use crate::lease::{ClientKey, Lease, LeaseState};

/// The file's first bytes.
pub const MAGIC: &[u8; 16] = b"DHCPDPXE-LEASES\n";
const VERSION: u32 = 1;
const HEADER_LEN: usize = 20;

/// An open lease journal.
#[derive(Debug)]
pub struct LeaseJournal {
    path: PathBuf,
    file: File,
    records: usize,
}

fn encode_record(l: &Lease, out: &mut Vec<u8>) {
    let key = &l.client.0[..l.client.0.len().min(255)];
    let body_len = 4 + 1 + 8 + 1 + key.len();
    out.extend_from_slice(&(body_len as u16).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(&l.addr.octets());
    out.push(l.state.code());
    out.extend_from_slice(&l.expires.to_be_bytes());
    out.push(key.len() as u8);
    out.extend_from_slice(key);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

fn decode_body(b: &[u8]) -> Result<Lease, &'static str> {
    if b.len() < 14 {
        return Err("record body too short");
    }
    let state = LeaseState::from_code(b[4]).ok_or("unknown lease state")?;
    let klen = usize::from(b[13]);
    if b.len() != 14 + klen {
        return Err("client key length does not match the record length");
    }
    let mut exp = [0u8; 8];
    exp.copy_from_slice(&b[5..13]);
    Ok(Lease {
        addr: Ipv4Addr::new(b[0], b[1], b[2], b[3]),
        client: ClientKey(b[14..].to_vec()),
        state,
        expires: u64::from_be_bytes(exp),
    })
}

fn header() -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_be_bytes());
    h
}

impl LeaseJournal {
    /// Opens (or creates) the journal at `path` and reads every record back.
    pub fn open(path: impl AsRef<Path>) -> Result<(Self, Vec<Lease>), Error> {
        let path = path.as_ref().to_path_buf();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(format!("opening lease file {}", path.display()), e))?;
        let mut data = Vec::new();
        file.read_to_end(&mut data)
            .map_err(|e| Error::io(format!("reading lease file {}", path.display()), e))?;
        if data.is_empty() {
            file.write_all(&header())
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(format!("writing lease file {}", path.display()), e))?;
            sync_dir(&path)?;
            return Ok((
                Self {
                    path,
                    file,
                    records: 0,
                },
                Vec::new(),
            ));
        }
        let corrupt = |offset: usize, reason: String| Error::CorruptJournal {
            path: path.clone(),
            offset: offset as u64,
            reason,
        };
        if data.len() < HEADER_LEN || &data[..16] != MAGIC {
            if data.len() < HEADER_LEN && MAGIC.starts_with(&data[..data.len().min(16)]) {
                return Err(corrupt(0, "header cut short".into()));
            }
            return Err(Error::ForeignJournal { path });
        }
        let version = u32::from_be_bytes([data[16], data[17], data[18], data[19]]);
        if version != VERSION {
            return Err(corrupt(
                16,
                format!("version {version}, this program writes {VERSION}"),
            ));
        }
        let mut leases = Vec::new();
        let mut at = HEADER_LEN;
        let mut good_end = at;
        while at < data.len() {
            let rest = &data[at..];
            if rest.len() < 2 {
                break; // torn length field at the end
            }
            let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
            if rest.len() < 2 + len + 4 {
                break; // torn record at the end
            }
            let body = &rest[2..2 + len];
            let crc =
                u32::from_be_bytes([rest[2 + len], rest[3 + len], rest[4 + len], rest[5 + len]]);
            let last = rest.len() == 2 + len + 4;
            if crc32(body) != crc {
                if last {
                    break; // torn last record
                }
                return Err(corrupt(at, "checksum mismatch".into()));
            }
            match decode_body(body) {
                Ok(l) => leases.push(l),
                Err(why) => return Err(corrupt(at, why.into())),
            }
            at += 2 + len + 4;
            good_end = at;
        }
        if good_end < data.len() {
            tracing::warn!(
                path = %path.display(),
                offset = good_end,
                bytes = data.len() - good_end,
                "cutting off an unfinished last lease record (a crash during its write; it was never acknowledged)"
            );
            file.set_len(good_end as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(format!("truncating lease file {}", path.display()), e))?;
        }
        let records = leases.len();
        Ok((
            Self {
                path,
                file,
                records,
            },
            leases,
        ))
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn sync_dir(path: &Path) -> Result<(), Error> {
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
        let mut buf = Vec::with_capacity(records.len() * 40);
        for r in records {
            encode_record(r, &mut buf);
        }
        self.file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data())
            .map_err(|e| {
                Error::io(
                    format!("appending to lease file {}", self.path.display()),
                    e,
                )
            })?;
        self.records += records.len();
        Ok(())
    }

    fn wants_compaction(&self, live: usize) -> bool {
        self.records > 2 * live + 4096
    }

    fn compact(&mut self, live: &[Lease]) -> Result<(), Error> {
        let tmp = self.path.with_extension("compact");
        let mut buf = header();
        for l in live.iter().filter(|l| l.state != LeaseState::Offered) {
            encode_record(l, &mut buf);
        }
        let what = |e| Error::io(format!("compacting lease file {}", self.path.display()), e);
        let mut f = File::create(&tmp).map_err(what)?;
        f.write_all(&buf)
            .and_then(|()| f.sync_all())
            .map_err(what)?;
        std::fs::rename(&tmp, &self.path).map_err(what)?;
        sync_dir(&self.path)?;
        self.file = OpenOptions::new()
            .append(true)
            .open(&self.path)
            .map_err(what)?;
        self.records = live.len();
        Ok(())
    }
}
