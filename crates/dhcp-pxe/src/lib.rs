//! DHCP/PXE options, client classification and boot policy on top of dhcproto.
#![warn(missing_docs)]
