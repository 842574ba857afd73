//! DHCPv6 network boot facts (RFC 5970, RFC 8415, the UEFI specification's PXE over
//! IPv6 and HTTP boot over IPv6): option codes, the client classification that maps a
//! DHCPv6 request onto the same [`crate::Client`] and classes as DHCPv4, and the
//! Boot File URL (option 59) forms.
//!
//! - A UEFI client sends option 61 (client architecture, the IANA codes of DHCPv4
//!   option 93), 62 (network interface identifier) and an option request (6) for 59.
//! - UEFI HTTP boot adds vendor class (16) data `HTTPClient:Arch:…`; the reply must echo
//!   `HTTPClient` in option 16 or the firmware ignores it.
//! - UEFI PXE sends vendor class (16) data `PXEClient:Arch:…` (enterprise 343). It takes
//!   an ADVERTISE without an address (no IA_NA, or one with an error status) as a proxy
//!   offer only when its option 16 carries `PXEClient` under enterprise 343; it then
//!   asks that proxy again on [`BOOT_SERVER_PORT`]. An ADVERTISE with an address and
//!   `PXEClient` makes it do the same, so a server that gives addresses leaves
//!   `PXEClient` out and puts option 59 in the ADVERTISE itself.
//! - iPXE sends user class (15) `iPXE`.
//! - The server answers 59 with `tftp://[2001:db8::1]/path` or an `http(s)://` URL,
//!   and optionally 60 (Boot File Parameters: each a 16-bit length and the bytes).
//! - Through relays the request arrives in RELAY-FORW envelopes and the reply goes
//!   back in RELAY-REPLs ([`relay`]).

mod boot_url;
mod classify;
mod layout;
pub mod relay;

pub use boot_url::{boot_file_params, boot_file_url};
pub use classify::{classify, mac_of_duid, V6Client};
pub use layout::{check_layout, LayoutError, MAX_DEPTH};

/// DHCPv6 option codes used for network boot (RFC 8415 §21, RFC 5970 §3).
pub mod codes {
    /// Client identifier (a DUID).
    pub const CLIENT_ID: u16 = 1;
    /// Server identifier (a DUID).
    pub const SERVER_ID: u16 = 2;
    /// Identity association for non-temporary addresses.
    pub const IA_NA: u16 = 3;
    /// Option request.
    pub const ORO: u16 = 6;
    /// Rapid commit.
    pub const RAPID_COMMIT: u16 = 14;
    /// User class.
    pub const USER_CLASS: u16 = 15;
    /// Vendor class (enterprise number, then length-prefixed data).
    pub const VENDOR_CLASS: u16 = 16;
    /// DNS recursive name servers (RFC 3646).
    pub const DNS_SERVERS: u16 = 23;
    /// Boot File URL (RFC 5970).
    pub const BOOTFILE_URL: u16 = 59;
    /// Boot File Parameters (RFC 5970).
    pub const BOOTFILE_PARAM: u16 = 60;
    /// Client system architecture type (RFC 5970).
    pub const CLIENT_ARCH_TYPE: u16 = 61;
    /// Client network interface identifier (RFC 5970).
    pub const NII: u16 = 62;
}

/// The UDP port DHCPv6 servers and relays listen on.
pub const SERVER_PORT: u16 = 547;
/// The UDP port DHCPv6 clients listen on.
pub const CLIENT_PORT: u16 = 546;
/// The UDP port of the PXE boot server over IPv6: UEFI PXE that took its address
/// from another server's ADVERTISE and its boot file from a proxy ADVERTISE (no
/// IA, option 16 `PXEClient`) sends a REQUEST with the proxy's server id, from this
/// port, to the address in that proxy's Boot File URL (59), and boots from the
/// REPLY's option 59 (EDK II's UEFI PXE driver; as 4011 for DHCPv4 proxyDHCP).
pub const BOOT_SERVER_PORT: u16 = 4011;
/// All_DHCP_Relay_Agents_and_Servers, the link-scoped group clients send to.
pub const ALL_SERVERS_AND_RELAYS: std::net::Ipv6Addr =
    std::net::Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);
