//! DHCPv6 full mode against real clients: `dhclient -6` (stateful) gets an address
//! of the range and option 59, keeps it on a second run and across a restart of
//! dhcpd-pxe (the lease file), and releases it (`-r`); perfdhcp runs the whole
//! SOLICIT/ADVERTISE/REQUEST/REPLY exchange for 50 clients with no drop; Kea's
//! `kea-dhcp6` with the same range gives the same client an address of the range
//! with the same lifetimes, T1, T2 and option 59.
//!
//! Topology: as `dhcpv6.rs` (S: vs0 2001:db8::1/64 ⇄ C: vc0, link-local only).

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use dhcp_server::v6::{replay6, Binding6, State6};

use super::dhcpv6::{lab6, start_kea};
use super::{can_run, which, Lab};

const FIRST: &str = "2001:db8::100";
const LAST: &str = "2001:db8::1ff";

fn config(leases: &Path) -> String {
    config_with(leases, "")
}

/// [`config`] with `extra` lines in `[dhcpv6]`.
fn config_with(leases: &Path, extra: &str) -> String {
    format!(
        "mode = \"proxy\"\n\n[[boot]]\nfile = \"pxelinux.0\"\n\n\
         [dhcpv6]\nmode = \"full\"\ninterfaces = [\"vs0\"]\n\
         range = [\"{FIRST}\", \"{LAST}\"]\npreferred_lifetime = 600\nvalid_lifetime = 900\n\
         lease_file = {:?}\n{extra}\n\
         [[dhcpv6.boot]]\nclass = \"efi-x64\"\nfile = \"grubx64.efi\"\n",
        leases.display()
    )
}

fn in_range(a: Ipv6Addr) -> bool {
    let (f, l): (Ipv6Addr, Ipv6Addr) = (FIRST.parse().unwrap(), LAST.parse().unwrap());
    (f..=l).contains(&a)
}

/// The last record of every address in the server's lease file.
fn bindings(path: &Path) -> BTreeMap<Ipv6Addr, Binding6> {
    let data = std::fs::read(path).unwrap();
    let r = replay6(&data).unwrap();
    r.records.into_iter().map(|b| (b.addr, b)).collect()
}

/// A dhclient -6 (stateful, option 61 = 7, 59 asked for) with DUID-LL `mac`,
/// its files named `tag`.
struct Client {
    tag: String,
    duid_mac: [u8; 6],
    /// More lines of dhclient.conf.
    conf: &'static str,
}

impl Client {
    fn files(&self, lab: &Lab) -> [std::path::PathBuf; 4] {
        ["conf", "sh", "leases", "env"].map(|e| lab.path(&format!("{}.{e}", self.tag)))
    }

