//! Eight kinds of lease-journal damage. Each must either stop the start-up with
//! the file and the offset (leaving the file as it was) or start without giving
//! any acknowledged address to another client. Plus the old (version 1) format:
//! read and upgraded, and the flipped length that once made a whole tail vanish.

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::time::{Duration, SystemTime};

use dhcp_pxe::decode_strict;
use dhcp_pxe::wire::encode::{encode, EncodeParams};
use dhcp_server::store::{LeaseJournal, LeaseStore};
use dhcp_server::{
    ClientKey, Datagram, Error, Expiry, Lease, LeaseState, Mode, Range, Server, ServerConfig,
    Subnet, Tenure,
};

use crate::support::{discover, policy};

const NOW: u64 = 1_700_000_000;
/// Groups in the journal, two leases each.
const GROUPS: u8 = 8;
/// Header 20; group: header 16, two records of 15 + 7-byte key + 15 (start,
/// architecture, empty host name and boot file), CRC 4.
const GROUP_LEN: usize = 16 + 2 * 37 + 4;

fn lease(n: u8) -> Lease {
    Lease {
        addr: Ipv4Addr::new(192, 0, 2, 100 + n),
        client: ClientKey(vec![1, 2, 0, 0, 0, 1, n]),
        state: LeaseState::Bound,
        expires: Expiry::At(NOW + 3600),
        tenure: Tenure::Fresh,
        details: Default::default(),
    }
}

fn group_at(k: usize) -> usize {
    20 + k * GROUP_LEN
}

/// A journal of eight acknowledged groups (16 leases); its bytes.
fn journal(path: &Path) -> Vec<u8> {
    let (mut j, _) = LeaseJournal::open(path).unwrap();
    for g in 0..GROUPS {
        j.append(&[lease(2 * g), lease(2 * g + 1)]).unwrap();
    }
    drop(j);
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(bytes.len(), group_at(usize::from(GROUPS)));
    bytes
}

fn server() -> Server {
    let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 100),
        end: Ipv4Addr::new(192, 0, 2, 139),
        bootp: false,
    });
    s.caps.fresh_percent = 100;
    Server::new(ServerConfig::new(Mode::Full, vec![s], policy()))
}

/// Starts on `bytes` (as the daemon does) and checks the rule: refused with
/// `offset`, or started with no acknowledged address given to a new client.
fn check(bytes: &[u8], refused_at: Option<u64>) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    std::fs::write(&p, bytes).unwrap();
    match (LeaseJournal::open(&p), refused_at) {
        (Err(e), Some(off)) => {
            assert!(
                matches!(&e, Error::CorruptJournal { offset, .. } if *offset == off),
                "{e}"
            );
            let msg = e.to_string();
            assert!(msg.contains(&format!("offset {off}")), "{msg}");
            assert!(msg.contains(&p.display().to_string()), "{msg}");
            assert_eq!(std::fs::read(&p).unwrap(), bytes, "never rewritten");
        }
        (Ok((_, leases)), None) => {
            let mut srv = server();
            srv.restore(leases);
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(NOW);
            let acked: Vec<Ipv4Addr> = (0..2 * GROUPS).map(|n| lease(n).addr).collect();
            for n in 0..24u8 {
                let mut d = discover(n);
                d.chaddr[0] = 6; // never one of the journal's clients
                let bytes = encode(&d, &EncodeParams::default()).unwrap();
                srv.handle(
                    now,
                    &Datagram {
                        ifindex: 1,
                        interface: None,
                        local: Ipv4Addr::new(192, 0, 2, 1),
                        local_port: 67,
                        src: SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
                        payload: &bytes,
                    },
                );
                let offer = decode_strict(&srv.poll_transmit().unwrap().payload).unwrap();
                assert!(
                    !acked.contains(&offer.yiaddr),
                    "acknowledged {} offered to another client",
                    offer.yiaddr
                );
            }
        }
        (r, want) => panic!(
            "expected refusal at {want:?}, got {:?}",
            r.map(|(_, l)| l.len())
        ),
    }
}

