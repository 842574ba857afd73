//! Two dhcpd-pxe instances on one PostgreSQL lease database (a throw-away
//! cluster on a Unix socket), on one bridge: real clients and perfdhcp across
//! both never get one address twice; kill -9 of one keeps the other serving
//! and its acknowledged leases in the database; PostgreSQL stopped and started
//! during a run: no ACK without a committed lease, then service resumes.
//!
//! ```text
//!  netns S: br0 192.0.2.1/24 198.18.0.1/15 (instance a) ─┬─ vsb ══ eth0 netns B: 192.0.2.2/24 198.18.0.3/15 (instance b)
//!                                                        └─ vsN ══ vcN netns C (clients; vc0 198.18.0.2, .4 for perfdhcp)
//! ```

#[path = "../../../../../crates/dhcp-server/tests/integration/pgcluster.rs"]
mod pgcluster;

use std::time::{Duration, Instant};

use pgcluster::PgCluster;

use super::{can_run, skip, which, Lab};

const A: &str = "192.0.2.1";
const B: &str = "192.0.2.2";

struct Shared {
    lab: Lab,
    pg: PgCluster,
    b_ns: String,
}

fn setup(test: &str, clients: usize) -> Option<Shared> {
    if !can_run(test, &["udhcpc", "perfdhcp"]) {
        return None;
    }
    let pg = match PgCluster::start() {
        Ok(pg) => pg,
        Err(why) => {
            skip::skip(test, &why);
            return None;
        }
    };
    let mut lab = Lab::new(clients);
    let b_ns = format!("{}-b", lab.server_ns);
    lab.extra_ns(&b_ns);
    let s = lab.server_ns.clone();
    lab.sh_ok(&s, "ip addr add 198.18.0.1/15 dev br0");
    lab.sh_ok(
        &s,
        &format!("ip link add vsb type veth peer name eth0 netns {b_ns} && ip link set vsb master br0 && ip link set vsb up"),
    );
    lab.sh_ok(&b_ns, "ip link set lo up && ip link set eth0 up && ip addr add 192.0.2.2/24 dev eth0 && ip addr add 198.18.0.3/15 dev eth0");
    let c = lab.client_ns.clone();
    lab.sh_ok(
        &c,
        "ip addr add 198.18.0.2/15 dev vc0 && ip addr add 198.18.0.4/15 dev vc0",
    );
    Some(Shared { lab, pg, b_ns })
}

impl Shared {
    /// Starts instance `name` ("a" in S on br0, "b" in B on eth0, with a pool
    /// of two connections).
    fn start(&mut self, name: &str) {
        let (ns, iface) = if name == "a" {
            (self.lab.server_ns.clone(), "br0")
        } else {
            (self.b_ns.clone(), "eth0")
        };
        let conf = self.lab.path(&format!("{name}.toml"));
        std::fs::write(
            &conf,
            format!(
                "mode = \"full\"\ninterfaces = [\"{iface}\"]\nlease_time = 600\n\
                 [[subnet]]\nnetwork = \"192.0.2.0/24\"\ninterface = \"{iface}\"\n\
                 range = [\"192.0.2.100-192.0.2.150\"]\nrouters = [\"192.0.2.1\"]\n\
                 [[subnet]]\nnetwork = \"198.18.0.0/15\"\nrange = [\"198.18.1.0-198.18.1.255\"]\n\
                 [[boot]]\nfile = \"pxelinux.0\"\n\
                 [lease_store]\nkind = \"postgres\"\nurl = \"{}\"\ninstance = \"{name}\"\n\
                 pool_size = {}\n",
                self.pg.url(),
                // b writes over two connections at once, a over one.
                if name == "a" { 1 } else { 2 }
            ),
        )
        .unwrap();
        let bin = env!("CARGO_BIN_EXE_dhcpd-pxe");
        let conf = conf.to_str().unwrap().to_string();
        self.lab.spawn(name, &ns, &[bin, "--config", &conf]);
        assert!(
            self.lab
                .wait_log(name, "listening", Duration::from_secs(10)),
            "instance {name} did not start: {}",
            self.lab.log(name)
        );
    }

    /// perfdhcp in relay mode from `local` to `server`, in the background.
    fn perfdhcp(&mut self, label: &str, local: &str, server: &str, secs: &str, mac: &str) {
        let p = which("perfdhcp").unwrap();
        let ns = self.lab.client_ns.clone();
        let base = format!("mac={mac}");
        self.lab.spawn(
            label,
            &ns,
            &[
                p.to_str().unwrap(),
                "-4",
                "-r",
                "200",
                "-R",
                "1500",
                "-p",
                secs,
                "-b",
                &base,
                "-l",
                local,
                server,
            ],
        );
    }

