//! `in.tftpd` command line (tftp-hpa 5.2, and the options tftp-hpa 6.0
//! added), parsed into a [`Config`].
//!
//! Short flags combine as with getopt (`-vvv`, `-sv /dir`, `-a127.0.0.1:69`),
//! long forms take `--opt value` or `--opt=value` and may be abbreviated while
//! unambiguous (getopt_long). Values are checked as tftp-hpa checks them; a bad
//! value or an unknown flag exits with status 64 (`EX_USAGE`, what tftp-hpa
//! uses for bad values; tftp-hpa itself only warns about an unknown flag).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};
use tftp::options::{DEFAULT_MAX_WINDOW_BYTES, MAX_BLKSIZE, OPTION_NAMES, UTIMEOUT_MICROS};
use tftp::packet::DEFAULT_BLKSIZE;

use crate::address::{default_listen, parse_port};
pub use crate::address::{listen_addrs, Family};
use crate::exit;

/// tftp-hpa 6.0's largest `-W` (`MAX_MAX_WINDOWSIZE`); larger values are
/// capped to it with a warning.
pub const MAX_WINDOWSIZE_FLAG: u16 = 32768;

#[derive(Debug, Parser)]
#[command(
    name = "tftpd",
    about = "TFTP server, command-line compatible with tftp-hpa's in.tftpd",
    disable_version_flag = true,
    disable_help_flag = true,
    infer_long_args = true
)]
struct Args {
    /// Standalone: listen on a socket instead of inetd's fd 0.
    #[arg(short = 'l', long = "listen")]
    listen: bool,
    /// Standalone in the foreground (implies -l).
    #[arg(short = 'L', long = "foreground")]
    foreground: bool,
    /// Listen address `[addr][:port]`, IPv6 in brackets; repeatable.
    #[arg(short = 'a', long = "address", action = ArgAction::Append, value_name = "[addr][:port]")]
    address: Vec<String>,
    /// Serve the one directory argument as the root (chroot in tftp-hpa).
    #[arg(short = 's', long = "secure", visible_alias = "chroot")]
    secure: bool,
    /// Write requests may create new files.
    #[arg(short = 'c', long = "create")]
    create: bool,
    /// Skip the world-readable / world-writable checks.
    #[arg(short = 'p', long = "permissive")]
    permissive: bool,
    /// Umask for new files (octal).
    #[arg(short = 'U', long = "umask", value_name = "umask")]
    umask: Option<String>,
    /// User to run as (default nobody).
    #[arg(short = 'u', long = "user", value_name = "user")]
    user: Option<String>,
    /// inetd mode: exit after this many idle seconds (default 900).
    #[arg(short = 't', long = "timeout", value_name = "secs")]
    timeout: Option<String>,
    /// Initial retransmission timeout in microseconds (10000-255000000).
    #[arg(short = 'T', long = "retransmit", value_name = "µs")]
    retransmit: Option<String>,
    /// Refuse an option (blksize, tsize, timeout, ...); repeatable.
    #[arg(short = 'r', long = "refuse", action = ArgAction::Append, value_name = "option")]
    refuse: Vec<String>,
    /// Largest block size granted (512-65464).
    #[arg(short = 'B', long = "blocksize", value_name = "max")]
    blocksize: Option<String>,
    /// Largest window size granted (1-32768).
    #[arg(short = 'W', long = "windowsize", value_name = "max")]
    windowsize: Option<String>,
    /// Size of the shared file cache in MiB (0: off).
    #[arg(long = "cache-size", value_name = "MiB")]
    cache_size: Option<String>,
    /// Local port range for transfers, `lo:hi`.
    #[arg(
        short = 'R',
        long = "port-range",
        visible_alias = "ports",
        value_name = "lo:hi"
    )]
    port_range: Option<String>,
    /// More logging; repeatable.
    #[arg(short = 'v', long = "verbose", action = ArgAction::Count)]
    verbose: u8,
    /// Set the logging level directly.
    #[arg(long = "verbosity", value_name = "n")]
    verbosity: Option<u8>,
    /// Print the version and exit.
    #[arg(short = 'V', long = "version")]
    version: bool,
    /// IPv4 only (the last of -4 / -6 wins).
    #[arg(short = '4', long = "ipv4", overrides_with = "ipv6")]
    ipv4: bool,
    /// IPv6 only (the last of -4 / -6 wins).
    #[arg(short = '6', long = "ipv6", overrides_with = "ipv4")]
    ipv6: bool,
    /// Write the process id to this file (standalone only).
    #[arg(short = 'P', long = "pidfile", value_name = "file")]
    pidfile: Option<PathBuf>,
    /// Remap rules file.
    #[arg(short = 'm', long = "map-file", action = ArgAction::Append, value_name = "file")]
    map_file: Vec<PathBuf>,
    /// Print what names map to (with -m): FILE of names (tftp-hpa 6.0), or
    /// without FILE `[G|P] [address] name` lines from stdin.
    #[arg(long = "map-test", value_name = "file", num_args = 0..=1, default_missing_value = "-")]
    map_test: Option<PathBuf>,
    /// Transfers running at once at most (default 512).
    #[arg(long = "max-transfers", value_name = "n")]
    max_transfers: Option<String>,
    /// Serve the counters for Prometheus on http://ADDR/metrics (long option only).
    #[arg(long = "metrics", value_name = "addr:port")]
    metrics: Option<SocketAddr>,
    /// Also serve the tree over HTTP/1.1 on ADDR (repeatable; long option only).
    #[arg(long = "http", value_name = "addr:port", action = ArgAction::Append)]
    http: Vec<SocketAddr>,
    /// Print help.
    #[arg(short = 'h', long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    // tftp-hpa 6.0's additions (see docs/tftpd.md).
    /// Largest window in bytes, blksize × windowsize (0: no cap; default 4 MiB).
    #[arg(long = "window-bytes", value_name = "bytes")]
    window_bytes: Option<String>,
    /// Acknowledge no option at all: every transfer is plain RFC 1350.
    #[arg(long = "reject-all")]
    reject_all: bool,
    /// Serve on the sockets systemd passes (LISTEN_FDS); implies -L.
    #[arg(long = "systemd")]
    systemd: bool,
    /// Port for `-a` addresses without one (a number or a service name).
    #[arg(
        short = 'S',
        long = "service",
        visible_alias = "port",
        value_name = "port"
    )]
    service: Option<String>,
    /// Remap rule steps per request before it fails (default 4096).
    #[arg(long = "map-steps", value_name = "steps")]
    map_steps: Option<String>,
    /// Log to stderr, never to syslog.
    #[arg(long = "stderr")]
    stderr: bool,
    /// Directory to serve.
    #[arg(value_name = "directory")]
    dirs: Vec<PathBuf>,
}

