//! Files that change while `tftpd` serves them: truncated, rewritten in place,
//! replaced by a rename, each with curl (octet) and tftp-hpa's `tftp`
//! (netascii), while another transfer runs.
//!
//! What must hold, for every case:
//! - the server never dies (a memory-mapped file that shrinks raises SIGBUS);
//! - the other transfer completes byte-exact;
//! - a transfer that was running when the file changed completes with the
//!   version it started with (the served copy is shared and owned, never a
//!   mapping of the live file); with the cache off (`--cache-size 0`, the
//!   path files larger than the cache take) a truncation or an in-place
//!   rewrite ends that transfer with an ERROR the client receives at once;
//! - requests made while a writer keeps changing the file get some whole
//!   version of it (never a mix of two) or an ERROR;
//! - a request made afterwards gets the new content.
//!
//! Needs curl and tftp-hpa's `tftp`; without them the test prints `SKIPPED`
//! (under `CI=true` it fails).

#[path = "../../../crates/tftp/tests/interop/peers.rs"]
mod peers;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use peers::{pattern, require_tool, start_server, Fixture, RunningServer};

const VICTIM: &str = "victim.txt";
const OTHER: &str = "other.bin";
/// Size of the file that changes: large enough that a transfer is still
/// running when the change lands, small enough to keep the test short.
const VICTIM_LEN: usize = 2 << 20;
/// Requests made while a writer keeps changing the file.
const RACING_REQUESTS: usize = 8;
/// Bound on every wait for a client.
const CLIENT_LIMIT: Duration = Duration::from_secs(40);

#[derive(Debug, Clone, Copy)]
enum Change {
    /// `truncate -s` to a quarter of the size.
    Truncate,
    /// `cp new victim`: truncate to zero, then write the new bytes.
    RewriteInPlace,
    /// Write a new file and rename it over the served one.
    Rename,
}

#[derive(Debug, Clone, Copy)]
enum Client {
    /// curl: octet mode.
    Curl,
    /// tftp-hpa's `tftp -m netascii`.
    TftpNetascii,
}

struct Tools {
    curl: PathBuf,
    tftp: PathBuf,
}

fn tools() -> Option<Tools> {
    Some(Tools {
        curl: require_tool("curl")?,
        tftp: require_tool("tftp")?,
    })
}

/// Text lines (netascii turns each `\n` into `\r\n` on the wire), distinct per seed.
fn text(len: usize, seed: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 64);
    let mut n = 0u64;
    while out.len() < len {
        writeln!(
            out,
            "version {seed} line {n:08} {}",
            "x".repeat((n % 50) as usize)
        )
        .unwrap();
        n += 1;
    }
    out.truncate(len);
    out
}

/// Whether served files go through the cache or are streamed from disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Served {
    Cached,
    Streamed,
}

fn tftpd(fx: &Fixture, path: Served) -> RunningServer {
    start_server("tftpd", fx.tmp.path(), |port| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tftpd"));
        cmd.arg("-L")
            .arg("-a")
            .arg(format!("127.0.0.1:{port}"))
            .args(["-u", &peers::current_user()])
            .args(if path == Served::Streamed {
                &["--cache-size", "0"][..]
            } else {
                &[]
            })
            .arg("-s")
            .arg(&fx.root)
            .env("RUST_LOG", "info");
        cmd
    })
}

fn spawn_get(tools: &Tools, client: Client, addr: SocketAddr, name: &str, out: &Path) -> Child {
    let _ = fs::remove_file(out);
    let mut cmd = match client {
        Client::Curl => {
            let mut c = Command::new(&tools.curl);
            c.args(["-sS", "--max-time", "30", "-o"])
                .arg(out)
                .arg(format!("tftp://{addr}/{name}"));
            c
        }
        Client::TftpNetascii => {
            let mut c = Command::new(&tools.tftp);
            c.args(["-m", "netascii"])
                .arg(addr.ip().to_string())
                .arg(addr.port().to_string())
                .args(["-c", "get", name])
                .arg(out);
            c
        }
    };
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.spawn().expect("client starts")
}

