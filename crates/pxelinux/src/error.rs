//! The crate's error type.

/// Errors from this crate. Parsing itself never fails (syslinux reads any bytes);
/// these come from user input such as addresses and builder values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A MAC address, IP address or UUID that could not be parsed.
    #[error("invalid {kind} `{value}`")]
    InvalidAddress {
        /// `MAC`, `IP` or `UUID`.
        kind: &'static str,
        /// The text given.
        value: String,
    },
    /// A value the builder cannot write without changing its meaning.
    #[error("cannot write {what}: {reason}")]
    Unrepresentable {
        /// What was being written.
        what: String,
        /// Why it cannot be written.
        reason: String,
    },
    /// Reading a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
