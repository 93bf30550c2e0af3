//! Checks `BoundedBlocking`: never more than `limit` jobs in flight, every
//! caller served, and the scheduler free while callers wait.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ch4_bounded::BoundedBlocking;
use exp4_threadpool::{run, sleep, spawn, task};

/// Runs `scenario` on its own thread and fails if it has not finished after
/// `seconds`, so that a hang is a failure, not a test run that never ends.
fn watchdog(seconds: u64, scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        scenario();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after {seconds} s"),
    }
}

/// Starts `jobs` tasks that each run one 50 ms job through a bound of
/// `limit`, and returns the most jobs seen in flight at once and the outputs.
fn most_in_flight(limit: usize, jobs: usize) -> (usize, Vec<usize>) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let outputs = Rc::new(RefCell::new(Vec::new()));
    let (in_flight_run, most_run, outputs_run) = (in_flight.clone(), most.clone(), outputs.clone());
    run(vec![task(async move {
        let bound = BoundedBlocking::new(limit);
        let handles: Vec<_> = (0..jobs)
            .map(|n| {
                let (bound, in_flight, most) =
                    (bound.clone(), in_flight_run.clone(), most_run.clone());
                spawn(async move {
                    bound
                        .run(move || {
                            let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            thread::sleep(Duration::from_millis(50));
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            n
                        })
                        .await
                })
            })
            .collect();
        for handle in handles {
            let output = handle.await;
            outputs_run.borrow_mut().push(output);
        }
    })]);
    let outputs = outputs.borrow().clone();
    (most.load(Ordering::SeqCst), outputs)
}

#[test]
fn a_limit_of_one_runs_one_job_at_a_time() {
    watchdog(30, || {
        // The pool has at least two threads: without the bound, two would run.
        let (most, outputs) = most_in_flight(1, 6);
        assert_eq!(
            most, 1,
            "{most} jobs were in flight at once, over a limit of 1"
        );
        assert_eq!(outputs, [0, 1, 2, 3, 4, 5]);
    });
}

#[test]
fn a_limit_of_two_lets_two_run_and_no_more() {
    watchdog(30, || {
        let (most, outputs) = most_in_flight(2, 8);
        assert_eq!(
            most, 2,
            "{most} jobs were in flight at once, with a limit of 2"
        );
        assert_eq!(outputs, (0..8).collect::<Vec<_>>());
    });
}

#[test]
fn the_scheduler_runs_other_tasks_while_callers_wait() {
    watchdog(30, || {
        let ticks = Rc::new(RefCell::new(0));
        let ticks_run = ticks.clone();
        run(vec![task(async move {
            let bound = BoundedBlocking::new(1);
            let waiters: Vec<_> = (0..3)
                .map(|_| {
                    let bound = bound.clone();
                    spawn(async move {
                        bound
                            .run(|| thread::sleep(Duration::from_millis(100)))
                            .await
                    })
                })
                .collect();
            // Meanwhile, a task that sleeps must keep getting its turns.
            for _ in 0..5 {
                sleep(Duration::from_millis(10)).await;
                *ticks_run.borrow_mut() += 1;
            }
            let ticks_then = *ticks_run.borrow();
            for waiter in waiters {
                waiter.await;
            }
            assert_eq!(ticks_then, 5);
        })]);
        assert_eq!(*ticks.borrow(), 5);
    });
}
