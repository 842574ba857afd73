//! The boot model both writers share: a menu of entries with a default and a
//! timeout, each entry a Linux kernel with initrds and arguments or a return
//! to the firmware, an optional serial console, and where the files come from.

use pxelinux::Mac;

/// One menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The identifier: iPXE label and GRUB `--id` (letters, digits, `_ - .`).
    pub id: String,
    /// The text shown; a `^` before a character marks it as the hotkey.
    pub label: String,
    /// What choosing it does.
    pub action: Action,
}

/// What an entry boots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// A Linux kernel.
    Linux {
        /// Kernel path, relative to the [`Source`].
        kernel: String,
        /// Initrd paths, relative to the [`Source`], in order.
        initrd: Vec<String>,
        /// The kernel command line (without `BOOTIF=`).
        args: String,
        /// Append `BOOTIF=01-<mac>` (PXELINUX `IPAPPEND 2`).
        bootif: bool,
    },
    /// Leave the loader; the firmware boots the next device (PXELINUX `LOCALBOOT`).
    Exit,
}

/// A serial console for the loader's menu (PXELINUX `SERIAL port baud`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Serial {
    /// The port number (0 is COM1 / ttyS0).
    pub port: u8,
    /// Bits per second.
    pub baud: u32,
}

/// A menu: entries, the preselected one and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Menu {
    /// The title (shown by iPXE; GRUB's text menu has none).
    pub title: Option<String>,
    /// Time before the default boots, in tenths of a second; 0 waits forever.
    pub timeout_tenths: u32,
    /// The preselected entry id (default: the first).
    pub default: Option<String>,
    /// The entries, in order.
    pub entries: Vec<Entry>,
    /// The serial console, if any.
    pub serial: Option<Serial>,
}

impl Menu {
    /// The id of the entry that boots when the time runs out.
    pub fn default_id(&self) -> Option<&str> {
        self.default
            .as_deref()
            .or(self.entries.first().map(|e| e.id.as_str()))
    }

    /// The timeout in whole seconds, rounded up (GRUB); `None` waits forever.
    pub fn timeout_seconds(&self) -> Option<u32> {
        (self.timeout_tenths > 0).then(|| self.timeout_tenths.div_ceil(10))
    }

    /// The timeout in milliseconds (iPXE `choose --timeout`); `None` waits forever.
    pub fn timeout_millis(&self) -> Option<u64> {
        (self.timeout_tenths > 0).then(|| u64::from(self.timeout_tenths) * 100)
    }
}

/// A label without its `^` hotkey marks, and the hotkey (lower case).
pub fn hotkey(label: &str) -> (String, Option<char>) {
    let mut text = String::new();
    let mut key = None;
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '^' {
            if let Some(&k) = chars.peek() {
                if key.is_none() && k.is_ascii_alphanumeric() {
                    key = Some(k.to_ascii_lowercase());
                }
            }
            continue;
        }
        text.push(c);
    }
    (text, key)
}

/// Where kernels and initrds come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The TFTP server the loader came from; paths under this directory of its root.
    ThisTftp {
        /// Directory under the TFTP root (`""` or ending in `/`).
        dir: String,
    },
    /// A URL every path is appended to (`http://host/dir/` or `tftp://host/dir/`).
    Url {
        /// `http`, `https` or `tftp`.
        scheme: String,
        /// Host (and `:port`).
        host: String,
        /// Path on that server, starting and ending with `/`.
        dir: String,
    },
}

impl Source {
    /// From an optional base URL, else the TFTP directory `prefix` (the PXELINUX
    /// prefix, relative to the TFTP root).
    pub fn parse(base_url: Option<&str>, prefix: &str) -> Result<Self, String> {
        let Some(url) = base_url else {
            let dir = prefix.trim_start_matches('/');
            let dir = if dir.is_empty() || dir.ends_with('/') {
                dir.to_string()
            } else {
                format!("{dir}/")
            };
            return Ok(Self::ThisTftp { dir });
        };
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("`{url}` is not a URL (http://host/dir/)"))?;
        if !matches!(scheme, "http" | "https" | "tftp") {
            return Err(format!("`{scheme}`: base_url must be http, https or tftp"));
        }
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        if host.is_empty()
            || url
                .chars()
                .any(|c| c.is_whitespace() || "$'\"\\#{}".contains(c))
        {
            return Err(format!(
                "`{url}`: a host and no spaces, quotes, `$`, `#` or braces"
            ));
        }
        let dir = if path.is_empty() || path.ends_with('/') {
            format!("/{path}")
        } else {
            format!("/{path}/")
        };
        Ok(Self::Url {
            scheme: scheme.to_string(),
            host: host.to_string(),
            dir,
        })
    }

    /// The URI iPXE fetches `path` from.
    pub fn ipxe_uri(&self, path: &str) -> String {
        match self {
            Self::ThisTftp { dir } => format!("tftp://${{next-server}}/{dir}{path}"),
            Self::Url { scheme, host, dir } => format!("{scheme}://{host}{dir}{path}"),
        }
    }

    /// The GRUB file name of `path`: `/dir/path` on the server GRUB came
    /// from (its `$root`), or `(http,host)/dir/path`.
    pub fn grub_path(&self, path: &str) -> Result<String, String> {
        match self {
            Self::ThisTftp { dir } => Ok(format!("/{dir}{path}")),
            Self::Url { scheme, host, dir } => {
                if scheme == "https" {
                    return Err("GRUB has no https; use http or tftp in base_url".into());
                }
                if host.contains(':') {
                    return Err("GRUB's network devices take no port; drop it from base_url".into());
                }
                Ok(format!("({scheme},{host}){dir}{path}"))
            }
        }
    }
}

/// `BOOTIF=01-aa-bb-…` as PXELINUX's `IPAPPEND 2` writes it.
pub fn bootif(mac: &Mac) -> String {
    format!("BOOTIF={}", mac.file_name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_keep_their_meaning() {
        let mut m = Menu {
            title: None,
            timeout_tenths: 50,
            default: None,
            entries: vec![],
            serial: None,
        };
        assert_eq!(
            (m.timeout_seconds(), m.timeout_millis()),
            (Some(5), Some(5000))
        );
        m.timeout_tenths = 15;
        assert_eq!(m.timeout_seconds(), Some(2));
        m.timeout_tenths = 0;
        assert_eq!((m.timeout_seconds(), m.timeout_millis()), (None, None));
    }

    #[test]
    fn hotkeys_and_sources() {
        assert_eq!(hotkey("^Debian 12"), ("Debian 12".into(), Some('d')));
        assert_eq!(hotkey("plain"), ("plain".into(), None));
        let s = Source::parse(Some("http://192.0.2.1/boot"), "").unwrap();
        assert_eq!(s.ipxe_uri("k"), "http://192.0.2.1/boot/k");
        assert_eq!(s.grub_path("k").unwrap(), "(http,192.0.2.1)/boot/k");
        let t = Source::parse(None, "pxe").unwrap();
        assert_eq!(t.ipxe_uri("k"), "tftp://${next-server}/pxe/k");
        assert_eq!(t.grub_path("k").unwrap(), "/pxe/k");
        assert!(Source::parse(Some("ftp://x/"), "").is_err());
        assert!(Source::parse(Some("http://x:8080/"), "")
            .unwrap()
            .grub_path("k")
            .is_err());
        let m: Mac = "52:54:00:12:34:56".parse().unwrap();
        assert_eq!(bootif(&m), "BOOTIF=01-52-54-00-12-34-56");
    }
}
