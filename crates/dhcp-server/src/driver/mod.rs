//! The tokio driver: sockets on port 67 (and 4011) per interface, writer
//! threads that make lease batches durable ([`writers`]), and a loop that only moves
//! datagrams, time and commit results between them and the [`Server`].
//! Sockets (SO_BINDTODEVICE, IP_PKTINFO, SIOCSARP) are netio's.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::addressing::{Destination, CLIENT_PORT, PXE_PORT, SERVER_PORT};
use crate::error::Error;
use crate::lease::LeaseState;
use crate::server::{Datagram, LeaseCounts, Server, ServerConfig, Stats, Transmit};
use crate::store::LeaseStore;

mod writers;
use writers::{Done, Job, Writers};

/// How often the store is asked for records other servers wrote (a shared
/// store; the journal answers at once with none).
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// Where to listen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    /// Interfaces (SO_BINDTODEVICE); empty: every interface, one socket.
    pub interfaces: Vec<String>,
    /// The DHCP port (67).
    pub port: u16,
    /// Also serve the PXE boot-server port (4011).
    pub pxe_port: Option<u16>,
    /// Set SO_REUSEADDR on port 67, to share it with a DHCP server on the same host.
    pub share_port: bool,
}

impl Listen {
    /// Port 67 and 4011 on `interfaces`.
    pub fn new(interfaces: Vec<String>) -> Self {
        Self {
            interfaces,
            port: SERVER_PORT,
            pxe_port: Some(PXE_PORT),
            share_port: false,
        }
    }
}

/// Requests to a running driver.
#[derive(Debug)]
pub enum Control {
    /// Replace the configuration (already validated), keeping leases.
    Reload(Box<ServerConfig>),
    /// Finish the lease write in progress, send its ACKs, and return.
    Shutdown,
    /// Answer the counters now (metrics endpoint, SIGUSR1).
    Report(tokio::sync::oneshot::Sender<Report>),
}

/// The counters of a running (or stopped) driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// The server's counters.
    pub stats: Stats,
    /// Lease records by state.
    pub leases: LeaseCounts,
    /// Datagrams dropped before the server saw them: the receive queue was
    /// full (the clients retry).
    pub queue_dropped: u64,
}

struct Listener {
    sock: Arc<UdpSocket>,
    port: u16,
    device: Option<String>,
}

struct Incoming {
    listener: usize,
    meta: netio::RecvMeta,
    bytes: Vec<u8>,
}

/// Binds every socket (fails early, e.g. on EADDRINUSE or a missing interface).
fn bind_all(listen: &Listen) -> Result<Vec<Listener>, Error> {
    let devices: Vec<Option<String>> = if listen.interfaces.is_empty() {
        vec![None]
    } else {
        listen.interfaces.iter().cloned().map(Some).collect()
    };
    let reuse = devices.len() > 1;
    let mut out = Vec::new();
    for d in &devices {
        let mut ports = vec![(listen.port, reuse || listen.share_port)];
        if let Some(p) = listen.pxe_port {
            ports.push((p, reuse));
        }
        for (port, reuse) in ports {
            let addr = SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, port);
            let options = netio::BindOptions {
                device: d.clone(),
                reuse_address: reuse,
                broadcast: true,
            };
            let sock = netio::bind_with(addr.into(), &options).map_err(|e| {
                Error::io(
                    format!(
                        "binding UDP {addr} on {}",
                        d.as_deref().unwrap_or("all interfaces")
                    ),
                    e,
                )
            })?;
            out.push(Listener {
                sock: Arc::new(sock),
                port,
                device: d.clone(),
            });
        }
    }
    Ok(out)
}

/// Runs `server` until [`Control::Shutdown`] (or the control channel closes).
/// Must be called inside a tokio runtime. Returns the final counters.
pub async fn run(
    server: Server,
    store: Box<dyn LeaseStore>,
    listen: &Listen,
    control: mpsc::UnboundedReceiver<Control>,
) -> Result<Report, Error> {
    run_pooled(server, vec![store], listen, control).await
}

