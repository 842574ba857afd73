//! netio against the kernel, on loopback: packet info, binding, and batched
//! sends arriving byte-exact and one datagram at a time.

mod batch;
mod pktinfo;

use std::time::Duration;

/// Reports a test skipped because the machine lacks something; under
/// `CI=true` a missing capability is a failure instead.
pub(crate) fn skip(test: &str, why: &str) {
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{test}: {why} (CI=true: not skipping)"
    );
    eprintln!("SKIPPED: {test}: {why}");
}

/// How long a test waits for a datagram that should be there already.
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);
