//! `pxecfg`: lint, format, explain and generate pxelinux.cfg files.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match pxecfg::run(pxecfg::cli::Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pxecfg: {e:#}");
            ExitCode::from(2)
        }
    }
}