/// Everything the command line says, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `-l` or `-L`: standalone; otherwise inetd mode (fd 0).
    pub standalone: bool,
    /// `-L`: stay in the foreground.
    pub foreground: bool,
    /// The sockets to bind (standalone), from `-a` or the default `*:69`.
    pub listen: Vec<SocketAddr>,
    /// `-s`: serve `dirs[0]` as the root.
    pub secure: bool,
    /// Positional directories.
    pub dirs: Vec<PathBuf>,
    /// `-c`.
    pub create: bool,
    /// `-p`.
    pub permissive: bool,
    /// `-U`, when given.
    pub umask: Option<u32>,
    /// `-u`, when given.
    pub user: Option<String>,
    /// `-t`: inetd idle time (default 900 s).
    pub idle_timeout: Duration,
    /// `-T`, when given.
    pub retransmit: Option<Duration>,
    /// `-r`, lower case.
    pub refuse: Vec<String>,
    /// `-B`, when given.
    pub max_blksize: Option<u16>,
    /// `-W`, when given.
    pub max_windowsize: Option<u16>,
    /// `--cache-size` in bytes, when given.
    pub cache_size: Option<u64>,
    /// `-R`, when given.
    pub port_range: Option<(u16, u16)>,
    /// `-v` count, or `--verbosity`.
    pub verbosity: u8,
    /// `-4` / `-6`.
    pub family: Family,
    /// `-P`.
    pub pidfile: Option<PathBuf>,
    /// `-m`.
    pub map_file: Option<PathBuf>,
    /// `--map-test`: print what names map to, do not serve.
    pub map_test: Option<MapTest>,
    /// `--max-transfers`, when given.
    pub max_transfers: Option<usize>,
    // tftp-hpa 6.0's additions.
    /// `--window-bytes` (default 4 MiB); `None`: no cap (`--window-bytes 0`).
    pub max_window_bytes: Option<u64>,
    /// `--reject-all`: no option is acknowledged.
    pub reject_all: bool,
    /// `--systemd`: the sockets must come from `LISTEN_FDS`.
    pub systemd: bool,
    /// `--map-steps`, when given.
    pub map_steps: Option<usize>,
    /// `--stderr`: logs go to stderr in every mode.
    pub stderr: bool,
    /// Values accepted with a warning (tftp-hpa caps them), to print at start.
    pub warnings: Vec<String>,
    /// `--metrics`: the address of the Prometheus endpoint.
    pub metrics: Option<SocketAddr>,
    /// `--http`: addresses to serve the same tree on over HTTP.
    pub http: Vec<SocketAddr>,
}

