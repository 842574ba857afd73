//! The admission policy shared by the listeners and the transfers, with the
//! signal that aborts each transfer holding a slot, and the task that logs
//! the policy's refusal summaries.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use super::report::log_summary;
use crate::accept::{Admission, AdmissionConfig, Admit, SlotId};

/// The admission policy and the abort signal of every transfer holding a slot.
pub(super) struct Gate {
    state: Mutex<GateState>,
}

pub(super) struct GateState {
    pub(super) admission: Admission,
    aborts: HashMap<SlotId, Arc<Notify>>,
}

impl Gate {
    pub(super) fn new(config: AdmissionConfig) -> Self {
        Self {
            state: Mutex::new(GateState {
                admission: Admission::new(config, Instant::now()),
                aborts: HashMap::new(),
            }),
        }
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A slot for a request from `peer`, with the signal that aborts it;
    /// a reclaimed victim is told to stop. `Err(reply)` when busy.
    pub(super) fn admit(&self, peer: SocketAddr) -> Result<(SlotId, Arc<Notify>), bool> {
        let mut st = self.lock();
        let slot = match st.admission.request(Instant::now(), peer.ip()) {
            Admit::Granted(slot) => slot,
            Admit::Reclaimed { slot, victim } => {
                if let Some(abort) = st.aborts.remove(&victim) {
                    abort.notify_one();
                }
                slot
            }
            Admit::Busy { reply } => return Err(reply),
        };
        let abort = Arc::new(Notify::new());
        st.aborts.insert(slot, abort.clone());
        Ok((slot, abort))
    }

    pub(super) fn release(&self, slot: SlotId) {
        let mut st = self.lock();
        st.admission.release(slot);
        st.aborts.remove(&slot);
    }
}

/// Logs the refusal summary whenever the policy has one due.
pub(super) async fn summaries(gate: Arc<Gate>, mut stop: watch::Receiver<bool>) {
    loop {
        let next = gate.lock().admission.next_summary();
        let wait = next
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(500));
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
        let summary = gate.lock().admission.poll_summary(Instant::now(), false);
        if let Some(s) = summary {
            log_summary(&s);
        }
    }
}
