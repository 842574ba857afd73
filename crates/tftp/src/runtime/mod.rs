//! The tokio side of the engine: the server and client drivers, the worker
//! threads that run transfers; their sockets are netio's. Every protocol
//! decision stays in the sans-IO modules ([`crate::transfer`],
//! [`crate::options`], [`crate::source`]); this code only moves datagrams and
//! time.

pub mod client;
mod driver;
mod fine_timer;
mod on_wake;
pub mod server;
mod workers;
