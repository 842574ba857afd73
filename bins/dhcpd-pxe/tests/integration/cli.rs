//! Configuration files, quick flags and `explain`, through the real binary.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dhcpd-pxe"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../crates/dhcp-pxe/tests/fixtures")
        .join(name)
}

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn explain(args: &[&str], packet: &Path) -> (bool, String, String) {
    let out = bin()
        .arg("explain")
        .args(args)
        .arg("--packet")
        .arg(packet)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn seed_equivalents_load_and_answer_a_pxe_rom() {
    for (file, addr, siaddr) in [
        ("dhcpd-centos7.toml", "192.168.10.1", "192.168.10.1"),
        ("dhcpd-next-server.toml", "211.183.3.1", "211.183.3.21"),
        ("dhcpd-root-path.toml", "100.100.100.1", "100.100.100.1"),
    ] {
        let cfg = example(file);
        let (ok, out, err) = explain(
            &["--config", cfg.to_str().unwrap(), "--local", addr],
            &fixture("ipxe-bios-discover.bin"),
        );
        assert!(ok, "{file}: {err}");
        assert!(out.contains("reply: OFFER"), "{file}: {out}");
        assert!(out.contains("file \"pxelinux.0\""), "{file}: {out}");
        assert!(out.contains(&format!("siaddr {siaddr}")), "{file}: {out}");
    }
    let (ok, out, _) = explain(
        &[
            "--config",
            example("dhcpd-root-path.toml").to_str().unwrap(),
            "--local",
            "100.100.100.1",
        ],
        &fixture("ipxe-bios-discover.bin"),
    );
    assert!(
        ok && out.contains("option  17 Root Path") && out.contains("\"/tftpboot\""),
        "{out}"
    );
}

#[test]
fn explain_reads_pcap_and_shows_rules_and_silence() {
    let (ok, out, err) = explain(
        &[
            "--proxy",
            "--boot-file",
            "bios=undionly.kpxe",
            "--boot-file",
            "efi-x64=ipxe.efi",
            "--tftp-server",
            "192.0.2.1",
        ],
        &fixture("pcap/ovmf-uefi.pcap"),
    );
    assert!(ok, "{err}");
    assert!(out.contains("client: UEFI PXE arch 7"), "{out}");
    assert!(out.contains("rule: efi-x64"), "{out}");
    assert!(out.contains("file \"ipxe.efi\""), "{out}");
    assert!(
        out.contains("reply: none: proxy mode answers DISCOVERs only"),
        "{out}"
    );
}

#[test]
fn explain_reads_a_hex_dump_and_says_why_nothing_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = std::fs::read(fixture("ovmf-pxe-x64-discover.bin")).unwrap();
    let mut text = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        text.push_str(&format!("{:04x}  ", i * 16));
        for b in chunk {
            text.push_str(&format!("{b:02x} "));
        }
        text.push('\n');
    }
    let p = dir.path().join("discover.hex");
    std::fs::write(&p, text).unwrap();
    // Only a BIOS file: the UEFI client matches no rule.
    let (ok, out, err) = explain(&["--proxy", "--boot-file", "bios=undionly.kpxe"], &p);
    assert!(ok, "{err}");
    assert!(out.contains("dump 1"), "{out}");
    assert!(out.contains("bios: no match"), "{out}");
    assert!(
        out.contains("reply: none: no rule gave this client a boot target"),
        "{out}"
    );
}

#[test]
fn bad_configs_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "lease_file = \"x\"\n\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"192.0.3.1-192.0.3.5\"]\n").unwrap();
    let out = bin()
        .args(["--config", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:5:10: subnet 192.0.2.0/24: range 192.0.3.1-192.0.3.5 is not inside"),
        "{err}"
    );
    let out = bin()
        .args([
            "--range",
            "192.0.2.10-192.0.2.20",
            "--boot-file",
            "efi-x65=a.efi",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown client class \"efi-x65\""));
}

#[test]
fn foreign_lease_file_stops_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("dhcpd.leases");
    std::fs::write(&leases, "lease 192.0.2.10 {\n}\n").unwrap();
    let out = bin()
        .args([
            "--range",
            "192.0.2.10-192.0.2.20",
            "--boot-file",
            "pxelinux.0",
            "--lease-file",
        ])
        .arg(&leases)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not a dhcpd-pxe lease journal"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&leases).unwrap(),
        "lease 192.0.2.10 {\n}\n"
    );
}

