//! The round-robin loop: order, scale, completion and panics.

mod common;

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;

use common::{CountPolls, panic_message, watchdog};
use exp6_tuned::{Task, run, task, yield_now};

/// Many tasks, scaled down under Miri, which is far slower.
const MANY: usize = if cfg!(miri) { 50 } else { 10_000 };

/// A log that tasks append to, to check the order they ran in.
type Log = Rc<RefCell<Vec<String>>>;

fn stepper(log: &Log, name: &'static str, steps: usize) -> Task {
    let log = log.clone();
    task(async move {
        for step in 0..steps {
            log.borrow_mut().push(format!("{name}{step}"));
            yield_now().await;
        }
        log.borrow_mut().push(format!("{name} done"));
    })
}

#[test]
fn yielding_tasks_alternate_strictly() {
    let log = Log::default();
    run(vec![
        stepper(&log, "a", 3),
        stepper(&log, "b", 3),
        stepper(&log, "c", 1),
    ]);
    assert_eq!(
        *log.borrow(),
        [
            "a0", "b0", "c0", "a1", "b1", "c done", "a2", "b2", "a done", "b done"
        ]
    );
}

#[test]
fn run_with_no_tasks_returns() {
    watchdog(10, || run(Vec::new()));
}

#[test]
fn a_task_that_never_yields_runs_once_to_completion() {
    let polls = Rc::new(Cell::new(0));
    let counted = CountPolls {
        polls: polls.clone(),
        inner: Box::pin(async {}),
    };
    run(vec![task(counted)]);
    assert_eq!(polls.get(), 1);
}

#[test]
fn yield_now_is_pending_exactly_once() {
    let polls = Rc::new(Cell::new(0));
    let counted = CountPolls {
        polls: polls.clone(),
        inner: Box::pin(yield_now()),
    };
    run(vec![task(counted)]);
    assert_eq!(polls.get(), 2);
}

#[test]
fn many_tasks_take_fair_turns() {
    watchdog(120, || {
        // Each task records its step; round robin means every task finishes
        // step k before any task starts step k + 1.
        let order = Rc::new(RefCell::new(Vec::with_capacity(MANY * 10)));
        let tasks = (0..MANY)
            .map(|_| {
                let order = order.clone();
                task(async move {
                    for step in 0..10 {
                        order.borrow_mut().push(step);
                        yield_now().await;
                    }
                })
            })
            .collect();
        run(tasks);
        let order = order.borrow();
        assert_eq!(order.len(), MANY * 10);
        for (round, steps) in order.chunks(MANY).enumerate() {
            assert!(
                steps.iter().all(|&step| step == round),
                "round {round} was interleaved"
            );
        }
    });
}

#[test]
fn a_panic_in_a_task_unwinds_out_of_run_and_drops_the_rest() {
    let dropped = Rc::new(Cell::new(false));
    let guard = DropFlag(dropped.clone());
    let patient = task(async move {
        let _guard = guard;
        loop {
            yield_now().await;
        }
    });
    let failing = task(async {
        yield_now().await;
        panic!("task failed on purpose");
    });
    let caught = panic::catch_unwind(AssertUnwindSafe(|| run(vec![patient, failing])));
    let payload = caught.expect_err("run should re-raise the task's panic");
    assert_eq!(panic_message(&*payload), "task failed on purpose");
    assert!(dropped.get(), "the other task was not dropped");
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}
