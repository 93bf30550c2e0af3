//! Checks `par_map`: outputs in order, and jobs really in flight at once.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ch4_par_map::par_map;
use exp4_threadpool::{run, task};

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

#[test]
fn the_outputs_come_in_the_order_of_the_items() {
    watchdog(30, || {
        let outputs = Rc::new(RefCell::new(Vec::new()));
        let result = outputs.clone();
        run(vec![task(async move {
            // The first items sleep longest, so they finish last.
            let items: Vec<u64> = (0..6).collect();
            let squares = par_map(items, |n| {
                thread::sleep(Duration::from_millis(60 - 10 * n));
                n * n
            })
            .await;
            *result.borrow_mut() = squares;
        })]);
        assert_eq!(*outputs.borrow(), [0, 1, 4, 9, 16, 25]);
    });
}

#[test]
fn the_jobs_run_at_once_not_one_by_one() {
    watchdog(30, || {
        // Every job counts itself in flight while it runs; the pool has at
        // least two threads, so at least two must overlap.
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let (in_flight_job, most_job) = (in_flight.clone(), most.clone());
        run(vec![task(async move {
            let outputs = par_map((0..4).collect(), move |n: u32| {
                let now = in_flight_job.fetch_add(1, Ordering::SeqCst) + 1;
                most_job.fetch_max(now, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(100));
                in_flight_job.fetch_sub(1, Ordering::SeqCst);
                n + 1
            })
            .await;
            assert_eq!(outputs, [1, 2, 3, 4]);
        })]);
        let most = most.load(Ordering::SeqCst);
        assert!(
            most >= 2,
            "at most {most} job in flight at once: they ran one by one"
        );
    });
}

#[test]
fn no_items_give_no_outputs() {
    watchdog(30, || {
        run(vec![task(async {
            let outputs: Vec<u8> = par_map(Vec::<u8>::new(), |n| n).await;
            assert!(outputs.is_empty());
        })]);
    });
}
