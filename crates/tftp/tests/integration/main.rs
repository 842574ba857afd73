//! Integration tests of the TFTP engine: deterministic simulations of client
//! and server transfers over a lossy in-memory channel with a virtual clock.

mod file_source;
mod loopback;
mod scenarios;
mod sim;
mod simulation;
mod upload_finish;
