//! Round trip, formatter idempotence and meaning preservation over real configurations.

use std::path::Path;

use pxelinux::cmdline::{label_command, SysAppend};
use pxelinux::format::format_bytes;
use pxelinux::{Code, Config, Document, Severity};

use crate::support::{codes, files_under, fixtures, lint_in_tree, touch};

/// What syslinux reads from a configuration, without positions.
pub(crate) fn meaning(bytes: &[u8]) -> Vec<String> {
    let cfg = Config::from_document(&Document::parse(bytes));
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: Vec<String> = cfg
        .globals
        .settings
        .iter()
        .map(|(k, s)| format!("{k:?}={}", norm(&s.value)))
        .collect();
    for l in &cfg.labels {
        out.push(format!(
            "label {:?} {:?} {} {} {:?} {}",
            l.menu_name,
            l.display(),
            l.hidden,
            l.menu,
            l.help,
            norm(&label_command(l, &cfg.globals, &SysAppend::default()))
        ));
    }
    for m in &cfg.menus {
        out.push(format!(
            "menu {:?} {:?}",
            m.tag,
            m.title.as_ref().map(|t| t.value.clone())
        ));
    }
    out
}

fn corpus() -> Vec<std::path::PathBuf> {
    let mut all = files_under(&fixtures().join("corpus"));
    all.extend(files_under(&fixtures().join("seed")));
    assert!(all.len() >= 30, "corpus has {} files", all.len());
    all
}

#[test]
fn every_file_round_trips_byte_identical() {
    for path in corpus() {
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(
            Document::parse(&bytes).to_bytes(),
            bytes,
            "{}",
            path.display()
        );
    }
}

#[test]
fn formatting_is_idempotent_and_keeps_the_meaning() {
    for path in corpus() {
        let bytes = std::fs::read(&path).unwrap();
        let once = format_bytes(&bytes);
        assert_eq!(
            format_bytes(&once),
            once,
            "not idempotent: {}",
            path.display()
        );
        assert_eq!(
            meaning(&once),
            meaning(&bytes),
            "meaning changed: {}",
            path.display()
        );
        let comments = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .lines()
                .filter(|l| l.trim_start().starts_with('#'))
                .count()
        };
        assert_eq!(
            comments(&once),
            comments(&bytes),
            "comments lost: {}",
            path.display()
        );
    }
}

fn debian_tree(flavour: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures()
        .join("corpus")
        .join(format!("debian-12-netboot-amd64-{flavour}"));
    for f in files_under(&src) {
        let rel = f.strip_prefix(&src).unwrap();
        let dst = dir.path().join(rel);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(&f, dst).unwrap();
    }
    let bs = "debian-installer/amd64/boot-screens";
    for f in [
        "ldlinux.c32",
        "libcom32.c32",
        "libutil.c32",
        "vesamenu.c32",
        "splash.png",
    ] {
        touch(dir.path(), &format!("{bs}/{f}"));
    }
    for n in 1..=10 {
        touch(dir.path(), &format!("{bs}/f{n}.txt"));
    }
    for f in [
        "ldlinux.c32",
        "debian-installer/amd64/linux",
        "debian-installer/amd64/initrd.gz",
    ] {
        touch(dir.path(), f);
    }
    if flavour == "gtk" {
        touch(dir.path(), "debian-installer/amd64/gtk/initrd.gz");
    }
    dir
}

#[test]
fn debian_text_tree_only_misses_the_gtk_includes() {
    let dir = debian_tree("text");
    let f = lint_in_tree(dir.path(), "pxelinux.cfg/default");
    let errors: Vec<_> = f.iter().filter(|f| f.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let missing: Vec<_> = f
        .iter()
        .filter(|f| f.code == Code::MissingInclude)
        .collect();
    assert!(
        missing.iter().any(|m| m.message.contains("gtk.cfg")),
        "{f:#?}"
    );
    assert!(missing.iter().all(|m| m.severity == Severity::Warning));
    assert!(
        missing[0].location.file.ends_with("menu.cfg"),
        "{:?}",
        missing[0].location
    );
}

#[test]
fn debian_tree_without_its_kernel_is_an_error() {
    let dir = debian_tree("text");
    std::fs::remove_file(dir.path().join("debian-installer/amd64/linux")).unwrap();
    let f = lint_in_tree(dir.path(), "pxelinux.cfg/default");
    let k: Vec<_> = f.iter().filter(|f| f.code == Code::MissingKernel).collect();
    assert!(!k.is_empty());
    let in_txt = k
        .iter()
        .find(|f| f.location.file.ends_with("boot-screens/txt.cfg"))
        .expect("txt.cfg finding");
    assert_eq!((in_txt.location.line, in_txt.location.column), (3, 9));
    std::fs::remove_file(
        dir.path()
            .join("debian-installer/amd64/boot-screens/libutil.c32"),
    )
    .unwrap();
    assert!(
        codes(&lint_in_tree(dir.path(), "pxelinux.cfg/default")).contains(&Code::MissingLibrary)
    );
}

#[test]
fn debian_gtk_tree_lints() {
    let dir = debian_tree("gtk");
    let f = lint_in_tree(dir.path(), "pxelinux.cfg/default");
    let errors: Vec<_> = f.iter().filter(|f| f.severity == Severity::Error).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert!(Path::new(&dir.path().join("pxelinux.cfg/default")).exists());
}

#[test]
fn real_configurations_have_no_errors_standalone() {
    for path in files_under(&fixtures().join("corpus")) {
        let bytes = std::fs::read(&path).unwrap();
        let errors: Vec<_> = pxelinux::lint_bytes("f", &bytes)
            .into_iter()
            .filter(|f| f.severity == Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}
