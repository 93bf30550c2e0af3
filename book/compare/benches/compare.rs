//! The criterion measures of the comparison, every runtime in one run:
//! `cargo bench --manifest-path book/compare/Cargo.toml [-- FILTER]`.
//!
//! The timers, memory, echo and growth measures need custom samplers; they
//! run with everything else in `book/compare/report`.

use compare::results::Results;
use compare::suite::{self, Config, Filter};
use criterion::Criterion;

fn main() {
    let mut c = Criterion::default().configure_from_args();
    let mut results = Results::default();
    suite::run_criterion(
        &mut c,
        &suite::entries(),
        &Config::full(),
        &Filter(Vec::new()),
        &mut results,
    );
    c.final_summary();
}
