//! Experiment 4: a thread pool for blocking work.
//!
//! A task that blocks (a long computation, a blocking call) blocks every
//! task, since one thread polls them all. [`spawn_blocking`] hands such a
//! closure to a pool of worker threads instead, and returns a future that the
//! task awaits. The worker that runs the closure stores its output and wakes
//! the task's waker, from its own thread: for the first time a wake comes
//! from outside the scheduler's thread, at any moment. So when no task is
//! ready, the scheduler can no longer just sleep until the next timer: it
//! blocks on the ready queue, until a task is woken or the next timer is due.
//!
//! This is the Python experiment's `ThreadPoolExecutor`: the coroutine yields
//! a function, the scheduler submits it to the executor, and between passes,
//! while jobs are in flight, it calls `concurrent.futures.wait` on them with
//! `FIRST_COMPLETED` and a timeout of zero if a coroutine is still runnable,
//! else the time to the earliest wake-up (and `time.sleep` when no job is in
//! flight).

#![forbid(unsafe_code)]

mod join;
mod pool;
mod timer;
mod trace;
mod waker;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use pool::Pool;
use timer::Timers;
use trace::trace;
use waker::{ReadyQueue, TaskWaker};

pub use join::{JoinHandle, spawn};
pub use pool::spawn_blocking;
pub use timer::sleep;
pub use trace::trace_start;

/// A task: a future with no output, boxed and pinned so that tasks of
/// different types fit in one queue and can be polled in place.
pub type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Boxes a future into a [`Task`] for [`run`].
pub fn task(fut: impl Future<Output = ()> + 'static) -> Task {
    Box::pin(fut)
}

/// Each task is known by a number handed out as tasks arrive; a number is
/// never reused, so a late wake of a finished task cannot poll another one.
type TaskId = usize;

/// Runs every task to completion on the current thread, polling the tasks
/// that were woken, and returns when the last one is done, spawned ones
/// included. When no task is ready, the thread blocks until a task is
/// woken, by a pool job or any other thread, or the next timer is due.
///
/// A waker kept outside the scheduler, by a pool job or a thread of the
/// program's, may wake its task at any moment, and `run` waits for it. When
/// no timer is pending and no waker is kept anywhere else, nothing can wake
/// the tasks that wait: then `run` panics, saying so.
///
/// A panic in a task unwinds out of `run`, dropping the other tasks. Either
/// way, `run` drops the pool jobs not started yet, which no task is left to
/// await, and returns only once the pool's threads have finished the jobs
/// they were running and exited.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use exp4_threadpool::{run, sleep, spawn, spawn_blocking, task};
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let parent_log = log.clone();
/// run(vec![task(async move {
///     let child_log = parent_log.clone();
///     let child = spawn(async move {
///         sleep(Duration::from_millis(10)).await;
///         child_log.borrow_mut().push("slept".to_string());
///     });
///     // The closure blocks a pool thread, not the loop: the child runs meanwhile.
///     let answer = spawn_blocking(|| {
///         std::thread::sleep(Duration::from_millis(100));
///         6 * 7
///     })
///     .await;
///     parent_log.borrow_mut().push(format!("computed {answer}"));
///     child.await;
/// })]);
/// assert_eq!(*log.borrow(), ["slept", "computed 42"]);
/// ```
pub fn run(tasks: Vec<Task>) {
    let _thread = trace::name_thread(trace::Name::Scheduler);
    let mut scheduler = Scheduler::new();
    for task in tasks {
        scheduler.insert(task);
    }
    scheduler.run();
}

/// Gives the other tasks a turn: the first poll returns [`Poll::Pending`],
/// the next returns [`Poll::Ready`].
///
/// Before returning `Pending` it wakes its own task: "poll me again". That
/// puts the task back on the ready queue, behind the tasks already there.
pub fn yield_now() -> impl Future<Output = ()> {
    YieldNow { yielded: false }
}

