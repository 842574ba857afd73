//! The retransmission timer, gap reports and pacing, driven packet by packet
//! with a virtual clock.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tftp::packet::{self, Opcode};
use tftp::{DataBatch, Limits, Mode, Outcome, Packet, RequestOptions, RetryPolicy, Transfer};

const CLIENT: &str = "192.0.2.10:40000";
const SERVER: &str = "192.0.2.1:69";
const TID: &str = "192.0.2.1:50000";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A server read of `blocks` full 512-byte blocks (plus the empty last one)
/// that negotiated `windowsize`; returns it after the OACK left at `t0`.
fn server(t0: Instant, windowsize: u16, blocks: usize) -> Transfer {
    let mut buf = [0u8; 512];
    let ws = windowsize.to_string();
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Rrq,
        Some((b"f", Mode::Octet)),
        [("blksize", "512"), ("windowsize", ws.as_str())],
    )
    .unwrap();
    let Ok(Packet::Rrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    let mut t = Transfer::server_read(
        t0,
        addr(CLIENT),
        &r,
        Bytes::from(vec![5u8; blocks * 512]),
        &Limits::default(),
        RetryPolicy::default(),
    );
    let out = sent(&mut t, t0);
    assert!(matches!(Packet::parse(&out[0]), Ok(Packet::Oack(_))));
    t
}

/// Whole datagrams the transfer sends now.
fn sent(t: &mut Transfer, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    while let Some(tx) = t.poll_transmit(now, &mut buf) {
        let mut d = buf[..tx.len].to_vec();
        d.extend_from_slice(&tx.payload);
        out.push(d);
    }
    out
}

/// Block numbers of the DATA among `out`.
fn blocks(out: &[Vec<u8>]) -> Vec<u16> {
    out.iter()
        .filter_map(|d| match Packet::parse(d) {
            Ok(Packet::Data { block, .. }) => Some(block),
            _ => None,
        })
        .collect()
}

fn ack(block: u16) -> Vec<u8> {
    let mut b = [0u8; 4];
    Packet::Ack { block }.encode(&mut b).unwrap();
    b.to_vec()
}

fn data(block: u16) -> Vec<u8> {
    let mut d = vec![0, 3];
    d.extend_from_slice(&block.to_be_bytes());
    d.extend_from_slice(&[9u8; 512]);
    d
}

#[test]
fn the_timer_follows_the_measured_round_trip() {
    let t0 = Instant::now();
    let mut t = server(t0, 4, 40);
    // Before any sample: the initial interval.
    assert_eq!(t.poll_timeout(), Some(t0 + Duration::from_secs(1)));
    let t1 = t0 + ms(2);
    t.handle(t1, addr(CLIENT), &ack(0));
    assert_eq!(blocks(&sent(&mut t, t1)), vec![1, 2, 3, 4]);
    let s = t.stats();
    assert_eq!(s.srtt, Some(ms(2)), "the OACK's round trip");
    // 2 ms + 4 × 1 ms is under the 10 ms floor.
    assert_eq!(s.rto, ms(10));
    // First the tail probe: the last block again, once the ACK is overdue.
    // One sample leaves the variance at half the round trip, so that is
    // srtt + 4 × rttvar = 6 ms (more than two round trips).
    assert_eq!(t.poll_timeout(), Some(t1 + ms(6)));
    t.handle_timeout(t1 + ms(6));
    assert_eq!(blocks(&sent(&mut t, t1 + ms(6))), vec![4]);
    assert_eq!((t.stats().timeouts, t.stats().tail_probes), (0, 1));
    // Still no ACK: the timer fires 10 ms after the last send, not a
    // second, and one block probes from the first unacknowledged.
    let t2 = t1 + ms(16);
    assert_eq!(t.poll_timeout(), Some(t2));
    t.handle_timeout(t2);
    assert_eq!(blocks(&sent(&mut t, t2)), vec![1]);
    assert_eq!(t.stats().timeouts, 1);
    // That probe waits one round trip for an answer before the rest
    // follows, and the timer is backed off to 20 ms until an ACK makes
    // progress.
    assert_eq!(t.poll_timeout(), Some(t2 + ms(2)));
    assert_eq!(t.stats().rto, ms(20));
    t.handle(t2 + ms(1), addr(CLIENT), &ack(4));
    assert_eq!(t.stats().rto, ms(10));
    assert_eq!(
        t.stats().srtt,
        Some(ms(2)),
        "no sample from a resent window"
    );
}

#[test]
fn a_measured_timer_never_gives_up_before_the_retry_budget() {
    let t0 = Instant::now();
    let mut t = server(t0, 4, 40);
    let t1 = t0 + ms(1);
    t.handle(t1, addr(CLIENT), &ack(0));
    sent(&mut t, t1);
    // The client vanishes.
    let mut now = t1;
    let mut rounds = 0;
    while let Some(d) = t.poll_timeout() {
        now = d;
        t.handle_timeout(now);
        sent(&mut t, now);
        rounds += 1;
        assert!(rounds < 100);
    }
    assert_eq!(t.outcome(), Some(&Outcome::TimedOut));
    let budget = RetryPolicy::default().budget();
    assert_eq!(budget, Duration::from_secs(39));
    assert!(now - t1 >= budget, "gave up after {:?}", now - t1);
    assert!(now - t1 < budget + Duration::from_secs(8));
    assert!(t.stats().timeouts > 6, "more, shorter retries");
}

