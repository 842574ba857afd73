//! Batched sends: many datagrams, each a header and a payload slice, in one
//! system call.
//!
//! Three ways, best first ([`TxMode`]): UDP GSO (`UDP_SEGMENT`: equal-sized
//! datagrams handed over as one "super-datagram" of iovecs header, payload,
//! header, payload… that the kernel cuts at the segment size; the last may be
//! shorter), `sendmmsg` (one message of two iovecs per datagram), and one
//! `sendmsg` per datagram. What the kernel offers is probed once per process
//! ([`Capabilities::get`]); a socket that meets a refusal at run time steps
//! down (see `TransferSocket`). No payload byte is copied in user space.

use std::io::{self, IoSlice};
use std::ops::Range;
use std::os::fd::{AsFd, AsRawFd, RawFd};
use std::sync::OnceLock;

use nix::sys::socket::{
    sendmmsg, sendmsg, setsockopt, sockopt, ControlMessage, MsgFlags, MultiHeaders, SockaddrLike,
    SockaddrStorage,
};
use socket2::{Domain, Protocol, Socket, Type};

/// Most segments in one GSO send: `UDP_MAX_SEGMENTS` of kernels before 6.x
/// (later ones accept 128; 64 works everywhere).
pub(crate) const GSO_MAX_SEGMENTS: usize = 64;
/// Most UDP payload bytes in one GSO super-datagram: an IPv4 datagram holds
/// at most 65,535 − 20 − 8 bytes (IPv6 a little more; one figure for both).
pub(crate) const GSO_MAX_BYTES: usize = 65_507;
/// Most messages handed to one `sendmmsg` (`UIO_MAXIOV`).
const MMSG_MAX: usize = 1024;

/// How a socket sends a batch of datagrams, worst to best.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum TxMode {
    /// One `sendmsg` per datagram.
    PerDatagram = 0,
    /// One `sendmmsg` for up to 1024 datagrams.
    Sendmmsg = 1,
    /// UDP GSO: runs of equal-sized datagrams as one super-datagram each,
    /// several of them in one `sendmmsg` when a batch exceeds 64 segments or
    /// 64 KiB.
    Gso = 2,
}

impl TxMode {
    pub(crate) fn from_u8(v: u8) -> Self {
        match v {
            2 => Self::Gso,
            1 => Self::Sendmmsg,
            _ => Self::PerDatagram,
        }
    }
}

/// What this kernel lets a UDP socket do, probed once per process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// `UDP_SEGMENT` is accepted (Linux 4.18 and later).
    pub gso: bool,
    /// `sendmmsg` exists.
    pub sendmmsg: bool,
}

impl Capabilities {
    /// No batching at all: one `sendmsg` per datagram.
    pub const NONE: Self = Self {
        gso: false,
        sendmmsg: false,
    };

    /// The capabilities of this kernel, probed on first use.
    pub fn get() -> Self {
        static PROBED: OnceLock<Capabilities> = OnceLock::new();
        *PROBED.get_or_init(|| {
            let caps = probe();
            tracing::debug!(
                gso = caps.gso,
                sendmmsg = caps.sendmmsg,
                "UDP send capabilities"
            );
            caps
        })
    }

    /// The best way to send a batch these capabilities allow.
    pub fn best(self) -> TxMode {
        if self.gso {
            TxMode::Gso
        } else if self.sendmmsg {
            TxMode::Sendmmsg
        } else {
            TxMode::PerDatagram
        }
    }
}

