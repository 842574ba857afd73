//! One scenario from start to teardown: namespaces, TFTP tree, servers, the
//! boot, the verdict. Teardown is by drop (qemu and servers killed by PID,
//! then the namespaces deleted), on success and failure alike; a failed run
//! keeps its logs in a directory it names, with the stage that broke.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::daemon::Daemon;
use crate::diagnose::{self, Expected};
use crate::lab::{Lab, BRIDGE, PEER_IF, SERVER_IP};
use crate::machine::{self, Machine, Unmet};
use crate::qemu::{self, Firmware};
use crate::tree;

/// Who answers DHCP (and who serves TFTP).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dhcp {
    /// dnsmasq gives addresses and the boot file; this project's `tftpd` serves.
    Dnsmasq,
    /// dnsmasq gives addresses and serves TFTP itself: the reference.
    DnsmasqWithTftp,
    /// `dhcpd-pxe` in full mode (addresses and boot information).
    DhcpdPxe,
    /// ISC dhcpd (on a second host) gives addresses; `dhcpd-pxe --proxy`
    /// adds the boot information.
    IscWithProxy,
}

/// One boot to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Test name, also part of the namespace and directory names.
    pub name: &'static str,
    /// BIOS or UEFI.
    pub firmware: Firmware,
    /// Who answers DHCP.
    pub dhcp: Dhcp,
    /// The VM's MAC address.
    pub mac: &'static str,
    /// Whether `pxecfg generate` writes a per-host file for `mac` that boots
    /// another label than `default` (then that label's marker is expected).
    pub per_host: bool,
    /// How long the boot may take, power-on to marker.
    pub deadline: Duration,
}

/// A scenario that booted.
#[derive(Debug, Clone, Copy)]
pub struct Passed {
    /// Time from starting qemu to the marker on the serial console.
    pub power_on_to_marker: Duration,
}

/// Runs the scenario if the machine allows (see [`machine::run_or_skip`]),
/// panics with the failed stage and the kept logs' directory otherwise, and
/// prints the boot time.
pub fn check(s: &Scenario) {
    let _one = crate::one_at_a_time();
    machine::run_or_skip(s.name, |m| {
        if matches!(s.dhcp, Dhcp::DhcpdPxe | Dhcp::IscWithProxy) {
            if let Err(Unmet(reason)) = m.dhcpd_pxe() {
                return machine::skip(s.name, &reason);
            }
        }
        if matches!(s.dhcp, Dhcp::Dnsmasq | Dhcp::DnsmasqWithTftp) {
            if let Err(Unmet(reason)) = machine::require_tool("dnsmasq") {
                return machine::skip(s.name, &reason);
            }
        }
        if s.dhcp == Dhcp::IscWithProxy {
            if let Err(Unmet(reason)) = machine::require_tool("dhcpd") {
                return machine::skip(s.name, &reason);
            }
        }
        repeat_boots(s.name, || run(s, m));
    });
}

/// Boots `NETBOOT_E2E_REPEAT` times (see [`repeat`]) with `run`, prints and
/// records each boot time (and the median of several), and panics with the
/// first failure, prefixed by `name`.
pub fn repeat_boots(name: &str, mut run: impl FnMut() -> Result<Passed, String>) {
    let runs = repeat();
    let mut times = Vec::with_capacity(runs);
    for i in 1..=runs {
        match run() {
            Ok(p) => {
                eprintln!(
                    "BOOT TIME: {name}: power-on to marker {:.1} s (run {i} of {runs})",
                    p.power_on_to_marker.as_secs_f64()
                );
                record_time(name, p.power_on_to_marker);
                times.push(p.power_on_to_marker);
            }
            Err(failure) => panic!("{name}: {failure}"),
        }
    }
    if runs > 1 {
        times.sort();
        eprintln!(
            "BOOT TIME: {name}: median of {runs} runs {:.1} s (min {:.1}, max {:.1})",
            times[runs / 2].as_secs_f64(),
            times[0].as_secs_f64(),
            times[runs - 1].as_secs_f64()
        );
    }
}

/// How many times each scenario boots: `NETBOOT_E2E_REPEAT` (default 1, at
/// most 20), for timing figures.
pub fn repeat() -> usize {
    std::env::var("NETBOOT_E2E_REPEAT")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .map_or(1, |n| n.clamp(1, 20))
}

/// Runs the scenario; the error says which stage broke and where the logs are.
pub fn run(s: &Scenario, m: &Machine) -> Result<Passed, String> {
    in_run_dir(s.name, |dir| run_in(s, m, dir))
}

