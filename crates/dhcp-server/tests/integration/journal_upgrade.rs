//! A version 2 journal, as the previous release wrote it (`fixtures/leases-v2.journal`,
//! written by that code), loads and is rewritten as version 3 without losing a
//! lease, whatever state a crash in the middle of the rewrite leaves behind.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use dhcp_server::store::format::{encode_group, header};
use dhcp_server::store::{replay, JournalSnapshot, LeaseJournal, LeaseStore};
use dhcp_server::{ClientKey, Expiry, Lease, LeaseDetails, LeaseState, Tenure};

const V2: &[u8] = include_bytes!("../fixtures/leases-v2.journal");

fn lease(last: u8, key: &[u8], state: LeaseState, expires: Expiry, tenure: Tenure) -> Lease {
    Lease {
        addr: Ipv4Addr::new(192, 0, 2, last),
        client: ClientKey(key.to_vec()),
        state,
        expires,
        tenure,
        details: LeaseDetails::default(),
    }
}

/// The fixture's records, in order (three groups).
fn v2_leases() -> Vec<Lease> {
    let mac = |n: u8| [1, 2, 0, 0, 0, 0, n];
    vec![
        lease(
            100,
            &mac(1),
            LeaseState::Bound,
            Expiry::At(1_900_000_000),
            Tenure::Fresh,
        ),
        lease(
            101,
            b"\0client-id-101",
            LeaseState::Bound,
            Expiry::At(1_900_000_100),
            Tenure::Renewed,
        ),
        lease(
            102,
            &mac(3),
            LeaseState::Bound,
            Expiry::Never,
            Tenure::Bootp,
        ),
        lease(
            103,
            &mac(4),
            LeaseState::Bound,
            Expiry::At(1_900_000_300),
            Tenure::Reserved,
        ),
        lease(
            100,
            &mac(1),
            LeaseState::Released,
            Expiry::At(1_800_000_000),
            Tenure::Fresh,
        ),
        lease(
            104,
            &mac(5),
            LeaseState::Declined,
            Expiry::At(1_800_000_600),
            Tenure::Fresh,
        ),
    ]
}

fn version(p: &Path) -> u32 {
    let b = std::fs::read(p).unwrap();
    u32::from_be_bytes(b[16..20].try_into().unwrap())
}

fn with_v2(dir: &Path) -> PathBuf {
    let p = dir.join("leases");
    std::fs::write(&p, V2).unwrap();
    p
}

#[test]
fn a_version_2_journal_loads_and_is_rewritten_as_version_3() {
    assert_eq!(replay(V2).unwrap().version, 2);
    let dir = tempfile::tempdir().unwrap();
    let p = with_v2(dir.path());
    // Read-only inspection leaves it as it is, and shows no details.
    let s = JournalSnapshot::read(&p).unwrap();
    assert_eq!((s.records, s.leases.len()), (6, 5));
    assert!(s
        .leases
        .iter()
        .all(|l| l.details == LeaseDetails::default()));
    assert_eq!(std::fs::read(&p).unwrap(), V2);

    let (mut j, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l, v2_leases());
    assert_eq!(version(&p), 3);
    assert_eq!(std::fs::read(dir.path().join("leases.v2")).unwrap(), V2);
    let mut new = lease(
        105,
        b"\x01\x02\0\0\0\0\x06",
        LeaseState::Bound,
        Expiry::At(1_900_000_500),
        Tenure::Fresh,
    );
    new.details = LeaseDetails {
        start: Some(1_899_999_900),
        hostname: b"pc-6".to_vec(),
        arch: Some(7),
        boot_file: b"ipxe.efi".to_vec(),
    };
    j.append(std::slice::from_ref(&new)).unwrap();
    drop(j);
    let (_, l) = LeaseJournal::open(&p).unwrap();
    let mut want = v2_leases();
    want.push(new);
    assert_eq!(l, want, "version 3, appended to");
}

/// The bytes the upgrade writes to `leases.new` before renaming it into place.
fn v3_bytes() -> Vec<u8> {
    let mut b = header();
    encode_group(1, &v2_leases(), &mut b);
    b
}

#[test]
fn a_crash_in_the_middle_of_the_upgrade_never_loses_a_lease() {
    let new = v3_bytes();
    let cuts = [0, 1, 19, 20, 36, new.len() / 2, new.len() - 1, new.len()];
    // Crashed before the rename: the old file in place, the backup and the new
    // file written in part (or the new one whole but not yet renamed).
    for &backup in &[0, 20, V2.len() / 2, V2.len()] {
        for &cut in &cuts {
            let dir = tempfile::tempdir().unwrap();
            let p = with_v2(dir.path());
            std::fs::write(dir.path().join("leases.v2"), &V2[..backup]).unwrap();
            std::fs::write(dir.path().join("leases.new"), &new[..cut]).unwrap();
            let (_, l) = LeaseJournal::open(&p).unwrap();
            assert_eq!(
                l,
                v2_leases(),
                "backup {backup} bytes, new file {cut} bytes"
            );
            assert_eq!(std::fs::read(&p).unwrap(), new);
            assert_eq!(std::fs::read(dir.path().join("leases.v2")).unwrap(), V2);
            assert!(!dir.path().join("leases.new").exists());
        }
    }
    // Crashed after the rename: the new file is read as it is, not rewritten.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    std::fs::write(&p, &new).unwrap();
    std::fs::write(dir.path().join("leases.v2"), V2).unwrap();
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l, v2_leases());
    assert_eq!(std::fs::read(&p).unwrap(), new);
}

#[test]
fn an_upgrade_that_cannot_write_leaves_the_old_file_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let p = with_v2(dir.path());
    let blocker = dir.path().join("leases.new");
    std::fs::create_dir(&blocker).unwrap();
    let e = LeaseJournal::open(&p).unwrap_err();
    assert!(e.to_string().contains("upgrading lease file"), "{e}");
    assert_eq!(std::fs::read(&p).unwrap(), V2);
    std::fs::remove_dir(&blocker).unwrap();
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l, v2_leases());
    assert_eq!(version(&p), 3);
}

#[test]
fn a_version_1_offer_record_is_dropped_by_the_upgrade_not_written_as_damage() {
    // Version 1 had a state byte 0 (an offer) that later versions refuse.
    let mut b = b"DHCPDPXE-LEASES\n".to_vec();
    b.extend_from_slice(&1u32.to_be_bytes());
    for (last, state) in [(10u8, 0u8), (11, 1)] {
        let mut body = vec![192, 0, 2, last, state];
        body.extend_from_slice(&1_900_000_000u64.to_be_bytes());
        body.extend_from_slice(&[7, 1, 2, 0, 0, 0, 0, last]);
        b.extend_from_slice(&(body.len() as u16).to_be_bytes());
        b.extend_from_slice(&body);
        b.extend_from_slice(&crc32fast::hash(&body).to_be_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("leases");
    std::fs::write(&p, &b).unwrap();
    let (_, l) = LeaseJournal::open(&p).unwrap();
    assert_eq!(l.len(), 1, "{l:?}");
    assert_eq!((l[0].addr.octets()[3], l[0].state), (11, LeaseState::Bound));
    let (_, again) = LeaseJournal::open(&p).unwrap();
    assert_eq!(again, l);
    assert_eq!(std::fs::read(dir.path().join("leases.v1")).unwrap(), b);
}
