//! Named behaviours of the engine, each driven directly or through the
//! simulated channel with a virtual clock.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tftp::packet::{self, Opcode};
use tftp::{
    ErrorCode, Limits, Mode, Outcome, Packet, RequestOptions, RetryPolicy, Rollover, Transfer,
};

use crate::sim::{Faults, Net, Rng, ServerSide, SharedSink, SERVER};

const CLIENT: &str = "192.0.2.10:40000";

fn client() -> SocketAddr {
    CLIENT.parse().unwrap()
}

/// Encodes an RRQ and hands its parsed view to `f`.
fn with_rrq<T>(name: &str, opts: &[(&str, &str)], f: impl FnOnce(&packet::Request<'_>) -> T) -> T {
    let mut buf = [0u8; 512];
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Rrq,
        Some((name.as_bytes(), Mode::Octet)),
        opts.iter().copied(),
    )
    .unwrap();
    let Ok(Packet::Rrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    f(&r)
}

/// A server read of `size` bytes of 1s, with default limits and retry policy.
fn serve(now: Instant, name: &str, opts: &[(&str, &str)], size: usize) -> Transfer {
    with_rrq(name, opts, |r| {
        Transfer::server_read(
            now,
            client(),
            r,
            Bytes::from(vec![1u8; size]),
            &Limits::default(),
            RetryPolicy::default(),
        )
    })
}

/// Collects everything a transfer wants to send now, as whole datagrams.
fn drain(t: &mut Transfer, now: Instant) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    while let Some(tx) = t.poll_transmit(now, &mut buf) {
        let mut d = buf[..tx.len].to_vec();
        d.extend_from_slice(&tx.payload);
        out.push((tx.destination, d));
    }
    out
}

fn ack(block: u16) -> Vec<u8> {
    let mut b = [0u8; 4];
    Packet::Ack { block }.encode(&mut b).unwrap();
    b.to_vec()
}

#[test]
fn uefi_size_probe_ends_quietly() {
    let now = Instant::now();
    let mut t = with_rrq(
        "bootx64.efi",
        &[("tsize", "0"), ("blksize", "1468"), ("windowsize", "4")],
        |r| {
            Transfer::server_read(
                now,
                client(),
                r,
                Bytes::from(vec![1u8; 5000]),
                &Limits::default(),
                RetryPolicy::default(),
            )
        },
    );
    let out = drain(&mut t, now);
    assert_eq!(out.len(), 1);
    let Ok(Packet::Oack(o)) = Packet::parse(&out[0].1) else {
        panic!("no OACK")
    };
    assert_eq!(o.get("tsize"), Some(&b"5000"[..]));
    t.handle(
        now,
        client(),
        b"\x00\x05\x00\x08User aborted the transfer\x00",
    );
    assert_eq!(t.outcome(), Some(&Outcome::SizeProbe));
    assert!(t.is_finished());
    assert!(
        drain(&mut t, now).is_empty(),
        "nothing is sent after the probe"
    );
}

#[test]
fn foreign_tid_gets_error_5_and_the_transfer_goes_on() {
    let now = Instant::now();
    let mut t = serve(now, "f", &[], 2000);
    let first = drain(&mut t, now);
    assert_eq!(first.len(), 1);
    let stranger: SocketAddr = "192.0.2.99:1234".parse().unwrap();
    t.handle(now, stranger, &ack(1));
    let out = drain(&mut t, now);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].0, stranger);
    assert!(matches!(
        Packet::parse(&out[0].1),
        Ok(Packet::Error {
            code: ErrorCode::UnknownTid,
            ..
        })
    ));
    t.handle(now, client(), &ack(1));
    let out = drain(&mut t, now);
    assert!(matches!(
        Packet::parse(&out[0].1),
        Ok(Packet::Data { block: 2, .. })
    ));
    assert_eq!(out[0].0, client());
}

#[test]
fn duplicate_ack_sends_nothing() {
    let now = Instant::now();
    let mut t = serve(now, "f", &[], 5000);
    drain(&mut t, now);
    t.handle(now, client(), &ack(1));
    assert_eq!(drain(&mut t, now).len(), 1);
    for _ in 0..5 {
        t.handle(now, client(), &ack(1));
        assert!(
            drain(&mut t, now).is_empty(),
            "a duplicate ACK caused a send"
        );
    }
}