#[test]
fn a_gap_report_restarts_and_pacing_holds_the_rest_until_its_release() {
    let t0 = Instant::now();
    let mut t = server(t0, 8, 64);
    let t1 = t0 + ms(1);
    t.handle(t1, addr(CLIENT), &ack(0));
    let mut batch = DataBatch::new();
    assert_eq!(t.poll_transmit_batch(t1, 64, &mut batch), 8);
    assert_eq!(batch.destination, addr(CLIENT));
    assert_eq!(t.stats().pacing, None, "no loss, no pacing");
    // Block 4 was lost; the receiver reports it at once with ACK 3.
    let t2 = t1 + ms(1);
    t.handle(t2, addr(CLIENT), &ack(3));
    assert_eq!(
        t.poll_transmit_batch(t2, 64, &mut batch),
        4,
        "half a window"
    );
    let first: Vec<u16> = batch
        .blocks
        .iter()
        .map(|(h, _)| u16::from_be_bytes([h[2], h[3]]))
        .collect();
    assert_eq!(first, vec![4, 5, 6, 7]);
    assert_eq!(t.poll_transmit_batch(t2, 64, &mut batch), 0);
    assert!(sent(&mut t, t2).is_empty(), "poll_transmit waits too");
    let s = t.stats();
    assert_eq!((s.fast_recoveries, s.window), (1, 4));
    let srtt = s.srtt.unwrap();
    assert_eq!(s.pacing, Some(srtt), "one burst per round trip");
    let release = t.poll_timeout().unwrap();
    assert_eq!(release, t2 + srtt);
    t.handle_timeout(release);
    assert_eq!(t.stats().timeouts, 0, "a release is not a timeout");
    assert_eq!(t.poll_transmit_batch(release, 64, &mut batch), 4);
    // The round is out: its tail probe once the ACK is overdue (one sample:
    // srtt + 4 × rttvar = 3 × srtt), then the timer.
    assert_eq!(t.poll_timeout(), Some(release + srtt * 3));
    assert!(srtt * 3 < t.stats().rto);
}

#[test]
fn a_duplicate_ack_restarts_only_after_a_gap_could_be_seen() {
    let t0 = Instant::now();
    let mut t = server(t0, 4, 64);
    let t1 = t0 + ms(1);
    t.handle(t1, addr(CLIENT), &ack(0));
    assert_eq!(blocks(&sent(&mut t, t1)), vec![1, 2, 3, 4]);
    t.handle(t1 + ms(1), addr(CLIENT), &ack(4));
    assert_eq!(blocks(&sent(&mut t, t1 + ms(1))), vec![5, 6, 7, 8]);
    // Block 5 lost, the receiver saw 6 and repeats ACK 4 (RFC 7440 §4).
    let t2 = t1 + ms(2);
    t.handle(t2, addr(CLIENT), &ack(4));
    assert_eq!(blocks(&sent(&mut t, t2)), vec![5, 6]);
    // Further copies of ACK 4 are plain duplicates (RFC 1123 §4.2.3.1).
    for _ in 0..3 {
        t.handle(t2, addr(CLIENT), &ack(4));
        assert!(sent(&mut t, t2).is_empty());
    }
    assert_eq!(t.stats().fast_recoveries, 1);
}

#[test]
fn our_client_reports_each_gap_at_once_and_once() {
    let t0 = Instant::now();
    let asked = RequestOptions {
        blksize: Some(512),
        windowsize: Some(8),
        ..RequestOptions::default()
    };
    let mut c = Transfer::client_get(
        t0,
        addr(SERVER),
        b"f",
        Mode::Octet,
        asked,
        RetryPolicy::default(),
    );
    assert!(matches!(
        Packet::parse(&sent(&mut c, t0)[0]),
        Ok(Packet::Rrq(_))
    ));
    let mut buf = [0u8; 512];
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Oack,
        None,
        [("blksize", "512"), ("windowsize", "8")],
    )
    .unwrap();
    c.handle(t0, addr(TID), &buf[..n]);
    assert_eq!(sent(&mut c, t0), vec![ack(0)]);
    let mut acks_for = |block: u16| {
        c.handle(t0, addr(TID), &data(block));
        sent(&mut c, t0)
    };
    assert!(acks_for(1).is_empty());
    // 2 lost: the first block past the gap draws ACK 1 at once, the rest nothing.
    assert_eq!(acks_for(3), vec![ack(1)]);
    assert!(acks_for(4).is_empty());
    assert!(acks_for(5).is_empty());
    // The server restarts at 2 and loses it again: a new gap, a new report.
    assert_eq!(acks_for(3), vec![ack(1)]);
    assert!(acks_for(4).is_empty());
    assert!(acks_for(2).is_empty(), "in order again");
    assert!(acks_for(3).is_empty());
}

/// A silent client ends the transfer within the retry budget (plus at most
/// one capped interval) whatever pacing holds back: the gaps between paced
/// bursts, up to eight round trips each, count as waiting too. A slow
/// handshake (a 1 s round trip) and a 64-block window once let a silent
/// client keep the transfer alive for most of an hour.
#[test]
fn a_silent_client_times_out_within_the_budget_while_paced() {
    let t0 = Instant::now();
    let mut t = server(t0, 64, 400);
    let t1 = t0 + Duration::from_secs(1);
    t.handle(t1, addr(CLIENT), &ack(0));
    assert_eq!(blocks(&sent(&mut t, t1)).len(), 64);
    // The client goes silent.
    let mut now = t1;
    let limit = RetryPolicy::default().budget() + Duration::from_secs(8);
    for _ in 0..10_000 {
        let Some(d) = t.poll_timeout() else { break };
        now = now.max(d);
        if now - t1 > limit {
            break;
        }
        t.handle_timeout(now);
        sent(&mut t, now);
    }
    assert_eq!(
        t.outcome(),
        Some(&Outcome::TimedOut),
        "alive after {:?}",
        now - t1
    );
    assert!(now - t1 >= RetryPolicy::default().budget());
    assert!(t.stats().pacing.is_some(), "the timeouts started pacing");
}
