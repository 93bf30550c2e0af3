//! Checks the channel: threads of the program send, a task on exp6's
//! scheduler receives, woken through its waker.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Poll;
use std::thread;
use std::time::Duration;

use ch6_channel::channel;
use exp6_combined::{run, task};

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
fn a_thread_sends_1000_values_and_the_task_gets_them_all_in_order() {
    watchdog(60, || {
        let received = Rc::new(RefCell::new(Vec::new()));
        let received_task = received.clone();
        run(vec![task(async move {
            let (sender, mut receiver) = channel();
            let thread = thread::spawn(move || {
                for n in 0..1000u32 {
                    sender.send(n);
                    // Now and then a pause, so that the task catches up and
                    // waits, and the next send has to wake it.
                    if n % 100 == 0 {
                        thread::sleep(Duration::from_millis(5));
                    }
                }
            });
            while let Some(n) = receiver.recv().await {
                received_task.borrow_mut().push(n);
            }
            thread.join().unwrap();
        })]);
        assert_eq!(*received.borrow(), (0..1000).collect::<Vec<_>>());
    });
}

#[test]
fn four_threads_send_and_the_end_comes_when_all_are_gone() {
    watchdog(60, || {
        let received = Rc::new(RefCell::new(Vec::new()));
        let received_task = received.clone();
        run(vec![task(async move {
            let (sender, mut receiver) = channel();
            let threads: Vec<_> = (0..4u32)
                .map(|t| {
                    let sender = sender.clone();
                    thread::spawn(move || {
                        for n in 0..250 {
                            sender.send(t * 1000 + n);
                        }
                    })
                })
                .collect();
            drop(sender);
            while let Some(n) = receiver.recv().await {
                received_task.borrow_mut().push(n);
            }
            for thread in threads {
                thread.join().unwrap();
            }
        })]);
        let mut received = received.borrow().clone();
        assert_eq!(received.len(), 1000);
        // Each thread's values arrive in the order it sent them.
        for t in 0..4 {
            let mine: Vec<_> = received.iter().filter(|&&n| n / 1000 == t).collect();
            assert!(
                mine.windows(2).all(|pair| pair[0] < pair[1]),
                "thread {t} out of order"
            );
        }
        received.sort();
        received.dedup();
        assert_eq!(received.len(), 1000, "a value came twice");
    });
}

#[test]
fn a_waiting_receiver_is_polled_again_only_when_woken() {
    watchdog(30, || {
        // The value comes after 300 ms: a receiver that waits on its waker is
        // polled a couple of times, one that spins (wakes itself to look
        // again) thousands.
        let polls = Rc::new(Cell::new(0u32));
        let polls_task = polls.clone();
        run(vec![task(async move {
            let (sender, mut receiver) = channel();
            let thread = thread::spawn(move || {
                thread::sleep(Duration::from_millis(300));
                sender.send("late");
            });
            let mut recv = pin!(receiver.recv());
            let value = std::future::poll_fn(|cx| {
                polls_task.set(polls_task.get() + 1);
                match recv.as_mut().poll(cx) {
                    Poll::Ready(value) => Poll::Ready(value),
                    Poll::Pending => Poll::Pending,
                }
            })
            .await;
            assert_eq!(value, Some("late"));
            thread.join().unwrap();
        })]);
        let polls = polls.get();
        assert!(
            polls <= 5,
            "the receiver was polled {polls} times to get one value"
        );
    });
}
