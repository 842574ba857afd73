//! Integration tests of the TFTP engine: deterministic simulations of client
//! and server transfers over a lossy in-memory channel with a virtual clock.

mod accept;
mod loopback;
mod scenarios;
mod sim;
mod simulation;
