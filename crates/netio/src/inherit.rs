//! Sockets a process is handed instead of binding them: inetd's fd 0
//! (xinetd `wait = yes`) and systemd's `LISTEN_FDS` (from fd 3).
#![allow(unsafe_code)]

use std::io;
use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};

use socket2::{Socket, Type};
use tokio::net::UdpSocket;

use crate::bind::enable_pktinfo;

/// systemd's first passed descriptor (`SD_LISTEN_FDS_START`).
const LISTEN_FDS_START: RawFd = 3;

/// Sockets passed by systemd (`LISTEN_PID` is this process, `LISTEN_FDS`
/// of them from fd 3), or `None` when this process was not socket-activated.
/// The variables are removed so children do not see them, and each
/// descriptor gets `FD_CLOEXEC`.
pub fn listen_fds() -> io::Result<Option<Vec<OwnedFd>>> {
    let pid = std::env::var("LISTEN_PID").ok();
    let count = std::env::var("LISTEN_FDS").ok();
    let (Some(pid), Some(count)) = (pid, count) else {
        return Ok(None);
    };
    if pid.trim().parse::<u32>().ok() != Some(std::process::id()) {
        return Ok(None);
    }
    let count: RawFd = count
        .trim()
        .parse()
        .ok()
        .filter(|n| (1..=64).contains(n))
        .ok_or_else(|| io::Error::other(format!("bad LISTEN_FDS: {count}")))?;
    for var in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
        std::env::remove_var(var);
    }
    let mut fds = Vec::new();
    for fd in LISTEN_FDS_START..LISTEN_FDS_START + count {
        // SAFETY: F_GETFD only reads the descriptor flags of a number; one
        // that is not open gives EBADF, checked before taking ownership.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
        if flags < 0 {
            return Err(io::Error::other(format!(
                "LISTEN_FDS: fd {fd} is not open: {}",
                io::Error::last_os_error()
            )));
        }
        // SAFETY: systemd's protocol hands these descriptors to this process
        // (LISTEN_PID matched) and F_GETFD showed each is open; nothing else
        // in the process owns them, and each is taken exactly once.
        let owned = unsafe { OwnedFd::from_raw_fd(fd) };
        // SAFETY: setting FD_CLOEXEC on a descriptor this process owns.
        if unsafe { libc::fcntl(fd, libc::F_SETFD, flags | libc::FD_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        fds.push(owned);
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
