//! Which stage of a failed boot broke, decided from the logs: DHCP (no TFTP
//! request ever arrived), TFTP file (a file the boot needs was not sent),
//! config (PXELINUX found no configuration, or booted another label), kernel
//! (the kernel and initrd were sent, but no marker appeared); HTTP file for
//! the HTTP chains, which [`crate::http_stage`] judges.

use std::fmt;

/// One TFTP read request and how it ended, from `tftpd -v` or dnsmasq's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The file as requested (relative to the root, no leading `/`).
    pub file: String,
    /// Whether the whole file was sent (a UEFI size probe counts).
    pub sent: bool,
    /// The server's words for the outcome.
    pub outcome: String,
}

/// The broken stage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// No TFTP request arrived: the firmware got no usable offer.
    Dhcp(String),
    /// A file the boot needs was requested and not sent.
    TftpFile(String),
    /// A file the boot needs was asked for over HTTP and not sent.
    HttpFile(String),
    /// PXELINUX found no configuration, or the wrong label booted.
    Config(String),
    /// Kernel and initrd were sent but the marker never appeared.
    Kernel(String),
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dhcp(why) => write!(f, "stage DHCP: {why}"),
            Self::TftpFile(why) => write!(f, "stage TFTP file: {why}"),
            Self::HttpFile(why) => write!(f, "stage HTTP file: {why}"),
            Self::Config(why) => write!(f, "stage config: {why}"),
            Self::Kernel(why) => write!(f, "stage kernel: {why}"),
        }
    }
}

/// What the boot was meant to do.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The boot file the DHCP server should name.
    pub boot_file: &'a str,
    /// The PXELINUX prefix ("" or "efi64/").
    pub prefix: &'a str,
    /// The ldlinux module for the firmware.
    pub ldlinux: &'a str,
    /// The marker value expected after [`crate::tree::MARKER_PREFIX`].
    pub marker: &'a str,
}

/// Strips ANSI escape sequences (a log written with colours).
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A `key=value` field of a tracing line; the value may be quoted.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let pat = format!(" {key}=");
    let at = line.find(&pat)? + pat.len();
    let rest = &line[at..];
    if let Some(q) = rest.strip_prefix('"') {
        q.find('"').map(|end| &q[..end])
    } else {
        Some(rest.split_whitespace().next().unwrap_or(""))
    }
}

/// The requests in a `tftpd -v` log: each `transfer` line (file, outcome).
pub fn tftpd_requests(log: &str) -> Vec<Request> {
    let log = strip_ansi(log);
    let mut out = Vec::new();
    for line in log.lines() {
        if let Some((head, rest)) = line.split_once(" filename ") {
            if head.contains("RRQ from ") {
                let file = rest.split(" remapped to ").next().unwrap_or("");
                out.push(Request {
                    file: file.trim().trim_start_matches('/').to_owned(),
                    sent: false,
                    outcome: "no transfer line".into(),
                });
                continue;
            }
        }
        if line.contains(" transfer") {
            if let (Some(file), Some(outcome)) = (field(line, "file"), field(line, "outcome")) {
                let file = file.trim_start_matches('/');
                let sent = outcome == "complete" || outcome == "size probe";
                // An ERROR's code and reason are fields of their own.
                let outcome = match (field(line, "code"), field(line, "reason")) {
                    (Some(code), Some(reason)) => format!("{outcome}: {code} {reason}"),
                    (Some(code), None) => format!("{outcome}: {code}"),
                    _ => outcome.to_owned(),
                };
                // Attach to the last request for this file still without an outcome.
                if let Some(r) = out
                    .iter_mut()
                    .rev()
                    .find(|r| r.file == file && r.outcome == "no transfer line")
                {
                    r.sent = sent;
                    r.outcome = outcome;
                } else {
                    out.push(Request {
                        file: file.to_owned(),
                        sent,
                        outcome,
                    });
                }
            }
        }
    }
    out
}

/// The requests in a dnsmasq log (`--enable-tftp`): `sent ROOT/f to ip`,
/// `file ROOT/f not found`, `error N msg received from ip`.
pub fn dnsmasq_requests(log: &str, root: &str) -> Vec<Request> {
    let rel = |p: &str| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .trim_start_matches('/')
            .to_owned()
    };
    let mut out = Vec::new();
    for line in log.lines() {
        let Some((_, msg)) = line.split_once("dnsmasq-tftp") else {
            continue;
        };
        let msg = msg.split_once(": ").map_or(msg, |(_, m)| m);
        if let Some(rest) = msg.strip_prefix("sent ") {
            if let Some((path, _)) = rest.rsplit_once(" to ") {
                out.push(Request {
                    file: rel(path),
                    sent: true,
                    outcome: "sent".into(),
                });
            }
        } else if let Some(rest) = msg.strip_prefix("file ") {
            let path = rest.split(" not found").next().unwrap_or(rest);
            out.push(Request {
                file: rel(path),
                sent: false,
                outcome: "not found".into(),
            });
        }
    }
    out
}

