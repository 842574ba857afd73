//! Tests of [`FileCache`]: sharing, invalidation, eviction, single flight.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::Duration;

fn v(ino: u64, size: u64, mtime_ns: i128) -> Version {
    Version {
        dev: 1,
        ino,
        size,
        mtime_ns,
        ctime_ns: mtime_ns,
    }
}

fn filled(version: Version, byte: u8) -> impl FnOnce() -> io::Result<Vec<u8>> {
    move || Ok(vec![byte; version.size as usize])
}

fn must_not_load() -> io::Result<Vec<u8>> {
    panic!("the file was read again")
}

#[test]
fn transfers_of_one_version_share_one_buffer() {
    let cache = FileCache::new(1 << 20);
    let version = v(1, 1000, 5);
    let a = cache.get(version, filled(version, 7)).unwrap().unwrap();
    let b = cache.get(version, must_not_load).unwrap().unwrap();
    assert_eq!(a.as_ptr(), b.as_ptr());
    assert_eq!(&b[..], &[7u8; 1000][..]);
    // A slice (a DATA payload) points into the same buffer.
    assert_eq!(b.slice(512..1000).as_ptr(), a[512..].as_ptr());
    assert_eq!(
        cache.usage(),
        Usage {
            entries: 1,
            bytes: 1000
        }
    );
}

#[test]
fn a_changed_file_is_a_new_entry_and_the_old_one_goes_when_unused() {
    let cache = FileCache::new(1 << 20);
    let old = v(1, 1000, 5);
    let held = cache.get(old, filled(old, 1)).unwrap().unwrap();
    for new in [v(1, 1000, 6), v(1, 999, 6), v(2, 1000, 6)] {
        let data = cache.get(new, filled(new, 2)).unwrap().unwrap();
        assert_ne!(data.as_ptr(), held.as_ptr());
        assert_eq!(data[0], 2);
    }
    // The running transfer still has the old bytes, untouched.
    assert_eq!(&held[..], &[1u8; 1000][..]);
    let mtime_7 = v(1, 1000, 7);
    drop(held);
    cache.get(mtime_7, filled(mtime_7, 3)).unwrap().unwrap();
    // Old versions of inode 1 are gone once unused; inode 2 stays.
    assert_eq!(cache.usage().entries, 2);
    assert_eq!(cache.usage().bytes, 2000);
}

#[test]
fn eviction_keeps_entries_in_use_and_drops_the_least_recently_used() {
    let cache = FileCache::new(3000);
    let (a, b, c, d) = (v(1, 1000, 0), v(2, 1000, 0), v(3, 1000, 0), v(4, 1000, 0));
    let held_a = cache.get(a, filled(a, 1)).unwrap().unwrap();
    drop(cache.get(b, filled(b, 2)).unwrap());
    drop(cache.get(c, filled(c, 3)).unwrap());
    // Touch b: c is now the least recently used entry not in use.
    drop(cache.get(b, must_not_load).unwrap());
    drop(cache.get(d, filled(d, 4)).unwrap());
    assert_eq!(cache.usage().bytes, 3000);
    assert!(
        cache.get(c, || Ok(vec![3; 1000])).unwrap().is_some(),
        "c was re-read"
    );
    // c came back by evicting b (d was used after b); a stayed: it is in use.
    assert_eq!(
        cache.get(a, must_not_load).unwrap().unwrap().as_ptr(),
        held_a.as_ptr()
    );
    let reads = AtomicUsize::new(0);
    let count = || {
        reads.fetch_add(1, Ordering::Relaxed);
        Ok(vec![2; 1000])
    };
    cache.get(b, count).unwrap().unwrap();
    assert_eq!(
        reads.load(Ordering::Relaxed),
        1,
        "b should have been evicted"
    );
    assert!(cache.usage().bytes <= 3000);
}

#[test]
fn files_that_do_not_fit_are_not_cached() {
    let cache = FileCache::new(3000);
    let big = v(1, 3001, 0);
    assert!(cache.get(big, must_not_load).unwrap().is_none());
    // Everything in use: no room, stream instead of going over the cap.
    let (a, b) = (v(2, 2000, 0), v(3, 1500, 0));
    let _held = cache.get(a, filled(a, 1)).unwrap().unwrap();
    assert!(cache.get(b, must_not_load).unwrap().is_none());
    assert_eq!(cache.usage().bytes, 2000);
    let off = FileCache::new(0);
    assert!(off.get(a, must_not_load).unwrap().is_none());
}

#[test]
fn concurrent_first_requests_read_the_file_once() {
    const THREADS: usize = 8;
    let cache = FileCache::new(1 << 20);
    let version = v(1, 4096, 0);
    let reads = AtomicUsize::new(0);
    let start = Barrier::new(THREADS);
    let results: Vec<Bytes> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    start.wait();
                    cache
                        .get(version, || {
                            reads.fetch_add(1, Ordering::SeqCst);
                            // Slow read: the others arrive while it runs.
                            std::thread::sleep(Duration::from_millis(50));
                            Ok(vec![9; 4096])
                        })
                        .unwrap()
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(reads.load(Ordering::SeqCst), 1);
    assert!(results.iter().all(|r| r.as_ptr() == results[0].as_ptr()));
}

#[test]
fn a_failed_read_reaches_the_waiters_and_is_not_cached() {
    let cache = FileCache::new(1 << 20);
    let version = v(1, 100, 0);
    let start = Barrier::new(2);
    std::thread::scope(|s| {
        let waiter = s.spawn(|| {
            start.wait();
            std::thread::sleep(Duration::from_millis(20));
            cache.get(version, || Ok(vec![1; 100]))
        });
        let loader = cache.get(version, || {
            start.wait();
            std::thread::sleep(Duration::from_millis(100));
            Err(crate::source::stream::changed())
        });
        let err = loader.unwrap_err();
        assert!(crate::source::stream::is_changed(&err));
        // The waiter either shared the failure or read the file itself
        // after the failed entry was removed.
        match waiter.join().unwrap() {
            Err(e) => assert!(crate::source::stream::is_changed(&e), "{e}"),
            Ok(data) => assert_eq!(data.unwrap().len(), 100),
        }
    });
    assert_eq!(cache.usage().bytes, cache.usage().entries as u64 * 100);
}

#[test]
fn a_panicking_read_leaves_no_entry() {
    let cache = FileCache::new(1 << 20);
    let version = v(1, 100, 0);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        cache.get(version, || panic!("read failed"))
    }));
    assert!(caught.is_err());
    assert_eq!(
        cache.usage(),
        Usage {
            entries: 0,
            bytes: 0
        }
    );
    assert!(cache.get(version, filled(version, 1)).unwrap().is_some());
}
