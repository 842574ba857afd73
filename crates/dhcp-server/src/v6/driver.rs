//! The tokio driver of the DHCPv6 server: one socket per interface on UDP 547 in
//! ff02::1:2 ([`netio::dhcp6`]); replies go back to the client's link-local address
//! from the interface it came in on. Every socket call is `netio`'s.
//!
//! In full mode one [`FullServer6`] serves every link; each datagram is handled
//! and its bindings appended to the lease file (synced) on the blocking pool,
//! under one lock, before the reply is sent: no REPLY that grants an address
//! leaves before its binding is on disk.

use std::io;
use std::net::Ipv6Addr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use netio::dhcp6::{bind_dhcp6_server, bind_dhcp6_unicast, interface6};
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{debug, info, warn};

use super::{respond, server_duid_ll, Binding6, FullServer6, LeaseFile6, V6Config, V6Outcome};

/// Full mode's state: the server and the lease file (none: bindings in memory only).
struct Full {
    server: FullServer6,
    file: Option<LeaseFile6>,
}

/// What answers datagrams.
#[derive(Clone)]
enum Answerer {
    Stateless(Arc<RwLock<V6Config>>),
    Full(Arc<Mutex<Full>>),
}

impl Answerer {
    /// Takes a reloaded configuration (SIGHUP), keeping the server DUID in
    /// use; a change only a restart can make is refused with the reason.
    fn reconfigure(&self, mut cfg: V6Config) -> Result<(), &'static str> {
        match self {
            Self::Stateless(running) => {
                if cfg.full.is_some() {
                    return Err("switching from stateless to full mode needs a restart");
                }
                let mut running = running.write().unwrap_or_else(|p| p.into_inner());
                cfg.server_duid = std::mem::take(&mut running.server_duid);
                *running = cfg;
                Ok(())
            }
            Self::Full(full) => {
                let mut f = full.lock().unwrap_or_else(|p| p.into_inner());
                f.server.reconfigure(cfg)
            }
        }
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Full {
    /// Handles one datagram and makes its bindings durable; a reply whose
    /// bindings could not be written is dropped.
    fn handle(&mut self, payload: &[u8], local: Ipv6Addr) -> V6Outcome {
        let now = unix_now();
        let mut out = self.server.handle(now, payload, local);
        if out.commit.is_empty() {
            return out;
        }
        if let Some(f) = &mut self.file {
            if let Err(e) = f.append(&out.commit) {
                out.reply = Err(format!("the bindings could not be written: {e}"));
                return out;
            }
            let live = self.server.bindings().live(now);
            if f.wants_compaction(live.len()) {
                match f.compact(&live) {
                    Ok(()) => {
                        info!(path = %f.path().display(), records = live.len(), "DHCPv6 lease file compacted");
                    }
                    Err(e) => warn!("compacting the DHCPv6 lease file: {e}"),
                }
            }
        }
        out
    }
}

/// Serves DHCPv6 on `interfaces` at `port` (547) until the task is dropped. An empty
/// `cfg.server_duid` becomes the DUID-LL of the first interface with a MAC. With
/// `cfg.full` set, addresses are given from its range, and `leases` (the lease
/// file opened, and what it held) keeps them; without it, in memory only.
/// Each configuration from `reload` replaces the running one (the interfaces,
/// the mode and full mode's range stay: a change there is logged and ignored).
pub async fn run_v6(
    mut cfg: V6Config,
    interfaces: &[String],
    port: u16,
    leases: Option<(LeaseFile6, Vec<Binding6>)>,
    reload: Option<UnboundedReceiver<V6Config>>,
) -> io::Result<()> {
    if interfaces.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "DHCPv6 needs the interfaces to serve (multicast is per link)",
        ));
    }
    let mut sockets = Vec::new();
    for name in interfaces {
        let (sock, ifindex) = bind_dhcp6_server(name, port)?;
        let facts = interface6(name)?;
        if cfg.server_duid.is_empty() {
            if let Some(mac) = facts.mac {
                cfg.server_duid = server_duid_ll(mac);
            }
        }
        let local = facts
            .global
            .or(facts.link_local)
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        info!(interface = %name, ifindex, %local, "DHCPv6 listening on [::]:{port}, ff02::1:2");
        sockets.push((name.clone(), sock, local));
        if cfg.full.is_none() {
            // Stateless mode is UEFI PXE's proxy: the firmware asks it again
            // on the boot server port (see `respond`).
            let boot = dhcp_pxe::v6::BOOT_SERVER_PORT;
            let sock = bind_dhcp6_unicast(name, boot)?;
            info!(interface = %name, "DHCPv6 PXE boot server listening on [::]:{boot}");
            sockets.push((name.clone(), sock, local));
        }
    }
    if cfg.server_duid.is_empty() {
        // No MAC anywhere (tunnels): a DUID-LL of zeros is still one stable id.
        cfg.server_duid = server_duid_ll([0; 6]);
    }
    let answerer = match FullServer6::new(cfg.clone()) {
        Some(mut server) => {
            let file = leases.map(|(file, records)| {
                info!(path = %file.path().display(), records = records.len(), "DHCPv6 lease file opened");
                server.restore(records);
                file
            });
            if let Some(f) = &cfg.full {
                info!(first = %f.range.first(), last = %f.range.last(), "DHCPv6 full mode");
            }
            Answerer::Full(Arc::new(Mutex::new(Full { server, file })))
        }
        None => Answerer::Stateless(Arc::new(RwLock::new(cfg))),
    };
    if let Some(mut rx) = reload {
        let a = answerer.clone();
        tokio::spawn(async move {
            while let Some(cfg) = rx.recv().await {
                match a.reconfigure(cfg) {
                    Ok(()) => info!("DHCPv6 configuration reloaded"),
                    Err(why) => {
                        warn!("DHCPv6 keeps its running configuration: {why}");
                    }
                }
            }
        });
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (name, sock, local) in sockets {
        let a = answerer.clone();
        tasks.spawn(async move { serve_link(a, &name, &sock, local).await });
    }
    match tasks.join_next().await {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(io::Error::other(e)),
        None => Ok(()),
    }
}