#[test]
fn every_toml_example_in_the_docs_is_valid() {
    let docs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
    let mut checked = 0;
    for name in [
        "dhcpd-pxe-config.md",
        "instead-of-isc-dhcpd.md",
        "dhcpd-pxe-postgres.md",
    ] {
        let text = std::fs::read_to_string(docs.join(name)).unwrap();
        for (i, block) in text.split("```toml\n").skip(1).enumerate() {
            let toml = block.split("```").next().unwrap();
            let origin = PathBuf::from(format!("{name}#toml-{i}"));
            if let Err(e) = dhcpd_pxe::config::from_toml(toml, &origin) {
                panic!("{e:#}\n{toml}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 5, "only {checked} examples found");
}

#[test]
fn bios_file_alone_boots_an_ipxe_boot_rom_but_never_loops() {
    // qemu's BIOS PXE ROM is iPXE (captured DISCOVER: arch 0, user class iPXE).
    let quick = |file: &str| {
        explain(
            &["--proxy", "--boot-file", file, "--tftp-server", "192.0.2.1"],
            &fixture("ipxe-bios-discover.bin"),
        )
    };
    let (ok, out, err) = quick("bios=pxelinux.0");
    assert!(ok, "{err}");
    assert!(out.contains("rule: bios (iPXE boot ROM)"), "{out}");
    assert!(out.contains("file \"pxelinux.0\""), "{out}");
    // An iPXE binary would make iPXE load itself again: refused, nothing sent.
    let (ok, out, err) = quick("bios=undionly.kpxe");
    assert!(ok, "{err}");
    assert!(out.contains("chainload loop"), "{out}");
    assert!(out.contains("reply: none"), "{out}");
}

#[test]
fn quick_range_serves_bootp_only_with_the_flag() {
    use dhcpd_pxe::cli::ConfigArgs;
    let mut a = ConfigArgs {
        range: Some("192.0.2.10-192.0.2.20".into()),
        boot_files: vec!["pxelinux.0".into()],
        ..ConfigArgs::default()
    };
    let s = dhcpd_pxe::quick::from_args(&a).unwrap();
    let net = &s.server.subnets[0];
    assert!(!net.ranges[0].bootp, "--range alone is DHCP only");
    assert_eq!(
        net.bootp_lease_time,
        Some(std::time::Duration::from_secs(86_400))
    );
    a.bootp = true;
    a.bootp_lease_time = Some("infinite".into());
    let s = dhcpd_pxe::quick::from_args(&a).unwrap();
    assert!(s.server.subnets[0].ranges[0].bootp);
    assert_eq!(s.server.subnets[0].bootp_lease_time, None);
    // --bootp-lease-time needs --bootp.
    let out = bin()
        .args([
            "--range",
            "192.0.2.10-192.0.2.20",
            "--bootp-lease-time",
            "1h",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn bootp_caps_and_limits_in_the_file() {
    use dhcpd_pxe::config::from_toml;
    let base =
        "[[subnet]]\nnetwork = \"192.0.2.0/24\"\nbootp_range = [\"192.0.2.10-192.0.2.20\"]\n";
    let s = from_toml(
        &format!("{base}bootp_lease_time = \"infinite\"\nbootp_lease_cap = 20\nfresh_lease_cap = 100\nallow_bootp = false\n[limits]\ntotal_rate = 500\nclient_burst = 3\n"),
        Path::new("c.toml"),
    )
    .unwrap();
    let n = &s.server.subnets[0];
    assert_eq!(n.bootp_lease_time, None);
    assert_eq!((n.caps.bootp_percent, n.caps.fresh_percent), (20, 100));
    assert!(!n.allow_bootp);
    assert_eq!(s.server.rate_limit.total_per_second, 500);
    assert_eq!(s.server.rate_limit.burst, 3);
    assert_eq!(s.server.rate_limit.per_second, 5, "defaults kept");
    let e = from_toml(
        &format!("{base}bootp_lease_cap = 150\n"),
        Path::new("c.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.starts_with("c.toml:4:19: subnet 192.0.2.0/24: bootp_lease_cap = 150"),
        "{e}"
    );
    let e = from_toml(
        &format!("{base}[limits]\ntotal_rate = 0\n"),
        Path::new("c.toml"),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("would refuse every request"), "{e}");
}

#[test]
fn a_damaged_journal_stops_start_up_with_file_and_offset() {
    use dhcp_server::store::{LeaseJournal, LeaseStore};
    use dhcp_server::{ClientKey, Expiry, Lease, LeaseState, Tenure};
    let dir = tempfile::tempdir().unwrap();
    let leases = dir.path().join("leases");
    let (mut j, _) = LeaseJournal::open(&leases).unwrap();
    for n in 0..3u8 {
        j.append(&[Lease {
            addr: std::net::Ipv4Addr::new(192, 0, 2, 10 + n),
            client: ClientKey(vec![1, 2, 0, 0, 0, 0, n]),
            state: LeaseState::Bound,
            expires: Expiry::At(4_000_000_000),
            tenure: Tenure::Fresh,
            details: Default::default(),
        }])
        .unwrap();
    }
    drop(j);
    let mut bytes = std::fs::read(&leases).unwrap();
    let group = 16 + 22 + 15 + 4; // header, record (with empty details), CRC
    bytes[20 + group + 8] ^= 0x80; // the second group's length
    std::fs::write(&leases, &bytes).unwrap();
    let out = bin()
        .args([
            "--range",
            "192.0.2.10-192.0.2.20",
            "--boot-file",
            "pxelinux.0",
            "--lease-file",
        ])
        .arg(&leases)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&leases.display().to_string()), "{err}");
    assert!(err.contains(&format!("offset {}", 20 + group)), "{err}");
    assert_eq!(std::fs::read(&leases).unwrap(), bytes, "never rewritten");
}

#[test]
fn host_boot_files_by_mac_in_proxy_and_full_mode() {
    let dir = tempfile::tempdir().unwrap();
    let hosts = "tftp_server = \"192.0.2.1\"\n\n[[boot]]\nfile = \"pxelinux.0\"\n\n\
                 [[host]]\nmac = \"52:54:00:12:34:56\"\nboot_file = \"undionly.kpxe\"\n\
                 ipxe_script = \"http://192.0.2.1/host.ipxe\"\n\n\
                 [[host]]\nmac = \"52:54:00:12:34:57\"\nboot_file = \"host57.efi\"\n";
    let leases = dir.path().join("leases");
    for text in [
        format!("mode = \"proxy\"\n{hosts}"),
        format!(
            "mode = \"full\"\nlease_file = \"{}\"\n{hosts}\n\
             [[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"192.0.2.100-192.0.2.200\"]\n",
            leases.display()
        ),
    ] {
        let cfg = dir.path().join("c.toml");
        std::fs::write(&cfg, &text).unwrap();
        let c = ["--config", cfg.to_str().unwrap(), "--local", "192.0.2.1"];
        // iPXE on the host: its HTTP script, never the iPXE binary again.
        let (ok, out, err) = explain(&c, &fixture("ipxe-bios-discover.bin"));
        assert!(ok, "{text}\n{err}");
        assert!(
            out.contains("rule: host 52:54:00:12:34:56"),
            "{text}\n{out}"
        );
        assert!(out.contains("file \"http://192.0.2.1/host.ipxe\""), "{out}");
        // UEFI firmware on the other host: its own file, not the bare one.
        let (ok, out, err) = explain(&c, &fixture("ovmf-pxe-x64-discover.bin"));
        assert!(ok, "{err}");
        assert!(
            out.contains("rule: host 52:54:00:12:34:57"),
            "{text}\n{out}"
        );
        assert!(out.contains("file \"host57.efi\""), "{out}");
    }
}

#[test]
fn explain_shows_the_rule_and_reply_for_a_dhcpv6_solicit() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("c.toml");
    std::fs::write(
        &cfg,
        "mode = \"proxy\"\n[[boot]]\nfile = \"pxelinux.0\"\n[dhcpv6]\ninterfaces = [\"lo\"]\n\
         tftp_server = \"2001:db8::69\"\n[[dhcpv6.boot]]\nclass = \"efi-x64\"\nfile = \"grubx64.efi\"\n",
    )
    .unwrap();
    // A SOLICIT as UEFI PXE over IPv6 sends it: client id (DUID-LL), ORO 59 and 23, 61 = 7.
    let solicit = "01abcdef 0001000a 00030001 52540012 3456 0006 0004 003b 0017 \
                   0008 0002 0000 003d 0002 0007";
    let p = dir.path().join("solicit.hex");
    std::fs::write(&p, solicit).unwrap();
    let (ok, out, err) = explain(&["--config", cfg.to_str().unwrap()], &p);
    assert!(ok, "{err}");
    assert!(out.contains("request: Solicit"), "{out}");
    assert!(out.contains("rule: efi-x64"), "{out}");
    assert!(out.contains("reply: Advertise"), "{out}");
    assert!(
        out.contains("option  59 \"tftp://[2001:db8::69]/grubx64.efi\""),
        "{out}"
    );
    // --check names the DHCPv6 side.
    let out = bin()
        .args(["-t", "-c", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("DHCPv6 stateless on lo (1 boot rule(s))"),
        "{text}"
    );
    // Without [dhcpv6] the packet is refused by name.
    let (ok, _, err) = explain(&["--proxy", "--boot-file", "pxelinux.0"], &p);
    assert!(!ok && err.contains("no [dhcpv6] table"), "{err}");
}
