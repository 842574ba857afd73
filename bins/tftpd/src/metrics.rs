//! tftpd's counters under their exposed names (the table in docs/tftpd.md,
//! "Logs and metrics"): the `tftp` server's [`Counters`] read at each scrape
//! and SIGUSR1.

use std::sync::Arc;

use observe::{Kind, Metrics};
use tftp::server::{Counters, TransferOutcome};

/// The server's counters as a metrics [`observe::Source`].
#[derive(Debug, Clone)]
pub struct TftpMetrics(pub Arc<Counters>);

impl TftpMetrics {
    /// The current values.
    pub fn metrics(&self) -> Metrics {
        let c = self.0.snapshot();
        let mut m = Metrics::new("tftp");
        let requests = "Requests received on a listening port";
        m.labelled(
            Kind::Counter,
            "requests",
            requests,
            ("type", "rrq"),
            c.read_requests,
        )
        .labelled(
            Kind::Counter,
            "requests",
            requests,
            ("type", "wrq"),
            c.write_requests,
        );
        for o in TransferOutcome::ALL {
            m.labelled(
                Kind::Counter,
                "transfers",
                "Finished transfers by outcome",
                ("outcome", o.label()),
                c.transfers(o),
            );
        }
        m.gauge("transfers_active", "Transfers running now", c.active)
            .bytes(
                "sent",
                "File bytes delivered to clients (RRQ)",
                c.sent_bytes,
            )
            .bytes(
                "received",
                "File bytes accepted from clients (WRQ)",
                c.received_bytes,
            )
            .counter(
                "retransmissions",
                "Packets sent again after a timeout or a gap",
                c.retransmissions,
            )
            .counter("timeouts", "Retransmission timeouts that fired", c.timeouts);
        let busy = "Requests refused for lack of a transfer slot";
        m.labelled(
            Kind::Counter,
            "busy",
            busy,
            ("action", "replied"),
            c.busy_replied,
        )
        .labelled(
            Kind::Counter,
            "busy",
            busy,
            ("action", "dropped"),
            c.busy_dropped,
        )
        .counter(
            "malformed_requests",
            "Malformed requests (answered ERROR 4)",
            c.malformed,
        )
        .counter(
            "ignored_datagrams",
            "Datagrams on a listening port that are not requests",
            c.not_requests,
        );
        m
    }
}

impl observe::Source for TftpMetrics {
    async fn collect(&self) -> Metrics {
        self.metrics()
    }
}
