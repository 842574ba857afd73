//! `tftpd` under xinetd, as sites will first run it: the seed's service file
//! (`../shared/fixtures/seed-configs/xinetd-tftp`, copied in
//! `docs/examples/xinetd-tftp`) with only `server =` and the root path
//! changed, our own xinetd instance inside a network namespace made for the
//! test, fetched by curl and atftp.
//!
//! Needs root, `ip` and `xinetd`: without root it prints `SKIPPED`; under
//! `CI=true` every missing piece is a failure.

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use peers::{pattern, require_tool, run_client, ChildGuard, Fixture};

/// The seed service file, verbatim.
const SEED: &str = include_str!("../../../docs/examples/xinetd-tftp");

fn is_root() -> bool {
    peers::current_user() == "root"
}

/// A network namespace made for one test, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    fn new(tag: &str) -> Self {
        let name = format!("tftpd-{tag}-{}", std::process::id());
        let ns = Self { name };
        ns.ip(&["netns", "add", &ns.name]);
        ns.exec_ok(&["ip", "link", "set", "lo", "up"]);
        // A documentation address on the namespace's own loopback.
        ns.exec_ok(&["ip", "addr", "add", "192.0.2.1/24", "dev", "lo"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let st = Command::new("ip").args(args).status().unwrap();
        assert!(st.success(), "ip {args:?}");
    }

    fn exec_ok(&self, cmd: &[&str]) {
        let st = self.command(cmd).status().unwrap();
        assert!(st.success(), "ip netns exec {} {cmd:?}", self.name);
    }

    fn command(&self, cmd: &[&str]) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name]).args(cmd);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Kills (by PID) what xinetd started, then xinetd itself.
struct Xinetd {
    child: ChildGuard,
}

impl Drop for Xinetd {
    fn drop(&mut self) {
        // `ip netns exec` execs xinetd, so the guard's pid is xinetd's.
        peers::kill_children(self.child.pid());
    }
}

/// The seed file with only `server =` and the root path changed.
fn service_file(seed: &str, server: &Path, root: &Path) -> String {
    let mut changed = 0;
    let text: Vec<String> = seed
        .lines()
        .map(|line| {
            let key = line.split('=').next().unwrap_or("").trim();
            match key {
                "server" => {
                    changed += 1;
                    format!("        server                  = {}", server.display())
                }
                "server_args" => {
                    changed += 1;
                    line.replace("/tftpboot", root.to_str().unwrap())
                }
                _ => line.to_owned(),
            }
        })
        .collect();
    assert_eq!(
        changed, 2,
        "the seed has one server and one server_args line"
    );
    text.join("\n") + "\n"
}

