//! The `pxecfg` command: a thin layer over the [`pxelinux`] and [`bootcfg`] crates.
//!
//! Exit statuses: 0 success, 1 findings / not formatted / nothing found,
//! 2 usage or I/O errors.
#![warn(missing_docs)]

pub mod apply;
pub mod cli;
pub mod fmt;
pub mod generate;
pub mod inventory;
pub mod lint;
pub mod loaders;
pub mod lookup;

use std::process::ExitCode;

use cli::{Cli, Command};

/// The clap definition of the command line (for man pages and completions).
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// Run one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Lint {
            root,
            prefix,
            format,
            deny_warnings,
            files,
        } => lint::run(root.as_deref(), &prefix, format, deny_warnings, &files),
        Command::Fmt { check, files } => fmt::run(check, &files),
        Command::Which {
            client,
            root,
            prefix,
        } => lookup::which(&client, root.as_deref(), &prefix),
        Command::Explain {
            root,
            client,
            prefix,
        } => lookup::explain(&root, &client, &prefix),
        Command::Generate {
            inventory,
            out,
            format,
            dry_run,
        } => apply::run(&inventory, &out, format, dry_run),
    }
}

/// The prefix from `--prefix` / `--boot-file`, if given.
pub(crate) fn prefix_of(p: &cli::PrefixArgs) -> Option<String> {
    p.prefix.clone().or_else(|| {
        p.boot_file
            .as_deref()
            .map(pxelinux::resolve::prefix_of_boot_file)
    })
}
