//! Codec and engine throughput: parsing requests, negotiating options, and
//! pushing a whole file through a server read transfer in memory (no sockets):
//! the per-block cost of the sans-IO engine.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tftp::options::{negotiate, Direction};
use tftp::{Limits, Packet, RetryPolicy, Transfer};

const OVMF_RRQ: &[u8] =
    b"\x00\x01bootx64.efi\x00octet\x00tsize\x000\x00blksize\x001468\x00windowsize\x004\x00";

fn parse_and_negotiate(c: &mut Criterion) {
    c.bench_function("parse_rrq", |b| {
        b.iter(|| Packet::parse(black_box(OVMF_RRQ)).unwrap());
    });
    let Ok(Packet::Rrq(r)) = Packet::parse(OVMF_RRQ) else {
        unreachable!()
    };
    let limits = Limits::default();
    c.bench_function("negotiate_rrq", |b| {
        b.iter(|| {
            negotiate(
                black_box(&r.options),
                Direction::Read,
                Some(1 << 20),
                &limits,
            )
            .unwrap()
        });
    });
}

/// Drives a server read to completion, answering each window with its ACK.
fn serve_file(data: &Bytes, rrq: &[u8]) -> u64 {
    let peer: SocketAddr = "192.0.2.10:4000".parse().unwrap();
    let now = Instant::now();
    let Ok(Packet::Rrq(r)) = Packet::parse(rrq) else {
        unreachable!()
    };
    let mut t = Transfer::server_read(
        now,
        peer,
        &r,
        data.clone(),
        &Limits::default(),
        RetryPolicy::default(),
    );
    let mut buf = [0u8; 1024];
    let mut sent = 0u64;
    let mut last_block = None;
    let mut ackbuf = [0u8; 4];
    while !t.is_finished() {
        while let Some(tx) = t.poll_transmit(now, &mut buf) {
            sent += tx.payload.len() as u64;
            if tx.len == 4 {
                last_block = Some(u16::from_be_bytes([buf[2], buf[3]]));
            } else {
                last_block = Some(0); // the OACK
            }
        }
        let b = last_block.take().expect("the engine stalled");
        let n = Packet::Ack { block: b }.encode(&mut ackbuf).unwrap();
        t.handle(now, peer, &ackbuf[..n]);
    }
    sent
}

fn engine(c: &mut Criterion) {
    let data = Bytes::from(vec![0x5au8; 8 << 20]);
    let mut g = c.benchmark_group("server_read_8MiB");
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.sample_size(20);
    for (name, rrq) in [
        (
            "blksize1468_ws1",
            &b"\x00\x01f\x00octet\x00blksize\x001468\x00"[..],
        ),
        (
            "blksize1468_ws16",
            &b"\x00\x01f\x00octet\x00blksize\x001468\x00windowsize\x0016\x00"[..],
        ),
        (
            "blksize65464_ws4",
            &b"\x00\x01f\x00octet\x00blksize\x0065464\x00windowsize\x004\x00"[..],
        ),
    ] {
        g.bench_function(name, |b| b.iter(|| serve_file(&data, rrq)));
    }
    g.finish();
}

criterion_group!(benches, parse_and_negotiate, engine);
criterion_main!(benches);
