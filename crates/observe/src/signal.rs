//! SIGUSR1: log every counter as one `key=value` line, as dnsmasq dumps its
//! statistics on SIGUSR1. Installing the handler also replaces the default
//! action (terminate), so the signal never kills the daemon.

use std::io;
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

use crate::endpoint::Source;

/// Installs the SIGUSR1 handler on the current tokio runtime; each signal
/// logs `statistics KEY=VALUE …` at info level.
pub fn log_on_usr1<S: Source>(source: Arc<S>) -> io::Result<()> {
    let mut usr1 = signal(SignalKind::user_defined1())?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            let line = source.collect().await.key_values();
            info!("statistics {line}");
        }
    });
    Ok(())
}
