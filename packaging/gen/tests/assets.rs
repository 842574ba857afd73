//! The generated assets: every page renders with `man` without a warning,
//! every option of every clap definition is on its page and in its bash
//! completion, and dhcpd-pxe.toml(5) lists exactly the keys the config
//! loader accepts.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../../tests/support/skip.rs"]
mod support_skip;
use support_skip::skip;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn generated() -> (tempfile::TempDir, Vec<PathBuf>) {
    let dir = tempfile::tempdir().unwrap();
    let files = netboot_gen::write_all(dir.path()).unwrap();
    (dir, files)
}

fn pages(files: &[PathBuf]) -> Vec<&PathBuf> {
    files
        .iter()
        .filter(|f| f.components().any(|c| c.as_os_str() == "man"))
        .collect()
}

#[test]
fn every_page_renders_without_warnings() {
    if !have("man") {
        return skip("every_page_renders_without_warnings", "no man (man-db)");
    }
    let (_dir, files) = generated();
    let pages = pages(&files);
    // tftpd, dhcpd-pxe, pxecfg, the config page, and at least one subcommand page.
    assert!(pages.len() >= 5, "{pages:?}");
    for page in pages {
        // The check Debian's lintian runs on every page.
        let out = Command::new("man")
            .args(["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z"])
            .arg(page)
            .env("LC_ALL", "C.UTF-8")
            .env("MANROFFSEQ", "")
            .env("MANWIDTH", "80")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{}: {stderr}", page.display());
        assert!(stderr.trim().is_empty(), "{}: {stderr}", page.display());
        assert!(
            out.stdout.len() > 200,
            "{}: rendered nearly empty",
            page.display()
        );
    }
}

#[test]
fn pages_hold_what_the_program_does_its_options_exit_status_files_and_see_also() {
    let (dir, _files) = generated();
    for program in netboot_gen::programs() {
        let path = dir
            .path()
            .join(format!("man/man{0}/{1}.{0}", program.section, program.name));
        let page = std::fs::read_to_string(&path).unwrap();
        // Title, section, date, source, manual: none empty (roff drops empty
        // arguments, which would shift the rest).
        let th = page.lines().find(|l| l.starts_with(".TH ")).unwrap();
        assert!(
            th.starts_with(&format!(".TH {} {} 2", program.name, program.section))
                && th.contains(" \"netboot "),
            "{th}"
        );
        for heading in [
            ".SH NAME",
            ".SH SYNOPSIS",
            ".SH DESCRIPTION",
            ".SH \"EXIT STATUS\"",
            ".SH FILES",
            ".SH \"SEE ALSO\"",
        ] {
            assert!(page.contains(heading), "{}: no {heading}", path.display());
        }
        let mut cmd = program.command.clone().disable_help_subcommand(true);
        cmd.build();
        let longs: Vec<_> = cmd.get_arguments().filter_map(|a| a.get_long()).collect();
        assert!(!longs.is_empty(), "{}", program.name);
        let bash = std::fs::read_to_string(dir.path().join("completions/bash").join(program.name))
            .unwrap();
        for long in longs {
            let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
            assert!(
                page.contains(&roff),
                "{}: --{long} not on the page",
                program.name
            );
            assert!(
                bash.contains(&format!("--{long}")),
                "{}: --{long} not completed",
                program.name
            );
        }
        for sub in cmd.get_subcommands() {
            let file = dir.path().join(format!(
                "man/man{0}/{1}-{2}.{0}",
                program.section,
                program.name,
                sub.get_name()
            ));
            assert!(
                file.exists(),
                "no page for {} {}",
                program.name,
                sub.get_name()
            );
        }
    }
}

