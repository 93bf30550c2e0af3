//! `yield_n` under experiment 1's `run`, and by hand with a waker that counts.

use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread;
use std::time::Duration;

use ch1_yield_n::yield_n;
use exp1_simplest::{run, task, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

/// Runs `scenario` on its own thread and fails if it has not finished after
/// five seconds: a future that never becomes ready shows up as a failure.
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
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after 5 s"),
    }
}

/// Task `a` calls `yield_n(n)` between two lines; task `c` logs a line per
/// turn. Returns the log.
fn a_yields_n_turns_to_c(n: u32) -> Vec<String> {
    let log = Log::default();
    let (a, c) = (log.clone(), log.clone());
    run(vec![
        task(async move {
            a.borrow_mut().push("a start".into());
            yield_n(n).await;
            a.borrow_mut().push("a done".into());
        }),
        task(async move {
            for step in 0..5 {
                c.borrow_mut().push(format!("c{step}"));
                yield_now().await;
            }
        }),
    ]);
    log.take()
}

#[test]
fn yield_n_gives_the_other_task_n_turns() {
    watchdog(|| {
        assert_eq!(
            a_yields_n_turns_to_c(3),
            ["a start", "c0", "c1", "c2", "a done", "c3", "c4"]
        );
    });
}

#[test]
fn yield_n_of_zero_is_ready_at_once() {
    watchdog(|| {
        assert_eq!(
            a_yields_n_turns_to_c(0),
            ["a start", "a done", "c0", "c1", "c2", "c3", "c4"]
        );
    });
}

/// A waker that counts its wakes.
struct CountWakes(AtomicU32);

impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn each_pending_poll_wakes_the_task() {
    // Experiment 1's waker does nothing, so `run` cannot tell; later
    // schedulers poll only woken tasks, and a yield that forgets to wake
    // would never be polled again there.
    let wakes = Arc::new(CountWakes(AtomicU32::new(0)));
    let waker = Waker::from(wakes.clone());
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(yield_n(2));
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Pending);
    assert_eq!(future.as_mut().poll(&mut cx), Poll::Ready(()));
    assert_eq!(wakes.0.load(Ordering::Relaxed), 2, "one wake per Pending");
}