/// What the DHCP servers' logs say when no file was ever asked for: how many
/// offers and acks, the last one, and `dhcpd-pxe`'s last refusal.
pub fn dhcp_summary(dhcp_log: &str) -> String {
    let offers: Vec<&str> = dhcp_log
        .lines()
        .filter(|l| {
            let l = l.to_ascii_lowercase();
            l.contains("offer") || l.contains("ack")
        })
        .collect();
    let seen = if offers.is_empty() {
        "no offer or ack in the DHCP logs".to_owned()
    } else {
        format!(
            "the servers answered ({} offer/ack line(s) in the DHCP logs) but no reply \
             led the firmware to a boot file; last: {}",
            offers.len(),
            offers[offers.len() - 1].trim()
        )
    };
    // dhcpd-pxe says why it stayed silent ("-> nothing: <reason>").
    let silent = dhcp_log
        .lines()
        .rev()
        .find(|l| l.contains("-> nothing:"))
        .map(|l| format!("; last refusal: {}", l.trim()))
        .unwrap_or_default();
    format!("{seen}{silent}")
}

/// Decides the broken stage. `requests` come from the TFTP server's log,
/// `serial` is the console, `dhcp_log` the DHCP servers' logs (quoted in the
/// DHCP verdict).
pub fn stage(exp: &Expected<'_>, requests: &[Request], serial: &str, dhcp_log: &str) -> Stage {
    let sent = |f: &str| requests.iter().any(|r| r.file == f && r.sent);
    let asked = |f: &str| requests.iter().any(|r| r.file == f);
    let why_not = |f: &str| {
        requests
            .iter()
            .rev()
            .find(|r| r.file == f)
            .map_or_else(|| "never requested".to_owned(), |r| r.outcome.clone())
    };

    if requests.is_empty() {
        return Stage::Dhcp(format!(
            "no TFTP request reached the server; {}",
            dhcp_summary(dhcp_log)
        ));
    }
    if !sent(exp.boot_file) {
        let other: Vec<&str> = requests.iter().map(|r| r.file.as_str()).collect();
        return Stage::TftpFile(format!(
            "boot file {} not sent ({}); requests: {}",
            exp.boot_file,
            why_not(exp.boot_file),
            other.join(", ")
        ));
    }
    let ldlinux = format!("{}{}", exp.prefix, exp.ldlinux);
    if !sent(&ldlinux) {
        return Stage::TftpFile(format!("{ldlinux} not sent ({})", why_not(&ldlinux)));
    }
    let cfg_dir = format!("{}pxelinux.cfg/", exp.prefix);
    let configs: Vec<&Request> = requests
        .iter()
        .filter(|r| r.file.starts_with(&cfg_dir))
        .collect();
    if !configs.iter().any(|r| r.sent) {
        let tried: Vec<&str> = configs.iter().map(|r| r.file.as_str()).collect();
        return Stage::Config(format!(
            "PXELINUX found no configuration (asked: {})",
            if tried.is_empty() {
                "nothing".to_owned()
            } else {
                tried.join(", ")
            }
        ));
    }
    let read: Vec<&str> = configs
        .iter()
        .filter(|r| r.sent)
        .map(|r| r.file.as_str())
        .collect();
    let marker = crate::tree::MARKER_PREFIX;
    if let Some(other) = serial
        .lines()
        .filter_map(|l| l.split_once(marker).map(|(_, v)| v.trim()))
        .find(|v| *v != exp.marker)
    {
        return Stage::Config(format!(
            "the wrong label booted: marker {other:?}, expected {:?} (configs read: {})",
            exp.marker,
            read.join(", ")
        ));
    }
    for file in [crate::tree::KERNEL, crate::tree::INITRD] {
        let f = format!("{}{file}", exp.prefix);
        if !asked(&f) {
            return Stage::Config(format!(
                "configuration read ({}) but {f} never requested: wrong label or broken config",
                read.join(", ")
            ));
        }
        if !sent(&f) {
            return Stage::TftpFile(format!("{f} not sent ({})", why_not(&f)));
        }
    }
    kernel(serial)
}

/// The verdict once kernel and initrd were sent and no marker appeared: the
/// initrd's `/init` did not run, or what the console shows last.
pub fn kernel(serial: &str) -> Stage {
    if let Some(line) = serial
        .lines()
        .find(|l| l.contains("Failed to execute /init"))
    {
        // error -2 (ENOENT) for an ELF whose interpreter is not in the initrd.
        return Stage::Kernel(format!(
            "the initrd's /init did not run ({}): busybox is dynamic or missing \
             (the initrd needs a static one, see src/busybox.rs)",
            line.trim()
        ));
    }
    Stage::Kernel(format!("kernel and initrd sent; {}", console_ends(serial)))
}

