//! Where a wake goes: a waker kept from an earlier run wakes nothing in the
//! next, and a wake from another thread reaches its task.

mod common;

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::thread;
use std::time::Duration;

use common::{CountPolls, watchdog};
use exp6_tuned::{run, sleep, task};

#[test]
fn a_waker_kept_from_an_earlier_run_wakes_nothing_in_the_next() {
    watchdog(30, || {
        // The first run's only task keeps its waker, and finishes.
        let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
        let keep = kept.clone();
        run(vec![task(poll_fn(move |cx| {
            *keep.borrow_mut() = Some(cx.waker().clone());
            Poll::Ready(())
        }))]);

        // The second run's only task has the same id. It wakes the old
        // waker, then sleeps: if that wake reached this run, the task would
        // be polled once more, while it sleeps.
        let polls = Rc::new(Cell::new(0));
        let inner = async move {
            let old = kept
                .borrow_mut()
                .take()
                .expect("the first run kept its waker");
            old.wake();
            sleep(Duration::from_millis(50)).await;
        };
        run(vec![task(CountPolls {
            polls: polls.clone(),
            inner: Box::pin(inner),
        })]);
        assert_eq!(
            polls.get(),
            2,
            "polled once, then once when the timer fired"
        );
    });
}

#[test]
fn a_wake_from_another_thread_reaches_the_task() {
    watchdog(30, || {
        let polls = Rc::new(Cell::new(0));
        // Pending until another thread wakes it: no timer, no other way.
        let mut thread_started = false;
        let woken_elsewhere = poll_fn(move |cx| {
            if thread_started {
                return Poll::Ready(());
            }
            thread_started = true;
            let waker = cx.waker().clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(10));
                waker.wake();
            });
            Poll::Pending
        });
        // Keeps a timer pending until the other task is done, so that the
        // loop goes round (a scheduler that cannot wait for other threads
        // still looks at its queue after each timer); if the wake were
        // lost, it would go round for ever, and the watchdog would fail.
        let waited = polls.clone();
        let ticker = async move {
            while waited.get() < 2 {
                sleep(Duration::from_millis(5)).await;
            }
        };
        run(vec![
            task(CountPolls {
                polls: polls.clone(),
                inner: Box::pin(woken_elsewhere),
            }),
            task(ticker),
        ]);
        assert_eq!(polls.get(), 2);
    });
}