#[test]
fn completions_are_valid_shell() {
    let (dir, _files) = generated();
    let mut checked = 0;
    for (shell, sub) in [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish")] {
        if !have(shell) {
            // Only bash is required: zsh and fish are not on every machine.
            assert!(shell != "bash", "no bash");
            eprintln!(
                "completions_are_valid_shell: {shell} not installed, its scripts not checked"
            );
            continue;
        }
        for entry in std::fs::read_dir(dir.path().join("completions").join(sub)).unwrap() {
            let path = entry.unwrap().path();
            let out = Command::new(shell).arg("-n").arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "{shell} -n {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 3);
}

/// Field names of the `deny_unknown_fields` structs of the config loader.
fn accepted_keys(source: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let mut lines = source.lines();
    while let Some(line) = lines.next() {
        if !line.contains("deny_unknown_fields") {
            continue;
        }
        for line in lines.by_ref() {
            let line = line.trim();
            if line == "}" {
                break;
            }
            if line.starts_with("#") || line.starts_with("//") || line.contains(" struct ") {
                continue;
            }
            if let Some((name, _)) = line.split_once(':') {
                keys.insert(name.trim_start_matches("pub ").trim().to_owned());
            }
        }
    }
    keys
}

/// Keys the page documents: `.TP` items in bold, and the last part of each
/// table heading (`.SS "[[subnet.option]]"` documents `subnet` and `option`).
fn documented_keys(page: &str) -> BTreeSet<String> {
    let mut keys = BTreeSet::new();
    let lines: Vec<&str> = page.lines().collect();
    for pair in lines.windows(2) {
        if pair[0] == ".TP" {
            if let Some(key) = pair[1].strip_prefix(".B ") {
                if key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    keys.insert(key.to_owned());
                }
            }
        }
    }
    for line in &lines {
        if let Some(heading) = line.strip_prefix(".SS ") {
            for part in heading.split(|c: char| {
                !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.')
            }) {
                keys.extend(part.split('.').filter(|k| !k.is_empty()).map(str::to_owned));
            }
        }
    }
    keys.retain(|k| k != "and");
    keys
}

#[test]
fn config_page_lists_exactly_the_keys_the_loader_accepts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    // Every module of the loader: [dhcpv6], [[host]] and others have their own.
    let mut accepted = BTreeSet::new();
    for entry in std::fs::read_dir(root.join("bins/dhcpd-pxe/src")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            accepted.extend(accepted_keys(&std::fs::read_to_string(path).unwrap()));
        }
    }
    assert!(
        accepted.contains("lease_file") && accepted.contains("network"),
        "{accepted:?}"
    );
    let documented = documented_keys(netboot_gen::CONFIG_PAGE.1);
    let missing: Vec<_> = accepted.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&accepted).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "dhcpd-pxe.toml.5 misses {missing:?} and documents unknown {extra:?}"
    );
}

fn packaging_file(path: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::read_to_string(root.join(path)).unwrap()
}

/// The value of `Key=` in a unit file (the first one).
fn unit_value<'a>(unit: &'a str, key: &str) -> &'a str {
    unit.lines()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .unwrap_or_else(|| panic!("no {key}= in the unit"))
}

#[test]
fn packaged_dhcpd_config_loads_and_keeps_leases_in_the_state_directory() {
    let unit = packaging_file("systemd/dhcpd-pxe.service");
    let exec = unit_value(&unit, "ExecStart");
    let config = exec
        .split_whitespace()
        .skip_while(|w| *w != "--config")
        .nth(1)
        .expect("ExecStart has --config FILE");
    assert_eq!(config, "/etc/netboot/dhcpd-pxe.toml");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../etc/dhcpd-pxe.toml");
    let settings = dhcpd_pxe::config::from_file(&path).unwrap();
    let state = format!("/var/lib/{}/", unit_value(&unit, "StateDirectory"));
    let lease_file = settings.lease_file.expect("full mode has a lease file");
    assert!(
        lease_file.starts_with(&state),
        "{} is outside {state}",
        lease_file.display()
    );
}

#[test]
fn tftpd_unit_uses_every_variable_of_etc_default_tftpd() {
    let unit = packaging_file("systemd/tftpd.service");
    assert_eq!(unit_value(&unit, "EnvironmentFile"), "/etc/default/tftpd");
    let exec = unit_value(&unit, "ExecStart");
    let defaults = packaging_file("default/tftpd");
    let vars: Vec<&str> = defaults
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once('=').map(|(k, _)| k))
        .collect();
    assert_eq!(
        vars,
        [
            "TFTP_USERNAME",
            "TFTP_DIRECTORY",
            "TFTP_ADDRESS",
            "TFTP_OPTIONS"
        ]
    );
    for var in vars {
        assert!(
            exec.contains(&format!("${var}")) || exec.contains(&format!("${{{var}}}")),
            "{var} unused: {exec}"
        );
    }
}
