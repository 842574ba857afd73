//! Arbitrary datagrams through the sans-IO DHCP server core, full mode and
//! proxy mode side by side, driven as `Server`'s docs say: `handle`, then
//! `poll_commit` / `handle_committed` (or `handle_commit_failed`),
//! `poll_transmit`, and `handle_timeout` once `poll_timeout` has passed, on a
//! virtual clock. Nothing may panic, and two invariants hold:
//!
//! - an address is never given to a second client while the lease record of
//!   the first says it is bound and unexpired (checked on the lease records
//!   the server hands out to be made durable, i.e. the journal's view);
//! - a DHCPACK that offers an address leaves only after a durable record says
//!   that address is bound.
//!
//! Input: frames of `[control][length: u16 BE][datagram]`. The control byte
//! picks the port (67 or 4011), the sender (a client without an address, a
//! client with one, a relay), what the "disk" does with the batch (write it,
//! leave it in flight, fail it) and how far the clock moves first.
#![no_main]
use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::message::MessageType;
use dhcp_pxe::{decode_tolerant, Policy, Rule};
use dhcp_server::lease::UnixTime;
use dhcp_server::server::unix;
use dhcp_server::{
    Datagram, Lease, LeaseState, Mode, Range, Reservation, Server, ServerConfig, Subnet,
};
use libfuzzer_sys::fuzz_target;

const SERVER: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);

/// Clock steps: none, small, around the offer hold (30 s), the lease time
/// (600 s) and the decline hold (1 h).
const STEPS: [u64; 8] = [0, 1, 10, 29, 31, 61, 601, 3601];

fn config(mode: Mode) -> ServerConfig {
    let mut relayed = Subnet::new(Ipv4Addr::new(198, 18, 0, 0), 24);
    relayed.ranges.push(Range {
        start: Ipv4Addr::new(198, 18, 0, 10),
        end: Ipv4Addr::new(198, 18, 0, 11),
        bootp: false,
    });
    let mut local = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
    // A pool small enough to run out.
    local.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 100),
        end: Ipv4Addr::new(192, 0, 2, 103),
        bootp: false,
    });
    local.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 200),
        end: Ipv4Addr::new(192, 0, 2, 201),
        bootp: true,
    });
    local.reservations.push(Reservation {
        mac: Some([0x52, 0x54, 0, 0x12, 0x34, 0x56]),
        client_id: None,
        addr: Ipv4Addr::new(192, 0, 2, 50),
    });
    local.routers.push(SERVER);
    local.lease_time = Duration::from_secs(600);
    let mut rule = Rule::new("all");
    rule.then.boot_file = Some("pxelinux.0".into());
    let subnets = match mode {
        Mode::Full => vec![local, relayed],
        Mode::Proxy => Vec::new(),
    };
    let mut c = ServerConfig::new(mode, subnets, Policy::new(vec![rule]));
    c.server_id = Some(SERVER);
    c.uefi_via_4011 = true;
    c.max_events = 64;
    // A small per-client budget so that the limiter's paths run too.
    c.rate_limit.burst = 8;
    c.rate_limit.per_second = 4;
    c.rate_limit.max_clients = 16;
    c
}

/// The driver side of one server: the "disk" and what it holds.
struct Harness {
    server: Server,
    /// Latest record per address among those handed out (decisions).
    decided: HashMap<Ipv4Addr, Lease>,
    /// Latest record per address among those written (durable).
    durable: HashMap<Ipv4Addr, Lease>,
    in_flight: VecDeque<(u64, Vec<Lease>)>,
}

impl Harness {
    fn new(mode: Mode) -> Self {
        Self {
            server: Server::new(config(mode)),
            decided: HashMap::new(),
            durable: HashMap::new(),
            in_flight: VecDeque::new(),
        }
    }

