//! The inventory file read by `pxecfg generate` (format in docs/pxecfg-inventory.md).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

/// The whole inventory.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Settings of `pxelinux.cfg/default`.
    #[serde(default)]
    pub menu: MenuSpec,
    /// Boot profiles by name (the name becomes the LABEL).
    #[serde(default)]
    pub profiles: BTreeMap<String, Spanned<Profile>>,
    /// Machines that get their own file.
    #[serde(default)]
    pub hosts: Vec<Spanned<Host>>,
    /// Which boot loaders to write for, and where their files come from.
    #[serde(default)]
    pub output: OutputSpec,
}

/// A boot loader `generate` writes configurations for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// `pxelinux.cfg/default` and `pxelinux.cfg/<host>`.
    Pxelinux,
    /// `ipxe/boot.ipxe` and `ipxe/<host>.ipxe`.
    Ipxe,
    /// `grub/grub.cfg` and `grub/grub.cfg-<host>`.
    Grub,
}

/// The `[output]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    /// Loaders to write for (default: pxelinux); `--format` overrides it.
    pub formats: Option<Vec<Format>>,
    /// URL iPXE and GRUB fetch kernels and initrds from (`http://host/dir/`);
    /// default: the TFTP server they booted from.
    pub base_url: Option<String>,
    /// The PXELINUX prefix relative to the TFTP root: where iPXE and GRUB
    /// find the kernel and initrd paths (relative to it) on the TFTP server.
    #[serde(default)]
    pub prefix: String,
}

/// `[menu.serial]`: a serial console for the boot menu.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialSpec {
    /// Port number, 0 (COM1, ttyS0) by default.
    #[serde(default)]
    pub port: u8,
    /// Bits per second, 115200 by default.
    #[serde(default = "default_baud")]
    pub baud: u32,
}

fn default_baud() -> u32 {
    115_200
}

/// The menu of `pxelinux.cfg/default` (and of hosts that list `entries`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MenuSpec {
    /// The UI module (`menu.c32` or `vesamenu.c32`).
    #[serde(default = "default_ui")]
    pub ui: String,
    /// MENU TITLE.
    pub title: Option<String>,
    /// TIMEOUT in tenths of a second.
    #[serde(default = "default_timeout")]
    pub timeout: u32,
    /// The preselected profile.
    pub default: Option<Spanned<String>>,
    /// Profiles shown, in order (default: all, sorted by name).
    pub entries: Option<Vec<Spanned<String>>>,
    /// A serial console for the menu (PXELINUX `SERIAL`, GRUB `serial`).
    pub serial: Option<SerialSpec>,
}

impl Default for MenuSpec {
    fn default() -> Self {
        Self {
            ui: default_ui(),
            title: None,
            timeout: default_timeout(),
            default: None,
            entries: None,
            serial: None,
        }
    }
}

fn default_ui() -> String {
    "menu.c32".to_string()
}

fn default_timeout() -> u32 {
    50
}

/// One boot profile.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// MENU LABEL (default: the profile name).
    pub label: Option<String>,
    /// Kernel file, relative to the PXELINUX prefix.
    pub kernel: Option<String>,
    /// Initrd files.
    #[serde(default)]
    pub initrd: Vec<String>,
    /// Kernel arguments.
    pub append: Option<String>,
    /// IPAPPEND mask (2 adds BOOTIF=).
    pub ipappend: Option<u32>,
    /// LOCALBOOT value instead of a kernel.
    pub localboot: Option<i32>,
    /// A COM32 module instead of a kernel.
    pub com32: Option<String>,
}

/// How a host's file is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum NameBy {
    /// `01-aa-bb-cc-dd-ee-ff`.
    #[default]
    Mac,
    /// Eight upper-case hex digits of the IPv4 address.
    Ip,
    /// The UUID in lower case.
    Uuid,
}

/// One machine.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// A name for messages and the file's header comment.
    pub name: String,
    /// The MAC address.
    pub mac: Option<String>,
    /// The IPv4 address.
    pub ip: Option<String>,
    /// The UUID.
    pub uuid: Option<String>,
    /// Which identity names the file.
    #[serde(default)]
    pub by: NameBy,
    /// Boot this profile directly (no menu).
    pub profile: Option<String>,
    /// Or show a menu of these profiles.
    pub entries: Option<Vec<String>>,
    /// The preselected entry of that menu.
    pub default: Option<String>,
}

/// Read and parse an inventory; errors name the file, line and column.
pub fn load(path: &Path) -> anyhow::Result<(Inventory, String)> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read: {e}", path.display()))?;
    match toml::from_str::<Inventory>(&text) {
        Ok(inv) => Ok((inv, text)),
        Err(e) => {
            let (line, col) = e.span().map_or((1, 1), |s| line_col(&text, s.start));
            anyhow::bail!("{}:{line}:{col}: {}", path.display(), e.message())
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions() {
        assert_eq!(line_col("a\nbc\n", 3), (2, 2));
        assert_eq!(line_col("abc", 0), (1, 1));
    }

    #[test]
    fn parses_the_documented_shape() {
        let inv: Inventory = toml::from_str(
            "[menu]\ntitle = \"Lab\"\n[profiles.local]\nlocalboot = 0\n[[hosts]]\nname = \"a\"\nmac = \"52:54:00:12:34:56\"\nprofile = \"local\"\n",
        )
        .unwrap();
        assert_eq!(inv.menu.timeout, 50);
        assert_eq!(inv.hosts[0].get_ref().by, NameBy::Mac);
        assert!(toml::from_str::<Inventory>("[menu]\ntitel = 1\n").is_err());
    }
}
