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
    /// [`Admission::under_pressure`], for transfers to watch: below the
    /// high-water mark they are never disturbed.
    pressure: watch::Sender<bool>,
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
            pressure: watch::Sender::new(false),
        }
    }

    /// Follows whether the server is at or above its high-water mark.
    pub(super) fn pressure(&self) -> watch::Receiver<bool> {
        self.pressure.subscribe()
    }

    fn update_pressure(&self, st: &GateState) {
        let now = st.admission.under_pressure();
        self.pressure
            .send_if_modified(|p| std::mem::replace(p, now) != now);
    }

    /// Whether `slot` is due for a look ([`crate::accept::Admission::handshake_due`]).
    pub(super) fn handshake_due(&self, slot: SlotId) -> bool {
        self.lock().admission.handshake_due(slot, Instant::now())
    }

    /// The client of `slot` answered.
    pub(super) fn progressed(&self, slot: SlotId) {
        self.lock().admission.progressed(slot);
    }

    /// Whether `slot`'s handshake must be dropped now (then it is released).
    pub(super) fn expired(&self, slot: SlotId) -> bool {
        let mut st = self.lock();
        let expired = st.admission.handshake_expired(slot, Instant::now());
        if expired {
            st.aborts.remove(&slot);
            self.update_pressure(&st);
        }
        expired
    }

    /// A reclaimed `slot` had progressed after all: it keeps running.
    pub(super) fn reinstate(&self, slot: SlotId, abort: Arc<Notify>) {
        let mut st = self.lock();
        st.admission.reinstate(slot, Instant::now());
        st.aborts.insert(slot, abort);
        self.update_pressure(&st);
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
        self.update_pressure(&st);
        Ok((slot, abort))
    }

    pub(super) fn release(&self, slot: SlotId) {
        let mut st = self.lock();
        st.admission.release(slot);
        st.aborts.remove(&slot);
        self.update_pressure(&st);
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