/// Waits for `child` (killed by PID past the limit); its status and output.
fn finish(mut child: Child) -> (Option<ExitStatus>, String) {
    let deadline = Instant::now() + CLIENT_LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let out = child.wait_with_output().map(|o| {
        let mut s = String::from_utf8_lossy(&o.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&o.stderr));
        s
    });
    (status, out.unwrap_or_default())
}

/// True when the client fetched the whole file (tftp-hpa exits 0 on errors
/// and says "Error code" or "Transfer timed out" instead).
fn fetched(status: Option<ExitStatus>, output: &str) -> bool {
    status.is_some_and(|s| s.success())
        && !output.contains("Error code")
        && !output.contains("timed out")
}

fn apply(change: Change, path: &Path, new: &[u8]) {
    match change {
        Change::Truncate => {
            let file = OpenOptions::new().write(true).open(path).unwrap();
            file.set_len(VICTIM_LEN as u64 / 4).unwrap();
        }
        Change::RewriteInPlace => {
            let mut file = OpenOptions::new()
                .write(true)
                .truncate(true)
                .open(path)
                .unwrap();
            file.write_all(new).unwrap();
        }
        Change::Rename => {
            let temp = path.with_extension("new");
            fs::write(&temp, new).unwrap();
            fs::set_permissions(&temp, std::os::unix::fs::PermissionsExt::from_mode(0o644))
                .unwrap();
            fs::rename(&temp, path).unwrap();
        }
    }
}

/// Puts the old version back the way the change took it away (in place for
/// in-place changes, by rename for renames).
fn restore(change: Change, path: &Path, old: &[u8]) {
    match change {
        Change::Truncate | Change::RewriteInPlace => {
            apply(Change::RewriteInPlace, path, old);
        }
        Change::Rename => apply(Change::Rename, path, old),
    }
}