    /// Runs until dhclient has bound (SOLICIT … REPLY, its script run with the
    /// address) and stops it; the script's variables, `None` on no address in 20 s.
    fn bind(&self, lab: &mut Lab) -> Option<BTreeMap<String, String>> {
        let [conf, script, leases, env] = self.files(lab);
        let text = format!(
            "option dhcp6.bootfile-url code 59 = string;\n\
             option dhcp6.client-arch-type code 61 = unsigned integer 16;\n\
             request dhcp6.bootfile-url;\nsend dhcp6.client-arch-type 7;\n{}",
            self.conf
        );
        std::fs::write(&conf, text).unwrap();
        // dhclient takes its DUID from the lease file: a DUID-LL per client, and
        // no lease (that it would only CONFIRM): every run asks the server anew.
        let octal: String = [0u8, 3, 0, 1]
            .iter()
            .chain(&self.duid_mac)
            .map(|b| format!("\\{b:03o}"))
            .collect();
        std::fs::write(&leases, format!("default-duid \"{octal}\";\n")).unwrap();
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\n{{ echo reason=$reason; env | grep '^new_'; echo ---; }} >> {}\nexit 0\n",
                env.display()
            ),
        )
        .unwrap();
        std::process::Command::new("chmod")
            .arg("+x")
            .arg(&script)
            .status()
            .unwrap();
        let _ = std::fs::remove_file(&env);
        let dhclient = which("dhclient").unwrap();
        let pf = lab.path(&format!("{}.pid", self.tag));
        let ns = lab.client_ns.clone();
        let label = format!("{}-run", self.tag);
        lab.spawn(
            &label,
            &ns,
            &[
                dhclient.to_str().unwrap(),
                "-6",
                "-d",
                "-v",
                "-cf",
                conf.to_str().unwrap(),
                "-lf",
                leases.to_str().unwrap(),
                "-pf",
                pf.to_str().unwrap(),
                "-sf",
                script.to_str().unwrap(),
                "vc0",
            ],
        );
        let end = Instant::now() + Duration::from_secs(20);
        let mut got = None;
        while Instant::now() < end && got.is_none() {
            let text = std::fs::read_to_string(&env).unwrap_or_default();
            got = text
                .split("---")
                .filter(|e| e.contains("new_ip6_address="))
                .last()
                .map(|e| {
                    e.lines()
                        .filter_map(|l| l.split_once('='))
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect::<BTreeMap<_, _>>()
                });
            std::thread::sleep(Duration::from_millis(50));
        }
        if got.is_none() {
            eprintln!("{}: no address:\n{}", self.tag, lab.log(&label));
        }
        lab.stop(&label, "TERM");
        got
    }

    /// `dhclient -6 -r`: a RELEASE of the lease in its lease file (the last run's).
    fn release(&self, lab: &mut Lab) -> bool {
        let [conf, script, leases, _] = self.files(lab);
        // A pid file of its own: -r signals the pid it names.
        let pf = lab.path(&format!("{}-release.pid", self.tag));
        let dhclient = which("dhclient").unwrap();
        let ns = lab.client_ns.clone();
        let (ok, log) = lab.run(
            &format!("{}-release", self.tag),
            &ns,
            &[
                dhclient.to_str().unwrap(),
                "-6",
                "-r",
                "-v",
                "-cf",
                conf.to_str().unwrap(),
                "-lf",
                leases.to_str().unwrap(),
                "-pf",
                pf.to_str().unwrap(),
                "-sf",
                script.to_str().unwrap(),
                "vc0",
            ],
            Duration::from_secs(20),
        );
        if !ok {
            eprintln!("dhclient -6 -r failed:\n{log}");
        }
        ok
    }
}

fn address(vars: &BTreeMap<String, String>) -> Ipv6Addr {
    vars.get("new_ip6_address")
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no new_ip6_address: {vars:?}"))
}

