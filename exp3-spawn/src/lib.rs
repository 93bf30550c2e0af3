//! Experiment 3: spawning tasks while the scheduler runs.
//!
//! Until now every task was handed to [`run`] up front. Here a running task
//! can start another with [`spawn`], and await its output through the
//! [`JoinHandle`] it gets back. A task does not know the scheduler that polls
//! it, so `spawn` finds it the way `sleep` finds the timers: through the
//! thread-local that `run` sets. The new task waits in a list until the loop
//! admits it at the start of its next pass, and `run` returns only when every
//! task, spawned ones included, is done.
//!
//! This is the Python experiment's "add a coroutine while running": the
//! scheduler's task list grows from inside a task.

#![forbid(unsafe_code)]

mod join;
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
use std::thread;
use std::time::Instant;

use timer::Timers;
use trace::trace;
use waker::{ReadyQueue, TaskWaker};

pub use join::{JoinHandle, spawn};
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
/// included. When no task is ready, the thread sleeps until the next timer
/// is due.
///
/// A waker may also be called on another thread: its task is queued, but
/// polled only once the sleep ends. With no timer pending, no sleep would
/// end, so `run` panics, reporting that nothing can wake the tasks, rather
/// than wait for such a wake (experiment 4 waits for it).
///
/// A panic in a task unwinds out of `run`, dropping the other tasks.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use exp3_spawn::{run, sleep, spawn, task};
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
/// finds the timers and `spawn` the scheduler.
struct Shared {
    /// The timers of sleeping tasks.
    timers: RefCell<Timers>,
    /// The task being polled: the trace names it as the owner of a timer
    /// set during its poll.
    polling: Cell<TaskId>,
    /// Tasks spawned since the loop last admitted new tasks.
    spawned: RefCell<Vec<Task>>,
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
        let shared = Rc::new(Shared {
            timers: RefCell::new(Timers::default()),
            polling: Cell::new(0),
            spawned: RefCell::new(Vec::new()),
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
            ready: Arc::new(ReadyQueue::default()),
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

    /// The loop: poll what is ready, else wait for a timer, until no task is
    /// left. An empty ready queue never ends the loop on its own.
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

    /// Nothing is ready: sleep until the earliest timer is due.
    ///
    /// A wake from another thread does not end the sleep: `thread::sleep`
    /// waits for nothing but time. So with no timer pending, this scheduler
    /// cannot wait for such a wake, and reports the tasks stuck instead.
    fn idle(&self) {
        let Some(deadline) = self.shared.timers.borrow().next_deadline() else {
            panic!(
                "run: {} task(s) wait, but none is ready and no timer is pending: \
                 nothing can wake them on this thread, and this scheduler does \
                 not wait for wakes from other threads (exp4-threadpool does)",
                self.tasks.len()
            );
        };
        let now = Instant::now();
        if deadline > now {
            trace!("idle: sleep for {:?}", deadline - now);
            thread::sleep(deadline - now);
            trace!("idle: awake");
        }
    }
}

impl Drop for Scheduler {
    /// Drops the tasks while their futures can still reach the timers to
    /// deregister, then leaves [`CURRENT`] empty for the next `run`. This also
    /// runs when a task's panic unwinds out of `run`.
    fn drop(&mut self) {
        self.tasks.clear();
        CURRENT.with_borrow_mut(|current| *current = None);
    }
}
