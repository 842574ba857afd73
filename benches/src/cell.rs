//! One cell of a sweep: `clients` concurrent gets (tokio tasks in this one
//! process), `rounds` each, every transfer checked against what is expected,
//! every failure counted instead of ending the run.

use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinSet;

use crate::fetch::{fetch, Failure, FetchConfig, Received};

/// What a correct transfer delivers; a mismatch counts as a corrupt transfer.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    /// Size in bytes.
    pub size: Option<u64>,
    /// CRC-32 (IEEE).
    pub crc32: Option<u32>,
    /// SHA-256.
    pub sha256: Option<[u8; 32]>,
}

impl Expect {
    /// Why `r` is not the expected file, if it is not.
    pub fn mismatch(&self, r: &Received) -> Option<String> {
        if let Some(n) = self.size.filter(|n| *n != r.bytes) {
            return Some(format!("size {} instead of {n}", r.bytes));
        }
        if let Some(c) = self.crc32.filter(|c| *c != r.crc32) {
            return Some(format!("crc32 {:08x} instead of {c:08x}", r.crc32));
        }
        match (self.sha256, r.sha256) {
            (Some(want), Some(got)) if want != got => Some("sha256 differs".into()),
            _ => None,
        }
    }
}

/// The figures of one cell.
#[derive(Debug, Clone, Serialize)]
pub struct CellResult {
    /// blksize asked for (none: no option, 512).
    pub blksize: Option<u16>,
    /// windowsize asked for (none: no option, lockstep).
    pub windowsize: Option<u16>,
    /// Concurrent clients.
    pub clients: usize,
    /// Transfers per client, one after another.
    pub rounds: usize,
    /// Transfers started.
    pub transfers: usize,
    /// Transfers complete and correct.
    pub ok: usize,
    /// Transfers that did not end complete and correct (sum of the next four).
    pub failed: usize,
    /// Of them: no progress for the client's retries, or over the time limit.
    pub timed_out: usize,
    /// Of them: the server sent an ERROR.
    pub server_errors: usize,
    /// Of them: complete but of the wrong size or checksum.
    pub corrupt: usize,
    /// Of them: protocol or socket errors.
    pub other_errors: usize,
    /// Bytes of the correct transfers.
    pub bytes_ok: u64,
    /// From the first request to the last transfer's end, seconds.
    pub wall_s: f64,
    /// `bytes_ok` / `wall_s`, in MB/s (10^6 bytes).
    pub aggregate_mbps: f64,
    /// Per correct transfer: median duration, seconds.
    pub transfer_s_median: f64,
    /// Per correct transfer: 95th percentile duration, seconds.
    pub transfer_s_p95: f64,
    /// Per correct transfer: longest duration, seconds.
    pub transfer_s_max: f64,
    /// Per correct transfer: median rate, MB/s.
    pub transfer_mbps_median: f64,
    /// Client retransmission timeouts, all transfers.
    pub client_timeouts: u64,
    /// ACKs sent at once after a gap or a repeated block, all transfers.
    pub gap_acks: u64,
    /// Blocks out of order or repeated, all transfers.
    pub discarded_blocks: u64,
    /// The first failure seen, for diagnosis.
    pub first_failure: Option<String>,
}

/// Nearest-rank percentile of sorted values (`p` in 0..=1).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

enum Sample {
    Done(Received),
    Corrupt(String),
    Failed(Failure),
}

/// Runs one cell. `dally_for` is how long each client answers a repeat of
/// its last block after the end (not counted in the figures).
pub async fn run_cell(
    cfg: &FetchConfig,
    clients: usize,
    rounds: usize,
    expect: &Expect,
    dally_for: Duration,
) -> CellResult {
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..clients {
        let cfg = cfg.clone();
        let expect = expect.clone();
        tasks.spawn(async move {
            let mut out = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                out.push(match fetch(&cfg, dally_for).await {
                    Ok(r) => match expect.mismatch(&r) {
                        Some(why) => Sample::Corrupt(why),
                        None => Sample::Done(r),
                    },
                    Err(f) => Sample::Failed(f),
                });
            }
            out
        });
    }
    let mut samples = Vec::with_capacity(clients * rounds);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(out) => samples.extend(out),
            Err(e) => samples.push(Sample::Failed(Failure::Io(format!("task: {e}")))),
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let result = summarize(cfg, clients, rounds, &samples, wall);
    // Let the last clients' dallies (background tasks) run out.
    tokio::time::sleep(dally_for).await;
    result
}

fn summarize(
    cfg: &FetchConfig,
    clients: usize,
    rounds: usize,
    samples: &[Sample],
    wall: f64,
) -> CellResult {
    let mut r = CellResult {
        blksize: cfg.options.blksize,
        windowsize: cfg.options.windowsize,
        clients,
        rounds,
        transfers: samples.len(),
        ok: 0,
        failed: 0,
        timed_out: 0,
        server_errors: 0,
        corrupt: 0,
        other_errors: 0,
        bytes_ok: 0,
        wall_s: wall,
        aggregate_mbps: 0.0,
        transfer_s_median: f64::NAN,
        transfer_s_p95: f64::NAN,
        transfer_s_max: f64::NAN,
        transfer_mbps_median: f64::NAN,
        client_timeouts: 0,
        gap_acks: 0,
        discarded_blocks: 0,
        first_failure: None,
    };
    let mut secs = Vec::new();
    let mut rates = Vec::new();
    for s in samples {
        match s {
            Sample::Done(d) => {
                r.ok += 1;
                r.bytes_ok += d.bytes;
                r.client_timeouts += u64::from(d.timeouts);
                r.gap_acks += u64::from(d.gap_acks);
                r.discarded_blocks += d.discarded;
                let t = d.elapsed.as_secs_f64();
                secs.push(t);
                rates.push(d.bytes as f64 / t / 1e6);
            }
            Sample::Corrupt(why) => {
                r.corrupt += 1;
                r.first_failure.get_or_insert_with(|| why.clone());
            }
            Sample::Failed(f) => {
                match f {
                    Failure::TimedOut { .. } => r.timed_out += 1,
                    Failure::ServerError { .. } => r.server_errors += 1,
                    Failure::Protocol(_) | Failure::Io(_) => r.other_errors += 1,
                }
                r.first_failure.get_or_insert_with(|| f.to_string());
            }
        }
    }
    r.failed = r.timed_out + r.server_errors + r.corrupt + r.other_errors;
    secs.sort_by(f64::total_cmp);
    rates.sort_by(f64::total_cmp);
    r.aggregate_mbps = r.bytes_ok as f64 / wall / 1e6;
    r.transfer_s_median = percentile(&secs, 0.5);
    r.transfer_s_p95 = percentile(&secs, 0.95);
    r.transfer_s_max = percentile(&secs, 1.0);
    r.transfer_mbps_median = percentile(&rates, 0.5);
    r
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 10.0);
        assert_eq!(percentile(&v, 0.95), 19.0);
        assert_eq!(percentile(&v, 1.0), 20.0);
        assert_eq!(percentile(&[3.0], 0.95), 3.0);
        assert!(percentile(&[], 0.5).is_nan());
    }
}
