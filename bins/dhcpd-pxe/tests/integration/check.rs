//! `dhcpd-pxe --check` / `-t`: every shipped and documented configuration passes,
//! bad values fail with exit 1 at their FILE:LINE:COLUMN, and nothing is written.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn check(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dhcpd-pxe"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Every `dhcpd-pxe` TOML: the examples and each ```toml block of the docs that show one.
fn shipped_configs(dir: &Path) -> Vec<(String, PathBuf)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for e in std::fs::read_dir(root.join("examples")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            out.push((p.display().to_string(), p));
        }
    }
    for name in ["dhcpd-pxe-config.md", "instead-of-isc-dhcpd.md"] {
        let doc = std::fs::read_to_string(root.join("../../docs").join(name)).unwrap();
        for (i, block) in doc.split("```toml\n").skip(1).enumerate() {
            let p = dir.join(format!("{name}-{i}.toml"));
            std::fs::write(&p, block.split("```").next().unwrap()).unwrap();
            out.push((format!("{name} block {i}"), p));
        }
    }
    out
}

#[test]
fn every_shipped_and_documented_config_passes_the_check() {
    let dir = tempfile::tempdir().unwrap();
    let configs = shipped_configs(dir.path());
    assert!(configs.len() >= 9, "only {} configs found", configs.len());
    for (name, path) in &configs {
        for flag in ["-t", "--check"] {
            let out = check(&[flag, "-c", path.to_str().unwrap()]);
            assert!(out.status.success(), "{name}: {}", text(&out.stderr));
            assert!(
                text(&out.stdout).starts_with("configuration OK: "),
                "{name}"
            );
        }
    }
}

#[test]
fn a_bad_value_fails_the_check_at_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    let leases = dir.path().join("leases");
    let head = format!(
        "lease_file = {:?}\n\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"192.0.2.10-192.0.2.20\"]\nrouters = [\"192.0.2.1\"]\ndns = [\"192.0.2.1\"]\n\n",
        leases.display()
    );
    for (tail, want) in [
        (
            "lease_time = \"10x\"\n",
            "9:14: subnet 192.0.2.0/24: bad duration \"10x\": unknown time unit",
        ),
        ("max_lease_time = -1\n", "9:18: "),
        (
            "fresh_lease_cap = 101\n",
            "9:19: subnet 192.0.2.0/24: fresh_lease_cap = 101",
        ),
        (
            "interface = 7\n",
            "9:13: invalid type: integer `7`, expected a string",
        ),
        ("lease_tme = 60\n", "9:1: unknown field `lease_tme`"),
    ] {
        std::fs::write(&p, format!("{head}{tail}")).unwrap();
        let out = check(&["-t", "-c", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{tail}");
        let err = text(&out.stderr);
        let first = err.lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("{}:{want}", p.display())),
            "{tail}: {err}"
        );
        assert!(out.stdout.is_empty());
    }
    // Quick flags are checked too.
    let out = check(&["-t", "--range", "192.0.2.10-192.0.2.5", "--lease-file", "l"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("ends before it starts"));
    assert!(!leases.exists(), "the check created the lease file");
}

#[test]
fn the_check_reads_the_lease_file_and_never_writes_it() {
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("leases");
    let args = |l: &Path| {
        vec![
            "-t".to_string(),
            "--range".into(),
            "192.0.2.10-192.0.2.20".into(),
            "--lease-file".into(),
            l.display().to_string(),
        ]
    };
    let run = |l: &Path| {
        let a = args(l);
        check(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    let out = run(&leases);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("(created at start)"));
    assert!(!leases.exists(), "the check created the lease file");
    // No socket: an interface that does not exist (serving would fail to bind to
    // it) does not fail the check, and neither does port 67 without root.
    let mut a = args(&leases);
    a.extend(["--interface".into(), "no-such-if0".into()]);
    let out = check(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Not a journal: the daemon would refuse it, so the check does.
    std::fs::write(&leases, "lease 192.0.2.10 {\n}\n").unwrap();
    let before = std::fs::read(&leases).unwrap();
    let out = run(&leases);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains(&leases.display().to_string()));
    assert_eq!(std::fs::read(&leases).unwrap(), before, "never rewritten");
}
