//! Loss recovery and pacing on a simulated path: windows larger than the
//! receiver's socket buffer, bursty loss, and a storm of clients sharing one
//! lossy link. Every transfer must complete byte for byte, and within a bound
//! of *virtual* time that a transfer falling back to full timeouts would miss.

use std::time::Duration;

use bytes::Bytes;
use tftp::{Mode, Outcome, RequestOptions, RetryPolicy, Stats, Transfer};

use crate::fabric::{Fabric, Link, Loss, SocketBuffer};
use crate::sim::Rng;

/// Linux's default receive buffer (`net.core.rmem_default`).
const RMEM_DEFAULT: u64 = 212_992;

/// What one scenario run gives.
#[derive(Debug)]
struct Run {
    /// Virtual time until the last client had its file.
    time: Duration,
    /// Per server transfer that served a client.
    server: Vec<Stats>,
    overruns: u64,
    lost: u64,
}

struct Setup {
    seed: u64,
    clients: usize,
    blksize: u16,
    windowsize: u16,
    size: usize,
    up: Link,
    down: Link,
    buffer: Option<SocketBuffer>,
    silent_gaps: bool,
    batch: Option<usize>,
}

impl Setup {
    fn new(blksize: u16, windowsize: u16, size: usize) -> Self {
        Self {
            seed: 1,
            clients: 1,
            blksize,
            windowsize,
            size,
            up: lan(Loss::None),
            down: lan(Loss::None),
            buffer: None,
            silent_gaps: false,
            batch: None,
        }
    }

    fn run(self) -> Run {
        let file = Bytes::from(Rng::new(self.seed).bytes(self.size));
        let asked = RequestOptions {
            blksize: Some(self.blksize),
            windowsize: Some(self.windowsize),
            tsize: true,
            ..RequestOptions::default()
        };
        let retry = RetryPolicy::default();
        let mut net = Fabric::new(
            self.seed,
            (self.up, self.down),
            file.clone(),
            retry,
            self.clients,
            self.buffer,
            |_, now, server| {
                Transfer::client_get(now, server, b"boot.img", Mode::Octet, asked.clone(), retry)
            },
        );
        if self.silent_gaps {
            for c in &mut net.clients {
                c.silent_gaps = Some(1);
            }
        }
        net.batch = self.batch;
        assert!(
            net.run(Duration::from_secs(600)),
            "seed {}: not finished",
            self.seed
        );
        let mut server = Vec::new();
        let mut overruns = 0;
        for i in 0..net.clients.len() {
            let c = &mut net.clients[i];
            assert_eq!(
                c.transfer.outcome(),
                Some(&Outcome::Complete),
                "seed {} client {i}",
                self.seed
            );
            assert!(
                c.transfer.take_received() == file,
                "seed {} client {i}: bytes differ",
                self.seed
            );
            overruns += c.buffer.as_ref().map_or(0, |b| b.overruns);
            let s = net.server_of(i).expect("a server transfer");
            assert_eq!(s.outcome(), Some(&Outcome::Complete));
            server.push(s.stats());
        }
        Run {
            time: net.completion(),
            server,
            overruns,
            lost: net.up.lost + net.down.lost,
        }
    }
}

/// A LAN path: 100 µs each way, no capacity limit.
fn lan(loss: Loss) -> Link {
    Link::new(None, u64::MAX, Duration::from_micros(100), loss)
}

/// A receiver whose application reads 100 MB/s out of a default-sized buffer.
fn small_buffer() -> Option<SocketBuffer> {
    Some(SocketBuffer::new(RMEM_DEFAULT, 100_000_000))
}

#[test]
fn calibrate() {
    for (b, w) in [(1468u16, 16u16), (1468, 64), (1468, 256), (65464, 1), (65464, 4), (65464, 16)] {
        for silent in [false, true] {
            let mut s = Setup::new(b, w, 8 << 20);
            s.buffer = small_buffer();
            s.silent_gaps = silent;
            let r = s.run();
            eprintln!(
                "b{b} w{w} silent={silent}: {:?} overruns {} {:?}",
                r.time, r.overruns, r.server[0]
            );
        }
    }
}
