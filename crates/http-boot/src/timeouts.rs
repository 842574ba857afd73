//! Timeouts hyper does not have: a connection wrapper that ends a
//! connection that is idle too long or whose client stops reading.
//!
//! - **idle**: no byte moved in either direction for `idle` while the server
//!   waits for the client (between keep-alive requests, or a client that
//!   connected and sent nothing): the read fails with `TimedOut` and hyper
//!   closes the connection. It does not count while a request is being
//!   answered ([`InFlight`]): opening a large file fills the cache first.
//! - **send**: a write that makes no progress for `send` (the client's
//!   receive window stays full: it stopped reading, or reads too slowly):
//!   the write fails with `TimedOut`. While a write is stalled only this
//!   timer counts, so a slow reader gets `send`, not `idle`.
//!
//! hyper's own `header_read_timeout` bounds the time to a complete request
//! header (a client trickling bytes keeps the idle timer alive, not that one).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

/// Marks a connection busy answering a request while it lives (the
/// request's reply body holds it until the reply ends).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    pub(crate) fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// An I/O object with the idle and send timeouts (see the module docs).
#[derive(Debug)]
pub(crate) struct Timed<T> {
    inner: T,
    /// Requests being answered ([`InFlight`] guards alive).
    busy: Arc<AtomicUsize>,
    idle: Duration,
    send: Duration,
    last_progress: Instant,
    read_timer: Pin<Box<Sleep>>,
    /// Armed while a write is pending.
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<T> Timed<T> {
    pub(crate) fn new(inner: T, busy: Arc<AtomicUsize>, idle: Duration, send: Duration) -> Self {
        let now = Instant::now();
        Self {
            inner,
            busy,
            idle,
            send,
            last_progress: now,
            read_timer: Box::pin(tokio::time::sleep_until(now + idle)),
            write_timer: None,
        }
    }

    fn progressed(&mut self) {
        self.last_progress = Instant::now();
    }

    /// A write returned `Pending`: arm (or check) the send timer.
    fn write_stalled(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let send = self.send;
        let timer = self
            .write_timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(send)));
        match timer.as_mut().poll(cx) {
            Poll::Ready(()) => {
                Poll::Ready(Err(timed_out("send timeout: the client stopped reading")))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn write_done(&mut self, result: &io::Result<usize>) {
        self.write_timer = None;
        if matches!(result, Ok(n) if *n > 0) {
            self.progressed();
        }
    }
}

fn timed_out(why: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::TimedOut, why)
}

impl<T: AsyncRead + Unpin> AsyncRead for Timed<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Ready(result) => {
                if buf.filled().len() > before {
                    this.progressed();
                }
                Poll::Ready(result)
            }
            // A stalled write has its own timer; a request being answered
            // is not idleness.
            Poll::Pending if this.write_timer.is_some() => Poll::Pending,
            Poll::Pending if this.busy.load(Ordering::Relaxed) > 0 => Poll::Pending,
            Poll::Pending => {
                let deadline = this.last_progress + this.idle;
                if Instant::now() >= deadline {
                    return Poll::Ready(Err(timed_out("idle timeout")));
                }
                if this.read_timer.deadline() != deadline {
                    this.read_timer.as_mut().reset(deadline);
                }
                // Registers the wake-up; the deadline is checked on the next poll.
                let _ = this.read_timer.as_mut().poll(cx);
                Poll::Pending
            }
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Timed<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write(cx, buf) {
            Poll::Ready(result) => {
                this.write_done(&result);
                Poll::Ready(result)
            }
            Poll::Pending => this.write_stalled(cx),
        }
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_write_vectored(cx, bufs) {
            Poll::Ready(result) => {
                this.write_done(&result);
                Poll::Ready(result)
            }
            Poll::Pending => this.write_stalled(cx),
        }
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_silent_peer_hits_the_idle_timeout() {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let busy = Arc::new(AtomicUsize::new(0));
        let mut io = Timed::new(
            ours,
            busy.clone(),
            Duration::from_secs(5),
            Duration::from_secs(30),
        );
        theirs.write_all(b"x").await.unwrap();
        let mut buf = [0u8; 8];
        assert_eq!(io.read(&mut buf).await.unwrap(), 1);
        // Answering a request: silence is not idleness.
        let guard = InFlight::new(&busy);
        let waited = tokio::time::timeout(Duration::from_secs(60), io.read(&mut buf)).await;
        assert!(waited.is_err(), "idle timeout fired while busy");
        drop(guard);
        let err = io.read(&mut buf).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
    }

    #[tokio::test(start_paused = true)]
    async fn a_peer_that_stops_reading_hits_the_send_timeout() {
        let (ours, _theirs) = tokio::io::duplex(64);
        let busy = Arc::new(AtomicUsize::new(0));
        let mut io = Timed::new(ours, busy, Duration::from_secs(5), Duration::from_secs(30));
        let started = Instant::now();
        let err = io.write_all(&[0u8; 1024]).await.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        // The send timer, not the idle one, ended it (virtual clock).
        assert!(started.elapsed() >= Duration::from_secs(30));
    }
}