#[test]
#[ignore = "needs peer tools: run by scripts/test"]
fn xinetd_seed_service_with_tftpd_serves_curl_and_atftp() {
    if !is_root() {
        peers::skip::skip(
            "xinetd_seed_service_with_tftpd_serves_curl_and_atftp",
            "needs root (network namespace)",
        );
        return;
    }
    let (Some(xinetd), Some(_ip), Some(curl), Some(atftp)) = (
        require_tool("xinetd"),
        require_tool("ip"),
        require_tool("curl"),
        require_tool("atftp"),
    ) else {
        return;
    };
    assert!(SEED.contains("server                  = /usr/sbin/in.tftpd"));
    let fx = Fixture::new();
    let kernel = pattern(2 * 1024 * 1024 + 5, 9);
    fx.put("vmlinuz", &kernel);
    fs::create_dir_all(fx.root.join("pxelinux.cfg")).unwrap();
    fx.put("pxelinux.cfg/default", b"DEFAULT linux\n");
    let conf = fx.tmp.path().join("xinetd.conf");
    fs::write(
        &conf,
        service_file(SEED, Path::new(env!("CARGO_BIN_EXE_tftpd")), &fx.root),
    )
    .unwrap();
    let pidfile = fx.tmp.path().join("xinetd.pid");
    let ns = Netns::new("xinetd");
    let mut cmd = ns.command(&[xinetd.to_str().unwrap()]);
    cmd.args(["-f", conf.to_str().unwrap(), "-dontfork", "-pidfile"])
        .arg(&pidfile);
    let mut server = Xinetd {
        child: ChildGuard::spawn("xinetd", cmd, fx.tmp.path()),
    };
    // xinetd binds 0.0.0.0:69 inside the namespace.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = ns.command(&["ss", "-Hlun", "sport", "= :69"]).output();
        let bound = out.is_ok_and(|o| !o.stdout.is_empty());
        if bound {
            break;
        }
        assert!(
            server.child.exited().is_none(),
            "xinetd exited: {}",
            log(&fx, "xinetd")
        );
        assert!(
            Instant::now() < deadline,
            "xinetd did not bind: {}",
            log(&fx, "xinetd")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = fx.out("curl-vmlinuz");
    let run = run_client(
        ns_cmd(
            &ns,
            &[
                curl.to_str().unwrap(),
                "-sS",
                "--tftp-blksize",
                "1468",
                "-o",
                out.to_str().unwrap(),
                "tftp://192.0.2.1/vmlinuz",
            ],
        ),
        Duration::from_secs(60),
    );
    assert_eq!(
        run.code,
        Some(0),
        "curl: {}\nxinetd: {}",
        run.output,
        log(&fx, "xinetd")
    );
    assert!(fs::read(&out).unwrap() == kernel, "curl: wrong bytes");
    let out2 = fx.out("atftp-default");
    let run = run_client(
        ns_cmd(
            &ns,
            &[
                atftp.to_str().unwrap(),
                "-g",
                "-r",
                "pxelinux.cfg/default",
                "-l",
                out2.to_str().unwrap(),
                "192.0.2.1",
                "69",
            ],
        ),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(0), "atftp: {}", run.output);
    assert_eq!(fs::read(&out2).unwrap(), b"DEFAULT linux\n");
    // A missing file is code 1, and the same tftpd instance keeps serving
    // (wait = yes: xinetd does not start another one).
    let run = run_client(
        ns_cmd(
            &ns,
            &[
                curl.to_str().unwrap(),
                "-sS",
                "-o",
                "/dev/null",
                "tftp://192.0.2.1/missing",
            ],
        ),
        Duration::from_secs(30),
    );
    assert_eq!(run.code, Some(68), "curl missing: {}", run.output);
    let servers = peers::children(server.child.pid());
    assert_eq!(servers.len(), 1, "one tftpd under xinetd: {servers:?}");
    let comm = fs::read_to_string(format!("/proc/{}/comm", servers[0])).unwrap_or_default();
    assert_eq!(comm.trim(), "tftpd");
    // It dropped root for nobody (the in.tftpd default) after chroot.
    let status = fs::read_to_string(format!("/proc/{}/status", servers[0])).unwrap();
    let uid_line = status.lines().find(|l| l.starts_with("Uid:")).unwrap();
    assert!(
        !uid_line.split_whitespace().skip(1).any(|u| u == "0"),
        "{uid_line}"
    );
    // Supplementary groups are nobody's, not root's.
    let groups = status.lines().find(|l| l.starts_with("Groups:")).unwrap();
    assert!(
        !groups.split_whitespace().skip(1).any(|g| g == "0"),
        "{groups}"
    );
    let root_link = fs::read_link(format!("/proc/{}/root", servers[0])).unwrap();
    assert_eq!(root_link, fx.root, "chroot into the -s directory");
    drop(server);
}

fn ns_cmd(ns: &Netns, cmd: &[&str]) -> Command {
    ns.command(cmd)
}

fn log(fx: &Fixture, name: &str) -> String {
    fs::read_to_string(fx.tmp.path().join(format!("{name}.log"))).unwrap_or_default()
}