/// Whether the kernel printed anything, and the console's last five lines.
pub fn console_ends(serial: &str) -> String {
    let started = serial.contains("Linux version");
    let tail: Vec<&str> = serial.lines().rev().take(5).collect();
    format!(
        "{}; console ends: {}",
        if started {
            "the kernel started"
        } else {
            "no kernel output on the console"
        },
        tail.into_iter().rev().collect::<Vec<_>>().join(" | ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXP: Expected<'static> = Expected {
        boot_file: "pxelinux.0",
        prefix: "",
        ldlinux: "ldlinux.c32",
        marker: "default-linux",
    };

    fn req(file: &str, sent: bool) -> Request {
        Request {
            file: file.into(),
            sent,
            outcome: if sent {
                "complete"
            } else {
                "refused: 1 File not found"
            }
            .into(),
        }
    }

    #[test]
    fn parses_tftpd_lines_with_colours_and_quotes() {
        let log = "\u{1b}[32m INFO\u{1b}[0m tftp::server: RRQ from 192.0.2.100 filename pxelinux.0\n\
                   INFO tftp::server: transfer peer=192.0.2.100:2070 kind=\"RRQ\" file=\"pxelinux.0\" options=tsize=0 bytes=42 outcome=\"complete\"\n\
                   INFO tftp::server: RRQ from 192.0.2.100 filename /pxelinux.cfg/01-52-54-00-e2-e0-01\n\
                   WARN tftp::server: transfer peer=192.0.2.100:2071 kind=\"RRQ\" file=\"/pxelinux.cfg/01-52-54-00-e2-e0-01\" bytes=0 outcome=\"refused\" code=1 reason=\"File not found\"\n";
        let r = tftpd_requests(log);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0], req("pxelinux.0", true));
        assert_eq!(r[1].file, "pxelinux.cfg/01-52-54-00-e2-e0-01");
        assert!(!r[1].sent);
    }

    #[test]
    fn parses_dnsmasq_tftp_lines() {
        let log = "dnsmasq-tftp[7]: sent /srv/t/pxelinux.0 to 192.0.2.100\n\
                   dnsmasq-tftp[7]: file /srv/t/pxelinux.cfg/C000 not found\n";
        let r = dnsmasq_requests(log, "/srv/t");
        assert_eq!(
            r,
            vec![
                Request {
                    file: "pxelinux.0".into(),
                    sent: true,
                    outcome: "sent".into()
                },
                Request {
                    file: "pxelinux.cfg/C000".into(),
                    sent: false,
                    outcome: "not found".into()
                },
            ]
        );
    }

    #[test]
    fn no_request_is_dhcp() {
        assert!(matches!(
            stage(&EXP, &[], "", "DHCPDISCOVER"),
            Stage::Dhcp(_)
        ));
        let log = "DISCOVER xid 1 from 01:52:54:00:e2:e0:12 -> nothing: no rule gave this client a boot target\n";
        let s = stage(&EXP, &[], "", log);
        assert!(
            matches!(&s, Stage::Dhcp(w) if w.contains("no rule gave")),
            "{s}"
        );
    }

    #[test]
    fn missing_boot_file_is_tftp_file() {
        let s = stage(&EXP, &[req("pxelinux.0", false)], "", "");
        assert!(
            matches!(&s, Stage::TftpFile(w) if w.contains("pxelinux.0")),
            "{s}"
        );
    }

    #[test]
    fn no_config_is_config() {
        let r = [
            req("pxelinux.0", true),
            req("ldlinux.c32", true),
            req("pxelinux.cfg/default", false),
        ];
        let s = stage(&EXP, &r, "", "");
        assert!(
            matches!(&s, Stage::Config(w) if w.contains("no configuration")),
            "{s}"
        );
    }

    #[test]
    fn other_marker_is_wrong_label() {
        let r = [
            req("pxelinux.0", true),
            req("ldlinux.c32", true),
            req("pxelinux.cfg/default", true),
            req("vmlinuz", true),
            req("initrd.gz", true),
        ];
        let s = stage(&EXP, &r, "NETBOOT-E2E-MARKER:host-rescue\n", "");
        assert!(
            matches!(&s, Stage::Config(w) if w.contains("wrong label")),
            "{s}"
        );
        let s = stage(&EXP, &r, "Linux version 6.1\nKernel panic\n", "");
        assert!(
            matches!(&s, Stage::Kernel(w) if w.contains("kernel started")),
            "{s}"
        );
        let serial = "Linux version 6.1\nRun /init as init process\n\
                      Failed to execute /init (error -2)\nKernel panic\n";
        let s = stage(&EXP, &r, serial, "");
        assert!(
            matches!(&s, Stage::Kernel(w) if w.contains("busybox is dynamic")),
            "{s}"
        );
    }
}
