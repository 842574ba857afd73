//! Hostile configurations: names that leave the TFTP root, control characters,
//! over-long lines, deep and looping INCLUDE chains. Nothing outside `--root`
//! may be read, echoed, or probed.

use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory holding `root/` (the TFTP root) and `outside/` (a secret beside it).
struct Lab {
    _dir: tempfile::TempDir,
    base: PathBuf,
}

const SECRET: &str = "LABEL leaked-label\n  KERNEL leaked-kernel\nSECRET-MARKER 42\n";

impl Lab {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        std::fs::create_dir_all(base.join("root/pxelinux.cfg")).unwrap();
        std::fs::create_dir_all(base.join("outside")).unwrap();
        std::fs::write(base.join("outside/secret.cfg"), SECRET).unwrap();
        std::fs::write(base.join("root/ldlinux.c32"), "").unwrap();
        Self { _dir: dir, base }
    }

    fn root(&self) -> PathBuf {
        self.base.join("root")
    }

    fn write(&self, rel: &str, text: impl AsRef<[u8]>) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    /// `pxecfg lint --root ROOT ROOT/pxelinux.cfg/default` with `text` as the file.
    fn lint(&self, text: impl AsRef<[u8]>) -> Output {
        let cfg = self.write("pxelinux.cfg/default", text);
        pxecfg(&[
            "lint".as_ref(),
            "--root".as_ref(),
            self.root().as_os_str(),
            cfg.as_os_str(),
        ])
    }
}

fn pxecfg(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pxecfg"))
        .args(args)
        .output()
        .expect("run pxecfg")
}

