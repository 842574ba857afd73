//! The tokio loop that moves one [`Transfer`]'s datagrams and time: nothing
//! else. Every decision stays in the sans-IO state machine; every socket call
//! is netio's.
//!
//! Per round trip it makes as few system calls as it can: the DATA blocks the
//! transfer hands out at once leave in one batched send
//! ([`TransferSocket::send_batch`]: UDP GSO or `sendmmsg`), the socket is
//! `connect`ed to the peer (no route lookup per send), and a receive takes
//! every waiting datagram in one `recvmmsg` and, having drained the queue,
//! goes back to the poller without a `recvfrom` that returns `EAGAIN`.

use std::io;
use std::time::Instant;

use netio::{RecvBatch, TransferSocket};

use super::fine_timer::{self, FINE_BELOW};
use crate::transfer::{DataBatch, Transfer};

/// Room for the largest control packet a transfer writes (an OACK or ERROR);
/// DATA headers are 4 bytes, their payload travels as a separate slice.
const CONTROL_BUF: usize = 1024;

/// When [`drive`] returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Until {
    /// When the transfer is finished, dally included.
    Finished,
    /// As soon as the outcome is known (a client returns its data while the
    /// rest of the dally can go on elsewhere).
    Outcome,
}

/// Most DATA blocks taken from the transfer for one send call (GSO takes 64
/// segments per super-datagram; larger windows leave in several calls).
const BATCH_BLOCKS: usize = 64;

/// Sends what the transfer has queued at `now`: DATA blocks a batch at a
/// time, then control packets one by one. (One clock reading for the whole
/// flush: a send takes microseconds, and reading the clock per packet was
/// a visible share of a lockstep storm's profile.)
async fn flush(
    sock: &TransferSocket,
    t: &mut Transfer,
    now: Instant,
    buf: &mut [u8],
    batch: &mut DataBatch,
) -> io::Result<()> {
    loop {
        if t.poll_transmit_batch(now, BATCH_BLOCKS, batch) > 0 {
            match sock.send_batch(batch.destination, &batch.blocks).await {
                Ok(()) => {}
                Err(e) if transient(&e) => {}
                Err(e) => return Err(e),
            }
            continue;
        }
        let Some(tx) = t.poll_transmit(now, buf) else {
            return Ok(());
        };
        match sock.send(tx.destination, &buf[..tx.len], &tx.payload).await {
            Ok(()) => {}
            // A full socket buffer or an ICMP error from an earlier send is
            // a lost datagram as far as TFTP is concerned: the timer recovers.
            Err(e) if transient(&e) => {}
            Err(e) => return Err(e),
        }
    }
}

fn transient(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    ) || e.raw_os_error() == Some(libc::ENOBUFS)
}

/// Drives `t` on `sock` until `until` holds.
///
/// A socket not yet connected (a client, which learns the server's port
/// from its first answer) is connected to the peer as soon as the transfer
/// has latched onto it; from then on the kernel keeps datagrams from other
/// ports away (it answers them with ICMP port unreachable, not ERROR 5).
pub(crate) async fn drive(
    sock: &mut TransferSocket,
    t: &mut Transfer,
    until: Until,
) -> io::Result<()> {
    let mut buf = [0u8; CONTROL_BUF];
    let mut batch = DataBatch::new();
    let asked = t.peer();
    // A sender only ever receives ACKs and ERRORs: a few 1 KiB buffers
    // instead of 64 KiB ones when hundreds of clients fetch at once.
    let count = if t.max_datagram() <= CONTROL_BUF {
        8
    } else {
        2
    };
    let mut rx = RecvBatch::new(count, t.max_datagram());
    // One timer for the whole transfer. Every packet pushes the deadline a
    // little later; moving the timer each time would cost a timer-wheel update
    // per packet, so it is moved only when the deadline comes earlier. When it
    // fires before the real deadline it is simply set again.
    let sleep = tokio::time::sleep_until(tokio::time::Instant::now());
    tokio::pin!(sleep);
    let mut armed: Option<Instant> = None;
    // An upload's flush, fsync and rename run on tokio's blocking pool,
    // never on the thread that drives this and other transfers.
    t.hand_off_finish();
    let mut now = Instant::now();
    loop {
        flush(sock, t, now, &mut buf, &mut batch).await?;
        if let Some(sink) = t.poll_finish() {
            let result = tokio::task::spawn_blocking(move || sink.finish())
                .await
                .unwrap_or_else(|e| Err(io::Error::other(e)));
            now = Instant::now();
            t.handle_finished(now, result);
            continue;
        }
        if t.is_finished() || (until == Until::Outcome && t.outcome().is_some()) {
            return Ok(());
        }
        let Some(deadline) = t.poll_timeout() else {
            // Nothing to wait for and nothing to send: the machine is idle,
            // which only a finished transfer may be.
            return Ok(());
        };
        // A deadline a few milliseconds away or less (a paced burst, a tail
        // probe) goes to the fine timer: tokio's counts whole milliseconds.
        let fine = deadline.saturating_duration_since(now) < FINE_BELOW;
        if !fine && armed.is_none_or(|a| a > deadline) {
            sleep.as_mut().reset(deadline.into());
            armed = Some(deadline);
        }
        tokio::select! {
            biased;
            r = sock.recv_batch(&mut rx) => {
                match r {
                    Ok(n) => {
                        now = Instant::now();
                        for i in 0..n {
                            if let (Some(from), datagram) = rx.get(i) {
                                t.handle(now, from, datagram);
                            }
                        }
                    }
                    Err(e) if transient(&e) => now = Instant::now(),
                    Err(e) => return Err(e),
                }
                if sock.peer().is_none() && t.peer() != asked {
                    // Not fatal: an unconnected socket works, only slower.
                    if let Err(e) = sock.connect(t.peer()) {
                        tracing::debug!(error = %e, peer = %t.peer(), "cannot connect the transfer socket");
                    }
                }
            },
            () = &mut sleep, if !fine => {
                armed = None;
                now = Instant::now();
                // A no-op when the real deadline is still ahead.
                t.handle_timeout(now);
            }
            () = fine_timer::sleep_until(deadline), if fine => {
                now = Instant::now();
                t.handle_timeout(now);
            }
        }
    }
}
