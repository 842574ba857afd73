//! A throw-away PostgreSQL cluster for tests: `initdb` in a temporary
//! directory, the server on a Unix socket there (no TCP), stopped and deleted
//! on drop. As root, the cluster runs as the `postgres` user (else `nobody`),
//! PostgreSQL refusing to run as root. Included with `#[path]` by the test
//! crates that need it.

// Public for the crates that include it; unreachable from some of them.
#![allow(unreachable_pub, dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// The PostgreSQL programs (Debian: /usr/lib/postgresql/VERSION/bin), newest version.
pub fn bin_dir() -> Option<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let v = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, d)| d)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(1))
        == Some("0")
}

/// A running cluster; dropped: stopped (immediate) and deleted.
pub struct PgCluster {
    dir: tempfile::TempDir,
    bin: PathBuf,
    user: Option<&'static str>,
}

impl PgCluster {
    /// `initdb` and start; `Err(reason)` when PostgreSQL is not installed.
    pub fn start() -> Result<Self, String> {
        let bin = bin_dir().ok_or("PostgreSQL is not installed (scripts/install-dhcp-peers)")?;
        let user = if is_root() {
            let has = |u: &str| {
                Command::new("id")
                    .arg(u)
                    .output()
                    .is_ok_and(|o| o.status.success())
            };
            Some(if has("postgres") {
                "postgres"
            } else {
                "nobody"
            })
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("netboot-pg-")
            .tempdir()
            .map_err(|e| e.to_string())?;
        let c = Self { dir, bin, user };
        if let Some(u) = user {
            // The cluster's user owns the directory (the socket lives there too).
            c.check(Command::new("chown").arg(u).arg(c.dir.path()).output());
        }
        let data = c.data();
        c.check(
            c.as_user("initdb")
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
                .arg("-D")
                .arg(&data)
                .output(),
        );
        c.start_server();
        Ok(c)
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The directory of the Unix socket (libpq `host=`).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Connection string of database `postgres`.
    pub fn url(&self) -> String {
        format!(
            "host={} port=5432 user=postgres dbname=postgres",
            self.socket_dir().display()
        )
    }

    fn as_user(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.user {
            Some(u) => {
                let mut c = Command::new("runuser");
                c.args(["-u", u, "--"]).arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    #[track_caller]
    fn check(&self, out: std::io::Result<Output>) -> String {
        let out = out.expect("running a PostgreSQL program");
        assert!(
            out.status.success(),
            "{}{}\nserver log: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.server_log()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The server's log so far.
    pub fn server_log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Starts the server (again), waiting until it accepts connections.
    pub fn start_server(&self) {
        let opts = format!(
            "-c listen_addresses='' -k {} -p 5432 -c max_connections=50 -c shared_buffers=32MB",
            self.socket_dir().display()
        );
        self.check(
            self.as_user("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-o", &opts, "-l"])
                .arg(self.dir.path().join("server.log"))
                .args(["-w", "-t", "30", "start"])
                .output(),
        );
    }

    /// Stops the server: `fast` (clean, clients disconnected) or `immediate` (as a crash).
    pub fn stop_server(&self, mode: &str) {
        let _ = self
            .as_user("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", mode, "-w", "-t", "30", "stop"])
            .output();
    }

    /// Runs `sql` with psql (unaligned, tuples only); its output.
    pub fn psql(&self, sql: &str) -> String {
        self.check(
            Command::new(self.bin.join("psql"))
                .args([
                    "-X",
                    "-A",
                    "-t",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-d",
                    &self.url(),
                    "-c",
                    sql,
                ])
                .output(),
        )
    }

    /// Waits until `sql` prints `want` (bounded); the last output.
    pub fn wait_for(&self, sql: &str, want: &str, limit: Duration) -> String {
        let end = Instant::now() + limit;
        loop {
            let got = self.psql(sql);
            if got.trim() == want || Instant::now() > end {
                return got;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        self.stop_server("immediate");
    }
}
