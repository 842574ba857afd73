//! netio against the kernel, on loopback: packet info, binding, and batched
//! sends arriving byte-exact and one datagram at a time.

mod batch;
mod pktinfo;

use std::time::Duration;

#[path = "../../../../tests/support/skip.rs"]
mod support_skip;
pub(crate) use support_skip::skip;

/// How long a test waits for a datagram that should be there already.
pub(crate) const PATIENCE: Duration = Duration::from_secs(5);
