//! Parse + lint time per configuration (pxelinux crate).
//!
//! Inputs are embedded from the crate's fixtures: the CentOS 7 seed (16 lines),
//! Debian 12's boot-screens/menu.cfg (55 lines), the Auto-install seed with its
//! mid-line `#`, plus a generated 1000-label file for scaling.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use pxelinux::{format::format_bytes, lint_bytes, Document};

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

criterion_group!(benches, parse_and_lint);
criterion_main!(benches);
