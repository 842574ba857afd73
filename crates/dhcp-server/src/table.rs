//! The lease table: finds free addresses, remembers returning clients, never
//! hands one address to two clients, and counts what the lease caps limit.

use std::collections::HashMap;
use std::net::Ipv4Addr;

use crate::lease::{ClientKey, Expiry, Lease, LeaseState, Tenure, UnixTime};
use crate::subnet::Subnet;

/// All leases, by address and by client.
#[derive(Debug, Default)]
pub struct LeaseTable {
    by_addr: HashMap<Ipv4Addr, Lease>,
    by_client: HashMap<ClientKey, Ipv4Addr>,
    /// Next never-used candidate per range start (counted from `scan_offset`).
    cursors: HashMap<Ipv4Addr, u32>,
    /// Where in each range the scan for never-used addresses starts: servers
    /// sharing a lease store start at different places, so that they rarely
    /// reach for the same address.
    scan_offset: u32,
    /// Subnets (by network) found full, and when their first address frees up: a
    /// flood of DISCOVERs to a full pool costs a look-up each, not a scan.
    full_until: HashMap<(Ipv4Addr, bool), Expiry>,
    /// The subnets (network, mask) the cap counts are kept for.
    nets: Vec<(u32, u32)>,
    /// Addresses that count toward a cap (fresh or BOOTP leases, offers to new
    /// clients), until replaced or their expiry timer has run ([`LeaseTable::expired`]).
    capped: HashMap<Ipv4Addr, (usize, Tenure)>,
    /// Per subnet of `nets`: fresh and BOOTP leases held.
    counts: Vec<[usize; 2]>,
}

fn slot(t: Tenure) -> usize {
    usize::from(t == Tenure::Bootp)
}

