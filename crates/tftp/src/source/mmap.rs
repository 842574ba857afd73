//! Memory-mapping a file into shared [`Bytes`].
//!
//! This is the one `unsafe` of the crate (its sockets are netio's): a memory map cannot
//! be made without it.

use std::fs::File;
use std::io;

use bytes::Bytes;

/// Maps `file` (of `len` bytes, from its `fstat`) read-only and wraps the map
/// in [`Bytes`], so every DATA packet is a slice of the page cache.
///
/// Empty files give `Bytes::new()` (an empty map is an error on Linux).
///
/// # The truncation hazard
/// If another process truncates the file while the map is alive, touching the
/// lost pages raises `SIGBUS` and ends the whole server. Replace served files
/// by writing a new file and renaming it over the old one (`mv`, `install`,
/// `rsync` do this; `cp` onto an existing file does not). Operators who cannot
/// promise that choose [`super::ReadStrategy::Copy`].
/// Files up to this size are mapped with `MAP_POPULATE`.
const POPULATE_LIMIT: u64 = 256 << 20;

#[allow(unsafe_code)]
pub(super) fn map(file: &File, len: u64) -> io::Result<Bytes> {
    if len == 0 {
        return Ok(Bytes::new());
    }
    // SAFETY: memmap2 requires that the mapped file is not modified or
    // truncated while the map lives, otherwise reads are undefined behaviour
    // (in practice: changed bytes, or SIGBUS past a new end of file). The map
    // is private and read-only, we never write through it, and the documented
    // contract above (files are replaced by rename, never rewritten in place)
    // is the same one every mmap-serving file server relies on.
    let mut options = memmap2::MmapOptions::new();
    if len <= POPULATE_LIMIT {
        // Fault every page in with one call: on a virtual machine a page
        // fault per 4 KiB in the send path costs more than the copy it saves.
        options.populate();
    }
    let map = unsafe { options.map(file)? };
    // Transfers read front to back; ask for aggressive read-ahead. Advice is
    // only a hint, so a failure is not an error.
    let _ = map.advise(memmap2::Advice::Sequential);
    Ok(Bytes::from_owner(map))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn maps_whole_file_and_empty_file() {
        let mut f = tempfile::tempfile().unwrap();
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        f.write_all(&data).unwrap();
        let bytes = map(&f, data.len() as u64).unwrap();
        assert_eq!(&bytes[..], &data[..]);
        let slice = bytes.slice(512..1024);
        drop(bytes);
        assert_eq!(&slice[..], &data[512..1024]);

        let empty = tempfile::tempfile().unwrap();
        assert!(map(&empty, 0).unwrap().is_empty());
    }
}
