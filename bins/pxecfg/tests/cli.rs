//! End-to-end tests: run the built `pxecfg` binary and check exit codes and output.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn pxecfg(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pxecfg"))
        .args(args)
        .output()
        .expect("run pxecfg")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn write(dir: &Path, rel: &str, text: &str) -> String {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn which_prints_the_pxelinux_604_wire_sequence() {
    let o = pxecfg(&["which", "--mac", "52:54:00:12:34:56", "--ip", "192.0.2.157"]);
    assert_eq!(o.status.code(), Some(0));
    let want = "pxelinux.cfg/01-52-54-00-12-34-56\npxelinux.cfg/C000029D\npxelinux.cfg/C000029\npxelinux.cfg/C00002\npxelinux.cfg/C0000\npxelinux.cfg/C000\npxelinux.cfg/C00\npxelinux.cfg/C0\npxelinux.cfg/C\npxelinux.cfg/default\n";
    assert_eq!(stdout(&o), want);
}

#[test]
fn which_puts_the_uuid_first_and_marks_the_file_that_loads() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pxelinux.cfg/C0000", "DEFAULT x\n");
    let root = dir.path().to_str().unwrap();
    let uuid = "B8945908-D6A6-41A9-611D-74A6AB80B83D";
    let o = pxecfg(&[
        "which",
        "--mac",
        "52:54:00:12:34:56",
        "--ip",
        "192.0.2.157",
        "--uuid",
        uuid,
        "--root",
        root,
    ]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "pxelinux.cfg/b8945908-d6a6-41a9-611d-74a6ab80b83d\tmissing"
    );
    assert_eq!(lines[5], "pxelinux.cfg/C0000\texists, loads");
    assert_eq!(lines[6], "pxelinux.cfg/C000\tnot requested");
    let empty = tempfile::tempdir().unwrap();
    let o = pxecfg(&[
        "which",
        "--mac",
        "52:54:00:12:34:56",
        "--root",
        empty.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(pxecfg(&["which", "--mac", "nope"]).status.code(), Some(2));
}

#[test]
fn lint_exit_codes_follow_severity() {
    let dir = tempfile::tempdir().unwrap();
    let clean = write(
        dir.path(),
        "clean.cfg",
        "DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n",
    );
    let warn = write(
        dir.path(),
        "warn.cfg",
        "DEFAULT a\nTIMEOUT 5\nLABEL a\n  KERNEL vmlinuz\n",
    );
    let err = write(
        dir.path(),
        "err.cfg",
        "DEFAULT b\nLABEL a\n  KERNEL vmlinuz\n",
    );
    assert_eq!(pxecfg(&["lint", &clean]).status.code(), Some(0));
    assert_eq!(pxecfg(&["lint", &warn]).status.code(), Some(0));
    assert_eq!(
        pxecfg(&["lint", "--deny-warnings", &warn]).status.code(),
        Some(1)
    );
    let o = pxecfg(&["lint", &err]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).contains(&format!("{err}:1:9: error[PXL012 default-target-missing]")),
        "{}",
        stdout(&o)
    );
    let o = pxecfg(&["lint", &dir.path().join("absent.cfg").to_string_lossy()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("absent.cfg"));
}

#[test]
fn lint_json_has_codes_and_positions() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(dir.path(), "a.cfg", "LABEL a\n\tkernel vmlinuz # note\n");
    let o = pxecfg(&["lint", "--format", "json", &f]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let first = &v.as_array().unwrap()[0];
    assert_eq!(first["code"], "PXL021");
    assert_eq!(first["name"], "hash-in-argument");
    assert_eq!(first["severity"], "warning");
    assert_eq!(
        (first["line"].as_u64(), first["column"].as_u64()),
        (Some(2), Some(17))
    );
}

#[test]
fn lint_with_root_checks_files_and_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_str().unwrap();
    let cfg = write(
        dir.path(),
        "bios/pxelinux.cfg/01-52-54-00-AB-CD-EF",
        "DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n  INITRD initrd.img\n",
    );
    write(dir.path(), "bios/vmlinuz", "");
    write(dir.path(), "bios/ldlinux.c32", "");
    let o = pxecfg(&["lint", "--root", root, &cfg]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains(":4:10: error[PXL041 missing-initrd]: initrd `initrd.img` not found (TFTP path `bios/initrd.img`)"), "{out}");
    assert!(out.contains("PXL034 config-file-name"), "{out}");
    write(dir.path(), "bios/initrd.img", "");
    let o = pxecfg(&["lint", "--root", root, &cfg]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn fmt_check_rewrite_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let f = write(
        dir.path(),
        "a.cfg",
        "default a\r\n# the entry\nlabel a\n\tkernel vmlinuz  \n\n\n",
    );
    let o = pxecfg(&["fmt", "--check", &f]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("a.cfg:1: not in canonical form"));
    assert_eq!(pxecfg(&["fmt", &f]).status.code(), Some(0));
    let want = "DEFAULT a\n# the entry\nLABEL a\n    KERNEL vmlinuz\n";
    assert_eq!(std::fs::read_to_string(&f).unwrap(), want);
    assert_eq!(pxecfg(&["fmt", "--check", &f]).status.code(), Some(0));
    let mut child = Command::new(env!("CARGO_BIN_EXE_pxecfg"))
        .args(["fmt", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"label x\n  menu   label  X\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stdout(&o), "LABEL x\n    MENU LABEL X\n");
}

#[test]
fn explain_shows_menu_and_command_lines() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pxelinux.cfg/default",
        "UI menu.c32\nMENU TITLE Lab\nDEFAULT inst\nIPAPPEND 2\nLABEL local\n  LOCALBOOT 0\nLABEL inst\n  MENU LABEL ^Install\n  KERNEL linux\n  INITRD initrd.gz\n  APPEND auto=true\n",
    );
    let root = dir.path().to_str().unwrap();
    let o = pxecfg(&[
        "explain",
        "--root",
        root,
        "--mac",
        "52:54:00:12:34:56",
        "--ip",
        "192.0.2.157",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("menu (menu.c32): Lab"), "{out}");
    assert!(out.contains("entry inst: Install"), "{out}");
    let cmd = "BOOT_IMAGE=linux auto=true initrd=initrd.gz BOOTIF=01-52-54-00-12-34-56";
    assert!(
        out.contains(&format!("default: label `inst`\n    {cmd}")),
        "{out}"
    );
    write(
        dir.path(),
        "pxelinux.cfg/default",
        "DEFAULT menu.c32\nONTIMEOUT local\nLABEL local\n  LOCALBOOT 0\nLABEL x\n  KERNEL k\n",
    );
    let o = pxecfg(&["explain", "--root", root, "--mac", "52:54:00:12:34:56"]);
    assert!(
        stdout(&o).contains("on timeout: label `local`\n    .localboot 0\n"),
        "{}",
        stdout(&o)
    );
    let empty = tempfile::tempdir().unwrap();
    let o = pxecfg(&[
        "explain",
        "--root",
        empty.path().to_str().unwrap(),
        "--mac",
        "52:54:00:12:34:56",
    ]);
    assert_eq!(o.status.code(), Some(1));
}

const INVENTORY: &str = r#"
[menu]
title = "Lab"
default = "local"

[profiles.local]
label = "Boot from disk"
localboot = 0

[profiles.debian12]
label = "Debian 12 install"
kernel = "debian/linux"
initrd = ["debian/initrd.gz"]
append = "auto=true priority=critical"
ipappend = 2

[[hosts]]
name = "web1"
mac = "52:54:00:12:34:56"
profile = "debian12"

[[hosts]]
name = "db1"
ip = "192.0.2.157"
by = "ip"
entries = ["local", "debian12"]
default = "debian12"
"#;

#[test]
fn generate_writes_default_and_host_files_that_lint_clean() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "lab.toml", INVENTORY);
    let out = dir.path().join("tftp");
    let o = pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let host = std::fs::read_to_string(out.join("pxelinux.cfg/01-52-54-00-12-34-56")).unwrap();
    assert!(
        host.contains("DEFAULT debian12\nLABEL debian12\n    KERNEL debian/linux\n"),
        "{host}"
    );
    let db = std::fs::read_to_string(out.join("pxelinux.cfg/C000029D")).unwrap();
    assert!(
        db.contains("UI menu.c32\n") && db.contains("\nDEFAULT debian12\n"),
        "{db}"
    );
    assert!(
        db.find("LABEL local").unwrap() < db.find("LABEL debian12").unwrap(),
        "{db}"
    );
    let default = out.join("pxelinux.cfg/default");
    assert!(std::fs::read_to_string(&default)
        .unwrap()
        .contains("DEFAULT local"));
    for f in ["default", "01-52-54-00-12-34-56", "C000029D"] {
        let p = out.join("pxelinux.cfg").join(f);
        let o = pxecfg(&["lint", "--deny-warnings", p.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stdout(&o));
    }
    // Generating again overwrites its own files.
    assert_eq!(
        pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn generate_refuses_conflicts_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let bad = INVENTORY.replace(
        "ip = \"192.0.2.157\"\nby = \"ip\"",
        "mac = \"52-54-00-12-34-56\"",
    );
    let inv = write(dir.path(), "lab.toml", &bad);
    let out = dir.path().join("tftp");
    let o = pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(err.contains("lab.toml:22:1: host `db1` needs pxelinux.cfg/01-52-54-00-12-34-56, already taken by host `web1` at"), "{err}");
    assert!(!out.exists());
    let unknown = write(
        dir.path(),
        "u.toml",
        &INVENTORY.replace("profile = \"debian12\"", "profile = \"debian13\""),
    );
    let o = pxecfg(&["generate", &unknown, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("unknown profile `debian13`"));
    assert!(!out.exists());
    let syntax = write(dir.path(), "s.toml", "[menu]\ntitle = \n");
    let o = pxecfg(&["generate", &syntax, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("s.toml:2:"), "{}", stderr(&o));
}

#[test]
fn generate_does_not_overwrite_hand_written_files() {
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "lab.toml", INVENTORY);
    let hand = write(dir.path(), "tftp/pxelinux.cfg/default", "DEFAULT mine\n");
    let o = pxecfg(&[
        "generate",
        &inv,
        "--out",
        dir.path().join("tftp").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("not generated by pxecfg"));
    assert_eq!(std::fs::read_to_string(hand).unwrap(), "DEFAULT mine\n");
    assert!(!dir
        .path()
        .join("tftp/pxelinux.cfg/01-52-54-00-12-34-56")
        .exists());
}

#[test]
fn the_documented_inventory_example_generates() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/pxecfg-inventory.md"
    ))
    .unwrap();
    let start = doc.find("```toml\n").expect("toml block") + 8;
    let end = start + doc[start..].find("```").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let inv = write(dir.path(), "inventory.toml", &doc[start..end]);
    let out = dir.path().join("tftp");
    let o = pxecfg(&["generate", &inv, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    for f in ["default", "01-52-54-00-12-34-56", "C000029D"] {
        assert!(out.join("pxelinux.cfg").join(f).is_file(), "{f}");
    }
}
