//! dhcpd-pxe's counters under their exposed names (the table in
//! docs/dhcpd-pxe.md, "Logs and metrics"): a running driver's
//! [`Report`] asked for at each scrape and SIGUSR1.

use std::time::Duration;

use dhcp_server::driver::{Control, Report};
use observe::{Kind, Metrics};
use tokio::sync::mpsc::UnboundedSender;

/// How long a scrape waits for the driver's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(2);

/// The metrics of `r`.
pub fn metrics(r: &Report) -> Metrics {
    let s = &r.stats;
    let l = &r.leases;
    let mut m = Metrics::new("dhcp");
    m.counter(
        "received",
        "Datagrams received on the DHCP ports",
        s.received,
    );
    let replies = "Replies sent or queued, by message type";
    for (ty, n) in [
        ("offer", s.offers),
        ("ack", s.acks),
        ("nak", s.naks),
        ("bootreply", s.bootreplies),
    ] {
        m.labelled(Kind::Counter, "replies", replies, ("type", ty), n);
    }
    let leases = "Lease records by state";
    for (state, n) in [
        ("offered", l.offered),
        ("bound", l.bound),
        ("expired", l.expired),
        ("released", l.released),
        ("declined", l.declined),
    ] {
        m.labelled(Kind::Gauge, "leases", leases, ("state", state), n);
    }
    let limited = "Requests dropped over a rate limit";
    m.labelled(
        Kind::Counter,
        "rate_limited",
        limited,
        ("scope", "client"),
        s.rate_limited,
    )
    .labelled(
        Kind::Counter,
        "rate_limited",
        limited,
        ("scope", "total"),
        s.total_rate_limited,
    )
    .counter(
        "malformed",
        "Datagrams that are not DHCP messages, or with a malformed option 53",
        s.malformed,
    );
    let dropped = "Requests dropped for another reason";
    for (reason, n) in [
        ("lease_cap", s.capped),
        ("bootp_not_served", s.bootp_not_served),
        ("queue_full", r.queue_dropped),
    ] {
        m.labelled(Kind::Counter, "dropped", dropped, ("reason", reason), n);
    }
    m.counter(
        "unanswered",
        "Requests answered with silence (not for this server, drops included)",
        s.silent,
    )
    .counter(
        "commit_failures",
        "ACKs not sent because their lease could not be written in time",
        s.commit_failures,
    )
    .counter(
        "leases_refused",
        "ACKs not sent because another server sharing the lease store holds the address",
        s.refused,
    )
    .counter(
        "lease_writes",
        "Lease batches written (one fsync each)",
        s.commit_batches,
    )
    .counter(
        "log_events_dropped",
        "Log lines dropped because too many waited",
        s.events_dropped,
    );
    m
}

/// Asks the running driver for its counters.
#[derive(Debug, Clone)]
pub struct DriverMetrics(pub UnboundedSender<Control>);

impl observe::Source for DriverMetrics {
    async fn collect(&self) -> Metrics {
        let (answer, report) = tokio::sync::oneshot::channel();
        if self.0.send(Control::Report(answer)).is_err() {
            return Metrics::new("dhcp");
        }
        match tokio::time::timeout(ANSWER_WITHIN, report).await {
            Ok(Ok(r)) => metrics(&r),
            _ => Metrics::new("dhcp"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        let mut r = Report::default();
        r.stats.offers = 2;
        r.leases.bound = 1;
        let m = metrics(&r);
        assert_eq!(m.get("replies", Some("offer")), Some(2));
        let text = m.prometheus();
        assert!(
            text.contains("dhcp_replies_total{type=\"offer\"} 2"),
            "{text}"
        );
        assert!(text.contains("dhcp_leases{state=\"bound\"} 1"), "{text}");
        assert!(m.key_values().contains("leases_bound=1"));
    }
}
