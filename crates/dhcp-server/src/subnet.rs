//! Subnets: the network, its address ranges, static reservations and the options
//! its clients get (RFC 2132).

use std::net::Ipv4Addr;
use std::time::Duration;

use dhcp_pxe::wire::code::codes;

use crate::lease::Tenure;

/// Default BOOTP lease length: one day. RFC 951 clients never renew and do not
/// know a lease length; a finite default means a forged request cannot hold an
/// address for good (ISC dhcpd's default is infinite).
pub const DEFAULT_BOOTP_LEASE_TIME: Duration = Duration::from_secs(86_400);

/// Caps on the share of a subnet's dynamic addresses that leases a flood of
/// made-up clients could take may hold. Clients the server has leased to before
/// (their record is more than an offer) and reservations are never held back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseCaps {
    /// BOOTP leases held at most, in percent of the addresses in `bootp` ranges
    /// (default 50).
    pub bootp_percent: u8,
    /// DHCP leases not renewed yet, and offers to new clients, held at most, in
    /// percent of all dynamic addresses (default 90).
    pub fresh_percent: u8,
}

impl Default for LeaseCaps {
    fn default() -> Self {
        Self {
            bootp_percent: 50,
            fresh_percent: 90,
        }
    }
}

/// A range of dynamic addresses, both ends included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    /// First address.
    pub start: Ipv4Addr,
    /// Last address.
    pub end: Ipv4Addr,
    /// BOOTP clients may get addresses from it too (ISC `range dynamic-bootp`).
    pub bootp: bool,
}

impl Range {
    /// Whether `a` is in the range.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        (u32::from(self.start)..=u32::from(self.end)).contains(&u32::from(a))
    }

    /// Number of addresses.
    pub fn len(&self) -> u64 {
        u64::from(u32::from(self.end)).saturating_sub(u64::from(u32::from(self.start))) + 1
    }

    /// Whether the range is empty (end before start).
    pub fn is_empty(&self) -> bool {
        u32::from(self.end) < u32::from(self.start)
    }
}

/// A fixed address for one client, by MAC or by client identifier (option 61).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reservation {
    /// The client's MAC.
    pub mac: Option<[u8; 6]>,
    /// The client's identifier (option 61 payload).
    pub client_id: Option<Vec<u8>>,
    /// The address it always gets.
    pub addr: Ipv4Addr,
}

/// One IPv4 subnet served in full mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subnet {
    /// Network address.
    pub network: Ipv4Addr,
    /// Prefix length (24 for 255.255.255.0).
    pub prefix_len: u8,
    /// Interface name whose requests (without giaddr) this subnet serves, when the
    /// interface address does not tell.
    pub interface: Option<String>,
    /// Dynamic ranges.
    pub ranges: Vec<Range>,
    /// Static reservations.
    pub reservations: Vec<Reservation>,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns: Vec<Ipv4Addr>,
    /// Option 15.
    pub domain_name: Option<String>,
    /// Option 51 (default lease time).
    pub lease_time: Duration,
    /// Longest lease a client may ask for (option 51 in its request).
    pub max_lease_time: Duration,
    /// Option 58; half the lease when `None` (RFC 2131 §4.4.5).
    pub renew_time: Option<Duration>,
    /// Option 59; 7/8 of the lease when `None`.
    pub rebind_time: Option<Duration>,
    /// Whether BOOTP clients (no option 53) are answered at all (ISC `allow bootp`;
    /// dynamic addresses only from `bootp` ranges, else reservations only).
    pub allow_bootp: bool,
    /// Lease length for BOOTP clients; `None` is infinite (ISC's default, here only
    /// when configured). Default [`DEFAULT_BOOTP_LEASE_TIME`].
    pub bootp_lease_time: Option<Duration>,
    /// Caps on fresh and BOOTP leases.
    pub caps: LeaseCaps,
    /// Any further options, by code, in order.
    pub options: Vec<(u8, Vec<u8>)>,
}

