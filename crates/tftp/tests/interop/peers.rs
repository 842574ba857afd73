//! Real TFTP peers for interop tests: finding the tools, running servers as
//! child processes (killed by PID on drop), running clients with a deadline.
//!
//! Also used by `bins/tftpd/tests/interop.rs` (included by path), so it must
//! not depend on anything of the `tftp` crate.
#![allow(dead_code, unreachable_pub)]

#[path = "../../../../tests/support/skip.rs"]
pub mod skip;

use std::fs;
use std::io::Read;
use std::net::{SocketAddr, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where `.ci/run` unpacks atftpd (it conflicts with tftpd-hpa as a package).
pub const ATFTPD_ENV: &str = "ATFTPD_BIN";

/// Debian packages that provide each tool, for the skip message.
fn package_of(tool: &str) -> &'static str {
    match tool {
        "curl" => "curl",
        "atftp" => "atftp",
        "tftp" => "tftp-hpa",
        "in.tftpd" => "tftpd-hpa",
        "busybox" => "busybox",
        "xinetd" => "xinetd",
        "ip" => "iproute2",
        "systemd-socket-activate" => "systemd",
        "atftpd" => "atftpd (apt-get download atftpd && dpkg -x; set ATFTPD_BIN)",
        _ => "?",
    }
}

fn in_ci() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

/// The path of `tool`, or `None` after printing why the test is skipped.
///
/// Under `CI=true` a missing tool is a failure (panic), never a skip.
/// `atftpd` is looked up in `$ATFTPD_BIN` first.
#[track_caller]
pub fn require_tool(tool: &str) -> Option<PathBuf> {
    let found = find_tool(tool);
    if found.is_none() {
        let test = std::thread::current()
            .name()
            .unwrap_or("interop")
            .to_owned();
        let package = package_of(tool);
        skip::skip(
            &test,
            &format!("{tool} not installed (apt-get install {package}; .ci/run does)"),
        );
    }
    found
}

fn find_tool(tool: &str) -> Option<PathBuf> {
    if tool == "atftpd" {
        if let Some(p) = std::env::var_os(ATFTPD_ENV).map(PathBuf::from) {
            if p.is_file() {
                return Some(p);
            }
        }
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(tool))
        .find(|p| p.is_file())
}

/// A child process that is killed (by PID) and reaped when dropped.
#[derive(Debug)]
pub struct ChildGuard {
    child: Child,
    name: String,
}

impl ChildGuard {
    /// Spawns `cmd` with stdin closed and output to files in `log_dir`.
    pub fn spawn(name: &str, mut cmd: Command, log_dir: &Path) -> Self {
        let log = fs::File::create(log_dir.join(format!("{name}.log"))).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            child,
            name: name.to_owned(),
        }
    }

    /// Guards a child the caller spawned itself (custom stdin and the like).
    pub fn from_child(name: &str, child: Child) -> Self {
        Self {
            child,
            name: name.to_owned(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `Some(status)` if the process has already exited.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().unwrap()
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            // Child::kill sends SIGKILL to this child's PID only.
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
        let _ = &self.name;
    }
}

/// A port on 127.0.0.1 below 32768 that was free a moment ago (atftpd reads
/// its port as a signed 16-bit number, so higher ports fail there).
pub fn free_udp_port() -> u16 {
    let seed = std::process::id() as u64 ^ Instant::now().elapsed().as_nanos() as u64;
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.subsec_nanos() as u64),
    );
    for _ in 0..200 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let port = 20_000 + (x % 12_000) as u16;
        if UdpSocket::bind(("127.0.0.1", port)).is_ok() && !port_in_use(port) {
            return port;
        }
    }
    panic!("no free UDP port in 20000..32000 after 200 tries");
}

/// Whether some socket is bound to UDP `port` (any address), from
/// `/proc/net/udp{,6}`; reading does not disturb the owner, unlike a probe bind.
pub fn port_in_use(port: u16) -> bool {
    let needle = format!(":{port:04X} ");
    ["/proc/net/udp", "/proc/net/udp6"].iter().any(|table| {
        fs::read_to_string(table).is_ok_and(|text| {
            text.lines()
                .skip(1)
                .filter_map(|line| line.split_whitespace().nth(1))
                .any(|local| format!("{local} ").ends_with(&needle))
        })
    })
}