    /// Waits (bounded) for a background perfdhcp to end; its report.
    fn perfdhcp_report(&mut self, label: &str) -> String {
        let end = Instant::now() + Duration::from_secs(40);
        while self.lab.alive(label) && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.lab.log(label)
    }

    /// udhcpc on vc`port`: (address, server id) of its lease, or `None`.
    fn udhcpc(&mut self, port: usize, tries: &str) -> Option<(String, String)> {
        let out = self.lab.path(&format!("udhcpc-{port}-{tries}.env"));
        let script = self.lab.path(&format!("udhcpc-{port}-{tries}.sh"));
        std::fs::write(
            &script,
            format!(
                "#!/bin/sh\necho \"$1 ip=$ip serverid=$serverid\" >> {}\nexit 0\n",
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
        let ns = self.lab.client_ns.clone();
        let cmd = [
            "udhcpc", "-f", "-q", "-n", "-t", tries, "-T", "1", "-A", "1", "-i", &iface, "-s", &s,
        ];
        self.lab.run(
            &format!("udhcpc-{port}-{tries}"),
            &ns,
            &cmd,
            Duration::from_secs(30),
        );
        let env = std::fs::read_to_string(&out).unwrap_or_default();
        let bound = env.lines().find(|l| l.starts_with("bound "))?;
        let field = |k: &str| {
            bound
                .split_whitespace()
                .find_map(|w| w.strip_prefix(&format!("{k}=")))
                .unwrap_or("")
                .to_string()
        };
        Some((field("ip"), field("serverid")))
    }

    /// The MAC of vc`port` as the database stores the client (option 61: 01 + MAC).
    fn client_hex(&self, port: usize) -> String {
        let mac = self.lab.sh_ok(
            &self.lab.client_ns,
            &format!("cat /sys/class/net/vc{port}/address"),
        );
        format!("01{}", mac.trim().replace(':', ""))
    }

    /// `addr`'s bound row: "client-hex server", or "" when none.
    fn bound_row(&self, addr: &str) -> String {
        self.pg
            .psql(&format!(
                "SELECT encode(client, 'hex') || ' ' || server FROM dhcpd_pxe.lease \
                 WHERE addr = '{addr}' AND state = 'bound'"
            ))
            .trim()
            .to_string()
    }
}

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

fn check_perfdhcp(out: &str) -> f64 {
    let acks = stat(out, "REQUEST-ACK", "received packets")
        .unwrap_or_else(|| panic!("perfdhcp output: {out}"));
    assert_eq!(
        stat(out, "REQUEST-ACK", "non unique addresses"),
        Some(0.0),
        "{out}"
    );
    assert_eq!(
        stat(out, "DISCOVER-OFFER", "non unique addresses"),
        Some(0.0),
        "{out}"
    );
    acks
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn two_instances_on_one_database_never_give_one_address_twice() {
    let test = "two_instances_on_one_database_never_give_one_address_twice";
    let Some(mut t) = setup(test, 6) else { return };
    t.start("a");
    t.start("b");
    // 3,000 clients from two directions for 256 addresses: both servers run dry.
    t.perfdhcp(
        "perf-a",
        "198.18.0.2",
        "198.18.0.1",
        "6",
        "02:aa:00:00:00:00",
    );
    t.perfdhcp(
        "perf-b",
        "198.18.0.4",
        "198.18.0.3",
        "6",
        "02:bb:00:00:00:00",
    );
    let mut got = Vec::new();
    for port in 1..=5 {
        let (ip, sid) = t.udhcpc(port, "6").unwrap_or_else(|| {
            panic!("vc{port}: no lease\n{}\n{}", t.lab.log("a"), t.lab.log("b"))
        });
        assert!(sid == A || sid == B, "server id {sid}");
        assert_eq!(
            t.bound_row(&ip).split(' ').next(),
            Some(t.client_hex(port).as_str())
        );
        got.push(ip);
    }
    let mut dedup = got.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), got.len(), "an address given twice: {got:?}");
    let acks_a = check_perfdhcp(&t.perfdhcp_report("perf-a"));
    let acks_b = check_perfdhcp(&t.perfdhcp_report("perf-b"));
    assert!(acks_a > 0.0 && acks_b > 0.0, "{acks_a} {acks_b}");
    assert!(t.lab.alive("a") && t.lab.alive("b"));
    // The database: one row per address by construction; the pool holds 256.
    let bound = t.pg.psql(
        "SELECT count(*) FROM dhcpd_pxe.lease WHERE state = 'bound' AND addr << '198.18.1.0/24'",
    );
    let bound: f64 = bound.trim().parse().unwrap();
    assert!((200.0..=256.0).contains(&bound), "{bound} bound rows");
    let refused =
        t.lab.log("a").matches("REFUSED").count() + t.lab.log("b").matches("REFUSED").count();
    eprintln!(
        "{acks_a} + {acks_b} ACKs, {bound} rows bound, {refused} records refused by the database"
    );
    for name in ["a", "b"] {
        let status = t.lab.stop(name, "TERM").expect("no exit after SIGTERM");
        assert!(status.success(), "{}", t.lab.log(name));
    }
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn kill_9_of_one_instance_keeps_the_other_serving_and_its_leases_stored() {
    let test = "kill_9_of_one_instance_keeps_the_other_serving_and_its_leases_stored";
    let Some(mut t) = setup(test, 4) else { return };
    t.start("a");
    t.start("b");
    t.perfdhcp(
        "perf-b",
        "198.18.0.4",
        "198.18.0.3",
        "4",
        "02:bb:00:00:00:00",
    );
    // Clients served by b: a is paused meanwhile.
    let pa = t.lab.pid("a").unwrap().to_string();
    t.lab
        .sh_ok(&t.lab.server_ns.clone(), &format!("kill -STOP {pa}"));
    let mut from_b = Vec::new();
    for port in 1..=2 {
        let lease = t.udhcpc(port, "6");
        from_b
            .push(lease.unwrap_or_else(|| panic!("vc{port}: no lease from b: {}", t.lab.log("b"))));
    }
    t.lab
        .sh_ok(&t.lab.server_ns.clone(), &format!("kill -CONT {pa}"));
    assert!(from_b.iter().all(|(_, sid)| sid == B), "{from_b:?}");
    std::thread::sleep(Duration::from_millis(500));
    t.lab.stop("b", "KILL");
    // Every lease b acknowledged is in the database, bound to its client.
    for (port, (ip, _)) in (1..=2).zip(&from_b) {
        assert_eq!(t.bound_row(ip), format!("{} b", t.client_hex(port)));
    }
    // `leases` with a's configuration reads the same rows, details included.
    let conf = t.lab.path("a.toml");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dhcpd-pxe"))
        .args(["leases", "--json", "--config", conf.to_str().unwrap()])
        .output()
        .unwrap();
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    for (port, (ip, _)) in (1..=2).zip(&from_b) {
        let row = rows
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["address"] == ip.as_str())
            .unwrap_or_else(|| panic!("{ip} not listed: {json}"));
        assert_eq!(row["state"], "bound", "{json}");
        assert_eq!(
            row["client_id"].as_str().map(|c| c.replace(':', "")),
            Some(t.client_hex(port)),
            "{json}"
        );
        assert_eq!(row["boot_file"], "pxelinux.0", "{json}");
        assert!(row["start"].as_u64().is_some(), "{json}");
        assert_eq!(row["subnet"], "192.0.2.0/24", "{json}");
    }
    // a keeps serving, and never offers b's addresses.
    t.perfdhcp(
        "perf-a",
        "198.18.0.2",
        "198.18.0.1",
        "3",
        "02:aa:00:00:00:00",
    );
    let (ip, sid) = t
        .udhcpc(3, "6")
        .unwrap_or_else(|| panic!("no lease from a: {}", t.lab.log("a")));
    assert_eq!(sid, A);
    assert!(from_b.iter().all(|(b, _)| b != &ip), "{ip} was b's");
    assert!(check_perfdhcp(&t.perfdhcp_report("perf-a")) > 0.0);
    let _ = t.perfdhcp_report("perf-b");
    assert!(t.lab.alive("a"), "{}", t.lab.log("a"));
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn postgres_stopped_and_started_no_ack_without_a_committed_lease() {
    let test = "postgres_stopped_and_started_no_ack_without_a_committed_lease";
    let Some(mut t) = setup(test, 3) else { return };
    t.start("a");
    let (ip1, _) = t.udhcpc(1, "6").expect("no lease before the stop");
    assert_eq!(t.bound_row(&ip1), format!("{} a", t.client_hex(1)));
    t.pg.stop_server("fast");
    // The server still answers DISCOVERs, but no REQUEST is acknowledged.
    assert_eq!(
        t.udhcpc(2, "3"),
        None,
        "a lease while the database was down"
    );
    let log = t.lab.log("a");
    assert!(log.contains("DHCPOFFER on"), "{log}");
    // Client 1's ACK only: an ACK that never left is not logged as sent.
    assert_eq!(log.matches("DHCPACK on").count(), 1, "{log}");
    assert_eq!(
        log.matches("lease database unreachable").count(),
        1,
        "logged once: {log}"
    );
    t.pg.start_server();
    let (ip2, sid) = t
        .udhcpc(2, "12")
        .unwrap_or_else(|| panic!("no lease after the restart: {}", t.lab.log("a")));
    assert_eq!(sid, A);
    assert_ne!(ip1, ip2);
    assert_eq!(t.bound_row(&ip2), format!("{} a", t.client_hex(2)));
    assert!(
        t.lab.log("a").contains("reachable again"),
        "{}",
        t.lab.log("a")
    );
    assert!(t.lab.alive("a"));
}
