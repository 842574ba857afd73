//! TFTP engine (RFC 1350, 2347, 2348, 2349, 7440).
#![warn(missing_docs)]

pub mod source;
pub mod udp;