fn text(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Nothing of the secret file and nothing of /etc/passwd in the output.
fn assert_nothing_leaked(out: &str) {
    for word in [
        "leaked-label",
        "leaked-kernel",
        "SECRET-MARKER",
        "root:x:0",
        "daemon:",
    ] {
        assert!(!out.contains(word), "`{word}` leaked:\n{out}");
    }
}

fn outside_findings(out: &str) -> usize {
    out.matches("error[PXL048 outside-root]").count()
}

#[test]
fn include_with_dot_dot_is_a_finding_and_is_not_read() {
    let lab = Lab::new();
    let o = lab.lint("INCLUDE ../../../../etc/passwd\nINCLUDE ../outside/secret.cfg\n");
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert_nothing_leaked(&out);
    assert!(
        out.contains("pxelinux.cfg/default:1:9: error[PXL048 outside-root]"),
        "{out}"
    );
    assert!(out.contains("outside the TFTP root"), "{out}");
    assert_eq!(outside_findings(&out), 2, "{out}");
}

#[test]
fn pxelinux_root_forms_do_not_escape_the_root() {
    let lab = Lab::new();
    let o = lab.lint(
        "INCLUDE ::/../outside/secret.cfg\nINCLUDE ::../../../../etc/passwd\nMENU INCLUDE ::/../../../../etc/passwd Tools\n",
    );
    let out = text(&o);
    assert_nothing_leaked(&out);
    assert_eq!(outside_findings(&out), 3, "{out}");
}

#[test]
fn symlinks_out_of_the_root_are_refused() {
    let lab = Lab::new();
    symlink("/etc/passwd", lab.root().join("passwd.cfg")).unwrap();
    symlink(
        lab.base.join("outside/secret.cfg"),
        lab.root().join("abs.cfg"),
    )
    .unwrap();
    symlink("../outside/secret.cfg", lab.root().join("rel.cfg")).unwrap();
    symlink("../outside", lab.root().join("dir")).unwrap();
    // A link inside the root that points to another link that leaves it.
    symlink("rel.cfg", lab.root().join("chain.cfg")).unwrap();
    let o = lab.lint(
        "INCLUDE passwd.cfg\nINCLUDE abs.cfg\nINCLUDE rel.cfg\nINCLUDE dir/secret.cfg\nINCLUDE chain.cfg\nMENU BACKGROUND dir/secret.cfg\n",
    );
    let out = text(&o);
    assert_nothing_leaked(&out);
    assert_eq!(outside_findings(&out), 6, "{out}");
    // A link that stays inside is followed.
    lab.write("real.cfg", "LABEL inside-label\n");
    symlink("real.cfg", lab.root().join("in.cfg")).unwrap();
    let o = lab.lint("DEFAULT inside-label\nINCLUDE in.cfg\n");
    let out = text(&o);
    assert!(!out.contains("PXL012"), "{out}");
    assert_eq!(outside_findings(&out), 0, "{out}");
}

/// The output must be the same whether the outside file exists or not.
fn same_output_with_and_without(lab: &Lab, config: &str, outside: &Path) {
    std::fs::write(outside, SECRET).unwrap();
    let present = text(&lab.lint(config));
    std::fs::remove_file(outside).unwrap();
    let absent = text(&lab.lint(config));
    assert_eq!(present, absent, "output reveals whether {outside:?} exists");
    assert!(outside_findings(&present) > 0, "{present}");
    assert_nothing_leaked(&present);
}

#[test]
fn outside_paths_never_reveal_whether_a_file_exists() {
    let lab = Lab::new();
    let secret = lab.base.join("outside/secret.cfg");
    let up = "../".repeat(12);
    let via_dot_dot = format!(
        "DEFAULT a\nLABEL a\n  KERNEL ../outside/secret.cfg\n  INITRD {up}{}\n",
        secret.display()
    );
    same_output_with_and_without(&lab, &via_dot_dot, &secret);
    symlink("../outside", lab.root().join("dir")).unwrap();
    let via_dir_link = "DEFAULT a\nLABEL a\n  KERNEL dir/secret.cfg\n  APPEND initrd=dir/secret.cfg\nF1 dir/secret.cfg\nFONT dir/secret.cfg\nINCLUDE dir/secret.cfg\n";
    same_output_with_and_without(&lab, via_dir_link, &secret);
    // A dangling link out: refused the same as a live one.
    symlink(&secret, lab.root().join("link.cfg")).unwrap();
    let via_link = "DEFAULT a\nLABEL a\n  KERNEL link.cfg\nINCLUDE link.cfg\nUI link.cfg\n";
    same_output_with_and_without(&lab, via_link, &secret);
}

#[test]
fn etc_shadow_and_a_missing_file_outside_give_the_same_finding() {
    let lab = Lab::new();
    let one = |name: &str| {
        let o = lab.lint(format!("DEFAULT a\nLABEL a\n  KERNEL {name}\n"));
        text(&o).replace(name, "NAME")
    };
    let shadow = one("../../../../../../../../etc/shadow");
    let none = one("../../../../../../../../etc/no-such-file-here");
    assert_eq!(shadow, none);
    assert!(shadow.contains("error[PXL048 outside-root]"), "{shadow}");
}

#[test]
fn absolute_names_stay_under_the_prefix() {
    let lab = Lab::new();
    let o = lab.lint("INCLUDE /etc/passwd\nDEFAULT a\nLABEL a\n  KERNEL /etc/shadow\n");
    let out = text(&o);
    assert_nothing_leaked(&out);
    assert!(
        out.contains("(TFTP path `etc/passwd`) does not exist"),
        "{out}"
    );
    assert!(
        out.contains("kernel `/etc/shadow` not found (TFTP path `etc/shadow`)"),
        "{out}"
    );
    assert_eq!(outside_findings(&out), 0, "{out}");
}

#[test]
fn control_characters_are_refused_and_never_printed_raw() {
    let lab = Lab::new();
    lab.write("a\u{1}b.cfg", "LABEL hidden-label\n");
    let o = lab.lint(
        b"INCLUDE a\x01b.cfg\nINCLUDE x\x00y.cfg\nDEFAULT a\nLABEL a\n  KERNEL vm\x1b[2Jlinuz\n"
            .as_slice(),
    );
    let out = &o.stdout;
    assert!(
        !out.iter().any(|&b| b < 0x20 && b != b'\n'),
        "raw control bytes in the output: {}",
        String::from_utf8_lossy(out)
    );
    let out = text(&o);
    assert!(!out.contains("hidden-label"), "{out}");
    assert_eq!(
        out.matches("error[PXL049 refused-name]").count(),
        3,
        "{out}"
    );
    assert!(out.contains("`vm\\x1b[2Jlinuz`"), "{out}");
}

#[test]
fn very_long_lines_and_names_are_handled() {
    let lab = Lab::new();
    let long = "a".repeat(20_000);
    let o = lab.lint(format!(
        "INCLUDE {long}\nDEFAULT a\nLABEL a\n  KERNEL {long}\n  APPEND {}\n",
        "x ".repeat(50_000)
    ));
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("PXL032 line-too-long"), "{out}");
    // Names are shortened in messages: no 20,000-byte finding lines.
    assert!(
        out.lines().all(|l| l.len() < 2_000),
        "over-long output line"
    );
}

#[test]
fn deep_include_chains_stop_at_the_nesting_limit() {
    let lab = Lab::new();
    for i in 0..200 {
        lab.write(
            &format!("c{i}.cfg"),
            format!("INCLUDE c{}.cfg\nLABEL l{i}\n", i + 1),
        );
    }
    let o = lab.lint("INCLUDE c0.cfg\n");
    let out = text(&o);
    assert_eq!(out.matches("PXL050 include-limit").count(), 1, "{out}");
    assert!(!out.contains("include-loop"), "{out}");
}

fn loop_findings(out: &str) -> Vec<&str> {
    out.lines()
        .filter(|l| l.contains("error[PXL046 include-loop]"))
        .collect()
}