impl LeaseTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets where the scan for never-used addresses starts in each range
    /// (modulo its size; 0: at its first address).
    pub fn set_scan_offset(&mut self, offset: u32) {
        if offset != self.scan_offset {
            self.scan_offset = offset;
            self.cursors.clear();
        }
    }

    /// Number of addresses with a record.
    pub fn len(&self) -> usize {
        self.by_addr.len()
    }

    /// Whether no address has a record.
    pub fn is_empty(&self) -> bool {
        self.by_addr.is_empty()
    }

    /// The record for `addr`.
    pub fn get(&self, addr: Ipv4Addr) -> Option<&Lease> {
        self.by_addr.get(&addr)
    }

    /// The record of the address `client` had last.
    pub fn of_client(&self, client: &ClientKey) -> Option<&Lease> {
        let a = self.by_client.get(client)?;
        self.by_addr.get(a).filter(|l| &l.client == client)
    }

    /// Every record.
    pub fn iter(&self) -> impl Iterator<Item = &Lease> {
        self.by_addr.values()
    }

    /// Sets the subnets whose cap counts are kept (at start and on SIGHUP), and
    /// counts again.
    pub fn set_subnets(&mut self, subnets: &[Subnet]) {
        self.nets = subnets
            .iter()
            .map(|s| {
                (
                    u32::from(s.network) & u32::from(s.mask()),
                    u32::from(s.mask()),
                )
            })
            .collect();
        self.counts = vec![[0; 2]; self.nets.len()];
        // Only what counted before counts again: records whose timers have run stay out.
        let before: Vec<Ipv4Addr> = self.capped.drain().map(|(a, _)| a).collect();
        for a in before {
            if let Some(l) = self.by_addr.get(&a).cloned() {
                self.count(&l);
            }
        }
    }

    fn count(&mut self, l: &Lease) {
        let Some(t) = l.capped() else { return };
        let a = u32::from(l.addr);
        if let Some(i) = self.nets.iter().position(|(n, m)| a & m == *n) {
            self.counts[i][slot(t)] += 1;
            self.capped.insert(l.addr, (i, t));
        }
    }

    fn uncount(&mut self, addr: Ipv4Addr) {
        if let Some((i, t)) = self.capped.remove(&addr) {
            self.counts[i][slot(t)] -= 1;
        }
    }

    /// Fresh (never renewed) leases and offers to new clients, or BOOTP leases,
    /// held in `subnet` now: not yet passed to [`expired`](Self::expired).
    pub fn held(&self, subnet: &Subnet, tenure: Tenure) -> usize {
        let key = (
            u32::from(subnet.network) & u32::from(subnet.mask()),
            u32::from(subnet.mask()),
        );
        self.nets
            .iter()
            .position(|n| *n == key)
            .map_or(0, |i| self.counts[i][slot(tenure)])
    }

    /// The expiry timer of `addr` ran at `at`: it no longer counts toward a cap
    /// (if its record is still the one that timer was for).
    pub fn expired(&mut self, addr: Ipv4Addr, at: UnixTime) {
        if self
            .by_addr
            .get(&addr)
            .is_some_and(|l| l.expires.unix().is_some_and(|t| t <= at))
        {
            self.uncount(addr);
        }
    }

    /// Stores `lease`, replacing the record of its address.
    pub fn put(&mut self, lease: Lease) {
        if matches!(lease.state, LeaseState::Released) {
            self.full_until.clear();
        }
        if let Some(old) = self.by_addr.get(&lease.addr) {
            if old.client != lease.client && self.by_client.get(&old.client) == Some(&lease.addr) {
                self.by_client.remove(&old.client);
            }
        }
        self.uncount(lease.addr);
        self.count(&lease);
        self.by_client.insert(lease.client.clone(), lease.addr);
        self.by_addr.insert(lease.addr, lease);
    }

    /// Removes the record of `addr` (an offer that was not taken).
    pub fn remove(&mut self, addr: Ipv4Addr) -> Option<Lease> {
        self.full_until.clear();
        self.uncount(addr);
        let l = self.by_addr.remove(&addr)?;
        if self.by_client.get(&l.client) == Some(&addr) {
            self.by_client.remove(&l.client);
        }
        Some(l)
    }

    /// Whether `client` has held an address here before (its record is more than
    /// an offer, or an offer made to a client known then): such clients are not
    /// held back by the caps.
    pub fn knows(&self, client: &ClientKey) -> bool {
        self.of_client(client)
            .is_some_and(|l| l.state != LeaseState::Offered || l.tenure == Tenure::Renewed)
    }

    /// Whether `addr` may be given to `client` in `subnet` at `now`: in the subnet, not
    /// the network or broadcast address, not reserved for someone else, not held by
    /// another client, not quarantined.
    pub fn available(
        &self,
        subnet: &Subnet,
        addr: Ipv4Addr,
        client: &ClientKey,
        now: UnixTime,
    ) -> bool {
        if !subnet.contains(addr) || addr == subnet.network || addr == subnet.broadcast() {
            return false;
        }
        if subnet.reservations.iter().any(|r| {
            r.addr == addr && subnet.reservation(Some(&client.0), mac_of(client)) != Some(r)
        }) {
            return false;
        }
        self.by_addr
            .get(&addr)
            .is_none_or(|l| !l.blocks(client, now))
    }

    /// Picks a dynamic address for `client` in `subnet`: its last address when free
    /// (returning client), else `wanted` (option 50) when it is in a range and free,
    /// else a never-used address, else the longest-free released or expired one.
    pub fn allocate(
        &mut self,
        subnet: &Subnet,
        client: &ClientKey,
        wanted: Option<Ipv4Addr>,
        bootp: bool,
        now: UnixTime,
    ) -> Option<Ipv4Addr> {
        let ok = |t: &Self, a: Ipv4Addr| {
            subnet.in_ranges(a, bootp) && t.available(subnet, a, client, now)
        };
        if let Some(l) = self.of_client(client) {
            if ok(self, l.addr) {
                return Some(l.addr);
            }
        }
        if let Some(w) = wanted {
            if ok(self, w) {
                return Some(w);
            }
        }
        for r in subnet.ranges.iter().filter(|r| !bootp || r.bootp) {
            let len = u32::try_from(r.len()).unwrap_or(u32::MAX);
            let mut cur = self.cursors.get(&r.start).copied().unwrap_or(0);
            let first = if len == 0 { 0 } else { self.scan_offset % len };
            while cur < len {
                let step = first.wrapping_add(cur) % len;
                let a = Ipv4Addr::from(u32::from(r.start).wrapping_add(step));
                cur += 1;
                if !self.by_addr.contains_key(&a) && self.available(subnet, a, client, now) {
                    self.cursors.insert(r.start, cur - 1);
                    return Some(a);
                }
            }
            self.cursors.insert(r.start, cur);
        }
        if self
            .full_until
            .get(&(subnet.network, bootp))
            .is_some_and(|t| !t.is_past(now))
        {
            return None;
        }
        // Every address has been used once: the one free for longest.
        let found = self
            .by_addr
            .values()
            .filter(|l| subnet.in_ranges(l.addr, bootp) && !l.blocks(client, now))
            .filter(|l| self.available(subnet, l.addr, client, now))
            .min_by_key(|l| (l.state == LeaseState::Declined, l.expires))
            .map(|l| l.addr);
        if found.is_none() {
            let next_free = self
                .by_addr
                .values()
                .filter(|l| subnet.in_ranges(l.addr, bootp))
                .map(|l| l.expires)
                .min()
                .unwrap_or(Expiry::At(now));
            self.full_until
                .insert((subnet.network, bootp), next_free.max(Expiry::At(now)));
        }
        found
    }
}

