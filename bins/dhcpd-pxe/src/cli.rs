//! Command line: quick flags for one subnet, `--config FILE`, `--check`, and the
//! `explain`, `leases` and `db` subcommands.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// DHCP server and proxyDHCP for network boot.
#[derive(Debug, Parser)]
#[command(name = "dhcpd-pxe", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// What to do besides serving.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The configuration.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Check the configuration and exit: 0 valid, 1 not, errors as FILE:LINE:COLUMN.
    /// Binds no socket; the lease file is only read.
    #[arg(short = 't', long = "check")]
    pub check: bool,
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Serve the counters for Prometheus on http://ADDR/metrics.
    #[arg(long, value_name = "ADDR:PORT")]
    pub metrics: Option<std::net::SocketAddr>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// For each DHCP packet in a pcap or hex dump: the client, the rule that matched,
    /// and the reply that would be sent, field by field (or why none).
    Explain(Box<ExplainArgs>),
    /// Print the leases in the lease journal (read-only, safe while the daemon runs).
    Leases(Box<LeasesArgs>),
    /// The PostgreSQL lease store.
    #[command(subcommand)]
    Db(DbCommand),
}

/// `leases`' arguments.
#[derive(Debug, Args)]
pub struct LeasesArgs {
    /// The configuration (its `lease_file`, and its subnets for the subnet column);
    /// `--lease-file` alone is enough.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A JSON array, one object per address.
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// CSV in the columns of Kea's memfile lease file (docs/leases.md).
    #[arg(long)]
    pub csv: bool,
    /// The DHCPv6 lease file of `[dhcpv6] mode = "full"` instead (`--lease-file`
    /// then names that file).
    #[arg(long)]
    pub v6: bool,
}

/// `db` subcommands.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Creates the lease tables (or checks they are this version's); the daemon
    /// does the same at start.
    Init(DbArgs),
    /// Prints the SQL of the lease tables.
    Schema,
}

/// Which database: `--url`, else the configuration's `[lease_store] url`.
#[derive(Debug, Args)]
pub struct DbArgs {
    /// Connection string (`host=/run/postgresql dbname=dhcp`, `postgresql://...`).
    #[arg(long, value_name = "URL", conflicts_with = "config")]
    pub url: Option<String>,
    /// A configuration file with a `[lease_store]` table.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// `explain`'s arguments.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The configuration, as for serving.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// A pcap file, a hex dump, or one raw DHCP datagram.
    #[arg(long, value_name = "FILE")]
    pub packet: PathBuf,
    /// The server address the packets arrive at (default: --tftp-server, else the
    /// subnet's first address).
    #[arg(long, value_name = "IP")]
    pub local: Option<Ipv4Addr>,
}

/// Where the configuration comes from: a file, or quick flags for one subnet.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// TOML configuration file (see docs/dhcpd-pxe-config.md); conflicts with the quick flags.
    #[arg(short = 'c', long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// proxyDHCP: no addresses, boot information for PXE clients only.
    #[arg(long)]
    pub proxy: bool,
    /// Interface to serve (repeatable).
    #[arg(long = "interface", short = 'i', value_name = "IF")]
    pub interfaces: Vec<String>,
    /// Dynamic range A-B (DHCP clients only, unless --bootp).
    #[arg(long, value_name = "A-B")]
    pub range: Option<String>,
    /// BOOTP clients get addresses from --range too (ISC `range dynamic-bootp`).
    #[arg(long)]
    pub bootp: bool,
    /// BOOTP lease length: seconds, 30s, 10m, 12h, 1d, or "infinite" (default 1d).
    #[arg(long, value_name = "DUR", requires = "bootp")]
    pub bootp_lease_time: Option<String>,
    /// The subnet (default: the interface's address and prefix, else the /24 of the range).
    #[arg(long, value_name = "CIDR")]
    pub subnet: Option<String>,
    /// Option 3 (repeatable).
    #[arg(long = "router", value_name = "IP")]
    pub routers: Vec<Ipv4Addr>,
    /// Option 6 (repeatable).
    #[arg(long = "dns", value_name = "IP")]
    pub dns: Vec<Ipv4Addr>,
    /// Lease time: seconds or 30s, 10m, 12h, 1d.
    #[arg(long, value_name = "DUR")]
    pub lease_time: Option<String>,
    /// Boot file for a client class (bios, efi-ia32, efi-x64, efi-arm64, ipxe, http-x64, http-arm64) or, bare, for all.
    #[arg(long = "boot-file", value_name = "[CLASS=]FILE")]
    pub boot_files: Vec<String>,
    /// The TFTP server (siaddr, next-server).
    #[arg(long, value_name = "IP")]
    pub tftp_server: Option<Ipv4Addr>,
    /// The lease journal (full mode).
    #[arg(long, value_name = "PATH")]
    pub lease_file: Option<PathBuf>,
    /// Leave option 43 out of proxy OFFERs to UEFI clients so they ask on port 4011.
    #[arg(long)]
    pub uefi_via_4011: bool,
}
