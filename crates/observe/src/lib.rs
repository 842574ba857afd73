//! What `tftpd` and `dhcpd-pxe` share for operators: where log lines go
//! ([`logs`]: terminal, journal, syslog), counters rendered as Prometheus
//! text and as one `key=value` line ([`metrics`]), the opt-in HTTP endpoint
//! that serves them ([`endpoint`]), and the SIGUSR1 handler that logs them
//! ([`signal`]).
//!
//! The protocol crates know nothing of this one: they count in plain
//! structs (`tftp::server::Counters`, `dhcp_server::Stats`) and each daemon
//! turns those into a [`Metrics`] set.
#![warn(missing_docs)]

pub mod endpoint;
pub mod logs;
pub mod metrics;
pub mod signal;
pub mod syslog;

pub use endpoint::Source;
pub use metrics::{Kind, Metrics};
