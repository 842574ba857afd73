//! What `tftpd -v --http` logged during an HTTP boot chain, and from that the
//! stage that broke: its access lines (`kind="GET"`, `kind="HEAD"`, with
//! `status` and `outcome`) and any TFTP read request (`RRQ from …`,
//! `kind="RRQ"`), which an HTTP chain must not make.

use crate::diagnose::{self, dhcp_summary, field, strip_ansi, Stage};

/// One request in `tftpd`'s log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    /// `GET`, `HEAD` (HTTP) or `RRQ` (TFTP).
    pub kind: String,
    /// The file, relative to the root (no leading `/`).
    pub file: String,
    /// The HTTP status (none for TFTP).
    pub status: Option<u16>,
    /// `complete`, `refused`, `aborted by peer`, … (TFTP: `no transfer line`
    /// until one follows).
    pub outcome: String,
}

impl Access {
    /// Whether this is a TFTP request.
    pub fn is_tftp(&self) -> bool {
        self.kind == "RRQ" || self.kind == "WRQ"
    }

    /// Whether the whole file went out in a `200` reply to a `GET`.
    pub fn sent_over_http(&self) -> bool {
        self.kind == "GET" && self.status == Some(200) && self.outcome == "complete"
    }
}

/// The requests in a `tftpd -v` log, HTTP and TFTP, in order. A TFTP
/// `RRQ from … filename F` line counts even without its transfer line.
pub fn accesses(log: &str) -> Vec<Access> {
    let log = strip_ansi(log);
    let mut out: Vec<Access> = Vec::new();
    for line in log.lines() {
        if let Some((head, rest)) = line.split_once(" filename ") {
            if head.contains("RRQ from ") {
                let file = rest.split(" remapped to ").next().unwrap_or("");
                out.push(Access {
                    kind: "RRQ".into(),
                    file: file.trim().trim_start_matches('/').to_owned(),
                    status: None,
                    outcome: "no transfer line".into(),
                });
                continue;
            }
        }
        if !line.contains(" transfer ") {
            continue;
        }
        let (Some(kind), Some(file), Some(outcome)) = (
            field(line, "kind"),
            field(line, "file"),
            field(line, "outcome"),
        ) else {
            continue;
        };
        let file = file.trim_start_matches('/').to_owned();
        if kind == "RRQ" {
            if let Some(a) = out
                .iter_mut()
                .rev()
                .find(|a| a.is_tftp() && a.file == file && a.outcome == "no transfer line")
            {
                a.outcome = outcome.to_owned();
                continue;
            }
        }
        out.push(Access {
            kind: kind.to_owned(),
            file,
            status: field(line, "status").and_then(|s| s.parse().ok()),
            outcome: outcome.to_owned(),
        });
    }
    out
}

/// What an HTTP chain fetches, in order, all over HTTP.
#[derive(Debug, Clone)]
pub struct Chain<'a> {
    /// The EFI program UEFI HTTP boot loads (`ipxe.efi`); none when the
    /// firmware's ROM is iPXE itself.
    pub program: Option<&'a str>,
    /// The iPXE script `dhcpd-pxe` hands to iPXE.
    pub script: &'a str,
    /// Kernel and initrd, as the script names them.
    pub kernel: &'a str,
    /// The initrd.
    pub initrd: &'a str,
    /// The marker value expected after [`crate::tree::MARKER_PREFIX`].
    pub marker: &'a str,
}

fn outcome_of(accesses: &[Access], file: &str) -> String {
    accesses
        .iter()
        .rev()
        .find(|a| !a.is_tftp() && a.file == file)
        .map_or_else(
            || "never requested".to_owned(),
            |a| match a.status {
                Some(s) => format!("{} {s} {}", a.kind, a.outcome),
                None => format!("{} {}", a.kind, a.outcome),
            },
        )
}