fn start(lab: &mut Lab, cfg: &Path, label: &str) {
    lab.start_server(
        label,
        &["-c", cfg.to_str().unwrap(), "--interface", "vs0", "-vv"],
    );
    assert!(
        lab.wait_log(label, "DHCPv6 listening", Duration::from_secs(10)),
        "{}",
        lab.log(label)
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn dhclient_gets_keeps_and_releases_an_address_and_a_restart_keeps_it() {
    let test = "dhclient_gets_keeps_and_releases_an_address_and_a_restart_keeps_it";
    if !can_run(test, &["dhclient"]) {
        return;
    }
    let mut lab = lab6();
    let leases = lab.path("dhcp6.leases");
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, config(&leases)).unwrap();
    start(&mut lab, &cfg, "server");
    // X takes the range's first address, so that A's is one a fresh server would
    // not give it first.
    let x = Client {
        tag: "x".into(),
        duid_mac: [2, 0, 0, 0, 0, 0x0a],
        conf: "",
    };
    let a = Client {
        tag: "a".into(),
        duid_mac: [2, 0, 0, 0, 0, 0x0b],
        conf: "",
    };
    let xv = x
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("X: {}", lab.log("server")));
    assert_eq!(address(&xv), FIRST.parse::<Ipv6Addr>().unwrap());
    let av = a
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("A: {}", lab.log("server")));
    let mine = address(&av);
    assert!(in_range(mine) && mine != address(&xv), "{av:?}");
    assert_eq!(
        av.get("new_dhcp6_bootfile_url").map(String::as_str),
        Some("tftp://[2001:db8::1]/grubx64.efi"),
        "{av:?}"
    );
    assert_eq!(
        av.get("new_preferred_life").map(String::as_str),
        Some("600")
    );
    assert_eq!(av.get("new_max_life").map(String::as_str), Some("900"));
    // On disk before the REPLY: the lease file has A's binding.
    let on_disk = bindings(&leases);
    assert_eq!(on_disk.get(&mine).map(|b| b.state), Some(State6::Bound));
    // `dhcpd-pxe leases --v6` reads the same file while the daemon runs: A's
    // row is bound, with the MAC of its DUID-LL.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dhcpd-pxe"))
        .args(["leases", "--v6", "--json", "-c"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == mine.to_string())
        .unwrap_or_else(|| panic!("no row for {mine}: {rows}"));
    assert_eq!(row["state"], "bound", "{row}");
    assert_eq!(row["hwaddr"], "02:00:00:00:00:0b", "{row}");
    // A second run: the same address.
    let again = a.bind(&mut lab).expect("A, second run");
    assert_eq!(address(&again), mine);
    // A restart of dhcpd-pxe: the lease file keeps A's address.
    lab.stop("server", "TERM");
    start(&mut lab, &cfg, "server2");
    let after = a
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("A after the restart: {}", lab.log("server2")));
    assert_eq!(address(&after), mine, "{}", lab.log("server2"));
    // RELEASE: the address is free in the lease file.
    assert!(a.release(&mut lab));
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end
        && bindings(&leases).get(&mine).map(|b| b.state) != Some(State6::Released)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        bindings(&leases).get(&mine).map(|b| b.state),
        Some(State6::Released),
        "{}",
        lab.log("server2")
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn perfdhcp_full_exchanges_get_addresses_of_the_range_with_no_drop() {
    let test = "perfdhcp_full_exchanges_get_addresses_of_the_range_with_no_drop";
    if !can_run(test, &["perfdhcp"]) {
        return;
    }
    let mut lab = lab6();
    let leases = lab.path("dhcp6.leases");
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, config(&leases)).unwrap();
    start(&mut lab, &cfg, "server");
    let perfdhcp = which("perfdhcp").unwrap();
    let c = lab.client_ns.clone();
    // 20 exchanges/s for 5 s from 50 DUIDs, as x64 UEFI; perfdhcp sends a REQUEST
    // for every ADVERTISE that holds an address.
    let cmd = [
        perfdhcp.to_str().unwrap(),
        "-6",
        "-l",
        "vc0",
        "-R",
        "50",
        "-r",
        "20",
        "-p",
        "5",
        "-o",
        "61,0007",
    ];
    let (_, out) = lab.run("perfdhcp", &c, &cmd, Duration::from_secs(40));
    for name in ["SOLICIT-ADVERTISE", "REQUEST-REPLY"] {
        let section = out
            .split(&format!("***Statistics for: {name}***"))
            .nth(1)
            .unwrap_or_else(|| panic!("no {name} statistics: {out}"));
        let field = |f: &str| -> u64 {
            section
                .lines()
                .find_map(|l| l.strip_prefix(f))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{name}: {f} missing: {out}"))
        };
        let (sent, received) = (field("sent packets:"), field("received packets:"));
        assert!(sent >= 50, "{name}: {out}");
        assert_eq!(received, sent, "{name}: {out}");
        assert_eq!(field("drops:"), 0, "{name}: {out}");
        assert_eq!(field("rejected leases:"), 0, "{name}: {out}");
    }
    let all = bindings(&leases);
    assert!(!all.is_empty(), "nothing bound: {out}");
    assert!(all.len() <= 50, "one address per DUID: {}", all.len());
    for (a, b) in &all {
        assert!(in_range(*a), "{a}");
        assert_eq!(b.state, State6::Bound);
    }
}

