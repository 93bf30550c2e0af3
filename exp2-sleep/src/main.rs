//! Experiment 2 demo: a sleeping task and a busy one.
//!
//! C1 sleeps 300 ms between its lines, C2 110 ms. While one sleeps the
//! other runs, and when both sleep the thread sleeps until the next deadline:
//! the timestamps show who was woken when.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use exp2_sleep::{run, sleep, task, trace_start};

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

/// One task of the demo: five lines, with a sleep of `pause` between each.
async fn worker(name: &'static str, pause: Duration, start: Instant) {
    say(start, &format!("{name}: Start"));
    for step in ["a", "b", "c"] {
        sleep(pause).await;
        say(start, &format!("{name}: {step}"));
    }
    sleep(pause).await;
    say(start, &format!("{name}: Stop"));
}

fn main() {
    print("exp2-sleep: C1 sleeps 300 ms between lines, C2 110 ms; neither blocks the other.");
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    run(vec![
        task(worker("C1", Duration::from_millis(300), start)),
        task(worker("C2", Duration::from_millis(110), start)),
    ]);
    say(start, "all tasks done");
}
