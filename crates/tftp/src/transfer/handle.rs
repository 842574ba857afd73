//! What arrives: datagrams and timeouts, for every role.

use std::net::SocketAddr;
use std::time::Instant;

use super::receiver::{DataEffect, Receiver};
use super::sender::{AckEffect, Sender};
use super::storage::{finish, hand_off, write};
use super::{Control, Half, Outcome, Phase, Role, Storage, Transfer};
use crate::netascii;
use crate::options::Negotiated;
use crate::packet::{ErrorCode, Mode, Packet};

impl Transfer {
    /// Feeds one datagram that arrived from `from`.
    pub fn handle(&mut self, now: Instant, from: SocketAddr, datagram: &[u8]) {
        if matches!(self.phase, Phase::Finished) {
            return;
        }
        if self.latched && from != self.peer {
            self.foreign(from);
            return;
        }
        let Ok(packet) = Packet::parse(datagram) else {
            self.stats.dropped += 1;
            return;
        };
        if !self.latched {
            // A client learns the server's transfer ID from its first answer.
            if from.ip() != self.peer.ip() {
                self.foreign(from);
                return;
            }
            self.peer = from;
            self.latched = true;
        }
        if let Packet::Error { code, message } = packet {
            let message = String::from_utf8_lossy(message).into_owned();
            let probe = self.role == Role::ServerRead
                && self.phase == Phase::Handshake
                && self.negotiated.tsize.is_some();
            self.conclude(
                now,
                if probe {
                    Outcome::SizeProbe
                } else {
                    Outcome::PeerError { code, message }
                },
            );
            self.queue.clear();
            self.finish(now);
            return;
        }
        if matches!(self.phase, Phase::Closing | Phase::Finishing) {
            return;
        }
        match (self.role, packet) {
            (Role::ServerRead | Role::ClientPut, Packet::Ack { block }) => self.on_ack(now, block),
            (Role::ClientPut, Packet::Oack(o)) if self.phase == Phase::Handshake => {
                self.handshake_answered(now);
                match self.asked.accept_oack(&o) {
                    Ok(n) => self.start_put(now, n),
                    Err(e) => self.fail(now, ErrorCode::OptionRefused, &e),
                }
            }
            (Role::ClientGet, Packet::Oack(o)) => match self.phase {
                Phase::Handshake => match self.asked.accept_oack(&o) {
                    Ok(n) => {
                        self.handshake_answered(now);
                        self.start_get(now, n);
                        self.queue.push_back((self.peer, Control::Ack(0)));
                    }
                    Err(e) => self.fail(now, ErrorCode::OptionRefused, &e),
                },
                // Our ACK 0 was lost and the server repeats its OACK.
                _ => {
                    if matches!(&self.half, Half::Recv { receiver, .. } if receiver.blocks() == 0) {
                        self.queue.push_back((self.peer, Control::Ack(0)));
                    }
                }
            },
            (Role::ClientGet, Packet::Data { block, payload }) => {
                if self.phase == Phase::Handshake {
                    // No OACK: the server took none of the options.
                    self.handshake_answered(now);
                    self.start_get(now, Negotiated::default());
                }
                self.on_data(now, block, payload);
            }
            (Role::ServerWrite, Packet::Data { block, payload }) => {
                self.handshake_answered(now);
                self.on_data(now, block, payload);
            }
            _ => self.stats.dropped += 1,
        }
    }

    fn foreign(&mut self, from: SocketAddr) {
        // RFC 1350 §4: answer the stranger, leave the transfer alone.
        self.stats.dropped += 1;
        self.queue.push_back((
            from,
            Control::Error(ErrorCode::UnknownTid, "Unknown transfer ID".into()),
        ));
    }

    /// The peer answered the request or OACK: its round trip is the first
    /// sample, unless the request or OACK went out twice (Karn's rule).
    fn handshake_answered(&mut self, now: Instant) {
        if let Some((at, once)) = self.handshake_sent {
            if once {
                self.backoff.on_sample(now.saturating_duration_since(at));
            }
            self.handshake_sent = Some((at, false));
        }
    }

    fn start_get(&mut self, now: Instant, n: Negotiated) {
        self.backoff = self.backoff.renegotiated(self.retry, n.timeout);
        self.quiet_since = now;
        self.half = Half::Recv {
            receiver: Receiver::new(n.blksize, n.windowsize, n.rollover),
            storage: match self.get_sink.take() {
                Some(sink) => Storage::Sink(Some(sink)),
                None => Storage::Memory(Vec::with_capacity(
                    n.tsize.unwrap_or(0).min(1 << 30) as usize
                )),
            },
            decoder: (self.mode == Mode::Netascii).then(netascii::Decoder::new),
        };
        self.negotiated = n;
        self.phase = Phase::Data;
        self.deadline = None;
    }

    fn start_put(&mut self, now: Instant, n: Negotiated) {
        self.backoff = self.backoff.renegotiated(self.retry, n.timeout);
        self.quiet_since = now;
        let data = self.put_data.take().unwrap_or_default();
        let mut sender = Sender::new(data, n.blksize, n.windowsize, n.rollover);
        if let Some(srtt) = self.backoff.srtt() {
            sender.set_srtt(srtt);
        }
        self.half = Half::Send(sender);
        self.negotiated = n;
        self.phase = Phase::Data;
        self.deadline = None;
    }

