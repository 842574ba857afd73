//! The lease journal's bytes, and replay: which damage is a torn tail (a write a
//! crash cut short, never acknowledged) and which is not. No I/O here, so replay
//! can be fuzzed and tested on bytes.
//!
//! ```text
//! header   "DHCPDPXE-LEASES\n" (16 bytes)  version u32 BE (3)
//! group    sequence u64 BE  length u32 BE  CRC-32 u32 BE (of sequence and length)
//!          records (length bytes)  CRC-32 u32 BE (of the records)
//! record   address (4)  state (1)  tenure (1)  expires u64 BE (Unix s; all ones: never)
//!          key length (1)  client key
//!          start u64 BE (Unix s; all ones: not known)  architecture u32 BE (all ones: none)
//!          host name length (1)  host name  boot file length u16 BE (at most 1024)  boot file
//! ```
//!
//! One group is one group commit: the writer appends it with one `write` and
//! syncs it before any ACK it carries leaves. Sequence numbers count 1, 2, 3…
//! from the header. So only the last group can be unacknowledged, and replay
//! drops damage only when it has the shape of that group's write cut short:
//!
//! - fewer bytes than a group header after the last good group;
//! - a good group header with the next sequence number whose records run past
//!   the end of the file;
//! - a good group header with the next sequence number, ending exactly at the end
//!   of the file, whose bad records end in zeros from a 512-byte boundary on (the
//!   file size reached the disk, that data not);
//! - nothing but zeros after the last good group.
//!
//! Anything else — a bad header or checksum with more after it, a sequence
//! number out of order (a duplicated group), garbage after the last group, a
//! record that does not parse inside a good group — is [`Damage`] at an offset.
//!
//! Version 2 is version 3 without the second line of the record (start, architecture,
//! host name, boot file); its records load with empty [`LeaseDetails`]. Version 1
//! (one CRC per record, no groups) is still read, with the same rule for the last
//! record. The journal rewrites both as version 3.

use std::net::Ipv4Addr;

use crate::lease::{
    ClientKey, Expiry, Lease, LeaseDetails, LeaseState, Tenure, MAX_BOOT_FILE, MAX_HOSTNAME,
};

/// The file's first bytes.
pub const MAGIC: &[u8; 16] = b"DHCPDPXE-LEASES\n";
/// The version this program writes.
pub const VERSION: u32 = 3;
/// Magic and version.
pub const HEADER_LEN: usize = 20;
/// Sequence, length, header CRC.
const GROUP_HEADER: usize = 16;
/// A group's records may not be longer (a bound on what a damaged length can claim).
const MAX_GROUP: usize = 1 << 30;
/// `expires` of a lease that never ends, `start` not known.
const NEVER: u64 = u64::MAX;
/// `architecture` of a client that sent no option 93.
const NO_ARCH: u32 = u32::MAX;
/// Granularity at which an interrupted write leaves zeros behind.
const SECTOR: usize = 512;

fn crc(data: &[u8]) -> u32 {
    crc32fast::hash(data)
}

/// The file header.
pub fn header() -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&VERSION.to_be_bytes());
    h
}

fn encode_record(l: &Lease, out: &mut Vec<u8>) {
    let key = &l.client.0[..l.client.0.len().min(255)];
    out.extend_from_slice(&l.addr.octets());
    out.push(l.state.code());
    out.push(l.tenure.code());
    out.extend_from_slice(&l.expires.unix().unwrap_or(NEVER).to_be_bytes());
    out.push(key.len() as u8);
    out.extend_from_slice(key);
    let d = &l.details;
    let host = &d.hostname[..d.hostname.len().min(MAX_HOSTNAME)];
    let boot = &d.boot_file[..d.boot_file.len().min(MAX_BOOT_FILE)];
    out.extend_from_slice(&d.start.unwrap_or(NEVER).to_be_bytes());
    out.extend_from_slice(&d.arch.map_or(NO_ARCH, u32::from).to_be_bytes());
    out.push(host.len() as u8);
    out.extend_from_slice(host);
    out.extend_from_slice(&(boot.len() as u16).to_be_bytes());
    out.extend_from_slice(boot);
}

