//! `-l` without `-L`: detach from the caller, as tftp-hpa does with
//! `daemon(3)`, so init scripts (`start-stop-daemon --start … -- --listen`)
//! and `Type=forking` units get their prompt return.
//!
//! A threaded program cannot safely `fork`, so the process re-runs itself:
//! the parent spawns the same executable with the same arguments (marked by
//! [`CHILD_ENV`]) in a new process group, waits until the child says it is
//! serving (a line on a pipe, after the sockets are bound and the pid file is
//! written), then exits 0. If the child fails first, the parent exits with
//! the child's status, so bind errors still reach the caller.
//!
//! Differences to `daemon(3)`: the child keeps the working directory and its
//! stderr (logs go where the caller's stderr goes, e.g. the journal), and it
//! gets a new process group, not a new session.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::exit;

/// Set in the environment of the detached child.
pub const CHILD_ENV: &str = "TFTPD_DETACHED_CHILD";
/// What the child prints on stdout once it serves.
const READY: &str = "tftpd: ready";
/// How long the parent waits for the child to bind.
const START_LIMIT: Duration = Duration::from_secs(30);

/// Whether this process is the detached child.
pub fn is_child() -> bool {
    std::env::var_os(CHILD_ENV).is_some()
}

/// In the child: tell the parent the server is up.
pub fn notify_ready() {
    if is_child() {
        let mut out = std::io::stdout().lock();
        // The parent may be gone already (it gave up); nothing to do then.
        let _ = writeln!(out, "{READY}");
        let _ = out.flush();
    }
}

/// In the parent: starts the detached child and returns the exit status to
/// use (0 once the child serves).
pub fn detach() -> u8 {
    // Re-run the path we were started as (argv[0] with a slash), so a
    // `/usr/sbin/in.tftpd` symlink keeps the process name `in.tftpd` that
    // init scripts look for (`start-stop-daemon --stop --name in.tftpd`).
    let invoked = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .filter(|p| p.as_os_str().as_encoded_bytes().contains(&b'/') && p.is_file());
    let exe = match invoked.map_or_else(std::env::current_exe, Ok) {
        Ok(exe) => exe,
        Err(err) => {
            eprintln!("tftpd: cannot find my own executable to detach: {err}");
            return exit::OSERR;
        }
    };
    let spawned = Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(CHILD_ENV, "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(child) => child,
        Err(err) => {
            eprintln!("tftpd: cannot start the detached server: {err}");
            return exit::OSERR;
        }
    };
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let ready = BufReader::new(stdout).read_line(&mut line).is_ok() && line.trim() == READY;
        let _ = tx.send(ready);
    });
    match rx.recv_timeout(START_LIMIT) {
        Ok(true) => exit::OK,
        Ok(false) | Err(mpsc::RecvTimeoutError::Disconnected) => match child.wait() {
            Ok(status) => status
                .code()
                .and_then(|c| u8::try_from(c).ok())
                .filter(|c| *c != 0)
                .unwrap_or(exit::OSERR),
            Err(_) => exit::OSERR,
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            eprintln!("tftpd: the detached server did not start within {START_LIMIT:?}");
            let _ = child.kill();
            let _ = child.wait();
            exit::OSERR
        }
    }
}
