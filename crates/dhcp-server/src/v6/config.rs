//! What the DHCPv6 responder is configured with.

use std::net::Ipv6Addr;

use dhcp_pxe::Policy;

/// The DHCPv6 responder's configuration.
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
}

impl V6Config {
    /// A configuration with `policy`, a server DUID and nothing else.
    pub fn new(server_duid: Vec<u8>, policy: Policy) -> Self {
        Self {
            server_duid,
            dns: Vec::new(),
            policy,
            tftp: None,
            information_refresh: 86_400,
        }
    }
}

/// A DUID-LL (RFC 8415 §11.4: type 3, hardware type 1, the MAC). It needs no state on
/// disk: it is the same at every start as long as the interface's MAC is.
pub fn server_duid_ll(mac: [u8; 6]) -> Vec<u8> {
    let mut d = vec![0, 3, 0, 1];
    d.extend_from_slice(&mac);
    d
}