/// Decides the broken stage of a chain that showed no marker. `serial` is the
/// console (OVMF prints its HTTP boot errors there), `dhcp_log` `dhcpd-pxe`'s log.
pub fn stage(chain: &Chain<'_>, accesses: &[Access], serial: &str, dhcp_log: &str) -> Stage {
    let http: Vec<&Access> = accesses.iter().filter(|a| !a.is_tftp()).collect();
    let sent = |f: &str| http.iter().any(|a| a.file == f && a.sent_over_http());
    let asked = |f: &str| http.iter().any(|a| a.file == f);
    let firmware_said: Vec<&str> = serial
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("Error:") || l.contains("Could not") || l.contains("No such"))
        .collect();
    let firmware_said = if firmware_said.is_empty() {
        String::new()
    } else {
        format!("; the firmware said: {}", firmware_said.join(" | "))
    };
    if http.is_empty() {
        return Stage::Dhcp(format!(
            "no HTTP request reached tftpd; {}{firmware_said}",
            dhcp_summary(dhcp_log)
        ));
    }
    if let Some(program) = chain.program {
        if !sent(program) {
            return Stage::HttpFile(format!(
                "{program} not sent ({}){firmware_said}",
                outcome_of(accesses, program)
            ));
        }
    }
    if !asked(chain.script) {
        let seen: Vec<String> = http
            .iter()
            .map(|a| format!("{} {}", a.file, a.status.unwrap_or(0)))
            .collect();
        return Stage::Dhcp(format!(
            "{}iPXE never asked for {} (HTTP requests: {}): its DHCP reply had no or \
             another script URL (the `ipxe` class); {}",
            chain
                .program
                .map(|p| format!("{p} was loaded but "))
                .unwrap_or_default(),
            chain.script,
            seen.join(", "),
            dhcp_summary(dhcp_log)
        ));
    }
    if !sent(chain.script) {
        return Stage::HttpFile(format!(
            "script {} not sent ({})",
            chain.script,
            outcome_of(accesses, chain.script)
        ));
    }
    let marker = crate::tree::MARKER_PREFIX;
    if let Some(other) = serial
        .lines()
        .filter_map(|l| l.split_once(marker).map(|(_, v)| v.trim()))
        .find(|v| *v != chain.marker)
    {
        return Stage::Config(format!(
            "the wrong entry booted: marker {other:?}, expected {:?} (script {})",
            chain.marker, chain.script
        ));
    }
    for f in [chain.kernel, chain.initrd] {
        if !asked(f) {
            return Stage::Config(format!(
                "script {} read but {f} never requested over HTTP: wrong entry or broken script",
                chain.script
            ));
        }
        if !sent(f) {
            return Stage::HttpFile(format!("{f} not sent ({})", outcome_of(accesses, f)));
        }
    }
    if let Some(line) = serial
        .lines()
        .find(|l| l.contains("Unable to mount root fs"))
    {
        return Stage::Kernel(format!(
            "kernel and initrd sent over HTTP, but the kernel found no initrd ({}): an \
             EFI-stub kernel started by an iPXE without initrd LoadFile2 support needs \
             `initrd=<name>` in its arguments",
            line.trim()
        ));
    }
    Stage::Kernel(format!(
        "kernel and initrd sent over HTTP; {}",
        diagnose::console_ends(serial)
    ))
}