async fn serve_link(
    answerer: Answerer,
    name: &str,
    sock: &tokio::net::UdpSocket,
    local: Ipv6Addr,
) -> io::Result<()> {
    let mut buf = vec![0u8; 65_536];
    loop {
        let meta = netio::recv_meta(sock, &mut buf).await?;
        let out = match &answerer {
            Answerer::Stateless(cfg) => {
                let cfg = cfg.read().unwrap_or_else(|p| p.into_inner());
                respond(&cfg, &buf[..meta.len], local)
            }
            Answerer::Full(full) => {
                // The lease file's sync blocks: off the serving thread.
                let (full, payload) = (full.clone(), buf[..meta.len].to_vec());
                tokio::task::spawn_blocking(move || {
                    let mut f = full.lock().unwrap_or_else(|p| p.into_inner());
                    f.handle(&payload, local)
                })
                .await
                .map_err(io::Error::other)?
            }
        };
        for ia in &out.ia {
            debug!(interface = %name, peer = %meta.peer, iaid = ia.iaid, note = %ia.note, "DHCPv6 IA_NA");
        }
        match out.reply {
            Ok((m, bytes)) => {
                debug!(interface = %name, peer = %meta.peer, reply = ?m.msg_type(), "DHCPv6 reply");
                if let Err(e) = sock.send_to(&bytes, meta.peer).await {
                    warn!(interface = %name, peer = %meta.peer, "DHCPv6 send: {e}");
                }
            }
            Err(why) => debug!(interface = %name, peer = %meta.peer, "DHCPv6 no reply: {why}"),
        }
    }
}
