//! The option table: code, name, defining RFC and payload form, in one declarative list.
//!
//! The wire layer uses the payload form to validate lengths (strict decoding fails on a
//! mismatch, tolerant decoding drops the option and reports it). Codes not in the table
//! are carried as raw bytes and never rejected.

/// The form of an option's payload, as far as the wire layer checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload {
    /// Exactly one byte.
    U8,
    /// Exactly two bytes, network order.
    U16,
    /// Exactly four bytes, network order.
    U32,
    /// One IPv4 address.
    Ip,
    /// One or more IPv4 addresses.
    IpList,
    /// Pairs of IPv4 addresses (8-byte multiples).
    IpPairs,
    /// At least one byte of text (not NUL-terminated on the wire).
    Text,
    /// At least one byte of opaque data.
    Bytes,
    /// Any length, including zero.
    Any,
    /// A list of 16-bit values, at least one.
    U16List,
    /// Sub-options (code, length, data) — checked by the typed layer, not here.
    Encapsulated,
}

impl Payload {
    /// Checks a payload length against this form; returns why it does not fit.
    pub fn check(self, len: usize) -> Result<(), &'static str> {
        let ok = match self {
            Self::U8 => len == 1,
            Self::U16 => len == 2,
            Self::U32 | Self::Ip => len == 4,
            Self::IpList => len >= 4 && len % 4 == 0,
            Self::IpPairs => len >= 8 && len % 8 == 0,
            Self::Text | Self::Bytes => len >= 1,
            Self::Any | Self::Encapsulated => true,
            Self::U16List => len >= 2 && len % 2 == 0,
        };
        if ok {
            Ok(())
        } else {
            Err(match self {
                Self::U8 => "length must be 1",
                Self::U16 => "length must be 2",
                Self::U32 | Self::Ip => "length must be 4",
                Self::IpList => "length must be a non-zero multiple of 4",
                Self::IpPairs => "length must be a non-zero multiple of 8",
                Self::Text | Self::Bytes => "length must not be zero",
                Self::U16List => "length must be a non-zero multiple of 2",
                Self::Any | Self::Encapsulated => "unreachable",
            })
        }
    }
}

/// One row of the option table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionSpec {
    /// Option code.
    pub code: u8,
    /// Conventional name.
    pub name: &'static str,
    /// Where the option is defined.
    pub rfc: &'static str,
    /// Payload form.
    pub payload: Payload,
}

macro_rules! table {
    ($( $code:literal, $name:literal, $rfc:literal, $payload:ident; )*) => {
        /// Every option this crate knows by name, in code order.
        pub const OPTIONS: &[OptionSpec] = &[
            $( OptionSpec { code: $code, name: $name, rfc: $rfc, payload: Payload::$payload }, )*
        ];
    };
}

table! {
    1, "Subnet Mask", "RFC 2132 §3.3", Ip;
    2, "Time Offset", "RFC 2132 §3.4", U32;
    3, "Router", "RFC 2132 §3.5", IpList;
    4, "Time Server", "RFC 2132 §3.6", IpList;
    6, "Domain Name Server", "RFC 2132 §3.8", IpList;
    7, "Log Server", "RFC 2132 §3.9", IpList;
    12, "Host Name", "RFC 2132 §3.14", Text;
    13, "Boot File Size", "RFC 2132 §3.15", U16;
    15, "Domain Name", "RFC 2132 §3.17", Text;
    17, "Root Path", "RFC 2132 §3.19", Text;
    26, "Interface MTU", "RFC 2132 §5.1", U16;
    28, "Broadcast Address", "RFC 2132 §5.3", Ip;
    33, "Static Route", "RFC 2132 §5.8", IpPairs;
    42, "NTP Servers", "RFC 2132 §8.3", IpList;
    43, "Vendor Specific Information", "RFC 2132 §8.4, PXE 2.1 §2.4", Encapsulated;
    50, "Requested IP Address", "RFC 2132 §9.1", Ip;
    51, "IP Address Lease Time", "RFC 2132 §9.2", U32;
    52, "Option Overload", "RFC 2132 §9.3", U8;
    53, "DHCP Message Type", "RFC 2132 §9.6", U8;
    54, "Server Identifier", "RFC 2132 §9.7", Ip;
    55, "Parameter Request List", "RFC 2132 §9.8", Bytes;
    56, "Message", "RFC 2132 §9.9", Text;
    57, "Maximum DHCP Message Size", "RFC 2132 §9.10", U16;
    58, "Renewal (T1) Time", "RFC 2132 §9.11", U32;
    59, "Rebinding (T2) Time", "RFC 2132 §9.12", U32;
    60, "Vendor Class Identifier", "RFC 2132 §9.13", Bytes;
    61, "Client Identifier", "RFC 2132 §9.14", Bytes;
    66, "TFTP Server Name", "RFC 2132 §9.4", Text;
    67, "Bootfile Name", "RFC 2132 §9.5", Text;
    77, "User Class", "RFC 3004", Bytes;
    82, "Relay Agent Information", "RFC 3046", Encapsulated;
    93, "Client System Architecture", "RFC 4578 §2.1", U16List;
    94, "Client Network Interface Identifier", "RFC 4578 §2.2", Bytes;
    97, "Client Machine Identifier", "RFC 4578 §2.3", Any;
    119, "Domain Search", "RFC 3397", Bytes;
    121, "Classless Static Route", "RFC 3442", Bytes;
    150, "TFTP Server Address", "RFC 5859", IpList;
    175, "iPXE Encapsulated Options", "iPXE (site-specific)", Encapsulated;
    209, "PXELINUX Configuration File", "RFC 5071 §4", Text;
    210, "PXELINUX Path Prefix", "RFC 5071 §5", Text;
    211, "PXELINUX Reboot Time", "RFC 5071 §6", U32;
}

/// Looks up a code in [`OPTIONS`].
pub fn spec(code: u8) -> Option<&'static OptionSpec> {
    OPTIONS
        .binary_search_by_key(&code, |s| s.code)
        .ok()
        .and_then(|i| OPTIONS.get(i))
}

/// Well-known option codes used throughout the crate.
#[allow(missing_docs)]
pub mod codes {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const HOST_NAME: u8 = 12;
    pub const VENDOR_SPECIFIC: u8 = 43;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const MAX_MESSAGE_SIZE: u8 = 57;
    pub const RENEWAL_TIME: u8 = 58;
    pub const REBINDING_TIME: u8 = 59;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const TFTP_SERVER_NAME: u8 = 66;
    pub const BOOTFILE_NAME: u8 = 67;
    pub const USER_CLASS: u8 = 77;
    pub const RELAY_AGENT_INFO: u8 = 82;
    pub const CLIENT_ARCH: u8 = 93;
    pub const CLIENT_NDI: u8 = 94;
    pub const CLIENT_MACHINE_ID: u8 = 97;
    pub const IPXE: u8 = 175;
    pub const END: u8 = 255;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(OPTIONS.windows(2).all(|w| w[0].code < w[1].code));
    }

    #[test]
    fn lookup_finds_known_and_misses_unknown() {
        assert_eq!(spec(93).map(|s| s.name), Some("Client System Architecture"));
        assert!(spec(200).is_none());
    }

    #[test]
    fn payload_checks_lengths() {
        assert!(Payload::U8.check(1).is_ok());
        assert!(Payload::U8.check(2).is_err());
        assert!(Payload::IpList.check(8).is_ok());
        assert!(Payload::IpList.check(6).is_err());
        assert!(Payload::U16List.check(0).is_err());
        assert!(Payload::Any.check(0).is_ok());
    }
}
