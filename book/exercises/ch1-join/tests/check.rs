//! `join` under experiment 1's `run`: both futures make progress on every
//! turn, and both outputs come back.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::Duration;

use ch1_join::join;
use exp1_simplest::{run, task, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

/// Logs `name0`, `name1`, ... yielding after each, then returns `output`.
async fn steps<T>(log: Log, name: &'static str, count: usize, output: T) -> T {
    for step in 0..count {
        log.borrow_mut().push(format!("{name}{step}"));
        yield_now().await;
    }
    output
}

/// Runs `scenario` on its own thread and fails if it has not finished after
/// five seconds: a join that never completes shows up as a failure.
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
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("the join is still pending after 5 s"),
    }
}

#[test]
fn join_returns_both_outputs_in_order() {
    watchdog(|| {
        let log = Log::default();
        let result = Rc::new(RefCell::new(None));
        let (l, r) = (log.clone(), result.clone());
        run(vec![task(async move {
            let outputs = join(steps(l.clone(), "a", 2, 7), steps(l, "b", 3, "b done")).await;
            *r.borrow_mut() = Some(outputs);
        })]);
        assert_eq!(*result.borrow(), Some((7, "b done")));
    });
}

#[test]
fn join_polls_both_futures_on_each_turn() {
    watchdog(|| {
        let log = Log::default();
        let l = log.clone();
        run(vec![task(async move {
            join(steps(l.clone(), "a", 2, ()), steps(l, "b", 3, ())).await;
        })]);
        // `a` is done after its second step; `b` keeps going alone.
        assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1", "b2"]);
    });
}

#[test]
fn a_join_takes_turns_with_the_other_tasks() {
    watchdog(|| {
        let log = Log::default();
        let (l, other) = (log.clone(), log.clone());
        run(vec![
            task(async move {
                join(steps(l.clone(), "a", 2, ()), steps(l, "b", 2, ())).await;
            }),
            task(steps(other, "c", 2, ())),
        ]);
        // The join returns `Pending` to `run` while either future is pending,
        // so task `c` gets its turns in between.
        assert_eq!(*log.borrow(), ["a0", "b0", "c0", "a1", "b1", "c1"]);
    });
}

/// Ready on its first poll, and panics if polled again after that, as an
/// `async` block does.
struct ReadyOnce(bool);

impl Future for ReadyOnce {
    type Output = u8;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u8> {
        assert!(!self.0, "a future was polled again after it returned Ready");
        self.0 = true;
        Poll::Ready(1)
    }
}

#[test]
fn a_finished_future_is_not_polled_again() {
    watchdog(|| {
        let log = Log::default();
        let result = Rc::new(RefCell::new(None));
        let r = result.clone();
        run(vec![task(async move {
            let outputs = join(ReadyOnce(false), steps(log, "b", 3, 2)).await;
            *r.borrow_mut() = Some(outputs);
        })]);
        assert_eq!(*result.borrow(), Some((1, 2)));
    });
}
