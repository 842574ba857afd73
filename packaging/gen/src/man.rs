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
        // Exit status and files are the program's: point there.
        text.push_str(&format!(
            ".SH \"EXIT STATUS\"\nAs for\n.BR {0} ({1}).\n.SH \"SEE ALSO\"\n.BR {0} ({1})\n",
            program.name, program.section
        ));
        out.push((dir.join(man.get_filename()), text));
    }
    Ok(out)
}

fn page(cmd: clap::Command, section: &str) -> Man {
    Man::new(cmd)
        .section(section)
        .date(date())
        .source(format!("netboot {}", env!("CARGO_PKG_VERSION")))
        .manual(if section == "8" {
            "System Manager's Manual"
        } else {
            "User Commands"
        })
}

/// The page date, `YYYY-MM-DD`: `SOURCE_DATE_EPOCH` (reproducible builds) or now.
/// (An empty date would shift the `.TH` arguments: roff drops empty ones.)
fn date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        });
    let (y, m, d) = civil_from_days(secs / 86_400);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::civil_from_days;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_787), (2026, 11, 30));
    }
}
