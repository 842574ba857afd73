//! The command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::inventory::Format;

/// Lint, format, explain and generate pxelinux.cfg files; generate and lint iPXE scripts and grub.cfg.
#[derive(Debug, Parser)]
#[command(name = "pxecfg", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Output format of `lint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One finding per paragraph: `file:line:col: severity[CODE name]: message` and a hint.
    Text,
    /// A JSON array of findings.
    Json,
}

/// Where the PXELINUX prefix comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct PrefixArgs {
    /// The PXELINUX path prefix (DHCP option 210), relative to the TFTP root.
    #[arg(long, conflicts_with = "boot_file")]
    pub prefix: Option<String>,
    /// The boot file name DHCP gives (`filename`); its directory is the prefix.
    #[arg(long)]
    pub boot_file: Option<String>,
}

/// The client a lookup is for.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// The client's MAC address (`52:54:00:12:34:56`).
    #[arg(long)]
    pub mac: String,
    /// The client's IPv4 address.
    #[arg(long)]
    pub ip: Option<String>,
    /// The client's UUID (DHCP option 97).
    #[arg(long)]
    pub uuid: Option<String>,
    /// DHCP option 209: a configuration file PXELINUX tries first.
    #[arg(long)]
    pub config_file: Option<String>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check pxelinux.cfg files, iPXE scripts (`#!ipxe`, `*.ipxe`) and grub.cfg
    /// files (`grub.cfg`, `grub.cfg-*`); exit 1 on errors (or warnings with --deny-warnings).
    Lint {
        /// The TFTP root: also check every file the configuration names.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Prefix options.
        #[command(flatten)]
        prefix: PrefixArgs,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
        /// Exit 1 on warnings too.
        #[arg(long)]
        deny_warnings: bool,
        /// The configuration files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Rewrite files in canonical form (`-`: stdin to stdout).
    Fmt {
        /// Do not write; exit 1 if a file is not in canonical form.
        #[arg(long)]
        check: bool,
        /// The files, or `-`.
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// The files PXELINUX requests for a client, in order.
    Which {
        /// Client identity.
        #[command(flatten)]
        client: ClientArgs,
        /// The TFTP root: show which files exist and which one loads.
        #[arg(long)]
        root: Option<PathBuf>,
        /// Prefix options.
        #[command(flatten)]
        prefix: PrefixArgs,
    },
    /// The menu a client sees and the command line of every entry.
    Explain {
        /// The TFTP root.
        #[arg(long)]
        root: PathBuf,
        /// Client identity.
        #[command(flatten)]
        client: ClientArgs,
        /// Prefix options.
        #[command(flatten)]
        prefix: PrefixArgs,
    },
    /// Write default and per-host files for PXELINUX, iPXE and GRUB from an inventory (TOML).
    Generate {
        /// The inventory file.
        inventory: PathBuf,
        /// The output directory (files go to OUT/pxelinux.cfg/, OUT/ipxe/, OUT/grub/).
        #[arg(long)]
        out: PathBuf,
        /// The loaders to write for, comma-separated (default: the inventory's
        /// `[output] formats`, else pxelinux).
        #[arg(long, value_enum, value_delimiter = ',')]
        format: Option<Vec<Format>>,
        /// Print what would be written, replaced and removed; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}
