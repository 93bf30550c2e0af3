//! The thread pool: [`spawn_blocking`] runs a closure on a worker thread, and
//! the worker wakes the awaiting task when the closure is done.

use std::cell::RefCell;
use std::future::Future;
use std::mem;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread;

use crossbeam_channel::{Receiver, Sender};

use crate::trace::{self, trace};
use crate::waker::ReadyQueue;
use crate::{TaskId, with_current};

/// Work for a pool thread: runs a [`spawn_blocking`] closure, stores its
/// output, and returns the waker of the task awaiting it, if any, for the
/// worker to wake.
type Job = Box<dyn FnOnce() -> Option<Waker> + Send>;

/// How many threads a pool starts: one per CPU this process may use, and at
/// least two, so that two blocking jobs overlap even on one CPU (a job that
/// sleeps or waits for a file leaves the CPU to another). Python's
/// `ThreadPoolExecutor` also starts more threads than CPUs.
fn worker_count() -> usize {
    thread::available_parallelism().map_or(2, |cpus| cpus.get().max(2))
}

/// The thread pool of one `run`: worker threads taking jobs off a channel.
pub(crate) struct Pool {
    /// Where jobs are counted in flight, and the workers tell the scheduler
    /// that a job is done.
    ready: Arc<ReadyQueue>,
    /// The job queue and the threads, once the first job has started them.
    workers: RefCell<Option<Workers>>,
}

/// The running part of a [`Pool`].
struct Workers {
    /// The sending end of the job queue, each job with the task that awaits
    /// it, for the trace; dropping it stops the workers once the queue is
    /// empty.
    jobs: Sender<(TaskId, Job)>,
    /// A receiving end of the job queue, for [`Pool::join`] to empty it.
    queue: Receiver<(TaskId, Job)>,
    /// The worker threads, to join; none if the system refused them all.
    threads: Vec<thread::JoinHandle<()>>,
}

impl Pool {
    /// A pool whose workers report to `ready`. It starts no thread yet, so a
    /// `run` that never calls [`spawn_blocking`] starts none.
    pub(crate) fn new(ready: Arc<ReadyQueue>) -> Self {
        Pool {
            ready,
            workers: RefCell::new(None),
        }
    }

    /// Queues `job`, which task `task` awaits, for the workers, starting them
    /// if it is the run's first; runs it at once if no worker could be
    /// started.
    fn submit(&self, task: TaskId, job: Job) {
        let mut workers = self.workers.borrow_mut();
        let workers = workers.get_or_insert_with(|| self.start());
        if workers.threads.is_empty() {
            // Every task waits meanwhile, but the run goes on.
            trace!("pool: no worker thread, task {task}'s job runs on the scheduler's thread");
            if let Some(waker) = job() {
                waker.wake();
            }
            return;
        }
        // Counted before it is queued, so that it is in flight before a
        // worker can finish it.
        self.ready.job_queued();
        trace!("job queued: task {task}");
        workers
            .jobs
            .send((task, job))
            .expect("the pool's workers stopped while it had jobs to give");
    }

    /// Starts the worker threads, up to the first that the system refuses
    /// (a limit on threads or memory): the pool makes do with fewer.
    fn start(&self) -> Workers {
        let (jobs, queue) = crossbeam_channel::unbounded();
        let threads: Vec<_> = (0..worker_count())
            .map_while(|index| {
                let queue = queue.clone();
                let ready = self.ready.clone();
                thread::Builder::new()
                    .name(format!("exp6-pool-{index}"))
                    .spawn(move || work(index, &queue, &ready))
                    .inspect_err(|error| trace!("pool: could not start a worker thread: {error}"))
                    .ok()
            })
            .collect();
        trace!("pool: started {} worker threads", threads.len());
        Workers {
            jobs,
            queue,
            threads,
        }
    }

    /// Closes the job queue, drops the jobs no worker has started, and joins
    /// the workers once they have finished the jobs they are running (as
    /// Python's `executor.shutdown(wait=True, cancel_futures=True)`). The
    /// scheduler calls it when its tasks are gone, and with them every future
    /// that could await a job. Does nothing if no job ever started the pool.
    pub(crate) fn join(&self) {
        let Some(Workers {
            jobs,
            queue,
            threads,
        }) = self.workers.take()
        else {
            return;
        };
        drop(jobs);
        // Each job is dropped as it is counted.
        let dropped = queue.try_iter().count();
        if dropped > 0 {
            trace!("pool: dropped {dropped} jobs that no worker had started");
        }
        for worker in threads {
            // A worker catches its jobs' panics, so it exits normally.
            let _ = worker.join();
        }
        trace!("pool: joined the worker threads");
    }
}

