//! Conversions to and from [`dhcproto::v4::Message`].
//!
//! Both go through bytes: this crate's [`super::encode::encode`] feeds dhcproto's
//! decoder, and dhcproto's encoder feeds [`super::decode::decode_strict`].
//! The conversion into dhcproto is as lossy as dhcproto itself (it keeps one architecture
//! of option 93, for instance); the conversion from dhcproto keeps everything dhcproto wrote.

use dhcproto::{Decodable, Encodable};

use super::decode::decode_strict;
use super::encode::{encode, EncodeParams};
use super::message::Message;
use crate::error::{DecodeError, Error};

impl Message {
    /// Converts into a dhcproto message (options pass through dhcproto's own decoder).
    pub fn to_dhcproto(&self) -> Result<dhcproto::v4::Message, Error> {
        let bytes = encode(
            self,
            &EncodeParams {
                request_order: &[],
                max_len: usize::from(u16::MAX),
            },
        )?;
        dhcproto::v4::Message::from_bytes(&bytes).map_err(|_| Error::Unencodable {
            code: 0,
            reason: "dhcproto rejected the encoded message",
        })
    }

    /// Converts from a dhcproto message.
    pub fn from_dhcproto(msg: &dhcproto::v4::Message) -> Result<Self, Error> {
        let bytes = msg.to_vec().map_err(|_| Error::Unencodable {
            code: 0,
            reason: "dhcproto could not encode the message",
        })?;
        decode_strict(&bytes).map_err(|e: DecodeError| Error::Decode(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dhcproto::v4::{DhcpOption, MessageType, OptionCode};

    #[test]
    fn round_trip_through_dhcproto() {
        let mut m = Message {
            xid: 42,
            file: b"pxelinux.0".to_vec(),
            ..Message::default()
        };
        m.chaddr[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        m.set_message_type(MessageType::Discover);
        m.options.insert(93, vec![0, 7]);
        m.options.insert(60, b"PXEClient".to_vec());
        let d = m.to_dhcproto().unwrap();
        assert_eq!(d.xid(), 42);
        // dhcproto keeps the terminating NUL in `fname`.
        assert_eq!(d.fname(), Some(&b"pxelinux.0\0"[..]));
        assert!(matches!(
            d.opts().get(OptionCode::ClientSystemArchitecture),
            Some(DhcpOption::ClientSystemArchitecture(a)) if a.0 == 7
        ));
        let back = Message::from_dhcproto(&d).unwrap();
        assert_eq!(back.xid, 42);
        assert_eq!(back.file, b"pxelinux.0");
        assert_eq!(back.options.get(93), Some(&[0, 7][..]));
        assert_eq!(back.options.get(60), Some(&b"PXEClient"[..]));
        assert_eq!(back.message_type(), Some(MessageType::Discover));
    }
}
