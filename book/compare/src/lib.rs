//! Comparison benchmarks: the same workloads on every stage that has what
//! they use, on tokio (current-thread runtime) and smol (`LocalExecutor`),
//! and, where it means something, on plain threads, all in one run.
//!
//! - `cargo bench --manifest-path book/compare/Cargo.toml`: the criterion
//!   measures (yield, spawn, pool, ping-pong);
//! - `book/compare/report` (or `cargo run --release --manifest-path
//!   book/compare/Cargo.toml -- report`): everything, written to
//!   `book/src/performance/` as `results.md` and SVG charts.
//!
//! A stage is added in one place: `stages.rs` (plus its path dependency).

#[macro_use]
mod adapt;
pub mod alloc;
pub mod peers;
pub mod reference;
pub mod report;
pub mod rt;
pub mod sample;
pub mod stages;
pub mod suite;
pub mod svg;
pub mod threads;
pub mod work;
