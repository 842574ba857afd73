//! The daemon in network namespaces, against real DHCP clients (udhcpc, dhclient),
//! ISC dhcpd beside the proxy, and perfdhcp.
//!
//! Topology per test (names carry the pid and a counter, so tests run in parallel):
//!
//! ```text
//!  netns S: br0 192.0.2.1/24 ── vsN ══ vcN ── netns C (clients, one veth each)
//! ```
//!
//! Needs root; without it (and outside CI) each test prints `SKIPPED: …` and returns.

#[path = "../../../../../tests/support/skip.rs"]
pub(crate) mod skip;

mod clients;
mod dhcpv6;
mod dhcpv6_full;
mod hostile;
mod isc;
mod leases;
mod observe;
mod perf;
mod shared_db;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// Whether the test can run; prints SKIPPED otherwise (panics under CI=true).
pub(crate) fn can_run(test: &str, tools: &[&str]) -> bool {
    // SAFETY-free root check: /proc/self/status "Uid:" first field.
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0");
    if !root {
        skip::skip(test, "needs root for network namespaces");
        return false;
    }
    for t in tools.iter().chain(&["ip"]) {
        if which(t).is_none() {
            skip::skip(
                test,
                &format!("{t} is not installed (scripts/install-dhcp-peers)"),
            );
            return false;
        }
    }
    true
}

pub(crate) fn which(tool: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(tool))
        .find(|p| p.is_file());
    found
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().expect("running ip");
    assert!(
        out.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a bridge, processes started inside, all removed on drop.
pub(crate) struct Lab {
    pub(crate) server_ns: String,
    pub(crate) client_ns: String,
    pub(crate) dir: tempfile::TempDir,
    veths: usize,
    extra: Vec<String>,
    children: Vec<(String, Child)>,
}

impl Lab {
    /// Namespaces, bridge br0 with 192.0.2.1/24 (and `extra` addresses) in S, and
    /// `clients` veth pairs vs0.. ⇄ vc0.. (vcN in C, up, no address).
    pub(crate) fn new(clients: usize) -> Self {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        let lab = Self {
            server_ns: format!("dps-{pid}-{n}"),
            client_ns: format!("dpc-{pid}-{n}"),
            dir: tempfile::tempdir().unwrap(),
            veths: 0,
            extra: Vec::new(),
            children: Vec::new(),
        };
        ip(&["netns", "add", &lab.server_ns]);
        ip(&["netns", "add", &lab.client_ns]);
        lab.sh_ok(&lab.server_ns, "ip link set lo up && ip link add br0 type bridge && ip link set br0 up && ip addr add 192.0.2.1/24 dev br0");
        lab.sh_ok(&lab.client_ns, "ip link set lo up");
        let mut lab = lab;
        for _ in 0..clients {
            lab.add_client_port();
        }
        lab
    }

    /// Adds another namespace, deleted on drop.
    pub(crate) fn extra_ns(&mut self, name: &str) {
        self.extra.push(name.to_string());
        ip(&["netns", "add", name]);
    }

    /// Adds vsN (in br0) ⇄ vcN (in C); returns N.
    pub(crate) fn add_client_port(&mut self) -> usize {
        let k = self.veths;
        self.veths += 1;
        let (vs, vc) = (format!("vs{k}"), format!("vc{k}"));
        ip(&[
            "link",
            "add",
            &vs,
            "netns",
            &self.server_ns,
            "type",
            "veth",
            "peer",
            "name",
            &vc,
            "netns",
            &self.client_ns,
        ]);
        self.sh_ok(
            &self.server_ns,
            &format!("ip link set {vs} master br0 && ip link set {vs} up"),
        );
        self.sh_ok(
            &self.client_ns,
            &format!(
                "ip link set {vc} address 02:00:00:00:{:02x}:{:02x} && ip link set {vc} up",
                n_byte(&self.client_ns),
                k
            ),
        );
        k
    }

    pub(crate) fn sh(&self, ns: &str, script: &str) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", ns, "sh", "-c", script])
            .output()
            .unwrap()
    }

    pub(crate) fn sh_ok(&self, ns: &str, script: &str) -> String {
        let out = self.sh(ns, script);
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Starts `cmd` in `ns` (`ip netns exec` execs it: the PID is the program's),
    /// stdout and stderr to `<label>.log` in the temp dir.
    pub(crate) fn spawn(&mut self, label: &str, ns: &str, cmd: &[&str]) -> u32 {
        let log = std::fs::File::create(self.path(&format!("{label}.log"))).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(cmd)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let pid = child.id();
        self.children.push((label.into(), child));
        pid
    }

    /// Runs `cmd` in `ns` to completion, at most `limit`; returns its exit success and output.
    pub(crate) fn run(
        &mut self,
        label: &str,
        ns: &str,
        cmd: &[&str],
        limit: Duration,
    ) -> (bool, String) {
        self.spawn(label, ns, cmd);
        let (_, mut child) = self.children.pop().unwrap();
        let end = Instant::now() + limit;
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break Some(s);
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        (status.is_some_and(|s| s.success()), self.log(label))
    }

    pub(crate) fn log(&self, label: &str) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.path(&format!("{label}.log"))) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }

    /// Sends `signal` to a child started here and waits for it (bounded).
    pub(crate) fn stop(&mut self, label: &str, signal: &str) -> Option<std::process::ExitStatus> {
        let i = self.children.iter().position(|(l, _)| l == label)?;
        let (_, mut child) = self.children.remove(i);
        let _ = Command::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status();
        let end = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > end {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn pid(&self, label: &str) -> Option<u32> {
        self.children
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, c)| c.id())
    }

    pub(crate) fn alive(&mut self, label: &str) -> bool {
        self.children
            .iter_mut()
            .find(|(l, _)| l == label)
            .is_some_and(|(_, c)| c.try_wait().unwrap().is_none())
    }

    /// Waits until `label`'s log contains `needle` (bounded).
    pub(crate) fn wait_log(&self, label: &str, needle: &str, limit: Duration) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if self.log(label).contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// Starts dhcpd-pxe in S with `args`; waits for it to listen.
    pub(crate) fn start_server(&mut self, label: &str, args: &[&str]) {
        self.start_server_via(label, &[], args);
    }

    /// Starts dhcpd-pxe in S under `wrapper` (e.g. `setpriv …`), then as `start_server`.
    pub(crate) fn start_server_via(&mut self, label: &str, wrapper: &[&str], args: &[&str]) {
        let bin = env!("CARGO_BIN_EXE_dhcpd-pxe");
        let mut cmd = wrapper.to_vec();
        cmd.push(bin);
        cmd.extend_from_slice(args);
        let ns = self.server_ns.clone();
        self.spawn(label, &ns, &cmd);
        assert!(
            self.wait_log(label, "listening", Duration::from_secs(10)),
            "dhcpd-pxe did not start: {}",
            self.log(label)
        );
    }
}

fn n_byte(ns: &str) -> u8 {
    ns.bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
}

impl Drop for Lab {
    fn drop(&mut self) {
        for (_, c) in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        for ns in self.extra.iter().chain([&self.client_ns, &self.server_ns]) {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}
