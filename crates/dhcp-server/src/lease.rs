//! Leases: who holds which address, how ([`Tenure`]) and until when ([`Expiry`]),
//! and what the grant told ([`LeaseDetails`]). The table of them is [`LeaseTable`].

use std::fmt;
use std::net::Ipv4Addr;
use std::time::{Duration, SystemTime};

use dhcp_pxe::wire::code::codes;
use dhcp_pxe::Message;

pub use crate::table::LeaseTable;

/// Seconds since the Unix epoch.
pub type UnixTime = u64;

/// When a lease (or an offer hold, or a quarantine) ends.
///
/// "Never" is its own variant, not a magic number, so no arithmetic can overflow
/// on it: [`Expiry::after`] saturates, [`Expiry::deadline`] is checked, and an
/// `At` too far in the future to be a `SystemTime` simply has no timer.
/// `At(_)` orders before `Never`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Expiry {
    /// At this Unix second.
    At(UnixTime),
    /// Never: an infinite BOOTP lease (`bootp_lease_time = "infinite"`).
    Never,
}

impl Expiry {
    /// `len` after `now`, saturating.
    pub fn after(now: UnixTime, len: Duration) -> Self {
        Self::At(now.saturating_add(len.as_secs()))
    }

    /// Whether the end has come at `now`.
    pub fn is_past(self, now: UnixTime) -> bool {
        match self {
            Self::At(t) => now >= t,
            Self::Never => false,
        }
    }

    /// The end as a wall-clock time for a timer; `None` for `Never` or a time a
    /// `SystemTime` cannot hold.
    pub fn deadline(self) -> Option<SystemTime> {
        match self {
            Self::At(t) => SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(t)),
            Self::Never => None,
        }
    }

    /// The Unix second, `None` for `Never`.
    pub fn unix(self) -> Option<UnixTime> {
        match self {
            Self::At(t) => Some(t),
            Self::Never => None,
        }
    }
}

impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::At(t) => write!(f, "{t}"),
            Self::Never => f.write_str("never"),
        }
    }
}

/// How a bound address is held, for the lease caps ([`crate::subnet::LeaseCaps`]).
/// On an offer, `Renewed` marks a client known before (never written to disk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tenure {
    /// A DHCP lease its client has not renewed yet (every new lease starts so).
    Fresh,
    /// A DHCP lease its client asked for again (RENEWING, REBINDING, INIT-REBOOT, a
    /// second DORA) while it held it.
    Renewed,
    /// A BOOTP lease (RFC 951 clients never renew).
    Bootp,
    /// The client's reserved address: never counted.
    Reserved,
}

impl Tenure {
    /// The bits stored in the journal.
    pub fn code(self) -> u8 {
        match self {
            Self::Fresh => 0,
            Self::Renewed => 1,
            Self::Bootp => 2,
            Self::Reserved => 3,
        }
    }

    /// The tenure for journal bits.
    pub fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => Self::Fresh,
            1 => Self::Renewed,
            2 => Self::Bootp,
            3 => Self::Reserved,
            _ => return None,
        })
    }
}

/// How a client is known: option 61 when sent, else `htype` + `chaddr` (RFC 2131 §4.2).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClientKey(pub Vec<u8>);

impl ClientKey {
    /// The key of a request's client.
    pub fn of(m: &Message) -> Self {
        match m.options.get(codes::CLIENT_ID) {
            Some(id) if !id.is_empty() => Self(id[..id.len().min(255)].to_vec()),
            _ => {
                let mut k = vec![m.htype];
                k.extend_from_slice(m.hardware_address());
                Self(k)
            }
        }
    }
}

impl fmt::Debug for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// Where a lease is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeaseState {
    /// Offered, not yet requested; held briefly, never written to disk.
    Offered,
    /// Acknowledged: the client owns the address until `expires`.
    Bound,
    /// The client gave it back (DHCPRELEASE); free, but remembered for that client.
    Released,
    /// A client said the address is in use elsewhere (DHCPDECLINE): quarantined until `expires`.
    Declined,
}

impl LeaseState {
    /// The byte stored in the journal.
    pub fn code(self) -> u8 {
        match self {
            Self::Offered => 0,
            Self::Bound => 1,
            Self::Released => 2,
            Self::Declined => 3,
        }
    }

    /// The state for a journal byte.
    pub fn from_code(c: u8) -> Option<Self> {
        Some(match c {
            0 => Self::Offered,
            1 => Self::Bound,
            2 => Self::Released,
            3 => Self::Declined,
            _ => return None,
        })
    }
}

/// One address and who holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The address.
    pub addr: Ipv4Addr,
    /// Its (last) client.
    pub client: ClientKey,
    /// State.
    pub state: LeaseState,
    /// End of the binding, offer hold or quarantine.
    pub expires: Expiry,
    /// How it is held (counts toward the lease caps while bound).
    pub tenure: Tenure,
    /// Start, host name, architecture and boot file, for inspection only (no
    /// decision reads them).
    pub details: LeaseDetails,
}

/// Longest host name a record keeps (option 12 holds at most 255 bytes).
pub const MAX_HOSTNAME: usize = 255;
/// Longest boot file or URL a record keeps.
pub const MAX_BOOT_FILE: usize = 1024;

