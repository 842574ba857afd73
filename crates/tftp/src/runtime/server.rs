//! The tokio TFTP server: listeners on any number of addresses, one task and
//! one fresh socket per transfer, replies from the address each request was
//! sent to, a cap on concurrent transfers, and a graceful stop.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::driver::{drive, Until};
use super::workers::Workers;
use crate::options::Limits;
use crate::packet::{self, ErrorCode, Packet, Request};
use crate::remap::{Direction, Remap};
use crate::source::{FileSource, RequestContext};
use crate::transfer::retry::RetryPolicy;
use crate::transfer::{Outcome, Transfer};

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
    /// Transfers in progress at most; requests beyond get ERROR 0.
    pub max_transfers: usize,
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
}

impl ServerConfig {
    /// Defaults that match tftp-hpa: 1 s initial timeout, writes allowed (the
    /// source decides), 512 concurrent transfers.
    pub fn new(listen: Vec<SocketAddr>) -> Self {
        Self {
            listen,
            negotiation: Limits::default(),
            retransmit: Duration::from_secs(1),
            max_retries: 6,
            max_transfers: 512,
            port_range: None,
            allow_write: true,
            shutdown_grace: Duration::from_secs(5),
            workers: std::thread::available_parallelism().map_or(1, usize::from),
            idle_exit: None,
            remap: None,
        }
    }

    fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            initial: self.retransmit,
            max_retries: self.max_retries,
            ..RetryPolicy::default()
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
        let slots = Arc::new(Semaphore::new(self.config.max_transfers.max(1)));
        let activity = Arc::new(Activity::new());
        let workers = Arc::new(Workers::start(self.config.workers)?);
        let mut tasks = JoinSet::new();
        for listener in &self.listeners {
            let ctx = Listener {
                sock: listener.clone(),
                config: self.config.clone(),
                source: self.source.clone(),
                slots: slots.clone(),
                activity: activity.clone(),
                workers: workers.clone(),
            };
            tasks.spawn(ctx.serve(stop_rx.clone()));
        }
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
        if let Ok(workers) = Arc::try_unwrap(workers) {
            let clean = tokio::task::spawn_blocking(move || workers.close(grace))
                .await
                .unwrap_or(false);
            if !clean {
                warn!("transfers still running after the grace time; aborted them");
            }
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
    source: Arc<dyn FileSource>,
    slots: Arc<Semaphore>,
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
            let datagram = buf[..meta.len].to_vec();
            // A dual-stack listener (xinetd `flags = IPv6`, systemd's
            // default) sees IPv4 clients as ::ffff:a.b.c.d; their transfer
            // runs on a plain IPv4 socket.
            let peer = plain_ipv4(meta.peer);
            let local_ip = meta
                .dst
                .or(local.map(|a| a.ip()))
                .map(|ip| plain_ipv4(SocketAddr::new(ip, 0)).ip())
                .filter(|ip| ip.is_ipv4() == peer.is_ipv4())
                .unwrap_or(unspecified(peer));
            let meta = netio::RecvMeta { peer, ..meta };
            let Ok(permit) = self.slots.clone().try_acquire_owned() else {
                warn!(peer = %meta.peer, "too many transfers; request refused");
                refuse_busy(&self.sock, meta.peer).await;
                continue;
            };
            let job = Job {
                config: self.config.clone(),
                source: self.source.clone(),
                peer: meta.peer,
                local: local_ip,
            };
            let activity = self.activity.clone();
            activity.request();
            self.workers.spawn(Box::pin(async move {
                job.run(&datagram).await;
                activity.finished();
                drop(permit);
            }));
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

async fn refuse_busy(sock: &UdpSocket, peer: SocketAddr) {
    let mut b = [0u8; 64];
    if let Ok(n) = packet::encode_error(&mut b, ErrorCode::Undefined, "Server busy") {
        let _ = sock.send_to(&b[..n], peer).await;
    }
}

struct Job {
    config: Arc<ServerConfig>,
    source: Arc<dyn FileSource>,
    peer: SocketAddr,
    local: IpAddr,
}

impl Job {
    async fn run(self, datagram: &[u8]) {
        let request = match Packet::parse(datagram) {
            Ok(Packet::Rrq(r)) => (true, r),
            Ok(Packet::Wrq(r)) => (false, r),
            Ok(other) => {
                debug!(peer = %self.peer, opcode = ?other.opcode(), "ignored: not a request");
                return;
            }
            Err(e) => {
                debug!(peer = %self.peer, error = %e, "ignored: malformed request");
                return;
            }
        };
        let (read, req) = request;
        // Connected: see netio's TransferSocket (a stranger's datagram gets
        // ICMP port unreachable from the kernel, as with in.tftpd).
        let mut sock = match netio::TransferSocket::bind(self.local, self.config.port_range)
            .and_then(|mut s| s.connect(self.peer).map(|()| s))
        {
            Ok(s) => s,
            Err(e) => {
                warn!(peer = %self.peer, error = %e, "cannot open a transfer socket");
                return;
            }
        };
        let started = Instant::now();
        let direction = if read {
            Direction::Read
        } else {
            Direction::Write
        };
        let mapped = match &self.config.remap {
            // An empty name is a malformed request for tftp-hpa (ERROR 4),
            // before any rule sees it.
            _ if req.filename.is_empty() => Err(crate::remap::Refused {
                message: "Illegal operation".to_owned(),
            }),
            Some(remap) => remap.remap(req.filename, self.peer.ip(), direction),
            None => Ok(req.filename.to_vec()),
        };
        log_request(read, self.peer, req.filename, mapped.as_ref().ok());
        let mut t = match &mapped {
            Ok(name) => {
                let req = Request {
                    filename: name,
                    ..req
                };
                self.start(started, read, &req)
            }
            Err(refused) => Transfer::refuse(
                started,
                self.peer,
                if req.filename.is_empty() {
                    ErrorCode::IllegalOperation
                } else {
                    ErrorCode::AccessViolation
                },
                &refused.message,
            ),
        };
        let file = String::from_utf8_lossy(mapped.as_deref().unwrap_or(req.filename)).into_owned();
        let result = drive(&mut sock, &mut t, Until::Finished).await;
        log_transfer(&t, read, &file, self.peer, started, &result);
    }

    fn start(&self, now: Instant, read: bool, req: &Request<'_>) -> Transfer {
        let mut ctx = RequestContext::new(self.peer);
        ctx.local = Some(self.local);
        let limits = &self.config.negotiation;
        let retry = self.config.retry();
        if read {
            match self.source.open_read(req.filename, &ctx) {
                Ok(data) => Transfer::server_read(now, self.peer, req, data, limits, retry),
                Err(e) => Transfer::refuse(
                    now,
                    self.peer,
                    ErrorCode::from_u16(e.tftp_code()),
                    &e.message(),
                ),
            }
        } else if !self.config.allow_write {
            Transfer::refuse(
                now,
                self.peer,
                ErrorCode::AccessViolation,
                "Write requests are not accepted",
            )
        } else {
            ctx.size_hint = req
                .options
                .get("tsize")
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.parse().ok());
            match self.source.open_write(req.filename, &ctx) {
                Ok(sink) => Transfer::server_write(now, self.peer, req, sink, limits, retry),
                Err(e) => Transfer::refuse(
                    now,
                    self.peer,
                    ErrorCode::from_u16(e.tftp_code()),
                    &e.message(),
                ),
            }
        }
    }
}

/// tftp-hpa's request line (`-v`): `RRQ from 192.0.2.7 filename pxelinux.0`,
/// with ` remapped to NAME` when the rules changed it.
fn log_request(read: bool, peer: SocketAddr, name: &[u8], mapped: Option<&Vec<u8>>) {
    let kind = if read { "RRQ" } else { "WRQ" };
    let ip = peer.ip();
    let name_text = String::from_utf8_lossy(name);
    match mapped {
        Some(m) if m.as_slice() != name => {
            info!(
                "{kind} from {ip} filename {name_text} remapped to {}",
                String::from_utf8_lossy(m)
            );
        }
        _ => info!("{kind} from {ip} filename {name_text}"),
    }
}

fn log_transfer(
    t: &Transfer,
    read: bool,
    file: &str,
    peer: SocketAddr,
    started: Instant,
    io: &io::Result<()>,
) {
    let s = t.stats();
    let n = t.negotiated();
    let kind = if read { "RRQ" } else { "WRQ" };
    let secs = s
        .ended
        .unwrap_or_else(Instant::now)
        .duration_since(started)
        .as_secs_f64();
    let outcome = match (t.outcome(), io) {
        (_, Err(e)) => format!("socket error: {e}"),
        (Some(Outcome::Complete), _) => "complete".to_owned(),
        (Some(Outcome::SizeProbe), _) => "size probe".to_owned(),
        (Some(Outcome::Refused { code, message }), _) => {
            format!("refused: {} {message}", code.to_u16())
        }
        (Some(Outcome::PeerError { code, message }), _) => {
            format!("aborted by peer: {} {message}", code.to_u16())
        }
        (Some(Outcome::TimedOut), _) => "timed out".to_owned(),
        (None, _) => "unfinished".to_owned(),
    };
    let oack: Vec<String> = n.oack.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let ok = matches!(t.outcome(), Some(Outcome::Complete | Outcome::SizeProbe)) && io.is_ok();
    if ok {
        info!(%peer, kind, file, options = %oack.join(","), bytes = s.bytes, secs, retransmits = s.retransmits, outcome, "transfer");
    } else {
        warn!(%peer, kind, file, options = %oack.join(","), bytes = s.bytes, secs, retransmits = s.retransmits, outcome, "transfer");
    }
}
