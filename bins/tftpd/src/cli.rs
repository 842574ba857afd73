//! `in.tftpd` command line (tftp-hpa 5.2), parsed into a [`Config`].
//!
//! Short flags combine as with getopt (`-vvv`, `-sv /dir`, `-a127.0.0.1:69`),
//! long forms take `--opt value` or `--opt=value` and may be abbreviated while
//! unambiguous (getopt_long). Values are checked as tftp-hpa checks them; a bad
//! value or an unknown flag exits with status 64 (`EX_USAGE`, what tftp-hpa
//! uses for bad values; tftp-hpa itself only warns about an unknown flag).

use std::ffi::OsString;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Parser};

use crate::exit;

/// tftp-hpa's `MAX_SEGSIZE`: the largest block size of RFC 2348.
pub const MAX_BLKSIZE: u16 = 65464;
/// Options `-r` may refuse: tftp-hpa's table, plus `windowsize` (RFC 7440).
pub const REFUSABLE: &[&str] = &[
    "blksize",
    "blksize2",
    "tsize",
    "timeout",
    "utimeout",
    "rollover",
    "windowsize",
];

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
    /// Largest window size granted (1-65535).
    #[arg(short = 'W', long = "windowsize", value_name = "max")]
    windowsize: Option<String>,
    /// Size of the shared file cache in MiB (0: off).
    #[arg(long = "cache-size", value_name = "MiB")]
    cache_size: Option<String>,
    /// Local port range for transfers, `lo:hi`.
    #[arg(short = 'R', long = "port-range", value_name = "lo:hi")]
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
    /// Read `[G|P] [address] name` lines from stdin, print what each maps to (with -m).
    #[arg(long = "map-test")]
    map_test: bool,
    /// Transfers running at once at most (default 512).
    #[arg(long = "max-transfers", value_name = "n")]
    max_transfers: Option<String>,
    /// Serve the counters for Prometheus on http://ADDR/metrics (long option only).
    #[arg(long = "metrics", value_name = "addr:port")]
    metrics: Option<SocketAddr>,
    /// Print help.
    #[arg(long = "help", action = ArgAction::Help)]
    help: Option<bool>,
    /// Directory to serve.
    #[arg(value_name = "directory")]
    dirs: Vec<PathBuf>,
}

/// Address families allowed by `-4` / `-6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Neither flag: both.
    Any,
    /// `-4`.
    V4,
    /// `-6`.
    V6,
}

impl Family {
    fn allows(self, ip: IpAddr) -> bool {
        match self {
            Self::Any => true,
            Self::V4 => ip.is_ipv4(),
            Self::V6 => ip.is_ipv6(),
        }
    }
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
    pub map_test: bool,
    /// `--max-transfers`, when given.
    pub max_transfers: Option<usize>,
    /// `--metrics`: the address of the Prometheus endpoint.
    pub metrics: Option<SocketAddr>,
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

fn usage(message: impl Into<String>) -> UsageError {
    UsageError {
        message: message.into(),
        code: exit::USAGE,
    }
}

/// The `-V` text.
pub fn version_text() -> String {
    format!(
        "tftpd (netboot) {}, in.tftpd compatible (tftp-hpa 5.2 command line), with remap, without tcpwrappers",
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
    let mut listen = Vec::new();
    for spec in &args.address {
        listen.extend(listen_addrs(spec, family)?);
    }
    if args.address.is_empty() {
        listen = default_listen(family, 69);
    }
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
            .map(parse_windowsize)
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
        map_test: args.map_test,
        max_transfers: args
            .max_transfers
            .as_deref()
            .map(parse_max_transfers)
            .transpose()?,
        metrics: args.metrics,
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
        Ok(us @ 10_000..=255_000_000) => Ok(Duration::from_micros(us)),
        _ => Err(usage(format!("Bad timeout value: {text}"))),
    }
}

fn parse_blksize(text: &str) -> Result<u16, UsageError> {
    match text.parse::<u32>() {
        Ok(n @ 512..=65464) => Ok(n as u16),
        _ => Err(usage(format!(
            "Bad maximum blocksize value (range 512-{MAX_BLKSIZE}): {text}"
        ))),
    }
}

fn parse_windowsize(text: &str) -> Result<u16, UsageError> {
    match text.parse::<u16>() {
        Ok(n @ 1..) => Ok(n),
        _ => Err(usage(format!(
            "Bad maximum window size (range 1-65535): {text}"
        ))),
    }
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
    if REFUSABLE.contains(&lower.as_str()) {
        Ok(lower)
    } else {
        Err(usage(format!("Unknown option: {text}")))
    }
}

fn default_listen(family: Family, port: u16) -> Vec<SocketAddr> {
    [
        IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    ]
    .into_iter()
    .filter(|ip| family.allows(*ip))
    .map(|ip| SocketAddr::new(ip, port))
    .collect()
}

/// Parses one `-a [addr][:port]` like tftp-hpa's `split_port`: IPv6 in
/// brackets, the port after the last colon (a number or `tftp`), a missing
/// address means the wildcard of each allowed family, a host name is resolved.
pub fn listen_addrs(spec: &str, family: Family) -> Result<Vec<SocketAddr>, UsageError> {
    let (host, port) = if let Some(rest) = spec.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| usage(format!("Bad address: {spec}")))?;
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(usage(format!("Bad address: {spec}"))),
            },
        }
    } else if spec.matches(':').count() > 1 {
        return Err(usage("Numeric IPv6 addresses need to be enclosed in []"));
    } else {
        match spec.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (spec, None),
        }
    };
    let port = match port {
        None | Some("") | Some("tftp") => 69,
        Some(p) => match p.parse::<u16>() {
            Ok(n @ 1..) => n,
            _ => {
                return Err(UsageError {
                    message: format!("cannot resolve local bind port: {p}"),
                    code: exit::NOINPUT,
                })
            }
        },
    };
    if host.is_empty() {
        return Ok(default_listen(family, port));
    }
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) if spec.starts_with('[') => return Err(usage(format!("Bad IPv6 address: {host}"))),
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|err| UsageError {
                message: format!("cannot resolve local bind address: {host}, {err}"),
                code: exit::NOINPUT,
            })?
            .collect(),
    };
    let mut allowed: Vec<SocketAddr> = Vec::new();
    for addr in addrs {
        if family.allows(addr.ip()) && !allowed.contains(&addr) {
            allowed.push(addr);
        }
    }
    if allowed.is_empty() {
        let fam = if family == Family::V4 {
            "AF_INET"
        } else {
            "AF_INET6"
        };
        return Err(usage(format!(
            "Address {host} is not in address family {fam}"
        )));
    }
    Ok(allowed)
}
