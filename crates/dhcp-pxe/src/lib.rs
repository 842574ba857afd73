//! DHCP/PXE on top of [dhcproto]: typed PXE, iPXE and UEFI HTTP-boot options, client
//! classification, a declarative boot policy, and a byte-exact wire layer.
//!
//! The crate does no I/O. The per-packet path of a PXE server is:
//!
//! 1. [`wire::decode`]: bytes → [`Message`] (strict or tolerant; reads overloaded
//!    `file`/`sname` and joins split options, RFC 3396);
//! 2. [`Client::classify`]: firmware kind, architecture, MAC, GUID, vendor and user class,
//!    iPXE features, relay information;
//! 3. [`Policy::decide`]: the first matching rule gives a boot target, with an
//!    [`explain::Explanation`] of every rule's verdict;
//! 4. [`reply::build_reply`]: an OFFER/ACK, proxyDHCP OFFER or port-4011 ACK;
//! 5. [`wire::encode`]: 53 first, 54 next, the client's requested order, padding to
//!    300 bytes, the 576-byte / option 57 limit with option overload.
//!
//! [`reply::answer`] runs all five.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use dhcp_pxe::{policy::{Policy, Rule}, reply::{answer, ReplyKind, ReplyParams}};
//! use dhcp_pxe::{wire::decode::decode_strict, classify::Firmware};
//!
//! // A DISCOVER as a BIOS PXE ROM sends it: header, magic cookie, options.
//! let mut discover = vec![0u8; 236];
//! discover[0] = 1; // BOOTREQUEST
//! discover[1] = 1; // Ethernet
//! discover[2] = 6;
//! discover[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
//! discover[28..34].copy_from_slice(&[0x52, 0x54, 0, 0x12, 0x34, 0x56]);
//! discover.extend_from_slice(&[99, 130, 83, 99]);
//! discover.extend_from_slice(&[53, 1, 1, 93, 2, 0, 0, 55, 3, 1, 67, 43]);
//! discover.extend_from_slice(&[60, 32]);
//! discover.extend_from_slice(b"PXEClient:Arch:00000:UNDI:002001");
//! discover.push(255);
//!
//! let request = decode_strict(&discover)?;
//! assert_eq!(dhcp_pxe::Client::classify(&request).firmware, Firmware::BiosPxe);
//!
//! let mut rule = Rule::new("bios");
//! rule.then.boot_file = Some("undionly.kpxe".into());
//! rule.then.ipxe_script = Some("http://192.0.2.1/boot.ipxe".into());
//! let policy = Policy::new(vec![rule]);
//!
//! let params = ReplyParams::new(ReplyKind::ProxyOffer, Ipv4Addr::new(192, 0, 2, 1));
//! let out = answer(&discover, &policy, &params)?;
//! let offer = &out.bytes;
//! assert!(offer.len() >= 300);
//! assert_eq!(&offer[240..243], &[53, 1, 2]); // DHCPOFFER, first
//! assert_eq!(&offer[243..249], &[54, 4, 192, 0, 2, 1]); // server id, next
//! assert_eq!(&offer[16..20], &[0, 0, 0, 0]); // proxy: no yiaddr
//! assert_eq!(&offer[108..121], b"undionly.kpxe");
//! assert_eq!(out.reply.message.options.get(60), Some(&b"PXEClient"[..]));
//! assert_eq!(out.reply.message.options.get(43), Some(&[6, 1, 8, 255][..]));
//! assert_eq!(out.decision.explanation.chosen(), Some("bios"));
//! # Ok::<(), dhcp_pxe::Error>(())
//! ```
#![warn(missing_docs)]

pub mod boot_class;
pub mod classify;
pub mod error;
pub mod explain;
pub mod options;
pub mod policy;
pub mod reply;
pub mod v6;
pub mod wire;

pub use classify::{Client, Firmware};
pub use error::{DecodeError, Error};
pub use policy::{BootAction, Decision, Match, Policy, Rule};
pub use reply::{answer, build_reply, Reply, ReplyKind, ReplyParams};
pub use wire::decode::{decode_strict, decode_tolerant};
pub use wire::encode::encode;
pub use wire::message::Message;
