//! A minimal, strict TFTP client for the differential and start-up tests:
//! it records exactly what the server answered (OACK options, bytes, the
//! ERROR code and text, which address and port replied).
#![allow(dead_code, unreachable_pub)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

/// What one request ended with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// RRQ: the whole file; WRQ: every block acknowledged.
    Done {
        /// RRQ: the bytes received; WRQ: empty.
        bytes: Vec<u8>,
        /// Options of the OACK, lower-cased names, in order (empty: no OACK).
        oack: Vec<(String, String)>,
    },
    /// The server answered with ERROR.
    Error {
        /// The TFTP error code.
        code: u16,
        /// Its message.
        message: String,
    },
    /// No answer in time.
    Timeout,
}

impl Outcome {
    /// The error code, if any.
    pub fn code(&self) -> Option<u16> {
        match self {
            Self::Error { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// Where the first reply came from, with the outcome.
#[derive(Debug)]
pub struct Reply {
    /// The result.
    pub outcome: Outcome,
    /// The transfer's address (its TID), if anything answered.
    pub from: Option<SocketAddr>,
}

const WAIT: Duration = Duration::from_secs(3);
/// At most this many blocks: bounds every loop below.
const MAX_BLOCKS: usize = 200_000;

fn request(opcode: u8, name: &[u8], mode: &str, options: &[(&str, &str)]) -> Vec<u8> {
    let mut p = vec![0, opcode];
    p.extend_from_slice(name);
    p.push(0);
    p.extend_from_slice(mode.as_bytes());
    p.push(0);
    for (k, v) in options {
        p.extend_from_slice(k.as_bytes());
        p.push(0);
        p.extend_from_slice(v.as_bytes());
        p.push(0);
    }
    p
}

fn ack(block: u16) -> Vec<u8> {
    let b = block.to_be_bytes();
    vec![0, 4, b[0], b[1]]
}

fn parse_oack(body: &[u8]) -> Vec<(String, String)> {
    let parts: Vec<String> = body
        .split(|b| *b == 0)
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect();
    parts
        .chunks(2)
        .filter(|c| c.len() == 2 && !c[0].is_empty())
        .map(|c| (c[0].to_ascii_lowercase(), c[1].clone()))
        .collect()
}

fn error_of(p: &[u8]) -> Outcome {
    let code = u16::from_be_bytes([p[2], p[3]]);
    let text = &p[4..];
    let end = text.iter().position(|b| *b == 0).unwrap_or(text.len());
    Outcome::Error {
        code,
        message: String::from_utf8_lossy(&text[..end]).into_owned(),
    }
}

pub fn client_for(server: SocketAddr) -> UdpSocket {
    let bind = if server.is_ipv4() {
        "127.0.0.1:0"
    } else {
        "[::1]:0"
    };
    let sock = UdpSocket::bind(bind).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    sock
}

/// Receives one datagram before `deadline`, resending `last` every 500 ms.
fn recv(
    sock: &UdpSocket,
    buf: &mut [u8],
    last: &[u8],
    to: SocketAddr,
    deadline: Instant,
) -> Option<(usize, SocketAddr)> {
    while Instant::now() < deadline {
        match sock.recv_from(buf) {
            Ok(r) => return Some(r),
            Err(_) => {
                let _ = sock.send_to(last, to);
            }
        }
    }
    None
}

/// Reads `name` (octet mode) with `options`.
pub fn get(server: SocketAddr, name: &[u8], options: &[(&str, &str)]) -> Reply {
    get_from(&client_for(server), server, name, options)
}

/// As [`get`], from a given client socket.
pub fn get_from(
    sock: &UdpSocket,
    server: SocketAddr,
    name: &[u8],
    options: &[(&str, &str)],
) -> Reply {
    get_mode(sock, server, name, "octet", options)
}

/// As [`get_from`] with a transfer mode (`octet`, `netascii`, anything).
pub fn get_mode(
    sock: &UdpSocket,
    server: SocketAddr,
    name: &[u8],
    mode: &str,
    options: &[(&str, &str)],
) -> Reply {
    let req = request(1, name, mode, options);
    sock.send_to(&req, server).unwrap();
    let mut buf = vec![0u8; 65536 + 4];
    let mut last = req;
    let mut to = server;
    let mut from = None;
    let mut bytes = Vec::new();
    let mut oack = Vec::new();
    let mut blksize = 512usize;
    let mut expect: u16 = 1;
    for _ in 0..MAX_BLOCKS {
        let Some((n, peer)) = recv(sock, &mut buf, &last, to, Instant::now() + WAIT) else {
            return Reply {
                outcome: Outcome::Timeout,
                from,
            };
        };
        if from.is_none() {
            from = Some(peer);
            to = peer;
        }
        let p = &buf[..n];
        if n < 4 {
            continue;
        }
        match p[1] {
            5 => {
                return Reply {
                    outcome: error_of(p),
                    from,
                }
            }
            6 => {
                oack = parse_oack(&p[2..]);
                if let Some((_, v)) = oack.iter().find(|(k, _)| k == "blksize" || k == "blksize2") {
                    blksize = v.parse().unwrap_or(512);
                }
                last = ack(0);
                sock.send_to(&last, peer).unwrap();
            }
            3 => {
                let block = u16::from_be_bytes([p[2], p[3]]);
                if block == expect {
                    bytes.extend_from_slice(&p[4..]);
                    last = ack(block);
                    sock.send_to(&last, peer).unwrap();
                    expect = expect.wrapping_add(1);
                    if n - 4 < blksize {
                        return Reply {
                            outcome: Outcome::Done { bytes, oack },
                            from,
                        };
                    }
                } else {
                    let _ = sock.send_to(&last, peer);
                }
            }
            _ => {}
        }
    }
    Reply {
        outcome: Outcome::Timeout,
        from,
    }
}

/// Writes `data` as `name` (octet mode, 512-byte blocks unless `blksize` is
/// among `options` and acknowledged).
pub fn put(server: SocketAddr, name: &[u8], data: &[u8], options: &[(&str, &str)]) -> Reply {
    let sock = client_for(server);
    let req = request(2, name, "octet", options);
    sock.send_to(&req, server).unwrap();
    let mut buf = vec![0u8; 65536 + 4];
    let mut last = req;
    let mut to = server;
    let mut from = None;
    let mut oack = Vec::new();
    let mut blksize = 512usize;
    // The block the next ACK must name.
    let mut acked_wanted: u16 = 0;
    let mut offset = 0usize;
    let mut sent_final = false;
    for _ in 0..MAX_BLOCKS {
        let Some((n, peer)) = recv(&sock, &mut buf, &last, to, Instant::now() + WAIT) else {
            return Reply {
                outcome: Outcome::Timeout,
                from,
            };
        };
        if from.is_none() {
            from = Some(peer);
            to = peer;
        }
        let p = &buf[..n];
        if n < 4 {
            continue;
        }
        let ok = match p[1] {
            5 => {
                return Reply {
                    outcome: error_of(p),
                    from,
                }
            }
            6 if acked_wanted == 0 => {
                oack = parse_oack(&p[2..]);
                if let Some((_, v)) = oack.iter().find(|(k, _)| k == "blksize" || k == "blksize2") {
                    blksize = v.parse().unwrap_or(512);
                }
                true
            }
            4 => u16::from_be_bytes([p[2], p[3]]) == acked_wanted,
            _ => false,
        };
        if !ok {
            continue;
        }
        if sent_final {
            return Reply {
                outcome: Outcome::Done {
                    bytes: Vec::new(),
                    oack,
                },
                from,
            };
        }
        let end = (offset + blksize).min(data.len());
        acked_wanted = acked_wanted.wrapping_add(1);
        let mut pkt = vec![0, 3];
        pkt.extend_from_slice(&acked_wanted.to_be_bytes());
        pkt.extend_from_slice(&data[offset..end]);
        sent_final = end - offset < blksize;
        offset = end;
        last = pkt;
        sock.send_to(&last, peer).unwrap();
    }
    Reply {
        outcome: Outcome::Timeout,
        from,
    }
}