/// Kea with the same range, lifetimes and boot file as [`config`].
fn kea_full(dir: &Path) -> String {
    format!(
        r#"{{"Dhcp6": {{
  "data-directory": "{dir}",
  "interfaces-config": {{"interfaces": ["vs0"]}},
  "lease-database": {{"type": "memfile", "persist": false}},
  "server-id": {{"type": "LL", "persist": false}},
  "preferred-lifetime": 600, "valid-lifetime": 900,
  "client-classes": [
    {{"name": "efi-x64", "test": "option[61].hex == 0x0007",
     "option-data": [{{"name": "bootfile-url", "data": "tftp://[2001:db8::1]/grubx64.efi"}}]}}
  ],
  "subnet6": [{{"subnet": "2001:db8::/64", "interface": "vs0",
    "pools": [{{"pool": "{FIRST}-{LAST}"}}]}}],
  "loggers": [{{"name": "kea-dhcp6", "output_options": [{{"output": "stdout"}}], "severity": "INFO"}}]
}}}}"#,
        dir = dir.display()
    )
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn same_stateful_exchange_same_lease_as_kea() {
    let test = "same_stateful_exchange_same_lease_as_kea";
    if !can_run(test, &["dhclient", "kea-dhcp6"]) {
        return;
    }
    let mut lab = lab6();
    start_kea(&mut lab, kea_full);
    let client = Client {
        tag: "k".into(),
        duid_mac: [2, 0, 0, 0, 0, 0x0c],
        conf: "",
    };
    let theirs = client
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("Kea: no address: {}", lab.log("kea")));
    lab.stop("kea", "TERM");
    let leases = lab.path("dhcp6.leases");
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, config(&leases)).unwrap();
    start(&mut lab, &cfg, "server");
    let ours = client
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("dhcpd-pxe: no address: {}", lab.log("server")));
    for vars in [&theirs, &ours] {
        assert!(in_range(address(vars)), "{vars:?}");
        // A DUID-LL of Ethernet each.
        let sid = vars.get("new_dhcp6_server_id").cloned().unwrap_or_default();
        assert!(sid.starts_with("0:3:0:1:"), "{sid}");
    }
    for key in [
        "new_preferred_life",
        "new_max_life",
        "new_renew",
        "new_rebind",
        "new_dhcp6_bootfile_url",
        "new_iaid",
        "new_ip6_prefixlen",
    ] {
        assert!(theirs.contains_key(key), "Kea sent no {key}: {theirs:?}");
        assert_eq!(ours.get(key), theirs.get(key), "{key}");
    }
}

/// dhclient with `send dhcp6.rapid-commit`: with `rapid_commit = true` the SOLICIT
/// is answered by a REPLY that binds (no REQUEST); without it, by an ADVERTISE.
#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn dhclient_rapid_commit_gets_its_address_from_the_solicit() {
    let test = "dhclient_rapid_commit_gets_its_address_from_the_solicit";
    if !can_run(test, &["dhclient"]) {
        return;
    }
    let mut lab = lab6();
    let leases = lab.path("dhcp6.leases");
    let cfg = lab.path("dhcpd-pxe.toml");
    std::fs::write(&cfg, config_with(&leases, "rapid_commit = true\n")).unwrap();
    start(&mut lab, &cfg, "server");
    let client = Client {
        tag: "rc".into(),
        duid_mac: [2, 0, 0, 0, 0, 0x0d],
        conf: "send dhcp6.rapid-commit;\n",
    };
    let vars = client
        .bind(&mut lab)
        .unwrap_or_else(|| panic!("no address: {}", lab.log("server")));
    let a = address(&vars);
    assert!(in_range(a), "{vars:?}");
    let log = lab.log("server");
    assert!(log.contains(&format!("note={a} bound for 900 s")), "{log}");
    assert!(
        !log.contains("reply=Advertise"),
        "rapid commit: no ADVERTISE: {log}"
    );
    assert_eq!(
        bindings(&leases).get(&a).map(|b| b.state),
        Some(State6::Bound)
    );
}
