//! SIGUSR1: log every counter as one `key=value` line, as dnsmasq dumps its
//! statistics on SIGUSR1. Installing the handler also replaces the default
//! action (terminate), so the signal never kills the daemon.

use std::io;
use std::sync::Arc;

use tokio::signal::unix::{signal, SignalKind};
use tracing::info;

use crate::endpoint::Source;
use crate::metrics::Metrics;

/// Logs `statistics KEY=VALUE …` at info level. The target is this crate's,
/// which [`crate::logs::init`] lets through at info whatever the daemon's
/// default level: an operator who sends SIGUSR1 wants to see the answer.
pub fn log_statistics(metrics: &Metrics) {
    info!("statistics {}", metrics.key_values());
}

/// Installs the SIGUSR1 handler on the current tokio runtime; each signal
/// logs the statistics line ([`log_statistics`]).
pub fn log_on_usr1<S: Source>(source: Arc<S>) -> io::Result<()> {
    let mut usr1 = signal(SignalKind::user_defined1())?;
    tokio::spawn(async move {
        while usr1.recv().await.is_some() {
            log_statistics(&source.collect().await);
        }
    });
    Ok(())
}
