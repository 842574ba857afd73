//! The `tftpd` binary: command line ([`cli`]), set-up and the server run.
//!
//! `main.rs` only calls [`main_with_args`]; everything else is here so tests
//! can reach it.
//!
//! Three ways to get the sockets, as in.tftpd: standalone (`-l`/`-L`, bind
//! `-a` addresses), inetd (no `-l`/`-L`/`-a`: fd 0 is the bound socket, exit
//! after `-t` idle seconds), and systemd socket activation (`LISTEN_FDS`).
//! After the sockets: `-s` chroots (when root), `-u` drops privileges (when
//! root), then the server runs; SIGHUP reloads the `-m` rules.
//!
//! # What is not there
//! - without `-s`, tftp-hpa serves absolute names below the directory
//!   arguments; that mode exits with status 69;
//! - `-l` detaches by re-running itself ([`daemon`]), not by `fork`.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use tftp::accept::AdmissionConfig;
use tftp::remap::{RemapRules, SharedRules};
use tftp::server::{Server, ServerConfig};
use tftp::source::{DirectoryConfig, DirectoryRoot, FileSource};
use tftp::Direction;
use tokio::net::UdpSocket;
use tracing::{info, warn};

pub mod cli;
pub mod daemon;
pub mod logs;
pub mod metrics;
pub mod sys;

pub use cli::Config;
pub use logs::log_filter;
use logs::{init_logging, Logs};

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
    if config.map_test {
        return ExitCode::from(map_test(&config));
    }
    let sockets = match netio::inherit::listen_fds() {
        Ok(Some(fds)) => Sockets::Activated(fds),
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
    let to_syslog = detach || matches!(sockets, Sockets::Inetd);
    let early = |failure: Failure| {
        if to_syslog {
            init_logging(config.verbosity, Logs::Inetd);
            tracing::error!("{:#}", failure.error);
        }
        eprintln!("tftpd: {:#}", failure.error);
        ExitCode::from(failure.code)
    };
    if let Err(failure) = check_supported(&config) {
        return early(failure);
    }
    let rules = match load_rules(&config) {
        Ok(rules) => rules,
        Err(failure) => return early(failure),
    };
    if detach && !daemon::is_child() {
        return ExitCode::from(daemon::detach());
    }
    init_logging(
        config.verbosity,
        match sockets {
            _ if detach => Logs::Detached,
            Sockets::Inetd => Logs::Inetd,
            _ if config.secure && sys::euid() == 0 => Logs::StderrChrooted,
            _ => Logs::Stderr,
        },
    );
    match run(&config, sockets, rules) {
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

/// Checks the parts this build cannot do yet, before anything is bound.
pub fn check_supported(config: &Config) -> Result<(), Failure> {
    let unavailable = |what: &str| Failure {
        code: exit::UNAVAILABLE,
        error: anyhow::anyhow!("{what} is not supported yet"),
    };
    if !config.secure {
        return Err(unavailable(
            "serving without -s (absolute file names below the directory arguments); use -s DIR",
        ));
    }
    Ok(())
}

/// The file source for `config`: `DirectoryRoot` over the `-s` directory.
pub fn directory_source(config: &Config) -> Result<DirectoryRoot, Failure> {
    let dir = serve_dir(config)?;
    directory_source_at(config, &dir)
}

fn serve_dir(config: &Config) -> Result<PathBuf, Failure> {
    config.dirs.first().cloned().ok_or_else(|| Failure {
        code: exit::USAGE,
        error: anyhow::anyhow!("no -s directory"),
    })
}

fn directory_source_at(config: &Config, dir: &Path) -> Result<DirectoryRoot, Failure> {
    let mut dc = DirectoryConfig::new(dir);
    dc.permissive = config.permissive;
    dc.allow_create = config.create;
    dc.umask = config.umask.unwrap_or(0);
    if let Some(size) = config.cache_size {
        dc.cache_size = size;
    }
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
    RemapRules::load(path).map(Some).map_err(|e| Failure {
        code: exit::CONFIG,
        error: anyhow::anyhow!("remap: {e}"),
    })
}

/// `--map-test`: reads lines `[G|P] [ADDRESS] NAME` from stdin and prints
/// what each name maps to, or `refused: MESSAGE`. Returns the exit status.
pub fn map_test(config: &Config) -> u8 {
    let rules = match load_rules(config) {
        Ok(Some(rules)) => rules,
        Ok(None) => {
            eprintln!("tftpd: --map-test needs -m FILE");
            return exit::USAGE;
        }
        Err(failure) => {
            eprintln!("tftpd: {:#}", failure.error);
            return failure.code;
        }
    };
    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace().peekable();
        let mut direction = Direction::Read;
        if let Some(&w) = words.peek() {
            if w == "G" || w == "P" {
                direction = if w == "P" {
                    Direction::Write
                } else {
                    Direction::Read
                };
                words.next();
            }
        }
        let mut client = IpAddr::V4(Ipv4Addr::LOCALHOST);
        if let Some(ip) = words.peek().and_then(|w| w.parse::<IpAddr>().ok()) {
            client = ip;
            words.next();
        }
        let name: Vec<&str> = words.collect();
        if name.is_empty() {
            continue;
        }
        let name = name.join(" ");
        match rules.apply(name.as_bytes(), client, direction) {
            Ok(mapped) => println!("{}", String::from_utf8_lossy(&mapped)),
            Err(refused) => println!("refused: {}", refused.message),
        }
    }
    exit::OK
}

/// Runs the server for `config` on `sockets` until SIGTERM or SIGINT (or,
/// in inetd and socket-activated mode, until `-t` idle seconds passed).
pub fn run(config: &Config, sockets: Sockets, rules: Option<RemapRules>) -> Result<(), Failure> {
    check_supported(config)?;
    let dir = serve_dir(config)?;
    if !dir.is_dir() {
        return Err(Failure {
            code: exit::NOINPUT,
            error: anyhow::anyhow!("{}: not a directory", dir.display()),
        });
    }
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
    if let (Some(shared), Some(path)) = (shared, config.map_file.clone()) {
        // Reached through its directory: SIGHUP comes after the chroot.
        let entry = sys::DirEntry::at(&path)
            .with_context(|| format!("{}", path.display()))
            .map_err(fail(exit::CONFIG))?;
        reload_on_hangup(shared, path, entry).map_err(fail(exit::OSERR))?;
    }
    let pidfile = match &config.pidfile {
        // tftp-hpa logs a pid file it cannot write and goes on.
        Some(path) => sys::DirEntry::create(path)
            .map_err(|err| warn!(path = %path.display(), error = %err, "cannot write pid file"))
            .ok(),
        None => None,
    };
    let root = confine(config, dir)?;
    let source = directory_source_at(config, &root)?;
    info!(root = %dir.display(), chroot = (root != dir), "serving");
    let source: Arc<dyn FileSource> = Arc::new(source);
    let server = Server::from_sockets(sc, source, socks);
    daemon::notify_ready();
    let result = server.run(stop).await;
    // At exit only with -v: inetd starts one server per burst of requests.
    info!("statistics {}", counters.metrics().key_values());
    if let Some(p) = &pidfile {
        if let Err(err) = p.remove() {
            warn!(error = %err, "cannot remove pid file");
        }
    }
    result.context("server").map_err(fail(exit::OSERR))
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