/// After the marker: every file of the chain went out whole over HTTP
/// (a `200` `GET`), and `tftpd` saw no TFTP request at all.
pub fn confirm(chain: &Chain<'_>, accesses: &[Access]) -> Result<(), String> {
    let tftp: Vec<&str> = accesses
        .iter()
        .filter(|a| a.is_tftp())
        .map(|a| a.file.as_str())
        .collect();
    if !tftp.is_empty() {
        return Err(format!(
            "marker seen, but the chain used TFTP: read requests for {}",
            tftp.join(", ")
        ));
    }
    for f in chain
        .program
        .iter()
        .chain([chain.script, chain.kernel, chain.initrd].iter())
    {
        if !accesses.iter().any(|a| a.file == *f && a.sent_over_http()) {
            return Err(format!(
                "marker seen, but tftpd's log has no complete HTTP GET of {f} ({})",
                outcome_of(accesses, f)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: Chain<'static> = Chain {
        program: Some("ipxe.efi"),
        script: "ipxe/boot.ipxe",
        kernel: "vmlinuz",
        initrd: "initrd.gz",
        marker: "default-linux",
    };

    fn get(file: &str, status: u16, outcome: &str) -> String {
        format!(
            "INFO http_boot::body: transfer peer=192.0.2.100:49152 kind=\"GET\" file=\"/{file}\" \
             bytes=10 secs=0.001 status={status} outcome=\"{outcome}\"\n"
        )
    }

    fn whole_chain() -> String {
        ["ipxe.efi", "ipxe/boot.ipxe", "vmlinuz", "initrd.gz"]
            .iter()
            .map(|f| get(f, 200, "complete"))
            .collect()
    }

    #[test]
    fn parses_http_and_tftp_lines() {
        let log = format!(
            "\u{1b}[32m INFO\u{1b}[0m tftp::server: RRQ from 192.0.2.100 filename /vmlinuz\n\
             INFO tftp::server: transfer peer=192.0.2.100:2070 kind=\"RRQ\" file=\"/vmlinuz\" bytes=42 outcome=\"complete\"\n\
             {}",
            get("initrd.gz", 404, "refused")
        );
        let a = accesses(&log);
        assert_eq!(a.len(), 2, "{a:?}");
        assert!(a[0].is_tftp() && a[0].file == "vmlinuz" && a[0].outcome == "complete");
        assert_eq!(a[1].status, Some(404));
        assert!(!a[1].sent_over_http());
    }

    #[test]
    fn a_whole_http_chain_is_confirmed() {
        assert_eq!(confirm(&CHAIN, &accesses(&whole_chain())), Ok(()));
    }

    #[test]
    fn a_tftp_request_fails_confirmation() {
        let log = format!(
            "{}INFO x: RRQ from 192.0.2.100 filename initrd.gz\n",
            whole_chain()
        );
        let e = confirm(&CHAIN, &accesses(&log)).unwrap_err();
        assert!(e.contains("used TFTP"), "{e}");
    }

    #[test]
    fn a_partial_body_fails_confirmation() {
        let log = whole_chain().replace(
            "file=\"/initrd.gz\" bytes=10 secs=0.001 status=200 outcome=\"complete\"",
            "file=\"/initrd.gz\" bytes=10 secs=0.001 status=200 outcome=\"aborted by peer\"",
        );
        let e = confirm(&CHAIN, &accesses(&log)).unwrap_err();
        assert!(e.contains("initrd.gz"), "{e}");
    }

    #[test]
    fn stages_name_what_broke() {
        let s = stage(&CHAIN, &[], "  Error: Server response timeout.\n", "");
        assert!(
            matches!(&s, Stage::Dhcp(w) if w.contains("Server response timeout")),
            "{s}"
        );
        let s = stage(&CHAIN, &accesses(&get("ipxe.efi", 404, "refused")), "", "");
        assert!(matches!(&s, Stage::HttpFile(w) if w.contains("404")), "{s}");
        let s = stage(&CHAIN, &accesses(&get("ipxe.efi", 200, "complete")), "", "");
        assert!(
            matches!(&s, Stage::Dhcp(w) if w.contains("never asked")),
            "{s}"
        );
        let bios = Chain {
            program: None,
            ..CHAIN
        };
        let s = stage(
            &bios,
            &accesses(&get("ipxe/other.ipxe", 404, "refused")),
            "",
            "",
        );
        assert!(
            matches!(&s, Stage::Dhcp(w) if w.contains("ipxe/other.ipxe 404")),
            "{s}"
        );
        let only_script = format!(
            "{}{}",
            get("ipxe.efi", 200, "complete"),
            get("ipxe/boot.ipxe", 200, "complete")
        );
        let s = stage(&CHAIN, &accesses(&only_script), "", "");
        assert!(
            matches!(&s, Stage::Config(w) if w.contains("vmlinuz")),
            "{s}"
        );
        let s = stage(
            &CHAIN,
            &accesses(&whole_chain()),
            "NETBOOT-E2E-MARKER:host-rescue\n",
            "",
        );
        assert!(
            matches!(&s, Stage::Config(w) if w.contains("wrong entry")),
            "{s}"
        );
        let panic =
            "Kernel panic - not syncing: VFS: Unable to mount root fs on unknown-block(0,0)\n";
        let s = stage(&CHAIN, &accesses(&whole_chain()), panic, "");
        assert!(
            matches!(&s, Stage::Kernel(w) if w.contains("initrd=")),
            "{s}"
        );
        let s = stage(&CHAIN, &accesses(&whole_chain()), "Linux version 6.1\n", "");
        assert!(
            matches!(&s, Stage::Kernel(w) if w.contains("kernel started")),
            "{s}"
        );
    }
}
