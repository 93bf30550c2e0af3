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
//!
//! The modules, each using only those on the lines above it:
//!
//! - `sample`, `rt`, `alloc`: samplers and statistics, the runtime traits,
//!   the counting allocator;
//! - `work` (the workloads), `results` (what a run recorded, and how a
//!   number is written), `svg` (charts);
//! - `entry` (a runtime and its workloads), `reference` (`poll(2)`,
//!   `epoll_wait(2)`);
//! - `stages`, `peers`, `threads`: the runtimes, each built as an `Entry`;
//! - `suite`: every entry, the measures and their ids, running them;
//! - `goals`: what the page checks; `report`: the page and the charts.

#[macro_use]
mod adapt;
pub mod alloc;
pub mod entry;
pub mod goals;
pub mod peers;
pub mod reference;
pub mod report;
pub mod results;
pub mod rt;
pub mod sample;
pub mod stages;
pub mod suite;
pub mod svg;
pub mod threads;
pub mod work;
