//! A network of one server and many clients under a virtual clock, for the
//! loss-recovery scenarios: two shared links (clients → server and back) of
//! fixed capacity with drop-tail queues and random or bursty loss, and
//! clients whose socket buffer holds a fixed number of bytes and is drained
//! by the application at a fixed rate (what overruns when a window is larger
//! than the buffer).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tftp::{Limits, Packet, RetryPolicy, Transfer};

use crate::sim::{drain, Rng};

/// How a link loses datagrams, in per mille.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Loss {
    None,
    /// Each datagram independently.
    Random(u64),
    /// Gilbert–Elliott: a good state that loses nothing and a bad state that
    /// loses `bad_loss`; each datagram moves good → bad with `to_bad`, bad →
    /// good with `to_good`.
    Bursty {
        to_bad: u64,
        to_good: u64,
        bad_loss: u64,
    },
}

/// One direction of the shared path.
#[derive(Debug, Clone)]
pub(crate) struct Link {
    /// Bytes per second; `None`: no serialisation delay.
    pub(crate) rate: Option<u64>,
    /// Bytes the queue in front of the link holds before it drops.
    pub(crate) queue: u64,
    pub(crate) delay: Duration,
    pub(crate) loss: Loss,
    bad: bool,
    busy_until: Duration,
    pub(crate) sent: u64,
    pub(crate) lost: u64,
}

impl Link {
    pub(crate) fn new(rate: Option<u64>, queue: u64, delay: Duration, loss: Loss) -> Self {
        Self {
            rate,
            queue,
            delay,
            loss,
            bad: false,
            busy_until: Duration::ZERO,
            sent: 0,
            lost: 0,
        }
    }

    /// A datagram of `len` bytes enters at `now`: when it arrives, or `None`.
    fn pass(&mut self, now: Duration, len: u64, rng: &mut Rng) -> Option<Duration> {
        self.sent += 1;
        let dropped = match self.loss {
            Loss::None => false,
            Loss::Random(p) => rng.chance(p),
            Loss::Bursty {
                to_bad,
                to_good,
                bad_loss,
            } => {
                let flip = if self.bad { to_good } else { to_bad };
                if rng.chance(flip) {
                    self.bad = !self.bad;
                }
                self.bad && rng.chance(bad_loss)
            }
        };
        let start = self.busy_until.max(now);
        let departs = match self.rate {
            Some(rate) => {
                let backlog = (start - now).as_nanos() as u64 * rate / 1_000_000_000;
                if backlog + len > self.queue {
                    self.lost += 1;
                    return None;
                }
                start + Duration::from_nanos(len * 1_000_000_000 / rate)
            }
            None => now,
        };
        self.busy_until = departs;
        if dropped {
            self.lost += 1;
            return None;
        }
        Some(departs + self.delay)
    }
}

/// A receive socket buffer: holds `capacity` bytes of datagrams, the
/// application reads them at `rate` bytes per second, a datagram that does
/// not fit is dropped (as the kernel drops it).
#[derive(Debug, Clone)]
pub(crate) struct SocketBuffer {
    pub(crate) capacity: u64,
    pub(crate) rate: u64,
    /// When each queued datagram is read, and its size.
    queued: VecDeque<(Duration, u64)>,
    pub(crate) overruns: u64,
}

impl SocketBuffer {
    pub(crate) fn new(capacity: u64, rate: u64) -> Self {
        Self {
            capacity,
            rate,
            queued: VecDeque::new(),
            overruns: 0,
        }
    }

    /// A datagram arrives at `at`: when the application reads it, or `None`.
    fn admit(&mut self, at: Duration, len: u64) -> Option<Duration> {
        while self.queued.front().is_some_and(|(t, _)| *t <= at) {
            self.queued.pop_front();
        }
        let held: u64 = self.queued.iter().map(|(_, n)| n).sum();
        if held + len > self.capacity {
            self.overruns += 1;
            return None;
        }
        let after = self.queued.back().map_or(at, |(t, _)| *t).max(at);
        let read = after + Duration::from_nanos(len * 1_000_000_000 / self.rate);
        self.queued.push_back((read, len));
        Some(read)
    }
}

