//! Log lines to syslog (`/dev/log`, facility daemon), as in.tftpd logs when
//! it does not run in the foreground: inetd mode and `-l`.
//!
//! Each event becomes one datagram `<PRI>tftpd[PID]: message` (RFC 3164
//! without a timestamp; the local syslog daemon adds it). When `/dev/log`
//! cannot be reached the line is dropped: in inetd mode stderr is the
//! client's socket (xinetd puts it on fds 0–2), never a place to write.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::sync::{Arc, Mutex};

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// `LOG_DAEMON`.
const FACILITY_DAEMON: u8 = 3;

/// A [`MakeWriter`] that sends each formatted event to syslog.
#[derive(Debug, Clone)]
pub struct Syslog {
    socket: Arc<Mutex<Option<UnixDatagram>>>,
    tag: Arc<str>,
}

impl Syslog {
    /// Connects to `/dev/log` (lazily reconnects when it was not there).
    pub fn new() -> Self {
        Self {
            socket: Arc::new(Mutex::new(connect())),
            tag: format!("tftpd[{}]", std::process::id()).into(),
        }
    }
}

impl Default for Syslog {
    fn default() -> Self {
        Self::new()
    }
}

/// The syslog socket; `TFTPD_SYSLOG_SOCKET` overrides `/dev/log` (tests).
fn connect() -> Option<UnixDatagram> {
    let path = std::env::var_os("TFTPD_SYSLOG_SOCKET").unwrap_or_else(|| "/dev/log".into());
    let sock = UnixDatagram::unbound().ok()?;
    sock.connect(path).ok()?;
    Some(sock)
}

fn severity(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 3,
        Level::WARN => 4,
        // in.tftpd logs requests at LOG_NOTICE.
        Level::INFO => 5,
        _ => 7,
    }
}

/// One event's bytes, sent when dropped.
#[derive(Debug)]
pub struct Line {
    syslog: Syslog,
    priority: u8,
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
        if text.is_empty() {
            return;
        }
        let message = format!("<{}>{}: {text}", self.priority, self.syslog.tag);
        let mut guard = self.syslog.socket.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none() {
            *guard = connect();
        }
        if let Some(sock) = guard.as_ref() {
            if sock.send(message.as_bytes()).is_err() {
                // The syslog daemon restarted: reconnect next time.
                *guard = None;
            }
        }
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = Line;

    fn make_writer(&'a self) -> Line {
        Line {
            syslog: self.clone(),
            priority: FACILITY_DAEMON * 8 + 5,
            buf: Vec::new(),
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line {
        Line {
            syslog: self.clone(),
            priority: FACILITY_DAEMON * 8 + severity(meta.level()),
            buf: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_are_daemon_facility() {
        assert_eq!(FACILITY_DAEMON * 8 + severity(&Level::INFO), 29);
        assert_eq!(FACILITY_DAEMON * 8 + severity(&Level::ERROR), 27);
    }
}