/// Appends group `seq` holding `records` to `out`.
pub fn encode_group(seq: u64, records: &[Lease], out: &mut Vec<u8>) {
    encode_frame(seq, out, |out| {
        for r in records {
            encode_record(r, out);
        }
    });
}

/// Appends group `seq` to `out`, its records being what `records` writes: the
/// group framing, shared with the DHCPv6 lease file.
pub(crate) fn encode_frame(seq: u64, out: &mut Vec<u8>, records: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&[0; 8]);
    let body = out.len();
    records(out);
    let len = (out.len() - body) as u32;
    out[start + 8..start + 12].copy_from_slice(&len.to_be_bytes());
    let hcrc = crc(&out[start..start + 12]);
    out[start + 12..start + 16].copy_from_slice(&hcrc.to_be_bytes());
    let bcrc = crc(&out[body..]);
    out.extend_from_slice(&bcrc.to_be_bytes());
}

/// What replay found wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// Not a lease journal of this program (no magic).
    Foreign,
    /// Damaged at `offset`.
    Corrupt {
        /// Byte offset of the first bad group or record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

pub(crate) fn corrupt(offset: usize, reason: impl Into<String>) -> Damage {
    Damage::Corrupt {
        offset: offset as u64,
        reason: reason.into(),
    }
}

/// A successful replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replay {
    /// The file's version (the journal rewrites 1 and 2 as 3).
    pub version: u32,
    /// Every record, in order (later records of an address win).
    pub leases: Vec<Lease>,
    /// End of the last good group (or record): where appends continue.
    pub good_end: usize,
    /// The sequence number of the next group.
    pub next_seq: u64,
    /// Why the bytes after `good_end`, if any, were taken for a torn tail.
    pub torn: Option<&'static str>,
}

fn u32_at(d: &[u8], i: usize) -> u32 {
    u32::from_be_bytes([d[i], d[i + 1], d[i + 2], d[i + 3]])
}

fn u64_at(d: &[u8], i: usize) -> u64 {
    let mut b = [0; 8];
    b.copy_from_slice(&d[i..i + 8]);
    u64::from_be_bytes(b)
}

/// Reads a whole journal file's bytes.
pub fn replay(data: &[u8]) -> Result<Replay, Damage> {
    if data.is_empty() {
        // The journal creates its file with the header in place (write, sync,
        // rename), so an empty file is not one of its own.
        return Err(corrupt(0, "empty file, not even a header"));
    }
    if data.len() < HEADER_LEN || &data[..16] != MAGIC {
        if data.len() < HEADER_LEN && MAGIC.starts_with(&data[..data.len().min(16)]) {
            return Err(corrupt(0, "header cut short"));
        }
        return Err(Damage::Foreign);
    }
    match u32_at(data, 16) {
        1 => replay_v1(data),
        v @ (2 | 3) => replay_groups(data, v),
        v => Err(corrupt(
            16,
            format!("version {v}, this program reads 1 to {VERSION}"),
        )),
    }
}

/// Parses one record of `version` at `d[at..]`; returns it and its length.
fn decode_record(d: &[u8], at: usize, version: u32) -> Result<(Lease, usize), Damage> {
    let v1 = version == 1;
    let fixed = if v1 { 14 } else { 15 };
    let b = d
        .get(at..at + fixed)
        .ok_or_else(|| corrupt(at, "record cut short"))?;
    let state = LeaseState::from_code(b[4]).ok_or_else(|| corrupt(at, "unknown lease state"))?;
    let (tenure, exp_at) = if v1 {
        (None, 5)
    } else {
        let t = Tenure::from_code(b[5]).ok_or_else(|| corrupt(at, "unknown lease tenure"))?;
        if state == LeaseState::Offered {
            return Err(corrupt(at, "an offer is never written"));
        }
        (Some(t), 6)
    };
    let exp = u64_at(b, exp_at);
    let klen = usize::from(b[fixed - 1]);
    let key = d
        .get(at + fixed..at + fixed + klen)
        .ok_or_else(|| corrupt(at, "client key cut short"))?;
    let (details, dlen) = if version >= 3 {
        decode_details(d, at, at + fixed + klen)?
    } else {
        (LeaseDetails::default(), 0)
    };
    let expires = if exp == NEVER {
        Expiry::Never
    } else {
        Expiry::At(exp)
    };
    let lease = Lease {
        addr: Ipv4Addr::new(b[0], b[1], b[2], b[3]),
        client: ClientKey(key.to_vec()),
        state,
        expires,
        // Version 1 knew no tenure: its infinite leases were BOOTP ones, and the
        // rest count as renewed (they never hold a client back).
        tenure: tenure.unwrap_or(if expires == Expiry::Never {
            Tenure::Bootp
        } else {
            Tenure::Renewed
        }),
        details,
    };
    Ok((lease, fixed + klen + dlen))
}

