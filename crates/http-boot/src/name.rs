//! URL path → TFTP file name.
//!
//! The file name is the request target's path (RFC 9110 §4.2: the part
//! before `?`; a query is ignored), percent-decoded (RFC 3986 §2.1) into raw
//! bytes, leading `/` kept: `GET /pxelinux.cfg/default` asks for the name a
//! TFTP client sends as `/pxelinux.cfg/default`. The [`FileSource`] then
//! applies its own rules to it, exactly as to a TFTP name (with `-s` the
//! leading `/` is dropped and the name is below the root; without `-s` it is
//! an absolute name that must lie below one of the directories).
//!
//! Refused here, before any file system access:
//! - a target that is not an origin-form path (`*`, `http://host/...`): 400;
//! - a malformed escape (`%zz`, `%4`): 400;
//! - an encoded slash (`%2F`) or an encoded NUL / control character: 400 (a
//!   name must mean the same whether or not a proxy decodes it);
//! - a `..` segment, written or encoded (`%2e%2e`): 403, as TFTP's
//!   "Reverse path not allowed".
//!
//! [`FileSource`]: tftp::source::FileSource

use percent_encoding::percent_decode;

use crate::decision::Refusal;

/// The TFTP file name for the request target `path` (the path and query of
/// an origin-form target, as the request line carries it).
pub fn file_name(target: &str) -> Result<Vec<u8>, Refusal> {
    let path = target.split_once('?').map_or(target, |(p, _)| p);
    if !path.starts_with('/') {
        return Err(Refusal::BadRequest(
            "request target is not an absolute path",
        ));
    }
    check_escapes(path.as_bytes())?;
    let name: Vec<u8> = percent_decode(path.as_bytes()).collect();
    if let Some(&c) = name.iter().find(|&&c| c < 0x20 || c == 0x7f) {
        return Err(Refusal::BadRequest(match c {
            0 => "NUL in path",
            _ => "control character in path",
        }));
    }
    if name.split(|&c| c == b'/').any(|seg| seg == b"..") {
        return Err(Refusal::Forbidden("Reverse path not allowed".to_owned()));
    }
    Ok(name)
}

/// Every `%` is followed by two hex digits, and none encodes `/`.
fn check_escapes(path: &[u8]) -> Result<(), Refusal> {
    let mut i = 0;
    while let Some(off) = path[i..].iter().position(|&c| c == b'%') {
        let at = i + off;
        let hex = path
            .get(at + 1..at + 3)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
        match hex {
            None => return Err(Refusal::BadRequest("malformed percent-encoding")),
            Some(h) if h.eq_ignore_ascii_case(b"2f") => {
                return Err(Refusal::BadRequest("encoded slash in path"))
            }
            Some(_) => i = at + 3,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(target: &str) -> Vec<u8> {
        file_name(target).unwrap()
    }

    #[test]
    fn plain_and_decoded_names() {
        assert_eq!(ok("/pxelinux.0"), b"/pxelinux.0");
        assert_eq!(ok("/a%20b/c%2Bd"), b"/a b/c+d");
        assert_eq!(ok("/grub/grub.cfg?arch=x64"), b"/grub/grub.cfg");
        assert_eq!(ok("/caf%C3%A9"), "/café".as_bytes());
        // Raw bytes, not necessarily UTF-8.
        assert_eq!(ok("/x%FF"), b"/x\xff");
        // `.` and repeated slashes are left to the source (it drops them).
        assert_eq!(ok("//./a"), b"//./a");
    }

    #[test]
    fn traversal_is_forbidden() {
        for t in [
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/etc/passwd",
            "/.%2E/x",
            "/a/..",
        ] {
            assert!(matches!(file_name(t), Err(Refusal::Forbidden(_))), "{t}");
        }
        // Not a `..` segment.
        assert_eq!(ok("/a..b/...c"), b"/a..b/...c");
    }

    #[test]
    fn malformed_targets_are_bad_requests() {
        for t in [
            "*",
            "http://example.invalid/x",
            "x",
            "/a%zz",
            "/a%4",
            "/a%",
            "/..%2Fetc",
            "/a%2fb",
            "/a%00b",
            "/a%0ab",
            "/a%7f",
        ] {
            assert!(matches!(file_name(t), Err(Refusal::BadRequest(_))), "{t}");
        }
    }
}
