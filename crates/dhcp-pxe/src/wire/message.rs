//! The owned DHCP message: the fixed BOOTP header and an ordered option list.
//!
//! RFC 2131 §2, figure 1:
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +---------------+---------------+---------------+---------------+
//! |     op (1)    |   htype (1)   |   hlen (1)    |   hops (1)    |
//! +---------------+---------------+---------------+---------------+
//! |                            xid (4)                            |
//! +-------------------------------+-------------------------------+
//! |           secs (2)            |           flags (2)           |
//! +-------------------------------+-------------------------------+
//! |          ciaddr (4) / yiaddr (4) / siaddr (4) / giaddr (4)    |
//! +---------------------------------------------------------------+
//! |                          chaddr  (16)                         |
//! |                          sname   (64)                         |
//! |                          file    (128)                        |
//! +---------------------------------------------------------------+
//! |                          options (variable)                   |
//! +---------------------------------------------------------------+
//! ```
//!
//! Options are kept in the order they were first seen (or inserted), one entry per code,
//! with split instances already joined (RFC 3396 §7). `file` and `sname` hold the bytes
//! before the first NUL; when they carried overloaded options (RFC 2132 §9.3) they are
//! empty here and the options were merged into [`Message::options`].

use std::net::Ipv4Addr;

pub use dhcproto::v4::{Flags, MessageType, Opcode};

use super::code::codes;

/// Length of the fixed header before the magic cookie.
pub const HEADER_LEN: usize = 236;
/// The magic cookie 99.130.83.99 (RFC 2131 §3).
pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Size of the `sname` field.
pub const SNAME_LEN: usize = 64;
/// Size of the `file` field.
pub const FILE_LEN: usize = 128;

/// One option: its code and its (joined) payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RawOption {
    /// Option code (never 0 or 255).
    pub code: u8,
    /// Payload, possibly longer than 255 bytes after RFC 3396 joining.
    pub data: Vec<u8>,
}

/// An ordered set of options, one per code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Options(Vec<RawOption>);

impl Options {
    /// An empty set.
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// The payload of option `code`, if present.
    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.0
            .iter()
            .find(|o| o.code == code)
            .map(|o| o.data.as_slice())
    }

    /// Whether option `code` is present.
    pub fn contains(&self, code: u8) -> bool {
        self.get(code).is_some()
    }

    /// Sets option `code`, replacing its payload in place or appending it at the end.
    /// Pad (0) and End (255) are not options and are ignored.
    pub fn insert(&mut self, code: u8, data: impl Into<Vec<u8>>) {
        if code == codes::PAD || code == codes::END {
            return;
        }
        let data = data.into();
        match self.0.iter_mut().find(|o| o.code == code) {
            Some(o) => o.data = data,
            None => self.0.push(RawOption { code, data }),
        }
    }

    /// Appends bytes to option `code` (RFC 3396 joining), creating it if absent.
    pub fn append(&mut self, code: u8, data: &[u8]) {
        if code == codes::PAD || code == codes::END {
            return;
        }
        match self.0.iter_mut().find(|o| o.code == code) {
            Some(o) => o.data.extend_from_slice(data),
            None => self.0.push(RawOption {
                code,
                data: data.to_vec(),
            }),
        }
    }

    /// Removes option `code` and returns its payload.
    pub fn remove(&mut self, code: u8) -> Option<Vec<u8>> {
        let i = self.0.iter().position(|o| o.code == code)?;
        Some(self.0.remove(i).data)
    }

    /// The options in order.
    pub fn iter(&self) -> impl Iterator<Item = &RawOption> {
        self.0.iter()
    }

    /// Number of options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no options.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A DHCP message (RFC 2131 §2) with its options decoded into an ordered list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `op`: BOOTREQUEST or BOOTREPLY.
    pub op: Opcode,
    /// `htype`: hardware address type (1 = Ethernet).
    pub htype: u8,
    /// `hlen`: hardware address length.
    pub hlen: u8,
    /// `hops`: relay hops.
    pub hops: u8,
    /// `xid`: transaction id.
    pub xid: u32,
    /// `secs`: seconds since the client began.
    pub secs: u16,
    /// `flags`: bit 15 is the broadcast flag.
    pub flags: Flags,
    /// `ciaddr`: the client's current address.
    pub ciaddr: Ipv4Addr,
    /// `yiaddr`: "your" address.
    pub yiaddr: Ipv4Addr,
    /// `siaddr`: next server (TFTP) address.
    pub siaddr: Ipv4Addr,
    /// `giaddr`: relay agent address.
    pub giaddr: Ipv4Addr,
    /// `chaddr`: the 16-byte client hardware address field.
    pub chaddr: [u8; 16],
    /// `sname`: server host name, bytes before the first NUL (at most 63 are encodable).
    pub sname: Vec<u8>,
    /// `file`: boot file name, bytes before the first NUL (at most 127 are encodable).
    pub file: Vec<u8>,
    /// Options in order, without Pad, End and Option Overload (52), which the wire layer owns.
    pub options: Options,
}

