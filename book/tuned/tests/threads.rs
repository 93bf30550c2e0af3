//! The pool's threads: started only by a run that uses the pool, and all
//! joined when `run` returns or unwinds.
//!
//! A file of its own, so a test binary of its own: the test counts the
//! process's threads, and tests running alongside would start threads too.

mod common;

use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use common::{PollOnce, panic_message, threads, threads_settled_to, watchdog};
use exp6_tuned::{run, sleep, spawn_blocking, task};

const MS: Duration = Duration::from_millis(1);

#[test]
#[cfg_attr(miri, ignore = "Miri isolates the program from the host's /proc")]
#[cfg_attr(
    not(target_os = "linux"),
    ignore = "counts threads in Linux's /proc/self/task"
)]
fn the_pool_starts_threads_only_when_used_and_joins_them_when_run_ends() {
    watchdog(30, || {
        let before = threads();

        run(vec![task(async move {
            sleep(MS).await;
            assert_eq!(threads(), before, "a run that never used the pool");
        })]);

        run(vec![task(async move {
            spawn_blocking(|| ()).await;
            assert!(threads() > before, "the pool started no thread");
        })]);
        assert_eq!(threads_settled_to(before), before, "after run returned");

        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                let _: u32 = spawn_blocking(|| panic!("job failed")).await;
            })]);
        }));
        assert_eq!(
            panic_message(&*caught.expect_err("job panic")),
            "job failed"
        );
        assert_eq!(threads_settled_to(before), before, "after a job's panic");

        // A task's panic unwinds out of run while a job still runs.
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                let mut job = Box::pin(spawn_blocking(|| thread::sleep(50 * MS)));
                assert!(PollOnce(job.as_mut()).await.is_pending());
                panic!("task failed");
            })]);
        }));
        assert_eq!(
            panic_message(&*caught.expect_err("task panic")),
            "task failed"
        );
        assert_eq!(threads_settled_to(before), before, "after a task's panic");
    });
}
