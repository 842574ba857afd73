//! Parse + lint time per configuration (pxelinux crate).
//!
//! Inputs are embedded from the crate's fixtures: the CentOS 7 seed (16 lines),
//! Debian 12's boot-screens/menu.cfg (55 lines), the Auto-install seed with its
//! mid-line `#`, plus a generated 1000-label file for scaling. `include_loops`
//! loads and lints a TFTP tree whose files include each other on every line.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pxelinux::{
    format::format_bytes, lint, lint_bytes, Document, LintOptions, SourceFile, SourceSet, Tree,
};

const CENTOS7: &[u8] =
    include_bytes!("../../crates/pxelinux/tests/fixtures/seed/pxelinux-menu-centos7.cfg");
const DEBIAN_MENU: &[u8] = include_bytes!(
    "../../crates/pxelinux/tests/fixtures/corpus/debian-12-netboot-amd64-text/debian-installer/amd64/boot-screens/menu.cfg"
);
const AUTO_INSTALL: &[u8] =
    include_bytes!("../../crates/pxelinux/tests/fixtures/seed/pxelinux-auto-install.cfg");

fn big() -> Vec<u8> {
    let mut s = String::from("UI menu.c32\nDEFAULT l0\nTIMEOUT 50\nMENU TITLE big\n");
    for i in 0..1000 {
        s.push_str(&format!(
            "LABEL l{i}\n  MENU LABEL Host {i}\n  KERNEL k/vmlinuz-{i}\n  INITRD k/initrd-{i}.img\n  APPEND inst.ks=http://10.0.0.1/ks/{i}.cfg console=ttyS0\n"
        ));
    }
    s.into_bytes()
}

fn parse_and_lint(c: &mut Criterion) {
    let big = big();
    let inputs: [(&str, &[u8]); 4] = [
        ("centos7-seed", CENTOS7),
        ("debian12-menu", DEBIAN_MENU),
        ("auto-install-seed", AUTO_INSTALL),
        ("1000-labels", &big),
    ];
    let mut g = c.benchmark_group("pxelinux");
    for (name, bytes) in inputs {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("parse", name), bytes, |b, i| {
            b.iter(|| Document::parse(i));
        });
        g.bench_with_input(BenchmarkId::new("parse+lint", name), bytes, |b, i| {
            b.iter(|| lint_bytes("bench", i));
        });
        g.bench_with_input(BenchmarkId::new("format", name), bytes, |b, i| {
            b.iter(|| format_bytes(i));
        });
    }
    g.finish();
}

/// `default` includes `a.cfg`; `a.cfg` and `b.cfg` each hold `n` lines that
/// include the other. Loading reads each file once and lints 3·n lines.
fn include_loops(c: &mut Criterion) {
    let root = std::env::temp_dir().join(format!("pxelinux-bench-{}", std::process::id()));
    let mut g = c.benchmark_group("pxelinux-include-loop");
    for n in [4_000usize, 16_000] {
        std::fs::create_dir_all(&root).unwrap();
        std::fs::write(root.join("a.cfg"), "INCLUDE b.cfg\n".repeat(n)).unwrap();
        std::fs::write(root.join("b.cfg"), "INCLUDE a.cfg\n".repeat(n)).unwrap();
        let main = "INCLUDE a.cfg\n".repeat(n);
        let tree = Tree::new(&root, "");
        g.throughput(Throughput::Elements(3 * n as u64));
        g.bench_with_input(BenchmarkId::new("load+lint", n), &main, |b, main| {
            b.iter(|| {
                let file = SourceFile {
                    name: "default".into(),
                    doc: Document::parse_str(main),
                };
                let set = SourceSet::load(file, Some(&tree));
                let options = LintOptions {
                    tree: Some(tree.clone()),
                    config_name: None,
                };
                lint(&set, &options)
            });
        });
    }
    g.finish();
    let _ = std::fs::remove_dir_all(&root);
}

criterion_group!(benches, parse_and_lint, include_loops);
criterion_main!(benches);
