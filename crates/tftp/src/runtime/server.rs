//! The tokio TFTP server: listeners on any number of addresses, one task and
//! one fresh socket per transfer, replies from the address each request was
//! sent to, a cap on concurrent transfers, and a graceful stop.
//!
//! What to answer is decided by the sans-IO parts: [`crate::accept::accept`]
//! (run on tokio's blocking pool, because opening a file may block) and
//! [`crate::accept::Admission`] (slots, reclaiming handshakes that never progress, the rate
//! of "Server busy" replies). This module applies their verdicts.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use gate::{summaries, Gate};
use report::{log_request, log_summary, log_transfer, Ended};

use super::driver::{drive, Until};
use super::on_wake::OnWake;
use super::workers::Workers;
use crate::accept::{self, AcceptConfig, Accepted, AdmissionConfig, SlotId};
use crate::options::Limits;
use crate::packet::{self, Direction, ErrorCode};
use crate::remap::Remap;
use crate::source::FileSource;
use crate::transfer::retry::RetryPolicy;
use crate::transfer::Transfer;

mod counters;
mod gate;
mod report;

pub use counters::{CounterSnapshot, Counters, TransferOutcome};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Addresses to listen on (IPv4 and IPv6 alike).
    pub listen: Vec<SocketAddr>,
    /// Option limits (`-B`, `-W`, `-r`).
    pub negotiation: Limits,
    /// First retransmission interval (`-T`).
    pub retransmit: Duration,
    /// Consecutive timeouts before a transfer is abandoned.
    pub max_retries: u32,
    /// Transfer slots and what a full server answers (`max_transfers`, the
    /// handshake deadline, the rate of "Server busy" replies).
    pub admission: AdmissionConfig,
    /// Local ports for transfer sockets (`-R lo:hi`); ephemeral when `None`.
    pub port_range: Option<(u16, u16)>,
    /// Accept WRQ at all. The source still applies its own rules (`-c`, permissions).
    pub allow_write: bool,
    /// How long running transfers may go on after a stop was asked for.
    pub shutdown_grace: Duration,
    /// Threads that run transfers, each a single-threaded runtime that keeps
    /// a transfer on one thread from start to end (default: one per core).
    pub workers: usize,
    /// inetd mode (`-t`): [`Server::run`] returns once no request came for
    /// this long and no transfer is running.
    pub idle_exit: Option<Duration>,
    /// File-name remapping (`-m`), applied before the source sees a name.
    pub remap: Option<Arc<dyn Remap>>,
    /// Where the server counts requests, transfers and bytes; keep a clone
    /// to read them while it runs.
    pub counters: Arc<Counters>,
}

impl ServerConfig {
    /// Defaults that match tftp-hpa: 1 s initial timeout, writes allowed (the
    /// source decides); 512 concurrent transfers ([`AdmissionConfig::default`]).
    pub fn new(listen: Vec<SocketAddr>) -> Self {
        Self {
            listen,
            negotiation: Limits::default(),
            retransmit: Duration::from_secs(1),
            max_retries: 6,
            admission: AdmissionConfig::default(),
            port_range: None,
            allow_write: true,
            shutdown_grace: Duration::from_secs(5),
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            idle_exit: None,
            remap: None,
            counters: Arc::default(),
        }
    }

    /// What the accept step gets from this configuration.
    pub fn accept_config(&self) -> AcceptConfig {
        AcceptConfig {
            limits: self.negotiation.clone(),
            retry: RetryPolicy {
                initial: self.retransmit,
                max_retries: self.max_retries,
                ..RetryPolicy::default()
            },
            allow_write: self.allow_write,
            remap: self.remap.clone(),
        }
    }
}

/// A bound server; [`Server::run`] serves until the shutdown future completes.
#[derive(Debug)]
pub struct Server {
    config: Arc<ServerConfig>,
    source: Arc<dyn FileSource>,
    listeners: Vec<Arc<UdpSocket>>,
}