pub(crate) const SERVER: &str = "192.0.2.1:69";

fn client_addr(i: usize) -> SocketAddr {
    SocketAddr::from(([192, 0, 2, 10 + i as u8], 40000))
}

/// One client and what it knows.
pub(crate) struct Client {
    pub(crate) addr: SocketAddr,
    pub(crate) transfer: Transfer,
    pub(crate) buffer: Option<SocketBuffer>,
    /// Model of a client that never answers a gap (it ACKs window ends,
    /// repeats its ACK for an old block and on its own timeout): DATA from
    /// beyond a gap never reaches the transfer. Tracks the next block number
    /// it takes.
    pub(crate) silent_gaps: Option<u16>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Event {
    at: Duration,
    seq: u64,
    /// Still has to pass the receiver's socket buffer.
    arriving: bool,
    from: SocketAddr,
    to: SocketAddr,
    data: Vec<u8>,
}

/// One server (read requests only) and its clients on a shared path.
pub(crate) struct Fabric {
    pub(crate) base: Instant,
    pub(crate) now: Duration,
    rng: Rng,
    pub(crate) up: Link,
    pub(crate) down: Link,
    pub(crate) clients: Vec<Client>,
    /// Server transfers with their TIDs.
    pub(crate) servers: Vec<(SocketAddr, Transfer)>,
    file: Bytes,
    limits: Limits,
    retry: RetryPolicy,
    /// Drive DATA through `poll_transmit_batch`, this many blocks at most.
    pub(crate) batch: Option<usize>,
    heap: BinaryHeap<Reverse<Event>>,
    seq: u64,
    buf: Vec<u8>,
}

impl Fabric {
    /// `clients` clients, each made by `make(i, now, server)` and given the
    /// socket buffer `buffer` (none: unlimited).
    pub(crate) fn new(
        seed: u64,
        (up, down): (Link, Link),
        file: Bytes,
        retry: RetryPolicy,
        clients: usize,
        buffer: Option<SocketBuffer>,
        mut make: impl FnMut(usize, Instant, SocketAddr) -> Transfer,
    ) -> Self {
        let base = Instant::now();
        let server: SocketAddr = SERVER.parse().unwrap();
        Self {
            base,
            now: Duration::ZERO,
            rng: Rng::new(seed),
            up,
            down,
            clients: (0..clients)
                .map(|i| Client {
                    addr: client_addr(i),
                    transfer: make(i, base, server),
                    buffer: buffer.clone(),
                    silent_gaps: None,
                })
                .collect(),
            servers: Vec::new(),
            file,
            limits: Limits {
                max_windowsize: 1024,
                ..Limits::default()
            },
            retry,
            batch: None,
            heap: BinaryHeap::new(),
            seq: 0,
            buf: vec![0; 1024],
        }
    }

    fn instant(&self) -> Instant {
        self.base + self.now
    }

    fn send(&mut self, from: SocketAddr, to: SocketAddr, data: Vec<u8>) {
        let to_server = to.ip() == SERVER.parse::<SocketAddr>().unwrap().ip();
        let link = if to_server {
            &mut self.up
        } else {
            &mut self.down
        };
        let Some(at) = link.pass(self.now, data.len() as u64, &mut self.rng) else {
            return;
        };
        self.seq += 1;
        self.heap.push(Reverse(Event {
            at,
            seq: self.seq,
            arriving: !to_server,
            from,
            to,
            data,
        }));
    }

    fn flush(&mut self) {
        let now = self.instant();
        for i in 0..self.clients.len() {
            let from = self.clients[i].addr;
            for (to, d) in drain(
                &mut self.clients[i].transfer,
                now,
                self.batch,
                &mut self.buf,
            ) {
                self.send(from, to, d);
            }
        }
        for i in 0..self.servers.len() {
            let (tid, server) = &mut self.servers[i];
            let tid = *tid;
            for (to, d) in drain(server, now, self.batch, &mut self.buf) {
                self.send(tid, to, d);
            }
        }
    }

