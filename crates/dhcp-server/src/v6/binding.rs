//! The DHCPv6 bindings of full mode (RFC 8415 §4.2 "binding"): each identity
//! association, a client's DUID and IAID, holds one address of the range, with the
//! time its valid lifetime ends. Sans-IO: times are Unix seconds handed in.
//!
//! - The same IA gets the same address again: its binding is kept after it expires
//!   or is released, and comes back to it as long as no other IA took the address
//!   (a released or expired address is free for others from then on).
//! - An ADVERTISE holds its address for [`OFFER_HOLD`] seconds (never written).
//! - A declined address is quarantined for [`DECLINE_HOLD`] seconds (RFC 8415 §18.3.8).
//! - What must survive a restart is a [`Binding6`] record ([`super::leasefile`]).

use std::collections::{BTreeMap, HashMap};
use std::net::Ipv6Addr;

use super::Range6;

/// How long an ADVERTISE keeps its address for the client, seconds.
pub const OFFER_HOLD: u64 = 60;
/// How long a declined address stays out of the pool, seconds (Kea's default
/// decline probation period).
pub const DECLINE_HOLD: u64 = 86_400;

/// An identity association for non-temporary addresses: the client's DUID and IAID.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IaKey {
    /// Option 1 of the client, its DUID.
    pub duid: Vec<u8>,
    /// The IA_NA's identifier.
    pub iaid: u32,
}

/// What an address is to its IA.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State6 {
    /// Advertised, held for a REQUEST (in memory only).
    Offered,
    /// Given in a REPLY until `expires`.
    Bound,
    /// Released by the client: free, remembered for the same IA.
    Released,
    /// Declined (in use elsewhere on the link): out of the pool until `expires`.
    Declined,
}

impl State6 {
    /// The byte in the lease file (offers are never written).
    pub fn code(self) -> u8 {
        match self {
            Self::Offered => 0,
            Self::Bound => 1,
            Self::Released => 2,
            Self::Declined => 3,
        }
    }

    /// The state of a lease file byte.
    pub fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            1 => Self::Bound,
            2 => Self::Released,
            3 => Self::Declined,
            _ => return None,
        })
    }
}

/// One address and the IA that holds (or held) it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding6 {
    /// The address.
    pub addr: Ipv6Addr,
    /// The IA.
    pub ia: IaKey,
    /// What the address is to it.
    pub state: State6,
    /// Unix seconds at which the state ends (the valid lifetime, the offer's hold,
    /// the quarantine).
    pub expires: u64,
}

impl Binding6 {
    /// Whether the address is taken at `now` for anyone but its IA.
    fn holds(&self, now: u64) -> bool {
        match self.state {
            State6::Released => false,
            State6::Offered | State6::Bound | State6::Declined => self.expires > now,
        }
    }
}

/// Every binding of the range.
#[derive(Debug, Clone)]
pub struct Bindings6 {
    range: Range6,
    by_addr: BTreeMap<Ipv6Addr, Binding6>,
    by_ia: HashMap<IaKey, Ipv6Addr>,
    /// Index in the range where the next scan for a free address starts.
    cursor: u128,
}

impl Bindings6 {
    /// No bindings yet.
    pub fn new(range: Range6) -> Self {
        Self {
            range,
            by_addr: BTreeMap::new(),
            by_ia: HashMap::new(),
            cursor: 0,
        }
    }

    /// The range.
    pub fn range(&self) -> &Range6 {
        &self.range
    }

    /// Applies records read back from the lease file, in order (a later record of
    /// an address wins). Records outside the range (a changed configuration) stay
    /// out.
    pub fn restore(&mut self, records: impl IntoIterator<Item = Binding6>) {
        for b in records {
            if self.range.contains(b.addr) {
                self.put(b);
            }
        }
    }

    /// The binding of `ia`, whatever its state.
    pub fn of(&self, ia: &IaKey) -> Option<&Binding6> {
        self.by_addr.get(self.by_ia.get(ia)?)
    }

    /// The binding of `addr`.
    pub fn at(&self, addr: Ipv6Addr) -> Option<&Binding6> {
        self.by_addr.get(&addr)
    }

    /// The bound IA of `ia` at `now` (bound and not expired).
    pub fn bound(&self, ia: &IaKey, now: u64) -> Option<&Binding6> {
        self.of(ia)
            .filter(|b| b.state == State6::Bound && b.expires > now)
    }

