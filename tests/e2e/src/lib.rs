//! End-to-end network boot: real firmware (iPXE's BIOS ROM, OVMF) in
//! `qemu-system-x86_64 -accel tcg` boots a Debian kernel and a busybox initrd
//! over a tap device in a network namespace made for the test, served by this
//! project's `tftpd`, with configuration from `pxecfg generate` and DHCP from
//! `dhcpd-pxe` (or ISC dhcpd / dnsmasq as peers).
//!
//! The scenarios live in `tests/boot.rs`; this library holds the harness:
//! [`machine`] (what the machine has, skip or fail when it lacks it),
//! [`busybox`] (the static busybox of the initrd), [`lab`]
//! (namespaces, bridge, tap), [`tree`] (TFTP tree, initrd, inventory),
//! [`daemon`] (processes killed by PID on drop), [`qemu`] (the boot and its
//! deadline), [`diagnose`] (which stage broke, from the logs) and
//! [`scenario`] (one run, start to teardown). [`secure_boot`] boots the
//! shim → GRUB → kernel chain with Secure Boot on, [`chain`] judges it.
//! `tests/http_chains.rs` boots over HTTP: [`http`] (iPXE and UEFI HTTP boot
//! chains) and [`http_stage`] (tftpd's HTTP access lines, which stage broke).
//! `tests/ipv6.rs` boots UEFI PXE over IPv6 only: [`ipv6`] (lab, tree,
//! boot), [`ipv6_dhcp`] (the DHCPv6 server) and [`ipv6_stage`] (which link
//! broke).
//! See docs/e2e.md.

pub mod busybox;
pub mod chain;
pub mod daemon;
pub mod diagnose;
pub mod http;
pub mod http_stage;
pub mod ipv6;
pub mod ipv6_dhcp;
pub mod ipv6_stage;
pub mod lab;
pub mod machine;
pub mod qemu;
pub mod scenario;
pub mod secure_boot;
pub mod tree;

use std::sync::{Mutex, MutexGuard};

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Serialises scenarios: one qemu at a time (the machine has two cores, and
/// the test harness runs `#[test]`s in parallel). A panicked scenario does not
/// block the others.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
