//! Benchmarks for the netboot workspace: the criterion benches in `benches/`
//! and the TFTP load client `tftp-bench` (`src/bin/tftp-bench.rs`), whose parts
//! live here:
//!
//! - [`fetch`]: one streaming TFTP get, checked on the fly, never buffered;
//! - [`cell`]: many concurrent gets as tokio tasks, failures counted, figures summarised;
//! - [`report`]: table, CSV and JSON output.

pub mod cell;
pub mod fetch;
pub mod report;
