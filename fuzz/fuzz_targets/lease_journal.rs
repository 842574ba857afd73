//! Replay of arbitrary bytes as a lease journal never panics, and the table a
//! server builds from what it accepts never has two clients on one address;
//! its timers never overflow, whatever the expiries.
#![no_main]

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcp_pxe::Policy;
use dhcp_server::store::replay;
use dhcp_server::{Mode, Range, Server, ServerConfig, Subnet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(r) = replay(data) else { return };
    assert!(r.good_end <= data.len());
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
