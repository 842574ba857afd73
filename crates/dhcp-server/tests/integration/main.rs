//! Integration tests of the dhcp-server crate.

mod core;
mod corruption;
mod driver;
mod hostile;
mod invariants;
mod journal;
mod logs;
mod proxy;
mod support;
