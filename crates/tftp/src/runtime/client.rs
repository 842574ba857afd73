//! An async TFTP client: get and put with options, over tokio.
//!
//! ```no_run
//! # async fn f() -> Result<(), tftp::client::ClientError> {
//! let client = tftp::client::Client::new("127.0.0.1:69".parse().unwrap())
//!     .blksize(1468)
//!     .windowsize(16);
//! let kernel = client.get("vmlinuz").await?;
//! client.put("logs/boot.txt", bytes::Bytes::from_static(b"ok\n")).await?;
//! # Ok(()) }
//! ```
//!
//! [`Client::get_into`] streams a file into a [`WriteSink`] instead of
//! memory (a large image, or a load client checking thousands of copies).

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use netio::TransferSocket;

use super::driver::{drive, Until};
use crate::options::{RequestOptions, Rollover};
use crate::packet::{ErrorCode, Mode};
use crate::source::WriteSink;
use crate::transfer::retry::RetryPolicy;
use crate::transfer::{Outcome, Stats, Transfer};

/// Why a get or put failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] io::Error),
    /// The server answered with an ERROR.
    #[error("server error {}: {message}", code.to_u16())]
    Remote {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// This side aborted (for example an OACK that grew an option).
    #[error("aborted: {message}")]
    Aborted {
        /// Why.
        message: String,
    },
    /// The server stopped answering.
    #[error("timed out")]
    TimedOut,
}

/// A client for one server; cheap to clone, each call is one transfer.
#[derive(Debug, Clone)]
pub struct Client {
    server: SocketAddr,
    options: RequestOptions,
    mode: Mode,
    retry: RetryPolicy,
    recv_buffer: Option<usize>,
}

impl Client {
    /// A client for the server at `server` (usually port 69), octet mode, no options.
    pub fn new(server: SocketAddr) -> Self {
        Self {
            server,
            options: RequestOptions::default(),
            mode: Mode::Octet,
            retry: RetryPolicy::default(),
            recv_buffer: None,
        }
    }

    /// Asks for every option in `options` (replacing what was asked before).
    pub fn options(mut self, options: RequestOptions) -> Self {
        self.options = options;
        self
    }

    /// Asks for `blksize`.
    pub fn blksize(mut self, n: u16) -> Self {
        self.options.blksize = Some(n);
        self
    }

    /// Asks for `windowsize`.
    pub fn windowsize(mut self, n: u16) -> Self {
        self.options.windowsize = Some(n);
        self
    }

    /// Asks for `timeout` (seconds) and uses it as the first retransmission interval.
    pub fn timeout(mut self, secs: u8) -> Self {
        self.options.timeout = Some(secs);
        self
    }

    /// Sends `tsize` (0 on get, the size on put).
    pub fn tsize(mut self, on: bool) -> Self {
        self.options.tsize = on;
        self
    }

    /// Asks for `rollover`.
    pub fn rollover(mut self, r: Rollover) -> Self {
        self.options.rollover = Some(r);
        self
    }

    /// Transfer mode (octet by default).
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Retransmission policy.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The receive buffer of each transfer's socket (`SO_RCVBUF`; the
    /// kernel doubles it and caps it at `net.core.rmem_max`). A small one
    /// emulates a receiver with little memory, such as boot firmware.
    pub fn recv_buffer(mut self, bytes: usize) -> Self {
        self.recv_buffer = Some(bytes);
        self
    }

    fn socket(&self) -> io::Result<TransferSocket> {
        let any = match self.server.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        let sock = TransferSocket::bind(any, None)?;
        if let Some(bytes) = self.recv_buffer {
            sock.set_recv_buffer(bytes)?;
        }
        Ok(sock)
    }

    /// Leaves a finished get dallying in the background: a lost final ACK
    /// is answered when the server repeats its last block.
    fn dally(mut t: Transfer, mut sock: TransferSocket) {
        if !t.is_finished() {
            tokio::spawn(async move {
                let _ = drive(&mut sock, &mut t, Until::Finished).await;
            });
        }
    }

    /// Fetches `path`; returns the file (in local form) and the transfer's counters.
    pub async fn get_with_stats(&self, path: &str) -> Result<(Bytes, Stats), ClientError> {
        let (mut t, sock) = self.get_transfer(path, None).await?;
        let data = t.take_received();
        let stats = t.stats();
        Self::dally(t, sock);
        Ok((data, stats))
    }

    /// Fetches `path` into `sink`: each block is written as it arrives (local
    /// form), and `sink` is finished on tokio's blocking pool before the
    /// final ACK leaves. Nothing of the file is held in memory here.
    pub async fn get_into(
        &self,
        path: &str,
        sink: Box<dyn WriteSink>,
    ) -> Result<Stats, ClientError> {
        let (t, sock) = self.get_transfer(path, Some(sink)).await?;
        let stats = t.stats();
        Self::dally(t, sock);
        Ok(stats)
    }

    /// Drives a get of `path` (into `sink`, or memory) until its outcome is
    /// known.
    async fn get_transfer(
        &self,
        path: &str,
        sink: Option<Box<dyn WriteSink>>,
    ) -> Result<(Transfer, TransferSocket), ClientError> {
        let now = Instant::now();
        let (server, name, options) = (self.server, path.as_bytes(), self.options.clone());
        let mut t = match sink {
            Some(sink) => {
                Transfer::client_get_into(now, server, name, self.mode, options, self.retry, sink)
            }
            None => Transfer::client_get(now, server, name, self.mode, options, self.retry),
        };
        let mut sock = self.socket()?;
        drive(&mut sock, &mut t, Until::Outcome).await?;
        check(&t)?;
        Ok((t, sock))
    }

    /// Fetches `path`.
    pub async fn get(&self, path: &str) -> Result<Bytes, ClientError> {
        self.get_with_stats(path).await.map(|(d, _)| d)
    }

    /// Stores `data` as `path` on the server.
    pub async fn put(&self, path: &str, data: Bytes) -> Result<Stats, ClientError> {
        let mut sock = self.socket()?;
        let mut t = Transfer::client_put(
            Instant::now(),
            self.server,
            path.as_bytes(),
            self.mode,
            data,
            self.options.clone(),
            self.retry,
        );
        drive(&mut sock, &mut t, Until::Finished).await?;
        check(&t)?;
        Ok(t.stats())
    }

    /// The first retransmission interval in force.
    pub fn initial_timeout(&self) -> Duration {
        self.retry.initial
    }
}

fn check(t: &Transfer) -> Result<(), ClientError> {
    match t.outcome() {
        Some(Outcome::Complete) => Ok(()),
        Some(Outcome::PeerError { code, message }) => Err(ClientError::Remote {
            code: *code,
            message: message.clone(),
        }),
        Some(Outcome::Refused { message, .. }) => Err(ClientError::Aborted {
            message: message.clone(),
        }),
        Some(Outcome::TimedOut) | None => Err(ClientError::TimedOut),
        Some(other) => Err(ClientError::Aborted {
            message: format!("{other:?}"),
        }),
    }
}