impl Default for Message {
    fn default() -> Self {
        Self {
            op: Opcode::BootRequest,
            htype: 1,
            hlen: 6,
            hops: 0,
            xid: 0,
            secs: 0,
            flags: Flags::default(),
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: [0; 16],
            sname: Vec::new(),
            file: Vec::new(),
            options: Options::new(),
        }
    }
}

impl Message {
    /// The DHCP message type (option 53), if present and one byte long.
    pub fn message_type(&self) -> Option<MessageType> {
        match self.options.get(codes::MESSAGE_TYPE) {
            Some([t]) => Some(MessageType::from(*t)),
            _ => None,
        }
    }

    /// Sets option 53.
    pub fn set_message_type(&mut self, ty: MessageType) {
        self.options.insert(codes::MESSAGE_TYPE, [u8::from(ty)]);
    }

    /// The client hardware address: the first `hlen` bytes of `chaddr` (at most 16).
    pub fn hardware_address(&self) -> &[u8] {
        let n = usize::from(self.hlen).min(16);
        self.chaddr.get(..n).unwrap_or(&[])
    }

    /// The MAC address when `htype` is Ethernet (1) and `hlen` is 6.
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.htype != 1 || self.hlen != 6 {
            return None;
        }
        let mut mac = [0; 6];
        mac.copy_from_slice(&self.chaddr[..6]);
        Some(mac)
    }

    /// The parameter request list (option 55), empty when absent.
    pub fn parameter_request_list(&self) -> &[u8] {
        self.options
            .get(codes::PARAMETER_REQUEST_LIST)
            .unwrap_or(&[])
    }

    /// The client's maximum DHCP message size (option 57), if present and two bytes long.
    pub fn max_message_size(&self) -> Option<u16> {
        match self.options.get(codes::MAX_MESSAGE_SIZE) {
            Some(&[a, b]) => Some(u16::from_be_bytes([a, b])),
            _ => None,
        }
    }

    /// Whether the broadcast flag is set.
    pub fn broadcast(&self) -> bool {
        self.flags.broadcast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_replaces_in_place_and_keeps_order() {
        let mut o = Options::new();
        o.insert(53, [1]);
        o.insert(60, b"x".to_vec());
        o.insert(53, [3]);
        let codes: Vec<u8> = o.iter().map(|o| o.code).collect();
        assert_eq!(codes, [53, 60]);
        assert_eq!(o.get(53), Some(&[3][..]));
    }

    #[test]
    fn append_joins_and_pad_end_are_ignored() {
        let mut o = Options::new();
        o.append(43, &[1, 2]);
        o.append(43, &[3]);
        o.insert(0, [1]);
        o.insert(255, [1]);
        assert_eq!(o.get(43), Some(&[1, 2, 3][..]));
        assert_eq!(o.len(), 1);
        assert_eq!(o.remove(43), Some(vec![1, 2, 3]));
        assert!(o.is_empty());
    }

    #[test]
    fn mac_needs_ethernet() {
        let mut m = Message::default();
        m.chaddr[..6].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        assert_eq!(m.mac(), Some([1, 2, 3, 4, 5, 6]));
        m.hlen = 20;
        assert_eq!(m.mac(), None);
        assert_eq!(m.hardware_address().len(), 16);
    }
}
