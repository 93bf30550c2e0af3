//! The thread pool: outputs, parallel jobs, panics, lost wake-ups, piles of
//! completions, wakers, dropped jobs, misuse, and the deadlock report.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use common::{CountPolls, PollOnce, panic_message, pile_up_completions, watchdog};
use exp6_tuned::{Task, run, sleep, spawn, spawn_blocking, task, yield_now};

const MS: Duration = Duration::from_millis(1);

/// Round trips one after the other, scaled down under Miri, which is far
/// slower.
const ROUND_TRIPS: u64 = if cfg!(miri) { 50 } else { 20_000 };

/// Jobs in flight at once, scaled down under Miri.
const PILE: u64 = if cfg!(miri) { 50 } else { 5_000 };

#[test]
fn spawn_blocking_returns_the_output_computed_on_another_thread() {
    watchdog(30, || {
        let got = Rc::new(RefCell::new(None));
        let out = got.clone();
        run(vec![task(async move {
            let scheduler = thread::current().id();
            let (text, worker) =
                spawn_blocking(|| ("forty-two".to_string(), thread::current().id())).await;
            assert_ne!(worker, scheduler, "the job ran on the scheduler's thread");
            let number = spawn_blocking(|| 6 * 7).await;
            *out.borrow_mut() = Some((text, number));
        })]);
        assert_eq!(*got.borrow(), Some(("forty-two".to_string(), 42)));
    });
}

#[test]
fn blocking_jobs_run_in_parallel_while_the_loop_keeps_running() {
    watchdog(30, || {
        let done = Rc::new(Cell::new(false));
        let ticks = Rc::new(Cell::new(0));
        let took = Rc::new(Cell::new(Duration::ZERO));
        let jobs = {
            let (done, took) = (done.clone(), took.clone());
            task(async move {
                let start = Instant::now();
                let first = spawn(spawn_blocking(|| thread::sleep(200 * MS)));
                let second = spawn(spawn_blocking(|| thread::sleep(200 * MS)));
                first.await;
                second.await;
                took.set(start.elapsed());
                done.set(true);
            })
        };
        let ticker = {
            let (done, ticks) = (done.clone(), ticks.clone());
            task(async move {
                while !done.get() {
                    sleep(10 * MS).await;
                    ticks.set(ticks.get() + 1);
                }
            })
        };
        run(vec![jobs, ticker]);
        let took = took.get();
        assert!(took >= 200 * MS, "finished early: {took:?}");
        // One after the other, the jobs would take 400 ms. Miri's clock also
        // counts the time it takes to interpret the program, and overshoots.
        if !cfg!(miri) {
            assert!(took < 350 * MS, "the jobs did not overlap: {took:?}");
        }
        // About 20 ticks of 10 ms fit in 200 ms; a loop blocked by the jobs
        // would tick once or twice.
        assert!(ticks.get() >= 5, "the loop stalled: {} ticks", ticks.get());
    });
}

#[test]
fn a_panic_in_a_job_unwinds_out_of_run_through_the_awaiting_task() {
    watchdog(30, || {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![
                task(async {
                    let _: u32 = spawn_blocking(|| panic!("job failed on purpose")).await;
                    unreachable!("the job's panic resumes in the awaiting task");
                }),
                // Another task waits a minute; the unwind does not wait for it.
                task(sleep(Duration::from_secs(60))),
            ]);
        }));
        let payload = caught.expect_err("run should re-raise the job's panic");
        assert_eq!(panic_message(&*payload), "job failed on purpose");
    });
}

#[test]
fn the_workers_outlive_the_panics_of_their_jobs() {
    watchdog(30, || {
        let got = Rc::new(Cell::new(0));
        let out = got.clone();
        run(vec![task(async move {
            // More panics than there are workers: a worker that died with its
            // job would leave the last jobs waiting forever.
            for _ in 0..20 {
                let failing = Box::pin(spawn_blocking(|| -> u32 { panic!("job failed") }));
                let payload = CatchUnwind(failing).await.expect_err("the job panicked");
                assert_eq!(panic_message(&*payload), "job failed");
            }
            out.set(spawn_blocking(|| 7).await);
        })]);
        assert_eq!(got.get(), 7);
    });
}

#[test]
fn many_round_trips_with_no_timer_pending() {
    watchdog(120, || {
        // With no timer pending the scheduler waits for each completion with
        // no deadline: a lost wake-up would hang here, not merely slow down.
        let sum = Rc::new(Cell::new(0));
        let out = sum.clone();
        run(vec![task(async move {
            let mut total = 0;
            for i in 0..ROUND_TRIPS {
                total += spawn_blocking(move || i).await;
            }
            out.set(total);
        })]);
        assert_eq!(sum.get(), ROUND_TRIPS * (ROUND_TRIPS - 1) / 2);
    });
}

