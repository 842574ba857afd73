//! `dhcpd-pxe`: the command line, configuration, `explain`, and the daemon around
//! the `dhcp-server` core.

#![warn(missing_docs)]

pub mod check;
pub mod cli;
pub mod config;
pub mod daemon;
pub mod dhcpv6;
pub mod explain;
mod host;
pub mod leases;
pub mod location;
pub mod metrics;
pub mod packet;
pub mod quick;
pub mod values;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Parser;

use crate::cli::{Cli, Command};

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
            let packets = packet::read(&data).with_context(|| format!("{}", a.packet.display()))?;
            print!("{}", explain::explain(&settings, &packets, a.local));
            Ok(())
        }
        Some(Command::Leases(a)) => {
            print!("{}", leases::run(&a)?);
            Ok(())
        }
        None => daemon::serve(&cli.config, cli.metrics),
    }
}
