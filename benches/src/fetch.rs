//! One streaming TFTP get for the load client: the file is checked while it
//! arrives (size, CRC-32, optionally SHA-256) and never kept in memory.
//!
//! The library's [`tftp::client::Client`] stores what it receives in one
//! buffer (`Transfer::client_get` has no sink), which costs the whole file per
//! client: 500 clients × 32 MiB is 16 GiB. This receiver uses the crate's codec
//! and option negotiation and keeps only counters:
//!
//! - RRQ with options (RFC 2347); an OACK is checked with
//!   [`RequestOptions::accept_oack`] and answered with ACK 0;
//! - blocks in order are hashed and counted; the last block of each window is
//!   ACKed (RFC 7440 §4), a short block ends the transfer;
//! - a gap or a block the server sent again gets one ACK of the last block in
//!   order at once (RFC 7440 §4), not a wait for the timer;
//! - a packet from another server TID (a second transfer started by a
//!   repeated RRQ) gets ERROR 5, so that transfer ends at once;
//! - without progress for `timeout`, the last packet is sent again; after
//!   `retries` such timeouts in a row the transfer has timed out.
//!
//! Block numbers wrap 65535 → 0 (the de-facto default of tftp-hpa, atftp and
//! dnsmasq).

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use tftp::options::RequestOptions;
use tftp::packet::{self, ErrorCode, Mode, Opcode, Packet};

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
struct Check {
    bytes: u64,
    crc: crc32fast::Hasher,
    sha: Option<Sha256>,
}

impl Check {
    fn update(&mut self, data: &[u8]) {
        self.bytes += data.len() as u64;
        self.crc.update(data);
        if let Some(s) = &mut self.sha {
            s.update(data);
        }
    }
}

fn socket(cfg: &FetchConfig) -> io::Result<UdpSocket> {
    let (domain, any) = if cfg.server.is_ipv4() {
        (Domain::IPV4, SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)))
    } else {
        (Domain::IPV6, SocketAddr::from((Ipv6Addr::UNSPECIFIED, 0)))
    };
    let s = Socket::new(domain, Type::DGRAM, Some(Protocol::UDP))?;
    if let Some(n) = cfg.rcvbuf {
        s.set_recv_buffer_size(n)?;
    }
    s.set_nonblocking(true)?;
    s.bind(&any.into())?;
    UdpSocket::from_std(s.into())
}

async fn send(sock: &UdpSocket, to: SocketAddr, pkt: &[u8]) -> io::Result<()> {
    match sock.send_to(pkt, to).await {
        // A lost datagram as far as TFTP goes: the timer recovers.
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => Ok(()),
        r => r.map(|_| ()),
    }
}

fn ack(block: u16) -> [u8; 4] {
    let b = block.to_be_bytes();
    [0, Opcode::Ack as u8, b[0], b[1]]
}

fn unknown_tid() -> Vec<u8> {
    let mut buf = [0u8; 64];
    let n =
        packet::encode_error(&mut buf, ErrorCode::UnknownTid, "Unknown transfer ID").unwrap_or(0);
    buf[..n].to_vec()
}

