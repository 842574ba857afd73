//! The workspace's socket layer: every socket system call of `tftp`,
//! `dhcp-server`, `tftpd` and `dhcpd-pxe` is made here.
//!
//! - [`bind_listener`], [`bind_with`] and [`TransferSocket::bind`]: the
//!   well-known-port sockets (IPv4 and IPv6, `IPV6_V6ONLY`, packet info on,
//!   optionally `SO_BINDTODEVICE`, broadcast, `SO_REUSEADDR`) and the
//!   per-transfer sockets (ephemeral port or a `-R lo:hi` range);
//! - [`recv_meta`] and [`send_from`]: datagrams with their destination
//!   address and interface (`IP_PKTINFO` / `IPV6_RECVPKTINFO`), replies from a
//!   chosen source address and interface;
//! - [`inherit`]: descriptors handed over by inetd (fd 0) and systemd
//!   (`LISTEN_FDS`, taken over by the `listenfd` crate);
//! - [`TransferSocket`]: one transfer's socket, `connect`ed to its peer,
//!   with batched sends ([`TransferSocket::send_batch`]: UDP GSO, else
//!   `sendmmsg`, else one `sendmsg` per datagram, see [`Capabilities`]) and
//!   batched receives that leave no `EAGAIN` call behind;
//! - [`arp`]: the `SIOCSARP` entry a DHCP server adds for a client without an
//!   address, and interface names.
//!
//! `nix` and `socket2` make the calls where they cover them; what they do not
//! cover (the ARP ioctl, `IPV6_MTU`, registering a descriptor with tokio's
//! poller for one interest, a `recvmmsg` that allocates nothing per call)
//! is the only `unsafe` code, in [`arp`], `batch.rs`, `recv.rs` and
//! `transfer.rs`, each block with its SAFETY note. Linux only,
//! as the rest of the workspace.

pub mod arp;
mod batch;
mod bind;
pub mod dhcp6;
pub mod inherit;
mod pktinfo;
mod recv;
mod transfer;

use std::net::{IpAddr, SocketAddr};

pub use batch::{Capabilities, TxMode};
pub use bind::{bind_listener, bind_with, BindOptions};
pub use pktinfo::{recv_meta, send_from};
pub use recv::{RecvBatch, RECV_MAX};
pub use transfer::TransferSocket;

/// What the kernel told about one received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvMeta {
    /// Bytes written to the buffer. A datagram longer than the buffer is
    /// truncated to it (the rest is lost, as with `recv_from`).
    pub len: usize,
    /// Who sent it.
    pub peer: SocketAddr,
    /// The local address it was sent to (`IP_PKTINFO` / `IPV6_PKTINFO`); a
    /// reply should leave from this address. For a datagram sent to the
    /// limited broadcast (255.255.255.255) or a multicast group this is the
    /// local address of the receiving interface instead. `None` when the
    /// socket has no packet info enabled.
    pub dst: Option<IpAddr>,
    /// The index of the interface it arrived on, when known.
    pub ifindex: Option<u32>,
}

#[cfg(test)]
#[path = "../../../tests/support/skip.rs"]
mod test_skip;
