//! Full mode with real clients: udhcpc and dhclient get leases carrying the boot file,
//! RELEASE frees an address, kill -9 and restart keep leases, SIGHUP and SIGTERM.

use std::time::Duration;

use super::{can_run, which, Lab};

/// A udhcpc lease: (address, boot file, siaddr), or `None` when udhcpc got none.
pub(super) fn udhcpc(
    lab: &mut Lab,
    port: usize,
    release: bool,
) -> Option<(String, String, String)> {
    udhcpc_with(lab, port, release, &[])
}

/// [`udhcpc`] with `extra` arguments (`-x hostname:NAME`, `-x 0x5d:0007` …).
pub(super) fn udhcpc_with(
    lab: &mut Lab,
    port: usize,
    release: bool,
    extra: &[&str],
) -> Option<(String, String, String)> {
    let n = lab.dir.path().read_dir().unwrap().count();
    let out = lab.path(&format!("udhcpc-{port}-{n}.env"));
    let script = lab.path(&format!("udhcpc-{port}-{n}.sh"));
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"$1 ip=$ip boot_file=$boot_file siaddr=$siaddr\" >> {}\n\
             [ \"$1\" = bound ] && ip addr add \"$ip/${{mask:-24}}\" dev \"$interface\"\n\
             [ \"$1\" = deconfig ] && ip addr flush dev \"$interface\"\nexit 0\n",
            out.display()
        ),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    let iface = format!("vc{port}");
    let s = script.to_str().unwrap().to_string();
    let ns = lab.client_ns.clone();
    let label = format!("udhcpc-{port}-{n}");
    if release {
        // -q quits without releasing (busybox 1.35); stay, then SIGTERM with -R releases.
        let cmd = [
            "udhcpc", "-f", "-R", "-t", "4", "-T", "1", "-A", "1", "-i", &iface, "-s", &s,
        ];
        let cmd = [&cmd[..], extra].concat();
        lab.spawn(&label, &ns, &cmd);
        for _ in 0..400 {
            if std::fs::read_to_string(&out)
                .unwrap_or_default()
                .contains("bound ")
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        lab.stop(&label, "TERM");
    } else {
        let cmd = [
            "udhcpc", "-f", "-q", "-n", "-t", "4", "-T", "1", "-A", "1", "-i", &iface, "-s", &s,
        ];
        let cmd = [&cmd[..], extra].concat();
        lab.run(&label, &ns, &cmd, Duration::from_secs(20));
    }
    let env = std::fs::read_to_string(&out).unwrap_or_default();
    let bound = env.lines().find(|l| l.starts_with("bound "))?;
    let field = |k: &str| {
        bound
            .split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{k}=")))
            .unwrap_or("")
            .to_string()
    };
    Some((field("ip"), field("boot_file"), field("siaddr")))
}