#[test]
fn include_loops_of_every_shape_are_reported_once_with_their_cycle() {
    let lab = Lab::new();
    // a -> a
    lab.write("self.cfg", "LABEL s\nINCLUDE self.cfg\n");
    // a -> b -> a
    lab.write("a.cfg", "INCLUDE b.cfg\n");
    lab.write("b.cfg", "INCLUDE a.cfg\n");
    // x -> y -> z -> x
    lab.write("x.cfg", "INCLUDE y.cfg\n");
    lab.write("y.cfg", "INCLUDE z.cfg\n");
    lab.write("z.cfg", "INCLUDE x.cfg\n");
    // back to the main file
    lab.write("main.cfg", "INCLUDE pxelinux.cfg/default\n");
    // through a symlink
    lab.write("s1.cfg", "INCLUDE s2.cfg\n");
    symlink("s1.cfg", lab.root().join("s2.cfg")).unwrap();
    // a diamond is not a loop: d is read twice
    lab.write("l.cfg", "INCLUDE d.cfg\n");
    lab.write("r.cfg", "INCLUDE d.cfg\n");
    lab.write("d.cfg", "LABEL d\n");
    let o = lab.lint(
        "INCLUDE self.cfg\nINCLUDE a.cfg\nINCLUDE x.cfg\nINCLUDE main.cfg\nINCLUDE s1.cfg\nINCLUDE l.cfg\nINCLUDE r.cfg\nINCLUDE a.cfg\nINCLUDE x.cfg\n",
    );
    let out = text(&o);
    let loops = loop_findings(&out);
    assert_eq!(loops.len(), 5, "{out}");
    for cycle in [
        "self.cfg:2:9: error[PXL046 include-loop]: `self.cfg` is already being read (self.cfg → self.cfg)",
        "b.cfg:1:9: error[PXL046 include-loop]: `a.cfg` is already being read (a.cfg → b.cfg → a.cfg)",
        "z.cfg:1:9: error[PXL046 include-loop]: `x.cfg` is already being read (x.cfg → y.cfg → z.cfg → x.cfg)",
        "main.cfg:1:9: error[PXL046 include-loop]: `pxelinux.cfg/default` is already being read",
        "s1.cfg:1:9: error[PXL046 include-loop]: `s2.cfg` is already being read (s1.cfg → s1.cfg)",
    ] {
        assert!(loops.iter().any(|l| l.contains(cycle)), "no `{cycle}` in\n{out}");
    }
    // The diamond's label is read twice, as syslinux does: a duplicate label.
    assert!(out.contains("PXL010 duplicate-label"), "{out}");
}

#[test]
fn many_looping_includes_are_reported_once_each() {
    let lab = Lab::new();
    let n = 3_000;
    lab.write("a.cfg", "INCLUDE b.cfg\n".repeat(n));
    lab.write("b.cfg", "INCLUDE a.cfg\n".repeat(n));
    let o = lab.lint("INCLUDE a.cfg\n".repeat(n));
    let out = text(&o);
    // Every line of b.cfg closes the loop; nothing else does.
    let loops = loop_findings(&out);
    assert_eq!(loops.len(), n, "{}", &out[..out.len().min(2000)]);
    assert!(
        loops.iter().all(|l| l.contains("(a.cfg → b.cfg → a.cfg)")),
        "{}",
        loops[0]
    );
    assert!(!out.contains("include-limit"), "the loop was re-walked");
}

#[test]
fn which_and_explain_do_not_read_or_probe_outside_the_root() {
    let lab = Lab::new();
    lab.write(
        "pxelinux.cfg/default",
        "DEFAULT a\nLABEL a\n  KERNEL vmlinuz\n",
    );
    symlink("../outside/secret.cfg", lab.root().join("link.cfg")).unwrap();
    let root = lab.root();
    for name in [
        "../outside/secret.cfg",
        "link.cfg",
        "::/../outside/secret.cfg",
    ] {
        let args = |cmd: &str| -> Vec<std::ffi::OsString> {
            [
                cmd,
                "--mac",
                "52:54:00:12:34:56",
                "--config-file",
                name,
                "--root",
            ]
            .iter()
            .map(Into::into)
            .chain([root.clone().into_os_string()])
            .collect()
        };
        let run = |cmd: &str| {
            let a = args(cmd);
            let a: Vec<&std::ffi::OsStr> = a.iter().map(|s| s.as_os_str()).collect();
            text(&pxecfg(&a))
        };
        let which = run("which");
        let first = which.lines().next().unwrap_or_default();
        assert!(
            first.contains("refused by the TFTP server"),
            "{name}: {which}"
        );
        assert!(
            which.contains("pxelinux.cfg/default\texists, loads"),
            "{which}"
        );
        let explain = run("explain");
        assert_nothing_leaked(&explain);
        assert!(explain.contains("vmlinuz"), "{name}: {explain}");
    }
}
