//! Integration tests of the dhcp-server crate.

mod core;
mod driver;
mod invariants;
mod journal;
mod proxy;
mod support;
