//! Where tftpd's log lines go, by the way it was started (the shared
//! `observe` crate does the set-up): stderr or the journal in the
//! foreground and under systemd, syslog in inetd mode and with `-l`, as
//! in.tftpd.

use std::path::PathBuf;

use tracing::warn;

/// `-v` count to a default log filter; `RUST_LOG` overrides it.
pub fn log_filter(verbosity: u8) -> &'static str {
    match verbosity {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    }
}

/// Where a start's log lines go (in.tftpd logs to syslog unless it runs in
/// the foreground).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Logs {
    /// Foreground or socket-activated: stderr, or the journal under systemd.
    Stderr,
    /// The same for a server that will chroot (`-s` as root): the
    /// journal's stream, not its socket (whose path the chroot hides).
    StderrChrooted,
    /// `-l`: syslog; stderr (with one warning) when there is no syslog socket.
    Detached,
    /// inetd: syslog; stderr is the client's socket, so without a syslog
    /// socket lines are dropped.
    Inetd,
}

/// The syslog socket; `TFTPD_SYSLOG_SOCKET` overrides `/dev/log` (tests).
fn syslog_path() -> PathBuf {
    std::env::var_os("TFTPD_SYSLOG_SOCKET")
        .map_or_else(|| PathBuf::from(observe::syslog::DEV_LOG), PathBuf::from)
}

/// Installs the log subscriber for a start of kind `logs`; true when the
/// lines go to syslog.
pub(crate) fn init_logging(verbosity: u8, logs: Logs) -> bool {
    use observe::logs::{init, Output};
    use observe::syslog::Syslog;
    // TFTPD_LOG_STDERR=1 keeps logs on stderr (tests, debugging under xinetd).
    let logs = match std::env::var_os("TFTPD_LOG_STDERR") {
        Some(_) => Logs::StderrChrooted,
        None => logs,
    };
    let filter = log_filter(verbosity);
    let path = syslog_path();
    match logs {
        Logs::Stderr => {
            init("tftpd", filter, Output::Stderr);
            false
        }
        Logs::StderrChrooted => {
            init("tftpd", filter, Output::StderrChrooted);
            false
        }
        Logs::Inetd => {
            init(
                "tftpd",
                filter,
                Output::Syslog(Syslog::lazy("tftpd", path).info_as_notice()),
            );
            true
        }
        Logs::Detached => match Syslog::connect("tftpd", &path) {
            Ok(s) => {
                init("tftpd", filter, Output::Syslog(s.info_as_notice()));
                true
            }
            Err(err) => {
                init("tftpd", filter, Output::Stderr);
                warn!(
                    socket = %path.display(),
                    error = %err,
                    "no syslog socket; logging to stderr"
                );
                false
            }
        },
    }
}
