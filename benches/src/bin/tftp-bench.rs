//! `tftp-bench`: a TFTP load client. Sweeps blksize × windowsize × client
//! count in one run; each cell starts `clients` concurrent gets (tokio tasks in
//! this process), `rounds` each, checks every file on the fly (size, CRC-32,
//! optionally SHA-256) without keeping it, counts failures and timeouts, and
//! prints per-transfer (median, p95, max) and aggregate figures.
//!
//! ```text
//! tftp-bench --server 127.0.0.1:69 --file big.bin --expect-file /srv/tftp/big.bin \
//!     --blksize 512,1468,8192 --windowsize 1,4,16,64 --clients 1,50,200 --format csv
//! ```

use std::fs::File;
use std::io::{BufReader, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use clap::Parser;
use netboot_benches::cell::{run_cell, CellResult, Expect};
use netboot_benches::fetch::FetchConfig;
use netboot_benches::report::{self, Format};
use tftp::options::RequestOptions;

#[derive(Parser, Debug)]
#[command(about = "TFTP load client: sweeps of concurrent gets, checked on the fly")]
struct Args {
    /// Server address.
    #[arg(long, default_value = "127.0.0.1:69")]
    server: SocketAddr,
    /// File to fetch.
    #[arg(long)]
    file: String,
    /// blksize values to sweep, comma-separated (none given: no blksize option, 512).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(8..=65464))]
    blksize: Vec<u16>,
    /// windowsize values to sweep (none given: no windowsize option, lockstep).
    #[arg(long, value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..))]
    windowsize: Vec<u16>,
    /// Concurrent client counts to sweep.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    clients: Vec<usize>,
    /// Transfers per client in each cell, one after another.
    #[arg(long, default_value_t = 1)]
    rounds: usize,
    /// Ask for tsize.
    #[arg(long)]
    tsize: bool,
    /// Client retransmission interval, milliseconds.
    #[arg(long, default_value_t = 1000)]
    timeout_ms: u64,
    /// Timeouts in a row without progress before a transfer counts as timed out.
    #[arg(long, default_value_t = 6)]
    retries: u32,
    /// Longest one transfer may take, seconds.
    #[arg(long, default_value_t = 600)]
    max_seconds: u64,
    /// SO_RCVBUF of each client socket in bytes (emulates a small receive
    /// buffer; the kernel doubles the value and caps it at net.core.rmem_max).
    #[arg(long)]
    rcvbuf: Option<usize>,
    /// Expected size in bytes.
    #[arg(long)]
    expect_size: Option<u64>,
    /// Expected CRC-32 (IEEE, hex).
    #[arg(long)]
    expect_crc32: Option<String>,
    /// Expected SHA-256 (hex); makes each client hash with SHA-256 too.
    #[arg(long)]
    expect_sha256: Option<String>,
    /// Local copy of the file: expect its size and CRC-32.
    #[arg(long)]
    expect_file: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Tokio worker threads (default: the CPUs this process may run on).
    #[arg(long)]
    threads: Option<usize>,
    /// Pause between cells, milliseconds.
    #[arg(long, default_value_t = 500)]
    pause_ms: u64,
    /// How long a client answers a repeat of its last block after the end, ms.
    #[arg(long, default_value_t = 1000)]
    dally_ms: u64,
    /// Exit with status 1 when any transfer failed.
    #[arg(long)]
    strict: bool,
}

fn hex_bytes(s: &str) -> Result<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("not hex: {s}");
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).context("hex"))
        .collect()
}

fn expectation(args: &Args) -> Result<Expect> {
    let mut e = Expect {
        size: args.expect_size,
        ..Expect::default()
    };
    if let Some(c) = &args.expect_crc32 {
        e.crc32 = Some(u32::from_str_radix(c.trim(), 16).context("--expect-crc32")?);
    }
    if let Some(h) = &args.expect_sha256 {
        let v = hex_bytes(h).context("--expect-sha256")?;
        e.sha256 = Some(
            v.try_into()
                .map_err(|_| anyhow::anyhow!("--expect-sha256: not 32 bytes"))?,
        );
    }
    if let Some(path) = &args.expect_file {
        let f = File::open(path).with_context(|| format!("--expect-file {}", path.display()))?;
        let mut r = BufReader::with_capacity(1 << 20, f);
        let (mut crc, mut size, mut buf) = (crc32fast::Hasher::new(), 0u64, vec![0u8; 1 << 20]);
        loop {
            let n = r.read(&mut buf).context("reading --expect-file")?;
            if n == 0 {
                break;
            }
            crc.update(&buf[..n]);
            size += n as u64;
        }
        e.size.get_or_insert(size);
        e.crc32.get_or_insert(crc.finalize());
    }
    Ok(e)
}

fn print_row(format: Format, r: &CellResult) {
    match format {
        Format::Table => println!("{}", report::table_row(r)),
        Format::Csv => println!("{}", report::csv_row(r)),
        Format::Json => {}
    }
}

async fn run(args: Args) -> Result<bool> {
    let expect = expectation(&args)?;
    let blksizes: Vec<Option<u16>> = if args.blksize.is_empty() {
        vec![None]
    } else {
        args.blksize.iter().copied().map(Some).collect()
    };
    let windowsizes: Vec<Option<u16>> = if args.windowsize.is_empty() {
        vec![None]
    } else {
        args.windowsize.iter().copied().map(Some).collect()
    };
    match args.format {
        Format::Table => println!("{}", report::table_header()),
        Format::Csv => println!("{}", report::csv_header()),
        Format::Json => {}
    }
    let mut results = Vec::new();
    for &clients in &args.clients {
        for &blksize in &blksizes {
            for &windowsize in &windowsizes {
                let cfg = FetchConfig {
                    server: args.server,
                    file: args.file.clone(),
                    options: RequestOptions {
                        blksize,
                        windowsize,
                        tsize: args.tsize,
                        ..RequestOptions::default()
                    },
                    timeout: Duration::from_millis(args.timeout_ms),
                    retries: args.retries,
                    max_duration: Duration::from_secs(args.max_seconds),
                    rcvbuf: args.rcvbuf,
                    sha256: expect.sha256.is_some(),
                };
                if !results.is_empty() {
                    tokio::time::sleep(Duration::from_millis(args.pause_ms)).await;
                }
                let dally = Duration::from_millis(args.dally_ms);
                let r = run_cell(&cfg, clients, args.rounds, &expect, dally).await;
                print_row(args.format, &r);
                results.push(r);
            }
        }
    }
    if args.format == Format::Json {
        println!("{}", report::json(&results));
    }
    Ok(results.iter().all(|r| r.failed == 0))
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.clients.contains(&0) || args.rounds == 0 {
        bail!("--clients and --rounds must be at least 1");
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all();
    if let Some(n) = args.threads {
        rt.worker_threads(n.max(1));
    }
    let strict = args.strict;
    let all_ok = rt.build().context("tokio runtime")?.block_on(run(args))?;
    if strict && !all_ok {
        std::process::exit(1);
    }
    Ok(())
}