/// The future behind [`yield_now`].
struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// What the futures of a running scheduler reach through [`CURRENT`]: a
/// future is polled with nothing but a `Context`, so this is how `sleep`
/// finds the timers, `spawn` the scheduler and `spawn_blocking` the pool.
struct Shared {
    /// The timers of sleeping tasks.
    timers: RefCell<Timers>,
    /// The task being polled: the trace names it as the owner of a timer or
    /// a pool job set up during its poll.
    polling: Cell<TaskId>,
    /// Tasks spawned since the loop last admitted new tasks.
    spawned: RefCell<Vec<Task>>,
    /// The worker threads of `spawn_blocking`, started on first use.
    pool: Pool,
}

thread_local! {
    /// The scheduler that `run` is running on this thread, if any.
    static CURRENT: RefCell<Option<Rc<Shared>>> = const { RefCell::new(None) };
}

/// Calls `f` with the running scheduler's shared state, or returns `None`
/// when no `run` is running on this thread.
fn try_with_current<R>(f: impl FnOnce(&Shared) -> R) -> Option<R> {
    CURRENT
        .try_with(|current| current.borrow().as_deref().map(f))
        .ok()
        .flatten()
}

/// Calls `f` with the running scheduler's shared state; outside `run`,
/// panics with a message naming `caller`, the public function misused.
fn with_current<R>(caller: &str, f: impl FnOnce(&Shared) -> R) -> R {
    try_with_current(f).unwrap_or_else(|| {
        panic!("`{caller}` was used outside `run`: it needs a running scheduler on this thread")
    })
}

/// A task and the waker it is polled with.
struct TaskEntry {
    future: Task,
    /// The waker's state, to mark the task as no longer queued.
    wake_state: Arc<TaskWaker>,
    /// The same waker as a [`Waker`], made once rather than on every poll.
    waker: Waker,
}

/// The state of one `run`: the tasks, the ready queue, and the state it
/// shares with the futures.
struct Scheduler {
    /// Every task that has not finished.
    tasks: HashMap<TaskId, TaskEntry>,
    /// The ids of woken tasks; every waker of this scheduler holds it too.
    ready: Arc<ReadyQueue>,
    /// The ids of the tasks this pass polls. It is a field rather than a
    /// local so that one buffer serves every pass, and a pass costs no
    /// allocation.
    pass: VecDeque<TaskId>,
    /// The id the next task gets.
    next_id: TaskId,
    /// What futures reach through [`CURRENT`].
    shared: Rc<Shared>,
}

impl Scheduler {
    /// Makes a scheduler and makes it this thread's [`CURRENT`].
    fn new() -> Self {
        let ready = Arc::new(ReadyQueue::default());
        let shared = Rc::new(Shared {
            timers: RefCell::new(Timers::default()),
            polling: Cell::new(0),
            spawned: RefCell::new(Vec::new()),
            pool: Pool::new(ready.clone()),
        });
        CURRENT.with_borrow_mut(|current| {
            assert!(
                current.is_none(),
                "`run` was called inside `run` on the same thread"
            );
            *current = Some(shared.clone());
        });
        Scheduler {
            tasks: HashMap::new(),
            ready,
            pass: VecDeque::new(),
            next_id: 0,
            shared,
        }
    }

    /// Adds a task, woken so that the next pass polls it.
    fn insert(&mut self, future: Task) {
        let id = self.next_id;
        self.next_id += 1;
        let wake_state = Arc::new(TaskWaker::new(id, self.ready.clone()));
        let waker = Waker::from(wake_state.clone());
        waker.wake_by_ref();
        self.tasks.insert(
            id,
            TaskEntry {
                future,
                wake_state,
                waker,
            },
        );
    }

    /// Adds the tasks spawned since the last call.
    fn admit_spawned(&mut self) {
        let spawned = self.shared.spawned.take();
        for task in spawned {
            trace!("spawned task {}", self.next_id);
            self.insert(task);
        }
    }

