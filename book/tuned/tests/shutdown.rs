//! What `run` does with the pool when it ends or unwinds: it drops the jobs
//! no worker has started, waits for the running ones, and joins every
//! thread.
//!
//! A file of its own, so a test binary of its own: the test counts the
//! process's threads, and tests running alongside would start threads too.

mod common;

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use common::{PollOnce, panic_message, threads, threads_settled_to, watchdog};
use exp6_tuned::{run, sleep, spawn_blocking, task};

const MS: Duration = Duration::from_millis(1);

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the program from the host's /proc")]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "counts threads in Linux's /proc/self/task"
)]
fn run_drops_the_jobs_not_started_and_joins_every_thread_when_it_ends_or_unwinds() {
    watchdog(60, || {
        for panics in [false, true] {
            let before = threads();
            let end = end_with_jobs_queued(panics);
            // The queue holds 5 s of work; the running jobs end within 50 ms.
            assert!(
                end.took < Duration::from_secs(1),
                "run took {:?} to end (panic: {panics})",
                end.took
            );
            assert!(
                end.ran <= end.jobs / 4,
                "{} of {} queued jobs ran (panic: {panics})",
                end.ran,
                end.jobs
            );
            assert_eq!(end.finished, end.ran, "run ended while a job still ran");
            assert_eq!(end.dropped, end.jobs, "a job's closure was never dropped");
            assert_eq!(threads_settled_to(before), before, "a pool thread was left");
        }
    });
}

/// What became of the jobs of [`end_with_jobs_queued`].
struct End {
    /// How long `run` took to return or unwind once the task ended.
    took: Duration,
    /// The jobs queued.
    jobs: usize,
    /// How many of them started, and how many finished.
    ran: usize,
    finished: usize,
    /// How many of their closures were dropped, run or not.
    dropped: usize,
}

/// Queues 100 jobs of 50 ms for each worker, 5 s of work, waits until one
/// has started, then ends the task: it returns, dropping the futures of the
/// jobs, or it panics.
fn end_with_jobs_queued(panics: bool) -> End {
    let workers = thread::available_parallelism().map_or(2, |cpus| cpus.get().max(2));
    let jobs = 100 * workers;
    let ran = Arc::new(AtomicUsize::new(0));
    let finished = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let ended = Rc::new(Cell::new(None));
    let caught = {
        let (ran, finished, dropped, ended) = (
            ran.clone(),
            finished.clone(),
            dropped.clone(),
            ended.clone(),
        );
        panic::catch_unwind(AssertUnwindSafe(move || {
            run(vec![task(async move {
                let mut queued = Vec::new();
                for _ in 0..jobs {
                    let (ran, finished) = (ran.clone(), finished.clone());
                    let counted = CountDrop(dropped.clone());
                    let mut job = Box::pin(spawn_blocking(move || {
                        let _counted = counted;
                        ran.fetch_add(1, Ordering::SeqCst);
                        thread::sleep(50 * MS);
                        finished.fetch_add(1, Ordering::SeqCst);
                    }));
                    assert!(PollOnce(job.as_mut()).await.is_pending());
                    queued.push(job);
                }
                while ran.load(Ordering::SeqCst) == 0 {
                    sleep(MS).await;
                }
                ended.set(Some(Instant::now()));
                if panics {
                    panic!("task failed");
                }
            })]);
        }))
    };
    let took = ended.get().expect("the task ended").elapsed();
    match caught {
        Err(panic) => assert_eq!(panic_message(&*panic), "task failed"),
        Ok(()) => assert!(!panics, "run returned after a task's panic"),
    }
    End {
        took,
        jobs,
        ran: ran.load(Ordering::SeqCst),
        finished: finished.load(Ordering::SeqCst),
        dropped: dropped.load(Ordering::SeqCst),
    }
}

/// Counts its drop.
struct CountDrop(Arc<AtomicUsize>);

impl Drop for CountDrop {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}
