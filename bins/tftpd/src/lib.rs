//! The `tftpd` binary: command line ([`cli`]), set-up and the server run.
//!
//! `main.rs` only calls [`main_with_args`]; everything else is here so tests
//! can reach it.
//!
//! Three ways to get the sockets, as in.tftpd: standalone (`-l`/`-L`, bind
//! `-a` addresses), inetd (no `-l`/`-L`/`-a`: fd 0 is the bound socket, exit
//! after `-t` idle seconds), and systemd socket activation (`LISTEN_FDS`,
//! required with `--systemd`). After the sockets: the pid file ([`pidfile`]),
//! `-s` chroots (when root), `-u` drops privileges (when root), then the
//! server runs; SIGHUP reloads the `-m` rules.
//!
//! With `-s` the one directory is the root; without it the directories are
//! the allowed prefixes of absolute names (`tftp::source::DirectoryList`).
//! `-l` detaches by re-running itself ([`daemon`]), not by `fork`.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tftp::accept::AdmissionConfig;
use tftp::options::OPTION_NAMES;
use tftp::remap::{RemapRules, SharedRules};
use tftp::server::{Server, ServerConfig};
use tftp::source::{DirectoryConfig, DirectoryList, DirectoryRoot, FileSource};
use tokio::net::UdpSocket;
use tracing::{debug, info, warn};

pub mod address;
pub mod cli;
pub mod daemon;
pub mod logs;
pub mod maptest;
pub mod metrics;
pub mod pidfile;
pub mod sys;

pub use cli::{command, Config};
pub use logs::log_filter;
use logs::{init_logging, Logs};

/// Exit statuses, from `<sysexits.h>` as tftp-hpa uses them.
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Bad command line (`EX_USAGE`).
    pub const USAGE: u8 = 64;
    /// A directory argument that is not a usable path (`EX_DATAERR`).
    pub const DATAERR: u8 = 65;
    /// A directory or address that cannot be used (`EX_NOINPUT`).
    pub const NOINPUT: u8 = 66;
    /// No such user for `-u` (`EX_NOUSER`).
    pub const NOUSER: u8 = 67;
    /// Sockets, runtime, signals (`EX_OSERR`).
    pub const OSERR: u8 = 71;
    /// A bad remap file (`EX_CONFIG`, as in.tftpd).
    pub const CONFIG: u8 = 78;
}

/// Where the listening sockets come from.
#[derive(Debug)]
pub enum Sockets {
    /// `-l` / `-L`: bind the `-a` addresses.
    Bind,
    /// inetd: fd 0 is the bound socket.
    Inetd,
    /// systemd socket activation: the `LISTEN_FDS` descriptors.
    Activated(Vec<OwnedFd>),
}

