//! A deterministic network for two TFTP endpoints: a virtual clock and a
//! channel that loses, duplicates and reorders datagrams under a seed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use tftp::source::WriteSink;
use tftp::{DataBatch, Limits, Packet, RetryPolicy, Transfer};

/// splitmix64: small, seedable, good enough to pick faults.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    pub(crate) fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
    pub(crate) fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Fault rates in per mille.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Faults {
    pub(crate) loss: u64,
    pub(crate) duplicate: u64,
    pub(crate) reorder: u64,
}

#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Counters {
    pub(crate) sent: u64,
    pub(crate) lost: u64,
    pub(crate) duplicated: u64,
    pub(crate) reordered: u64,
}

impl Counters {
    pub(crate) fn disturbances(&self) -> u64 {
        self.lost + self.duplicated + self.reordered
    }
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    at: Duration,
    seq: u64,
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// A WriteSink that keeps what it was given.
#[derive(Debug, Clone, Default)]
pub(crate) struct SharedSink {
    pub(crate) data: Arc<Mutex<Vec<u8>>>,
    pub(crate) finished: Arc<Mutex<bool>>,
}

impl WriteSink for SharedSink {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.data.lock().unwrap().extend_from_slice(data);
        Ok(())
    }
    fn finish(self: Box<Self>) -> std::io::Result<()> {
        *self.finished.lock().unwrap() = true;
        Ok(())
    }
}

pub(crate) const CLIENT: &str = "192.0.2.10:40000";
pub(crate) const SERVER: &str = "192.0.2.1:69";

/// What the server does with the requests that reach its port 69.
#[derive(Debug, Clone)]
pub(crate) struct ServerSide {
    pub(crate) file: Bytes,
    pub(crate) sink: SharedSink,
    pub(crate) limits: Limits,
    pub(crate) retry: RetryPolicy,
}

/// Client and server endpoints over one faulty channel.
pub(crate) struct Net {
    pub(crate) base: Instant,
    pub(crate) now: Duration,
    pub(crate) rng: Rng,
    pub(crate) faults: Faults,
    pub(crate) counters: Counters,
    heap: BinaryHeap<Reverse<InFlight>>,
    seq: u64,
    pub(crate) client: Transfer,
    /// Server transfers, one per request that reached port 69, with their TIDs.
    pub(crate) servers: Vec<(SocketAddr, Transfer)>,
    pub(crate) side: ServerSide,
    /// Take DATA with `poll_transmit_batch` (at most this many blocks per
    /// call), as a batching driver does, instead of one `poll_transmit` each.
    pub(crate) batch: Option<usize>,
    buf: Vec<u8>,
}

/// Everything `t` wants to send at `now`, as whole datagrams: through
/// `poll_transmit_batch` first when `batch` is set, as the tokio driver does.
pub(crate) fn drain(
    t: &mut Transfer,
    now: Instant,
    batch: Option<usize>,
    buf: &mut [u8],
) -> Vec<(SocketAddr, Vec<u8>)> {
    let mut out = Vec::new();
    if let Some(max) = batch {
        let mut b = DataBatch::new();
        loop {
            let n = t.poll_transmit_batch(now, max, &mut b);
            assert_eq!(n, b.blocks.len());
            assert!(n <= max);
            if n == 0 {
                break;
            }
            for (header, payload) in &b.blocks {
                let mut d = header.to_vec();
                d.extend_from_slice(payload);
                out.push((b.destination, d));
            }
        }
    }
    while let Some(tx) = t.poll_transmit(now, buf) {
        let mut d = buf[..tx.len].to_vec();
        d.extend_from_slice(&tx.payload);
        out.push((tx.destination, d));
    }
    out
}

impl Net {
    pub(crate) fn new(
        seed: u64,
        faults: Faults,
        side: ServerSide,
        make_client: impl FnOnce(Instant) -> Transfer,
    ) -> Self {
        let base = Instant::now();
        Self {
            base,
            now: Duration::ZERO,
            rng: Rng::new(seed),
            faults,
            counters: Counters::default(),
            heap: BinaryHeap::new(),
            seq: 0,
            client: make_client(base),
            servers: Vec::new(),
            side,
            batch: None,
            buf: vec![0; 1024],
        }
    }

