//! The command line a label produces, built the way ldlinux's `record()` does:
//! `kernel [append] [initrd=…] [sysappend strings]`, and for Linux kernels the
//! `BOOT_IMAGE=` prefix the loader adds.

use std::net::Ipv4Addr;

use crate::directive::{KernelType, Keyword};
use crate::lookup::{Mac, Uuid};
use crate::model::{Globals, Label};

/// The kernel command-line limit: the result must stay under 2048 bytes.
pub const COMMAND_LINE_MAX: usize = 2048;

/// Values substituted for IPAPPEND / SYSAPPEND bits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SysAppend {
    /// The client MAC (for `BOOTIF=`).
    pub mac: Option<Mac>,
    /// The client address (for `ip=`).
    pub ip: Option<Ipv4Addr>,
    /// The client UUID (for `SYSUUID=`).
    pub uuid: Option<Uuid>,
}

impl SysAppend {
    /// The strings for the bits set in `mask`, in bit order.
    pub fn strings(&self, mask: u32) -> Vec<String> {
        let mut out = Vec::new();
        if mask & 1 != 0 {
            let ip = self
                .ip
                .map_or_else(|| "<client-ip>".to_string(), |i| i.to_string());
            out.push(format!("ip={ip}:<server-ip>:<gateway>:<netmask>"));
        }
        if mask & 2 != 0 {
            let mac = self
                .mac
                .map_or_else(|| "<01-mac>".to_string(), |m| m.file_name());
            out.push(format!("BOOTIF={mac}"));
        }
        if mask & 4 != 0 {
            if let Some(u) = self.uuid {
                out.push(format!("SYSUUID={u}"));
            }
        }
        if mask & 8 != 0 {
            out.push("CPU=<cpu-flags>".to_string());
        }
        for bit in 4..=18 {
            if mask & (1 << bit) != 0 {
                out.push(format!("<dmi-string-0x{:x}>", 1u32 << bit));
            }
        }
        out
    }
}

/// Parse an IPAPPEND / SYSAPPEND value as `strtoul(…, 0)` does (decimal, `0x` hex, `0` octal).
pub fn parse_mask(value: &str) -> u32 {
    let v = value.trim();
    let (radix, body) = if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        (16, h)
    } else if v.len() > 1 && v.starts_with('0') {
        (8, &v[1..])
    } else {
        (10, v)
    };
    let digits: String = body.chars().take_while(|c| c.is_digit(radix)).collect();
    u32::from_str_radix(&digits, radix).unwrap_or(0)
}

/// The label's effective APPEND: its own, else the global one; `APPEND -` is empty.
pub fn effective_append<'a>(label: &'a Label, globals: &'a Globals) -> &'a str {
    let a = label
        .append
        .as_ref()
        .or_else(|| globals.last(Keyword::Append))
        .map_or("", |s| s.value.as_str());
    if a == "-" {
        ""
    } else {
        a
    }
}

/// The command line syslinux records for a label (what the `Tab` key shows).
pub fn label_command(label: &Label, globals: &Globals, sys: &SysAppend) -> String {
    let (kind, kernel) = match &label.kernel {
        Some((t, s)) => (*t, s.value.clone()),
        None => (KernelType::Kernel, label.cli_name.clone()),
    };
    let mut ip = String::new();
    if let Some(initrd) = &label.initrd {
        ip.push_str(" initrd=");
        ip.push_str(&initrd.value);
    }
    let mask = label
        .ipappend
        .as_ref()
        .or_else(|| globals.last(Keyword::IpAppend))
        .or_else(|| globals.last(Keyword::SysAppend))
        .map_or(0, |s| parse_mask(&s.value));
    for s in sys.strings(mask) {
        ip.push(' ');
        ip.push_str(&s);
    }
    let a = effective_append(label, globals);
    let sep = if a.is_empty() { "" } else { " " };
    match kind {
        KernelType::Kernel => format!("{kernel}{sep}{a}{ip}"),
        t => format!(".{} {kernel}{sep}{a}{ip}", t.keyword()),
    }
}

/// What a Linux kernel receives: `BOOT_IMAGE=<kernel> <arguments>`; `None` for
/// labels that do not boot a Linux kernel (LOCALBOOT, COM32, CONFIG, …).
pub fn kernel_command_line(label: &Label, globals: &Globals, sys: &SysAppend) -> Option<String> {
    let cmd = label_command(label, globals, sys);
    match label.kernel.as_ref().map(|(t, _)| *t) {
        Some(KernelType::Linux) => {
            let rest = cmd.strip_prefix(".linux ")?;
            Some(boot_image(rest))
        }
        Some(KernelType::Kernel) | None if is_linux_name(label.kernel_file()?) => {
            Some(boot_image(&cmd))
        }
        _ => None,
    }
}

/// `BOOT_IMAGE=<first word> <rest>`: what the Linux loader hands the kernel for a
/// command `kernel args…`.
pub fn boot_image(cmd: &str) -> String {
    let (kernel, args) = cmd.split_once(' ').unwrap_or((cmd, ""));
    format!("BOOT_IMAGE={kernel} {args}")
}

/// Whether KERNEL would load this file as Linux (no special suffix; case-sensitive).
pub fn is_linux_name(file: &str) -> bool {
    ![".c32", ".cbt", ".com", ".bs", ".bin", ".bss", ".0", ".img"]
        .iter()
        .any(|s| file.ends_with(s))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{syntax::Document, Config};

    #[test]
    fn builds_the_recorded_command() {
        let cfg = Config::from_document(&Document::parse_str(
            "APPEND quiet\nIPAPPEND 2\nLABEL a\n KERNEL vmlinuz\n INITRD i.img\nLABEL b\n LINUX bz\n APPEND -\nLABEL c\n COM32 menu.c32\n",
        ));
        let sys = SysAppend {
            mac: "52:54:00:12:34:56".parse().ok(),
            ..SysAppend::default()
        };
        let a = &cfg.labels[0];
        assert_eq!(
            label_command(a, &cfg.globals, &sys),
            "vmlinuz quiet initrd=i.img BOOTIF=01-52-54-00-12-34-56"
        );
        assert_eq!(
            kernel_command_line(a, &cfg.globals, &sys).unwrap(),
            "BOOT_IMAGE=vmlinuz quiet initrd=i.img BOOTIF=01-52-54-00-12-34-56"
        );
        assert_eq!(
            label_command(&cfg.labels[1], &cfg.globals, &sys),
            ".linux bz BOOTIF=01-52-54-00-12-34-56"
        );
        assert!(kernel_command_line(&cfg.labels[2], &cfg.globals, &sys).is_none());
    }

    #[test]
    fn masks_parse_like_strtoul() {
        assert_eq!(parse_mask("0x3"), 3);
        assert_eq!(parse_mask("010"), 8);
        assert_eq!(parse_mask("2 "), 2);
        assert_eq!(parse_mask("x"), 0);
    }
}