/// Where `--map-test` reads names from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MapTest {
    /// `--map-test FILE` (tftp-hpa 6.0): one name per line; `-c` tests
    /// write requests, `-4`/`-6` the client's address family.
    File(PathBuf),
    /// `--map-test` alone (or `--map-test -`): `[G|P] [address] name` lines
    /// on stdin.
    Stdin,
}

/// What the command line asks for.
#[derive(Debug)]
pub enum Command {
    /// Serve.
    Run(Box<Config>),
    /// `-V`: print this and exit 0.
    Version(String),
    /// `--help`: print this and exit 0.
    Help(String),
}

/// A command line that cannot be used, with the exit status to use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct UsageError {
    /// What is wrong.
    pub message: String,
    /// The process exit status (sysexits).
    pub code: u8,
}

pub(crate) fn usage(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        code: exit::USAGE,
    }
}

/// The clap definition of the command line (for man pages and completions).
pub fn command() -> clap::Command {
    <Args as clap::CommandFactory>::command()
}

/// The `-V` text.
pub fn version_text() -> String {
    format!(
        "tftpd (netboot) {}, in.tftpd compatible (tftp-hpa 5.2 command line and 6.0's options), with remap, without tcpwrappers",
        env!("CARGO_PKG_VERSION")
    )
}

/// Parses `argv` (including the program name).
pub fn parse<I, T>(argv: I) -> Result<Command, UsageError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = match Args::try_parse_from(argv) {
        Ok(args) => args,
        Err(err) if err.kind() == clap::error::ErrorKind::DisplayHelp => {
            return Ok(Command::Help(err.render().to_string()))
        }
        Err(err) => return Err(usage(err.render().to_string().trim_end())),
    };
    if args.version {
        return Ok(Command::Version(version_text()));
    }
    config(args).map(|c| Command::Run(Box::new(c)))
}

fn config(args: Args) -> Result<Config, UsageError> {
    let family = match (args.ipv4, args.ipv6) {
        (true, _) => Family::V4,
        (_, true) => Family::V6,
        _ => Family::Any,
    };
    if args.secure && args.dirs.is_empty() {
        return Err(usage("no -s directory"));
    }
    if args.secure && args.dirs.len() > 1 {
        return Err(usage("too many -s directories"));
    }
    if args.map_file.len() > 1 {
        return Err(usage("Multiple -m options"));
    }
    if args.systemd && (args.listen || args.foreground || !args.address.is_empty()) {
        return Err(usage(
            "--systemd is mutually exclusive with the --address, --listen and --foreground options",
        ));
    }
    let port = match args.service.as_deref() {
        Some("") => return Err(usage("Missing service name")),
        Some(service) => parse_port(service)?,
        None => crate::address::TFTP_PORT,
    };
    let mut listen = Vec::new();
    for spec in &args.address {
        listen.extend(listen_addrs(spec, family, port)?);
    }
    if args.address.is_empty() {
        listen = default_listen(family, port);
    }
    let mut warnings = Vec::new();
    Ok(Config {
        standalone: args.listen || args.foreground,
        foreground: args.foreground,
        listen,
        secure: args.secure,
        dirs: args.dirs,
        create: args.create,
        permissive: args.permissive,
        umask: args.umask.as_deref().map(parse_umask).transpose()?,
        user: args.user,
        idle_timeout: Duration::from_secs(match args.timeout.as_deref() {
            Some(t) => number(t, "timeout")?,
            None => 900,
        }),
        retransmit: args
            .retransmit
            .as_deref()
            .map(parse_retransmit)
            .transpose()?,
        refuse: args
            .refuse
            .iter()
            .map(|r| parse_refuse(r))
            .collect::<Result<_, _>>()?,
        max_blksize: args.blocksize.as_deref().map(parse_blksize).transpose()?,
        max_windowsize: args
            .windowsize
            .as_deref()
            .map(|w| parse_windowsize(w, &mut warnings))
            .transpose()?,
        cache_size: args
            .cache_size
            .as_deref()
            .map(|t| {
                number(t, "cache size")?
                    .checked_mul(1 << 20)
                    .ok_or_else(|| usage(format!("Bad cache size value: {t}")))
            })
            .transpose()?,
        port_range: args
            .port_range
            .as_deref()
            .map(parse_port_range)
            .transpose()?,
        verbosity: args.verbosity.unwrap_or(args.verbose),
        family,
        pidfile: args.pidfile,
        map_file: args.map_file.into_iter().next(),
        map_test: args.map_test.map(|file| match file.as_os_str() == "-" {
            true => MapTest::Stdin,
            false => MapTest::File(file),
        }),
        max_transfers: args
            .max_transfers
            .as_deref()
            .map(parse_max_transfers)
            .transpose()?,
        max_window_bytes: match args.window_bytes.as_deref() {
            None => Some(DEFAULT_MAX_WINDOW_BYTES),
            Some(text) => match text.parse::<u64>() {
                Ok(0) => None,
                Ok(n) => Some(n),
                Err(_) => return Err(usage(format!("Bad window-bytes value: {text}"))),
            },
        },
        reject_all: args.reject_all,
        systemd: args.systemd,
        map_steps: args.map_steps.as_deref().map(parse_map_steps).transpose()?,
        stderr: args.stderr,
        warnings,
        metrics: args.metrics,
        http: args.http,
    })
}