    fn deliver(&mut self, e: Event) {
        let now = self.instant();

        if e.to == SERVER.parse::<SocketAddr>().unwrap() {
            if let Ok(Packet::Rrq(r)) = Packet::parse(&e.data) {
                let tid = SocketAddr::from(([192, 0, 2, 1], 50000 + self.servers.len() as u16));
                let t = Transfer::server_read(
                    now,
                    e.from,
                    &r,
                    self.file.clone(),
                    &self.limits,
                    self.retry,
                );
                self.servers.push((tid, t));
            }
        } else if let Some((_, s)) = self.servers.iter_mut().find(|(tid, _)| *tid == e.to) {
            s.handle(now, e.from, &e.data);
        } else if let Some(c) = self.clients.iter_mut().find(|c| c.addr == e.to) {
            if e.arriving {
                if let Some(b) = &mut c.buffer {
                    let Some(read) = b.admit(e.at, e.data.len() as u64) else {
                        return;
                    };
                    self.seq += 1;
                    self.heap.push(Reverse(Event {
                        at: read,
                        arriving: false,
                        seq: self.seq,
                        ..e
                    }));
                    return;
                }
            }
            if let (Some(next), Ok(Packet::Data { block, .. })) =
                (&mut c.silent_gaps, Packet::parse(&e.data))
            {
                let ahead = block.wrapping_sub(*next);
                if ahead != 0 && ahead < 0x8000 {
                    return;
                }
                if ahead == 0 {
                    *next = next.wrapping_add(1);
                }
            }
            c.transfer.handle(now, e.from, &e.data);
        }
    }

    fn next_deadline(&self) -> Option<Duration> {
        let clients = self.clients.iter().map(|c| &c.transfer);
        clients
            .chain(self.servers.iter().map(|(_, s)| s))
            .filter_map(Transfer::poll_timeout)
            .min()
            .map(|t| t.saturating_duration_since(self.base))
    }

    fn all_finished(&self) -> bool {
        self.clients.iter().all(|c| c.transfer.is_finished())
    }

    /// Runs until every client finished (dally included; a server transfer
    /// started by a repeated request may still be waiting) or `max_time` of virtual time passed;
    /// false when the bound was hit.
    pub(crate) fn run(&mut self, max_time: Duration) -> bool {
        self.flush();
        for _ in 0..100_000_000u64 {
            if self.all_finished() {
                return true;
            }
            let next_event = self.heap.peek().map(|Reverse(e)| e.at);
            let at = match (next_event, self.next_deadline()) {
                (Some(p), Some(t)) => p.min(t),
                (Some(p), None) => p,
                (None, Some(t)) => t,
                (None, None) => return self.all_finished(),
            };
            self.now = self.now.max(at);
            if self.now > max_time {
                return false;
            }
            if next_event == Some(at) {
                let Reverse(e) = self.heap.pop().unwrap();
                self.deliver(e);
            } else {
                let now = self.instant();
                for c in &mut self.clients {
                    c.transfer.handle_timeout(now);
                }
                for (_, s) in &mut self.servers {
                    s.handle_timeout(now);
                }
            }
            self.flush();
        }
        false
    }

    /// Virtual time from the start until the last client had its file.
    pub(crate) fn completion(&self) -> Duration {
        self.clients
            .iter()
            .filter_map(|c| c.transfer.stats().ended)
            .map(|t| t.duration_since(self.base))
            .max()
            .unwrap_or_default()
    }

    /// The server transfer that served client `i`.
    pub(crate) fn server_of(&self, i: usize) -> Option<&Transfer> {
        let peer = self.clients[i].transfer.peer();
        self.servers
            .iter()
            .find(|(tid, _)| *tid == peer)
            .map(|(_, s)| s)
    }
}