impl Server {
    /// Binds every listen address.
    pub async fn bind(config: ServerConfig, source: Arc<dyn FileSource>) -> io::Result<Self> {
        let mut listeners = Vec::new();
        for addr in &config.listen {
            let sock = netio::bind_listener(*addr)
                .map_err(|e| io::Error::new(e.kind(), format!("bind {addr}: {e}")))?;
            listeners.push(Arc::new(sock));
        }
        Ok(Self {
            config: Arc::new(config),
            source,
            listeners,
        })
    }

    /// Serves on sockets that are already bound (inetd's fd 0, systemd's
    /// `LISTEN_FDS`); without IP_PKTINFO enabled on them, replies leave from
    /// the socket's own address (the wildcard lets the kernel choose).
    pub fn from_sockets(
        config: ServerConfig,
        source: Arc<dyn FileSource>,
        sockets: Vec<UdpSocket>,
    ) -> Self {
        Self {
            config: Arc::new(config),
            source,
            listeners: sockets.into_iter().map(Arc::new).collect(),
        }
    }

    /// The bound listen addresses (with the real port when 0 was asked for).
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.listeners
            .iter()
            .filter_map(|s| s.local_addr().ok())
            .collect()
    }

    /// Serves until `shutdown` completes (or, with
    /// [`ServerConfig::idle_exit`], until the server has been idle that
    /// long), then lets running transfers finish for the configured grace
    /// time.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> io::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let gate = Arc::new(Gate::new(self.config.admission.clone()));
        let accept = Arc::new(self.config.accept_config());
        let activity = Arc::new(Activity::new());
        let workers = Arc::new(Workers::start(self.config.workers)?);
        let mut tasks = JoinSet::new();
        for listener in &self.listeners {
            let ctx = Listener {
                sock: listener.clone(),
                config: self.config.clone(),
                accept: accept.clone(),
                source: self.source.clone(),
                gate: gate.clone(),
                activity: activity.clone(),
                workers: workers.clone(),
            };
            tasks.spawn(ctx.serve(stop_rx.clone()));
        }
        tasks.spawn(summaries(gate.clone(), stop_rx.clone()));
        match self.config.idle_exit {
            Some(idle) => {
                tokio::select! {
                    () = shutdown => info!("shutting down"),
                    () = activity.idle_for(idle) => info!(secs = idle.as_secs_f64(), "idle; exiting"),
                }
            }
            None => {
                shutdown.await;
                info!("shutting down");
            }
        }
        let _ = stop_tx.send(true);
        // Listeners stop at once; then the workers finish what runs.
        while tasks.join_next().await.is_some() {}
        let grace = self.config.shutdown_grace;
        // Requests still being accepted hold a reference for a moment.
        let mut workers = workers;
        for _ in 0..100 {
            match Arc::try_unwrap(workers) {
                Ok(w) => {
                    let clean = tokio::task::spawn_blocking(move || w.close(grace))
                        .await
                        .unwrap_or(false);
                    if !clean {
                        warn!("transfers still running after the grace time; aborted them");
                    }
                    break;
                }
                Err(shared) => {
                    workers = shared;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
        if let Some(s) = gate.lock().admission.poll_summary(Instant::now(), true) {
            log_summary(&s);
        }
        Ok(())
    }
}

/// When the last request came and how many transfers run, for `idle_exit`.
struct Activity {
    last_request: Mutex<Instant>,
    running: AtomicUsize,
}

impl Activity {
    fn new() -> Self {
        Self {
            last_request: Mutex::new(Instant::now()),
            running: AtomicUsize::new(0),
        }
    }

    fn request(&self) {
        *self.last_request.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        self.running.fetch_add(1, Ordering::SeqCst);
    }

    fn finished(&self) {
        self.running.fetch_sub(1, Ordering::SeqCst);
    }

    /// Completes once no request came for `idle` and none is running.
    async fn idle_for(&self, idle: Duration) {
        loop {
            let last = *self.last_request.lock().unwrap_or_else(|e| e.into_inner());
            let due = last + idle;
            let now = Instant::now();
            if now >= due {
                if self.running.load(Ordering::SeqCst) == 0 {
                    return;
                }
                // A transfer still runs: look again shortly.
                tokio::time::sleep(Duration::from_millis(200).min(idle)).await;
            } else {
                tokio::time::sleep(due - now).await;
            }
        }
    }
}

struct Listener {
    sock: Arc<UdpSocket>,
    config: Arc<ServerConfig>,
    accept: Arc<AcceptConfig>,
    source: Arc<dyn FileSource>,
    gate: Arc<Gate>,
    activity: Arc<Activity>,
    workers: Arc<Workers>,
}

impl Listener {
    async fn serve(self, mut stop: watch::Receiver<bool>) {
        let mut buf = vec![0u8; 65536];
        let local = self.sock.local_addr().ok();
        loop {
            let meta = tokio::select! {
                r = netio::recv_meta(&self.sock, &mut buf) => r,
                _ = stop.changed() => break,
            };
            let meta = match meta {
                Ok(m) => m,
                Err(e) => {
                    warn!(error = %e, "receive failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let datagram = &buf[..meta.len];
            // A dual-stack listener (xinetd `flags = IPv6`, systemd's
            // default) sees IPv4 clients as ::ffff:a.b.c.d; their transfer
            // runs on a plain IPv4 socket.
            let peer = plain_ipv4(meta.peer);
            // Never answer anything but a request from a listening port: an
            // ERROR answered here could bounce between two servers forever.
            let Some(direction) = Direction::of_request(datagram) else {
                self.gate.lock().admission.not_request();
                self.config.counters.not_request();
                debug!(%peer, len = datagram.len(), "ignored: not a request");
                continue;
            };
            self.config.counters.request(direction);
            let local_ip = meta
                .dst
                .or(local.map(|a| a.ip()))
                .map(|ip| plain_ipv4(SocketAddr::new(ip, 0)).ip())
                .filter(|ip| ip.is_ipv4() == peer.is_ipv4())
                .unwrap_or(unspecified(peer));
            let (slot, abort) = match self.gate.admit(peer) {
                Ok(admitted) => admitted,
                Err(reply) => {
                    self.config.counters.busy(reply);
                    debug!(%peer, reply, "too many transfers; request refused");
                    if reply {
                        refuse_busy(&self.sock, peer).await;
                    }
                    continue;
                }
            };
            self.activity.request();
            let job = Job {
                config: self.config.clone(),
                gate: self.gate.clone(),
                activity: self.activity.clone(),
                peer,
                local: local_ip,
                slot,
                abort,
            };
            let (accept, source) = (self.accept.clone(), self.source.clone());
            let workers = self.workers.clone();
            let datagram = datagram.to_vec();
            tokio::spawn(async move {
                // Opening the file may block on the disk: never on a worker.
                let decided = tokio::task::spawn_blocking(move || {
                    accept::accept(
                        &datagram,
                        peer,
                        Some(local_ip),
                        Instant::now(),
                        &accept,
                        &*source,
                    )
                })
                .await;
                match decided {
                    Ok(Ok(accepted)) => workers.spawn(Box::pin(job.run(accepted))),
                    Ok(Err(ignored)) => {
                        debug!(%peer, %ignored, "ignored");
                        job.done();
                    }
                    Err(e) => {
                        warn!(%peer, error = %e, "accepting a request failed");
                        job.done();
                    }
                }
            });
        }
    }
}

/// `::ffff:a.b.c.d` as the IPv4 address it is; anything else unchanged.
fn plain_ipv4(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(v6) => match v6.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), v6.port()),
            None => addr,
        },
        v4 => v4,
    }
}