    /// The loop: poll what is ready, else wait for a timer or a pool job,
    /// until no task is left. An empty ready queue never ends the loop on its
    /// own.
    fn run(&mut self) {
        trace!("run: {} tasks", self.tasks.len());
        loop {
            self.admit_spawned();
            if self.tasks.is_empty() {
                break;
            }
            self.wake_due_timers();
            // One pass polls the tasks woken so far; a task woken during the
            // pass (a yield, say) waits for the next one, behind them.
            self.ready.take_all(&mut self.pass);
            if self.pass.is_empty() {
                self.idle();
                continue;
            }
            while let Some(id) = self.pass.pop_front() {
                self.poll_task(id);
            }
        }
    }

    /// Polls one woken task, and drops it if it finished.
    fn poll_task(&mut self, id: TaskId) {
        let Some(entry) = self.tasks.get_mut(&id) else {
            return; // it finished after this wake was queued
        };
        entry.wake_state.clear_queued();
        self.shared.polling.set(id);
        // The trace times each poll; the clock is read only when it is on.
        let started = trace::enabled().then(Instant::now);
        let poll = entry
            .future
            .as_mut()
            .poll(&mut Context::from_waker(&entry.waker));
        if let Some(started) = started {
            trace!("polled task {id}: {poll:?} ({:?})", started.elapsed());
        }
        if poll.is_ready() {
            self.tasks.remove(&id);
        }
    }

    /// Wakes the tasks whose timers are due.
    fn wake_due_timers(&self) {
        loop {
            // Release the borrow before waking: a waker may run any code.
            let due = self.shared.timers.borrow_mut().pop_due();
            let Some((task, waker)) = due else { break };
            trace!("timer fired: task {task}");
            waker.wake();
        }
    }

    /// Whether any task's waker is held outside the scheduler: by a timer, a
    /// pool job, another task, or a thread of the program's own, which may
    /// wake the task at any moment. The scheduler holds two references to
    /// each waker, the entry's `wake_state` and `waker`; a count above that
    /// means a clone is kept somewhere.
    ///
    /// A count of two is final: a new clone can only be made from one that
    /// is held, and the scheduler lends its own only to the task's poll. So
    /// once every count is two, no wake can come from anywhere, and a look
    /// at the queue after this one sees every wake there will ever be.
    fn wakers_kept_elsewhere(&self) -> bool {
        self.tasks
            .values()
            .any(|entry| Arc::strong_count(&entry.wake_state) > 2)
    }

    /// Nothing is ready: block until a task is woken or the earliest timer is
    /// due. A wake from a worker, or any other thread, ends the wait at once,
    /// whatever the deadline.
    fn idle(&self) {
        let deadline = self.shared.timers.borrow().next_deadline();
        // A job in flight may still wake a task, and so may a waker kept
        // elsewhere; once neither is left, and no timer is pending, nothing
        // can. The wakers are counted before `wait` looks at the queue, so
        // that a wake from a thread that has let go of its waker since is
        // seen there; the queue decides the rest under its lock, so that a
        // job finishing meanwhile is never missed.
        let kept_elsewhere = deadline.is_none() && self.wakers_kept_elsewhere();
        if !self.ready.wait(deadline, kept_elsewhere) {
            panic!(
                "run: {} task(s) wait, but none is ready, no timer is pending, \
                 no pool job is in flight and no waker is held elsewhere: \
                 nothing can wake them",
                self.tasks.len()
            );
        }
    }
}

impl Drop for Scheduler {
    /// Drops the tasks while their futures can still reach the timers to
    /// deregister, drops the pool's jobs not started and joins its threads
    /// once they have finished the jobs they were running, then leaves
    /// [`CURRENT`] empty for the next `run`. This also runs when a task's
    /// panic unwinds out of `run`.
    fn drop(&mut self) {
        self.tasks.clear();
        self.shared.pool.join();
        CURRENT.with_borrow_mut(|current| *current = None);
    }
}