/// A worker thread: runs jobs until the queue is closed and empty.
fn work(index: usize, queue: &Receiver<(TaskId, Job)>, ready: &ReadyQueue) {
    let _thread = trace::name_thread(trace::Name::Pool(index + 1));
    for (task, job) in queue {
        trace!("job started: task {task}");
        let waiter = job();
        trace!("job finished: task {task}");
        match waiter {
            Some(waker) => waker.wake(),
            None => trace!("pool: task {task} no longer awaits the job"),
        }
        // The order matters: the wake has queued the task before the count
        // drops, so a scheduler that sees no job in flight also sees the
        // task. The count may also drop with no task queued (nobody awaited
        // the job): then the scheduler, blocked while the job was in flight,
        // is notified to look again.
        ready.job_finished();
    }
}

/// Runs `f` on one of the pool's worker threads, and returns a future that
/// resolves to `f`'s output. The scheduler's thread meanwhile goes on
/// polling the other tasks: `f` may block, or compute for a long time.
///
/// The job is queued when the future is first polled, like any Rust future
/// that does nothing until polled. Dropping the future after that does not
/// stop the job: it runs to the end, wakes nobody, and its output is
/// dropped. When [`run`](crate::run) ends or unwinds, no task is left to
/// await a job: it waits for the jobs that are running, and drops the jobs
/// still queued without running them.
///
/// The run's first job starts the pool's threads, one per CPU and at least
/// two. If the system refuses some (a limit on threads or memory, such as
/// `RLIMIT_NPROC`), the pool runs with those it could start, for the rest of
/// the run. If it could start none, each job runs on the scheduler's thread
/// when first polled, and every task waits until it is done: slower, but
/// the run goes on. `EXP_TRACE=1` shows which.
///
/// # Panics
///
/// When polled outside [`run`](crate::run): only a running scheduler has a
/// pool. A panic in `f` is caught on the worker and resumed in the task that
/// awaits the future, when the future is polled.
pub fn spawn_blocking<T, F>(f: F) -> impl Future<Output = T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let state = Arc::new(Mutex::new(JobState::Running(None)));
    let job: Job = {
        let state = state.clone();
        Box::new(move || {
            let output = panic::catch_unwind(AssertUnwindSafe(f));
            let waiter = mem::replace(&mut *state.lock().unwrap(), JobState::Finished(output));
            let JobState::Running(waiter) = waiter else {
                unreachable!("only the job finishes it")
            };
            waiter
        })
    };
    SpawnBlocking {
        job: Some(job),
        state,
    }
}

/// The future behind [`spawn_blocking`].
struct SpawnBlocking<T> {
    /// The job, until the first poll hands it to the pool.
    job: Option<Job>,
    /// Shared with the job, which leaves its output there.
    state: Arc<Mutex<JobState<T>>>,
}

/// What a [`SpawnBlocking`] and its job share.
enum JobState<T> {
    /// The job is queued or running; the waker is that of whoever awaits it.
    Running(Option<Waker>),
    /// The job is done: its output, or the panic that ended it.
    Finished(thread::Result<T>),
    /// The future returned the output.
    Returned,
}

impl<T> Future for SpawnBlocking<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.lock().unwrap();
        match &mut *state {
            JobState::Running(Some(waiter)) => waiter.clone_from(cx.waker()),
            JobState::Running(waiter) => *waiter = Some(cx.waker().clone()),
            JobState::Finished(_) => {
                let JobState::Finished(output) = mem::replace(&mut *state, JobState::Returned)
                else {
                    unreachable!("matched Finished above")
                };
                drop(state); // resuming a panic must not poison the lock
                return match output {
                    Ok(output) => Poll::Ready(output),
                    Err(panic) => panic::resume_unwind(panic),
                };
            }
            JobState::Returned => {
                panic!("a `spawn_blocking` future was polled after it returned the output")
            }
        }
        drop(state);
        // The first poll: the waker is in place before the job can finish.
        if let Some(job) = self.job.take() {
            with_current("spawn_blocking", |shared| {
                shared.pool.submit(shared.polling.get(), job);
            });
        }
        Poll::Pending
    }
}

impl<T> Drop for SpawnBlocking<T> {
    /// A future dropped before its job is done takes its waker back, so that
    /// the job, which runs on, wakes nobody.
    fn drop(&mut self) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if let JobState::Running(waiter) = &mut *state {
            *waiter = None;
        }
    }
}