/// Parses a version 3 record's details at `d[i..]` (the record starts at `at`);
/// returns them and their length.
fn decode_details(d: &[u8], at: usize, i: usize) -> Result<(LeaseDetails, usize), Damage> {
    let short = || corrupt(at, "record details cut short");
    let b = d.get(i..i + 13).ok_or_else(short)?;
    let start = u64_at(b, 0);
    let arch = match u32_at(b, 8) {
        NO_ARCH => None,
        a => Some(u16::try_from(a).map_err(|_| corrupt(at, format!("architecture {a}")))?),
    };
    let hlen = usize::from(b[12]);
    let host = d.get(i + 13..i + 13 + hlen).ok_or_else(short)?;
    let j = i + 13 + hlen;
    let l = d.get(j..j + 2).ok_or_else(short)?;
    let flen = usize::from(u16::from_be_bytes([l[0], l[1]]));
    if flen > MAX_BOOT_FILE {
        return Err(corrupt(
            at,
            format!("boot file length {flen}, at most {MAX_BOOT_FILE}"),
        ));
    }
    let file = d.get(j + 2..j + 2 + flen).ok_or_else(short)?;
    let details = LeaseDetails {
        start: (start != NEVER).then_some(start),
        hostname: host.to_vec(),
        arch,
        boot_file: file.to_vec(),
    };
    Ok((details, 13 + hlen + 2 + flen))
}

/// Whether `rest` (all that follows the last good group, at file offset `at`)
/// has the shape of the next group's write cut short by a crash.
fn torn_shape(data: &[u8], at: usize, next_seq: u64) -> Option<&'static str> {
    let rest = &data[at..];
    if rest.iter().all(|&b| b == 0) {
        return Some("zeros after the last group (size extended, data never written)");
    }
    if rest.len() < GROUP_HEADER {
        return Some("a group header cut short");
    }
    let hcrc_ok = crc(&rest[..12]) == u32_at(rest, 12);
    if !hcrc_ok || u64_at(rest, 0) != next_seq {
        return None;
    }
    let len = u32_at(rest, 8) as usize;
    let end = GROUP_HEADER + len + 4;
    if end > rest.len() {
        return Some("the last group's records run past the end of the file");
    }
    if end == rest.len() {
        // Its size reached the disk, some of its data not: zeros from a sector
        // boundary to the end. A flipped bit leaves no such zeros and is damage.
        let last_nonzero = data.iter().rposition(|&b| b != 0).unwrap_or(0);
        let zero_from = (last_nonzero + 1).div_ceil(SECTOR) * SECTOR;
        let zero_from = (zero_from >= at && zero_from < data.len()).then_some(zero_from);
        if zero_from.is_some() {
            return Some("the last group ends in zeros (size extended, data never written)");
        }
    }
    None
}

fn replay_groups(data: &[u8], version: u32) -> Result<Replay, Damage> {
    let mut leases = Vec::new();
    let walk = walk_groups(data, HEADER_LEN, |body_at, body| {
        let mut i = 0;
        while i < body.len() {
            let (l, n) = decode_record(body, i, version).map_err(|e| in_group(e, body_at))?;
            leases.push(l);
            i += n;
        }
        Ok(())
    })?;
    Ok(Replay {
        version,
        leases,
        good_end: walk.good_end,
        next_seq: walk.next_seq,
        torn: walk.torn,
    })
}

