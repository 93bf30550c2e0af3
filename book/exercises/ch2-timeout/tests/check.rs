//! `timeout` under experiment 2's `run`, with real sleeps.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ch2_timeout::{Elapsed, timeout};
use exp2_sleep::{run, sleep, task};

/// Runs `scenario` on its own thread and fails if it has not finished after
/// five seconds: a timeout that never fires shows up as a failure.
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
            panic!("still running after 5 s: does the timeout's sleep ever get polled?")
        }
    }
}

/// Runs one task that awaits `timeout(limit, work)` and returns its result
/// and how long `run` took.
fn time_out<T: 'static>(
    limit: Duration,
    work: impl Future<Output = T> + 'static,
) -> (Result<T, Elapsed>, Duration) {
    let result = Rc::new(RefCell::new(None));
    let r = result.clone();
    let started = Instant::now();
    run(vec![task(async move {
        *r.borrow_mut() = Some(timeout(limit, work).await);
    })]);
    let took = started.elapsed();
    let result = result.take().expect("the task finished");
    (result, took)
}

#[test]
fn a_future_that_finishes_in_time_returns_its_output() {
    watchdog(|| {
        let (result, took) = time_out(Duration::from_secs(2), async {
            sleep(Duration::from_millis(20)).await;
            7
        });
        assert_eq!(result, Ok(7));
        // The timer goes with the timeout, so `run` does not wait for it.
        assert!(took < Duration::from_secs(1), "run took {took:?}");
    });
}

#[test]
fn a_future_that_takes_too_long_is_cut_off() {
    watchdog(|| {
        let (result, took) = time_out(Duration::from_millis(30), async {
            sleep(Duration::from_secs(10)).await;
            7
        });
        assert_eq!(result, Err(Elapsed));
        assert!(took >= Duration::from_millis(30), "run took {took:?}");
        assert!(took < Duration::from_secs(2), "run took {took:?}");
    });
}

/// Sets its flag when dropped.
struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn the_cut_off_future_is_dropped_when_the_timeout_returns() {
    watchdog(|| {
        let dropped = Rc::new(Cell::new(false));
        let seen = Rc::new(Cell::new(None));
        let (d, s) = (dropped.clone(), seen.clone());
        run(vec![task(async move {
            let flag = DropFlag(d.clone());
            let result = timeout(Duration::from_millis(10), async move {
                let _flag = flag;
                sleep(Duration::from_secs(10)).await;
            })
            .await;
            assert_eq!(result, Err(Elapsed));
            s.set(Some(d.get()));
        })]);
        assert_eq!(
            seen.get(),
            Some(true),
            "dropped by the time timeout returned"
        );
    });
}

#[test]
fn a_future_ready_at_once_wins_even_a_zero_timeout() {
    watchdog(|| {
        let (result, _) = time_out(Duration::ZERO, async { 5 });
        assert_eq!(result, Ok(5));
    });
}

#[test]
fn other_tasks_run_while_a_timeout_waits() {
    watchdog(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let (a, b) = (log.clone(), log.clone());
        run(vec![
            task(async move {
                let result =
                    timeout(Duration::from_millis(50), sleep(Duration::from_secs(10))).await;
                a.borrow_mut().push(format!("timeout: {result:?}"));
            }),
            task(async move {
                sleep(Duration::from_millis(10)).await;
                b.borrow_mut().push("other task".to_string());
            }),
        ]);
        assert_eq!(*log.borrow(), ["other task", "timeout: Err(Elapsed)"]);
    });
}
