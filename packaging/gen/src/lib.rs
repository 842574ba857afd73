//! The assets built from the programs' clap definitions: man pages and shell
//! completions, written under one directory (`make` writes
//! `target/release/assets`) that `make install` installs from, and so the
//! Debian package (`make deb`; `[package.metadata.deb]` in this crate's
//! `Cargo.toml`):
//!
//! ```text
//! OUT/man/man8/tftpd.8  dhcpd-pxe.8  dhcpd-pxe-SUBCOMMAND.8
//! OUT/man/man1/pxecfg.1  pxecfg-SUBCOMMAND.1
//! OUT/man/man5/dhcpd-pxe.toml.5          (copied from packaging/man/)
//! OUT/completions/bash/NAME  zsh/_NAME  fish/NAME.fish
//! ```
//!
//! Options and subcommands come from clap at build time; the prose around
//! them (description, exit status, files, see also) is roff in
//! `packaging/man/NAME.SECTION.roff`.
#![warn(missing_docs)]

pub mod completion;
pub mod man;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// One program: its clap definition, its man section, and the hand-written
/// roff around the generated options.
#[derive(Debug)]
pub struct Program {
    /// The installed name (`tftpd`).
    pub name: &'static str,
    /// The man section (`8` for daemons, `1` for user commands).
    pub section: &'static str,
    /// The command line definition.
    pub command: clap::Command,
    /// `packaging/man/NAME.SECTION.roff`.
    pub prose: &'static str,
}

/// The three programs, each with its prose.
pub fn programs() -> Vec<Program> {
    vec![
        Program {
            name: "tftpd",
            section: "8",
            command: tftpd::command(),
            prose: include_str!("../../man/tftpd.8.roff"),
        },
        Program {
            name: "dhcpd-pxe",
            section: "8",
            command: dhcpd_pxe::command(),
            prose: include_str!("../../man/dhcpd-pxe.8.roff"),
        },
        Program {
            name: "pxecfg",
            section: "1",
            command: pxecfg::command(),
            prose: include_str!("../../man/pxecfg.1.roff"),
        },
    ]
}

/// The configuration file format page, written by hand (no clap definition).
pub const CONFIG_PAGE: (&str, &str) = (
    "dhcpd-pxe.toml.5",
    include_str!("../../man/dhcpd-pxe.toml.5"),
);

/// Writes every man page and completion under `out`; returns the files written.
pub fn write_all(out: &Path) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    for program in programs() {
        for (file, text) in man::pages(&program)? {
            written.push(write(&out.join("man").join(file), text.as_bytes())?);
        }
        for (file, text) in completion::scripts(&program) {
            written.push(write(&out.join("completions").join(file), &text)?);
        }
    }
    let (name, text) = CONFIG_PAGE;
    written.push(write(&out.join("man/man5").join(name), text.as_bytes())?);
    Ok(written)
}

fn write(path: &Path, bytes: &[u8]) -> Result<PathBuf> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))?;
    Ok(path.to_owned())
}
