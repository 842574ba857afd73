//! TFTP engine (RFC 1350, 2347, 2348, 2349, 7440).
//!
//! - [`packet`]: the wire codec, borrowed views and encoding into a caller's buffer;
//! - [`options`]: option negotiation for servers and clients;
//! - [`transfer`]: one transfer as a sans-IO state machine (server read/write,
//!   client get/put) that yields DATA as a header plus a [`bytes::Bytes`] slice;
//! - [`source`]: where files come from (a directory root, memory, generated);
//! - [`udp`]: the socket layer (destination addresses, vectored sends);
//! - [`server`] and [`client`]: the tokio drivers.
#![warn(missing_docs)]

mod block;
pub mod client;
mod driver;
pub mod netascii;
pub mod options;
pub mod packet;
mod receiver;
pub mod remap;
pub mod retry;
mod sender;
pub mod server;
pub mod source;
pub mod transfer;
pub mod udp;
mod workers;

pub use options::{Limits, Negotiated, RequestOptions, Rollover};
pub use packet::{ErrorCode, Mode, Packet};
pub use retry::RetryPolicy;
pub use transfer::{Outcome, Stats, Transfer, Transmit};