/// Fetches the file, checking it on the fly. Returns the socket too, so the
/// caller may [`dally`] on it (answer a repeat of the last block).
pub async fn fetch(cfg: &FetchConfig) -> Result<(Received, UdpSocket, [u8; 4]), Failure> {
    let sock = socket(cfg)?;
    let mut req = [0u8; 600];
    let pairs = cfg.options.pairs(None);
    let len = packet::encode_with_options(
        &mut req,
        Opcode::Rrq,
        Some((cfg.file.as_bytes(), Mode::Octet)),
        pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())),
    )
    .map_err(|e| Failure::Protocol(format!("request too long: {e:?}")))?;
    let request = &req[..len];

    let started = Instant::now();
    let mut check = Check {
        bytes: 0,
        crc: crc32fast::Hasher::new(),
        sha: cfg.sha256.then(Sha256::new),
    };
    let mut peer: Option<SocketAddr> = None;
    let (mut blksize, mut windowsize) = (packet::DEFAULT_BLKSIZE as usize, 1u32);
    let mut expected: u16 = 1;
    let mut in_window = 0u32;
    // The last packet sent, repeated on timeout: the request, then ACKs.
    let mut last: Option<[u8; 4]> = None;
    let mut gap_acked = false;
    let (mut timeouts, mut idle, mut gap_acks, mut discarded) = (0u32, 0u32, 0u32, 0u64);
    let mut buf = vec![0u8; 65536 + 4];

    send(&sock, cfg.server, request).await?;
    let mut deadline = Instant::now() + cfg.timeout;
    loop {
        if started.elapsed() > cfg.max_duration {
            return Err(Failure::TimedOut { bytes: check.bytes });
        }
        let got = tokio::time::timeout_at(deadline.into(), sock.recv_from(&mut buf)).await;
        let (n, from) = match got {
            Err(_) => {
                timeouts += 1;
                idle += 1;
                if idle > cfg.retries {
                    return Err(Failure::TimedOut { bytes: check.bytes });
                }
                match (last, peer) {
                    (Some(a), Some(p)) => send(&sock, p, &a).await?,
                    _ => send(&sock, cfg.server, request).await?,
                }
                in_window = 0;
                deadline = Instant::now() + cfg.timeout;
                continue;
            }
            Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => continue,
            Ok(Err(e)) => return Err(e.into()),
            Ok(Ok(r)) => r,
        };
        match peer {
            Some(p) if p != from => {
                // Another TID: a second server transfer started by a repeated
                // RRQ. ERROR 5 ends it instead of letting it time out (RFC 1350).
                if from.ip() == cfg.server.ip() {
                    send(&sock, from, &unknown_tid()).await?;
                }
                continue;
            }
            None if from.ip() != cfg.server.ip() => continue,
            _ => {}
        }
        let Ok(pkt) = Packet::parse(&buf[..n]) else {
            continue;
        };
        match pkt {
            Packet::Oack(opts) if peer.is_none() => {
                let neg = cfg.options.accept_oack(&opts).map_err(Failure::Protocol)?;
                blksize = usize::from(neg.blksize);
                windowsize = u32::from(neg.windowsize);
                peer = Some(from);
                let a = ack(0);
                send(&sock, from, &a).await?;
                last = Some(a);
                idle = 0;
                deadline = Instant::now() + cfg.timeout;
            }
            Packet::Error { code, message } => {
                return Err(Failure::ServerError {
                    code: code.to_u16(),
                    message: String::from_utf8_lossy(message).into_owned(),
                });
            }
            Packet::Data { block, payload } => {
                if peer.is_none() {
                    // No OACK: the server ignored the options (RFC 2347).
                    peer = Some(from);
                }
                if block == expected {
                    if payload.len() > blksize {
                        return Err(Failure::Protocol(format!(
                            "block of {} bytes, blksize {blksize}",
                            payload.len()
                        )));
                    }
                    check.update(payload);
                    idle = 0;
                    gap_acked = false;
                    in_window += 1;
                    let a = ack(block);
                    let end = payload.len() < blksize;
                    if end || in_window >= windowsize {
                        send(&sock, from, &a).await?;
                        in_window = 0;
                    }
                    last = Some(a);
                    expected = expected.wrapping_add(1);
                    deadline = Instant::now() + cfg.timeout;
                    if end {
                        let received = Received {
                            bytes: check.bytes,
                            crc32: check.crc.finalize(),
                            sha256: check.sha.map(|s| s.finalize().into()),
                            elapsed: started.elapsed(),
                            timeouts,
                            gap_acks,
                            discarded,
                        };
                        return Ok((received, sock, a));
                    }
                } else {
                    // A gap (a block ahead) or a repeat (a block behind): say
                    // once where we are, then wait for the server to follow.
                    discarded += 1;
                    if !gap_acked {
                        let a = ack(expected.wrapping_sub(1));
                        send(&sock, from, &a).await?;
                        last = Some(a);
                        gap_acked = true;
                        gap_acks += 1;
                        in_window = 0;
                    }
                }
            }
            Packet::Oack(_) => {} // a repeated OACK: ACK 0 is sent again on timeout
            other => {
                return Err(Failure::Protocol(format!(
                    "unexpected {:?} packet",
                    other.opcode()
                )))
            }
        }
    }
}

/// After the last block: answer a repeat of it (our final ACK was lost) for
/// up to `linger`, then close. Bounded in time and in count.
pub async fn dally(sock: UdpSocket, final_ack: [u8; 4], linger: Duration) {
    let mut buf = [0u8; 8];
    let until = Instant::now() + linger;
    for _ in 0..8 {
        match tokio::time::timeout_at(until.into(), sock.recv_from(&mut buf)).await {
            Ok(Ok((_, from))) => {
                let _ = send(&sock, from, &final_ack).await;
            }
            _ => return,
        }
    }
}