/// Runs `f` in a fresh directory `$TMPDIR/netboot-e2e-<name>-<pid>`, removed
/// after a pass; after a failure the logs are kept ([`keep_logs`]) and the
/// error names where.
pub fn in_run_dir(
    name: &str,
    f: impl FnOnce(&Path) -> Result<Passed, String>,
) -> Result<Passed, String> {
    let dir = std::env::temp_dir().join(format!("netboot-e2e-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let result = f(&dir);
    if result.is_ok() {
        let _ = fs::remove_dir_all(&dir);
    }
    result.map_err(|why| {
        let kept = keep_logs(name, &dir, &["pxelinux.cfg", "efi64/pxelinux.cfg", "grub"]);
        format!("{why}\nlogs kept in {kept}")
    })
}

fn run_in(s: &Scenario, m: &Machine, dir: &Path) -> Result<Passed, String> {
    let root = dir.join("tftp");
    let host_mac = s.per_host.then_some(s.mac);
    tree::build(&root, m, host_mac, &dir.join("pxecfg.log"))
        .map_err(|e| format!("stage setup: TFTP tree: {e}"))?;

    let peer = s.dhcp == Dhcp::IscWithProxy;
    // Declared first, dropped last: the servers and qemu die before the
    // namespaces go.
    let lab = Lab::create(short(s.name), peer).map_err(|e| format!("stage setup: network: {e}"))?;
    let mut daemons: Vec<Daemon> = Vec::new();
    start_servers(s, m, &lab, &root, dir, &mut daemons)
        .map_err(|e| format!("stage setup: servers: {e}"))?;

    let (boot_file, prefix, ldlinux) = match s.firmware {
        Firmware::Bios => (tree::BIOS_BOOT_FILE, "", "ldlinux.c32"),
        Firmware::Uefi => (tree::EFI64_BOOT_FILE, "efi64/", "ldlinux.e64"),
    };
    let marker_value = if s.per_host {
        tree::HOST_MARKER
    } else {
        tree::DEFAULT_MARKER
    };
    let marker = format!("{}{marker_value}", tree::MARKER_PREFIX);
    let boot = qemu::boot(&lab, s.firmware, s.mac, &marker, dir, s.deadline)
        .map_err(|e| format!("stage setup: qemu: {e}"))?;

    // Stop the servers so their logs are complete, then judge.
    drop(daemons);
    drop(lab);
    if let Some(t) = boot.marker_after {
        confirm(s, dir, boot_file)?;
        return Ok(Passed {
            power_on_to_marker: t,
        });
    }

    let serial = read_lossy(&boot.serial);
    let requests = if s.dhcp == Dhcp::DnsmasqWithTftp {
        diagnose::dnsmasq_requests(
            &read_lossy(&dir.join("dnsmasq.log")),
            &root.to_string_lossy(),
        )
    } else {
        diagnose::tftpd_requests(&read_lossy(&dir.join("tftpd.log")))
    };
    let dhcp_log: String = ["dnsmasq.log", "dhcpd-pxe.log", "dhcpd.log"]
        .iter()
        .map(|f| read_lossy(&dir.join(f)))
        .collect::<Vec<_>>()
        .join("\n");
    let exp = Expected {
        boot_file,
        prefix,
        ldlinux,
        marker: marker_value,
    };
    let stage = diagnose::stage(&exp, &requests, &serial, &dhcp_log);
    let how = match boot.exited {
        Some(status) => format!("qemu exited ({status}) without the marker"),
        None => format!("no marker within {} s", s.deadline.as_secs()),
    };
    Err(format!("{how}; {stage}"))
}

/// After the marker: the logs agree with what the scenario claims. `tftpd`
/// was asked for the firmware's own boot file (tftp-hpa's `RRQ from … filename
/// …` line), and beside ISC dhcpd the address came from ISC dhcpd.
fn confirm(s: &Scenario, dir: &Path, boot_file: &str) -> Result<(), String> {
    if s.dhcp != Dhcp::DnsmasqWithTftp {
        let requests = diagnose::tftpd_requests(&read_lossy(&dir.join("tftpd.log")));
        if !requests.iter().any(|r| r.file == boot_file) {
            return Err(format!(
                "marker seen, but tftpd's log has no request for {boot_file} (requests: {})",
                requests
                    .iter()
                    .map(|r| r.file.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    if s.dhcp == Dhcp::IscWithProxy
        && !read_lossy(&dir.join("dhcpd.log")).contains("DHCPACK on 192.0.2.")
    {
        return Err(
            "marker seen, but ISC dhcpd's log shows no DHCPACK: who gave the address?".into(),
        );
    }
    Ok(())
}

fn start_servers(
    s: &Scenario,
    m: &Machine,
    lab: &Lab,
    root: &Path,
    dir: &Path,
    daemons: &mut Vec<Daemon>,
) -> std::io::Result<()> {
    let ready = Duration::from_secs(10);
    if s.dhcp != Dhcp::DnsmasqWithTftp {
        daemons.push(start_tftpd(m, lab, root, dir)?);
    }
    // qemu's BIOS PXE ROM is iPXE (user class "iPXE"); `bios=` serves it as
    // the machine's boot ROM, as ISC dhcpd's `filename` would.
    let boot_files = [
        format!("bios={}", tree::BIOS_BOOT_FILE),
        format!("efi-x64={}", tree::EFI64_BOOT_FILE),
    ];
    match s.dhcp {
        Dhcp::Dnsmasq | Dhcp::DnsmasqWithTftp => {
            let mut cmd = lab.command("dnsmasq");
            cmd.args([
                "--no-daemon",
                "--conf-file=/dev/null",
                "--log-facility=-",
                "--port=0",
                "--user=root",
                &format!("--interface={BRIDGE}"),
                "--bind-interfaces",
                "--dhcp-range=192.0.2.100,192.0.2.150,255.255.255.0,10m",
                // x64 UEFI (option 93 = 7; 9 as some firmware sends) gets SYSLINUX.
                "--dhcp-match=set:efi64,option:client-arch,7",
                "--dhcp-match=set:efi64,option:client-arch,9",
                &format!(
                    "--dhcp-boot=tag:efi64,{},,{SERVER_IP}",
                    tree::EFI64_BOOT_FILE
                ),
                &format!(
                    "--dhcp-boot=tag:!efi64,{},,{SERVER_IP}",
                    tree::BIOS_BOOT_FILE
                ),
                "--log-dhcp",
            ])
            .arg(format!(
                "--dhcp-leasefile={}",
                dir.join("dnsmasq.leases").display()
            ))
            .arg(format!("--pid-file={}", dir.join("dnsmasq.pid").display()));
            if s.dhcp == Dhcp::DnsmasqWithTftp {
                cmd.arg("--enable-tftp")
                    .arg(format!("--tftp-root={}", root.display()));
            }
            let mut d = Daemon::spawn("dnsmasq", cmd, &dir.join("dnsmasq.log"))?;
            d.wait_for_log("DHCP, IP range", ready)?;
            daemons.push(d);
        }
        Dhcp::DhcpdPxe => daemons.push(start_dhcpd_pxe_full(m, lab, &boot_files, dir)?),
        Dhcp::IscWithProxy => {
            let conf = dir.join("dhcpd.conf");
            fs::write(
                &conf,
                "# netboot-e2e: addresses only; boot information comes from the proxy\n\
                 authoritative;\nddns-update-style none;\nping-check false;\n\
                 default-lease-time 600;\nmax-lease-time 600;\n\
                 subnet 192.0.2.0 netmask 255.255.255.0 {\n  range 192.0.2.100 192.0.2.150;\n}\n",
            )?;
            let leases = dir.join("dhcpd.leases");
            fs::write(&leases, "")?;
            let mut cmd = lab
                .peer_command("dhcpd")
                .ok_or_else(|| std::io::Error::other("no peer namespace"))?;
            cmd.args(["-4", "-f", "-d", "-cf"])
                .arg(&conf)
                .arg("-lf")
                .arg(&leases)
                .arg("-pf")
                .arg(dir.join("dhcpd.pid"))
                .arg(PEER_IF);
            let mut d = Daemon::spawn("dhcpd", cmd, &dir.join("dhcpd.log"))?;
            d.wait_for_log("Sending on", ready)?;
            daemons.push(d);

            let bin = m.dhcpd_pxe().map_err(|Unmet(r)| std::io::Error::other(r))?;
            let mut cmd = lab.command(&bin.to_string_lossy());
            cmd.args(["-v", "--proxy", "--interface", BRIDGE]);
            for b in &boot_files {
                cmd.args(["--boot-file", b]);
            }
            cmd.args(["--tftp-server", SERVER_IP]);
            let mut d = Daemon::spawn("dhcpd-pxe", cmd, &dir.join("dhcpd-pxe.log"))?;
            d.still_running_after(Duration::from_millis(500))?;
            daemons.push(d);
        }
    }
    Ok(())
}

/// This project's `tftpd` serving `root` on [`SERVER_IP`], log `dir/tftpd.log`.
pub fn start_tftpd(m: &Machine, lab: &Lab, root: &Path, dir: &Path) -> std::io::Result<Daemon> {
    let mut cmd = lab.command(&m.tftpd.to_string_lossy());
    cmd.args(["-L", "-v", "-a", &format!("{SERVER_IP}:69"), "-s"])
        .arg(root);
    let mut d = Daemon::spawn("tftpd", cmd, &dir.join("tftpd.log"))?;
    d.wait_for_log("listening", Duration::from_secs(10))?;
    Ok(d)
}

/// `dhcpd-pxe` in full mode on [`BRIDGE`]: addresses 192.0.2.100–150,
/// `boot_files` (`CLASS=FILE`), [`SERVER_IP`] as the TFTP server, lease
/// journal and log in `dir`.
pub fn start_dhcpd_pxe_full(
    m: &Machine,
    lab: &Lab,
    boot_files: &[String],
    dir: &Path,
) -> std::io::Result<Daemon> {
    let bin = m.dhcpd_pxe().map_err(|Unmet(r)| std::io::Error::other(r))?;
    let mut cmd = lab.command(&bin.to_string_lossy());
    cmd.args([
        "-v",
        "--interface",
        BRIDGE,
        "--range",
        "192.0.2.100-192.0.2.150",
    ]);
    for b in boot_files {
        cmd.args(["--boot-file", b]);
    }
    cmd.args(["--tftp-server", SERVER_IP, "--lease-file"])
        .arg(dir.join("dhcpd-pxe.leases"));
    let mut d = Daemon::spawn("dhcpd-pxe", cmd, &dir.join("dhcpd-pxe.log"))?;
    d.still_running_after(Duration::from_millis(500))?;
    Ok(d)
}

/// A short tag for the namespace name (interface names are not involved, but
/// keep `ip netns list` readable).
pub fn short(name: &str) -> &str {
    &name[..name.len().min(24)]
}

/// The file as text (invalid UTF-8 replaced), empty if unreadable.
pub fn read_lossy(p: &Path) -> String {
    String::from_utf8_lossy(&fs::read(p).unwrap_or_default()).into_owned()
}

/// Copies the logs, the generated configuration (the directories `configs`
/// under `dir/tftp`) and the inventory of a failed run into
/// `$NETBOOT_E2E_KEEP` (default: the temp directory)
/// `/netboot-e2e-failed-<name>-<pid>`, removes the run directory (kernel,
/// initrd, firmware copies) and returns the kept directory.
pub fn keep_logs(name: &str, dir: &Path, configs: &[&str]) -> String {
    let base = std::env::var_os("NETBOOT_E2E_KEEP")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let kept = base.join(format!("netboot-e2e-failed-{name}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&kept);
    let mut note = String::new();
    if let Err(e) = fs::create_dir_all(&kept) {
        return format!(
            "(nowhere: cannot create {}: {e}; run dir {} left)",
            kept.display(),
            dir.display()
        );
    }
    let mut wanted: Vec<(PathBuf, PathBuf)> = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.filter_map(Result::ok) {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if name.ends_with(".log")
                || name.ends_with(".conf")
                || name.ends_with(".toml")
                || name.ends_with(".leases")
            {
                wanted.push((p, kept.join(&name)));
            }
        }
    }
    for cfg in configs {
        if let Ok(entries) = fs::read_dir(dir.join("tftp").join(cfg)) {
            let to = kept.join(cfg.replace('/', "-"));
            let _ = fs::create_dir_all(&to);
            for e in entries.filter_map(Result::ok) {
                wanted.push((e.path(), to.join(e.file_name())));
            }
        }
    }
    for (from, to) in wanted {
        if let Err(e) = fs::copy(&from, &to) {
            let _ = writeln!(note, " (could not keep {}: {e})", from.display());
        }
    }
    let _ = fs::remove_dir_all(dir);
    format!("{}{note}", kept.display())
}

/// Appends `<unix time> <scenario> <seconds>` to
/// `target/netboot-e2e-boot-times.txt` (passing tests' output is hidden by
/// the test harness; the file keeps every run's figures).
fn record_time(name: &str, t: Duration) {
    use std::io::Write as _;
    let Some(target) = machine::profile_dir().and_then(|d| d.parent().map(Path::to_path_buf))
    else {
        return;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    if let Ok(mut f) = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(target.join("netboot-e2e-boot-times.txt"))
    {
        let _ = writeln!(f, "{now} {name} {:.1}", t.as_secs_f64());
    }
}
