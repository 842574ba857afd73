//! A read-only look at a lease journal, for tools that print the leases while the
//! daemon runs (`dhcpd-pxe leases`).
//!
//! The file is opened for reading only and read whole through one descriptor:
//! no lock is taken, nothing is truncated or rewritten, and a compaction that
//! renames a new file into place meanwhile leaves this descriptor on the old,
//! complete file. A group the daemon is appending at that moment has the shape of
//! a torn tail ([`super::format`]) and is left out: none of its leases has been
//! acknowledged yet.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::Path;

use super::format::{replay, Damage};
use crate::error::Error;
use crate::lease::Lease;

/// The leases a journal holds, one per address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalSnapshot {
    /// The last record of every address, in address order.
    pub leases: Vec<Lease>,
    /// Records read (every group, before keeping the last per address).
    pub records: usize,
    /// Why bytes at the end were left out (a group being written, or a crash's
    /// torn tail that the daemon cuts off at its next start).
    pub torn: Option<&'static str>,
}

impl JournalSnapshot {
    /// Reads the journal at `path` without writing to it.
    pub fn read(path: &Path) -> Result<Self, Error> {
        let mut data = Vec::new();
        std::fs::File::open(path)
            .and_then(|mut f| f.read_to_end(&mut data))
            .map_err(|e| Error::io(format!("reading lease file {}", path.display()), e))?;
        Self::from_bytes(&data).map_err(|d| match d {
            Damage::Foreign => Error::ForeignJournal {
                path: path.to_path_buf(),
            },
            Damage::Corrupt { offset, reason } => Error::CorruptJournal {
                path: path.to_path_buf(),
                offset,
                reason,
            },
        })
    }

    /// The leases in a journal's bytes.
    pub fn from_bytes(data: &[u8]) -> Result<Self, Damage> {
        let r = replay(data)?;
        let records = r.leases.len();
        let mut last: BTreeMap<Ipv4Addr, Lease> = BTreeMap::new();
        for l in r.leases {
            last.insert(l.addr, l);
        }
        Ok(Self {
            leases: last.into_values().collect(),
            records,
            torn: r.torn,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::{ClientKey, Expiry, LeaseState, Tenure};
    use crate::store::format::{encode_group, header};

    fn lease(last: u8, state: LeaseState) -> Lease {
        Lease {
            addr: Ipv4Addr::new(192, 0, 2, last),
            client: ClientKey(vec![1, 2, 0, 0, 0, 0, last]),
            state,
            expires: Expiry::At(1_900_000_000),
            tenure: Tenure::Fresh,
            details: Default::default(),
        }
    }

    #[test]
    fn last_record_per_address_wins_and_a_group_being_written_is_left_out() {
        let mut data = header();
        encode_group(
            1,
            &[lease(20, LeaseState::Bound), lease(10, LeaseState::Bound)],
            &mut data,
        );
        encode_group(2, &[lease(20, LeaseState::Released)], &mut data);
        let whole = data.len();
        encode_group(3, &[lease(30, LeaseState::Bound)], &mut data);
        // The daemon is half-way through writing group 3.
        let s = JournalSnapshot::from_bytes(&data[..whole + 10]).unwrap();
        assert_eq!(s.records, 3);
        assert!(s.torn.is_some());
        let got: Vec<_> = s
            .leases
            .iter()
            .map(|l| (l.addr.octets()[3], l.state))
            .collect();
        assert_eq!(got, [(10, LeaseState::Bound), (20, LeaseState::Released)]);
        let s = JournalSnapshot::from_bytes(&data).unwrap();
        assert_eq!((s.leases.len(), s.torn), (3, None));
    }

    #[test]
    fn reading_never_changes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("leases");
        let mut data = header();
        encode_group(1, &[lease(10, LeaseState::Bound)], &mut data);
        data.extend_from_slice(&[0xab; 7]); // a torn tail the daemon would cut off
        std::fs::write(&path, &data).unwrap();
        let s = JournalSnapshot::read(&path).unwrap();
        assert_eq!((s.leases.len(), s.torn.is_some()), (1, true));
        assert_eq!(std::fs::read(&path).unwrap(), data);
        assert!(matches!(
            JournalSnapshot::read(&dir.path().join("none")),
            Err(Error::Io { .. })
        ));
    }
}