fn number(text: &str, what: &str) -> Result<u64, UsageError> {
    text.parse()
        .map_err(|_| usage(format!("Bad {what} value: {text}")))
}

fn parse_max_transfers(text: &str) -> Result<usize, UsageError> {
    text.parse()
        .ok()
        .filter(|n| (1..=65_536).contains(n))
        .ok_or_else(|| {
            usage(format!(
                "Bad maximum transfers value (range 1-65536): {text}"
            ))
        })
}

fn parse_umask(text: &str) -> Result<u32, UsageError> {
    u32::from_str_radix(text, 8)
        .ok()
        .filter(|m| *m <= 0o7777)
        .ok_or_else(|| usage(format!("Invalid umask: {text}")))
}

fn parse_retransmit(text: &str) -> Result<Duration, UsageError> {
    match number(text, "timeout") {
        Ok(us) if UTIMEOUT_MICROS.contains(&us) => Ok(Duration::from_micros(us)),
        _ => Err(usage(format!("Bad timeout value: {text}"))),
    }
}

fn parse_blksize(text: &str) -> Result<u16, UsageError> {
    match text.parse::<u16>() {
        Ok(n) if (DEFAULT_BLKSIZE..=MAX_BLKSIZE).contains(&n) => Ok(n),
        _ => Err(usage(format!(
            "Bad maximum blocksize value (range {DEFAULT_BLKSIZE}-{MAX_BLKSIZE}): {text}"
        ))),
    }
}

/// tftp-hpa 6.0's `-W`: 0 counts as 1, above 32768 is capped with a warning.
fn parse_windowsize(text: &str, warnings: &mut Vec<String>) -> Result<u16, UsageError> {
    let n: u64 = text
        .parse()
        .map_err(|_| usage(format!("Invalid maximum windowsize value: {text}")))?;
    if n > u64::from(MAX_WINDOWSIZE_FLAG) {
        warnings.push(format!(
            "Bad maximum windowsize value: {text} (valid range 1-{MAX_WINDOWSIZE_FLAG}, capping at {MAX_WINDOWSIZE_FLAG})"
        ));
    }
    Ok(n.clamp(1, u64::from(MAX_WINDOWSIZE_FLAG)) as u16)
}

fn parse_map_steps(text: &str) -> Result<usize, UsageError> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=i32::MAX as usize).contains(n))
        .ok_or_else(|| usage(format!("Bad --map-steps option: {text}")))
}

fn parse_port_range(text: &str) -> Result<(u16, u16), UsageError> {
    let bad = || usage(format!("Bad port range: {text}"));
    let (lo, hi) = text.split_once(':').ok_or_else(bad)?;
    let lo: u16 = lo.trim().parse().map_err(|_| bad())?;
    let hi: u16 = hi.trim().parse().map_err(|_| bad())?;
    if lo > hi || hi == u16::MAX {
        return Err(bad());
    }
    Ok((lo, hi))
}

fn parse_refuse(text: &str) -> Result<String, UsageError> {
    let lower = text.to_ascii_lowercase();
    if OPTION_NAMES.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(usage(format!("Unknown option: {text}")))
    }
}
