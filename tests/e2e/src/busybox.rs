//! The busybox of the test initrd, which must be static: it runs as `/init`
//! with no C library in the initrd, and a dynamic one makes the kernel print
//! `Failed to execute /init (error -2)` and every boot end without its marker.
//!
//! Debian's `busybox-static` and `busybox` packages conflict (the TFTP peers
//! install `busybox`), so scripts/install-e2e-peers unpacks `busybox-static`
//! into [`BUSYBOX_CACHE`] instead of installing it, and this module checks the
//! file found there for an ELF interpreter (`PT_INTERP`) before it is used.

use std::path::{Path, PathBuf};

use crate::machine::Unmet;

/// Where scripts/install-e2e-peers unpacks busybox-static.
pub const BUSYBOX_CACHE: &str = "/opt/netboot-e2e/busybox/bin/busybox";

/// The static busybox: `NETBOOT_E2E_BUSYBOX`, else [`BUSYBOX_CACHE`].
pub fn find() -> Result<PathBuf, Unmet> {
    let path = std::env::var_os("NETBOOT_E2E_BUSYBOX")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from(BUSYBOX_CACHE), PathBuf::from);
    if !path.is_file() {
        return Err(Unmet(format!(
            "missing busybox at {} (run scripts/install-e2e-peers as root)",
            path.display()
        )));
    }
    check_static(&path).map_err(Unmet)?;
    Ok(path)
}

/// `Ok` for a static ELF executable; otherwise the reason, naming the cause.
pub fn check_static(path: &Path) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    match interpreter(&bytes) {
        Ok(None) => Ok(()),
        Ok(Some(interp)) => Err(format!(
            "busybox is dynamic: {} needs the ELF interpreter {interp}, which the test \
             initrd does not have (the kernel would report `Failed to execute /init \
             (error -2)`); use busybox-static (scripts/install-e2e-peers unpacks it \
             into {BUSYBOX_CACHE})",
            path.display()
        )),
        Err(e) => Err(format!("busybox at {}: {e}", path.display())),
    }
}

/// The `PT_INTERP` path of an ELF file, `None` for a static one.
pub fn interpreter(elf: &[u8]) -> Result<Option<String>, String> {
    const PT_INTERP: u32 = 3;
    if elf.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("not an ELF file".into());
    }
    let truncated = || "truncated ELF file".to_owned();
    let wide = match elf.get(4).ok_or_else(truncated)? {
        1 => false,
        2 => true,
        c => return Err(format!("unknown ELF class {c}")),
    };
    let little = match elf.get(5).ok_or_else(truncated)? {
        1 => true,
        2 => false,
        d => return Err(format!("unknown ELF data encoding {d}")),
    };
    let uint = |at: usize, len: usize| -> Result<u64, String> {
        let field = elf.get(at..at + len).ok_or_else(truncated)?;
        let mut value = 0u64;
        for i in 0..len {
            let byte = if little { field[len - 1 - i] } else { field[i] };
            value = value << 8 | u64::from(byte);
        }
        Ok(value)
    };
    let size = |v: u64| usize::try_from(v).map_err(|_| truncated());
    // e_phoff, e_phentsize, e_phnum; p_offset and p_filesz of a header.
    let (phoff, phentsize, phnum, p_offset, p_filesz) = if wide {
        (
            uint(0x20, 8)?,
            uint(0x36, 2)?,
            uint(0x38, 2)?,
            (0x08, 8),
            (0x20, 8),
        )
    } else {
        (
            uint(0x1c, 4)?,
            uint(0x2a, 2)?,
            uint(0x2c, 2)?,
            (0x04, 4),
            (0x10, 4),
        )
    };
    for i in 0..phnum {
        let header = size(phoff)? + size(i * phentsize)?;
        if uint(header, 4)? != u64::from(PT_INTERP) {
            continue;
        }
        let at = size(uint(header + p_offset.0, p_offset.1)?)?;
        let len = size(uint(header + p_filesz.0, p_filesz.1)?)?;
        let path = elf.get(at..at.saturating_add(len)).ok_or_else(truncated)?;
        let path = path.split(|&b| b == 0).next().unwrap_or_default();
        return Ok(Some(String::from_utf8_lossy(path).into_owned()));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 64-bit little-endian ELF header with one program header of `p_type`.
    fn elf64(p_type: u32) -> Vec<u8> {
        let mut elf = vec![0u8; 0x40 + 0x38 + 16];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes()); // e_phoff
        elf[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes()); // e_phentsize
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes()); // e_phnum
        elf[0x40..0x44].copy_from_slice(&p_type.to_le_bytes());
        let interp = 0x40 + 0x38;
        elf[0x48..0x50].copy_from_slice(&(interp as u64).to_le_bytes()); // p_offset
        elf[0x60..0x68].copy_from_slice(&11u64.to_le_bytes()); // p_filesz
        elf[interp..interp + 11].copy_from_slice(b"/lib/ld.so\0");
        elf
    }

    #[test]
    fn an_interpreter_header_makes_it_dynamic() {
        assert_eq!(
            interpreter(&elf64(3)).unwrap().as_deref(),
            Some("/lib/ld.so")
        );
        assert_eq!(interpreter(&elf64(1)).unwrap(), None); // PT_LOAD only
    }

    #[test]
    fn malformed_files_are_errors_not_panics() {
        assert!(interpreter(b"#!/bin/sh\n").is_err());
        let elf = elf64(3);
        for len in 0..elf.len() {
            let _ = interpreter(&elf[..len]);
        }
        let mut huge = elf64(1); // more headers than the file holds
        huge[0x38..0x3a].copy_from_slice(&u16::MAX.to_le_bytes());
        assert!(interpreter(&huge).is_err());
    }

    #[test]
    fn this_machines_shell_is_dynamic_and_named_so() {
        // /bin/sh is dynamically linked on Debian: the check names the cause.
        let err = check_static(Path::new("/bin/sh")).unwrap_err();
        assert!(err.starts_with("busybox is dynamic: "), "{err}");
    }
}
