//! A DHCP server and proxyDHCP for network boot, as a sans-IO core plus a tokio driver.
//!
//! - [`Server`]: datagrams and time in, replies and lease records out
//!   ([`Server::handle`], [`Server::poll_transmit`], [`Server::poll_commit`],
//!   [`Server::poll_timeout`]); full mode (subnets, ranges, reservations, DORA, NAK,
//!   INFORM, RELEASE, DECLINE, BOOTP, relays) and proxy mode (port 67 proxy OFFERs,
//!   port 4011 ACKs), with reply addressing per RFC 2131 §4.1 ([`addressing`]).
//! - `store`: the `LeaseStore` trait, `LeaseJournal` (an append-only,
//!   checksummed, fsynced lease file) and `PgLeaseStore` (a PostgreSQL database
//!   shared by several servers, each address decided by the database).
//! - `driver`: sockets (IP_PKTINFO, SO_BINDTODEVICE, broadcast, port 4011) and the loop.
#![warn(missing_docs)]

pub mod addressing;
pub mod driver;
pub mod error;
pub mod exchange;
mod full;
pub mod lease;
pub mod logtext;
pub mod ratelimit;
pub mod server;
mod shared;
mod stats;
pub mod store;
pub mod subnet;
mod table;
pub mod v6;

pub use error::Error;
pub use exchange::Exchange;
pub use lease::{ClientKey, Expiry, Lease, LeaseDetails, LeaseState, LeaseTable, Tenure};
pub use server::{
    CommitBatch, Datagram, Event, Level, Mode, Server, ServerConfig, Stats, Transmit,
};
pub use subnet::{LeaseCaps, Range, Reservation, Subnet};
