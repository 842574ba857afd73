//! The `tftpd` binary: command line ([`cli`]), set-up and the server run.
//!
//! `main.rs` only calls [`main_with_args`]; everything else is here so tests
//! can reach it.
//!
//! # What is not there yet
//! - inetd mode (no `-l`/`-L`: the socket is fd 0) exits with status 69;
//! - `-m` (remap rules) exits with status 69;
//! - without `-s`, tftp-hpa serves absolute names below the directory
//!   arguments; that mode exits with status 69;
//! - `-u` (privilege drop) is accepted and logged as not applied;
//! - `-l` detaches by re-running itself ([`daemon`]), not by `fork`;
//! - `-t` only matters in inetd mode, so it is parsed and unused.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tftp::server::{Server, ServerConfig};
use tftp::source::{DirectoryConfig, DirectoryRoot, FileSource};
use tracing::{info, warn};
use tracing_subscriber::EnvFilter;

pub mod cli;
pub mod daemon;

pub use cli::Config;

/// Exit statuses, from `<sysexits.h>` as tftp-hpa uses them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Bad command line (`EX_USAGE`).
    pub const USAGE: u8 = 64;
    /// A directory or address that cannot be used (`EX_NOINPUT`).
    pub const NOINPUT: u8 = 66;
    /// A feature this build does not have yet (`EX_UNAVAILABLE`).
    pub const UNAVAILABLE: u8 = 69;
    /// Sockets, runtime, signals (`EX_OSERR`).
    pub const OSERR: u8 = 71;
}

/// Parses the command line, runs the server, returns the exit status.
pub fn main_with_args<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let config = match cli::parse(argv) {
        Ok(cli::Command::Run(config)) => config,
        Ok(cli::Command::Version(text) | cli::Command::Help(text)) => {
            println!("{}", text.trim_end());
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("tftpd: {err}");
            return ExitCode::from(err.code);
        }
    };
    if let Err(failure) = check_supported(&config) {
        eprintln!("tftpd: {:#}", failure.error);
        return ExitCode::from(failure.code);
    }
    if config.standalone && !config.foreground && !daemon::is_child() {
        return ExitCode::from(daemon::detach());
    }
    init_logging(config.verbosity);
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            tracing::error!("{:#}", failure.error);
            eprintln!("tftpd: {:#}", failure.error);
            ExitCode::from(failure.code)
        }
    }
}

/// Why [`run`] stopped, with the exit status for it.
#[derive(Debug)]
pub struct Failure {
    /// Exit status.
    pub code: u8,
    /// What happened.
    pub error: anyhow::Error,
}

fn fail(code: u8) -> impl FnOnce(anyhow::Error) -> Failure {
    move |error| Failure { code, error }
}

/// `-v` count to a default log filter; `RUST_LOG` overrides it.
pub fn log_filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

fn init_logging(verbosity: u8) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(log_filter(verbosity)));
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .try_init();
}

/// Checks the parts this build cannot do yet, before anything is bound.
pub fn check_supported(config: &Config) -> Result<(), Failure> {
    let unavailable = |what: &str| Failure {
        code: exit::UNAVAILABLE,
        error: anyhow::anyhow!("{what} is not supported yet"),
    };
    if !config.standalone {
        return Err(unavailable(
            "inetd mode (no -l/-L: the socket on fd 0); use -L with -a",
        ));
    }
    if config.map_file.is_some() {
        return Err(unavailable("-m (filename remapping)"));
    }
    if !config.secure {
        return Err(unavailable(
            "serving without -s (absolute file names below the directory arguments); use -s DIR",
        ));
    }
    Ok(())
}

/// The file source for `config`: `DirectoryRoot` over the `-s` directory.
pub fn directory_source(config: &Config) -> Result<DirectoryRoot, Failure> {
    let dir = config.dirs.first().ok_or_else(|| Failure {
        code: exit::USAGE,
        error: anyhow::anyhow!("no -s directory"),
    })?;
    let mut dc = DirectoryConfig::new(dir);
    dc.permissive = config.permissive;
    dc.allow_create = config.create;
    dc.umask = config.umask.unwrap_or(0);
    DirectoryRoot::new(dc)
        .with_context(|| format!("{}", dir.display()))
        .map_err(fail(exit::NOINPUT))
}

/// The server settings for `config`.
pub fn server_config(config: &Config) -> ServerConfig {
    let mut sc = ServerConfig::new(config.listen.clone());
    if let Some(max) = config.max_blksize {
        sc.negotiation.max_blksize = max;
    }
    if let Some(max) = config.max_windowsize {
        sc.negotiation.max_windowsize = max;
    }
    sc.negotiation.refused = config.refuse.clone();
    if let Some(t) = config.retransmit {
        sc.retransmit = t;
    }
    sc.port_range = config.port_range;
    sc
}

/// Runs the server for `config` until SIGTERM or SIGINT.
pub fn run(config: &Config) -> Result<(), Failure> {
    check_supported(config)?;
    let source = directory_source(config)?;
    info!(root = %source.root().display(), "serving");
    report_user(config);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
        .map_err(fail(exit::OSERR))?;
    let source: Arc<dyn FileSource> = Arc::new(source);
    runtime.block_on(serve(config, source))
}

async fn serve(config: &Config, source: Arc<dyn FileSource>) -> Result<(), Failure> {
    let server = Server::bind(server_config(config), source)
        .await
        .context("cannot bind")
        .map_err(fail(exit::OSERR))?;
    for addr in server.local_addrs() {
        info!(%addr, "listening");
    }
    let pidfile = config.pidfile.as_deref();
    if let Some(path) = pidfile {
        // tftp-hpa logs a pid file it cannot write and goes on.
        if let Err(err) = fs::write(path, format!("{}\n", std::process::id())) {
            warn!(path = %path.display(), error = %err, "cannot write pid file");
        }
    }
    let stop = shutdown_signal()
        .await
        .context("signal handlers")
        .map_err(fail(exit::OSERR))?;
    daemon::notify_ready();
    let result = server.run(stop).await;
    if let Some(path) = pidfile {
        remove_pidfile(path);
    }
    result.context("server").map_err(fail(exit::OSERR))
}

fn remove_pidfile(path: &Path) {
    if let Err(err) = fs::remove_file(path) {
        warn!(path = %path.display(), error = %err, "cannot remove pid file");
    }
}

/// A future that completes on the first SIGTERM or SIGINT.
async fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => info!("SIGTERM"),
            _ = int.recv() => info!("SIGINT"),
        }
    })
}

/// `-u`: privileges are not dropped yet; say so instead of pretending.
fn report_user(config: &Config) {
    let user = config.user.as_deref().unwrap_or("nobody");
    let root = fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if root {
        warn!(
            user,
            "running as root: dropping privileges (-u) is not implemented yet"
        );
    } else if config.user.is_some() {
        info!(user, "not root: -u not applied");
    }
}
