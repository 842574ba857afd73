//! Transfer workers: one single-threaded tokio runtime per core, each owning
//! the transfers handed to it.
//!
//! A lockstep TFTP transfer is a chain of round trips, so its speed is the
//! latency of one wake-up. On a work-stealing runtime the task woken by an ACK
//! may run on another thread than the one that polled the socket, and that
//! hand-off costs more than the rest of the per-packet work; a transfer that
//! stays on one thread from start to end does not pay it. Transfers are
//! spread over the workers round-robin, so many clients still use every core.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// A transfer's whole life as one future; it opens its own socket when
/// first polled, so the socket belongs to the worker that runs it.
pub(crate) type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

#[derive(Debug)]
pub(crate) struct Workers {
    queues: Vec<mpsc::UnboundedSender<Task>>,
    next: AtomicUsize,
    threads: Vec<JoinHandle<()>>,
    abort: watch::Sender<bool>,
}

impl Workers {
    /// Starts `n` workers (at least one).
    pub(crate) fn start(n: usize) -> io::Result<Self> {
        let (abort, abort_rx) = watch::channel(false);
        let mut queues = Vec::new();
        let mut threads = Vec::new();
        for i in 0..n.max(1) {
            let (tx, rx) = mpsc::unbounded_channel::<Task>();
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            let abort_rx = abort_rx.clone();
            let thread = std::thread::Builder::new()
                .name(format!("tftp-worker-{i}"))
                .spawn(move || runtime.block_on(serve(rx, abort_rx)))?;
            queues.push(tx);
            threads.push(thread);
        }
        Ok(Self {
            queues,
            next: AtomicUsize::new(0),
            threads,
            abort,
        })
    }

    /// Hands a transfer to the next worker.
    pub(crate) fn spawn(&self, task: Task) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.queues.len();
        // A worker only stops after `close`, so the send cannot fail before it.
        let _ = self.queues[i].send(task);
    }

    /// Stops taking transfers, lets running ones finish for up to `grace`,
    /// then aborts what is left. Blocking: call it off the async threads.
    pub(crate) fn close(self, grace: Duration) -> bool {
        drop(self.queues);
        let deadline = Instant::now() + grace;
        while self.threads.iter().any(|t| !t.is_finished()) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let clean = self.threads.iter().all(JoinHandle::is_finished);
        let _ = self.abort.send(true);
        for t in self.threads {
            let _ = t.join();
        }
        clean
    }
}

async fn serve(mut queue: mpsc::UnboundedReceiver<Task>, mut abort: watch::Receiver<bool>) {
    let mut running = JoinSet::new();
    loop {
        tokio::select! {
            task = queue.recv() => match task {
                Some(task) => {
                    running.spawn(task);
                }
                None => break,
            },
            Some(_) = running.join_next(), if !running.is_empty() => {}
        }
    }
    // Closed: finish what runs, unless told to abort (dropping the set aborts).
    let drain = async { while running.join_next().await.is_some() {} };
    tokio::select! {
        () = drain => {}
        _ = abort.wait_for(|a| *a) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn runs_tasks_on_every_worker_and_closes() {
        let workers = Workers::start(2).unwrap();
        let done = Arc::new(AtomicUsize::new(0));
        for _ in 0..10 {
            let done = done.clone();
            workers.spawn(Box::pin(async move {
                tokio::time::sleep(Duration::from_millis(5)).await;
                done.fetch_add(1, Ordering::SeqCst);
            }));
        }
        assert!(workers.close(Duration::from_secs(5)));
        assert_eq!(done.load(Ordering::SeqCst), 10);
    }

    #[test]
    fn aborts_after_the_grace_time() {
        let workers = Workers::start(1).unwrap();
        workers.spawn(Box::pin(async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }));
        let t = Instant::now();
        assert!(!workers.close(Duration::from_millis(100)));
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
