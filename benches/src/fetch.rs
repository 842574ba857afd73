//! One streaming TFTP get for the load client: the file is checked while it
//! arrives (size, CRC-32, optionally SHA-256) and never kept in memory.
//!
//! The protocol is the library's own client ([`tftp::client::Client`]), the
//! same receiver the daemon's uploads use: RRQ with options, RFC 7440 window
//! ACKs, an ACK at once for a gap or a rewind, a retransmission timer, and
//! dallying after the last block. Each block in order goes to a [`Check`]
//! sink ([`Client::get_into`]) that counts and hashes it.

use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use tftp::client::{Client, ClientError};
use tftp::options::RequestOptions;
use tftp::source::WriteSink;
use tftp::RetryPolicy;

/// Options and limits of one get.
#[derive(Debug, Clone)]
pub struct FetchConfig {
    /// Server address (its port 69 or other listening port).
    pub server: SocketAddr,
    /// File name to ask for.
    pub file: String,
    /// Options to ask for.
    pub options: RequestOptions,
    /// Retransmission interval of this client.
    pub timeout: Duration,
    /// Timeouts in a row without progress before giving up.
    pub retries: u32,
    /// Longest a whole transfer may take.
    pub max_duration: Duration,
    /// `SO_RCVBUF` for the client socket (the kernel doubles it and caps it at `rmem_max`).
    pub rcvbuf: Option<usize>,
    /// Compute SHA-256 (costs client CPU; CRC-32 is always computed).
    pub sha256: bool,
}

/// What arrived, with the counters of the receiving side.
#[derive(Debug, Clone)]
pub struct Received {
    /// Payload bytes in order.
    pub bytes: u64,
    /// CRC-32 (IEEE, as gzip and `crc32` print it) of those bytes.
    pub crc32: u32,
    /// SHA-256 of those bytes, when asked for.
    pub sha256: Option<[u8; 32]>,
    /// From the request to the last block.
    pub elapsed: Duration,
    /// Times this client's timer fired.
    pub timeouts: u32,
    /// ACKs sent at once after a gap or a repeated block.
    pub gap_acks: u32,
    /// Blocks that arrived out of order or twice (dropped).
    pub discarded: u64,
}

/// Why a get failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// No progress for `retries` timeouts in a row, or past `max_duration`.
    TimedOut {
        /// Payload bytes received before.
        bytes: u64,
    },
    /// The server sent an ERROR.
    ServerError {
        /// Its code.
        code: u16,
        /// Its message.
        message: String,
    },
    /// The server broke the protocol (bad OACK, unexpected packet).
    Protocol(String),
    /// A socket error.
    Io(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TimedOut { bytes } => write!(f, "timed out after {bytes} bytes"),
            Self::ServerError { code, message } => write!(f, "server error {code}: {message}"),
            Self::Protocol(m) => write!(f, "protocol: {m}"),
            Self::Io(m) => write!(f, "socket: {m}"),
        }
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Self::Io(e.to_string())
    }
}

/// The running checks over the bytes received so far.
#[derive(Debug)]
struct Check {
    bytes: u64,
    crc: crc32fast::Hasher,
    sha: Option<Sha256>,
}

/// The sink a get writes into: the checks, shared with the caller, which
/// reads them once the transfer has ended however it ended.
#[derive(Debug, Clone)]
struct CheckSink(Arc<Mutex<Check>>);

impl WriteSink for CheckSink {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        let mut c = self.0.lock().unwrap_or_else(|e| e.into_inner());
        c.bytes += data.len() as u64;
        c.crc.update(data);
        if let Some(s) = &mut c.sha {
            s.update(data);
        }
        Ok(())
    }

    fn finish(self: Box<Self>) -> io::Result<()> {
        Ok(())
    }
}

/// Fetches the file, checking it on the fly. After the last block the
/// client dallies for `dally` in the background (answering a repeat of the
/// last block when the final ACK was lost), not counted in `elapsed`.
pub async fn fetch(cfg: &FetchConfig, dally: Duration) -> Result<Received, Failure> {
    let check = Arc::new(Mutex::new(Check {
        bytes: 0,
        crc: crc32fast::Hasher::new(),
        sha: cfg.sha256.then(Sha256::new),
    }));
    // A fixed interval (no doubling): `retries` timeouts in a row without
    // progress, each `timeout` long, and the transfer has timed out.
    let retry = RetryPolicy {
        initial: cfg.timeout,
        max_interval: cfg.timeout,
        max_retries: cfg.retries,
        dally,
        ..RetryPolicy::default()
    };
    let mut client = Client::new(cfg.server).retry(retry);
    client = client.options(cfg.options.clone());
    if let Some(n) = cfg.rcvbuf {
        client = client.recv_buffer(n);
    }
    let started = Instant::now();
    let sink = Box::new(CheckSink(check.clone()));
    let got = tokio::time::timeout(cfg.max_duration, client.get_into(&cfg.file, sink)).await;
    let elapsed = started.elapsed();
    let bytes = check.lock().unwrap_or_else(|e| e.into_inner()).bytes;
    let stats = match got {
        Err(_) | Ok(Err(ClientError::TimedOut)) => return Err(Failure::TimedOut { bytes }),
        Ok(Err(ClientError::Remote { code, message })) => {
            return Err(Failure::ServerError {
                code: code.to_u16(),
                message,
            })
        }
        Ok(Err(ClientError::Io(e))) => return Err(e.into()),
        Ok(Err(e)) => return Err(Failure::Protocol(e.to_string())),
        Ok(Ok(stats)) => stats,
    };
    let mut c = check.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Received {
        bytes: c.bytes,
        crc32: std::mem::take(&mut c.crc).finalize(),
        sha256: c.sha.take().map(|s| s.finalize().into()),
        elapsed,
        timeouts: u32::try_from(stats.timeouts).unwrap_or(u32::MAX),
        // Every ACK sent again: at once for a gap or a rewind, or on the timer.
        gap_acks: u32::try_from(stats.retransmits.saturating_sub(stats.timeouts))
            .unwrap_or(u32::MAX),
        discarded: stats.discarded,
    })
}