#[test]
fn completions_pile_up_while_the_scheduler_is_busy() {
    watchdog(120, || {
        assert_eq!(pile_up_completions(PILE), PILE * (PILE - 1) / 2);
    });
}

#[test]
fn a_wake_from_a_worker_ends_the_wait_for_a_later_timer() {
    watchdog(30, || {
        let start = Instant::now();
        run(vec![task(async {
            // A timer a minute away, pending while the job runs: the
            // scheduler waits for it, and must stop waiting for the job.
            let mut long = Box::pin(sleep(Duration::from_secs(60)));
            assert!(PollOnce(long.as_mut()).await.is_pending());
            spawn_blocking(|| thread::sleep(20 * MS)).await;
        })]);
        let took = start.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "waited for the timer: {took:?}"
        );
    });
}

#[test]
fn a_spawn_blocking_keeps_the_waker_it_was_last_polled_with() {
    watchdog(30, || {
        // The future moves from one task to another after its first poll; the
        // worker must wake the second task, or run reports a deadlock.
        let handoff: Rc<RefCell<Option<Task>>> = Rc::default();
        let first = {
            let handoff = handoff.clone();
            task(async move {
                let mut job = Box::pin(spawn_blocking(|| thread::sleep(50 * MS)));
                assert!(PollOnce(job.as_mut()).await.is_pending());
                *handoff.borrow_mut() = Some(job);
            })
        };
        let second = task(async move {
            yield_now().await;
            let job = handoff.borrow_mut().take().expect("handed over");
            job.await;
        });
        run(vec![first, second]);
    });
}

#[test]
fn a_dropped_spawn_blocking_still_runs_its_job_and_run_waits_for_it() {
    watchdog(30, || {
        let started = Arc::new(AtomicBool::new(false));
        let ran = Arc::new(AtomicBool::new(false));
        let (start, flag) = (started.clone(), ran.clone());
        run(vec![task(async move {
            let mut job = Box::pin(spawn_blocking(move || {
                start.store(true, Ordering::Relaxed);
                thread::sleep(50 * MS);
                flag.store(true, Ordering::Relaxed);
            }));
            assert!(PollOnce(job.as_mut()).await.is_pending());
            drop(job);
            // A job still queued when run ends is dropped; a running one
            // is waited for.
            while !started.load(Ordering::Relaxed) {
                yield_now().await;
            }
        })]);
        assert!(
            ran.load(Ordering::Relaxed),
            "run returned before the job it was given was done"
        );
    });
}

#[test]
fn a_dropped_spawn_blocking_wakes_nobody() {
    watchdog(30, || {
        let polls = Rc::new(Cell::new(0));
        let counted = CountPolls {
            polls: polls.clone(),
            inner: Box::pin(async {
                let mut job = Box::pin(spawn_blocking(|| thread::sleep(20 * MS)));
                assert!(PollOnce(job.as_mut()).await.is_pending());
                drop(job);
                sleep(100 * MS).await;
            }),
        };
        run(vec![task(counted)]);
        assert_eq!(
            polls.get(),
            2,
            "polled once to start, once when the timer was due"
        );
    });
}

#[test]
fn a_spawn_blocking_never_polled_runs_nothing() {
    let ran = Arc::new(AtomicBool::new(false));
    let flag = ran.clone();
    run(vec![task(async move {
        drop(spawn_blocking(move || flag.store(true, Ordering::Relaxed)));
    })]);
    assert!(!ran.load(Ordering::Relaxed));
}

#[test]
fn spawn_blocking_polled_outside_run_panics_naming_it() {
    let caught = panic::catch_unwind(|| {
        let mut job = Box::pin(spawn_blocking(|| ()));
        let _ = job.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    });
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`spawn_blocking`") && message.contains("outside `run`"),
        "{message}"
    );
}

#[test]
fn a_task_nothing_can_wake_is_reported_once_no_job_is_in_flight() {
    watchdog(30, || {
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                spawn_blocking(|| ()).await; // the pool runs, with nothing in flight
                std::future::pending::<()>().await;
            })]);
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
    });
}

#[test]
fn the_deadlock_report_waits_for_the_jobs_in_flight() {
    watchdog(30, || {
        // The task gives up on its job, then waits for nothing. While the job
        // runs it might still wake a task, so the report must wait for it;
        // once it is done the scheduler must look again, although the job
        // woke nobody, or it blocks forever.
        let start = Instant::now();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                let mut job = Box::pin(spawn_blocking(|| thread::sleep(50 * MS)));
                assert!(PollOnce(job.as_mut()).await.is_pending());
                drop(job);
                std::future::pending::<()>().await;
            })]);
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
        assert!(start.elapsed() >= 50 * MS, "reported with a job in flight");
    });
}

/// Polls the future inside, and returns the panic of a poll that panicked
/// instead of letting it unwind the task.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = thread::Result<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.0).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(output)) => Poll::Ready(Ok(output)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}
