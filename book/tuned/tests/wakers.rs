//! Where a wake goes: a waker kept from an earlier run wakes nothing in the
//! next, and a wake from another thread reaches its task, even when nothing
//! else is left to wait for.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{CountPolls, panic_message, watchdog};
use exp6_tuned::{run, sleep, task};

const MS: Duration = Duration::from_millis(1);

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

/// Pending until a plain thread, started here, wakes it after `delay`: no
/// timer, socket or pool job holds the waker meanwhile, only that thread.
/// Returns the future and the thread, to join.
fn woken_by_a_thread(delay: Duration) -> (impl Future<Output = ()>, thread::JoinHandle<()>) {
    let (waker_tx, waker_rx) = std::sync::mpsc::channel::<Waker>();
    let woke = Arc::new(AtomicBool::new(false));
    let waking = {
        let woke = woke.clone();
        thread::spawn(move || {
            let waker = waker_rx.recv().expect("the task hands over its waker");
            thread::sleep(delay);
            woke.store(true, Ordering::Release);
            waker.wake();
        })
    };
    let mut waker_tx = Some(waker_tx);
    let woken = poll_fn(move |cx| {
        if woke.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if let Some(waker_tx) = waker_tx.take() {
            waker_tx.send(cx.waker().clone()).unwrap();
        }
        Poll::Pending
    });
    (woken, waking)
}

#[test]
fn a_task_only_a_plain_thread_can_wake_is_waited_for() {
    watchdog(30, || {
        // No timer, no job: only the thread holds the waker. The scheduler
        // must wait for its wake, not report that nothing can wake the task.
        let start = Instant::now();
        let (woken, waking) = woken_by_a_thread(50 * MS);
        let done = Rc::new(Cell::new(false));
        let flag = done.clone();
        run(vec![task(async move {
            woken.await;
            flag.set(true);
        })]);
        let returned_after = start.elapsed();
        waking.join().unwrap();
        assert!(done.get());
        assert!(
            returned_after >= 50 * MS,
            "returned after {returned_after:?}, before the wake"
        );
    });
}

#[test]
fn a_task_that_keeps_no_waker_after_its_thread_woke_it_is_reported() {
    watchdog(30, || {
        // Once the thread has woken the task and let go of the waker, the
        // task waits for nothing: that is still reported, not waited for.
        let (woken, waking) = woken_by_a_thread(50 * MS);
        let woke = Rc::new(Cell::new(false));
        let flag = woke.clone();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async move {
                woken.await;
                flag.set(true);
                std::future::pending::<()>().await;
            })]);
        }));
        waking.join().unwrap();
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
        assert!(woke.get(), "reported before the thread's wake: {message}");
    });
}

#[test]
fn a_waker_its_thread_drops_unwoken_is_reported() {
    watchdog(30, || {
        // The thread holds the waker while the scheduler waits for its wake,
        // then drops it unwoken: nothing can wake the task any more, and
        // the report must come, though nothing tells the scheduler.
        let (waker_tx, waker_rx) = std::sync::mpsc::channel::<Waker>();
        let dropping = thread::spawn(move || {
            let waker = waker_rx.recv().expect("the task hands over its waker");
            thread::sleep(50 * MS);
            drop(waker);
        });
        let mut waker_tx = Some(waker_tx);
        let start = Instant::now();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(poll_fn(move |cx| {
                if let Some(waker_tx) = waker_tx.take() {
                    waker_tx.send(cx.waker().clone()).unwrap();
                }
                Poll::<()>::Pending
            }))]);
        }));
        let reported_after = start.elapsed();
        dropping.join().unwrap();
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
        assert!(
            reported_after >= 50 * MS,
            "reported after {reported_after:?}, while the thread held the waker"
        );
    });
}
