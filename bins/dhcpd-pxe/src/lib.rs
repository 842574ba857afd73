//! `dhcpd-pxe`: the command line, configuration, `explain`, and the daemon around
//! the `dhcp-server` core.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dhcpv6;
pub mod explain;
pub mod explain6;
mod host;
pub mod lease_store;
pub mod leases;
pub mod leases6;
pub mod location;
pub mod metrics;
pub mod packet;
pub mod quick;
pub mod values;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, Command, DbCommand};

/// stderr, or the journal with priorities under systemd; syslog (facility
/// daemon, as ISC dhcpd) when stderr is `/dev/null` and a syslog socket is
/// there ([`observe::logs`]). `DHCPD_PXE_SYSLOG_SOCKET` names another socket
/// than `/dev/log` (tests).
fn init_logs(verbose: u8) {
    use observe::logs::{init, stderr_is_null, Output};
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let path = std::env::var_os("DHCPD_PXE_SYSLOG_SOCKET")
        .unwrap_or_else(|| observe::syslog::DEV_LOG.into());
    let syslog = stderr_is_null()
        .then(|| observe::syslog::Syslog::connect("dhcpd-pxe", &path).ok())
        .flatten();
    let output = syslog.map_or(Output::Stderr, Output::Syslog);
    init("dhcpd-pxe", level, output);
}

/// The clap definition of the command line (for man pages and completions).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Runs the program with `args` (the first is the program name).
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    if cli.check {
        return match check::check(&cli.config) {
            Ok(summary) => {
                println!("{summary}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("{e:#}");
                ExitCode::FAILURE
            }
        };
    }
    init_logs(cli.verbose);
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dhcpd-pxe: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Some(Command::Explain(a)) => {
            let settings = quick::from_args(&a.config)?;
            let data = std::fs::read(&a.packet)
                .with_context(|| format!("reading {}", a.packet.display()))?;
            let v6 = explain6::read6(&data).unwrap_or_default();
            // A capture may hold both; a dump or datagram is one or the other.
            if v6.is_empty() || packet::is_capture(&data) {
                let packets =
                    packet::read(&data).with_context(|| format!("{}", a.packet.display()))?;
                if !packets.is_empty() || v6.is_empty() {
                    print!("{}", explain::explain(&settings, &packets, a.local));
                }
            }
            if !v6.is_empty() {
                let Some(d6) = &settings.dhcpv6 else {
                    anyhow::bail!(
                        "{}: DHCPv6 packets, and the configuration has no [dhcpv6] table",
                        a.packet.display()
                    );
                };
                // As the daemon: the first interface's address (:: when it has none here).
                let local = d6
                    .interfaces
                    .first()
                    .and_then(|i| netio::dhcp6::interface6(i).ok())
                    .and_then(|f| f.global.or(f.link_local))
                    .unwrap_or(std::net::Ipv6Addr::UNSPECIFIED);
                let leases = d6.lease_file_with(settings.lease_file.as_deref())?;
                print!("{}", explain6::explain6(d6, leases.as_deref(), &v6, local));
            }
            Ok(())
        }
        Some(Command::Leases(a)) => {
            if a.v6 {
                print!("{}", leases6::run6(&a)?);
            } else {
                print!("{}", leases::run(&a)?);
            }
            Ok(())
        }
        Some(Command::Db(c)) => db(&c),
        None => daemon::serve(&cli.config, cli.metrics),
    }
}

fn db(c: &DbCommand) -> Result<()> {
    use dhcp_server::store::{PgLeaseStore, SCHEMA_SQL, SCHEMA_VERSION};
    match c {
        DbCommand::Schema => {
            println!("-- dhcpd-pxe lease store, schema version {SCHEMA_VERSION}{SCHEMA_SQL}");
            Ok(())
        }
        DbCommand::Init(a) => {
            let url = match (&a.url, &a.config) {
                (Some(u), _) => u.clone(),
                (None, Some(p)) => {
                    config::from_file(p)?
                        .lease_db
                        .map(|o| o.url)
                        .with_context(|| {
                            format!("{}: no [lease_store] kind = \"postgres\"", p.display())
                        })?
                }
                (None, None) => anyhow::bail!("db init needs --url URL or --config FILE"),
            };
            match PgLeaseStore::init(&url)? {
                None => {
                    println!("created the lease tables (schema version {SCHEMA_VERSION})");
                }
                Some(v) if v == SCHEMA_VERSION => {
                    println!("the lease tables are there (schema version {v})");
                }
                Some(v) => {
                    println!(
                        "upgraded the lease tables from schema version {v} to {SCHEMA_VERSION}"
                    );
                }
            }
            Ok(())
        }
    }
}
