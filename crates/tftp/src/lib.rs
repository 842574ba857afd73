//! TFTP engine (RFC 1350, 2347, 2348, 2349, 7440).
//!
//! - [`packet`]: the wire codec, borrowed views and encoding into a caller's buffer;
//! - [`options`]: option negotiation for servers and clients;
//! - [`accept`]: what a server answers to a datagram on its listening port
//!   (request checks, remap, opening the source) and who gets a transfer slot;
//! - [`transfer`]: one transfer as a sans-IO state machine (server read/write,
//!   client get/put) that yields DATA as a header plus a [`bytes::Bytes`] slice;
//! - [`source`]: where files come from (a directory root, memory, generated);
//! - [`runtime`] (feature `runtime`, on by default): the tokio drivers,
//!   [`server`] and [`client`], on the `netio` socket layer.
//!
//! Without the `runtime` feature the crate is the sans-IO engine alone: codec,
//! negotiation, transfers and sources, with no tokio and no sockets.
#![warn(missing_docs)]

pub mod accept;
pub mod netascii;
pub mod options;
pub mod packet;
pub mod remap;
#[cfg(feature = "runtime")]
pub mod runtime;
pub mod source;
pub mod transfer;

#[cfg(feature = "runtime")]
pub use runtime::{client, server};
pub use transfer::retry;

pub use options::{Limits, Negotiated, RequestOptions, Rollover};
pub use packet::{Direction, ErrorCode, Mode, Packet};
pub use retry::RetryPolicy;
pub use transfer::{DataBatch, Outcome, Stats, Transfer, Transmit};
