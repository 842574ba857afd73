//! `tftp-bench`: a TFTP load client. Fetches one file from a server with the
//! given options, `--clients` transfers at a time, `--rounds` times each, and
//! prints per-transfer throughput (min, median, max) and the aggregate rate.
//!
//! ```text
//! tftp-bench --server 127.0.0.1:69 --file big.bin --blksize 1468 --windowsize 16 --clients 8 --rounds 3
//! ```

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use clap::Parser;
use tftp::client::Client;

#[derive(Parser, Debug)]
#[command(about = "TFTP load client: concurrent gets, throughput medians")]
struct Args {
    /// Server address.
    #[arg(long)]
    server: SocketAddr,
    /// File to fetch.
    #[arg(long)]
    file: String,
    /// blksize option (none: 512 without options).
    #[arg(long)]
    blksize: Option<u16>,
    /// windowsize option.
    #[arg(long)]
    windowsize: Option<u16>,
    /// Send tsize.
    #[arg(long)]
    tsize: bool,
    /// Concurrent transfers.
    #[arg(long, default_value_t = 1)]
    clients: usize,
    /// Transfers per client.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Expected size in bytes; a transfer of another size is an error.
    #[arg(long)]
    expect_size: Option<usize>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.clients == 0 || args.rounds == 0 {
        bail!("--clients and --rounds must be at least 1");
    }
    let mut client = Client::new(args.server).tsize(args.tsize);
    if let Some(b) = args.blksize {
        client = client.blksize(b);
    }
    if let Some(w) = args.windowsize {
        client = client.windowsize(w);
    }
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..args.clients {
        let c = client.clone();
        let file = args.file.clone();
        let rounds = args.rounds;
        tasks.spawn(async move {
            let mut out = Vec::with_capacity(rounds);
            for _ in 0..rounds {
                let t = Instant::now();
                let data = c.get(&file).await?;
                out.push((data.len(), t.elapsed()));
            }
            Ok::<_, tftp::client::ClientError>(out)
        });
    }
    let mut samples: Vec<(usize, Duration)> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        samples.extend(r.context("task")?.context("transfer failed")?);
    }
    let wall = started.elapsed();
    if let Some(want) = args.expect_size {
        if let Some((got, _)) = samples.iter().find(|(n, _)| *n != want) {
            bail!("received {got} bytes, expected {want}");
        }
    }
    let mut rates: Vec<f64> = samples
        .iter()
        .map(|(n, d)| *n as f64 / d.as_secs_f64() / 1e6)
        .collect();
    rates.sort_by(f64::total_cmp);
    let total: usize = samples.iter().map(|(n, _)| n).sum();
    println!(
        "transfers={} bytes_each={} per_transfer_MBps min={:.1} median={:.1} max={:.1} aggregate_MBps={:.1} wall_s={:.3}",
        samples.len(),
        samples[0].0,
        rates[0],
        rates[rates.len() / 2],
        rates[rates.len() - 1],
        total as f64 / wall.as_secs_f64() / 1e6,
        wall.as_secs_f64()
    );
    Ok(())
}
