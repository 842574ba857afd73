//! Replay of arbitrary bytes as a lease journal never panics, and the table a
//! server builds from what it accepts never has two clients on one address;
//! its timers never overflow, whatever the expiries. What it accepts, of any
//! version, written again as the current version (as the journal's upgrade and
//! compaction do) reads back the same, details included.
#![no_main]

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcp_pxe::Policy;
use dhcp_server::store::format::{encode_group, header, VERSION};
use dhcp_server::store::replay;
use dhcp_server::LeaseState;
use dhcp_server::{Mode, Range, Server, ServerConfig, Subnet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = replay(data) else { return };
    assert!(r.good_end <= data.len());
    let kept: Vec<_> = r
        .leases
        .iter()
        .filter(|l| l.state != LeaseState::Offered)
        .cloned()
        .collect();
    let mut again = header();
    encode_group(1, &kept, &mut again);
    let back = replay(&again).expect("a journal this program wrote replays");
    assert_eq!((back.version, back.torn), (VERSION, None));
    assert_eq!(back.leases, kept);
    let mut s = Subnet::new(Ipv4Addr::new(0, 0, 0, 0), 0);
    s.ranges.push(Range {
        start: Ipv4Addr::new(192, 0, 2, 10),
        end: Ipv4Addr::new(192, 0, 2, 20),
        bootp: true,
    });
    let mut server = Server::new(ServerConfig::new(Mode::Full, vec![s], Policy::new(vec![])));
    server.restore(r.leases);
    let t = server.poll_timeout();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    server.handle_timeout(t.unwrap_or(now).max(now));
    let secs = 1_700_000_000;
    let mut holder = HashMap::new();
    for l in server.leases().iter() {
        if l.is_active(secs) {
            if let Some(other) = holder.insert(l.addr, l.client.clone()) {
                panic!("{} held by {} and {}", l.addr, other, l.client);
            }
        }
        // Every client's record points back at its own address.
        if let Some(c) = server.leases().of_client(&l.client) {
            assert_eq!(&c.client, &l.client);
        }
    }
});
