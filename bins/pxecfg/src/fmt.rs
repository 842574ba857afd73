//! `pxecfg fmt`.

use std::io::{Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use pxelinux::format::format_bytes;

/// Format files in place (or stdin to stdout); with `check`, only report.
pub fn run(check: bool, files: &[String]) -> anyhow::Result<ExitCode> {
    let mut unformatted = 0usize;
    for file in files {
        let input = if file == "-" {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .context("reading stdin")?;
            b
        } else {
            std::fs::read(file).with_context(|| format!("{file}: cannot read"))?
        };
        let base = file.rsplit('/').next().unwrap_or(file);
        if file != "-" && bootcfg::lint::detect(base, &input).is_some() {
            anyhow::bail!(
                "{file}: an iPXE script or grub.cfg; `fmt` formats pxelinux.cfg files only"
            );
        }
        let output = format_bytes(&input);
        if check {
            if output != input {
                unformatted += 1;
                println!(
                    "{file}:{}: not in canonical form",
                    first_difference(&input, &output)
                );
            }
        } else if file == "-" {
            std::io::stdout()
                .write_all(&output)
                .context("writing stdout")?;
        } else if output != input {
            std::fs::write(file, &output).with_context(|| format!("{file}: cannot write"))?;
        }
    }
    Ok(if unformatted > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// The 1-based line where two texts first differ.
fn first_difference(a: &[u8], b: &[u8]) -> usize {
    let same = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    1 + a[..same].iter().filter(|&&c| c == b'\n').count()
}
