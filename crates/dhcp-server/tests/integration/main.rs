//! Integration tests of the dhcp-server crate.

mod core;
mod corruption;
mod driver;
mod hostile;
mod invariants;
mod journal;
mod postgres;
mod proxy;
mod support;
