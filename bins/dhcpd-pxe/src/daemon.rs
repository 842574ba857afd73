//! The daemon: lease store (journal or PostgreSQL), signals (SIGTERM/SIGINT
//! stop, SIGHUP reloads, SIGUSR1 logs the counters), the metrics endpoint, the
//! driver.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use dhcp_server::driver::{run_pooled, Control};
use dhcp_server::store::{LeaseJournal, LeaseStore, MemoryStore, PgLeaseStore};
use dhcp_server::v6::{Binding6, LeaseFile6};
use dhcp_server::Server;
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info, warn};

use crate::cli::ConfigArgs;
use crate::config::Settings;
use crate::metrics::DriverMetrics;
use crate::quick::from_args;

/// Serves until SIGTERM or SIGINT; `metrics`: the Prometheus endpoint's address.
pub fn serve(args: &ConfigArgs, metrics: Option<SocketAddr>) -> Result<()> {
    let settings = from_args(args)?;
    let mut server = Server::new(settings.server.clone());
    // Opened before the runtime: the PostgreSQL client blocks (it runs on the
    // lease writer thread afterwards).
    let stores = open_store(&settings, &mut server)?;
    let leases6 = open_leases6(&settings)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(serve_async(
        args.clone(),
        settings,
        server,
        stores,
        leases6,
        metrics,
    ))
}

/// DHCPv6 full mode's lease file, opened and read back.
fn open_leases6(settings: &Settings) -> Result<Option<(LeaseFile6, Vec<Binding6>)>> {
    let Some(v6) = &settings.dhcpv6 else {
        return Ok(None);
    };
    let Some(path) = v6.lease_file_with(settings.lease_file.as_deref())? else {
        return Ok(None);
    };
    let opened = LeaseFile6::open(&path)
        .with_context(|| format!("opening the DHCPv6 lease file {}", path.display()))?;
    Ok(Some(opened))
}

/// The lease store the settings name (one connection each; the journal has
/// one), with its leases loaded into `server`.
fn open_store(settings: &Settings, server: &mut Server) -> Result<Vec<Box<dyn LeaseStore>>> {
    if let Some(opts) = settings.lease_db.clone() {
        let instance = opts.instance.clone();
        let pool = opts.pool_size.max(1);
        let (db, leases) =
            PgLeaseStore::open(opts).context("opening the PostgreSQL lease store")?;
        info!(%instance, rows = leases.len(), pool, "PostgreSQL lease store opened");
        server.restore(leases);
        let mut stores: Vec<Box<dyn LeaseStore>> = Vec::new();
        for _ in 1..pool {
            stores.push(Box::new(db.another()));
        }
        stores.insert(0, Box::new(db));
        return Ok(stores);
    }
    let store: Box<dyn LeaseStore> = match settings.required_lease_file()? {
        Some(path) => {
            let (journal, leases) = LeaseJournal::open(path)?;
            info!(path = %path.display(), records = leases.len(), "lease journal opened");
            server.restore(leases);
            Box::new(journal)
        }
        None => Box::new(MemoryStore::default()),
    };
    Ok(vec![store])
}

async fn serve_async(
    args: ConfigArgs,
    settings: Settings,
    server: Server,
    stores: Vec<Box<dyn LeaseStore>>,
    leases6: Option<(LeaseFile6, Vec<Binding6>)>,
    metrics: Option<SocketAddr>,
) -> Result<()> {
    let (ctl, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let source = Arc::new(DriverMetrics(ctl.clone()));
    observe::signal::log_on_usr1(source.clone()).context("installing the SIGUSR1 handler")?;
    if let Some(addr) = metrics {
        observe::endpoint::serve(addr, source).await?;
    }
    let listen = settings.listen.clone();
    let mode = settings.server.mode;
    let driver = tokio::spawn(async move { run_pooled(server, stores, &listen, rx).await });
    tokio::pin!(driver);
    // DHCPv6 beside DHCPv4: a failure (no such interface, port taken) stops the daemon.
    let (reload6, reload6_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut v6 = settings.dhcpv6.clone().map(|v6| {
        tokio::spawn(async move {
            let port = dhcp_pxe::v6::SERVER_PORT;
            dhcp_server::v6::run_v6(v6.config, &v6.interfaces, port, leases6, Some(reload6_rx))
                .await
        })
    });
    let v6_done = async {
        match v6.as_mut() {
            Some(t) => t.await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(v6_done);
    loop {
        tokio::select! {
            r = &mut v6_done => {
                r.context("the DHCPv6 task failed")?.context("DHCPv6")?;
                anyhow::bail!("DHCPv6 stopped");
            }
            r = &mut driver => {
                let report = r.context("the server task failed")??;
                info!("stopped");
                observe::signal::log_statistics(&crate::metrics::metrics(&report));
                return Ok(());
            }
            _ = term.recv() => { info!("SIGTERM: stopping"); let _ = ctl.send(Control::Shutdown); }
            _ = int.recv() => { info!("SIGINT: stopping"); let _ = ctl.send(Control::Shutdown); }
            _ = hup.recv() => match from_args(&args) {
                Ok(s) if s.server.mode == mode => {
                    if s.listen != settings.listen
                        || s.lease_file != settings.lease_file
                        || s.lease_db != settings.lease_db
                    {
                        warn!("SIGHUP: interfaces and lease store changes need a restart; the rest is reloaded");
                    }
                    match (&settings.dhcpv6, s.dhcpv6) {
                        (Some(running), Some(new)) => {
                            if new.interfaces != running.interfaces || new.lease_file != running.lease_file {
                                warn!("SIGHUP: [dhcpv6] interfaces and lease_file changes need a restart; the rest is reloaded");
                            }
                            let _ = reload6.send(new.config);
                        }
                        (None, None) => {}
                        _ => warn!("SIGHUP: adding or removing [dhcpv6] needs a restart"),
                    }
                    let _ = ctl.send(Control::Reload(Box::new(s.server)));
                }
                Ok(_) => warn!("SIGHUP: switching between full and proxy mode needs a restart; keeping the running configuration"),
                Err(e) => error!("SIGHUP: the new configuration is invalid, keeping the running one: {e:#}"),
            },
        }
    }
}