/// A thread that keeps changing the file until dropped (also when the test
/// fails, before the fixture is removed).
struct Writer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(change: Change, victim: &Path, old: &[u8], new: &[u8]) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (flag, victim, old, new) =
            (stop.clone(), victim.to_owned(), old.to_vec(), new.to_vec());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(60);
            while !flag.load(Ordering::Relaxed) && Instant::now() < deadline {
                apply(change, &victim, &new);
                restore(change, &victim, &old);
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn assert_alive(server: &mut RunningServer, fx: &Fixture, when: &str) {
    if let Some(status) = server.child.exited() {
        let log = fs::read_to_string(fx.tmp.path().join("tftpd.log")).unwrap_or_default();
        panic!("tftpd died {when}: {status:?}\nits log:\n{log}");
    }
}

fn run(change: Change, client: Client, path: Served) {
    let Some(tools) = tools() else {
        return;
    };
    let fx = Fixture::new();
    let old = text(VICTIM_LEN, 1);
    let new = text(VICTIM_LEN, 2);
    let other = pattern(8 << 20, 7);
    fx.put(VICTIM, &old);
    fx.put(OTHER, &other);
    let victim = fx.root.join(VICTIM);
    let mut server = tftpd(&fx, path);
    let addr = server.addr;

    // 1. The file changes while it is being sent, with another transfer running.
    let other_out = fx.out("other");
    let victim_out = fx.out("victim");
    let other_child = spawn_get(&tools, Client::Curl, addr, OTHER, &other_out);
    let mut victim_child = spawn_get(&tools, client, addr, VICTIM, &victim_out);
    let deadline = Instant::now() + CLIENT_LIMIT;
    while fs::metadata(&victim_out).map_or(0, |m| m.len()) == 0
        && victim_child.try_wait().unwrap().is_none()
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    apply(change, &victim, &new);
    let (status, output) = finish(victim_child);
    let (other_status, other_output) = finish(other_child);
    assert_alive(&mut server, &fx, "after a change during a transfer");
    assert!(
        fetched(other_status, &other_output),
        "the other transfer failed: {other_status:?} {other_output}"
    );
    assert!(
        fs::read(&other_out).unwrap() == other,
        "other transfer not byte-exact"
    );
    if path == Served::Streamed && !matches!(change, Change::Rename) {
        // The client must have been told: an ERROR, not its own timeout.
        assert!(
            !fetched(status, &output),
            "{change:?} {client:?}: a changed file was sent whole"
        );
        let told = match client {
            Client::Curl => {
                status.is_some_and(|s| s.code() != Some(28)) && !output.contains("timed out")
            }
            Client::TftpNetascii => output.contains("Error code 0: File changed while being read"),
        };
        assert!(
            told,
            "{change:?} {client:?}: no ERROR reached the client: {status:?} {output}"
        );
    } else {
        assert!(
            fetched(status, &output),
            "{change:?} {client:?}: the running transfer failed: {status:?} {output}"
        );
        let got = fs::read(&victim_out).unwrap();
        assert!(
            got == old,
            "{change:?} {client:?}: the running transfer did not get the version it started with ({} of {} bytes)",
            got.len(),
            old.len()
        );
    }

    // 2. Requests arrive while a writer keeps changing the file.
    restore(change, &victim, &old);
    let writer = Writer::start(change, &victim, &old, &new);
    let other_child = spawn_get(&tools, Client::Curl, addr, OTHER, &other_out);
    for i in 0..RACING_REQUESTS {
        let out = fx.out(&format!("racing-{i}"));
        let (status, output) = finish(spawn_get(&tools, client, addr, VICTIM, &out));
        assert_alive(&mut server, &fx, "while the file kept changing");
        if fetched(status, &output) {
            let got = fs::read(&out).unwrap();
            assert!(
                old.starts_with(&got) || new.starts_with(&got),
                "{change:?} {client:?}: request {i} got a mix of versions ({} bytes)",
                got.len()
            );
        }
    }
    drop(writer);
    let (other_status, other_output) = finish(other_child);
    assert!(
        fetched(other_status, &other_output),
        "the other transfer failed: {other_status:?} {other_output}"
    );
    assert!(
        fs::read(&other_out).unwrap() == other,
        "other transfer not byte-exact"
    );

    // 3. After the change, a new request sees the new content.
    apply(change, &victim, &new);
    let now = fs::read(&victim).unwrap();
    let out = fx.out("after");
    let (status, output) = finish(spawn_get(&tools, client, addr, VICTIM, &out));
    assert_alive(&mut server, &fx, "after the changes");
    assert!(
        fetched(status, &output),
        "request after the change failed: {output}"
    );
    assert!(
        fs::read(&out).unwrap() == now,
        "{change:?} {client:?}: a request after the change did not get the new content"
    );
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn truncate_octet() {
    run(Change::Truncate, Client::Curl, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn truncate_netascii() {
    run(Change::Truncate, Client::TftpNetascii, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn rewrite_in_place_octet() {
    run(Change::RewriteInPlace, Client::Curl, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn rewrite_in_place_netascii() {
    run(Change::RewriteInPlace, Client::TftpNetascii, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn rename_octet() {
    run(Change::Rename, Client::Curl, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn rename_netascii() {
    run(Change::Rename, Client::TftpNetascii, Served::Cached);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn streamed_truncate_octet() {
    run(Change::Truncate, Client::Curl, Served::Streamed);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn streamed_truncate_netascii() {
    run(Change::Truncate, Client::TftpNetascii, Served::Streamed);
}

#[test]
#[ignore = "needs root or peer tools: run by scripts/test"]
fn streamed_rewrite_in_place_octet() {
    run(Change::RewriteInPlace, Client::Curl, Served::Streamed);
}
