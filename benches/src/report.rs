//! How `tftp-bench` prints its cells: an aligned table for people, CSV for
//! spreadsheets and scripts, JSON for tools. Table and CSV rows are printed as
//! each cell ends; JSON is one array printed at the end.

use std::fmt::Write as _;

use crate::cell::CellResult;

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns.
    Table,
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON array of objects.
    Json,
}

/// Column names, in the order of [`csv_row`] (the JSON object uses the same names).
pub const COLUMNS: [&str; 22] = [
    "blksize",
    "windowsize",
    "clients",
    "rounds",
    "transfers",
    "ok",
    "failed",
    "timed_out",
    "server_errors",
    "corrupt",
    "other_errors",
    "bytes_ok",
    "wall_s",
    "aggregate_mbps",
    "transfer_s_median",
    "transfer_s_p95",
    "transfer_s_max",
    "transfer_mbps_median",
    "client_timeouts",
    "gap_acks",
    "discarded_blocks",
    "first_failure",
];

fn opt(v: Option<u16>) -> String {
    v.map_or_else(|| "-".into(), |n| n.to_string())
}

fn cells(r: &CellResult) -> Vec<String> {
    vec![
        opt(r.blksize),
        opt(r.windowsize),
        r.clients.to_string(),
        r.rounds.to_string(),
        r.transfers.to_string(),
        r.ok.to_string(),
        r.failed.to_string(),
        r.timed_out.to_string(),
        r.server_errors.to_string(),
        r.corrupt.to_string(),
        r.other_errors.to_string(),
        r.bytes_ok.to_string(),
        format!("{:.3}", r.wall_s),
        format!("{:.1}", r.aggregate_mbps),
        format!("{:.3}", r.transfer_s_median),
        format!("{:.3}", r.transfer_s_p95),
        format!("{:.3}", r.transfer_s_max),
        format!("{:.1}", r.transfer_mbps_median),
        r.client_timeouts.to_string(),
        r.gap_acks.to_string(),
        r.discarded_blocks.to_string(),
        r.first_failure.clone().unwrap_or_default(),
    ]
}

/// The CSV header line.
pub fn csv_header() -> String {
    COLUMNS.join(",")
}

/// One CSV line; the failure text is quoted.
pub fn csv_row(r: &CellResult) -> String {
    let mut v = cells(r);
    if let Some(last) = v.last_mut() {
        *last = format!("\"{}\"", last.replace('"', "\"\""));
    }
    v.join(",")
}

/// Columns shown in the table (the rest is in CSV and JSON).
const TABLE: [(usize, &str, usize); 13] = [
    (0, "blksize", 7),
    (1, "wsize", 5),
    (2, "clients", 7),
    (4, "xfers", 5),
    (6, "failed", 6),
    (7, "t/o", 4),
    (9, "corrupt", 7),
    (12, "wall_s", 8),
    (13, "agg_MB/s", 8),
    (14, "xfer_s_med", 10),
    (15, "xfer_s_p95", 10),
    (16, "xfer_s_max", 10),
    (18, "client_t/o", 10),
];

/// The table's header and rule.
pub fn table_header() -> String {
    let mut s = String::new();
    for (_, name, w) in TABLE {
        let _ = write!(s, "{name:>w$} ");
    }
    s.push('\n');
    for (_, _, w) in TABLE {
        let _ = write!(s, "{} ", "-".repeat(w));
    }
    s
}

/// One table line; the first failure follows on its own line.
pub fn table_row(r: &CellResult) -> String {
    let v = cells(r);
    let mut s = String::new();
    for (i, _, w) in TABLE {
        let _ = write!(s, "{:>w$} ", v[i]);
    }
    if let Some(f) = &r.first_failure {
        let _ = write!(s, "\n  first failure: {f}");
    }
    s
}

/// All cells as one JSON array.
pub fn json(results: &[CellResult]) -> String {
    serde_json::to_string_pretty(results).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
}