#[test]
fn malformed_datagrams_change_nothing() {
    let now = Instant::now();
    let mut t = serve(now, "f", &[], 5000);
    drain(&mut t, now);
    let mut rng = Rng::new(1);
    for len in 0..64 {
        let junk = rng.bytes(len);
        if Packet::parse(&junk).is_ok() {
            continue;
        }
        t.handle(now, client(), &junk);
    }
    assert!(drain(&mut t, now).is_empty());
    assert_eq!(t.outcome(), None);
    t.handle(now, client(), &ack(1));
    assert_eq!(drain(&mut t, now).len(), 1);
}

#[test]
fn backoff_doubles_and_gives_up() {
    let start = Instant::now();
    let retry = RetryPolicy {
        initial: Duration::from_secs(1),
        max_interval: Duration::from_secs(4),
        max_retries: 4,
        dally: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let mut t = with_rrq("f", &[], |r| {
        Transfer::server_read(
            start,
            client(),
            r,
            Bytes::from(vec![1u8; 600]),
            &Limits::default(),
            retry,
        )
    });
    let mut now = start;
    drain(&mut t, now);
    let mut gaps = Vec::new();
    while let Some(deadline) = t.poll_timeout() {
        gaps.push((deadline - now).as_secs());
        now = deadline;
        t.handle_timeout(now);
        drain(&mut t, now);
    }
    assert_eq!(gaps, vec![1, 2, 4, 4, 4]);
    assert_eq!(t.outcome(), Some(&Outcome::TimedOut));
    assert_eq!(t.stats().retransmits, 4);
}

#[test]
fn server_write_dallies_and_answers_a_repeated_final_block() {
    let now = Instant::now();
    let sink = SharedSink::default();
    let mut buf = [0u8; 512];
    let n =
        packet::encode_with_options(&mut buf, Opcode::Wrq, Some((b"up", Mode::Octet)), []).unwrap();
    let Ok(Packet::Wrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    let mut t = Transfer::server_write(
        now,
        client(),
        &r,
        Box::new(sink.clone()),
        &Limits::default(),
        RetryPolicy::default(),
    );
    assert_eq!(drain(&mut t, now)[0].1, ack(0));
    t.handle(now, client(), b"\x00\x03\x00\x01hello");
    assert_eq!(drain(&mut t, now)[0].1, ack(1));
    assert_eq!(t.outcome(), Some(&Outcome::Complete));
    assert!(!t.is_finished(), "dallying");
    assert!(*sink.finished.lock().unwrap());
    t.handle(now, client(), b"\x00\x03\x00\x01hello");
    assert_eq!(drain(&mut t, now)[0].1, ack(1));
    let end = t.poll_timeout().unwrap();
    t.handle_timeout(end);
    assert!(t.is_finished());
    assert_eq!(&sink.data.lock().unwrap()[..], b"hello");
}

#[test]
fn oversized_tsize_on_write_is_refused_with_code_3() {
    let now = Instant::now();
    let mut buf = [0u8; 512];
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Wrq,
        Some((b"big", Mode::Octet)),
        [("tsize", "1000")],
    )
    .unwrap();
    let Ok(Packet::Wrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    let limits = Limits {
        max_tsize_write: Some(999),
        ..Limits::default()
    };
    let mut t = Transfer::server_write(
        now,
        client(),
        &r,
        Box::new(SharedSink::default()),
        &limits,
        RetryPolicy::default(),
    );
    let out = drain(&mut t, now);
    assert!(matches!(
        Packet::parse(&out[0].1),
        Ok(Packet::Error {
            code: ErrorCode::DiskFull,
            ..
        })
    ));
    assert!(t.is_finished());
}

fn transfer_via_sim(
    size: usize,
    blksize: u16,
    windowsize: u16,
    rollover: Option<Rollover>,
    faults: Faults,
    seed: u64,
) -> (Vec<u8>, Vec<u8>, u64) {
    let file = Bytes::from(Rng::new(seed).bytes(size));
    let side = ServerSide {
        file: file.clone(),
        sink: SharedSink::default(),
        limits: Limits::default(),
        retry: RetryPolicy {
            initial: Duration::from_millis(100),
            ..RetryPolicy::default()
        },
    };
    let asked = RequestOptions {
        blksize: Some(blksize),
        windowsize: Some(windowsize),
        rollover,
        ..RequestOptions::default()
    };
    let server = SERVER.parse().unwrap();
    let mut net = Net::new(seed, faults, side, |now| {
        Transfer::client_get(
            now,
            server,
            b"big",
            Mode::Octet,
            asked,
            RetryPolicy::default(),
        )
    });
    assert!(net.run(50_000_000, Duration::from_secs(36_000)));
    assert_eq!(net.client.outcome(), Some(&Outcome::Complete));
    let blocks = net.client.stats().bytes;
    (net.client.take_received().to_vec(), file.to_vec(), blocks)
}

#[test]
fn forty_mib_at_512_byte_blocks_rolls_over_to_zero() {
    let size = 40 * 1024 * 1024;
    let (got, want, bytes) = transfer_via_sim(
        size,
        512,
        1,
        None,
        Faults {
            loss: 2,
            duplicate: 2,
            reorder: 2,
        },
        11,
    );
    assert_eq!(bytes, size as u64);
    assert!(got == want, "40 MiB differs");
}

#[test]
fn rollover_to_one_when_asked() {
    // 70,000 blocks of 16 bytes: past 65535 once.
    let (got, want, _) = transfer_via_sim(
        70_000 * 16 + 5,
        16,
        8,
        Some(Rollover::ToOne),
        Faults {
            loss: 5,
            duplicate: 5,
            reorder: 5,
        },
        12,
    );
    assert!(got == want);
}

#[test]
fn more_than_4_gib_at_large_blocks() {
    // A zero-filled 4 GiB + 1 MiB file: allocated lazily, sent as slices, counted on arrival.
    let size: u64 = (4 << 30) + (1 << 20);
    let file = Bytes::from(vec![0u8; size as usize]);
    let start = Instant::now();
    let server: SocketAddr = SERVER.parse().unwrap();
    let asked = RequestOptions {
        blksize: Some(65464),
        windowsize: Some(16),
        tsize: true,
        ..RequestOptions::default()
    };
    let mut c = Transfer::client_put(
        start,
        server,
        b"disk.img",
        Mode::Octet,
        file,
        asked,
        RetryPolicy::default(),
    );
    let mut s: Option<Transfer> = None;
    let counter = CountingSink::default();
    let mut buf = [0u8; 1024];
    let tid: SocketAddr = "192.0.2.1:50000".parse().unwrap();
    for _ in 0..10_000_000u64 {
        let mut moved = false;
        while let Some(tx) = c.poll_transmit(start, &mut buf) {
            moved = true;
            let mut d = buf[..tx.len].to_vec();
            d.extend_from_slice(&tx.payload);
            match &mut s {
                None => {
                    let Ok(Packet::Wrq(r)) = Packet::parse(&d) else {
                        panic!("expected WRQ")
                    };
                    s = Some(Transfer::server_write(
                        start,
                        client(),
                        &r,
                        Box::new(counter.clone()),
                        &Limits::default(),
                        RetryPolicy::default(),
                    ));
                }
                Some(st) => st.handle(start, client(), &d),
            }
        }
        if let Some(st) = &mut s {
            while let Some(tx) = st.poll_transmit(start, &mut buf) {
                moved = true;
                c.handle(start, tid, &buf[..tx.len]);
            }
        }
        if !moved {
            break;
        }
    }
    assert_eq!(c.outcome(), Some(&Outcome::Complete));
    assert_eq!(*counter.bytes.lock().unwrap(), size);
    assert!(!*counter.nonzero.lock().unwrap());
}

#[derive(Debug, Clone, Default)]
struct CountingSink {
    bytes: std::sync::Arc<std::sync::Mutex<u64>>,
    nonzero: std::sync::Arc<std::sync::Mutex<bool>>,
}

impl tftp::source::WriteSink for CountingSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        *self.bytes.lock().unwrap() += data.len() as u64;
        if data.iter().any(|b| *b != 0) {
            *self.nonzero.lock().unwrap() = true;
        }
        Ok(())
    }
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        Ok(())
    }
}