    pub(crate) fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        self.counters.sent += 1;
        if self.rng.chance(self.faults.loss) {
            self.counters.lost += 1;
            return;
        }
        let copies = if self.rng.chance(self.faults.duplicate) {
            self.counters.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut delay = Duration::from_micros(500);
            if self.rng.chance(self.faults.reorder) {
                self.counters.reordered += 1;
                delay += Duration::from_micros(self.rng.below(3000));
            }
            self.seq += 1;
            self.heap.push(Reverse(InFlight {
                at: self.now + delay,
                seq: self.seq,
                from,
                to,
                data: data.clone(),
            }));
        }
    }

    fn flush(&mut self) {
        let now = self.instant();
        let client_addr: SocketAddr = CLIENT.parse().unwrap();
        for (to, d) in drain(&mut self.client, now, self.batch, &mut self.buf) {
            self.send(client_addr, to, d);
        }
        for i in 0..self.servers.len() {
            let (tid, server) = &mut self.servers[i];
            let tid = *tid;
            for (to, d) in drain(server, now, self.batch, &mut self.buf) {
                self.send(tid, to, d);
            }
        }
    }

    fn accept(&mut self, from: SocketAddr, data: &[u8]) {
        let now = self.instant();
        let tid: SocketAddr = format!("192.0.2.1:{}", 50000 + self.servers.len())
            .parse()
            .unwrap();
        let t = match Packet::parse(data) {
            Ok(Packet::Rrq(r)) => Transfer::server_read(
                now,
                from,
                &r,
                self.side.file.clone(),
                &self.side.limits,
                self.side.retry,
            ),
            Ok(Packet::Wrq(r)) => Transfer::server_write(
                now,
                from,
                &r,
                Box::new(self.side.sink.clone()),
                &self.side.limits,
                self.side.retry,
            ),
            _ => return,
        };
        self.servers.push((tid, t));
    }

    fn deliver(&mut self, p: InFlight) {
        let now = self.instant();
        let client_addr: SocketAddr = CLIENT.parse().unwrap();
        let server_addr: SocketAddr = SERVER.parse().unwrap();
        if p.to == client_addr {
            self.client.handle(now, p.from, &p.data);
        } else if p.to == server_addr {
            self.accept(p.from, &p.data);
        } else if let Some((_, s)) = self.servers.iter_mut().find(|(tid, _)| *tid == p.to) {
            s.handle(now, p.from, &p.data);
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        let mut best: Option<Instant> = self.client.poll_timeout();
        for (_, s) in &self.servers {
            if let Some(t) = s.poll_timeout() {
                best = Some(best.map_or(t, |b| b.min(t)));
            }
        }
        best.map(|t| t.saturating_duration_since(self.base))
    }

    fn all_finished(&self) -> bool {
        self.client.is_finished() && self.servers.iter().all(|(_, s)| s.is_finished())
    }

    /// Runs until every endpoint finished, or the step/time bound is hit.
    /// Returns false when the bound was hit.
    pub(crate) fn run(&mut self, max_steps: u64, max_time: Duration) -> bool {
        self.flush();
        for _ in 0..max_steps {
            if self.all_finished() && self.heap.is_empty() {
                return true;
            }
            let next_packet = self.heap.peek().map(|Reverse(p)| p.at);
            let next_timer = self.next_deadline();
            let at = match (next_packet, next_timer) {
                (Some(p), Some(t)) => p.min(t),
                (Some(p), None) => p,
                (None, Some(t)) => t,
                (None, None) => return self.all_finished(),
            };
            self.now = self.now.max(at);
            if self.now > max_time {
                return false;
            }
            if next_packet == Some(at) {
                let Reverse(p) = self.heap.pop().unwrap();
                self.deliver(p);
            } else {
                let now = self.instant();
                self.client.handle_timeout(now);
                for (_, s) in &mut self.servers {
                    s.handle_timeout(now);
                }
            }
            self.flush();
        }
        false
    }
}