/// A record's damage at `offset` inside a group body at file offset `body_at`.
pub(crate) fn in_group(e: Damage, body_at: usize) -> Damage {
    match e {
        Damage::Corrupt { offset, reason } => Damage::Corrupt {
            offset: body_at as u64 + offset,
            reason: format!("{reason} (in a group with a good checksum)"),
        },
        d => d,
    }
}

/// Where a walk over the groups ended.
pub(crate) struct Walked {
    /// End of the last good group: where appends continue.
    pub(crate) good_end: usize,
    /// The sequence number of the next group.
    pub(crate) next_seq: u64,
    /// Why the bytes after `good_end`, if any, were taken for a torn tail.
    pub(crate) torn: Option<&'static str>,
}

/// Walks the groups from `at` (after a file header) to the end, handing each
/// group's records and their file offset to `body`, in order; damage that is not
/// a torn tail (module docs) stops the walk.
pub(crate) fn walk_groups(
    data: &[u8],
    mut at: usize,
    mut body: impl FnMut(usize, &[u8]) -> Result<(), Damage>,
) -> Result<Walked, Damage> {
    let mut seq = 1u64;
    while at < data.len() {
        match group(data, at, seq) {
            Ok((records, end)) => {
                body(at + GROUP_HEADER, records)?;
                at = end;
                seq += 1;
            }
            Err(reason) => {
                return match torn_shape(data, at, seq) {
                    Some(torn) => Ok(Walked {
                        good_end: at,
                        next_seq: seq,
                        torn: Some(torn),
                    }),
                    None => Err(corrupt(at, reason)),
                };
            }
        }
    }
    Ok(Walked {
        good_end: at,
        next_seq: seq,
        torn: None,
    })
}

/// Checks the group at `at`: its records and the offset after it, or what is wrong.
fn group(data: &[u8], at: usize, seq: u64) -> Result<(&[u8], usize), String> {
    let h = data
        .get(at..at + GROUP_HEADER)
        .ok_or("group header cut short")?;
    if crc(&h[..12]) != u32_at(h, 12) {
        return Err("group header checksum mismatch".into());
    }
    let got = u64_at(h, 0);
    if got != seq {
        return Err(format!("group sequence number {got}, expected {seq}"));
    }
    let len = u32_at(h, 8) as usize;
    if len > MAX_GROUP {
        return Err(format!("group length {len} is implausible"));
    }
    let body_at = at + GROUP_HEADER;
    let end = body_at + len + 4;
    let g = data
        .get(body_at..end)
        .ok_or("group runs past the end of the file")?;
    let (body, sum) = g.split_at(len);
    if crc(body) != u32_at(sum, 0) {
        return Err("group checksum mismatch".into());
    }
    Ok((body, end))
}

fn replay_v1(data: &[u8]) -> Result<Replay, Damage> {
    // length u16 BE, body (14 + key), CRC-32 u32 BE of the body.
    let mut leases = Vec::new();
    let mut at = HEADER_LEN;
    let mut torn = None;
    while at < data.len() {
        let rest = &data[at..];
        if rest.len() < 2 {
            torn = Some("a record length cut short");
            break;
        }
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]]));
        if !(14..=14 + 255).contains(&len) {
            return Err(corrupt(at, format!("record length {len} is impossible")));
        }
        if rest.len() < 2 + len + 4 {
            torn = Some("the last record runs past the end of the file");
            break;
        }
        let body = &rest[2..2 + len];
        if crc(body) != u32_at(rest, 2 + len) {
            if rest.len() == 2 + len + 4 {
                torn = Some("the last record's checksum does not match");
                break;
            }
            return Err(corrupt(at, "checksum mismatch"));
        }
        let (l, n) = decode_record(body, 0, 1).map_err(|_| corrupt(at, "record body"))?;
        if n != len {
            return Err(corrupt(
                at,
                "client key length does not match the record length",
            ));
        }
        leases.push(l);
        at += 2 + len + 4;
    }
    Ok(Replay {
        version: 1,
        leases,
        good_end: at,
        next_seq: 1,
        torn,
    })
}
