//! A timer finer than tokio's for short waits: the release of a paced burst
//! and the tail probe, a few hundred microseconds apart on a LAN.
//!
//! tokio's timer counts whole milliseconds (a deadline is rounded up to the
//! next tick, and the poller sleeps in milliseconds), so a burst paced one
//! 300 µs round trip after the last leaves 1 to 2 ms later: a window of 256
//! blocks into a receiver that holds 80 then moves 80 blocks per millisecond
//! at best. This timer is one thread for the process that sleeps on a
//! condition variable with a nanosecond timeout (the kernel's high-resolution
//! timers, within the thread's timer slack of 50 µs) and wakes the task
//! whose deadline came. The drivers use it only for waits shorter than
//! [`FINE_BELOW`]; everything else stays on tokio's timer.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// Waits shorter than this go to the fine timer.
pub(crate) const FINE_BELOW: Duration = Duration::from_millis(3);

struct Entry {
    at: Instant,
    seq: u64,
    waker: Waker,
    /// Set when the wait ended otherwise (dropped, or registered anew): the
    /// entry then wakes no one.
    cancelled: Arc<AtomicBool>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Queue {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
}

type Shared = Arc<(Mutex<Queue>, Condvar)>;

/// The process's timer thread, started on first use. `None` if the thread
/// could not be started: then [`sleep_until`] waits on tokio's timer.
fn shared() -> Option<&'static Shared> {
    static TIMER: OnceLock<Option<Shared>> = OnceLock::new();
    TIMER
        .get_or_init(|| {
            let shared: Shared = Arc::default();
            let theirs = shared.clone();
            std::thread::Builder::new()
                .name("tftp-fine-timer".into())
                .spawn(move || run(&theirs))
                .ok()
                .map(|_| shared)
        })
        .as_ref()
}

fn lock(m: &Mutex<Queue>) -> std::sync::MutexGuard<'_, Queue> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn run(shared: &Shared) {
    let (queue, cond) = &**shared;
    let mut due = Vec::new();
    let mut q = lock(queue);
    loop {
        let now = Instant::now();
        while q.heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            if let Some(Reverse(e)) = q.heap.pop() {
                if !e.cancelled.load(Ordering::Relaxed) {
                    due.push(e.waker);
                }
            }
        }
        if !due.is_empty() {
            drop(q);
            for w in due.drain(..) {
                w.wake();
            }
            q = lock(queue);
            continue;
        }
        q = match q.heap.peek() {
            Some(Reverse(e)) => {
                let wait = e.at.saturating_duration_since(now);
                cond.wait_timeout(q, wait)
                    .map(|(g, _)| g)
                    .unwrap_or_else(|e| e.into_inner().0)
            }
            None => cond.wait(q).unwrap_or_else(|e| e.into_inner()),
        };
    }
}

/// Completes at `deadline`, give or take the timer slack. Cancel-safe: a
/// dropped wait wakes no one (its entry stays queued until its time, then
/// goes).
pub(crate) fn sleep_until(deadline: Instant) -> FineSleep {
    FineSleep {
        deadline,
        registered: None,
        fallback: None,
    }
}

pub(crate) struct FineSleep {
    deadline: Instant,
    /// The waker last handed to the timer thread, and its entry's flag.
    registered: Option<(Waker, Arc<AtomicBool>)>,
    /// tokio's timer, when the fine timer has no thread.
    fallback: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Future for FineSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if Instant::now() >= self.deadline {
            return Poll::Ready(());
        }
        let Some(shared) = shared() else {
            let deadline = self.deadline;
            let sleep = self
                .fallback
                .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline.into())));
            return sleep.as_mut().poll(cx);
        };
        if let Some((w, cancelled)) = &self.registered {
            if w.will_wake(cx.waker()) {
                return Poll::Pending;
            }
            cancelled.store(true, Ordering::Relaxed);
        }
        let cancelled = Arc::new(AtomicBool::new(false));
        let (queue, cond) = &**shared;
        let mut q = lock(queue);
        q.seq += 1;
        let seq = q.seq;
        let earliest = q.heap.peek().is_none_or(|Reverse(e)| self.deadline < e.at);
        q.heap.push(Reverse(Entry {
            at: self.deadline,
            seq,
            waker: cx.waker().clone(),
            cancelled: cancelled.clone(),
        }));
        drop(q);
        if earliest {
            cond.notify_one();
        }
        self.registered = Some((cx.waker().clone(), cancelled));
        Poll::Pending
    }
}

impl Drop for FineSleep {
    fn drop(&mut self) {
        if let Some((_, cancelled)) = &self.registered {
            cancelled.store(true, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn wakes_close_to_sub_millisecond_deadlines_in_order() {
        let t0 = Instant::now();
        let mut late = Vec::new();
        for step in [300u64, 200, 500, 100] {
            let at = Instant::now() + Duration::from_micros(step);
            sleep_until(at).await;
            let now = Instant::now();
            assert!(now >= at);
            late.push(now - at);
        }
        // Not a timing test (a busy machine may be late); the waits end,
        // and they end after their deadlines, never before.
        assert_eq!(late.len(), 4);
        assert!(t0.elapsed() < Duration::from_secs(30));
    }

    #[tokio::test(flavor = "current_thread")]
    async fn a_dropped_wait_disturbs_nothing() {
        let far = Instant::now() + Duration::from_millis(2);
        let near = Instant::now() + Duration::from_micros(200);
        // Biased, the near wait first: on a machine too busy to poll before
        // both deadlines passed, the near one still wins; the far one can
        // win only by completing before its own deadline.
        tokio::select! {
            biased;
            () = sleep_until(near) => {}
            () = sleep_until(far) => panic!("the far deadline came first"),
        }
        sleep_until(Instant::now() + Duration::from_micros(100)).await;
    }
}
