//! decode + classify + policy + build-reply + encode, per packet, on real firmware captures.

use std::net::Ipv4Addr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dhcp_pxe::options::Arch;
use dhcp_pxe::policy::{FirmwareKind, Policy, Rule};
use dhcp_pxe::reply::{answer, ReplyKind, ReplyParams};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../crates/dhcp-pxe/tests/fixtures/"
);

fn policy() -> Policy {
    let mut ipxe = Rule::new("ipxe");
    ipxe.when.ipxe = Some(true);
    ipxe.then.ipxe_script = Some("http://192.0.2.1/boot.ipxe".into());
    let mut bios = Rule::new("bios");
    bios.when.firmware = vec![FirmwareKind::BiosPxe];
    bios.then.boot_file = Some("undionly.kpxe".into());
    let mut x64 = Rule::new("x64");
    x64.when.arch = vec![Arch::X64_UEFI];
    x64.then.boot_file = Some("ipxe.efi".into());
    let mut http = Rule::new("http");
    http.when.firmware = vec![FirmwareKind::UefiHttp];
    http.then.http_url = Some("http://192.0.2.1/ipxe.efi".into());
    Policy::new(vec![ipxe, bios, x64, http])
}

fn bench(c: &mut Criterion) {
    let packets: Vec<Vec<u8>> = [
        "ipxe-bios-discover.bin",
        "ipxe-efi-x64-discover.bin",
        "ovmf-pxe-x64-discover.bin",
        "ovmf-http-x64-discover.bin",
    ]
    .iter()
    .map(|n| std::fs::read(format!("{FIXTURES}{n}")).expect("fixture"))
    .collect();
    let policy = policy();
    let params = ReplyParams::new(ReplyKind::ProxyOffer, Ipv4Addr::new(192, 0, 2, 1));
    let mut g = c.benchmark_group("dhcp_reply");
    g.throughput(Throughput::Elements(packets.len() as u64));
    g.bench_function("proxy_offer_4_captures", |b| {
        b.iter(|| {
            for p in &packets {
                let a = answer(std::hint::black_box(p), &policy, &params).expect("answer");
                std::hint::black_box(a.bytes);
            }
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
