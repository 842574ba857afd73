//! The version 3 record on bytes: every lease comes back as written (its details
//! cut to their bounds), a cut anywhere in the last group loses only that group,
//! a flipped byte in an earlier group is refused, and details that cannot be
//! are damage, not a panic.

use std::net::Ipv4Addr;

use dhcp_server::store::format::{encode_group, header, VERSION};
use dhcp_server::store::{replay, Damage};
use dhcp_server::{ClientKey, Expiry, Lease, LeaseDetails, LeaseState, Tenure};
use proptest::prelude::*;

fn details() -> impl Strategy<Value = LeaseDetails> {
    (
        proptest::option::of(0..u64::MAX),
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::option::of(any::<u16>()),
        proptest::collection::vec(any::<u8>(), 0..1100),
    )
        .prop_map(|(start, hostname, arch, boot_file)| LeaseDetails {
            start,
            hostname,
            arch,
            boot_file,
        })
}

fn lease() -> impl Strategy<Value = Lease> {
    (
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..=255),
        prop_oneof![
            Just(LeaseState::Bound),
            Just(LeaseState::Released),
            Just(LeaseState::Declined)
        ],
        proptest::option::of(0..u64::MAX),
        0u8..4,
        details(),
    )
        .prop_map(|(a, key, state, exp, t, details)| Lease {
            addr: Ipv4Addr::from(a),
            client: ClientKey(key),
            state,
            expires: exp.map_or(Expiry::Never, Expiry::At),
            tenure: Tenure::from_code(t).unwrap(),
            details,
        })
}

fn groups() -> impl Strategy<Value = Vec<Vec<Lease>>> {
    proptest::collection::vec(proptest::collection::vec(lease(), 1..4), 1..5)
}

/// The journal's bytes and where each group starts.
fn journal(groups: &[Vec<Lease>]) -> (Vec<u8>, Vec<usize>) {
    let mut b = header();
    let mut starts = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        starts.push(b.len());
        encode_group(i as u64 + 1, g, &mut b);
    }
    (b, starts)
}

fn as_read(groups: &[Vec<Lease>]) -> Vec<Lease> {
    let mut v: Vec<Lease> = groups.iter().flatten().cloned().collect();
    for l in &mut v {
        l.details = l.details.clone().bounded();
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_lease_comes_back_with_its_details(g in groups()) {
        let (b, _) = journal(&g);
        let r = replay(&b).unwrap();
        prop_assert_eq!(r.version, VERSION);
        prop_assert_eq!(r.torn, None);
        prop_assert_eq!(r.good_end, b.len());
        prop_assert_eq!(r.next_seq, g.len() as u64 + 1);
        prop_assert_eq!(r.leases, as_read(&g));
    }

    #[test]
    fn a_cut_in_the_last_group_loses_that_group_only(g in groups(), at in any::<prop::sample::Index>()) {
        let (b, starts) = journal(&g);
        let last = *starts.last().unwrap();
        let cut = last + at.index(b.len() - last);
        let r = replay(&b[..cut]).unwrap();
        prop_assert_eq!(r.good_end, last);
        prop_assert_eq!(r.torn.is_some(), cut > last);
        prop_assert_eq!(r.leases, as_read(&g[..g.len() - 1]));
    }

    #[test]
    fn a_flipped_byte_before_the_last_group_is_refused(
        g in proptest::collection::vec(proptest::collection::vec(lease(), 1..3), 2..4),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let (mut b, starts) = journal(&g);
        let last = *starts.last().unwrap();
        let i = starts[0] + at.index(last - starts[0]);
        b[i] ^= 1 << bit;
        prop_assert!(matches!(replay(&b), Err(Damage::Corrupt { .. })), "byte {}", i);
    }
}

/// One group holding `body` as its records, with good checksums.
fn raw_group(body: &[u8]) -> Vec<u8> {
    let mut b = header();
    let mut h = 1u64.to_be_bytes().to_vec();
    h.extend_from_slice(&(body.len() as u32).to_be_bytes());
    let hcrc = crc32fast::hash(&h);
    b.extend_from_slice(&h);
    b.extend_from_slice(&hcrc.to_be_bytes());
    b.extend_from_slice(body);
    b.extend_from_slice(&crc32fast::hash(body).to_be_bytes());
    b
}

/// A bound lease's record with a one-byte key, followed by `details`.
fn record(details: &[u8]) -> Vec<u8> {
    let mut r = vec![192, 0, 2, 9, 1, 0];
    r.extend_from_slice(&1_900_000_000u64.to_be_bytes());
    r.extend_from_slice(&[1, 0xaa]);
    r.extend_from_slice(details);
    r
}

fn refused(bytes: &[u8], why: &str) {
    match replay(bytes) {
        Err(Damage::Corrupt { offset, reason }) => {
            assert_eq!(offset, 36, "{reason}");
            assert!(reason.contains(why), "{reason}");
        }
        other => panic!("expected damage ({why}), got {other:?}"),
    }
}

#[test]
fn details_that_cannot_be_are_damage() {
    let mut d = u64::MAX.to_be_bytes().to_vec();
    d.extend_from_slice(&u32::MAX.to_be_bytes());
    d.push(0);
    d.extend_from_slice(&0u16.to_be_bytes());
    let ok = replay(&raw_group(&record(&d))).unwrap();
    assert_eq!(ok.leases[0].details, LeaseDetails::default());

    let mut long = d.clone();
    long[13..15].copy_from_slice(&1025u16.to_be_bytes());
    long.extend_from_slice(&[b'x'; 1025]);
    refused(&raw_group(&record(&long)), "boot file length 1025");

    let mut arch = d.clone();
    arch[8..12].copy_from_slice(&0x1_0000u32.to_be_bytes());
    refused(&raw_group(&record(&arch)), "architecture 65536");

    refused(&raw_group(&record(&d[..12])), "details cut short");
    let mut host = d.clone();
    host[12] = 5; // a host name longer than what is left
    refused(&raw_group(&record(&host)), "details cut short");
}
