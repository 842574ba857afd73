//! `Content-Type` by file name extension.
//!
//! Firmware and boot loaders do not look at it (UEFI HTTP boot checks only
//! the status and `Content-Length`), but browsers, `curl -J` and proxies do,
//! so each name gets the registered type where one exists and
//! `application/octet-stream` otherwise (kernels, initrds, `pxelinux.0`).
//! Matching is case-insensitive on the part after the last `.` of the last
//! path segment.

/// The default for anything not in [`TYPES`].
pub const DEFAULT: &str = "application/octet-stream";

/// Extension → media type.
pub const TYPES: &[(&str, &str)] = &[
    // EFI applications (IANA, registered by the UEFI Forum).
    ("efi", "application/efi"),
    // Boot scripts and configs: text.
    ("ipxe", "text/plain; charset=utf-8"),
    ("cfg", "text/plain; charset=utf-8"),
    ("conf", "text/plain; charset=utf-8"),
    ("txt", "text/plain; charset=utf-8"),
    ("sh", "text/plain; charset=utf-8"),
    // Disk and file-system images.
    ("iso", "application/x-iso9660-image"),
    ("img", DEFAULT),
    ("squashfs", DEFAULT),
    // Kernels and initrds by their usual compressions / archive formats.
    ("gz", "application/gzip"),
    ("xz", "application/x-xz"),
    ("zst", "application/zstd"),
    ("cpio", "application/x-cpio"),
    ("tar", "application/x-tar"),
    // Signatures and checksums next to images.
    ("sig", "application/pgp-signature"),
    ("asc", "application/pgp-signature"),
    ("sha256", "text/plain; charset=utf-8"),
    // Things an operator may drop into the tree.
    ("html", "text/html; charset=utf-8"),
    ("json", "application/json"),
    ("xml", "application/xml"),
];

/// The media type for the file `name` (raw bytes of the requested name).
pub fn for_name(name: &[u8]) -> &'static str {
    let last = name.rsplit(|&c| c == b'/').next().unwrap_or(name);
    let Some(dot) = last.iter().rposition(|&c| c == b'.') else {
        return DEFAULT;
    };
    let ext = &last[dot + 1..];
    TYPES
        .iter()
        .find(|(e, _)| e.as_bytes().eq_ignore_ascii_case(ext))
        .map_or(DEFAULT, |&(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_extension() {
        assert_eq!(for_name(b"/EFI/BOOT/BOOTX64.EFI"), "application/efi");
        assert_eq!(for_name(b"/boot.ipxe"), "text/plain; charset=utf-8");
        assert_eq!(for_name(b"/grub/grub.cfg"), "text/plain; charset=utf-8");
        assert_eq!(for_name(b"/debian.iso"), "application/x-iso9660-image");
        assert_eq!(for_name(b"/disk.img"), DEFAULT);
        assert_eq!(for_name(b"/initrd.gz"), "application/gzip");
    }

    #[test]
    fn kernels_and_odd_names_are_octet_streams() {
        for name in [
            &b"/vmlinuz"[..],
            b"/linux",
            b"/pxelinux.0",
            b"/a.cfg/kernel",
            b"/x.",
            b"/",
        ] {
            assert_eq!(for_name(name), DEFAULT, "{}", String::from_utf8_lossy(name));
        }
        // pxelinux.cfg/default: the directory's extension does not count.
        assert_eq!(for_name(b"/pxelinux.cfg/default"), DEFAULT);
    }
}
