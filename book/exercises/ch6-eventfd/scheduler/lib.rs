//! Chapter 6 exercise: exp6-combined whose self-wake is yours.
//!
//! This file is exp6's `src/lib.rs` but for this paragraph, the test
//! module and the `#[path]` lines: every other module is exp6's own file,
//! loaded from `exp6-combined/src/` as it is (so it cannot drift), except
//! `self_wake`, loaded from `src/lib.rs`, the file you write. Below, exp6's
//! own words, which say "socketpair" where yours is an eventfd.
//!
//! Experiment 6: the thread pool and the sockets together.
//!
//! Experiment 4 ran blocking work on a thread pool, and when no task was
//! ready it blocked on the ready queue's `Condvar`, which a worker notifies.
//! Experiment 5 waited for sockets, and when no task was ready it blocked in
//! `poll(2)`. This one has both, [`spawn_blocking`] and [`net`], so an idle
//! scheduler has two waits to combine: for a socket, and for a worker to
//! wake a task. `poll(2)` waits for file descriptors only, so the wake
//! becomes one. The self-wake is a connected pair of Unix sockets, and its
//! read end is in every `poll(2)` set: a waker that finds the scheduler
//! parked in `poll(2)` writes one byte to the other end, and `poll(2)`
//! returns. This is the self-pipe trick. A flag that the scheduler raises
//! before it parks, and that every wake checks, makes sure that no wake is
//! lost and that a wake writes only when the scheduler is parked, once per
//! park (see `self_wake.rs`).
//!
//! This is the Python experiment's self-socket: a `socket.socketpair()`
//! whose read end the selector watches and whose write end the pool's jobs
//! write to when they finish. The original had two bugs that this crate is
//! built to avoid. Its loop could end when `select` returned for a stale
//! byte with no task ready, dropping the work still pending: here the loop
//! ends only when no task is left, and a byte only says "look again". And
//! its write end blocked, so that completions piling up could fill the
//! socket and stall the workers: here both ends are non-blocking, and only
//! the first wake that finds the scheduler parked writes, so bytes do not
//! pile up. [`self_wake_bytes`] counts them.
//!
//! Sockets need `libc` and `socket2`, and `poll(2)` is called as Linux's
//! `ppoll`: this crate is for Linux.

// Calling `poll(2)` takes `unsafe`: denied here for the whole crate, and
// allowed for that one call alone, in reactor.rs.
#![deny(unsafe_code)]

#[path = "../../../../exp6-combined/src/echo.rs"]
pub mod echo;
#[path = "../../../../exp6-combined/src/join.rs"]
mod join;
#[path = "../../../../exp6-combined/src/net.rs"]
pub mod net;
#[path = "../../../../exp6-combined/src/pool.rs"]
mod pool;
#[path = "../../../../exp6-combined/src/reactor.rs"]
mod reactor;
#[path = "../src/lib.rs"]
mod self_wake;
#[path = "../../../../exp6-combined/src/timer.rs"]
mod timer;
#[path = "../../../../exp6-combined/src/trace.rs"]
mod trace;
#[path = "../../../../exp6-combined/src/waker.rs"]
mod waker;

#[cfg(test)]
mod eventfd_tests;

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use pool::Pool;
use reactor::Reactor;
use self_wake::SelfWake;
use timer::Timers;
use trace::trace;
use waker::{ReadyQueue, TaskWaker};

pub use join::{JoinHandle, spawn};
pub use pool::spawn_blocking;
pub use self_wake::{SelfWakeBytes, self_wake_bytes};
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

/// How long the scheduler waits for a waker kept outside it before it counts
/// the wakers again. Such a waker may wake its task, or be dropped unwoken,
/// which tells nobody: without a second look, the report that nothing can
/// wake the tasks would never come.
const RECOUNT: Duration = Duration::from_secs(1);

