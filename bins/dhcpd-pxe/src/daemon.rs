//! The daemon: lease store (journal or PostgreSQL), signals (SIGTERM/SIGINT stop, SIGHUP reloads), the driver.

use anyhow::{bail, Context, Result};
use dhcp_server::driver::{run_pooled, Control};
use dhcp_server::store::{LeaseJournal, LeaseStore, MemoryStore, PgLeaseStore};
use dhcp_server::{Mode, Server};
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info, warn};

use crate::cli::ConfigArgs;
use crate::config::Settings;
use crate::quick::from_args;

/// Serves until SIGTERM or SIGINT.
pub fn serve(args: &ConfigArgs) -> Result<()> {
    let settings = from_args(args)?;
    let mut server = Server::new(settings.server.clone());
    // Opened before the runtime: the PostgreSQL client blocks (it runs on the
    // lease writer thread afterwards).
    let stores = open_store(&settings, &mut server)?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")?;
    rt.block_on(serve_async(args.clone(), settings, server, stores))
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
    let store: Box<dyn LeaseStore> = match (&settings.lease_file, settings.server.mode) {
        (Some(path), _) => {
            let (journal, leases) = LeaseJournal::open(path)?;
            info!(path = %path.display(), records = leases.len(), "lease journal opened");
            server.restore(leases);
            Box::new(journal)
        }
        (None, Mode::Proxy) => Box::new(MemoryStore::default()),
        (None, Mode::Full) => {
            bail!("full mode needs a lease file (--lease-file PATH or lease_file = \"...\") or a [lease_store]")
        }
    };
    Ok(vec![store])
}

async fn serve_async(
    args: ConfigArgs,
    settings: Settings,
    server: Server,
    stores: Vec<Box<dyn LeaseStore>>,
) -> Result<()> {
    let (ctl, rx) = tokio::sync::mpsc::unbounded_channel();
    let mut term = signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    let mut int = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut hup = signal(SignalKind::hangup()).context("installing the SIGHUP handler")?;
    let listen = settings.listen.clone();
    let mode = settings.server.mode;
    let driver = tokio::spawn(async move { run_pooled(server, stores, &listen, rx).await });
    tokio::pin!(driver);
    loop {
        tokio::select! {
            r = &mut driver => {
                let stats = r.context("the server task failed")??;
                info!(?stats, "stopped");
                return Ok(());
            }
            _ = term.recv() => { info!("SIGTERM: stopping"); let _ = ctl.send(Control::Shutdown); }
            _ = int.recv() => { info!("SIGINT: stopping"); let _ = ctl.send(Control::Shutdown); }
            _ = hup.recv() => match from_args(&args) {
                Ok(s) if s.server.mode == mode => {
                    if s.listen != settings.listen || s.lease_file != settings.lease_file || s.lease_db != settings.lease_db {
                        warn!("SIGHUP: interfaces and lease store changes need a restart; the rest is reloaded");
                    }
                    let _ = ctl.send(Control::Reload(Box::new(s.server)));
                }
                Ok(_) => warn!("SIGHUP: switching between full and proxy mode needs a restart; keeping the running configuration"),
                Err(e) => error!("SIGHUP: the new configuration is invalid, keeping the running one: {e:#}"),
            },
        }
    }
}
