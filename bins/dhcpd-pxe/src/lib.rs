//! `dhcpd-pxe`: the command line, configuration, `explain`, and the daemon around
//! the `dhcp-server` core.

#![warn(missing_docs)]

pub mod boot;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod explain;
pub mod lease_store;
pub mod packet;
pub mod quick;
pub mod values;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, DbCommand};

fn init_logs(verbose: u8) {
    let level = match verbose {
        0 => "info",
        1 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
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
            let packets = packet::read(&data).with_context(|| format!("{}", a.packet.display()))?;
            print!("{}", explain::explain(&settings, &packets, a.local));
            Ok(())
        }
        Some(Command::Db(c)) => db(&c),
        None => daemon::serve(&cli.config),
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
