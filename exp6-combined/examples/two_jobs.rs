//! A small scene for the book's timeline picture of this stage: a task
//! awaits two 30 ms jobs on the pool, one after the other, while another
//! task sleeps 45 ms. The scheduler parks in `poll(2)` each time; the timer
//! ends one park, and the worker's self-wake byte ends the others, in the
//! same order every run.
//!
//! `EXP_TRACE=1 cargo run -q -p exp6-combined --example two_jobs 2> t.log`,
//! then `cargo run -p book -- timeline t.log > t.svg`.

use std::thread;
use std::time::Duration;

use exp6_combined::{run, sleep, spawn_blocking, task, trace_start};

fn main() {
    trace_start();
    let jobs = task(async {
        for _ in 0..2 {
            spawn_blocking(|| thread::sleep(Duration::from_millis(30))).await;
        }
    });
    let sleeper = task(async {
        sleep(Duration::from_millis(45)).await;
    });
    run(vec![jobs, sleeper]);
    println!("two jobs done, one timer fired");
}
