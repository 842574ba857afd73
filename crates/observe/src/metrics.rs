//! A set of counters and gauges read from a running daemon, and its two
//! renderings: the Prometheus text exposition (through `prometheus-client`,
//! OpenMetrics text) for `--metrics`, and one `key=value` line for SIGUSR1
//! and the stop line.
//!
//! Names follow Prometheus conventions: a prefix per daemon (`tftp_`,
//! `dhcp_`), base units in the name (`_bytes`), `_total` on counters (added
//! by the encoder), one label for what varies (`outcome`, `type`, `state`).

use std::fmt::{self, Write as _};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};

/// What a metric measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only goes up (`_total`).
    Counter,
    /// Goes up and down (a count of things that exist now).
    Gauge,
}

/// One metric: a name, its help text and its samples, one per label value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metric {
    /// The name without the daemon prefix, the unit and `_total`.
    pub name: &'static str,
    /// One line for `# HELP`, without a final period (the encoder adds one).
    pub help: &'static str,
    /// Counter or gauge.
    pub kind: Kind,
    /// A count of bytes (the exposed name then ends in `_bytes`).
    pub bytes: bool,
    /// `(label value, value)`; the label name is [`Metric::label`].
    pub samples: Vec<(Option<&'static str>, u64)>,
    /// The label's name, for metrics with labelled samples.
    pub label: Option<&'static str>,
}

/// The metrics of one daemon, in the order they were added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metrics {
    prefix: &'static str,
    metrics: Vec<Metric>,
}

impl Metrics {
    /// An empty set whose names start with `prefix` (`"tftp"`, `"dhcp"`).
    pub fn new(prefix: &'static str) -> Self {
        Self {
            prefix,
            metrics: Vec::new(),
        }
    }

    fn entry(&mut self, name: &'static str, help: &'static str, kind: Kind) -> &mut Metric {
        if let Some(i) = self.metrics.iter().position(|m| m.name == name) {
            return &mut self.metrics[i];
        }
        self.metrics.push(Metric {
            name,
            help,
            kind,
            bytes: false,
            samples: Vec::new(),
            label: None,
        });
        self.metrics.last_mut().expect("just pushed")
    }

    /// A counter without labels.
    pub fn counter(&mut self, name: &'static str, help: &'static str, value: u64) -> &mut Self {
        self.entry(name, help, Kind::Counter)
            .samples
            .push((None, value));
        self
    }

    /// A counter of bytes (`NAME_bytes_total`).
    pub fn bytes(&mut self, name: &'static str, help: &'static str, value: u64) -> &mut Self {
        let m = self.entry(name, help, Kind::Counter);
        m.bytes = true;
        m.samples.push((None, value));
        self
    }

    /// A gauge without labels.
    pub fn gauge(&mut self, name: &'static str, help: &'static str, value: u64) -> &mut Self {
        self.entry(name, help, Kind::Gauge)
            .samples
            .push((None, value));
        self
    }

    /// One sample of a labelled counter or gauge: `NAME{label="value"}`.
    pub fn labelled(
        &mut self,
        kind: Kind,
        name: &'static str,
        help: &'static str,
        label: (&'static str, &'static str),
        value: u64,
    ) -> &mut Self {
        let m = self.entry(name, help, kind);
        m.label = Some(label.0);
        m.samples.push((Some(label.1), value));
        self
    }

    /// The metrics added so far.
    pub fn iter(&self) -> impl Iterator<Item = &Metric> {
        self.metrics.iter()
    }

    /// The value of `name` (with `label` value, if given); for tests and logs.
    pub fn get(&self, name: &str, label: Option<&str>) -> Option<u64> {
        let m = self.metrics.iter().find(|m| m.name == name)?;
        m.samples.iter().find(|(l, _)| *l == label).map(|(_, v)| *v)
    }

    /// The Prometheus text exposition (OpenMetrics 1.0 text, which
    /// Prometheus reads; ends with `# EOF`), in the order the metrics and
    /// samples were added.
    pub fn prometheus(&self) -> String {
        let mut registry = Registry::with_prefix(self.prefix);
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }

    /// Every value as `key=value`, space-separated, in order: the name with
    /// its unit (`sent_bytes`) and the label value appended
    /// (`transfers_complete`, `replies_offer`).
    pub fn key_values(&self) -> String {
        let mut out = String::new();
        for m in &self.metrics {
            for (label, value) in &m.samples {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(m.name);
                if m.bytes {
                    out.push_str("_bytes");
                }
                if let Some(l) = label {
                    let _ = write!(out, "_{l}");
                }
                let _ = write!(out, "={value}");
            }
        }
        out
    }
}

fn encode_value(kind: Kind, value: u64, to: MetricEncoder<'_>) -> Result<(), fmt::Error> {
    match kind {
        Kind::Counter => ConstCounter::new(value).encode(to),
        Kind::Gauge => ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)).encode(to),
    }
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), fmt::Error> {
        for m in &self.metrics {
            let unit = m.bytes.then_some(Unit::Bytes);
            let ty = match m.kind {
                Kind::Counter => MetricType::Counter,
                Kind::Gauge => MetricType::Gauge,
            };
            let mut family = encoder.encode_descriptor(m.name, m.help, unit.as_ref(), ty)?;
            let Some(label) = m.label else {
                let total = m.samples.iter().map(|(_, v)| *v).sum();
                encode_value(m.kind, total, family)?;
                continue;
            };
            for (value_label, value) in &m.samples {
                let labels = [(label, value_label.unwrap_or_default())];
                encode_value(m.kind, *value, family.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Metrics {
        let mut m = Metrics::new("tftp");
        m.labelled(
            Kind::Counter,
            "transfers",
            "Finished transfers",
            ("outcome", "complete"),
            3,
        )
        .labelled(
            Kind::Counter,
            "transfers",
            "Finished transfers",
            ("outcome", "timed_out"),
            1,
        )
        .bytes("sent", "Payload bytes sent", 1234)
        .gauge("transfers_active", "Transfers running now", 2);
        m
    }

    #[test]
    fn prometheus_text_has_conventional_names() {
        let text = sample().prometheus();
        assert!(
            text.contains("tftp_transfers_total{outcome=\"complete\"} 3"),
            "{text}"
        );
        assert!(
            text.contains("tftp_transfers_total{outcome=\"timed_out\"} 1"),
            "{text}"
        );
        assert!(text.contains("tftp_sent_bytes_total 1234"), "{text}");
        assert!(text.contains("# TYPE tftp_sent_bytes counter"), "{text}");
        assert!(text.contains("tftp_transfers_active 2"), "{text}");
        assert!(text.trim_end().ends_with("# EOF"), "{text}");
        // In the order added, label values included.
        let at = |needle: &str| text.find(needle).unwrap();
        assert!(
            at("outcome=\"complete\"") < at("outcome=\"timed_out\""),
            "{text}"
        );
        assert!(
            at("tftp_sent_bytes_total") < at("tftp_transfers_active"),
            "{text}"
        );
        assert!(text.contains("# UNIT tftp_sent_bytes bytes"), "{text}");
    }

    #[test]
    fn key_values_are_one_line() {
        assert_eq!(
            sample().key_values(),
            "transfers_complete=3 transfers_timed_out=1 sent_bytes=1234 transfers_active=2"
        );
        assert_eq!(sample().get("transfers", Some("timed_out")), Some(1));
    }
}
