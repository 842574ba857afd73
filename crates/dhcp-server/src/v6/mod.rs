//! DHCPv6 for network boot, sans-IO: the stateless/proxy responder ([`respond`]) that
//! answers UEFI PXE and HTTP boot clients beside another DHCPv6 server (the boot
//! options without any IA, as dnsmasq and Kea configurations for PXE do), and
//! INFORMATION-REQUESTs. The boot facts and the classification are
//! [`dhcp_pxe::v6`]'s; the policy is the DHCPv4 one.

mod config;
mod driver;
mod respond;

pub use config::{server_duid_ll, V6Config};
pub use driver::run_v6;
pub use respond::{respond, V6Outcome};

#[cfg(test)]
mod tests;
