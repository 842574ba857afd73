//! DHCPv6 for network boot (stateless/proxy mode) against real clients: `dhclient -6 -S`
//! (INFORMATION-REQUEST) gets option 59 as its architecture's class says, and Kea's
//! `kea-dhcp6` answers the same request with the same option 59 and no IA.
//!
//! Topology: S has vs0 with 2001:db8::1/64 ⇄ vc0 in C (link-local only), DAD off.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{can_run, which, Lab};

/// The lab with IPv6 on vs0 (in S, directly, no bridge: multicast needs no snooping).
pub(super) fn lab6() -> Lab {
    let lab = Lab::new(0);
    let (s, c) = (lab.server_ns.clone(), lab.client_ns.clone());
    super::ip(&[
        "link", "add", "vs0", "netns", &s, "type", "veth", "peer", "name", "vc0", "netns", &c,
    ]);
    lab.sh_ok(
        &s,
        "sysctl -qw net.ipv6.conf.vs0.accept_dad=0 && ip link set vs0 up && \
         ip addr add 2001:db8::1/64 dev vs0 nodad",
    );
    lab.sh_ok(
        &c,
        "sysctl -qw net.ipv6.conf.vc0.accept_dad=0 && \
         ip link set vc0 address 02:00:00:00:00:07 && ip link set vc0 up",
    );
    // Both link-local addresses usable (no DAD, but the kernel adds them on carrier).
    for _ in 0..100 {
        let a = lab.sh(&s, "ip -6 addr show dev vs0 scope link");
        let b = lab.sh(&c, "ip -6 addr show dev vc0 scope link");
        if [a, b].iter().all(|o| {
            let t = String::from_utf8_lossy(&o.stdout);
            t.contains("fe80") && !t.contains("tentative")
        }) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    lab
}

/// `dhclient -6 -S` sending option 61 = `arch` (none: `None`); the variables its
/// script saw (`new_dhcp6_*`), or `None` when it got no reply.
fn dhclient_stateless(lab: &mut Lab, arch: Option<u16>) -> Option<BTreeMap<String, String>> {
    let n = lab.dir.path().read_dir().unwrap().count();
    let conf = lab.path(&format!("dh6-{n}.conf"));
    let env = lab.path(&format!("dh6-{n}.env"));
    let script = lab.path(&format!("dh6-{n}.sh"));
    let mut c = String::from(
        "option dhcp6.bootfile-url code 59 = string;\n\
         option dhcp6.client-arch-type code 61 = unsigned integer 16;\n\
         request dhcp6.bootfile-url, dhcp6.name-servers;\n",
    );
    if let Some(a) = arch {
        c.push_str(&format!("send dhcp6.client-arch-type {a};\n"));
    }
    std::fs::write(&conf, c).unwrap();
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nenv | grep '^new_dhcp6_' >> {}\nexit 0\n",
            env.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let dhclient = which("dhclient").unwrap();
    let ns = lab.client_ns.clone();
    let (lf, pf) = (
        lab.path(&format!("dh6-{n}.leases")),
        lab.path(&format!("dh6-{n}.pid")),
    );
    let (ok, log) = lab.run(
        &format!("dhclient6-{n}"),
        &ns,
        &[
            dhclient.to_str().unwrap(),
            "-6",
            "-S",
            "-1",
            "-d",
            "-v",
            "-cf",
            conf.to_str().unwrap(),
            "-lf",
            lf.to_str().unwrap(),
            "-pf",
            pf.to_str().unwrap(),
            "-sf",
            script.to_str().unwrap(),
            "vc0",
        ],
        Duration::from_secs(20),
    );
    if !ok {
        eprintln!("dhclient -6 -S got no reply:\n{log}");
        return None;
    }
    let text = std::fs::read_to_string(&env).unwrap_or_default();
    Some(
        text.lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    )
}

const CONFIG: &str = "mode = \"proxy\"\n\n[[boot]]\nfile = \"pxelinux.0\"\n\n\
    [dhcpv6]\ninterfaces = [\"vs0\"]\ndns = [\"2001:db8::53\"]\n\n\
    [[dhcpv6.boot]]\nclass = \"efi-x64\"\nfile = \"grubx64.efi\"\n\n\
    [[dhcpv6.boot]]\nclass = \"efi-arm64\"\nfile = \"http://[2001:db8::1]/grubaa64.efi\"\n";

/// [`lab6`] with `dhcpd-pxe -vv` serving [`CONFIG`] on vs0, DHCPv6 listening;
/// the lab and the configuration file's path.
fn lab_with_responder() -> (Lab, std::path::PathBuf) {
    let mut lab = lab6();
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    lab.start_server(
        "server",
        &["-c", cfg.to_str().unwrap(), "--interface", "vs0", "-vv"],
    );
    assert!(
        lab.wait_log("server", "DHCPv6 listening", Duration::from_secs(10)),
        "{}",
        lab.log("server")
    );
    (lab, cfg)
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn dhclient_stateless_gets_the_boot_url_of_its_class() {
    let test = "dhclient_stateless_gets_the_boot_url_of_its_class";
    if !can_run(test, &["dhclient"]) {
        return;
    }
    let (mut lab, _) = lab_with_responder();
    let x64 = dhclient_stateless(&mut lab, Some(7))
        .unwrap_or_else(|| panic!("no reply: {}", lab.log("server")));
    assert_eq!(
        x64.get("new_dhcp6_bootfile_url").map(String::as_str),
        Some("tftp://[2001:db8::1]/grubx64.efi"),
        "{x64:?}"
    );
    assert_eq!(
        x64.get("new_dhcp6_name_servers").map(String::as_str),
        Some("2001:db8::53")
    );
    // The server id is a DUID-LL (type 3, Ethernet) of vs0's MAC.
    let sid = x64.get("new_dhcp6_server_id").cloned().unwrap_or_default();
    assert!(sid.starts_with("0:3:0:1:"), "{sid}");
    let arm = dhclient_stateless(&mut lab, Some(11)).expect("arm64: no reply");
    assert_eq!(
        arm.get("new_dhcp6_bootfile_url").map(String::as_str),
        Some("http://[2001:db8::1]/grubaa64.efi")
    );
    // No architecture and no rule for every client: DNS, but no boot file.
    let plain = dhclient_stateless(&mut lab, None).expect("plain: no reply");
    assert_eq!(plain.get("new_dhcp6_bootfile_url"), None, "{plain:?}");
    assert!(plain.contains_key("new_dhcp6_name_servers"));
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn sighup_reloads_the_dhcpv6_boot_files_and_keeps_them_on_a_mode_switch() {
    let test = "sighup_reloads_the_dhcpv6_boot_files_and_keeps_them_on_a_mode_switch";
    if !can_run(test, &["dhclient"]) {
        return;
    }
    let (mut lab, cfg) = lab_with_responder();
    let url = |lab: &mut Lab| {
        dhclient_stateless(lab, Some(7))
            .and_then(|v| v.get("new_dhcp6_bootfile_url").cloned())
            .unwrap_or_else(|| panic!("no boot URL: {}", lab.log("server")))
    };
    assert_eq!(url(&mut lab), "tftp://[2001:db8::1]/grubx64.efi");
    let hup = |lab: &Lab| {
        let pid = lab.pid("server").unwrap().to_string();
        let ok = std::process::Command::new("kill")
            .args(["-HUP", &pid])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -HUP {pid}");
    };
    std::fs::write(&cfg, CONFIG.replace("grubx64.efi", "shimx64.efi")).unwrap();
    hup(&lab);
    assert!(
        lab.wait_log(
            "server",
            "DHCPv6 configuration reloaded",
            Duration::from_secs(5)
        ),
        "{}",
        lab.log("server")
    );
    assert_eq!(url(&mut lab), "tftp://[2001:db8::1]/shimx64.efi");
    // Stateless to full needs a restart: the running configuration stays.
    let full = CONFIG.replace("grubx64.efi", "other.efi").replace(
        "dns = [",
        "mode = \"full\"\nrange = [\"2001:db8::100\", \"2001:db8::1ff\"]\ndns = [",
    );
    std::fs::write(&cfg, full).unwrap();
    hup(&lab);
    assert!(
        lab.wait_log(
            "server",
            "DHCPv6 keeps its running configuration",
            Duration::from_secs(5)
        ),
        "{}",
        lab.log("server")
    );
    assert!(lab.alive("server"));
    assert_eq!(url(&mut lab), "tftp://[2001:db8::1]/shimx64.efi");
}

/// Kea's configuration for the same classes as [`CONFIG`].
fn kea_config(dir: &std::path::Path) -> String {
    format!(
        r#"{{"Dhcp6": {{
  "data-directory": "{dir}",
  "interfaces-config": {{"interfaces": ["vs0"]}},
  "lease-database": {{"type": "memfile", "persist": false}},
  "server-id": {{"type": "LL", "persist": false}},
  "client-classes": [
    {{"name": "efi-x64", "test": "option[61].hex == 0x0007",
     "option-data": [{{"name": "bootfile-url", "data": "tftp://[2001:db8::1]/grubx64.efi"}}]}},
    {{"name": "efi-arm64", "test": "option[61].hex == 0x000b",
     "option-data": [{{"name": "bootfile-url", "data": "http://[2001:db8::1]/grubaa64.efi"}}]}}
  ],
  "subnet6": [{{"subnet": "2001:db8::/64", "interface": "vs0",
    "option-data": [{{"name": "dns-servers", "data": "2001:db8::53"}}]}}],
  "loggers": [{{"name": "kea-dhcp6", "output_options": [{{"output": "stdout"}}], "severity": "INFO"}}]
}}}}"#,
        dir = dir.display()
    )
}

