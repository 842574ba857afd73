//! Finishing an upload off the driving thread: with `hand_off_finish` the
//! transfer hands its sink out after the last block, holds the final ACK
//! back until `handle_finished`, and turns a failed finish into an ERROR.

use std::net::SocketAddr;
use std::time::Instant;

use tftp::packet::{self, Opcode};
use tftp::{ErrorCode, Limits, Mode, Outcome, Packet, RetryPolicy, Transfer};

use crate::sim::SharedSink;

fn client() -> SocketAddr {
    "192.0.2.10:40000".parse().unwrap()
}

/// A server write of a WRQ without options, into a fresh sink.
fn wrq(sink: &SharedSink) -> Transfer {
    let mut buf = [0u8; 512];
    let n = packet::encode_with_options(
        &mut buf,
        Opcode::Wrq,
        Some((b"up", Mode::Octet)),
        std::iter::empty(),
    )
    .unwrap();
    let Ok(Packet::Wrq(r)) = Packet::parse(&buf[..n]) else {
        unreachable!()
    };
    Transfer::server_write(
        Instant::now(),
        client(),
        &r,
        Box::new(sink.clone()),
        &Limits::default(),
        RetryPolicy::default(),
    )
}

fn sink() -> SharedSink {
    SharedSink::default()
}

/// What the transfer sends now, parsed: ACK block numbers and ERROR codes.
fn sent(t: &mut Transfer) -> Vec<Result<u16, ErrorCode>> {
    let mut buf = [0u8; 1024];
    let mut out = Vec::new();
    while let Some(tx) = t.poll_transmit(Instant::now(), &mut buf) {
        match Packet::parse(&buf[..tx.len]).unwrap() {
            Packet::Ack { block } => out.push(Ok(block)),
            Packet::Error { code, .. } => out.push(Err(code)),
            other => panic!("unexpected {other:?}"),
        }
    }
    out
}

fn data(t: &mut Transfer, block: u16, len: usize) {
    let mut d = vec![0, 3];
    d.extend_from_slice(&block.to_be_bytes());
    d.extend(std::iter::repeat_n(b'u', len));
    t.handle(Instant::now(), client(), &d);
}

#[test]
fn the_final_ack_waits_for_the_finish_done_elsewhere() {
    let s = sink();
    let mut t = wrq(&s);
    t.hand_off_finish();
    assert_eq!(sent(&mut t), vec![Ok(0)]);
    data(&mut t, 1, 512);
    assert_eq!(sent(&mut t), vec![Ok(1)]);
    assert!(t.poll_finish().is_none());
    data(&mut t, 2, 100);
    // Last block written, not yet acknowledged, sink not finished.
    assert_eq!(sent(&mut t), vec![]);
    assert!(t.poll_timeout().is_none());
    let handed = t.poll_finish().expect("the sink is handed out");
    assert!(!*s.finished.lock().unwrap());
    // A repeat of the last block meanwhile is not acknowledged either.
    data(&mut t, 2, 100);
    assert_eq!(sent(&mut t), vec![]);
    let result = std::thread::spawn(move || handed.finish()).join().unwrap();
    t.handle_finished(Instant::now(), result);
    assert!(*s.finished.lock().unwrap());
    assert_eq!(sent(&mut t), vec![Ok(2)]);
    assert_eq!(t.outcome(), Some(&Outcome::Complete));
    assert_eq!(s.data.lock().unwrap().len(), 612);
}

#[test]
fn a_failed_finish_is_an_error_to_the_client() {
    let s = sink();
    let mut t = wrq(&s);
    t.hand_off_finish();
    sent(&mut t);
    data(&mut t, 1, 10);
    let _sink = t.poll_finish().expect("the sink is handed out");
    t.handle_finished(Instant::now(), Err(std::io::ErrorKind::StorageFull.into()));
    assert_eq!(sent(&mut t), vec![Err(ErrorCode::DiskFull)]);
    assert!(matches!(t.outcome(), Some(Outcome::Refused { .. })));
}

#[test]
fn without_hand_off_the_transfer_finishes_the_sink_itself() {
    let s = sink();
    let mut t = wrq(&s);
    sent(&mut t);
    data(&mut t, 1, 10);
    assert!(t.poll_finish().is_none());
    assert!(*s.finished.lock().unwrap());
    assert_eq!(sent(&mut t), vec![Ok(1)]);
}
