//! Where log lines go, set up once at start:
//!
//! - **stderr** on a terminal or a plain file: `tracing`'s usual lines with
//!   a timestamp (colours on a terminal only);
//! - **the journal** when stderr is the journal (systemd sets
//!   `JOURNAL_STREAM` to the `DEVICE:INODE` of the stream it connected):
//!   journald's native protocol through `tracing-journald` (priority,
//!   fields, `SYSLOG_IDENTIFIER`), or, when its socket cannot be reached or
//!   the process will chroot (the crate sends to the socket's path with
//!   each event, and the path is gone after a chroot), stderr lines
//!   prefixed `<N>` (sd-daemon(3)) without a timestamp, which journald reads
//!   as the priority. Either way `journalctl -p warning` filters and the
//!   journal's own timestamp is the only one;
//! - **syslog** ([`Syslog`]), as in.tftpd and ISC dhcpd in the background;
//! - **nowhere** (inetd mode without a syslog socket: stderr is the client's
//!   socket there).
//!
//! `RUST_LOG` overrides the default filter.

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::os::unix::fs::MetadataExt;

use tracing::{Level, Metadata};
use tracing_journald::{Priority, PriorityMappings};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

use crate::syslog::Syslog;

/// Where log lines go.
#[derive(Debug)]
pub enum Output {
    /// stderr, or the journal when stderr is the journal.
    Stderr,
    /// As [`Output::Stderr`], for a process that will chroot: under systemd
    /// the journal's stream format, never its socket.
    StderrChrooted,
    /// The local syslog daemon.
    Syslog(Syslog),
    /// Nowhere.
    Discard,
}

/// What [`init`] chose, for the daemon's first log line and for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chosen {
    /// Plain lines on stderr.
    Stderr,
    /// journald's native protocol.
    JournalNative,
    /// `<N>`-prefixed lines on stderr, for journald's stream reader.
    JournalStream,
    /// syslog.
    Syslog,
    /// Nowhere.
    Discard,
}

/// Installs the global subscriber: `output`, `default_filter` unless
/// `RUST_LOG` is set (this crate's own lines, the statistics and the metrics
/// endpoint, at info at least), `ident` as the journal's
/// `SYSLOG_IDENTIFIER`. A second call changes nothing (the first subscriber
/// stays).
pub fn init(ident: &str, default_filter: &str, output: Output) -> Chosen {
    let filter = || {
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new(format!("{default_filter},observe=info")))
    };
    let plain = || {
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .without_time()
            .with_level(false)
            .with_target(false)
    };
    match output {
        Output::Discard => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(plain().with_writer(io::sink))
                .try_init();
            Chosen::Discard
        }
        Output::Syslog(s) => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(plain().with_writer(s))
                .try_init();
            Chosen::Syslog
        }
        Output::Stderr | Output::StderrChrooted if stderr_is_journal() => match native(&output) {
            Some(layer) => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(
                        layer
                            .with_syslog_identifier(ident.to_owned())
                            .with_priority_mappings(journal_priorities()),
                    )
                    .try_init();
                Chosen::JournalNative
            }
            None => {
                let _ = tracing_subscriber::registry()
                    .with(filter())
                    .with(plain().with_writer(Prefixed))
                    .try_init();
                Chosen::JournalStream
            }
        },
        Output::Stderr | Output::StderrChrooted => {
            let _ = tracing_subscriber::registry()
                .with(filter())
                .with(
                    tracing_subscriber::fmt::layer()
                        .with_writer(io::stderr)
                        .with_ansi(io::IsTerminal::is_terminal(&io::stderr())),
                )
                .try_init();
            Chosen::Stderr
        }
    }
}

/// journald's socket, unless `output` chroots or the socket is not there.
fn native(output: &Output) -> Option<tracing_journald::Layer> {
    match output {
        Output::StderrChrooted => None,
        _ => tracing_journald::layer().ok(),
    }
}

/// Whether stderr is the stream systemd named in `JOURNAL_STREAM`
/// (`DEVICE:INODE`, both decimal): then it is the journal, not a terminal
/// or a file the caller redirected it to.
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| m.dev() == dev && m.ino() == ino)
}

/// The sd-daemon(3) priority prefix for `level`.
pub fn priority(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        Level::INFO => 6,
        _ => 7,
    }
}

/// Whether stderr is `/dev/null` (a daemon started in the background by an
/// init script): lines written there are lost, syslog is the place.
pub fn stderr_is_null() -> bool {
    use std::os::unix::fs::FileTypeExt;
    let Ok(fd) = io::stderr().as_fd().try_clone_to_owned() else {
        return false;
    };
    let (Ok(err), Ok(null)) = (
        std::fs::File::from(fd).metadata(),
        std::fs::metadata("/dev/null"),
    ) else {
        return false;
    };
    err.file_type().is_char_device()
        && null.file_type().is_char_device()
        && err.rdev() == null.rdev()
}

/// The journal's priorities: those of [`priority`] (the crate's default
/// puts info at notice and debug at info).
fn journal_priorities() -> PriorityMappings {
    PriorityMappings {
        error: Priority::Error,
        warn: Priority::Warning,
        info: Priority::Informational,
        debug: Priority::Debug,
        trace: Priority::Debug,
    }
}

/// stderr, each event prefixed `<N>`.
#[derive(Debug, Clone, Copy)]
struct Prefixed;

/// One event's bytes, written to stderr in one piece when dropped.
#[derive(Debug)]
struct PrefixedLine {
    buf: Vec<u8>,
}

impl Write for PrefixedLine {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for PrefixedLine {
    fn drop(&mut self) {
        let _ = io::stderr().lock().write_all(&self.buf);
    }
}

impl<'a> MakeWriter<'a> for Prefixed {
    type Writer = PrefixedLine;

    fn make_writer(&'a self) -> PrefixedLine {
        PrefixedLine {
            buf: format!("<{}>", priority(&Level::INFO)).into_bytes(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> PrefixedLine {
        PrefixedLine {
            buf: format!("<{}>", priority(meta.level())).into_bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_journal_stream_of_another_file_is_not_stderr() {
        // No other test reads JOURNAL_STREAM.
        let saved = std::env::var_os("JOURNAL_STREAM");
        // A device:inode that no stderr has.
        assert!(!{
            std::env::set_var("JOURNAL_STREAM", "0:0");
            stderr_is_journal()
        });
        std::env::set_var("JOURNAL_STREAM", "garbage");
        assert!(!stderr_is_journal());
        match saved {
            Some(v) => std::env::set_var("JOURNAL_STREAM", v),
            None => std::env::remove_var("JOURNAL_STREAM"),
        }
    }

    #[test]
    fn priorities_follow_sd_daemon() {
        assert_eq!(priority(&Level::WARN), 4);
        assert_eq!(priority(&Level::INFO), 6);
        assert_eq!(priority(&Level::DEBUG), 7);
    }
}
