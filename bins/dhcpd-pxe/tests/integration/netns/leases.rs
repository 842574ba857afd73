//! `dhcpd-pxe leases` on the journal of a running server after a real client got
//! its lease: the JSON lists it with the host name and architecture the client
//! sent and the boot file it was given, and Kea's own lease-file reader (kea-lfc)
//! loads the `--csv` export, host name included.

use std::process::Command;

use super::clients::udhcpc_with;
use super::{can_run, which, Lab};

fn leases(args: &[String], format: &str) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_dhcpd-pxe"))
        .arg("leases")
        .args(args)
        .args([format].into_iter().filter(|f| !f.is_empty()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "leases {format}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
#[ignore = "needs root and peer tools: run by scripts/test"]
fn leases_lists_a_udhcpc_lease_while_the_server_runs() {
    let test = "leases_lists_a_udhcpc_lease_while_the_server_runs";
    if !can_run(test, &["udhcpc", "kea-lfc"]) {
        return;
    }
    let mut lab = Lab::new(1);
    let lease_file = lab.path("leases");
    let args: Vec<String> = [
        "--interface",
        "br0",
        "--range",
        "192.0.2.100-192.0.2.150",
        "--lease-time",
        "10m",
        "--boot-file",
        "pxelinux.0",
        "--lease-file",
        lease_file.to_str().unwrap(),
    ]
    .map(String::from)
    .into();
    let server_args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.start_server("server", &server_args);
    // Host name (option 12) and architecture 7, x64 UEFI (option 93), as sent.
    let sent = ["-x", "hostname:pxe-node-7", "-x", "0x5d:0007"];
    let (addr, boot_file, _) = udhcpc_with(&mut lab, 0, false, &sent)
        .unwrap_or_else(|| panic!("no lease: {}", lab.log("server")));
    assert_eq!(boot_file, "pxelinux.0", "what the client was given");
    assert!(lab.alive("server"), "{}", lab.log("server"));
    let mac = lab.sh_ok(&lab.client_ns.clone(), "cat /sys/class/net/vc0/address");

    // The journal alone.
    let json = leases(
        &["--lease-file".into(), lease_file.display().to_string()],
        "--json",
    );
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 1, "{json}");
    assert_eq!(rows[0]["address"], addr.as_str(), "{json}");
    assert_eq!(rows[0]["hwaddr"], mac.trim(), "{json}");
    assert_eq!(rows[0]["state"], "bound", "{json}");
    assert!(rows[0]["expires"].as_u64().is_some(), "{json}");
    assert!(rows[0]["subnet"].is_null(), "{json}");
    assert_eq!(rows[0]["hostname"], "pxe-node-7", "{json}");
    assert_eq!(rows[0]["arch"], 7, "{json}");
    assert_eq!(rows[0]["arch_name"], "x64 UEFI", "{json}");
    assert_eq!(rows[0]["boot_file"], boot_file.as_str(), "{json}");
    // Granted now, for the lease time: start and end are that far apart.
    let (start, end) = (rows[0]["start"].as_u64(), rows[0]["expires"].as_u64());
    assert_eq!(end.zip(start).map(|(e, s)| e - s), Some(600), "{json}");

    // With the server's own flags: the subnet and its lease time are known.
    let json = leases(&args, "--json");
    assert!(json.contains("\"subnet\": \"192.0.2.0/24\""), "{json}");
    let table = leases(&args, "");
    assert!(table.starts_with("ADDRESS "), "{table}");
    let line = table.lines().nth(1).unwrap_or_default();
    assert!(
        line.starts_with(&addr) && line.contains(" bound "),
        "{table}"
    );
    for col in ["HOSTNAME", "STARTS (UTC)", "ARCH", "BOOT FILE"] {
        assert!(table.lines().next().unwrap().contains(col), "{table}");
    }
    for cell in [" pxe-node-7 ", " 7 ", " pxelinux.0 "] {
        assert!(line.contains(cell), "{cell}: {table}");
    }
    let csv = leases(&args, "--csv");
    let row = csv.lines().nth(1).unwrap_or_default();
    assert!(
        row.starts_with(&format!("{addr},{},01:{},600,", mac.trim(), mac.trim())),
        "{csv}"
    );
    assert!(row.ends_with(",0,0,pxe-node-7,0,"), "{csv}");

    // Kea's lease-file cleanup reads the export with its own parser and keeps the
    // lease (a lifetime of 0 would be a deletion to it), with and without the
    // configuration.
    kea_keeps(&lab, "with-config", &csv, &addr, "pxe-node-7");
    let alone = leases(
        &["--lease-file".into(), lease_file.display().to_string()],
        "--csv",
    );
    kea_keeps(&lab, "journal-alone", &alone, &addr, "pxe-node-7");
}

/// Runs kea-lfc on `csv`: it must read one lease without errors and keep `addr`
/// with `hostname` in its column.
fn kea_keeps(lab: &Lab, name: &str, csv: &str, addr: &str, hostname: &str) {
    let dir = lab.dir.path().join(name);
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("kea.csv"), csv).unwrap();
    let out = Command::new(which("kea-lfc").unwrap())
        .current_dir(&dir)
        .args([
            "-d", "-4", "-x", "prev.csv", "-i", "kea.csv", "-o", "out.csv",
        ])
        .args(["-f", "fin.csv", "-p", "lfc.pid", "-c", "/dev/null"])
        .env("KEA_LOCKFILE_DIR", "none")
        .output()
        .unwrap();
    let log = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "{name}: {log}");
    assert!(
        log.contains("LFC_READ_STATS Leases: 1,") && log.contains("errors: 0"),
        "{name}: {log}"
    );
    let kept = std::fs::read_to_string(dir.join("prev.csv")).unwrap();
    let header: Vec<&str> = kept.lines().next().unwrap_or_default().split(',').collect();
    let col = header.iter().position(|c| *c == "hostname");
    let row = kept.lines().find(|l| l.starts_with(&format!("{addr},")));
    let row = row.unwrap_or_else(|| panic!("{name}: Kea dropped the lease:\n{kept}\n{csv}"));
    assert_eq!(
        col.and_then(|c| row.split(',').nth(c)),
        Some(hostname),
        "{name}: Kea's hostname column:\n{kept}"
    );
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
