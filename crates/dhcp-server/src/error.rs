//! The crate's error type.

use std::path::PathBuf;

use thiserror::Error;

/// Errors from configuration, the lease store and the driver.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is inconsistent.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The lease file is not a lease journal of this program.
    #[error("{path}: not a dhcpd-pxe lease journal (bad magic at offset 0); refusing to start rather than overwrite it")]
    ForeignJournal {
        /// The file.
        path: PathBuf,
    },
    /// The lease file is damaged.
    #[error("{path}: corrupt lease journal at offset {offset}: {reason}; refusing to start (move the file away to start empty)")]
    CorruptJournal {
        /// The file.
        path: PathBuf,
        /// Byte offset of the first bad record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// The lease database refused a statement or could not be reached.
    #[error("lease database: {what}: {reason}")]
    Database {
        /// What was being done.
        what: String,
        /// The database's (or the connection's) message.
        reason: String,
    },
    /// An I/O error, with what was being done.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// A lease database error, with what was being done.
    pub fn database(what: impl Into<String>, reason: impl std::fmt::Display) -> Self {
        Self::Database {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// Wraps an I/O error with what was being done.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            what: what.into(),
            source,
        }
    }
}
