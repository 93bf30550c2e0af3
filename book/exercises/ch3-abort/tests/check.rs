//! `spawn_abortable` under experiment 3's `run`, with real sleeps.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ch3_abort::spawn_abortable;
use exp3_spawn::{run, sleep, task, yield_now};

/// Runs `scenario` on its own thread and fails if it has not finished after
/// five seconds.
fn watchdog(scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        scenario();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(5)) {
        Ok(()) => worker.join().expect("scenario thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => std::panic::resume_unwind(payload),
            Ok(()) => unreachable!("the scenario returned without reporting"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("still running after 5 s: does abort wake the task?")
        }
    }
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn a_task_that_is_not_aborted_returns_its_output() {
    watchdog(|| {
        let result = Rc::new(Cell::new(None));
        let r = result.clone();
        run(vec![task(async move {
            let (join, _abort) = spawn_abortable(async {
                sleep(Duration::from_millis(10)).await;
                7
            });
            r.set(Some(join.await));
        })]);
        assert_eq!(result.get(), Some(Some(7)));
    });
}

#[test]
fn aborting_a_sleeping_task_stops_it_at_once() {
    watchdog(|| {
        let result = Rc::new(Cell::new(None));
        let dropped = Rc::new(Cell::new(false));
        let (r, d) = (result.clone(), dropped.clone());
        let started = Instant::now();
        run(vec![task(async move {
            let flag = DropFlag(d.clone());
            let (join, abort) = spawn_abortable(async move {
                let _flag = flag;
                sleep(Duration::from_secs(10)).await;
                7
            });
            sleep(Duration::from_millis(20)).await;
            abort.abort();
            let output = join.await;
            // By the time the handle returns, the future is gone.
            r.set(Some((output, d.get())));
        })]);
        assert_eq!(result.get(), Some((None, true)));
        // `run` did not wait out the 10 s sleep: its timer went with the future.
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "run took {took:?}");
    });
}

#[test]
fn a_task_aborted_before_its_first_poll_never_runs() {
    watchdog(|| {
        let ran = Rc::new(Cell::new(false));
        let result = Rc::new(Cell::new(None));
        let (started, r) = (ran.clone(), result.clone());
        run(vec![task(async move {
            let (join, abort) = spawn_abortable(async move { started.set(true) });
            abort.abort();
            r.set(Some(join.await));
        })]);
        assert_eq!(result.get(), Some(None));
        assert!(!ran.get(), "the aborted future was polled");
    });
}

#[test]
fn aborting_a_finished_task_changes_nothing() {
    watchdog(|| {
        let result = Rc::new(Cell::new(None));
        let r = result.clone();
        run(vec![task(async move {
            let (join, abort) = spawn_abortable(async { 7 });
            // Two turns: the task is admitted, polled, and finishes.
            yield_now().await;
            yield_now().await;
            abort.abort();
            r.set(Some(join.await));
        })]);
        assert_eq!(result.get(), Some(Some(7)));
    });
}

#[test]
fn other_tasks_go_on_when_one_is_aborted() {
    watchdog(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let (a, b) = (log.clone(), log.clone());
        run(vec![task(async move {
            let (doomed, abort) = spawn_abortable(async move {
                sleep(Duration::from_secs(10)).await;
                a.borrow_mut().push("doomed finished");
            });
            let (other, _) = spawn_abortable(async move {
                sleep(Duration::from_millis(40)).await;
                b.borrow_mut().push("other finished");
            });
            sleep(Duration::from_millis(10)).await;
            abort.abort();
            assert_eq!(doomed.await, None);
            assert_eq!(other.await, Some(()));
        })]);
        assert_eq!(*log.borrow(), ["other finished"]);
    });
}
