//! Benchmarks for the netboot workspace; see `benches/` and `src/bin/tftp-bench.rs`.