/// Runs every task to completion on the current thread, polling the tasks
/// that were woken, and returns when the last one is done, spawned ones
/// included. When no task is ready, the thread waits in `poll(2)` until a
/// socket that a task waits for is ready, a task is woken, by a pool job or
/// any other thread, or the next timer is due.
///
/// A waker kept outside the scheduler, by a pool job or a thread of the
/// program's, may wake its task at any moment, and `run` waits for it. When
/// no timer is pending, no socket is waited for and no waker is kept
/// anywhere else, nothing can wake the tasks that wait: then `run` panics,
/// saying so.
///
/// A panic in a task unwinds out of `run`, dropping the other tasks. Either
/// way, `run` drops the pool jobs not started yet, which no task is left to
/// await, and returns only once the pool's threads have finished the jobs
/// they were running and exited. It panics if it cannot make its self-wake
/// socketpair (when the process is out of file descriptors, say).
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use ch6_eventfd::{run, sleep, spawn, task};
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let parent_log = log.clone();
/// run(vec![task(async move {
///     let child = spawn(async {
///         sleep(Duration::from_millis(10)).await;
///         6 * 7
///     });
///     parent_log.borrow_mut().push("spawned".to_string());
///     let answer = child.await;
///     parent_log.borrow_mut().push(format!("joined {answer}"));
/// })]);
/// assert_eq!(*log.borrow(), ["spawned", "joined 42"]);
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
/// finds the timers, `spawn` the scheduler, sockets the reactor and
/// `spawn_blocking` the pool.
struct Shared {
    /// The timers of sleeping tasks.
    timers: RefCell<Timers>,
    /// The task being polled: the trace names it as the owner of a timer, a
    /// socket's registration or a pool job set up during its poll.
    polling: Cell<TaskId>,
    /// The fds that tasks wait for.
    reactor: RefCell<Reactor>,
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
    /// The scheduler parks there before `poll(2)`, so that a wake from
    /// another thread writes the byte that ends it.
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
        let self_wake = match SelfWake::new() {
            Ok(self_wake) => Arc::new(self_wake),
            Err(err) => panic!("`run` could not make its self-wake socketpair: {err}"),
        };
        let ready = Arc::new(ReadyQueue::new(&self_wake));
        let shared = Rc::new(Shared {
            timers: RefCell::new(Timers::default()),
            polling: Cell::new(0),
            reactor: RefCell::new(Reactor::new(self_wake)),
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

    /// The loop: poll what is ready, else wait for a socket, a timer or a
    /// pool job, until no task is left. An empty ready queue never ends the
    /// loop on its own, nor does a self-wake byte.
    fn run(&mut self) {
        trace!("run: {} tasks", self.tasks.len());
        // Whether `poll(2)` has run since the last pass.
        let mut polled = false;
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
                polled = true;
                continue;
            }
            if !polled {
                self.check_io();
            }
            polled = false;
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

    /// Tasks that keep the loop busy (yielding, spawning, sleeping briefly)
    /// can keep it from ever idling, and so from ever looking at the
    /// sockets: before a pass that `poll(2)` did not just precede, check the
    /// registered fds without blocking. No system call when no task waits
    /// for an fd.
    fn check_io(&self) {
        if self.shared.reactor.borrow().is_empty() {
            return;
        }
        self.wait_for_io(Some(Instant::now()));
    }

    /// Whether any task's waker is held outside the scheduler: by a timer, a
    /// socket's registration, a pool job, another task, or a thread of the
    /// program's own, which may wake the task at any moment. The scheduler
    /// holds two references to each waker, the entry's `wake_state` and
    /// `waker`; a count above that means a clone is kept somewhere.
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

    /// Nothing is ready: park in `poll(2)` until a registered fd is ready, a
    /// task is woken from another thread, or the earliest timer is due.
    fn idle(&self) {
        let mut deadline = self.shared.timers.borrow().next_deadline();
        // The ready queue was empty a moment ago, but another thread (a pool
        // worker, say) may have woken a task since, or do so at any moment.
        // A wake writes the byte that ends `poll(2)` only if it finds the
        // scheduler parked, so the scheduler parks and looks at the queue in
        // one step, under the queue's lock: a wake comes before it, and the
        // look sees its task, or after it, and the wake writes the byte.
        //
        // With no timer pending and no socket waited for, a task can still
        // be woken by a job in flight, or through a waker kept elsewhere;
        // once neither is left, nothing can wake it. The wakers are counted
        // before the park looks at the queue, so that a wake from a thread
        // that has let go of its waker since is seen there.
        let unwatched = deadline.is_none() && self.shared.reactor.borrow().is_empty();
        let kept_elsewhere = unwatched && self.wakers_kept_elsewhere();
        let Some(jobs_in_flight) = self.ready.park() else {
            trace!("idle: a task was woken as the scheduler parked: no poll(2)");
            return;
        };
        if unwatched && jobs_in_flight == 0 && !kept_elsewhere {
            panic!(
                "run: {} task(s) wait, but none is ready, no timer is pending, \
                 no socket is waited for, no pool job is in flight and no \
                 waker is held elsewhere: nothing can wake them",
                self.tasks.len()
            );
        }
        // But a waker can also be dropped unwoken, and the count be down to
        // two a moment after this look. So the wait for its wake ends after
        // `RECOUNT`, and the loop comes back here to count again. (While a
        // job is in flight, its end makes `poll(2)` return anyway.)
        if kept_elsewhere && jobs_in_flight == 0 {
            trace!("idle: a waker is held elsewhere: counting again in {RECOUNT:?}");
            deadline = Some(Instant::now() + RECOUNT);
        }
        self.wait_for_io(deadline);
    }

    /// Calls `poll(2)` with `deadline` as the timeout (none: wait for an fd),
    /// then wakes the tasks whose fds are ready.
    fn wait_for_io(&self, deadline: Option<Instant>) {
        // Release the borrow before waking: a waker may run any code.
        let woken = self.shared.reactor.borrow_mut().poll(deadline);
        // Back from `poll(2)`: wakes need no byte now, these least of all.
        self.ready.unpark();
        for waker in woken {
            waker.wake();
        }
    }
}

impl Drop for Scheduler {
    /// Drops the tasks while their futures can still reach the timers and the
    /// reactor to deregister, drops the pool's jobs not started and joins its
    /// threads once they have finished the jobs they were running, then
    /// leaves [`CURRENT`] empty for the next `run`. This also runs when a
    /// task's panic unwinds out of `run`.
    fn drop(&mut self) {
        self.tasks.clear();
        self.shared.pool.join();
        CURRENT.with_borrow_mut(|current| *current = None);
    }
}
