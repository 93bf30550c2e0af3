//! `sleep_until` under experiment 2's `run`, with real sleeps.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ch2_sleep_until::sleep_until;
use exp2_sleep::{run, sleep, task};

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
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after 5 s"),
    }
}

#[test]
fn it_wakes_no_earlier_than_the_deadline() {
    watchdog(|| {
        let deadline = Instant::now() + Duration::from_millis(50);
        let woke = Rc::new(RefCell::new(None));
        let w = woke.clone();
        run(vec![task(async move {
            sleep_until(deadline).await;
            *w.borrow_mut() = Some(Instant::now());
        })]);
        let woke = woke.take().expect("the task finished");
        assert!(woke >= deadline, "woke {:?} early", deadline - woke);
        assert!(
            woke - deadline < Duration::from_secs(1),
            "woke {:?} late",
            woke - deadline
        );
    });
}

#[test]
fn a_deadline_in_the_past_returns_at_once() {
    watchdog(|| {
        let past = Instant::now();
        thread::sleep(Duration::from_millis(20));
        let started = Instant::now();
        run(vec![task(async move { sleep_until(past).await })]);
        assert!(started.elapsed() < Duration::from_millis(200));
    });
}

#[test]
fn other_tasks_run_while_it_waits() {
    watchdog(|| {
        let log = Rc::new(RefCell::new(Vec::new()));
        let (a, b) = (log.clone(), log.clone());
        let deadline = Instant::now() + Duration::from_millis(40);
        run(vec![
            task(async move {
                sleep_until(deadline).await;
                a.borrow_mut().push("deadline");
            }),
            task(async move {
                sleep(Duration::from_millis(10)).await;
                b.borrow_mut().push("other task");
            }),
        ]);
        assert_eq!(*log.borrow(), ["other task", "deadline"]);
    });
}

#[test]
fn a_ticking_loop_does_not_drift() {
    // Five ticks, 40 ms apart, each doing 30 ms of (blocking) work. Waking at
    // fixed deadlines, the work fits inside the period: about 200 ms in all.
    // `sleep(period)` after the work takes at least 5 * 70 = 350 ms.
    watchdog(|| {
        let period = Duration::from_millis(40);
        let started = Instant::now();
        run(vec![task(async move {
            let mut deadline = started;
            for _ in 0..5 {
                thread::sleep(Duration::from_millis(30));
                deadline += period;
                sleep_until(deadline).await;
            }
        })]);
        let took = started.elapsed();
        assert!(took >= 5 * period, "took {took:?}");
        assert!(
            took < Duration::from_millis(300),
            "took {took:?}: the ticks drifted"
        );
    });
}
