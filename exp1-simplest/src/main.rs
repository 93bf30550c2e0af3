//! Experiment 1 demo: two tasks take turns.
//!
//! Each task prints Start, a, b, c, Stop and yields to the scheduler between
//! lines, so the two tasks' lines alternate strictly.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.

use std::io::{self, Write};
use std::time::Instant;

use exp1_simplest::{run, task, trace_start, yield_now};

/// Prints `line` on stdout, unless stdout's reader has gone (`| head -n 1`):
/// then the line is lost. `println!` would panic on the error, and a demo
/// whose output nobody reads has no reason to stop half way.
fn print(line: &str) {
    let _ = writeln!(io::stdout(), "{line}");
}

/// Prints a line stamped with the milliseconds since `start`.
fn say(start: Instant, line: &str) {
    let ms = start.elapsed().as_secs_f64() * 1e3;
    print(&format!("{ms:>8.3} ms  {line}"));
}

/// One task of the demo: five lines, with a yield between each.
async fn worker(name: &'static str, start: Instant) {
    say(start, &format!("{name}: Start"));
    for step in ["a", "b", "c"] {
        yield_now().await;
        say(start, &format!("{name}: {step}"));
    }
    yield_now().await;
    say(start, &format!("{name}: Stop"));
}

fn main() {
    print("exp1-simplest: two tasks yield after every line, so their lines alternate.");
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    run(vec![task(worker("C1", start)), task(worker("C2", start))]);
    say(start, "all tasks done");
}
