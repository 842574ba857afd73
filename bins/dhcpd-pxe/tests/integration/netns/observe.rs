//! What an operator sees of a running server: ISC-style lines per exchange,
//! the Prometheus endpoint scraped with curl before and after a real
//! client's DORA, SIGUSR1's `key=value` line (the daemon keeps running), and
//! the stop line as `key=value`, never debug text.

use std::time::Duration;

use super::clients::udhcpc;
use super::{can_run, Lab};

const METRICS: &str = "127.0.0.1:9167";

fn sample(text: &str, name: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn scrape(lab: &Lab) -> String {
    lab.sh_ok(
        &lab.server_ns,
        &format!("curl -sS --max-time 5 http://{METRICS}/metrics"),
    )
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn metrics_sigusr1_and_isc_lines_during_a_real_exchange() {
    let test = "metrics_sigusr1_and_isc_lines_during_a_real_exchange";
    if !can_run(test, &["udhcpc", "curl"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let leases = lab.path("leases");
    let args = [
        "--interface",
        "br0",
        "--range",
        "192.0.2.100-192.0.2.110",
        "--boot-file",
        "pxelinux.0",
        "--tftp-server",
        "192.0.2.1",
        "--lease-file",
        leases.to_str().unwrap(),
        "--metrics",
        METRICS,
    ];
    lab.start_server("server", &args);
    let before = scrape(&lab);
    assert_eq!(
        sample(&before, "dhcp_replies_total{type=\"offer\"}"),
        Some(0),
        "{before}"
    );
    assert_eq!(
        sample(&before, "dhcp_leases{state=\"bound\"}"),
        Some(0),
        "{before}"
    );

    let (addr, _, _) =
        udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("server")));
    let after = scrape(&lab);
    assert_eq!(
        sample(&after, "dhcp_replies_total{type=\"offer\"}"),
        Some(1),
        "{after}"
    );
    assert_eq!(
        sample(&after, "dhcp_replies_total{type=\"ack\"}"),
        Some(1),
        "{after}"
    );
    assert_eq!(
        sample(&after, "dhcp_leases{state=\"bound\"}"),
        Some(1),
        "{after}"
    );
    assert!(
        sample(&after, "dhcp_received_total").unwrap_or(0) >= 2,
        "{after}"
    );

    let log = lab.log("server");
    for line in [
        "DHCPDISCOVER from 02:00:00:00:".to_string(),
        format!("DHCPOFFER on {addr} to 02:00:00:00:"),
        format!("DHCPREQUEST for {addr} (192.0.2.1) from 02:00:00:00:"),
        format!("DHCPACK on {addr} to 02:00:00:00:"),
    ] {
        assert!(log.contains(&line), "{line:?} not in the log:\n{log}");
    }
    assert!(log.contains(" via br0"), "{log}");

    let pid = lab.pid("server").unwrap().to_string();
    let sent = std::process::Command::new("kill")
        .args(["-USR1", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    assert!(
        lab.wait_log("server", "statistics received=", Duration::from_secs(5)),
        "no statistics line after SIGUSR1:\n{}",
        lab.log("server")
    );
    let log = lab.log("server");
    let line = log
        .lines()
        .find(|l| l.contains("statistics received="))
        .unwrap();
    for kv in [
        "replies_offer=1",
        "replies_ack=1",
        "leases_bound=1",
        "malformed=0",
    ] {
        assert!(line.contains(kv), "{kv} missing: {line}");
    }
    assert!(lab.alive("server"), "SIGUSR1 killed the server:\n{log}");
    // Still serving: the endpoint answers after the signal.
    assert!(scrape(&lab).contains("dhcp_replies_total"));

    let status = lab.stop("server", "TERM").expect("the server did not stop");
    assert!(status.success(), "{}", lab.log("server"));
    let log = lab.log("server");
    assert_eq!(log.matches("statistics received=").count(), 2, "{log}");
    assert!(!log.contains("Stats {"), "debug text in the log:\n{log}");
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn under_systemd_lines_carry_a_priority_and_no_timestamp() {
    let test = "under_systemd_lines_carry_a_priority_and_no_timestamp";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    if std::path::Path::new("/run/systemd/journal/socket").exists() {
        // A real journald takes the lines through its native protocol, so
        // none reach the stream this test reads. Not a missing peer: no
        // failure under CI, which has no journald.
        eprintln!("SKIPPED: {test}: a real journald runs here; the stream format is not used");
        return;
    }
    let mut lab = Lab::new(1);
    // The log file the lab will write stderr to, created now to know its inode
    // (the lab opens it again with truncation: same file).
    let log = lab.path("journal.log");
    let meta = std::fs::File::create(&log).unwrap().metadata().unwrap();
    let stream = {
        use std::os::unix::fs::MetadataExt;
        format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino())
    };
    let leases = lab.path("leases");
    let args = [
        "--interface",
        "br0",
        "--range",
        "192.0.2.100-192.0.2.110",
        "--boot-file",
        "pxelinux.0",
        "--lease-file",
        leases.to_str().unwrap(),
    ];
    lab.start_server_via("journal", &["env", &stream], &args);
    udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {}", lab.log("journal")));
    assert!(
        lab.wait_log("journal", "DHCPACK on ", Duration::from_secs(5)),
        "{}",
        lab.log("journal")
    );
    let text = lab.log("journal");
    let lines: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with('<') && l.as_bytes().get(2) == Some(&b'>')),
        "a line without a priority prefix:\n{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("<6>DHCPDISCOVER from 02:00:00:00:")),
        "{text}"
    );
    assert!(
        !text.contains(" INFO "),
        "a timestamp and level of our own:\n{text}"
    );
}

/// The fields of one journald native-protocol datagram: `KEY=value\n`, or
/// `KEY\n` + 64-bit little-endian length + value + `\n`.
fn journal_fields(mut d: &[u8]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    while let Some(nl) = d.iter().position(|b| *b == b'\n') {
        let line = &d[..nl];
        if let Some(eq) = line.iter().position(|b| *b == b'=') {
            let key = String::from_utf8_lossy(&line[..eq]).into_owned();
            out.push((key, String::from_utf8_lossy(&line[eq + 1..]).into_owned()));
            d = &d[nl + 1..];
            continue;
        }
        let key = String::from_utf8_lossy(line).into_owned();
        let rest = &d[nl + 1..];
        let Some(len) = rest
            .get(..8)
            .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        else {
            break;
        };
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        let Some(value) = rest.get(8..8usize.saturating_add(len)) else {
            break;
        };
        out.push((key, String::from_utf8_lossy(value).into_owned()));
        d = rest.get(8 + len + 1..).unwrap_or_default();
    }
    out
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn with_journald_lines_use_its_native_protocol() {
    let test = "with_journald_lines_use_its_native_protocol";
    if !can_run(test, &["udhcpc", "unshare"]) {
        return;
    }
    let mut lab = Lab::new(1);
    // journald's socket at /run/systemd/journal/socket in the server's own
    // mount namespace only (a bind mount over /run there).
    let run = lab.path("run");
    std::fs::create_dir_all(run.join("systemd/journal")).unwrap();
    let journal =
        std::os::unix::net::UnixDatagram::bind(run.join("systemd/journal/socket")).unwrap();
    journal
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    // stderr is the lab's log file, created now to know its inode.
    let meta = std::fs::File::create(lab.path("native.log"))
        .unwrap()
        .metadata()
        .unwrap();
    let stream = {
        use std::os::unix::fs::MetadataExt;
        format!("JOURNAL_STREAM={}:{}", meta.dev(), meta.ino())
    };
    let leases = lab.path("leases");
    let (run, leases) = (run.to_str().unwrap(), leases.to_str().unwrap());
    let ns = lab.server_ns.clone();
    let script = "mount --bind \"$0\" /run && exec \"$@\"";
    let server = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        run,
        "env",
        &stream,
        env!("CARGO_BIN_EXE_dhcpd-pxe"),
        "--interface",
        "br0",
        "--range",
        "192.0.2.100-192.0.2.110",
        "--boot-file",
        "pxelinux.0",
        "--lease-file",
        leases,
    ];
    let pid = lab.spawn("native", &ns, &server);
    let mut entries: Vec<Vec<(String, String)>> = Vec::new();
    let receive = |entries: &mut Vec<_>, until: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut buf = vec![0u8; 65536];
        while std::time::Instant::now() < deadline && entries.len() < 200 {
            if let Ok(n) = journal.recv(&mut buf) {
                entries.push(journal_fields(&buf[..n]));
            }
            let found = entries.iter().any(|e: &Vec<(String, String)>| {
                e.iter()
                    .any(|(k, v)| k == "MESSAGE" && v.starts_with(until))
            });
            if found {
                return;
            }
        }
    };
    receive(&mut entries, "listening");
    let (addr, _, _) = udhcpc(&mut lab, 0, false)
        .unwrap_or_else(|| panic!("no lease: {entries:?} {}", lab.log("native")));
    receive(&mut entries, "DHCPACK on ");
    let sent = std::process::Command::new("kill")
        .args(["-USR1", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    receive(&mut entries, "statistics ");
    let field = |e: &[(String, String)], key: &str| {
        e.iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let ack = entries
        .iter()
        .find(|e| field(e, "MESSAGE").starts_with(&format!("DHCPACK on {addr} to ")))
        .unwrap_or_else(|| panic!("no ACK entry among {entries:#?}"));
    assert_eq!(field(ack, "PRIORITY"), "6", "{ack:?}");
    assert_eq!(field(ack, "SYSLOG_IDENTIFIER"), "dhcpd-pxe", "{ack:?}");
    let stats = entries
        .iter()
        .find(|e| field(e, "MESSAGE").starts_with("statistics "))
        .unwrap_or_else(|| panic!("no statistics entry among {entries:#?}"));
    assert!(
        field(stats, "MESSAGE").contains("replies_ack=1"),
        "{stats:?}"
    );
    assert!(lab.alive("native"), "SIGUSR1 killed the server");
    // Nothing on stderr: the journal has it all.
    assert!(
        !lab.log("native").contains("DHCPACK"),
        "{}",
        lab.log("native")
    );
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn with_stderr_on_dev_null_lines_go_to_syslog() {
    let test = "with_stderr_on_dev_null_lines_go_to_syslog";
    if !can_run(test, &["udhcpc"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let socket = lab.path("log.sock");
    let syslog = std::os::unix::net::UnixDatagram::bind(&socket).unwrap();
    syslog
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let leases = lab.path("leases");
    // As an init script starts a daemon in the background: stderr is /dev/null.
    let child = std::process::Command::new("ip")
        .args(["netns", "exec", &lab.server_ns])
        .arg(env!("CARGO_BIN_EXE_dhcpd-pxe"))
        .args(["--interface", "br0", "--range", "192.0.2.100-192.0.2.110"])
        .args(["--boot-file", "pxelinux.0", "--lease-file"])
        .arg(&leases)
        .env("DHCPD_PXE_SYSLOG_SOCKET", &socket)
        .env_remove("RUST_LOG")
        .env_remove("JOURNAL_STREAM")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id();
    lab.children.push(("syslog".into(), child));
    let mut lines: Vec<String> = Vec::new();
    let receive = |lines: &mut Vec<String>, until: &str| {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let mut buf = [0u8; 4096];
        while std::time::Instant::now() < deadline && lines.len() < 200 {
            if let Ok(n) = syslog.recv(&mut buf) {
                lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
            if lines.iter().any(|l| l.contains(until)) {
                return;
            }
        }
    };
    receive(&mut lines, "listening");
    let (addr, _, _) = udhcpc(&mut lab, 0, false).unwrap_or_else(|| panic!("no lease: {lines:#?}"));
    receive(&mut lines, "DHCPACK on ");
    // Facility daemon (3), severity info (6): <30>.
    let want = format!("<30>dhcpd-pxe[{pid}]: DHCPACK on {addr} to 02:00:00:00:");
    assert!(
        lines.iter().any(|l| l.starts_with(&want)),
        "{want:?} not among {lines:#?}"
    );
}
