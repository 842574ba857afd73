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

fn over_small_buffer(blksize: u16, windowsize: u16, silent: bool) -> Run {
    let mut s = Setup::new(blksize, windowsize, 4 << 20);
    s.buffer = small_buffer();
    s.silent_gaps = silent;
    s.run()
}

#[test]
fn a_window_larger_than_the_receive_buffer_keeps_the_pace_of_a_smaller_one() {
    // 256 × 1468 bytes against 212,992: the tail of a whole window never fits.
    for silent in [false, true] {
        let small = over_small_buffer(1468, 16, silent);
        assert_eq!(small.overruns, 0, "16 blocks fit");
        let big = over_small_buffer(1468, 256, silent);
        let s = &big.server[0];
        eprintln!(
            "ws16 {:?}, ws256 {:?} (silent {silent}): {s:?}",
            small.time, big.time
        );
        assert!(big.overruns > 0, "the scenario overruns the buffer");
        assert!(s.pacing.is_some(), "loss started pacing");
        assert!(s.window < 256, "effective window {}", s.window);
        // A client that reports gaps keeps up with windowsize 16; one that
        // only ACKs window ends costs the sender a few short timeouts more.
        let bound = if silent {
            2 * small.time
        } else {
            small.time * 5 / 4
        };
        assert!(big.time <= bound, "{:?} vs {:?}", big.time, small.time);
        assert!(s.timeouts <= 8, "{} timeouts", s.timeouts);
    }
}

#[test]
fn sixty_four_kib_blocks_into_a_small_buffer_do_not_collapse() {
    // 65464-byte blocks: three fit in 212,992 bytes.
    for silent in [false, true] {
        let lockstep = over_small_buffer(65464, 1, silent).time;
        let four = over_small_buffer(65464, 4, silent);
        let sixteen = over_small_buffer(65464, 16, silent);
        eprintln!(
            "ws1 {lockstep:?} ws4 {:?} ws16 {:?} (silent {silent}) {:?}",
            four.time, sixteen.time, sixteen.server[0]
        );
        for r in [&four, &sixteen] {
            assert!(r.overruns > 0);
            assert!(r.server[0].pacing.is_some(), "loss started pacing");
            assert!(r.time <= lockstep * 3, "{:?} vs {lockstep:?}", r.time);
        }
        // A receiver that reports gaps lets ws 16 keep the pace of ws 4. One
        // that never does leaves only the timer to find a lost middle block
        // (the tail probe finds a lost tail): no collapse against lockstep
        // is what it gets (above).
        if !silent {
            assert!(
                sixteen.time <= four.time * 3 / 2,
                "{:?} vs {:?}",
                sixteen.time,
                four.time
            );
        }
    }
}

/// Gilbert–Elliott loss on both directions: about 1.2 % of datagrams lost,
/// in bursts of two on average.
fn bursty() -> Loss {
    Loss::Bursty {
        to_bad: 5,
        to_good: 500,
        bad_loss: 600,
    }
}

#[test]
fn bursty_loss_is_recovered_in_round_trips_not_seconds() {
    let mut total = Duration::ZERO;
    let (mut lost, mut resent, mut timeouts) = (0, 0, 0);
    for seed in 0..40 {
        for silent in [false, true] {
            let mut s = Setup::new(1468, 16, 1 << 20);
            s.seed = seed;
            s.up = lan(bursty());
            s.down = lan(bursty());
            s.silent_gaps = silent;
            s.batch = (seed % 2 == 1).then_some(16);
            let r = s.run();
            let server = &r.server[0];
            let served = server.ended.unwrap() - server.started;
            total += served;
            lost += r.lost;
            resent += server.retransmits;
            timeouts += server.timeouts;
            // From the request to the last ACK: every loss recovered by a
            // one-second timeout would take seconds; a megabyte takes about
            // 30 ms on this path. (The client's own timer for a lost request
            // is not the server's business.)
            assert!(
                served < Duration::from_millis(500),
                "seed {seed}: {served:?}"
            );
        }
    }
    eprintln!("80 runs: {total:?}, {lost} lost, {resent} resent, {timeouts} timeouts");
    assert!(lost > 100, "the path lost {lost}");
    // Whole windows resent per loss would be about 16 per lost datagram.
    assert!(resent <= lost * 8, "{resent} blocks resent for {lost} lost");
}

