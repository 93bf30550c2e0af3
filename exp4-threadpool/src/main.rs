//! Experiment 4 demo: a task awaits a slow computation on the thread pool.
//!
//! C2 sleeps between its lines as in experiment 2. After its first step C1
//! hands a computation that takes a second to the pool and awaits its result;
//! the scheduler's thread meanwhile goes on running C2, whose lines keep
//! coming while C1 waits.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.

use std::io::{self, Write};
use std::thread;
use std::time::{Duration, Instant};

use exp4_threadpool::{run, sleep, spawn_blocking, task, trace_start};

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

/// A slow computation: `x` squared, after blocking its thread for a second.
/// The blocking sleep stands for a second of CPU work or of a blocking call,
/// and takes a second on any machine; on the scheduler's thread it would
/// stop every task for that second.
fn slow_square(x: u64) -> u64 {
    thread::sleep(Duration::from_secs(1));
    x * x
}

/// C1: like a worker, but awaits a slow computation on the pool after its
/// first step.
async fn computer(start: Instant) {
    let pause = Duration::from_millis(300);
    say(start, "C1: Start");
    sleep(pause).await;
    say(start, "C1: a, computing 7 * 7 on the pool");
    let square = spawn_blocking(|| slow_square(7)).await;
    say(start, &format!("C1: b, the pool returned {square}"));
    sleep(pause).await;
    say(start, "C1: c");
    sleep(pause).await;
    say(start, "C1: Stop");
}

fn main() {
    print("exp4-threadpool: C1 awaits a 1 s computation on the pool; watch C2 go on meanwhile.");
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    run(vec![
        task(computer(start)),
        task(worker("C2", Duration::from_millis(350), start)),
    ]);
    say(start, "all tasks done");
}
