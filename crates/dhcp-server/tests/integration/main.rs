//! Integration tests of the dhcp-server crate.

mod core;
mod journal;
mod proxy;
mod support;