/// Starts `kea-dhcp6` in S as `"kea"` with the configuration `config` writes for
/// its data directory; waits until it serves.
pub(super) fn start_kea(lab: &mut Lab, config: impl FnOnce(&std::path::Path) -> String) {
    let kea_dir = lab.path("kea");
    std::fs::create_dir_all(&kea_dir).unwrap();
    let kea_cfg = lab.path("kea.json");
    std::fs::write(&kea_cfg, config(&kea_dir)).unwrap();
    let kea = which("kea-dhcp6").unwrap();
    let s = lab.server_ns.clone();
    let (lock, pid) = (
        "KEA_LOCKFILE_DIR=none".to_string(),
        format!("KEA_PIDFILE_DIR={}", kea_dir.display()),
    );
    lab.spawn(
        "kea",
        &s,
        &[
            "env",
            &lock,
            &pid,
            kea.to_str().unwrap(),
            "-c",
            kea_cfg.to_str().unwrap(),
        ],
    );
    assert!(
        lab.wait_log("kea", "DHCP6_STARTED", Duration::from_secs(10)),
        "{}",
        lab.log("kea")
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn same_information_request_same_answer_as_kea() {
    let test = "same_information_request_same_answer_as_kea";
    if !can_run(test, &["dhclient", "kea-dhcp6"]) {
        return;
    }
    let mut lab = lab6();
    start_kea(&mut lab, kea_config);
    let mut theirs = Vec::new();
    for arch in [7, 11] {
        theirs.push(
            dhclient_stateless(&mut lab, Some(arch))
                .unwrap_or_else(|| panic!("Kea: no reply: {}", lab.log("kea"))),
        );
    }
    lab.stop("kea", "TERM");
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    lab.start_server(
        "server",
        &["-c", cfg.to_str().unwrap(), "--interface", "vs0"],
    );
    assert!(lab.wait_log("server", "DHCPv6 listening", Duration::from_secs(10)));
    for (arch, kea) in [7, 11].into_iter().zip(theirs) {
        let ours = dhclient_stateless(&mut lab, Some(arch)).expect("dhcpd-pxe: no reply");
        for key in ["new_dhcp6_bootfile_url", "new_dhcp6_name_servers"] {
            assert!(kea.contains_key(key), "Kea sent no {key}: {kea:?}");
            assert_eq!(ours.get(key), kea.get(key), "arch {arch}, {key}");
        }
        // Both a DUID-LL of Ethernet (of the interface each picked: S also has br0).
        for sid in [&ours, &kea].map(|v| v.get("new_dhcp6_server_id").cloned().unwrap_or_default())
        {
            assert!(sid.starts_with("0:3:0:1:"), "{sid}");
        }
        // Neither hands out an address to an INFORMATION-REQUEST.
        assert!(!ours.contains_key("new_ip6_address") && !kea.contains_key("new_ip6_address"));
    }
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn perfdhcp_solicits_all_get_an_advertise() {
    perfdhcp_all_answered("perfdhcp_solicits_all_get_an_advertise", &[]);
}

/// The same through one simulated relay (`-A 1`): RELAY-FORW in, RELAY-REPL back,
/// which perfdhcp unwraps and matches to its SOLICIT.
#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn perfdhcp_relayed_solicits_all_get_an_advertise_in_a_relay_reply() {
    let test = "perfdhcp_relayed_solicits_all_get_an_advertise_in_a_relay_reply";
    if let Some(log) = perfdhcp_all_answered(test, &["-A", "1"]) {
        assert!(log.contains("DHCPv6 reply"), "{log}");
    }
}

/// perfdhcp at 100 SOLICITs/s for 3 s against the server; every one answered. The
/// server's log (`None`: skipped).
fn perfdhcp_all_answered(test: &str, extra: &[&str]) -> Option<String> {
    if !can_run(test, &["perfdhcp"]) {
        return None;
    }
    let mut lab = lab6();
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, CONFIG).unwrap();
    lab.start_server(
        "server",
        &["-v", "-c", cfg.to_str().unwrap(), "--interface", "vs0"],
    );
    assert!(lab.wait_log("server", "DHCPv6 listening", Duration::from_secs(10)));
    let perfdhcp = which("perfdhcp").unwrap();
    let c = lab.client_ns.clone();
    // 100 SOLICITs/s for 3 s from 300 DUIDs, as x64 UEFI (option 61 = 7). Stateless
    // mode sends no IA, so perfdhcp calls every lease "rejected" and sends no REQUEST;
    // what counts is that no SOLICIT went unanswered.
    let mut args = vec![
        perfdhcp.to_str().unwrap(),
        "-6",
        "-l",
        "vc0",
        "-r",
        "100",
        "-p",
        "3",
        "-R",
        "300",
        "-o",
        "61,0007",
    ];
    args.extend_from_slice(extra);
    let (_, out) = lab.run("perfdhcp", &c, &args, Duration::from_secs(30));
    let section = out
        .split("***Statistics for: SOLICIT-ADVERTISE***")
        .nth(1)
        .unwrap_or_else(|| panic!("no SOLICIT-ADVERTISE statistics: {out}"));
    let field = |name: &str| -> u64 {
        section
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name} missing: {out}"))
    };
    let (sent, received) = (field("sent packets:"), field("received packets:"));
    assert!(sent >= 100, "{out}");
    assert_eq!(received, sent, "{out}");
    assert_eq!(field("drops:"), 0, "{out}");
    Some(lab.log("server"))
}
