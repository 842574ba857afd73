//! The daemon: lease journal, signals (SIGTERM/SIGINT stop, SIGHUP reloads,
//! SIGUSR1 logs the counters), the metrics endpoint, the driver.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use dhcp_server::driver::{run, Control};
use dhcp_server::store::{LeaseJournal, LeaseStore, MemoryStore};
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
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(serve_async(args.clone(), settings, metrics))
}

async fn serve_async(
    args: ConfigArgs,
    settings: Settings,
    metrics: Option<SocketAddr>,
) -> Result<()> {
    let mut server = Server::new(settings.server.clone());
    let store: Box<dyn LeaseStore> = match settings.required_lease_file()? {
        Some(path) => {
            let (journal, leases) = LeaseJournal::open(path)?;
            info!(path = %path.display(), records = leases.len(), "lease journal opened");
            server.restore(leases);
            Box::new(journal)
        }
        None => Box::new(MemoryStore::default()),
    };
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
    let driver = tokio::spawn(async move { run(server, store, &listen, rx).await });
    tokio::pin!(driver);
    // DHCPv6 beside DHCPv4: a failure (no such interface, port taken) stops the daemon.
    let mut v6 = settings.dhcpv6.clone().map(|v6| {
        tokio::spawn(async move {
            dhcp_server::v6::run_v6(v6.config, &v6.interfaces, dhcp_pxe::v6::SERVER_PORT).await
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
                    if s.listen != settings.listen || s.lease_file != settings.lease_file {
                        warn!("SIGHUP: interfaces and lease file changes need a restart; the rest is reloaded");
                    }
                    let _ = ctl.send(Control::Reload(Box::new(s.server)));
                }
                Ok(_) => warn!("SIGHUP: switching between full and proxy mode needs a restart; keeping the running configuration"),
                Err(e) => error!("SIGHUP: the new configuration is invalid, keeping the running one: {e:#}"),
            },
        }
    }
}
