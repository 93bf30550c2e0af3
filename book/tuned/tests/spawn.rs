//! Spawning: from tasks and from spawned tasks, joins early and late,
//! detached tasks, scale, misuse.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use common::{CountPolls, panic_message, watchdog};
use exp6_tuned::{JoinHandle, run, sleep, spawn, task, yield_now};

const MS: Duration = Duration::from_millis(1);

/// Many spawns, scaled down under Miri, which is far slower.
const MANY: u64 = if cfg!(miri) { 100 } else { 100_000 };

#[test]
fn a_spawned_task_runs_and_its_handle_returns_the_output() {
    watchdog(30, || {
        let got = Rc::new(Cell::new(0));
        let out = got.clone();
        run(vec![task(async move {
            out.set(spawn(async { 6 * 7 }).await);
        })]);
        assert_eq!(got.get(), 42);
    });
}

#[test]
fn a_spawned_task_is_polled_in_the_pass_after_its_spawn() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let parent_log = log.clone();
    run(vec![task(async move {
        let child_log = parent_log.clone();
        let _child = spawn(async move {
            child_log.borrow_mut().push("child");
        });
        parent_log.borrow_mut().push("parent spawned");
        // The parent's yield queues it before the loop admits the child, so
        // the next pass polls the parent, then the child.
        yield_now().await;
        parent_log.borrow_mut().push("parent after yield 1");
        yield_now().await;
        parent_log.borrow_mut().push("parent after yield 2");
    })]);
    assert_eq!(
        *log.borrow(),
        [
            "parent spawned",
            "parent after yield 1",
            "child",
            "parent after yield 2"
        ]
    );
}

#[test]
fn spawned_tasks_spawn_tasks_of_their_own() {
    watchdog(60, || {
        /// Spawns a binary tree of tasks `depth` deep; returns its size.
        fn tree(depth: u32) -> Pin<Box<dyn Future<Output = u64>>> {
            Box::pin(async move {
                if depth == 0 {
                    return 1;
                }
                let left = spawn(tree(depth - 1));
                let right = spawn(tree(depth - 1));
                1 + left.await + right.await
            })
        }
        let depth = if cfg!(miri) { 4 } else { 10 };
        let size = Rc::new(Cell::new(0));
        let out = size.clone();
        run(vec![task(async move { out.set(tree(depth).await) })]);
        assert_eq!(size.get(), (1 << (depth + 1)) - 1);
    });
}

#[test]
fn a_late_join_gets_the_output_at_once() {
    watchdog(30, || {
        let got = Rc::new(Cell::new(None));
        let out = got.clone();
        run(vec![task(async move {
            let handle = spawn(async { "early" });
            sleep(10 * MS).await; // the child is long done
            out.set(Some(handle.await));
        })]);
        assert_eq!(got.get(), Some("early"));
    });
}

#[test]
fn a_joining_task_sleeps_until_the_child_finishes() {
    watchdog(30, || {
        let polls = Rc::new(Cell::new(0));
        let joiner = CountPolls {
            polls: polls.clone(),
            inner: Box::pin(async {
                spawn(sleep(30 * MS)).await;
            }),
        };
        run(vec![task(joiner)]);
        assert_eq!(
            polls.get(),
            2,
            "polled once to start, once when the child is done"
        );
    });
}

#[test]
fn a_dropped_handle_detaches_and_run_still_waits_for_the_task() {
    watchdog(30, || {
        let finished = Rc::new(Cell::new(false));
        let flag = finished.clone();
        let start = Instant::now();
        run(vec![task(async move {
            drop(spawn(async move {
                sleep(20 * MS).await;
                flag.set(true);
            }));
        })]);
        assert!(
            finished.get(),
            "run returned before the detached task finished"
        );
        assert!(start.elapsed() >= 20 * MS);
    });
}

#[test]
fn many_spawned_tasks_all_run_and_join() {
    watchdog(120, || {
        let sum = Rc::new(Cell::new(0));
        let out = sum.clone();
        run(vec![task(async move {
            let handles: Vec<JoinHandle<u64>> =
                (0..MANY).map(|i| spawn(async move { i })).collect();
            let mut total = 0;
            for handle in handles {
                total += handle.await;
            }
            out.set(total);
        })]);
        assert_eq!(sum.get(), MANY * (MANY - 1) / 2);
    });
}

#[test]
fn spawn_outside_run_panics_naming_it() {
    let caught = panic::catch_unwind(|| drop(spawn(async {})));
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`spawn`") && message.contains("outside `run`"),
        "{message}"
    );
}

#[test]
fn run_inside_run_panics() {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        run(vec![task(async { run(Vec::new()) })]);
    }));
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`run` was called inside `run`"),
        "{message}"
    );
}

#[test]
fn a_panic_in_a_spawned_task_unwinds_out_of_run() {
    watchdog(30, || {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                spawn(async { panic!("child failed") }).await;
            })]);
        }));
        assert_eq!(
            panic_message(&*caught.expect_err("should panic")),
            "child failed"
        );
    });
}

#[test]
fn a_join_handle_polled_after_its_output_panics() {
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        run(vec![task(async {
            let mut handle = spawn(async {});
            (&mut handle).await;
            let _ = Pin::new(&mut handle).poll(&mut Context::from_waker(Waker::noop()));
        })]);
    }));
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("after it returned the output"),
        "{message}"
    );
}