    fn step(&mut self, now: SystemTime, d: &Datagram<'_>, disk: u8) {
        if self.server.poll_timeout().is_some_and(|t| t <= now) {
            self.server.handle_timeout(now);
            self.drain(now);
        }
        self.server.handle(now, d);
        while let Some(batch) = self.server.poll_commit() {
            for r in &batch.records {
                check_no_second_holder(&self.decided, r, unix(now));
                self.decided.insert(r.addr, r.clone());
            }
            self.in_flight.push_back((batch.id, batch.records));
        }
        match disk {
            // Leave the batches in flight: later records join the next batch.
            2 => {}
            // The oldest batch could not be written.
            3 => {
                if let Some((id, _)) = self.in_flight.pop_front() {
                    self.server.handle_commit_failed(id);
                }
            }
            _ => {}
        }
        if disk != 2 {
            while let Some((id, records)) = self.in_flight.pop_front() {
                for r in records {
                    self.durable.insert(r.addr, r);
                }
                self.server.handle_committed(id);
                self.drain(now);
            }
        }
        self.drain(now);
        while self.server.poll_event().is_some() {}
    }

    fn drain(&mut self, now: SystemTime) {
        let mut sent = 0;
        while let Some(t) = self.server.poll_transmit() {
            sent += 1;
            assert!(sent <= 4096, "poll_transmit never ends");
            let Ok(reply) = decode_tolerant(&t.payload) else {
                panic!("the server sent an undecodable reply");
            };
            let m = reply.message;
            if m.message_type() == Some(MessageType::Ack) && !m.yiaddr.is_unspecified() {
                let lease = self.durable.get(&m.yiaddr);
                assert!(
                    lease.is_some_and(|l| l.state == LeaseState::Bound
                        && !l.expires.is_past(unix(now).saturating_sub(1))),
                    "ACK of {} before a durable bound record: {lease:?}",
                    m.yiaddr
                );
            }
        }
    }
}

/// A record for an address bound to another client, unexpired, is a second holder.
fn check_no_second_holder(decided: &HashMap<Ipv4Addr, Lease>, r: &Lease, now: UnixTime) {
    if let Some(prev) = decided.get(&r.addr) {
        assert!(
            !(prev.state == LeaseState::Bound
                && !prev.expires.is_past(now)
                && prev.client != r.client),
            "{} given to {:?} ({:?}) while bound to {:?} until {:?} (now {now})",
            r.addr,
            r.client,
            r.state,
            prev.client,
            prev.expires
        );
    }
}

fn frames(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&control, rest) = data.split_first()?;
        let (len, rest) = match rest {
            [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])), rest),
            _ => (rest.len(), &[][..]),
        };
        let (payload, rest) = rest.split_at(len.min(rest.len()));
        data = rest;
        Some((control, payload))
    })
    .take(64)
}

fuzz_target!(|data: &[u8]| {
    let mut full = Harness::new(Mode::Full);
    let mut proxy = Harness::new(Mode::Proxy);
    let mut now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    for (control, payload) in frames(data) {
        now += Duration::from_secs(STEPS[usize::from(control >> 5)]);
        let local_port = if control & 1 == 0 { 67 } else { 4011 };
        let src = match (control >> 1) & 3 {
            0 => SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 68),
            1 => SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 100), 68),
            2 => SocketAddrV4::new(Ipv4Addr::new(198, 18, 0, 1), 67),
            _ => SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 77), 4011),
        };
        let d = Datagram {
            ifindex: 3,
            interface: Some("veth0"),
            local: SERVER,
            local_port,
            src,
            payload,
        };
        let disk = (control >> 3) & 3;
        full.step(now, &d, disk);
        proxy.step(now, &d, disk);
    }
    assert!(proxy.server.leases().is_empty(), "proxy mode leased");
    // Time runs on with nothing arriving: every timer fires and ends.
    for h in [&mut full, &mut proxy] {
        for _ in 0..64 {
            let Some(t) = h.server.poll_timeout() else {
                break;
            };
            now = now.max(t);
            h.server.handle_timeout(now);
            h.drain(now);
        }
    }
});
