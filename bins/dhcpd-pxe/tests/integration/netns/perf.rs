//! perfdhcp (relay mode) against dhcpd-pxe: no address acknowledged to two clients,
//! no crash, and a clean stop afterwards.

use std::collections::HashMap;
use std::time::Duration;

use super::{can_run, which, Lab};

fn stat(out: &str, section: &str, key: &str) -> Option<f64> {
    let at = out.find(&format!("Statistics for: {section}"))?;
    out[at..]
        .lines()
        .find_map(|l| l.trim().strip_prefix(key))
        .and_then(|v| {
            v.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn perfdhcp_relay_load_gives_no_duplicate_addresses_and_no_crash() {
    let test = "perfdhcp_relay_load_gives_no_duplicate_addresses_and_no_crash";
    if !can_run(test, &["perfdhcp"]) {
        return;
    }
    let mut lab = Lab::new(1);
    lab.sh_ok(&lab.server_ns.clone(), "ip addr add 198.18.0.1/15 dev br0");
    lab.sh_ok(&lab.client_ns.clone(), "ip addr add 198.18.0.2/15 dev vc0");
    let leases = lab.path("leases").to_str().unwrap().to_string();
    lab.start_server(
        "server",
        &[
            "--interface",
            "br0",
            "--subnet",
            "198.18.0.0/15",
            "--range",
            "198.18.1.0-198.18.1.255",
            "--boot-file",
            "pxelinux.0",
            "--lease-file",
            &leases,
        ],
    );
    let perfdhcp = which("perfdhcp").unwrap();
    let ns = lab.client_ns.clone();
    // 1,500 clients for 256 addresses: the pool runs dry, so later clients must be refused, not doubled.
    let (_, out) = lab.run(
        "perfdhcp",
        &ns,
        &[
            perfdhcp.to_str().unwrap(),
            "-4",
            "-r",
            "300",
            "-R",
            "1500",
            "-p",
            "5",
            "-l",
            "198.18.0.2",
            "198.18.0.1",
        ],
        Duration::from_secs(30),
    );
    let log = lab.log("server");
    assert!(lab.alive("server"), "dhcpd-pxe died under load: {log}");
    let acked = stat(&out, "REQUEST-ACK", "received packets")
        .unwrap_or_else(|| panic!("perfdhcp output: {out}"));
    assert!(acked >= 200.0, "only {acked} ACKs: {out}");
    assert_eq!(
        stat(&out, "REQUEST-ACK", "non unique addresses"),
        Some(0.0),
        "{out}"
    );
    assert_eq!(
        stat(&out, "DISCOVER-OFFER", "non unique addresses"),
        Some(0.0),
        "{out}"
    );
    // From the server's own log: every address acknowledged to one client only.
    let mut owner: HashMap<String, String> = HashMap::new();
    for l in log.lines().filter(|l| l.contains("DHCPACK on ")) {
        let client = l
            .split(" to ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .to_string();
        let addr = l
            .split("DHCPACK on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap()
            .to_string();
        if let Some(prev) = owner.insert(addr.clone(), client.clone()) {
            assert_eq!(prev, client, "{addr} acknowledged to two clients");
        }
    }
    assert!(
        owner.len() <= 256 && owner.len() >= 200,
        "{} addresses acknowledged",
        owner.len()
    );
    let status = lab.stop("server", "TERM").expect("no exit after SIGTERM");
    assert!(status.success());
}
