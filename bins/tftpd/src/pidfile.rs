//! The `-P` pid file: written once the sockets are bound, removed at exit.
//!
//! tftp-hpa's listener never gives up root (only its per-transfer children
//! do), so it can always unlink the file. This server is one process that
//! drops to `-u USER` (and may chroot), after which the file's directory
//! (`/run`, owned by root) usually no longer lets it remove the file. So
//! when privileges are about to be dropped, a *keeper* is started first: the
//! same executable, still root, that only waits for its stdin pipe to close
//! — the server exiting in any way, a crash or SIGKILL included — and then
//! removes the file if it still holds the server's pid. It ignores SIGTERM
//! and SIGINT (systemd signals the whole unit, a terminal the whole process
//! group), so it outlives the server by the moment it takes to unlink.

use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use crate::sys;

/// Set in the keeper's environment: the pid file to remove.
const KEEPER_ENV: &str = "TFTPD_PIDFILE_KEEPER";
/// Set in the keeper's environment: the pid the file must hold.
const OWNER_ENV: &str = "TFTPD_PIDFILE_OWNER";
/// How long the exiting server waits for the keeper to finish.
const KEEPER_LIMIT: Duration = Duration::from_secs(5);

/// A written pid file and how it will be removed.
#[derive(Debug)]
pub struct PidFile {
    entry: sys::DirEntry,
    keeper: Option<(Child, ChildStdin)>,
}

impl PidFile {
    /// Writes this process's pid to `path`. With `keep`, starts the keeper
    /// that removes the file once this process is gone (call it while still
    /// privileged, before the chroot).
    pub fn create(path: &Path, keep: bool) -> io::Result<Self> {
        let entry = sys::DirEntry::create(path)?;
        let keeper = match keep {
            true => std::path::absolute(path)
                .and_then(|path| start_keeper(&path))
                .map_err(|err| {
                    tracing::warn!(error = %err, "cannot start the pid file keeper; the file may stay behind");
                })
                .ok(),
            false => None,
        };
        Ok(Self { entry, keeper })
    }

    /// Removes the file: through the keeper when there is one (it is root),
    /// else directly.
    pub fn remove(self) -> io::Result<()> {
        let Some((mut child, stdin)) = self.keeper else {
            return self.entry.remove();
        };
        drop(stdin);
        let deadline = Instant::now() + KEEPER_LIMIT;
        while Instant::now() < deadline {
            if let Some(status) = child.try_wait()? {
                return match status.success() {
                    true => Ok(()),
                    false => Err(io::Error::other(format!("pid file keeper: {status}"))),
                };
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Err(io::Error::other("pid file keeper did not finish"))
    }
}

fn start_keeper(path: &Path) -> io::Result<(Child, ChildStdin)> {
    let mut child = Command::new(std::env::current_exe()?)
        .env(KEEPER_ENV, path)
        .env(OWNER_ENV, std::process::id().to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let stdin = child.stdin.take().expect("stdin is piped");
    Ok((child, stdin))
}

/// In the keeper: waits for the server to go, removes the file, and returns
/// the exit status. `None` when this process is not a keeper.
pub fn keeper_main() -> Option<u8> {
    let path = PathBuf::from(std::env::var_os(KEEPER_ENV)?);
    let owner = std::env::var(OWNER_ENV).unwrap_or_default();
    if let Err(err) = sys::ignore_termination_signals() {
        eprintln!("tftpd: pid file keeper: {err}");
    }
    // EOF (or an error) once the server's end of the pipe is closed.
    let mut sink = [0u8; 64];
    while matches!(io::stdin().read(&mut sink), Ok(n) if n > 0) {}
    let holds_owner = std::fs::read_to_string(&path).is_ok_and(|text| text.trim() == owner);
    if !holds_owner {
        return Some(0);
    }
    match std::fs::remove_file(&path) {
        Ok(()) => Some(0),
        Err(err) => {
            eprintln!("tftpd: cannot remove pid file {}: {err}", path.display());
            Some(1)
        }
    }
}
