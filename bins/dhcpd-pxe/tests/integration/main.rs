//! Integration tests of dhcpd-pxe: the command line and configuration, `explain`,
//! and the daemon in network namespaces against real DHCP clients and servers.

mod check;
mod cli;
mod netns;
