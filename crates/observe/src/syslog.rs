//! Log lines to the local syslog daemon, as in.tftpd and ISC dhcpd log when
//! they run in the background: one datagram `<PRI>ident[PID]: message` per
//! event (RFC 3164 without a timestamp; the syslog daemon adds it), sent
//! through the `syslog` crate's Unix-socket backend.
//!
//! When the socket cannot be reached a line is dropped and the next one
//! tries to connect again (the syslog daemon may be restarting).

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use syslog::{Facility, LogFormat, Logger, LoggerBackend, Severity};
use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The socket of the local syslog daemon.
pub const DEV_LOG: &str = "/dev/log";

/// `<PRI>ident[PID]: message`, without a timestamp.
#[derive(Debug, Clone)]
struct Local {
    facility: Facility,
    tag: Arc<str>,
}

impl LogFormat<&str> for Local {
    fn format<W: Write>(&self, w: &mut W, severity: Severity, message: &str) -> syslog::Result<()> {
        let pri = self.facility as u8 | severity as u8;
        w.write_all(format!("<{pri}>{}: {message}", self.tag).as_bytes())
            .map_err(syslog::Error::Write)
    }
}

/// A [`MakeWriter`] that sends each formatted event to syslog, facility
/// daemon.
#[derive(Clone)]
pub struct Syslog {
    path: Arc<PathBuf>,
    format: Local,
    logger: Arc<Mutex<Option<Logger<LoggerBackend, Local>>>>,
    info_as_notice: bool,
}

impl std::fmt::Debug for Syslog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Syslog")
            .field("path", &self.path)
            .field("tag", &self.format.tag)
            .finish_non_exhaustive()
    }
}

impl Syslog {
    /// Connects to the syslog socket at `path` now; an error when there is
    /// none (the caller decides where logs go instead).
    pub fn connect(ident: &str, path: impl Into<PathBuf>) -> io::Result<Self> {
        let s = Self::lazy(ident, path);
        let logger = s.open().map_err(io::Error::other)?;
        *s.logger.lock().unwrap_or_else(|e| e.into_inner()) = Some(logger);
        Ok(s)
    }

    /// Connects at the first line (and again after a failed send); lines
    /// are dropped while there is no socket.
    pub fn lazy(ident: &str, path: impl Into<PathBuf>) -> Self {
        Self {
            path: Arc::new(path.into()),
            format: Local {
                facility: Facility::LOG_DAEMON,
                tag: format!("{ident}[{}]", std::process::id()).into(),
            },
            logger: Arc::new(Mutex::new(None)),
            info_as_notice: false,
        }
    }

    /// Info events at `LOG_NOTICE`, as in.tftpd logs its requests.
    pub fn info_as_notice(mut self) -> Self {
        self.info_as_notice = true;
        self
    }

    fn open(&self) -> syslog::Result<Logger<LoggerBackend, Local>> {
        syslog::unix_custom(self.format.clone(), &*self.path)
    }

    fn severity(&self, level: &Level) -> Severity {
        match *level {
            Level::ERROR => Severity::LOG_ERR,
            Level::WARN => Severity::LOG_WARNING,
            Level::INFO if self.info_as_notice => Severity::LOG_NOTICE,
            Level::INFO => Severity::LOG_INFO,
            _ => Severity::LOG_DEBUG,
        }
    }

    fn send(&self, severity: Severity, text: &str) {
        let mut guard = self.logger.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = self.open().ok();
        }
        let Some(logger) = guard.as_mut() else {
            return;
        };
        let sent = match severity {
            Severity::LOG_ERR => logger.err(text),
            Severity::LOG_WARNING => logger.warning(text),
            Severity::LOG_NOTICE => logger.notice(text),
            Severity::LOG_INFO => logger.info(text),
            _ => logger.debug(text),
        };
        if sent.is_err() {
            // The syslog daemon restarted: connect again next time.
            *guard = None;
        }
    }
}

/// One event's bytes, sent when dropped.
#[derive(Debug)]
pub struct Line {
    syslog: Syslog,
    level: Level,
    buf: Vec<u8>,
}

impl Write for Line {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Line {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let text = text.trim_end();
        if !text.is_empty() {
            self.syslog.send(self.syslog.severity(&self.level), text);
        }
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            syslog: self.clone(),
            level: Level::INFO,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            syslog: self.clone(),
            level: *meta.level(),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_daemon_facility_with_the_pid_tag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let sock = std::os::unix::net::UnixDatagram::bind(&path).unwrap();
        let s = Syslog::connect("tftpd", &path).unwrap().info_as_notice();
        s.send(s.severity(&Level::INFO), "RRQ from 127.0.0.1 filename x");
        s.send(s.severity(&Level::ERROR), "bad");
        let mut buf = [0u8; 256];
        let n = sock.recv(&mut buf).unwrap();
        let pid = std::process::id();
        assert_eq!(
            std::str::from_utf8(&buf[..n]).unwrap(),
            format!("<29>tftpd[{pid}]: RRQ from 127.0.0.1 filename x")
        );
        let n = sock.recv(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"<27>tftpd["));
    }

    #[test]
    fn no_socket_is_an_error_at_connect() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Syslog::connect("x", dir.path().join("none")).is_err());
    }
}