#[test]
fn flipped_length_byte_in_a_middle_group_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    b[group_at(3) + 8] ^= 0x80; // high bit of the length
    check(&b, Some(group_at(3) as u64));
}

#[test]
fn bad_checksum_in_a_middle_group_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    b[group_at(4) + 16 + 3] ^= 0x01; // an address byte
    check(&b, Some(group_at(4) as u64));
}

#[test]
fn a_cut_inside_a_middle_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    let at = group_at(2) + 16 + 5;
    b.drain(at..at + 9);
    check(&b, Some(group_at(2) as u64));
}

#[test]
fn a_torn_tail_is_dropped_and_nothing_acknowledged_is_lost() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("j");
    journal(&p);
    // A ninth group whose write a crash cut short: never acknowledged.
    let (mut j, _) = LeaseJournal::open(&p).unwrap();
    j.append(&[lease(30), lease(31)]).unwrap();
    drop(j);
    let mut b = std::fs::read(&p).unwrap();
    b.truncate(group_at(usize::from(GROUPS)) + 30);
    check(&b, None);
}

#[test]
fn a_zeroed_block_in_the_middle_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    let at = group_at(3) - 10;
    b[at..at + 64].fill(0);
    check(&b, Some(group_at(2) as u64));
}

#[test]
fn a_duplicated_group_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    let dup = b[group_at(5)..group_at(6)].to_vec();
    let at = group_at(6);
    b.splice(at..at, dup);
    check(&b, Some(at as u64));
}

#[test]
fn trailing_garbage_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = journal(&dir.path().join("j"));
    let end = b.len();
    b.extend((0..40u8).map(|i| i.wrapping_mul(37) | 1));
    check(&b, Some(end as u64));
}

#[test]
fn an_empty_file_is_refused() {
    check(&[], Some(0));
}

/// Version 1: length u16, body (address, state, expires, key length, key), CRC.
fn v1(records: &[(u8, u64)]) -> Vec<u8> {
    let mut b = b"DHCPDPXE-LEASES\n".to_vec();
    b.extend_from_slice(&1u32.to_be_bytes());
    for &(n, exp) in records {
        let l = lease(n);
        let mut body = l.addr.octets().to_vec();
        body.push(1);
        body.extend_from_slice(&exp.to_be_bytes());
        body.push(l.client.0.len() as u8);
        body.extend_from_slice(&l.client.0);
        b.extend_from_slice(&(body.len() as u16).to_be_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    }
    b
}

#[test]
fn a_version_1_journal_is_read_and_upgraded_and_its_old_copy_kept() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    let old = v1(&[(0, NOW + 3600), (1, u64::MAX)]);
    std::fs::write(&p, &old).unwrap();
    let (mut j, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l[1].expires, Expiry::Never);
    assert_eq!(l[1].tenure, Tenure::Bootp);
    assert_eq!(std::fs::read(dir.path().join("leases.v1")).unwrap(), old);
    j.append(&[lease(5)]).unwrap();
    drop(j);
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l.len(), 3, "now version 3, appended to");
    assert_eq!(std::fs::read(&p).unwrap()[16..20], 3u32.to_be_bytes());
}

#[test]
fn a_flipped_length_in_a_version_1_middle_record_is_refused() {
    // The case that once took the rest of the file for an unfinished last record.
    let mut b = v1(&(0..10).map(|n| (n, NOW + 3600)).collect::<Vec<_>>());
    let rec = 2 + 14 + 7 + 4;
    b[20 + 3 * rec] ^= 0x80;
    check(&b, Some((20 + 3 * rec) as u64));
    let mut b = v1(&(0..10).map(|n| (n, NOW + 3600)).collect::<Vec<_>>());
    b[20 + 3 * rec + 6] ^= 0x01; // a bad checksum in the middle
    check(&b, Some((20 + 3 * rec) as u64));
}