    /// Whether `addr` may go to `ia` at `now`: in the range, and free or its own
    /// (not declined).
    pub fn free_for(&self, addr: Ipv6Addr, ia: &IaKey, now: u64) -> bool {
        self.range.contains(addr)
            && match self.by_addr.get(&addr) {
                None => true,
                Some(b) if b.state == State6::Declined => !b.holds(now),
                Some(b) => b.ia == *ia || !b.holds(now),
            }
    }

    /// The address `ia` gets at `now`: its own binding's when that is still free
    /// for it, else the next free one of the range; `None` when the range is full.
    pub fn choose(&mut self, ia: &IaKey, now: u64) -> Option<Ipv6Addr> {
        if let Some(&a) = self.by_ia.get(ia) {
            if self.free_for(a, ia, now) {
                return Some(a);
            }
        }
        // Among n + 1 addresses in a row at least one has no binding: the scan
        // ends after at most that many steps.
        let steps = self.range.len().min(self.by_addr.len() as u128 + 1);
        for i in 0..steps {
            let a = self.range.nth(self.cursor.wrapping_add(i));
            if self.free_for(a, ia, now) {
                self.cursor = self.range.index(a).wrapping_add(1);
                return Some(a);
            }
        }
        None
    }

    /// Holds `addr` for `ia` as an ADVERTISE's (nothing to write). A bound
    /// address stays bound.
    pub fn offer(&mut self, ia: &IaKey, addr: Ipv6Addr, now: u64) {
        if self.bound(ia, now).is_some_and(|b| b.addr == addr) {
            return;
        }
        self.put(Binding6 {
            addr,
            ia: ia.clone(),
            state: State6::Offered,
            expires: now + OFFER_HOLD,
        });
    }

    /// Binds `addr` to `ia` until `now + valid`; the record to write before the REPLY.
    pub fn bind(&mut self, ia: &IaKey, addr: Ipv6Addr, now: u64, valid: u32) -> Binding6 {
        self.set(ia, addr, State6::Bound, now + u64::from(valid))
    }

    /// Frees `ia`'s address (RELEASE); the record, or `None` when `addr` is not its.
    pub fn release(&mut self, ia: &IaKey, addr: Ipv6Addr, now: u64) -> Option<Binding6> {
        let b = self.by_addr.get(&addr)?;
        (b.ia == *ia && b.state == State6::Bound).then(|| self.set(ia, addr, State6::Released, now))
    }

    /// Quarantines `ia`'s address (DECLINE); the record, or `None` when `addr` is
    /// not its.
    pub fn decline(&mut self, ia: &IaKey, addr: Ipv6Addr, now: u64) -> Option<Binding6> {
        let b = self.by_addr.get(&addr)?;
        (b.ia == *ia && matches!(b.state, State6::Bound | State6::Offered))
            .then(|| self.set(ia, addr, State6::Declined, now + DECLINE_HOLD))
    }

    fn set(&mut self, ia: &IaKey, addr: Ipv6Addr, state: State6, expires: u64) -> Binding6 {
        let b = Binding6 {
            addr,
            ia: ia.clone(),
            state,
            expires,
        };
        self.put(b.clone());
        b
    }

    fn put(&mut self, b: Binding6) {
        if let Some(old) = self.by_addr.get(&b.addr) {
            if old.ia != b.ia && self.by_ia.get(&old.ia) == Some(&b.addr) {
                self.by_ia.remove(&old.ia);
            }
        }
        // A declined address stays the IA's record, not its address to come back to.
        if b.state == State6::Declined {
            if self.by_ia.get(&b.ia) == Some(&b.addr) {
                self.by_ia.remove(&b.ia);
            }
        } else {
            self.by_ia.insert(b.ia.clone(), b.addr);
        }
        self.by_addr.insert(b.addr, b);
    }

    /// The records a compacted lease file holds at `now`: bound and quarantined
    /// addresses not yet expired (offers are never written).
    pub fn live(&self, now: u64) -> Vec<Binding6> {
        self.by_addr
            .values()
            .filter(|b| b.state != State6::Offered && b.state != State6::Released)
            .filter(|b| b.expires > now)
            .cloned()
            .collect()
    }

    /// Every binding, by address.
    pub fn iter(&self) -> impl Iterator<Item = &Binding6> {
        self.by_addr.values()
    }

    /// How many addresses are taken at `now` (bound, offered or quarantined).
    pub fn taken(&self, now: u64) -> usize {
        self.by_addr.values().filter(|b| b.holds(now)).count()
    }
}