/// Sets `UDP_SEGMENT` on a scratch socket (and clears it again: the segment
/// size travels with each send as a control message), and calls `sendmmsg`
/// with no message, which only an old kernel refuses (`ENOSYS`).
fn probe() -> Capabilities {
    let Ok(s) = Socket::new(Domain::IPV4, Type::DGRAM, Some(Protocol::UDP)) else {
        return Capabilities::NONE;
    };
    let gso = setsockopt(&s, sockopt::UdpGsoSegment, &1472).is_ok();
    if gso {
        let _ = setsockopt(&s, sockopt::UdpGsoSegment, &0);
    }
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(1, None);
    let none: [[IoSlice<'_>; 1]; 0] = [];
    let sendmmsg = sendmmsg(
        s.as_raw_fd(),
        &mut headers,
        none.iter(),
        [None::<SockaddrStorage>; 0],
        [],
        MsgFlags::empty(),
    )
    .is_ok();
    Capabilities { gso, sendmmsg }
}

/// The path MTU of a connected socket (`IP_MTU` / `IPV6_MTU`): the largest
/// datagram, IP header included, the route takes without fragmenting. A GSO
/// segment must fit it.
#[allow(unsafe_code)]
pub(crate) fn path_mtu(fd: &impl AsFd, v6: bool) -> io::Result<usize> {
    if !v6 {
        let mtu = nix::sys::socket::getsockopt(fd, sockopt::IpMtu)?;
        return usize::try_from(mtu).map_err(|_| io::Error::other("negative IP_MTU"));
    }
    let mut mtu: libc::c_int = 0;
    let mut len = size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: the descriptor is open for the duration of the call (borrowed);
    // the value points to a live c_int and `len` holds its size, which the
    // kernel does not exceed.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_fd().as_raw_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU,
            (&mut mtu as *mut libc::c_int).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    usize::try_from(mtu).map_err(|_| io::Error::other("negative IPV6_MTU"))
}

/// The length of datagram `i`.
fn len_of<H: AsRef<[u8]>, P: AsRef<[u8]>>(d: &(H, P)) -> usize {
    d.0.as_ref().len() + d.1.as_ref().len()
}

/// Cuts the front of `lens` into GSO super-datagrams: each a run of
/// datagrams of the first one's size, at most [`GSO_MAX_SEGMENTS`] and
/// [`GSO_MAX_BYTES`], ended early by a shorter datagram (which may close a
/// run, never continue one). Stops before a datagram of another size, so
/// every run shares one segment size (the first datagram's). Returns the
/// runs and that size.
pub(crate) fn gso_runs(lens: &[usize], max_runs: usize) -> (Vec<Range<usize>>, usize) {
    let Some(&seg) = lens.first() else {
        return (Vec::new(), 0);
    };
    let mut runs = Vec::new();
    let mut i = 0;
    while i < lens.len() && runs.len() < max_runs && lens[i] == seg && seg > 0 {
        let start = i;
        let mut bytes = 0;
        while i < lens.len()
            && i - start < GSO_MAX_SEGMENTS
            && lens[i] <= seg
            && lens[i] > 0
            && bytes + lens[i] <= GSO_MAX_BYTES
        {
            bytes += lens[i];
            i += 1;
            if lens[i - 1] < seg {
                break;
            }
        }
        runs.push(start..i);
        if lens[i - 1] < seg {
            break;
        }
    }
    if runs.is_empty() {
        // A zero-length first datagram: sent on its own.
        runs.push(0..1);
    }
    (runs, seg)
}

/// The iovecs of `datagrams`, empty slices left out.
fn iovecs<'a, H: AsRef<[u8]>, P: AsRef<[u8]>>(datagrams: &'a [(H, P)]) -> Vec<IoSlice<'a>> {
    let mut v = Vec::with_capacity(datagrams.len() * 2);
    for (h, p) in datagrams {
        for part in [h.as_ref(), p.as_ref()] {
            if !part.is_empty() {
                v.push(IoSlice::new(part));
            }
        }
    }
    v
}

/// Sends what it can of `datagrams` in one system call (a few for
/// [`TxMode::PerDatagram`]) without blocking; returns how many datagrams left,
/// at least one, or the error of the first.
///
/// A single datagram (every DATA of a lockstep transfer) goes straight to one
/// `sendmsg` of two iovecs on the stack in every mode: no segment size, no
/// control message and nothing allocated, which is all a batch mode would
/// have reduced it to anyway.
pub(crate) fn try_send<H: AsRef<[u8]>, P: AsRef<[u8]>>(
    fd: RawFd,
    dest: Option<&SockaddrStorage>,
    datagrams: &[(H, P)],
    mode: TxMode,
) -> io::Result<usize> {
    if datagrams.len() == 1 {
        return send_each(fd, dest, datagrams);
    }
    match mode {
        TxMode::Gso => send_gso(fd, dest, datagrams),
        TxMode::Sendmmsg => send_mmsg(fd, dest, datagrams),
        TxMode::PerDatagram => send_each(fd, dest, datagrams),
    }
}

