//! `netboot-gen OUT_DIR`: writes the man pages and shell completions of
//! `tftpd`, `dhcpd-pxe` and `pxecfg` under OUT_DIR (see [`netboot_gen`]).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let out = std::env::args_os()
        .nth(1)
        .map_or_else(|| PathBuf::from("target/assets"), PathBuf::from);
    match netboot_gen::write_all(&out) {
        Ok(files) => {
            println!("wrote {} files under {}", files.len(), out.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("netboot-gen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