#[test]
fn a_storm_of_clients_shares_one_lossy_link() {
    // 24 clients, windowsize 4 (what OVMF asks), half of them never reporting
    // gaps, over a 1 Gb/s link with a 256 KB queue and 2 % random loss both
    // ways; DATA leaves through the batch API.
    let link = |loss| Link::new(Some(125_000_000), 256_000, Duration::from_micros(100), loss);
    for seed in 0..4 {
        let mut s = Setup::new(1468, 4, 512 << 10);
        s.seed = seed;
        s.clients = 24;
        s.up = link(Loss::Random(20));
        s.down = link(Loss::Random(20));
        s.batch = Some(64);
        s.silent_gaps = seed % 2 == 1;
        let r = s.run();
        let timeouts: u64 = r.server.iter().map(|s| s.timeouts).sum();
        let fast: u64 = r.server.iter().map(|s| s.fast_recoveries).sum();
        eprintln!(
            "storm seed {seed}: {:?}, {} lost, {timeouts} timeouts, {fast} fast recoveries",
            r.time, r.lost
        );
        // 12 MiB over 1 Gb/s is 0.1 s; one-second timeouts would make it many.
        assert!(r.time < Duration::from_secs(2), "seed {seed}: {:?}", r.time);
    }
}

#[test]
fn thousands_of_seeds_over_small_buffers_and_lossy_links() {
    const BLKSIZES: [u16; 4] = [512, 1468, 8192, 65464];
    const WINDOWS: [u16; 6] = [1, 4, 8, 16, 64, 256];
    let seeds = 2000;
    let mut slow = 0;
    let mut worst = Duration::ZERO;
    for seed in 0..seeds {
        let mut r = Rng::new(seed ^ 0x1055);
        let blksize = BLKSIZES[r.below(4) as usize];
        let windowsize = WINDOWS[r.below(6) as usize];
        let loss = |r: &mut Rng| match r.below(3) {
            0 => Loss::None,
            1 => Loss::Random(r.below(50)),
            _ => bursty(),
        };
        let mut s = Setup::new(blksize, windowsize, r.below(150_000) as usize);
        s.seed = seed;
        s.up = lan(loss(&mut r));
        s.down = lan(loss(&mut r));
        if r.chance(500) {
            s.buffer = Some(SocketBuffer::new(
                [65_536, RMEM_DEFAULT, 1 << 20][r.below(3) as usize],
                [10_000_000, 100_000_000, 1_000_000_000][r.below(3) as usize],
            ));
        }
        s.silent_gaps = r.chance(300);
        s.batch = r.chance(500).then(|| 1 + r.below(64) as usize);
        let case = format!(
            "seed {seed}: blksize {blksize} ws {windowsize} size {} buffer {:?} silent {} batch {:?}",
            s.size,
            s.buffer.as_ref().map(|b| (b.capacity, b.rate)),
            s.silent_gaps,
            s.batch
        );
        let run = s.run();
        let server = &run.server[0];
        let served = server.ended.unwrap() - server.started;
        worst = worst.max(served);
        // Only a lost OACK (or its ACK 0), before any round trip is known,
        // waits out the initial one-second interval.
        if served > Duration::from_millis(500) {
            slow += 1;
            assert!(
                run.lost > 0 && served < Duration::from_secs(8),
                "{case}: {served:?} {server:?}"
            );
        }
    }
    eprintln!("{slow} of {seeds} took over 0.5 s, worst {worst:?}");
    assert!(slow * 50 < seeds, "{slow} slow transfers");
}