fn unspecified(peer: SocketAddr) -> IpAddr {
    match peer {
        SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

const BUSY: &str = "Server busy";

async fn refuse_busy(sock: &UdpSocket, peer: SocketAddr) {
    let mut b = [0u8; 64];
    if let Ok(n) = packet::encode_error(&mut b, ErrorCode::Undefined, BUSY) {
        let _ = sock.send_to(&b[..n], peer).await;
    }
}

/// How often a transfer still in handshake looks at its client's progress
/// and at the handshake deadline.
const HANDSHAKE_TICK: Duration = Duration::from_millis(100);

/// Why a transfer was cut short by the admission policy.
#[derive(Debug, Clone, Copy)]
enum Cut {
    /// Its slot went to a new request while the server was full.
    Reclaimed,
    /// Its handshake passed the deadline while the server was busy.
    Expired,
}

struct Job {
    config: Arc<ServerConfig>,
    gate: Arc<Gate>,
    activity: Arc<Activity>,
    peer: SocketAddr,
    local: IpAddr,
    slot: SlotId,
    abort: Arc<Notify>,
}

impl Job {
    async fn run(self, accepted: Accepted) {
        let Accepted {
            direction,
            filename,
            remapped,
            transfer: mut t,
            refusal,
        } = accepted;
        let counters = self.config.counters.clone();
        let _active = counters.started();
        let malformed = refusal.as_ref().is_some_and(|r| r.malformed);
        if malformed {
            self.gate.lock().admission.malformed();
            counters.malformed();
        }
        log_request(
            direction,
            self.peer,
            &filename,
            remapped.as_deref(),
            malformed,
        );
        let file = remapped.as_deref().unwrap_or(&filename);
        // Connected: see netio's TransferSocket (a stranger's datagram gets
        // ICMP port unreachable from the kernel, as with in.tftpd).
        let mut sock = match netio::TransferSocket::bind(self.local, self.config.port_range)
            .and_then(|mut s| s.connect(self.peer).map(|()| s))
        {
            Ok(s) => s,
            Err(e) => {
                warn!(peer = %self.peer, error = %e, "cannot open a transfer socket");
                return self.done();
            }
        };
        let started = t.stats().started;
        let (result, cut) = if refusal.is_some() {
            (drive(&mut sock, &mut t, Until::Finished).await, None)
        } else {
            self.supervise(&mut sock, &mut t).await
        };
        let outcome = TransferOutcome::of(&t, &result, cut);
        counters.finished(&t, direction, outcome);
        let ended = Ended {
            result: &result,
            cut,
            outcome,
            malformed,
        };
        log_transfer(&t, direction, file, self.peer, started, &ended);
        self.done();
    }

    /// Drives the transfer. Only when the admission policy says the
    /// handshake is due for a look (server above its high-water mark,
    /// handshake at least 500 ms old) or the slot was reclaimed is the
    /// driver interrupted, to see whether the client answered; a transfer
    /// whose client did keeps running ([`Gate::reinstate`]) and is never
    /// interrupted again. Below the mark a transfer is never interrupted.
    async fn supervise(
        &self,
        sock: &mut netio::TransferSocket,
        t: &mut Transfer,
    ) -> (io::Result<()>, Option<Cut>) {
        let progressed = |t: &Transfer| t.stats().bytes > 0 || t.outcome().is_some();
        let mut pressure = self.gate.pressure();
        let mut tick = tokio::time::interval(HANDSHAKE_TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // Polled only when they wake (see `OnWake`), not for every ACK.
            let due = OnWake::new(async {
                loop {
                    let _ = pressure.wait_for(|p| *p).await;
                    tick.tick().await;
                    if self.gate.handshake_due(self.slot) {
                        return;
                    }
                }
            });
            let abort = OnWake::new(self.abort.notified());
            let cut = tokio::select! {
                r = drive(sock, t, Until::Finished) => return (r, None),
                () = due => {
                    if progressed(t) {
                        self.gate.progressed(self.slot);
                        break;
                    }
                    if !self.gate.expired(self.slot) {
                        continue;
                    }
                    Cut::Expired
                }
                () = abort => {
                    if progressed(t) {
                        self.gate.reinstate(self.slot, self.abort.clone());
                        break;
                    }
                    Cut::Reclaimed
                }
            };
            // One ERROR to the client, from the transfer's own port.
            *t = Transfer::refuse(Instant::now(), self.peer, ErrorCode::Undefined, BUSY);
            return (drive(sock, t, Until::Finished).await, Some(cut));
        }
        (drive(sock, t, Until::Finished).await, None)
    }

    fn done(self) {
        self.gate.release(self.slot);
        self.activity.finished();
    }
}