/// Waits until something holds UDP `addr`'s port, at most `limit`.
/// Returns false on timeout.
pub fn wait_bound(addr: SocketAddr, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if port_in_use(addr.port()) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The user name to pass to servers that drop privileges (`-u`, `--user`),
/// so they keep the rights of whoever runs the tests.
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The current group name.
pub fn current_group() -> String {
    let out = Command::new("id").arg("-gn").output().unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// The direct children of `pid` (in.tftpd's per-transfer processes, the
/// servers xinetd started), from `/proc`.
pub fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for task in tasks.flatten() {
        if let Ok(text) = fs::read_to_string(task.path().join("children")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    out
}

/// Kills (SIGKILL, by PID) the direct children of `pid`.
pub fn kill_children(pid: u32) {
    for child in children(pid) {
        let _ = Command::new("kill")
            .args(["-KILL", &child.to_string()])
            .status();
    }
}

/// A server under test, running on 127.0.0.1.
#[derive(Debug)]
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// The process.
    pub child: ChildGuard,
}

/// Starts a server with `make(port)`, retrying with another port when the
/// child exits at once (port taken in between). Bounded: 5 attempts.
pub fn start_server(
    name: &str,
    log_dir: &Path,
    mut make: impl FnMut(u16) -> Command,
) -> RunningServer {
    for _ in 0..5 {
        let port = free_udp_port();
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut child = ChildGuard::spawn(name, make(port), log_dir);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline && child.exited().is_none() {
            if port_in_use(port) {
                return RunningServer { addr, child };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    let log = fs::read_to_string(log_dir.join(format!("{name}.log"))).unwrap_or_default();
    panic!("{name} did not start on 127.0.0.1 after 5 attempts; its log:\n{log}");
}

/// `in.tftpd -L -a 127.0.0.1:PORT -s ROOT` plus `extra`.
pub fn start_in_tftpd(bin: &Path, root: &Path, extra: &[&str]) -> RunningServer {
    let user = current_user();
    start_server("in.tftpd", root.parent().unwrap(), |port| {
        let mut cmd = Command::new(bin);
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", &user])
            .args(extra)
            .arg("-s")
            .arg(root);
        cmd
    })
}

/// `atftpd --daemon --no-fork --port PORT --bind-address 127.0.0.1 ROOT`.
pub fn start_atftpd(bin: &Path, root: &Path) -> RunningServer {
    let (user, group) = (current_user(), current_group());
    start_server("atftpd", root.parent().unwrap(), |port| {
        let mut cmd = Command::new(bin);
        cmd.args(["--daemon", "--no-fork", "--logfile", "-"])
            .args(["--port", &port.to_string()])
            .args(["--bind-address", "127.0.0.1"])
            .args(["--user", &user, "--group", &group])
            .arg(root);
        cmd
    })
}

/// What a client run produced.
#[derive(Debug)]
pub struct ClientRun {
    /// Exit status (None: killed at the deadline).
    pub code: Option<i32>,
    /// stdout and stderr together.
    pub output: String,
}

/// Runs a client with a deadline (killed by PID past it).
pub fn run_client(mut cmd: Command, limit: Duration) -> ClientRun {
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("out");
    let log = fs::File::create(&log_path).unwrap();
    cmd.stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log);
    let mut child = cmd.spawn().expect("client starts");
    let deadline = Instant::now() + limit;
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut output = String::new();
    let _ = fs::File::open(&log_path).and_then(|mut f| f.read_to_string(&mut output));
    ClientRun { code, output }
}

/// A fixture tree: `<tmp>/root` is served, `<tmp>/outside/secret` must never
/// be read. Files are world-readable, the root world-writable.
#[derive(Debug)]
pub struct Fixture {
    /// Holds the tree.
    pub tmp: tempfile::TempDir,
    /// The served directory.
    pub root: PathBuf,
    /// A directory beside the root.
    pub outside: PathBuf,
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

impl Fixture {
    /// Creates the tree with the standard files.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().canonicalize().unwrap();
        let root = base.join("root");
        let outside = base.join("outside");
        fs::create_dir_all(&root).unwrap();
        fs::create_dir_all(&outside).unwrap();
        fs::set_permissions(&base, fs::Permissions::from_mode(0o755)).unwrap();
        fs::set_permissions(&root, fs::Permissions::from_mode(0o777)).unwrap();
        let fx = Self { tmp, root, outside };
        fx.put("empty", &[]);
        for (i, n) in [511usize, 512, 513].into_iter().enumerate() {
            fx.put(&format!("f{n}"), &pattern(n, i as u64 + 1));
        }
        fx.put("random-3m", &pattern(3 * 1024 * 1024 + 17, 42));
        fs::write(fx.outside.join("secret"), b"SECRET\n").unwrap();
        fs::set_permissions(fx.outside.join("secret"), fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(fx.outside.join("secret"), fx.root.join("link-out")).unwrap();
        fx
    }

    /// Writes a world-readable file below the root.
    pub fn put(&self, name: &str, data: &[u8]) {
        let path = self.root.join(name);
        fs::write(&path, data).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
    }

    /// The contents of a file below the root.
    pub fn get(&self, name: &str) -> Vec<u8> {
        fs::read(self.root.join(name)).unwrap()
    }

    /// A path for client output, outside the served tree.
    pub fn out(&self, name: &str) -> PathBuf {
        self.tmp.path().join(format!("out-{name}"))
    }
}
