//! `join_all` under experiment 3's `run`, with real sleeps.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ch3_join_all::join_all;
use exp3_spawn::{run, sleep, task};

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

/// Sleeps `ms` milliseconds, then returns `output`. Every call has the same
/// future type, so that several fit in one `Vec`.
async fn nap(ms: u64, output: u32) -> u32 {
    sleep(Duration::from_millis(ms)).await;
    output
}

/// Runs `join_all(futures)` in one task; returns its outputs and how long
/// `run` took.
fn run_join_all<F>(futures: Vec<F>) -> (Vec<u32>, Duration)
where
    F: Future<Output = u32> + 'static,
{
    let outputs = Rc::new(RefCell::new(None));
    let o = outputs.clone();
    let started = Instant::now();
    run(vec![task(async move {
        *o.borrow_mut() = Some(join_all(futures).await);
    })]);
    let took = started.elapsed();
    let outputs = outputs.take().expect("the task finished");
    (outputs, took)
}

#[test]
fn outputs_come_in_the_order_of_the_futures() {
    watchdog(|| {
        let (outputs, _) = run_join_all(vec![nap(60, 0), nap(20, 1), nap(40, 2)]);
        assert_eq!(outputs, [0, 1, 2]);
    });
}

#[test]
fn the_futures_run_at_once_not_one_after_another() {
    watchdog(|| {
        // One after another: at least 5 * 100 = 500 ms. At once: about 100 ms.
        let (outputs, took) = run_join_all((0..5).map(|i| nap(100, i)).collect());
        assert_eq!(outputs, [0, 1, 2, 3, 4]);
        assert!(took >= Duration::from_millis(100), "took {took:?}");
        assert!(
            took < Duration::from_millis(400),
            "took {took:?}: one after another?"
        );
    });
}

#[test]
fn nothing_to_join_is_ready_at_once() {
    watchdog(|| {
        let (outputs, took) = run_join_all(Vec::<std::future::Ready<u32>>::new());
        assert!(outputs.is_empty());
        assert!(took < Duration::from_millis(100), "took {took:?}");
    });
}