/// [`run`] with several connections to one shared store, one writer thread
/// each: up to `stores.len()` batches are written at once (the core keeps
/// records of one address in order, see [`Server::poll_commit`]). Compaction
/// goes to the first.
pub async fn run_pooled(
    mut server: Server,
    stores: Vec<Box<dyn LeaseStore>>,
    listen: &Listen,
    mut control: mpsc::UnboundedReceiver<Control>,
) -> Result<Report, Error> {
    let listeners = bind_all(listen)?;
    info!(sockets = listeners.len(), mode = ?server.config().mode, "listening");
    let (tx, mut rx) = mpsc::channel::<Incoming>(4096);
    let queue_dropped = Arc::new(AtomicU64::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, l) in listeners.iter().enumerate() {
        let sock = l.sock.clone();
        let tx = tx.clone();
        let dropped = queue_dropped.clone();
        tasks.spawn(async move {
            let mut buf = vec![0u8; 1500];
            loop {
                match netio::recv_meta(&sock, &mut buf).await {
                    Ok(meta) => {
                        let bytes = buf[..meta.len].to_vec();
                        // A full queue drops the datagram: memory stays bounded, DHCP retries.
                        let queued = tx.try_send(Incoming {
                            listener: i,
                            meta,
                            bytes,
                        });
                        if queued.is_err() {
                            dropped.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => warn!(error = %e, "receive failed"),
                }
            }
        });
    }
    drop(tx);
    let mut writers = Writers::start(stores)?;

    let mut routes: HashMap<(u32, u16), usize> = HashMap::new();
    let mut names: HashMap<u32, Option<String>> = HashMap::new();
    let mut stopping = false;
    let mut compacting = false;
    let mut refreshing = false;
    let mut next_refresh = tokio::time::Instant::now() + REFRESH_EVERY;
    let mut failing = false;
    loop {
        while let Some(t) = server.poll_transmit() {
            send(&listeners, &routes, &mut names, t).await;
        }
        while let Some(e) = server.poll_event() {
            match e.level {
                crate::server::Level::Info => info!("{}", e.text),
                crate::server::Level::Debug => tracing::debug!("{}", e.text),
            }
        }
        if !compacting && !refreshing {
            if !stopping && tokio::time::Instant::now() >= next_refresh {
                // With no batch in flight only: what the store returns is then
                // no older than the table (see `Server::learn`). New batches
                // wait meanwhile.
                if !writers.any_busy() {
                    refreshing = writers.send(0, Job::Refresh);
                    next_refresh = tokio::time::Instant::now() + REFRESH_EVERY;
                }
            } else {
                while let Some(w) = writers.idle() {
                    let Some(b) = server.poll_commit() else { break };
                    let live = server.leases().len();
                    if !writers.send(w, Job::Append(b, live)) {
                        return Err(Error::Config("a lease writer stopped".into()));
                    }
                }
            }
        }
        if stopping && !writers.any_busy() {
            break;
        }
        let timeout = server.poll_timeout();
        let sleep = async {
            match timeout {
                Some(t) => {
                    let d = t.duration_since(SystemTime::now()).unwrap_or_default();
                    tokio::time::sleep(d).await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        let refresh = tokio::time::sleep_until(next_refresh);
        tokio::select! {
            biased;
            c = control.recv(), if !stopping => match c {
                Some(Control::Reload(cfg)) => {
                    server.reconfigure(*cfg);
                    info!("configuration reloaded");
                }
                Some(Control::Report(answer)) => {
                    let _ = answer.send(report(&server, &queue_dropped));
                }
                Some(Control::Shutdown) | None => stopping = true,
            },
            d = writers.done.recv() => match d.map(|(w, d)| { writers.finished(w); (w, d) }) {
                Some((w, Done::Committed { id, verdicts, compact })) => {
                    if failing {
                        info!("lease writes succeed again");
                        failing = false;
                    }
                    server.handle_verdicts(id, &verdicts);
                    if compact {
                        let live: Vec<_> = server
                            .leases()
                            .iter()
                            .filter(|l| l.state != LeaseState::Offered)
                            .cloned()
                            .collect();
                        compacting = writers.send(w, Job::Compact(live));
                    }
                }
                Some((_, Done::Failed { id, error })) => {
                    if !failing {
                        warn!(%error, "lease write failed; no ACK is sent until a write succeeds");
                        failing = true;
                    }
                    server.handle_commit_failed(id);
                }
                Some((_, Done::Learned(r))) => {
                    refreshing = false;
                    match r {
                        Ok(leases) => server.learn(leases),
                        Err(error) => tracing::debug!(%error, "reading other servers' leases failed"),
                    }
                }
                Some((_, Done::Compacted(r))) => {
                    compacting = false;
                    match r {
                        Ok(()) => info!("lease file compacted"),
                        Err(error) => warn!(%error, "lease file compaction failed"),
                    }
                }
                None => return Err(Error::Config("the lease writer stopped".into())),
            },
            p = rx.recv(), if !stopping => {
                let Some(first) = p else { break };
                let now = SystemTime::now();
                let mut next = Some(first);
                let mut n = 0;
                while let Some(inc) = next {
                    handle(&mut server, &listeners, &mut routes, &mut names, now, &inc);
                    n += 1;
                    next = if n < 256 { rx.try_recv().ok() } else { None };
                }
            }
            () = sleep => server.handle_timeout(SystemTime::now()),
            () = refresh, if !stopping => {}
        }
    }
    tasks.abort_all();
    writers.stop();
    Ok(report(&server, &queue_dropped))
}

fn report(server: &Server, queue_dropped: &AtomicU64) -> Report {
    Report {
        stats: server.stats(),
        leases: server.lease_counts(SystemTime::now()),
        queue_dropped: queue_dropped.load(Ordering::Relaxed),
    }
}

fn handle(
    server: &mut Server,
    listeners: &[Listener],
    routes: &mut HashMap<(u32, u16), usize>,
    names: &mut HashMap<u32, Option<String>>,
    now: SystemTime,
    inc: &Incoming,
) {
    let l = &listeners[inc.listener];
    // The socket is IPv4-only: every sender is an IPv4 address.
    let SocketAddr::V4(src) = inc.meta.peer else {
        return;
    };
    let ifindex = inc.meta.ifindex.unwrap_or(0);
    let local = match inc.meta.dst {
        Some(IpAddr::V4(a)) => a,
        _ => Ipv4Addr::UNSPECIFIED,
    };
    if routes.len() < 4096 {
        routes.entry((ifindex, l.port)).or_insert(inc.listener);
    }
    let name = l.device.clone().or_else(|| {
        if names.len() >= 4096 {
            return None;
        }
        names
            .entry(ifindex)
            .or_insert_with(|| netio::arp::ifname(ifindex))
            .clone()
    });
    let d = Datagram {
        ifindex,
        interface: name.as_deref(),
        local,
        local_port: l.port,
        src,
        payload: &inc.bytes,
    };
    server.handle(now, &d);
}

async fn send(
    listeners: &[Listener],
    routes: &HashMap<(u32, u16), usize>,
    names: &mut HashMap<u32, Option<String>>,
    t: Transmit,
) {
    let Some(&i) = routes.get(&(t.ifindex, t.src_port)) else {
        warn!(ifindex = t.ifindex, "no socket for the reply's interface");
        return;
    };
    let l = &listeners[i];
    let bcast = SocketAddrV4::new(Ipv4Addr::BROADCAST, CLIENT_PORT);
    let to = match t.to {
        Destination::Unicast(a) => a,
        Destination::Broadcast => bcast,
        Destination::UnicastToHardware { addr, mac } => {
            let dev = l.device.clone().or_else(|| {
                names
                    .entry(t.ifindex)
                    .or_insert_with(|| netio::arp::ifname(t.ifindex))
                    .clone()
            });
            match dev.map(|d| netio::arp::set_arp(&l.sock, &d, addr, mac)) {
                Some(Ok(())) => SocketAddrV4::new(addr, CLIENT_PORT),
                Some(Err(e)) => {
                    tracing::debug!(error = %e, "no ARP entry for {addr}; broadcasting");
                    bcast
                }
                None => bcast,
            }
        }
    };
    let from = (!t.from.is_unspecified()).then_some(IpAddr::V4(t.from));
    let ifindex = (t.ifindex != 0).then_some(t.ifindex);
    if let Err(e) = netio::send_from(&l.sock, to.into(), from, ifindex, &t.payload).await {
        warn!(error = %e, %to, "send failed");
    }
}