fn send_gso<H: AsRef<[u8]>, P: AsRef<[u8]>>(
    fd: RawFd,
    dest: Option<&SockaddrStorage>,
    datagrams: &[(H, P)],
) -> io::Result<usize> {
    let lens: Vec<usize> = datagrams.iter().map(len_of).collect();
    let (runs, seg) = gso_runs(&lens, MMSG_MAX);
    let Ok(seg) = u16::try_from(seg) else {
        return send_mmsg(fd, dest, datagrams);
    };
    let control = [ControlMessage::UdpGsoSegments(&seg)];
    if let [run] = runs.as_slice() {
        let iov = iovecs(&datagrams[run.clone()]);
        let control: &[ControlMessage<'_>] = if run.len() > 1 { &control } else { &[] };
        sendmsg(fd, &iov, control, MsgFlags::empty(), dest)?;
        return Ok(run.len());
    }
    let messages: Vec<Vec<IoSlice<'_>>> =
        runs.iter().map(|r| iovecs(&datagrams[r.clone()])).collect();
    let addrs = vec![dest.copied(); messages.len()];
    let mut headers =
        MultiHeaders::<SockaddrStorage>::preallocate(messages.len(), Some(nix::cmsg_space!(u16)));
    let sent = sendmmsg(
        fd,
        &mut headers,
        &messages,
        &addrs,
        control,
        MsgFlags::empty(),
    )?
    .count();
    Ok(runs[..sent].iter().map(Range::len).sum())
}

fn send_mmsg<H: AsRef<[u8]>, P: AsRef<[u8]>>(
    fd: RawFd,
    dest: Option<&SockaddrStorage>,
    datagrams: &[(H, P)],
) -> io::Result<usize> {
    let datagrams = &datagrams[..datagrams.len().min(MMSG_MAX)];
    let messages: Vec<[IoSlice<'_>; 2]> = datagrams
        .iter()
        .map(|(h, p)| [IoSlice::new(h.as_ref()), IoSlice::new(p.as_ref())])
        .collect();
    let addrs = vec![dest.copied(); messages.len()];
    let mut headers = MultiHeaders::<SockaddrStorage>::preallocate(messages.len(), None);
    let sent = sendmmsg(fd, &mut headers, &messages, &addrs, [], MsgFlags::empty())?.count();
    Ok(sent)
}

fn send_each<H: AsRef<[u8]>, P: AsRef<[u8]>>(
    fd: RawFd,
    dest: Option<&SockaddrStorage>,
    datagrams: &[(H, P)],
) -> io::Result<usize> {
    let mut sent = 0;
    for (h, p) in datagrams {
        let iov = [IoSlice::new(h.as_ref()), IoSlice::new(p.as_ref())];
        match send_one(fd, dest, &iov) {
            Ok(_) => sent += 1,
            Err(_) if sent > 0 => break,
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}

/// One `sendmsg` of `iov` with no control message, made with `syscall(2)`:
/// the libc wrapper is a thread-cancellation point, and entering and leaving
/// that (nothing in this process cancels threads) took about as many
/// instructions as building the call. Nothing is allocated.
#[allow(unsafe_code)]
fn send_one(fd: RawFd, dest: Option<&SockaddrStorage>, iov: &[IoSlice<'_>]) -> io::Result<usize> {
    // SAFETY: an all-zero `msghdr` is a valid value (null pointers, zero
    // lengths: no address, no control data).
    let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
    if let Some(dest) = dest {
        msg.msg_name = dest.as_ptr().cast_mut().cast();
        msg.msg_namelen = dest.len();
    }
    // `IoSlice` is ABI-compatible with `iovec` on Unix (std documents it);
    // the kernel only reads through these pointers.
    msg.msg_iov = iov.as_ptr().cast_mut().cast();
    msg.msg_iovlen = iov.len();
    // SAFETY: `fd` is open for the call (the caller holds the socket); the
    // header, the address and the iovecs it points to, and the memory those
    // point to, live and stay unchanged until the call returns.
    let rc = unsafe { libc::syscall(libc::SYS_sendmsg, fd, &raw const msg, 0) };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(rc as usize)
}

/// Test aid: `SO_NO_CHECK` (no UDP checksum), which makes the kernel refuse
/// every GSO send with `EINVAL`: a real refusal to exercise the fallback.
#[cfg(test)]
#[allow(unsafe_code)]
pub(crate) fn refuse_gso(fd: &impl AsFd) {
    /// `SO_NO_CHECK` from <asm-generic/socket.h>; libc does not name it.
    const SO_NO_CHECK: libc::c_int = 11;
    let on: libc::c_int = 1;
    // SAFETY: the descriptor is open for the call; the value points to a
    // live c_int and the length is its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_fd().as_raw_fd(),
            libc::SOL_SOCKET,
            SO_NO_CHECK,
            (&on as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(rc, 0, "SO_NO_CHECK: {}", io::Error::last_os_error());
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;

    #[test]
    fn equal_blocks_make_one_run() {
        let (runs, seg) = gso_runs(&[1472; 16], MMSG_MAX);
        assert_eq!((runs, seg), (vec![0..16], 1472));
    }

    #[test]
    fn a_short_last_block_closes_the_run() {
        let mut lens = vec![516; 10];
        lens.push(100);
        assert_eq!(gso_runs(&lens, MMSG_MAX).0, vec![0..11]);
        lens.push(4);
        // A block after a short one starts no run of the same size.
        assert_eq!(gso_runs(&lens, MMSG_MAX).0, vec![0..11]);
    }

    #[test]
    fn runs_respect_the_segment_and_byte_limits() {
        let (runs, _) = gso_runs(&[516; 200], MMSG_MAX);
        assert_eq!(runs, vec![0..64, 64..128, 128..192, 192..200]);
        // 44 blocks of 1472 bytes fill 64,768 of the 65,507 bytes.
        let (runs, _) = gso_runs(&[1472; 100], MMSG_MAX);
        assert_eq!(runs, vec![0..44, 44..88, 88..100]);
        let (runs, _) = gso_runs(&[8196; 20], 2);
        assert_eq!(runs, vec![0..7, 7..14]);
    }

    #[test]
    fn empty_and_zero_length_inputs() {
        assert_eq!(gso_runs(&[], MMSG_MAX).0, Vec::<Range<usize>>::new());
        assert_eq!(gso_runs(&[0, 5], MMSG_MAX).0, vec![0..1]);
    }

    #[test]
    fn probe_agrees_with_itself() {
        assert_eq!(Capabilities::get(), Capabilities::get());
        assert_eq!(Capabilities::NONE.best(), TxMode::PerDatagram);
    }
}
