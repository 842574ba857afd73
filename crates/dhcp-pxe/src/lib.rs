//! DHCP/PXE options, client classification and boot policy on top of dhcproto.
#![warn(missing_docs)]

pub mod classify;
pub mod error;
pub mod options;
pub mod wire;

pub use error::{DecodeError, Error};
