//! The virtual machine: `qemu-system-x86_64 -accel tcg` with an e1000 NIC on
//! the lab's tap, iPXE's BIOS ROM or OVMF, serial console to a file, and a
//! deadline. The run ends when the expected marker appears on the console,
//! when qemu exits (`-no-reboot` + `panic=-1`), or at the deadline.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::daemon::Daemon;
use crate::lab::{Lab, TAP};
use crate::machine;

/// The firmware the VM boots with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// SeaBIOS with iPXE's BIOS option ROM (DHCP option 93 = 0).
    Bios,
    /// OVMF (x64 UEFI; option 93 = 7) with iPXE's EFI option ROM as the NIC driver.
    Uefi,
}

/// How a boot ended.
#[derive(Debug)]
pub struct Boot {
    /// Time from starting qemu to the marker on the console, if it appeared.
    pub marker_after: Option<Duration>,
    /// Whether qemu exited by itself before the marker (and its status).
    pub exited: Option<String>,
    /// The serial console.
    pub serial: PathBuf,
}

/// Boots the VM in `lab` with NIC address `mac` and waits (at most
/// `deadline`) for `marker` on the serial console. Logs and the firmware's
/// variable store go to `dir`. qemu is killed (by PID) when this returns.
pub fn boot(
    lab: &Lab,
    firmware: Firmware,
    mac: &str,
    marker: &str,
    dir: &Path,
    deadline: Duration,
) -> io::Result<Boot> {
    let serial = dir.join("serial.log");
    let mut cmd = command(lab, &serial);
    let rom = match firmware {
        Firmware::Bios => machine::PXE_ROM_BIOS,
        Firmware::Uefi => {
            let vars = dir.join("OVMF.fd");
            std::fs::copy(machine::OVMF, &vars)?;
            cmd.arg("-bios").arg(&vars);
            machine::PXE_ROM_EFI
        }
    };
    cmd.args([
        "-device",
        &format!("e1000,netdev=n0,mac={mac},romfile={rom}"),
    ]);
    watch(cmd, serial, marker, dir, deadline)
}

/// The qemu command line every boot shares: TCG, 512 MiB, no display, the
/// serial console to `serial`, no reboot, and the lab's tap as netdev `n0`
/// (the caller adds the firmware and a NIC on `n0`).
pub fn command(lab: &Lab, serial: &Path) -> Command {
    let mut cmd = lab.command("qemu-system-x86_64");
    cmd.args([
        "-accel", "tcg", "-m", "512", "-display", "none", "-monitor", "none",
    ])
    .arg("-serial")
    .arg(format!("file:{}", serial.display()))
    .args(["-no-reboot", "-boot", "n"])
    .args([
        "-netdev",
        &format!("tap,id=n0,ifname={TAP},script=no,downscript=no"),
    ]);
    cmd
}

/// Starts qemu (`cmd`, its output to `dir/qemu.log`) and waits (at most
/// `deadline`) for `marker` on the serial console `serial`. qemu is killed
/// (by PID) when this returns.
pub fn watch(
    cmd: Command,
    serial: PathBuf,
    marker: &str,
    dir: &Path,
    deadline: Duration,
) -> io::Result<Boot> {
    let started = Instant::now();
    let mut qemu = Daemon::spawn("qemu", cmd, &dir.join("qemu.log"))?;
    let end = started + deadline;
    let mut exited = None;
    let marker_after = loop {
        let text = std::fs::read(&serial).unwrap_or_default();
        if String::from_utf8_lossy(&text).contains(marker) {
            break Some(started.elapsed());
        }
        if let Some(status) = qemu.exited() {
            // One more look: the marker may have landed just before the exit.
            let text = std::fs::read(&serial).unwrap_or_default();
            if String::from_utf8_lossy(&text).contains(marker) {
                break Some(started.elapsed());
            }
            exited = Some(status.to_string());
            break None;
        }
        if Instant::now() >= end {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(qemu);
    Ok(Boot {
        marker_after,
        exited,
        serial,
    })
}