/// What a grant told beyond who holds which address until when: shown by
/// `dhcpd-pxe leases`, never used for a decision. Empty for records written
/// before the journal carried it (version 2 and older).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LeaseDetails {
    /// When the lease was granted or last renewed.
    pub start: Option<UnixTime>,
    /// The host name (option 12) as the client sent it: any bytes, at most
    /// [`MAX_HOSTNAME`]; escape it for display ([`crate::logtext::Escaped`]).
    pub hostname: Vec<u8>,
    /// The client architecture: the first value of option 93.
    pub arch: Option<u16>,
    /// The boot file or URL the reply named (option 67, else the `file` field), at
    /// most [`MAX_BOOT_FILE`] bytes.
    pub boot_file: Vec<u8>,
}

impl LeaseDetails {
    /// The details of a grant at `now` to `request`, answered by `reply`. What the
    /// request and reply do not name is kept from `prev`, the client's record
    /// for the same address (a renewal without option 12 keeps the host name).
    pub fn of_grant(
        now: UnixTime,
        request: &Message,
        reply: &Message,
        prev: Option<&Self>,
    ) -> Self {
        let o = &request.options;
        let hostname = o.get(codes::HOST_NAME).map(<[u8]>::to_vec);
        let arch = o
            .get(codes::CLIENT_ARCH)
            .and_then(|d| d.get(..2))
            .map(|b| u16::from_be_bytes([b[0], b[1]]));
        let boot_file = match reply.options.get(codes::BOOTFILE_NAME) {
            Some(f) => Some(f.to_vec()),
            None => {
                let f = &reply.file;
                let f = &f[..f.iter().position(|&b| b == 0).unwrap_or(f.len())];
                (!f.is_empty()).then(|| f.to_vec())
            }
        };
        let prev = prev.cloned().unwrap_or_default();
        Self {
            start: Some(now),
            hostname: hostname.unwrap_or(prev.hostname),
            arch: arch.or(prev.arch),
            boot_file: boot_file.unwrap_or(prev.boot_file),
        }
        .bounded()
    }

    /// Cut to the lengths a record keeps.
    pub fn bounded(mut self) -> Self {
        self.hostname.truncate(MAX_HOSTNAME);
        self.boot_file.truncate(MAX_BOOT_FILE);
        self
    }
}

impl Lease {
    /// Whether the address is taken at `now` by anyone but `client`.
    pub fn blocks(&self, client: &ClientKey, now: UnixTime) -> bool {
        match self.state {
            LeaseState::Released => false,
            LeaseState::Declined => !self.expires.is_past(now),
            LeaseState::Offered | LeaseState::Bound => {
                !self.expires.is_past(now) && &self.client != client
            }
        }
    }

    /// Whether the lease is active (bound and not expired) at `now`.
    pub fn is_active(&self, now: UnixTime) -> bool {
        self.state == LeaseState::Bound && !self.expires.is_past(now)
    }

    /// The tenure class this record counts in for the caps, if any.
    pub(crate) fn capped(&self) -> Option<Tenure> {
        match (self.state, self.tenure) {
            (LeaseState::Bound, t @ (Tenure::Fresh | Tenure::Bootp)) => Some(t),
            // An offer to a client not known before holds an address as a fresh
            // lease does, until it is taken or ends: a DISCOVER flood counts too.
            (LeaseState::Offered, Tenure::Fresh) => Some(Tenure::Fresh),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_key_prefers_option_61() {
        let mut m = Message::default();
        m.chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        assert_eq!(ClientKey::of(&m).0, vec![1, 2, 0, 0, 0, 0, 1]);
        m.options.insert(codes::CLIENT_ID, b"abc".to_vec());
        assert_eq!(ClientKey::of(&m).to_string(), "61:62:63");
    }

    #[test]
    fn details_come_from_request_and_reply_and_renewals_keep_what_is_not_sent() {
        let mut req = Message::default();
        req.options.insert(codes::HOST_NAME, b"node\x01".to_vec());
        req.options.insert(codes::CLIENT_ARCH, vec![0, 7, 0, 0]);
        let mut reply = Message {
            file: b"pxelinux.0\0\0".to_vec(),
            ..Message::default()
        };
        let d = LeaseDetails::of_grant(10, &req, &reply, None);
        assert_eq!(d.start, Some(10));
        assert_eq!(d.hostname, b"node\x01");
        assert_eq!(d.arch, Some(7));
        assert_eq!(d.boot_file, b"pxelinux.0");
        // Option 67 wins over `file`.
        reply
            .options
            .insert(codes::BOOTFILE_NAME, b"http://192.0.2.1/x.efi".to_vec());
        assert_eq!(
            LeaseDetails::of_grant(10, &req, &reply, None).boot_file,
            b"http://192.0.2.1/x.efi"
        );
        // A renewal that names nothing keeps the rest, with a new start.
        let bare = Message::default();
        let r = LeaseDetails::of_grant(20, &bare, &bare, Some(&d));
        assert_eq!(
            r,
            LeaseDetails {
                start: Some(20),
                ..d
            }
        );
        // Bounded.
        req.options.insert(codes::HOST_NAME, vec![b'a'; 255]);
        let mut long = Message::default();
        long.options.insert(codes::BOOTFILE_NAME, vec![b'b'; 2000]);
        let d = LeaseDetails::of_grant(0, &req, &long, None);
        assert_eq!((d.hostname.len(), d.boot_file.len()), (255, MAX_BOOT_FILE));
    }
}
