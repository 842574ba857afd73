//! Parse → print must give back the input, byte for byte; formatting must be
//! idempotent; linting must not panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use pxelinux::{format::format_bytes, lint_bytes, Document};

fuzz_target!(|data: &[u8]| {
    let doc = Document::parse(data);
    assert_eq!(doc.to_bytes(), data, "parse -> print changed the input");
    let once = format_bytes(data);
    assert_eq!(format_bytes(&once), once, "formatting is not idempotent");
    assert_eq!(Document::parse(&once).to_bytes(), once);
    let _ = lint_bytes("fuzz", data);
});
