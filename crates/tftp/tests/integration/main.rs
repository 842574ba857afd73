//! Integration tests of the TFTP engine: deterministic simulations of client
//! and server transfers over a lossy in-memory channel with a virtual clock.

mod accept;
mod fabric;
mod file_source;
mod loopback;
mod recovery;
mod scenarios;
mod sim;
mod simulation;
#[path = "../../../../tests/support/skip.rs"]
mod skip;
mod timers;
mod upload_finish;
