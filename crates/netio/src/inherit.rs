//! Sockets a process is handed instead of binding them: inetd's fd 0
//! (xinetd `wait = yes`) and systemd's `LISTEN_FDS` (from fd 3, taken over
//! through the `listenfd` crate). No `unsafe` here: `listenfd` and socket2
//! own the descriptors.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use listenfd::ListenFd;
use socket2::{Socket, Type};
use tokio::net::UdpSocket;

use crate::bind::enable_pktinfo;

/// Most descriptors taken from `LISTEN_FDS`; a larger count is an error.
const MAX_LISTEN_FDS: usize = 64;

/// Sockets passed by systemd (`LISTEN_PID` is this process, `LISTEN_FDS`
/// of them from fd 3), or `None` when this process was not socket-activated.
/// The variables are removed so children do not see them, each descriptor
/// must be a UDP socket, and each gets `FD_CLOEXEC`.
///
/// Stricter than `listenfd` alone, as `sd_listen_fds(3)` is: a missing
/// `LISTEN_PID` means the descriptors were meant for another process.
pub fn listen_fds() -> io::Result<Option<Vec<OwnedFd>>> {
    let (Ok(pid), Ok(count)) = (std::env::var("LISTEN_PID"), std::env::var("LISTEN_FDS")) else {
        return Ok(None);
    };
    if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
        return Ok(None);
    }
    let bad = || io::Error::other(format!("bad LISTEN_FDS: {count}"));
    let n: usize = count.trim().parse().map_err(|_| bad())?;
    if !(1..=MAX_LISTEN_FDS).contains(&n) {
        return Err(bad());
    }
    std::env::remove_var("LISTEN_FDNAMES");
    // Reads and removes LISTEN_PID and LISTEN_FDS.
    let mut passed = ListenFd::from_env();
    let mut fds = Vec::with_capacity(n);
    for index in 0..passed.len() {
        let sock = passed
            .take_udp_socket(index)
            .map_err(|e| io::Error::new(e.kind(), format!("LISTEN_FDS: fd {}: {e}", 3 + index)))?
            .ok_or_else(|| io::Error::other(format!("LISTEN_FDS: fd {} taken twice", 3 + index)))?;
        let sock = Socket::from(sock);
        sock.set_cloexec(true)?;
        fds.push(OwnedFd::from(sock));
    }
    Ok(Some(fds))
}

/// inetd's socket: a new descriptor for fd 0 (which stays open, as stdin).
pub fn stdin_socket() -> io::Result<OwnedFd> {
    io::stdin().as_fd().try_clone_to_owned()
}

/// Makes an inherited descriptor a listener: checks that it is a bound UDP
/// socket, turns packet info on (so replies leave from the address each
/// request was sent to), makes it non-blocking. Must be called inside a tokio
/// runtime.
pub fn adopt(fd: OwnedFd) -> io::Result<UdpSocket> {
    let sock = Socket::from(fd);
    let kind = sock.r#type().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("not a socket (inetd mode expects the bound UDP socket on fd 0; use -l or -L to listen): {e}"),
        )
    })?;
    if kind != Type::DGRAM {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the inherited socket is not a datagram (UDP) socket",
        ));
    }
    let local = sock.local_addr()?.as_socket().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "the inherited socket is not an IP socket",
        )
    })?;
    enable_pktinfo(&sock, local.is_ipv6())
        .map_err(|e| io::Error::new(e.kind(), format!("IP_PKTINFO: {e}")))?;
    sock.set_nonblocking(true)?;
    UdpSocket::from_std(sock.into())
}
