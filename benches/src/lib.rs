//! Criterion benchmarks of esr live in `benches/`; run them with `cargo bench -p esr-benches`.
