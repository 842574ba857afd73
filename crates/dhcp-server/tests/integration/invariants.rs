//! Random client behaviour against the core, many seeds: an address is never
//! acknowledged to two clients whose leases overlap, and NAKs only come when needed.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_pxe::wire::message::MessageType;
use dhcp_server::{Mode, Range, ServerConfig, Subnet};

use crate::support::{base, discover, policy, request, Harness, SERVER};

/// xorshift64*: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn small_pool() -> ServerConfig {
    let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 100),
        end: Ipv4Addr::new(192, 0, 2, 107),
        bootp: false,
    });
    s.lease_time = Duration::from_secs(60);
    let mut c = ServerConfig::new(Mode::Full, vec![s], policy());
    c.rate_limit.burst = 1_000_000;
    c.rate_limit.per_second = 1_000_000;
    c.decline_hold = Duration::from_secs(30);
    c
}

#[test]
fn no_address_is_ever_acknowledged_to_two_clients_at_once() {
    for seed in 1..=150u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut h = Harness::with(small_pool());
        // What each client believes it holds: address and expiry (Unix seconds).
        let mut held: HashMap<u8, (Ipv4Addr, u64)> = HashMap::new();
        for step in 0..400 {
            let now = dhcp_server::server::unix(h.now);
            let mac = h_rand_client(&mut rng);
            let acks = match rng.below(6) {
                0 | 1 => {
                    let offers = h.send(&discover(mac));
                    match offers.first() {
                        Some((o, _)) => h.send(&request(mac, o.yiaddr, Some(SERVER))),
                        None => Vec::new(),
                    }
                }
                2 => {
                    // INIT-REBOOT for a random address in or near the pool.
                    let a = Ipv4Addr::new(192, 0, 2, 98 + rng.below(12) as u8);
                    h.send(&request(mac, a, None))
                }
                3 => match held.get(&mac) {
                    Some((a, _)) => {
                        let mut m = base(mac, Some(MessageType::Request));
                        m.ciaddr = *a;
                        h.send(&m)
                    }
                    None => Vec::new(),
                },
                4 => {
                    if let Some((a, _)) = held.remove(&mac) {
                        let ty = if rng.below(2) == 0 {
                            MessageType::Release
                        } else {
                            MessageType::Decline
                        };
                        let mut m = base(mac, Some(ty));
                        if ty == MessageType::Release {
                            m.ciaddr = a;
                        } else {
                            m.options.insert(50, a.octets().to_vec());
                        }
                        assert!(h.send(&m).is_empty());
                    }
                    Vec::new()
                }
                _ => {
                    h.advance(Duration::from_secs(rng.below(40)));
                    Vec::new()
                }
            };
            for (m, _) in acks {
                if m.message_type() == Some(MessageType::Ack) {
                    let exp = now + 60;
                    for (other, (a, until)) in &held {
                        assert!(
                            !(*other != mac && *a == m.yiaddr && *until > now),
                            "seed {seed} step {step}: {} acknowledged to client {mac} while client {other} holds it until {until} (now {now})",
                            m.yiaddr
                        );
                    }
                    held.insert(mac, (m.yiaddr, exp));
                } else if m.message_type() == Some(MessageType::Nak) {
                    held.remove(&mac);
                }
            }
        }
    }
}

fn h_rand_client(rng: &mut Rng) -> u8 {
    1 + rng.below(16) as u8
}
