//! Timers: order, overlap, never early, abandoned timers, misuse.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::task::Context;
use std::time::{Duration, Instant};

use common::{CountPolls, PollOnce, panic_message, watchdog};
use exp6_tuned::{Task, run, sleep, task, yield_now};

const MS: Duration = Duration::from_millis(1);

#[test]
fn sleepers_wake_in_deadline_order() {
    watchdog(30, || {
        let order = Rc::new(RefCell::new(Vec::new()));
        // The sleeps are made (and their deadlines taken) before `run`, so
        // the order depends on the durations alone, even under slow Miri.
        let step = if cfg!(miri) { 1000 * MS } else { 10 * MS };
        let tasks = [3, 1, 4, 2, 0]
            .into_iter()
            .map(|n| {
                let order = order.clone();
                let nap = sleep(n * step);
                task(async move {
                    nap.await;
                    order.borrow_mut().push(n);
                })
            })
            .collect();
        run(tasks);
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4]);
    });
}

#[test]
fn sleeps_overlap_instead_of_adding_up() {
    watchdog(30, || {
        let start = Instant::now();
        run((0..10).map(|_| task(sleep(100 * MS))).collect());
        let elapsed = start.elapsed();
        assert!(elapsed >= 100 * MS, "finished early: {elapsed:?}");
        // Ten sleeps in a row would take a second; together they take one.
        assert!(elapsed < 600 * MS, "sleeps did not overlap: {elapsed:?}");
    });
}

#[test]
fn a_timer_never_fires_early() {
    watchdog(60, || {
        let samples = if cfg!(miri) { 5 } else { 200 };
        let tasks = (0..samples)
            .map(|i| {
                let wanted = Duration::from_micros(i * 137 % 5000);
                task(async move {
                    let start = Instant::now();
                    sleep(wanted).await;
                    let slept = start.elapsed();
                    assert!(slept >= wanted, "woke after {slept:?}, wanted {wanted:?}");
                })
            })
            .collect();
        run(tasks);
    });
}

#[test]
fn a_sleeping_task_is_not_polled_until_its_deadline() {
    watchdog(30, || {
        let polls = Rc::new(Cell::new(0));
        let sleeper = CountPolls {
            polls: polls.clone(),
            inner: Box::pin(sleep(50 * MS)),
        };
        // A busy neighbour keeps the loop turning while the sleeper waits.
        let busy = task(async {
            let start = Instant::now();
            while start.elapsed() < 30 * MS {
                yield_now().await;
            }
        });
        run(vec![task(sleeper), busy]);
        assert_eq!(polls.get(), 2, "polled once to start, once when due");
    });
}

#[test]
fn a_yielding_task_does_not_starve_a_sleeper() {
    watchdog(30, || {
        let woke = Rc::new(Cell::new(false));
        let sleeper = {
            let woke = woke.clone();
            task(async move {
                sleep(10 * MS).await;
                woke.set(true);
            })
        };
        let spinner = {
            let woke = woke.clone();
            task(async move {
                while !woke.get() {
                    yield_now().await;
                }
            })
        };
        run(vec![sleeper, spinner]);
        assert!(woke.get());
    });
}

#[test]
fn an_abandoned_timer_wakes_no_one() {
    watchdog(30, || {
        // Polls a short sleep once, gives up on it, then sleeps longer. Had
        // the dropped sleep left its timer behind, that timer would wake the
        // task before the long sleep is due: a third poll.
        let polls = Rc::new(Cell::new(0));
        let impatient = CountPolls {
            polls: polls.clone(),
            inner: Box::pin(async {
                let mut short = Box::pin(sleep(10 * MS));
                assert!(PollOnce(short.as_mut()).await.is_pending());
                drop(short);
                sleep(50 * MS).await;
            }),
        };
        run(vec![task(impatient)]);
        assert_eq!(
            polls.get(),
            2,
            "polled once to start, once when the long sleep was due"
        );
    });
}

#[test]
fn sleep_for_duration_max_does_not_overflow() {
    watchdog(30, || {
        run(vec![task(async {
            let mut forever = Box::pin(sleep(Duration::MAX));
            assert!(PollOnce(forever.as_mut()).await.is_pending());
        })]);
    });
}

#[test]
fn a_sleep_keeps_the_waker_it_was_last_polled_with() {
    watchdog(30, || {
        // The sleep moves from one task to another after its first poll; the
        // timer must wake the second task, or run reports a deadlock.
        let handoff: Rc<RefCell<Option<Task>>> = Rc::default();
        let first = {
            let handoff = handoff.clone();
            task(async move {
                let mut nap = Box::pin(sleep(20 * MS));
                assert!(PollOnce(nap.as_mut()).await.is_pending());
                *handoff.borrow_mut() = Some(nap);
            })
        };
        let second = task(async move {
            yield_now().await;
            let nap = handoff.borrow_mut().take().expect("handed over");
            nap.await;
        });
        run(vec![first, second]);
    });
}

#[test]
fn sleep_polled_outside_run_panics_naming_it() {
    let caught = panic::catch_unwind(|| {
        let mut nap = Box::pin(sleep(MS));
        let _ = nap
            .as_mut()
            .poll(&mut Context::from_waker(std::task::Waker::noop()));
    });
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`sleep`") && message.contains("outside `run`"),
        "{message}"
    );
}

#[test]
fn a_task_nothing_can_wake_is_reported_not_hung() {
    watchdog(30, || {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(std::future::pending())]);
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
    });
}

#[test]
fn run_works_again_after_a_task_panicked() {
    watchdog(30, || {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![
                task(async { sleep(Duration::from_secs(60)).await }),
                task(async { panic!("boom") }),
            ]);
        }));
        assert_eq!(panic_message(&*caught.expect_err("should panic")), "boom");
        let done = Rc::new(Cell::new(false));
        let flag = done.clone();
        run(vec![task(async move {
            sleep(MS).await;
            flag.set(true);
        })]);
        assert!(done.get());
    });
}