/// Parses the command line, runs the server, returns the exit status.
pub fn main_with_args<I, T>(argv: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    if let Some(code) = pidfile::keeper_main() {
        return ExitCode::from(code);
    }
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
    for warning in &config.warnings {
        eprintln!("tftpd: {warning}");
    }
    if config.map_test.is_some() {
        return ExitCode::from(maptest::run(&config));
    }
    let sockets = match netio::inherit::listen_fds() {
        Ok(Some(fds)) => Sockets::Activated(fds),
        Ok(None) if config.systemd => {
            eprintln!("tftpd: --systemd specified, but no file descriptors passed");
            return ExitCode::from(exit::NOINPUT);
        }
        Ok(None) if config.standalone => Sockets::Bind,
        Ok(None) => Sockets::Inetd,
        Err(err) => {
            eprintln!("tftpd: socket activation: {err}");
            return ExitCode::from(exit::OSERR);
        }
    };
    let detach = matches!(sockets, Sockets::Bind) && !config.foreground;
    // in.tftpd logs to syslog unless it runs in the foreground; under
    // systemd stderr goes to the journal. In inetd mode stderr is the
    // client's socket, so start-up errors must reach syslog too.
    let to_syslog = !config.stderr && (detach || matches!(sockets, Sockets::Inetd));
    // Each failure is reported once per destination: syslog when logs go
    // there, and stderr (where the logs are otherwise).
    let report = |failure: Failure, on_syslog: Option<bool>| {
        // Before the log set-up (`None`) syslog is set up for this line;
        // after it, the line goes there only if the logs really reach
        // syslog (with `-l` and no syslog socket they are on stderr).
        let on_syslog =
            on_syslog.unwrap_or_else(|| to_syslog && init_logging(config.verbosity, Logs::Inetd));
        if to_syslog && on_syslog {
            tracing::error!("{:#}", failure.error);
        }
        eprintln!("tftpd: {:#}", failure.error);
        ExitCode::from(failure.code)
    };
    if let Err(failure) = check_directories(&config) {
        return report(failure, None);
    }
    let rules = match load_rules(&config) {
        Ok(rules) => rules,
        Err(failure) => return report(failure, None),
    };
    if detach && !daemon::is_child() {
        return ExitCode::from(daemon::detach());
    }
    let on_syslog = init_logging(
        config.verbosity,
        match sockets {
            _ if !to_syslog && config.secure && sys::euid() == 0 => Logs::StderrChrooted,
            _ if !to_syslog => Logs::Stderr,
            _ if detach => Logs::Detached,
            _ => Logs::Inetd,
        },
    );
    match run(&config, sockets, rules) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => report(failure, Some(on_syslog)),
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

/// Checks the directory arguments before anything is bound: with `-s`
/// exactly one existing directory; without, at least one, each absolute
/// and existing (tftp-hpa 6.0's rules and exit statuses).
pub fn check_directories(config: &Config) -> Result<(), Failure> {
    let failure = |code, error| Failure { code, error };
    if config.dirs.is_empty() {
        return Err(failure(
            exit::USAGE,
            anyhow::anyhow!("directory list not specified"),
        ));
    }
    for dir in &config.dirs {
        if !config.secure && !dir.is_absolute() {
            return Err(failure(
                exit::DATAERR,
                anyhow::anyhow!("invalid path: {} (absolute without -s)", dir.display()),
            ));
        }
        if !dir.is_dir() {
            return Err(failure(
                exit::NOINPUT,
                anyhow::anyhow!("{}: not a directory", dir.display()),
            ));
        }
    }
    Ok(())
}

/// What is served: with `-s` one [`DirectoryRoot`] at `root` (the directory,
/// or `/` after the chroot); without, a [`DirectoryList`] of the directories.
pub fn file_source(config: &Config, root: &Path) -> Result<Arc<dyn FileSource>, Failure> {
    let mut dc = DirectoryConfig::new(root);
    dc.permissive = config.permissive;
    dc.allow_create = config.create;
    dc.umask = config.umask.unwrap_or(0);
    if let Some(size) = config.cache_size {
        dc.cache_size = size;
    }
    let source: Arc<dyn FileSource> = if config.secure {
        Arc::new(
            DirectoryRoot::new(dc)
                .with_context(|| format!("{}", root.display()))
                .map_err(fail(exit::NOINPUT))?,
        )
    } else {
        Arc::new(
            DirectoryList::new(&dc, &config.dirs)
                .map_err(anyhow::Error::from)
                .map_err(fail(exit::NOINPUT))?,
        )
    };
    Ok(source)
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
    sc.negotiation.max_window_bytes = config.max_window_bytes;
    sc.negotiation.refused = config.refuse.clone();
    if config.reject_all {
        // tftp-hpa 6.0's --reject-all: no option at all, plain RFC 1350.
        sc.negotiation.refused = OPTION_NAMES.iter().map(|&o| o.to_owned()).collect();
    }
    if let Some(t) = config.retransmit {
        sc.retransmit = t;
    }
    sc.port_range = config.port_range;
    if let Some(max) = config.max_transfers {
        sc.admission = AdmissionConfig::new(max);
    }
    sc
}

/// Reads the `-m` rules; a bad file is an error naming `file:line`.
pub fn load_rules(config: &Config) -> Result<Option<RemapRules>, Failure> {
    let Some(path) = &config.map_file else {
        return Ok(None);
    };
    let mut rules = RemapRules::load(path).map_err(|e| Failure {
        code: exit::CONFIG,
        error: anyhow::anyhow!("remap: {e}"),
    })?;
    if let Some(steps) = config.map_steps {
        rules.max_steps = steps;
    }
    Ok(Some(rules))
}

/// Runs the server for `config` on `sockets` until SIGTERM or SIGINT (or,
/// in inetd and socket-activated mode, until `-t` idle seconds passed).
pub fn run(config: &Config, sockets: Sockets, rules: Option<RemapRules>) -> Result<(), Failure> {
    check_directories(config)?;
    let dir = config.dirs[0].clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("tokio runtime")
        .map_err(fail(exit::OSERR))?;
    runtime.block_on(serve(config, sockets, rules, &dir))
}

/// fd 0 (inetd) or the systemd sockets, ready for the server.
fn inherited(fds: Vec<OwnedFd>) -> anyhow::Result<Vec<UdpSocket>> {
    let mut out = Vec::new();
    for fd in fds {
        out.push(netio::inherit::adopt(fd).context("inherited socket")?);
    }
    Ok(out)
}

async fn serve(
    config: &Config,
    sockets: Sockets,
    rules: Option<RemapRules>,
    dir: &Path,
) -> Result<(), Failure> {
    // tftp-hpa writes the pid file in standalone mode only: under inetd one
    // process serves a burst and exits, under systemd the manager knows the pid.
    let standalone = matches!(sockets, Sockets::Bind);
    let mut sc = server_config(config);
    let shared = rules.map(|r| Arc::new(SharedRules::new(r)));
    if let Some(shared) = &shared {
        sc.remap = Some(shared.clone());
    }
    let socks = match sockets {
        Sockets::Bind => {
            let mut socks = Vec::new();
            for addr in &config.listen {
                let sock = netio::bind_listener(*addr)
                    .with_context(|| format!("cannot bind {addr}"))
                    .map_err(fail(exit::OSERR))?;
                socks.push(sock);
            }
            socks
        }
        Sockets::Inetd => {
            sc.idle_exit = Some(config.idle_timeout);
            let fd0 = netio::inherit::stdin_socket()
                .context("fd 0")
                .map_err(fail(exit::OSERR))?;
            inherited(vec![fd0]).map_err(fail(exit::OSERR))?
        }
        Sockets::Activated(fds) => {
            sc.idle_exit = Some(config.idle_timeout);
            inherited(fds).map_err(fail(exit::OSERR))?
        }
    };
    for sock in &socks {
        if let Ok(addr) = sock.local_addr() {
            info!(%addr, "listening");
        }
    }
    // Handlers before the pid file: whoever reads it may signal at once.
    let stop = shutdown_signal()
        .await
        .context("signal handlers")
        .map_err(fail(exit::OSERR))?;
    // SIGUSR1 logs the counters (and never kills); `--metrics` serves them.
    let counters = Arc::new(metrics::TftpMetrics(sc.counters.clone()));
    observe::signal::log_on_usr1(counters.clone())
        .context("SIGUSR1 handler")
        .map_err(fail(exit::OSERR))?;
    if let Some(addr) = config.metrics {
        observe::endpoint::serve(addr, counters.clone())
            .await
            .map_err(anyhow::Error::from)
            .map_err(fail(exit::OSERR))?;
    }
    // `--http`: bound before privileges are dropped, served below with the
    // TFTP side's source (same rules, same cache) and remap rules.
    let http = http_boot::Listeners::bind(&config.http)
        .await
        .map_err(anyhow::Error::from)
        .map_err(fail(exit::OSERR))?;
    let http_config = http_boot::HttpConfig {
        remap: sc.remap.clone(),
        ..Default::default()
    };
    if let (Some(shared), Some(path)) = (shared, config.map_file.clone()) {
        // Reached through its directory: SIGHUP comes after the chroot.
        let entry = sys::DirEntry::at(&path)
            .with_context(|| format!("{}", path.display()))
            .map_err(fail(exit::CONFIG))?;
        reload_on_hangup(shared, path, entry).map_err(fail(exit::OSERR))?;
    }
    let pidfile = match &config.pidfile {
        Some(path) if !standalone => {
            debug!(path = %path.display(), "pid file not written: not standalone (-l/-L)");
            None
        }
        // tftp-hpa logs a pid file it cannot write and goes on.
        Some(path) => pidfile::PidFile::create(path, drops_privileges(config))
            .map_err(|err| warn!(path = %path.display(), error = %err, "cannot write pid file"))
            .ok(),
        None => None,
    };
    let served = confine(config, dir).and_then(|root| {
        let source = file_source(config, &root)?;
        Ok((root, source))
    });
    let result = match served {
        Ok((root, source)) => {
            match config.secure {
                true => info!(root = %dir.display(), chroot = (root != dir), "serving"),
                false => info!(directories = ?config.dirs, "serving absolute names below"),
            }
            http.serve(source.clone(), http_config);
            let server = Server::from_sockets(sc, source, socks);
            daemon::notify_ready();
            server
                .run(stop)
                .await
                .context("server")
                .map_err(fail(exit::OSERR))
        }
        Err(failure) => Err(failure),
    };
    // At exit only with -v: inetd starts one server per burst of requests.
    info!("statistics {}", counters.metrics().key_values());
    if let Some(p) = pidfile {
        if let Err(err) = p.remove() {
            warn!(error = %err, "cannot remove pid file");
        }
    }
    result
}

/// Whether [`confine`] will give up root (and so, likely, the right to
/// remove the pid file).
fn drops_privileges(config: &Config) -> bool {
    sys::euid() == 0
        && sys::lookup_user(config.user.as_deref().unwrap_or("nobody"))
            .ok()
            .flatten()
            .is_some_and(|user| user.uid != 0)
}

/// `-s` (when root): chroot into the directory; then `-u` (when root): drop
/// to the user (default `nobody`) with its supplementary groups. Returns the
/// root to serve from (`/` after a chroot).
fn confine(config: &Config, dir: &Path) -> Result<PathBuf, Failure> {
    if sys::euid() != 0 {
        if let Some(user) = &config.user {
            info!(user, "not root: -u not applied");
        }
        return Ok(dir.to_path_buf());
    }
    let name = config.user.as_deref().unwrap_or("nobody");
    let user = sys::lookup_user(name)
        .with_context(|| format!("user {name}"))
        .map_err(fail(exit::OSERR))?
        .ok_or_else(|| Failure {
            code: exit::NOUSER,
            error: anyhow::anyhow!("no such user: {name}"),
        })?;
    let root = if config.secure {
        std::os::unix::fs::chroot(dir)
            .and_then(|()| std::env::set_current_dir("/"))
            .with_context(|| format!("cannot chroot into {}", dir.display()))
            .map_err(fail(exit::OSERR))?;
        PathBuf::from("/")
    } else {
        dir.to_path_buf()
    };
    sys::drop_privileges(&user)
        .with_context(|| format!("cannot drop privileges to {name}"))
        .map_err(fail(exit::OSERR))?;
    info!(
        user = name,
        uid = user.uid,
        gid = user.gid,
        "privileges dropped"
    );
    Ok(root)
}

/// SIGHUP: read the rule file again; a bad file keeps the old rules.
fn reload_on_hangup(
    shared: Arc<SharedRules>,
    path: PathBuf,
    entry: sys::DirEntry,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = signal(SignalKind::hangup()).context("SIGHUP handler")?;
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            let loaded = match entry.read() {
                Ok(text) => RemapRules::parse(&text).map_err(|mut e| {
                    e.file = path.display().to_string();
                    e
                }),
                Err(e) => Err(tftp::remap::RuleError {
                    file: path.display().to_string(),
                    line: 0,
                    reason: format!("cannot read: {e}"),
                }),
            };
            match loaded {
                Ok(rules) => {
                    info!(rules = rules.len(), file = %path.display(), "remap rules reloaded");
                    shared.replace(rules);
                }
                Err(err) => warn!(error = %err, "remap rules not reloaded; keeping the old ones"),
            }
        }
    });
    Ok(())
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