fn full_args(lab: &Lab, range: &str) -> Vec<String> {
    [
        "--interface",
        "br0",
        "--range",
        range,
        "--router",
        "192.0.2.1",
        "--dns",
        "192.0.2.1",
        "--lease-time",
        "10m",
        "--boot-file",
        "pxelinux.0",
        "--tftp-server",
        "192.0.2.1",
        "--lease-file",
        lab.path("leases").to_str().unwrap(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn start_full(lab: &mut Lab, label: &str, range: &str) {
    let args = full_args(lab, range);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.start_server(label, &args);
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn udhcpc_and_dhclient_get_leases_with_the_boot_file() {
    let test = "udhcpc_and_dhclient_get_leases_with_the_boot_file";
    if !can_run(test, &["udhcpc", "dhclient"]) {
        return;
    }
    let mut lab = Lab::new(3);
    start_full(&mut lab, "server", "192.0.2.100-192.0.2.150");
    let (a, file, siaddr) =
        udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("server")));
    assert!(a.starts_with("192.0.2.1"), "{a}");
    assert_eq!(file, "pxelinux.0");
    assert_eq!(siaddr, "192.0.2.1");
    let (b, _, _) = udhcpc(&mut lab, 1, false).expect("second client: no lease");
    assert_ne!(a, b, "two clients, one address");
    // The OFFER/ACK went unicast to the address-less client through an ARP entry
    // the server added (SIOCSARP); the client itself never sent an IP packet.
    let neigh = lab.sh_ok(&lab.server_ns.clone(), "ip neigh show dev br0");
    assert!(
        neigh
            .lines()
            .any(|l| l.starts_with(&format!("{a} ")) && l.contains(":00:00")),
        "{neigh}"
    );

    let lf = lab.path("dhclient.leases");
    let conf = lab.path("dhclient.conf");
    std::fs::write(
        &conf,
        "request subnet-mask, routers, domain-name-servers;\n",
    )
    .unwrap();
    let dhclient = which("dhclient").unwrap();
    let ns = lab.client_ns.clone();
    lab.spawn(
        "dhclient",
        &ns,
        &[
            dhclient.to_str().unwrap(),
            "-d",
            "-1",
            "-v",
            "-cf",
            conf.to_str().unwrap(),
            "-lf",
            lf.to_str().unwrap(),
            "-pf",
            lab.path("dhclient.pid").to_str().unwrap(),
            "-sf",
            "/bin/true",
            "vc2",
        ],
    );
    let mut lease = String::new();
    for _ in 0..300 {
        lease = std::fs::read_to_string(&lf).unwrap_or_default();
        if lease.contains("fixed-address") {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        lease.contains("filename \"pxelinux.0\";"),
        "dhclient lease: {lease}\n{}",
        lab.log("dhclient")
    );
    let c = lease
        .lines()
        .find_map(|l| l.trim().strip_prefix("fixed-address "))
        .map(|s| s.trim_end_matches(';').to_string())
        .unwrap();
    assert!(c != a && c != b, "dhclient got {c}, already given");
    let log = lab.log("server");
    assert!(
        log.contains("DHCPOFFER on ") && log.contains("DHCPACK on "),
        "ISC-style lines per exchange: {log}"
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn without_cap_net_admin_replies_fall_back_to_broadcast() {
    let test = "without_cap_net_admin_replies_fall_back_to_broadcast";
    if !can_run(test, &["udhcpc", "setpriv"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let args = full_args(&lab, "192.0.2.100-192.0.2.150");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    // No CAP_NET_ADMIN: SIOCSARP fails, the OFFER and ACK go out as broadcasts.
    lab.start_server_via(
        "server",
        &["setpriv", "--bounding-set=-net_admin", "--"],
        &args,
    );
    let (a, file, _) =
        udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("server")));
    assert_eq!(file, "pxelinux.0");
    let neigh = lab.sh_ok(&lab.server_ns.clone(), "ip neigh show dev br0");
    assert!(
        !neigh.lines().any(|l| l.starts_with(&format!("{a} "))),
        "an ARP entry was added anyway: {neigh}"
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn release_frees_the_address_for_the_next_client() {
    let test = "release_frees_the_address_for_the_next_client";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(3);
    start_full(&mut lab, "server", "192.0.2.100-192.0.2.100");
    let (a, _, _) = udhcpc(&mut lab, 0, true).expect("first client: no lease");
    assert_eq!(a, "192.0.2.100");
    assert!(
        lab.wait_log("server", "released", Duration::from_secs(5)),
        "{}",
        lab.log("server")
    );
    let (b, _, _) = udhcpc(&mut lab, 1, false).expect("after RELEASE the address is free again");
    assert_eq!(b, "192.0.2.100");
    assert!(
        udhcpc(&mut lab, 2, false).is_none(),
        "the only address is held: no lease for a third client"
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn kill_9_and_restart_keep_every_acknowledged_lease() {
    let test = "kill_9_and_restart_keep_every_acknowledged_lease";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(3);
    start_full(&mut lab, "server", "192.0.2.100-192.0.2.150");
    let (a, _, _) = udhcpc(&mut lab, 0, false).expect("no lease");
    let (b, _, _) = udhcpc(&mut lab, 1, false).expect("no lease");
    lab.stop("server", "KILL");
    start_full(&mut lab, "server2", "192.0.2.100-192.0.2.150");
    // A new client first: it must get neither acknowledged address.
    let (c, _, _) = udhcpc(&mut lab, 2, false).expect("no lease after restart");
    assert!(
        c != a && c != b,
        "{c} was acknowledged to another client before the crash"
    );
    let (a2, _, _) = udhcpc(&mut lab, 0, false).expect("no lease after restart");
    assert_eq!(a2, a, "the first client keeps its address");
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn sighup_reloads_only_a_valid_config_and_sigterm_stops_cleanly() {
    let test = "sighup_reloads_only_a_valid_config_and_sigterm_stops_cleanly";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(2);
    let cfg = lab.path("dhcpd-pxe.toml");
    let leases = lab.path("leases");
    let write = |file: &str| {
        let text = format!(
            "lease_file = \"{}\"\ninterfaces = [\"br0\"]\n\n[[subnet]]\nnetwork = \"192.0.2.0/24\"\nrange = [\"192.0.2.100-192.0.2.150\"]\n\n[[boot]]\nfile = \"{file}\"\n",
            leases.display()
        );
        std::fs::write(&cfg, text).unwrap();
    };
    write("first.0");
    lab.start_server("server", &["--config", cfg.to_str().unwrap()]);
    assert_eq!(udhcpc(&mut lab, 0, false).expect("no lease").1, "first.0");
    std::fs::write(&cfg, "[[subnet]]\nnetwork = \"nonsense\"\n").unwrap();
    let pid = lab.pid("server").unwrap().to_string();
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(
        lab.wait_log("server", "keeping the running one", Duration::from_secs(5)),
        "{}",
        lab.log("server")
    );
    assert!(lab.alive("server"));
    assert_eq!(udhcpc(&mut lab, 1, false).expect("no lease").1, "first.0");
    write("second.0");
    std::process::Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .unwrap();
    assert!(
        lab.wait_log("server", "configuration reloaded", Duration::from_secs(5)),
        "{}",
        lab.log("server")
    );
    assert_eq!(udhcpc(&mut lab, 0, false).expect("no lease").1, "second.0");
    let status = lab
        .stop("server", "TERM")
        .expect("no exit within 10 s of SIGTERM");
    assert!(
        status.success(),
        "exit status {status:?}: {}",
        lab.log("server")
    );
}