    fn on_ack(&mut self, now: Instant, block: u16) {
        match self.phase {
            Phase::Handshake if self.role == Role::ClientPut && block == 0 => {
                self.handshake_answered(now);
                self.start_put(now, Negotiated::default());
            }
            Phase::Handshake if block == 0 => {
                self.handshake_answered(now);
                if let (Half::Send(sender), Some(srtt)) = (&mut self.half, self.backoff.srtt()) {
                    sender.set_srtt(srtt);
                }
                self.phase = Phase::Data;
                self.progressed(now);
                self.deadline = None;
            }
            Phase::Data => {
                let Half::Send(sender) = &mut self.half else {
                    return;
                };
                let effect = sender.on_ack(now, block);
                if let Some(rtt) = sender.take_sample() {
                    self.backoff.on_sample(rtt);
                    sender.set_srtt(self.backoff.srtt().unwrap_or(rtt));
                }
                match effect {
                    AckEffect::Complete => {
                        self.conclude(now, Outcome::Complete);
                        self.finish(now);
                    }
                    AckEffect::Progress | AckEffect::Restart => {
                        self.progressed(now);
                        self.deadline = None;
                    }
                    AckEffect::Ignored => {}
                }
            }
            _ => {}
        }
    }

    fn on_data(&mut self, now: Instant, block: u16, payload: &[u8]) {
        let Half::Recv {
            receiver,
            storage,
            decoder,
        } = &mut self.half
        else {
            return;
        };
        match receiver.on_data(block, payload.len()) {
            DataEffect::Drop { ack } => {
                self.stats.discarded += 1;
                if let Some(b) = ack {
                    self.stats.retransmits += 1;
                    self.queue.push_back((self.peer, Control::Ack(b)));
                }
            }
            DataEffect::Accept { ack, last } => {
                self.stats.bytes += payload.len() as u64;
                let mut written = write(storage, decoder, payload);
                if last && written.is_ok() && self.hand_off_finish {
                    match hand_off(storage, decoder) {
                        Ok(Some(sink)) => {
                            self.finishing = Some(sink);
                            self.final_ack = ack.then_some(block);
                            self.phase = Phase::Finishing;
                            self.deadline = None;
                            return;
                        }
                        Ok(None) => {}
                        Err(e) => written = Err(e),
                    }
                } else if last && written.is_ok() {
                    written = finish(storage, decoder);
                }
                if let Err(e) = written {
                    self.fail_write(now, &e);
                    return;
                }
                self.progressed(now);
                self.deadline = Some(now + self.backoff.interval());
                if ack {
                    self.queue.push_back((self.peer, Control::Ack(block)));
                }
                if last {
                    self.conclude(now, Outcome::Complete);
                    // Both receivers dally: a lost final ACK is answered
                    // when the sender repeats the final block.
                    self.phase = Phase::Dally;
                }
            }
        }
    }

    /// The result of finishing the sink handed out by `poll_finish`: the
    /// final ACK on success (then the transfer dallies as usual), an ERROR
    /// otherwise.
    pub fn handle_finished(&mut self, now: Instant, result: std::io::Result<()>) {
        if self.phase != Phase::Finishing {
            return;
        }
        if let Err(e) = result {
            self.fail_write(now, &e);
            return;
        }
        self.progressed(now);
        self.deadline = Some(now + self.backoff.interval());
        if let Some(block) = self.final_ack.take() {
            self.queue.push_back((self.peer, Control::Ack(block)));
        }
        self.conclude(now, Outcome::Complete);
        self.phase = Phase::Dally;
    }

    fn fail_write(&mut self, now: Instant, e: &std::io::Error) {
        let code = if e.kind() == std::io::ErrorKind::StorageFull {
            ErrorCode::DiskFull
        } else {
            ErrorCode::Undefined
        };
        self.fail(now, code, &e.to_string());
    }

    /// Fires the tail probe and the retransmission timer whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if let (Half::Send(sender), Phase::Data) = (&mut self.half, self.phase) {
            sender.fire_tail_probe(now);
        }
        match self.deadline {
            Some(d) if now >= d => {}
            _ => return,
        }
        self.deadline = None;
        match self.phase {
            Phase::Finished => return,
            Phase::Dally | Phase::Closing => {
                self.finish(now);
                return;
            }
            Phase::Handshake | Phase::Data => {}
            Phase::Finishing => return,
        }
        self.stats.timeouts += 1;
        let silent_too_long =
            now.saturating_duration_since(self.quiet_since) >= self.backoff.silence_limit();
        if !self.backoff.on_timeout() || silent_too_long {
            self.conclude(now, Outcome::TimedOut);
            self.queue.clear();
            self.finish(now);
            return;
        }
        let resend = match (&mut self.half, self.phase) {
            (Half::Send(sender), Phase::Data) => {
                sender.rewind();
                None
            }
            (Half::Recv { receiver, .. }, _) => {
                if receiver.blocks() == 0
                    && !self.negotiated.oack.is_empty()
                    && self.role == Role::ServerWrite
                {
                    Some(Control::Oack)
                } else {
                    Some(Control::Ack(receiver.on_timeout()))
                }
            }
            _ => Some(match self.role {
                Role::ClientGet | Role::ClientPut => Control::Request,
                _ => Control::Oack,
            }),
        };
        if let Some(c) = resend {
            self.stats.retransmits += 1;
            self.queue.push_back((self.peer, c));
        }
    }
}
