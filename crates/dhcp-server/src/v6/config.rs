//! What the DHCPv6 server is configured with: the boot side shared by both modes,
//! and in full mode the address range and lifetimes ([`FullV6`]).

use std::net::Ipv6Addr;

use dhcp_pxe::Policy;

/// The DHCPv6 server's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V6Config {
    /// Option 2: this server's DUID ([`server_duid_ll`]).
    pub server_duid: Vec<u8>,
    /// Option 23: DNS recursive name servers (sent when the client asks, ORO).
    pub dns: Vec<Ipv6Addr>,
    /// Which boot file each client gets (the DHCPv4 policy and classes).
    pub policy: Policy,
    /// The TFTP server in `tftp://[addr]/file` URLs; `None`: the address the request
    /// came in on.
    pub tftp: Option<Ipv6Addr>,
    /// Option 32 in replies to INFORMATION-REQUEST, seconds (RFC 8415 §21.23).
    pub information_refresh: u32,
    /// Full mode: addresses in IA_NA from a range. `None`: stateless/proxy mode.
    pub full: Option<FullV6>,
}

impl V6Config {
    /// A configuration with `policy`, a server DUID and nothing else (stateless).
    pub fn new(server_duid: Vec<u8>, policy: Policy) -> Self {
        Self {
            server_duid,
            dns: Vec::new(),
            policy,
            tftp: None,
            information_refresh: 86_400,
            full: None,
        }
    }
}

/// Full mode: where addresses come from and for how long (RFC 8415 §21.4, §21.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullV6 {
    /// The addresses handed out.
    pub range: Range6,
    /// Preferred lifetime of an address, seconds; T1 and T2 are 0.5 and 0.8 of it.
    pub preferred_lifetime: u32,
    /// Valid lifetime of an address, seconds (at least the preferred one).
    pub valid_lifetime: u32,
    /// Whether a SOLICIT with Rapid Commit (option 14) is answered with a REPLY
    /// that binds the address at once (RFC 8415 §18.3.1).
    pub rapid_commit: bool,
}

impl FullV6 {
    /// `range` with a preferred lifetime of 3000 s, a valid one of 4000 s, and
    /// no rapid commit.
    pub fn new(range: Range6) -> Self {
        Self {
            range,
            preferred_lifetime: 3000,
            valid_lifetime: 4000,
            rapid_commit: false,
        }
    }

    /// T1 and T2 for the preferred lifetime: 0.5 and 0.8 of it (RFC 8415 §21.4).
    pub fn t1_t2(&self) -> (u32, u32) {
        let p = u64::from(self.preferred_lifetime);
        ((p / 2) as u32, (p * 4 / 5) as u32)
    }
}

/// A range of addresses, first to last inclusive, and the on-link prefix it lies in
/// (CONFIRM answers by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range6 {
    first: u128,
    last: u128,
    prefix_len: u8,
}

impl Range6 {
    /// `first` to `last`; the on-link prefix is the longest one holding both, at
    /// most a /64 (the length of a link's prefix with SLAAC, RFC 4291 §2.5.4).
    /// `None` when `last` comes before `first`.
    pub fn new(first: Ipv6Addr, last: Ipv6Addr) -> Option<Self> {
        let (a, b) = (u128::from(first), u128::from(last));
        if b < a {
            return None;
        }
        let common = (a ^ b).leading_zeros().min(64) as u8;
        Some(Self {
            first: a,
            last: b,
            prefix_len: common,
        })
    }

    /// Every address of `prefix/len` but the first (the Subnet-Router anycast
    /// address, RFC 4291 §2.6.1). `None` for a length over 127.
    pub fn from_prefix(prefix: Ipv6Addr, len: u8) -> Option<Self> {
        if len > 127 {
            return None;
        }
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        let net = u128::from(prefix) & mask;
        Some(Self {
            first: net + 1,
            last: net | !mask,
            prefix_len: len,
        })
    }

    /// The first address.
    pub fn first(&self) -> Ipv6Addr {
        self.first.into()
    }

    /// The last address.
    pub fn last(&self) -> Ipv6Addr {
        self.last.into()
    }

    /// How many addresses (saturating at `u128::MAX`).
    pub fn len(&self) -> u128 {
        (self.last - self.first).saturating_add(1)
    }

    /// Never: a range holds at least one address.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Whether `a` is in the range.
    pub fn contains(&self, a: Ipv6Addr) -> bool {
        (self.first..=self.last).contains(&u128::from(a))
    }

    /// The on-link prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `a` is in the on-link prefix (CONFIRM, RFC 8415 §18.3.3).
    pub fn on_link(&self, a: Ipv6Addr) -> bool {
        let shift = 128 - u32::from(self.prefix_len);
        let cut = |x: u128| x.checked_shr(shift).unwrap_or(0);
        cut(u128::from(a)) == cut(self.first)
    }

    /// The address `i` places after the first, wrapping inside the range.
    pub(crate) fn nth(&self, i: u128) -> Ipv6Addr {
        let n = self.last - self.first;
        let off = if n == u128::MAX { i } else { i % (n + 1) };
        (self.first + off).into()
    }

    /// The index of `a` (which must be in the range).
    pub(crate) fn index(&self, a: Ipv6Addr) -> u128 {
        u128::from(a) - self.first
    }
}

/// A DUID-LL (RFC 8415 §11.4: type 3, hardware type 1, the MAC). It needs no state on
/// disk: it is the same at every start as long as the interface's MAC is.
pub fn server_duid_ll(mac: [u8; 6]) -> Vec<u8> {
    let mut d = vec![0, 3, 0, 1];
    d.extend_from_slice(&mac);
    d
}
