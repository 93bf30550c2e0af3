//! Experiment 3 demo: a running task spawns a third.
//!
//! C1 and C2 sleep between their lines as in experiment 2. After its first
//! step C1 spawns C3, which runs alongside them, and before it stops C1
//! awaits C3's result through the join handle.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.

use std::io::{self, Write};
use std::time::{Duration, Instant};

use exp3_spawn::{run, sleep, spawn, task, trace_start};

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

/// C1: like a worker, but spawns C3 after its first step and joins it last.
async fn spawner(start: Instant) {
    let pause = Duration::from_millis(300);
    say(start, "C1: Start");
    sleep(pause).await;
    say(start, "C1: a, spawning C3");
    let c3 = spawn(async move {
        worker("C3", Duration::from_millis(175), start).await;
        "C3's result"
    });
    for step in ["b", "c"] {
        sleep(pause).await;
        say(start, &format!("C1: {step}"));
    }
    let result = c3.await;
    say(start, &format!("C1: joined C3, got {result:?}"));
    say(start, "C1: Stop");
}

fn main() {
    print("exp3-spawn: C1 spawns C3 while running, then awaits C3's result.");
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    run(vec![
        task(spawner(start)),
        task(worker("C2", Duration::from_millis(110), start)),
    ]);
    say(start, "all tasks done");
}
