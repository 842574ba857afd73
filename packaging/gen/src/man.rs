//! Man pages: the title, NAME, SYNOPSIS, OPTIONS and SUBCOMMANDS sections
//! rendered by `clap_mangen` from the clap definition, around the prose of
//! `packaging/man/NAME.SECTION.roff`.
//!
//! The prose file holds a DESCRIPTION section, then the line
//! [`CLAP_MARKER`], then the closing sections (EXIT STATUS, FILES, SEE ALSO,
//! ...). Each subcommand gets a page of its own (`pxecfg-lint.1`), all
//! generated, pointing back at the program's page.

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap_mangen::Man;

use crate::Program;

/// The line in a prose file where the generated options and subcommands go.
pub const CLAP_MARKER: &str = ".\\\" @clap@";

/// `(path under man/, roff)` for the program and each of its subcommands.
pub fn pages(program: &Program) -> Result<Vec<(PathBuf, String)>> {
    let Some((description, closing)) = program.prose.split_once(CLAP_MARKER) else {
        bail!(
            "packaging/man/{}.{}.roff has no line {CLAP_MARKER}",
            program.name,
            program.section
        );
    };
    let mut cmd = program.command.clone().disable_help_subcommand(true);
    cmd.build();
    let dir = PathBuf::from(format!("man{}", program.section));
    let man = page(cmd.clone(), program.section);

    let mut text = Vec::new();
    man.render_title(&mut text)?;
    man.render_name_section(&mut text)?;
    man.render_synopsis_section(&mut text)?;
    text.extend_from_slice(description.trim_start_matches('\n').as_bytes());
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut text)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut text)?;
    }
    if cmd.get_after_help().is_some() || cmd.get_after_long_help().is_some() {
        man.render_extra_section(&mut text)?;
    }
    text.extend_from_slice(closing.trim_start_matches('\n').as_bytes());
    let mut out = vec![(dir.join(man.get_filename()), String::from_utf8(text)?)];

    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = page(sub.clone(), program.section);
        let mut text = Vec::new();
        man.render(&mut text)?;
        let mut text = String::from_utf8(text)?;
        text.push_str(&format!(
            ".SH \"SEE ALSO\"\n.BR {} ({})\n",
            program.name, program.section
        ));
        out.push((dir.join(man.get_filename()), text));
    }
    Ok(out)
}

fn page(cmd: clap::Command, section: &str) -> Man {
    Man::new(cmd)
        .section(section)
        .source(format!("netboot {}", env!("CARGO_PKG_VERSION")))
        .manual(if section == "8" {
            "System Manager's Manual"
        } else {
            "User Commands"
        })
}
