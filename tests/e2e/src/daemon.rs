//! Processes a scenario starts: output to a log file, stdin from /dev/null,
//! killed by PID (SIGKILL) on drop if still running, and reaped.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started process and its log.
#[derive(Debug)]
pub struct Daemon {
    /// What it is, for messages ("tftpd", "dnsmasq", …).
    pub name: String,
    /// Its stdout and stderr.
    pub log: PathBuf,
    child: Child,
}

impl Daemon {
    /// Starts `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &str, mut cmd: Command, log: &Path) -> io::Result<Self> {
        let out = File::create(log)?;
        let err = out.try_clone()?;
        let child = cmd
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .env("NO_COLOR", "1")
            .spawn()
            .map_err(|e| io::Error::new(e.kind(), format!("cannot start {name}: {e}")))?;
        Ok(Self {
            name: name.to_owned(),
            log: log.to_owned(),
            child,
        })
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it has exited (and how).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Waits until the log contains `needle` (the daemon is ready), at most
    /// `limit`. Fails if the process exits or the time runs out.
    pub fn wait_for_log(&mut self, needle: &str, limit: Duration) -> io::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let text = std::fs::read(&self.log).unwrap_or_default();
            if String::from_utf8_lossy(&text).contains(needle) {
                return Ok(());
            }
            if let Some(status) = self.exited() {
                return Err(io::Error::other(format!(
                    "{} exited ({status}) before it was ready; see {}",
                    self.name,
                    self.log.display()
                )));
            }
            if Instant::now() >= deadline {
                return Err(io::Error::other(format!(
                    "{} not ready after {:?} (no {needle:?} in {})",
                    self.name,
                    limit,
                    self.log.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits `settle`, then fails if the process has exited.
    pub fn still_running_after(&mut self, settle: Duration) -> io::Result<()> {
        std::thread::sleep(settle);
        match self.exited() {
            None => Ok(()),
            Some(status) => Err(io::Error::other(format!(
                "{} exited ({status}); see {}",
                self.name,
                self.log.display()
            ))),
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.exited().is_none() {
            // Child::kill sends SIGKILL to this PID only.
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
