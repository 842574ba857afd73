//! Integration tests of the dhcp-server crate.

mod core;
mod corruption;
mod driver;
mod hostile;
mod invariants;
mod journal;
mod journal_format;
mod journal_upgrade;
mod lease_details;
mod logs;
mod postgres;
mod proxy;
mod support;
