//! Option 59 (Boot File URL) and 60 (Boot File Parameters), RFC 5970 §3.1–3.2.

use std::net::Ipv6Addr;

/// The Boot File URL for a policy's file: a URL (`http://…`, `https://…`,
/// `tftp://…`) as it is; a path becomes `tftp://[tftp]/path` (the address in
/// brackets, RFC 3986 §3.2.2, one `/` between address and path).
pub fn boot_file_url(file: &str, tftp: Ipv6Addr) -> String {
    if file.contains("://") {
        return file.to_string();
    }
    format!("tftp://[{tftp}]/{}", file.trim_start_matches('/'))
}

/// Option 60's bytes: every parameter as a 16-bit length and its bytes. `None` when
/// a parameter is longer than 65535 bytes or the whole would not fit an option.
pub fn boot_file_params(params: &[&str]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for p in params {
        let len = u16::try_from(p.len()).ok()?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(p.as_bytes());
    }
    (out.len() <= usize::from(u16::MAX)).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_tftp_urls_and_urls_stay() {
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        assert_eq!(
            boot_file_url("/grubx64.efi", a),
            "tftp://[2001:db8::1]/grubx64.efi"
        );
        assert_eq!(
            boot_file_url("efi/shim.efi", a),
            "tftp://[2001:db8::1]/efi/shim.efi"
        );
        assert_eq!(
            boot_file_url("http://[2001:db8::5]/x.efi", a),
            "http://[2001:db8::5]/x.efi"
        );
        assert_eq!(
            boot_file_params(&["root=/dev/nfs", ""]).unwrap(),
            b"\x00\x0droot=/dev/nfs\x00\x00".to_vec()
        );
    }
}