/// The MAC inside an `htype` + `chaddr` key, for reservation look-ups.
fn mac_of(k: &ClientKey) -> Option<[u8; 6]> {
    match k.0.as_slice() {
        [1, m @ ..] if m.len() == 6 => {
            let mut mac = [0; 6];
            mac.copy_from_slice(m);
            Some(mac)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::subnet::{Range, Reservation};

    fn subnet() -> Subnet {
        let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
        s.ranges.push(Range {
            start: Ipv4Addr::new(192, 0, 2, 10),
            end: Ipv4Addr::new(192, 0, 2, 12),
            bootp: false,
        });
        s
    }

    fn key(n: u8) -> ClientKey {
        ClientKey(vec![1, 2, 0, 0, 0, 0, n])
    }

    fn bind(t: &mut LeaseTable, a: Ipv4Addr, k: ClientKey, exp: UnixTime) {
        t.put(Lease {
            addr: a,
            client: k,
            state: LeaseState::Bound,
            expires: Expiry::At(exp),
            tenure: Tenure::Fresh,
            details: Default::default(),
        });
    }

    #[test]
    fn distinct_clients_get_distinct_addresses_until_full() {
        let s = subnet();
        let mut t = LeaseTable::new();
        let mut got = Vec::new();
        for n in 0..3 {
            let a = t.allocate(&s, &key(n), None, false, 100).unwrap();
            bind(&mut t, a, key(n), 1000);
            got.push(a);
        }
        got.sort();
        got.dedup();
        assert_eq!(got.len(), 3);
        assert_eq!(t.allocate(&s, &key(9), None, false, 100), None);
        // After expiry an address is reused.
        assert!(t.allocate(&s, &key(9), None, false, 1000).is_some());
    }

    #[test]
    fn returning_client_gets_its_old_address_even_after_release() {
        let s = subnet();
        let mut t = LeaseTable::new();
        let a = t.allocate(&s, &key(1), None, false, 0).unwrap();
        bind(&mut t, a, key(1), 10);
        let b = t.allocate(&s, &key(2), None, false, 0).unwrap();
        bind(&mut t, b, key(2), 10);
        t.put(Lease {
            addr: a,
            client: key(1),
            state: LeaseState::Released,
            expires: Expiry::At(5),
            tenure: Tenure::Fresh,
            details: Default::default(),
        });
        assert_eq!(t.allocate(&s, &key(1), None, false, 50), Some(a));
        assert_eq!(t.allocate(&s, &key(2), Some(a), false, 50), Some(b));
    }

    #[test]
    fn requested_address_honoured_when_free_and_reservations_kept() {
        let mut s = subnet();
        s.reservations.push(Reservation {
            mac: Some([2, 0, 0, 0, 0, 7]),
            client_id: None,
            addr: Ipv4Addr::new(192, 0, 2, 11),
        });
        let mut t = LeaseTable::new();
        assert_eq!(
            t.allocate(&s, &key(1), Some(Ipv4Addr::new(192, 0, 2, 12)), false, 0),
            Some(Ipv4Addr::new(192, 0, 2, 12))
        );
        assert!(!t.available(&s, Ipv4Addr::new(192, 0, 2, 11), &key(1), 0));
        assert!(t.available(&s, Ipv4Addr::new(192, 0, 2, 11), &key(7), 0));
        assert!(!t.available(&s, Ipv4Addr::new(192, 0, 2, 255), &key(1), 0));
    }

    #[test]
    fn a_full_pool_is_remembered_until_an_address_frees_up() {
        let s = subnet();
        let mut t = LeaseTable::new();
        for n in 0..3 {
            let a = t.allocate(&s, &key(n), None, false, 0).unwrap();
            bind(&mut t, a, key(n), 100 + u64::from(n));
        }
        assert_eq!(t.allocate(&s, &key(9), None, false, 10), None);
        assert_eq!(
            t.full_until.get(&(s.network, false)),
            Some(&Expiry::At(100))
        );
        assert_eq!(t.allocate(&s, &key(9), None, false, 99), None);
        assert_eq!(
            t.allocate(&s, &key(9), None, false, 100),
            Some(Ipv4Addr::new(192, 0, 2, 10))
        );
        // A release frees an address at once.
        let mut t2 = LeaseTable::new();
        for n in 0..3 {
            let a = t2.allocate(&s, &key(n), None, false, 0).unwrap();
            bind(&mut t2, a, key(n), 1000);
        }
        assert_eq!(t2.allocate(&s, &key(9), None, false, 10), None);
        t2.put(Lease {
            addr: Ipv4Addr::new(192, 0, 2, 11),
            client: key(1),
            state: LeaseState::Released,
            expires: Expiry::At(10),
            tenure: Tenure::Fresh,
            details: Default::default(),
        });
        assert_eq!(
            t2.allocate(&s, &key(9), None, false, 11),
            Some(Ipv4Addr::new(192, 0, 2, 11))
        );
    }

    #[test]
    fn the_scan_starts_at_the_offset_and_wraps() {
        let s = subnet();
        let mut t = LeaseTable::new();
        t.set_scan_offset(5); // 5 mod 3: the third address first
        let mut got = Vec::new();
        for n in 0..3 {
            let a = t.allocate(&s, &key(n), None, false, 0).unwrap();
            bind(&mut t, a, key(n), 1000);
            got.push(a.octets()[3]);
        }
        assert_eq!(got, [12, 10, 11]);
        assert_eq!(t.allocate(&s, &key(9), None, false, 0), None);
    }

    #[test]
    fn declined_address_is_quarantined() {
        let s = subnet();
        let mut t = LeaseTable::new();
        for a in [10, 11, 12] {
            let addr = Ipv4Addr::new(192, 0, 2, a);
            t.put(Lease {
                addr,
                client: key(0),
                state: LeaseState::Declined,
                expires: Expiry::At(500),
                tenure: Tenure::Fresh,
                details: Default::default(),
            });
        }
        assert_eq!(t.allocate(&s, &key(1), None, false, 100), None);
        assert!(t.allocate(&s, &key(1), None, false, 500).is_some());
    }

    #[test]
    fn cap_counts_follow_puts_expiries_and_reconfiguration() {
        let s = subnet();
        let mut t = LeaseTable::new();
        t.set_subnets(std::slice::from_ref(&s));
        for n in 0..3u8 {
            bind(
                &mut t,
                Ipv4Addr::new(192, 0, 2, 10 + n),
                key(n),
                100 + u64::from(n),
            );
        }
        assert_eq!(t.held(&s, Tenure::Fresh), 3);
        assert_eq!(t.held(&s, Tenure::Bootp), 0);
        t.expired(Ipv4Addr::new(192, 0, 2, 10), 100);
        t.expired(Ipv4Addr::new(192, 0, 2, 11), 100); // its timer is not due yet
        assert_eq!(t.held(&s, Tenure::Fresh), 2);
        t.set_subnets(std::slice::from_ref(&s));
        assert_eq!(t.held(&s, Tenure::Fresh), 2, "an expired lease stays out");
        let mut renewed = t.get(Ipv4Addr::new(192, 0, 2, 11)).unwrap().clone();
        renewed.tenure = Tenure::Renewed;
        t.put(renewed);
        assert_eq!(t.held(&s, Tenure::Fresh), 1);
        t.remove(Ipv4Addr::new(192, 0, 2, 12));
        assert_eq!(t.held(&s, Tenure::Fresh), 0);
    }
}
