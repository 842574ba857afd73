//! DHCPv6 for network boot, sans-IO, in two modes:
//!
//! - stateless/proxy ([`respond`]): answers UEFI PXE and HTTP boot clients beside
//!   another DHCPv6 server (the boot options without any IA, as dnsmasq and Kea
//!   configurations for PXE do), and INFORMATION-REQUESTs;
//! - full ([`FullServer6`]): addresses in IA_NA from a range ([`Bindings6`]), kept
//!   in a lease file ([`LeaseFile6`]) before any REPLY that grants them leaves, with
//!   the same boot options.
//!
//! The boot facts and the classification are [`dhcp_pxe::v6`]'s; the policy is the
//! DHCPv4 one.

mod binding;
mod config;
mod driver;
mod full;
mod ia;
mod leasefile;
mod respond;

pub use binding::{Binding6, Bindings6, IaKey, State6, DECLINE_HOLD, OFFER_HOLD};
pub use config::{server_duid_ll, FullV6, Range6, V6Config};
pub use driver::run_v6;
pub use full::FullServer6;
pub use leasefile::{replay6, LeaseFile6, Replay6, LEASE6_MAGIC};
pub use respond::{respond, IaDecision, V6Outcome};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_full;