impl Subnet {
    /// A subnet with no ranges, a one-hour lease and no options.
    pub fn new(network: Ipv4Addr, prefix_len: u8) -> Self {
        Self {
            network,
            prefix_len,
            interface: None,
            ranges: Vec::new(),
            reservations: Vec::new(),
            routers: Vec::new(),
            dns: Vec::new(),
            domain_name: None,
            lease_time: Duration::from_secs(3600),
            max_lease_time: Duration::from_secs(86400),
            renew_time: None,
            rebind_time: None,
            allow_bootp: true,
            bootp_lease_time: Some(DEFAULT_BOOTP_LEASE_TIME),
            caps: LeaseCaps::default(),
            options: Vec::new(),
        }
    }

    /// The netmask.
    pub fn mask(&self) -> Ipv4Addr {
        let bits = if self.prefix_len == 0 {
            0
        } else {
            u32::MAX << (32 - u32::from(self.prefix_len.min(32)))
        };
        Ipv4Addr::from(bits)
    }

    /// The directed broadcast address.
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !u32::from(self.mask()))
    }

    /// Whether `a` is inside the subnet.
    pub fn contains(&self, a: Ipv4Addr) -> bool {
        let m = u32::from(self.mask());
        u32::from(a) & m == u32::from(self.network) & m
    }

    /// Whether `a` is one of the dynamic addresses (for BOOTP clients: a `bootp` range).
    pub fn in_ranges(&self, a: Ipv4Addr, bootp: bool) -> bool {
        self.ranges
            .iter()
            .any(|r| r.contains(a) && (!bootp || r.bootp))
    }

    /// Number of dynamic addresses (in `bootp` ranges only, when `bootp`).
    pub fn dynamic_addresses(&self, bootp: bool) -> u64 {
        self.ranges
            .iter()
            .filter(|r| !bootp || r.bootp)
            .map(Range::len)
            .sum()
    }

    /// How many leases of `tenure` (fresh or BOOTP) the caps allow in this subnet
    /// (rounded up, so a one-address BOOTP range still serves one client).
    pub fn cap(&self, tenure: Tenure) -> u64 {
        let (pool, pct) = match tenure {
            Tenure::Bootp => (self.dynamic_addresses(true), self.caps.bootp_percent),
            _ => (self.dynamic_addresses(false), self.caps.fresh_percent),
        };
        pool.saturating_mul(u64::from(pct.min(100))).div_ceil(100)
    }

    /// The reservation for a client, by client identifier first, then MAC.
    pub fn reservation(
        &self,
        client_id: Option<&[u8]>,
        mac: Option<[u8; 6]>,
    ) -> Option<&Reservation> {
        client_id
            .and_then(|id| {
                self.reservations
                    .iter()
                    .find(|r| r.client_id.as_deref() == Some(id))
            })
            .or_else(|| mac.and_then(|m| self.reservations.iter().find(|r| r.mac == Some(m))))
    }

    /// Whether `a` is reserved for some client.
    pub fn is_reserved(&self, a: Ipv4Addr) -> bool {
        self.reservations.iter().any(|r| r.addr == a)
    }

    /// The lease length for a request that asked for `asked` (option 51), if any.
    pub fn lease_for(&self, asked: Option<Duration>) -> Duration {
        match asked {
            Some(d) if d > Duration::ZERO => d.min(self.max_lease_time),
            _ => self.lease_time,
        }
    }

    /// The address options for a reply, in order: 1, 3, 6, 15, 28, then the rest;
    /// with lease times 51, 58, 59 when `lease` is given (not for INFORM).
    pub fn reply_options(&self, lease: Option<Option<Duration>>) -> Vec<(u8, Vec<u8>)> {
        let mut o = vec![(codes::SUBNET_MASK, self.mask().octets().to_vec())];
        let addrs = |v: &[Ipv4Addr]| v.iter().flat_map(|a| a.octets()).collect::<Vec<u8>>();
        if !self.routers.is_empty() {
            o.push((codes::ROUTER, addrs(&self.routers)));
        }
        if !self.dns.is_empty() {
            o.push((6, addrs(&self.dns)));
        }
        if let Some(d) = &self.domain_name {
            o.push((15, d.as_bytes().to_vec()));
        }
        o.push((28, self.broadcast().octets().to_vec()));
        if let Some(len) = lease {
            let secs = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
            match len {
                None => o.push((codes::LEASE_TIME, u32::MAX.to_be_bytes().to_vec())),
                Some(l) => {
                    let t1 = self.renew_time.unwrap_or(l / 2);
                    let t2 = self.rebind_time.unwrap_or(l * 7 / 8);
                    o.push((codes::LEASE_TIME, secs(l).to_be_bytes().to_vec()));
                    o.push((58, secs(t1).to_be_bytes().to_vec()));
                    o.push((59, secs(t2).to_be_bytes().to_vec()));
                }
            }
        }
        for (code, data) in &self.options {
            match o.iter_mut().find(|(c, _)| c == code) {
                Some(slot) => slot.1 = data.clone(),
                None => o.push((*code, data.clone())),
            }
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> Subnet {
        let mut s = Subnet::new(Ipv4Addr::new(192, 0, 2, 0), 24);
        s.ranges.push(Range {
            start: Ipv4Addr::new(192, 0, 2, 100),
            end: Ipv4Addr::new(192, 0, 2, 110),
            bootp: false,
        });
        s
    }

    #[test]
    fn mask_broadcast_contains() {
        let s = net();
        assert_eq!(s.mask(), Ipv4Addr::new(255, 255, 255, 0));
        assert_eq!(s.broadcast(), Ipv4Addr::new(192, 0, 2, 255));
        assert!(s.contains(Ipv4Addr::new(192, 0, 2, 7)));
        assert!(!s.contains(Ipv4Addr::new(192, 0, 3, 7)));
        assert_eq!(s.ranges[0].len(), 11);
        assert!(!s.in_ranges(Ipv4Addr::new(192, 0, 2, 100), true));
    }

    #[test]
    fn caps_round_up_and_count_bootp_ranges_only() {
        let mut s = net();
        s.ranges.push(Range {
            start: Ipv4Addr::new(192, 0, 2, 200),
            end: Ipv4Addr::new(192, 0, 2, 200),
            bootp: true,
        });
        assert_eq!(s.dynamic_addresses(false), 12);
        assert_eq!(s.cap(Tenure::Bootp), 1, "half of one address rounds up");
        assert_eq!(s.cap(Tenure::Fresh), 11);
        s.caps.fresh_percent = 100;
        assert_eq!(s.cap(Tenure::Fresh), 12);
    }

    #[test]
    fn options_and_lease_times() {
        let mut s = net();
        s.routers.push(Ipv4Addr::new(192, 0, 2, 1));
        s.options.push((6, vec![8, 8, 8, 8]));
        let o = s.reply_options(Some(Some(Duration::from_secs(600))));
        let get = |c: u8| o.iter().find(|(x, _)| *x == c).map(|(_, d)| d.clone());
        assert_eq!(get(3), Some(vec![192, 0, 2, 1]));
        assert_eq!(get(6), Some(vec![8, 8, 8, 8]));
        assert_eq!(get(51), Some(600u32.to_be_bytes().to_vec()));
        assert_eq!(get(58), Some(300u32.to_be_bytes().to_vec()));
        assert_eq!(get(59), Some(525u32.to_be_bytes().to_vec()));
        assert_eq!(
            s.lease_for(Some(Duration::from_secs(999_999))),
            s.max_lease_time
        );
        assert!(s.reply_options(None).iter().all(|(c, _)| *c != 51));
    }
}
