//! Arbitrary datagram sequences against a server-read or server-write
//! `tftp::Transfer` (the sans-IO state machine) on a virtual clock. Nothing
//! may panic; every transmit must parse back with the codec and be a packet a
//! server may send (DATA no larger than the negotiated block size, ERROR, ACK
//! or OACK, never a request); `poll_transmit` must run dry; and once the
//! datagrams stop the transfer must end through its own timers.
//!
//! Input: one setup byte (file size, upload limit, client address family),
//! then frames of `[control][length: u16 BE][datagram]`. The first frame is the
//! request (RRQ or WRQ); in later ones the control byte says whether the
//! datagram comes from the client or from a foreign port, and how far the
//! clock moves afterwards.
#![no_main]
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use tftp::packet::Packet;
use tftp::source::WriteSink;
use tftp::{Limits, RetryPolicy, Transfer};

/// File sizes around block boundaries (512, 1468) and a few blocks long.
const SIZES: [usize; 8] = [0, 1, 511, 512, 513, 1468, 4096, 70_000];

/// An upload sink that counts the bytes and fails past a limit (a full disk).
#[derive(Debug)]
struct Sink {
    written: usize,
    limit: usize,
}

impl WriteSink for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        if self.written.saturating_add(data.len()) > self.limit {
            return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
        }
        self.written += data.len();
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

/// Text with line ends, so that netascii conversion has work to do.
fn file(len: usize) -> Bytes {
    (0..len)
        .map(|i| match i % 61 {
            59 => b'\r',
            60 => b'\n',
            n => b' ' + (n as u8),
        })
        .collect::<Vec<u8>>()
        .into()
}

fn frames(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&control, rest) = data.split_first()?;
        let (len, rest) = match rest {
            [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
            _ => (rest.len(), &[][..]),
        };
        let (payload, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some((control, payload))
    })
    .take(256)
}

/// Sends everything the transfer has to send, checking each datagram.
fn drain(t: &mut Transfer, now: Instant, peer: SocketAddr, foreign: SocketAddr) {
    let mut buf = [0u8; 516];
    for _ in 0..4096 {
        let Some(out) = t.poll_transmit(now, &mut buf) else {
            return;
        };
        assert!(
            out.destination == peer || out.destination == foreign,
            "sent to {} (peer {peer})",
            out.destination
        );
        let mut datagram = buf[..out.len].to_vec();
        datagram.extend_from_slice(&out.payload);
        let packet = Packet::parse(&datagram).expect("a transmit parses back");
        match packet {
            Packet::Data { payload, .. } => {
                assert_eq!(out.destination, peer, "DATA only to the peer");
                assert!(payload.len() <= usize::from(t.negotiated().blksize));
            }
            Packet::Ack { .. } | Packet::Error { .. } | Packet::Oack(_) => {}
            Packet::Rrq(_) | Packet::Wrq(_) => panic!("a server sent a request"),
        }
        if !out.payload.is_empty() {
            assert!(matches!(packet, Packet::Data { .. }));
        }
    }
    panic!("poll_transmit never runs dry");
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, rest)) = data.split_first() else {
        return;
    };
    let mut frames = frames(rest);
    let Some((_, request)) = frames.next() else {
        return;
    };
    let ip = if setup & 0x80 == 0 {
        IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7))
    } else {
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7))
    };
    let peer = SocketAddr::new(ip, 2048);
    let foreign = SocketAddr::new(ip, 2049);
    let start = Instant::now();
    let mut now = start;
    let limits = Limits::default();
    let retry = RetryPolicy::default();
    let mut t = match Packet::parse(request) {
        Ok(Packet::Rrq(r)) => {
            let body = file(SIZES[usize::from(setup & 7)]);
            Transfer::server_read(now, peer, &r, body, &limits, retry)
        }
        Ok(Packet::Wrq(r)) => {
            let sink = Sink {
                written: 0,
                limit: [usize::MAX, 0, 1000, 100_000][usize::from((setup >> 3) & 3)],
            };
            Transfer::server_write(now, peer, &r, Box::new(sink), &limits, retry)
        }
        _ => return,
    };
    drain(&mut t, now, peer, foreign);
    for (control, datagram) in frames {
        let from = if control & 1 == 0 { peer } else { foreign };
        t.handle(now, from, datagram);
        drain(&mut t, now, peer, foreign);
        now += Duration::from_millis(u64::from(control >> 1) * 50);
        if t.poll_timeout().is_some_and(|d| d <= now) {
            t.handle_timeout(now);
            drain(&mut t, now, peer, foreign);
        }
    }
    // The client goes silent: the transfer's own timers must end it within
    // the documented bound (docs/tftp.md, `RetryPolicy`): the retry budget
    // from the interval in force plus one capped interval, pacing gaps
    // included. The bound is in virtual time, not in wake-ups: a paced
    // sender also wakes for each burst's release (up to a window of 64
    // blocks per retransmission), so the count only guards against a
    // deadline that never moves.
    let initial = t.negotiated().timeout.unwrap_or(retry.initial);
    let policy = RetryPolicy { initial, ..retry };
    let limit = policy.budget() + policy.max_interval.max(initial);
    let silent = now;
    for _ in 0..4096 {
        if t.is_finished() {
            break;
        }
        let deadline = t
            .poll_timeout()
            .expect("an unfinished transfer has a timer");
        assert!(deadline >= start);
        now = now.max(deadline);
        assert!(
            now - silent <= limit,
            "a silent client keeps the transfer past the retry budget"
        );
        t.handle_timeout(now);
        drain(&mut t, now, peer, foreign);
    }
    assert!(t.is_finished(), "a silent client never ends the transfer");
    assert!(t.outcome().is_some(), "a finished transfer has an outcome");
});
