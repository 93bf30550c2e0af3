//! Experiment 5: waiting for sockets.
//!
//! Until now a task could wait only for time or for another task. Here it
//! can wait for a socket. The sockets of [`net`] are non-blocking: when a
//! read, write, accept or connect would block, its future registers the
//! socket's fd, what it waits for and the task's waker with the reactor,
//! which futures find beside the timers, through the thread-local that `run`
//! sets. When no task is ready, the thread no longer just sleeps: it calls
//! `poll(2)` on every registered fd, with the earliest timer deadline as the
//! timeout, and wakes the tasks whose fds came back ready. One thread can
//! then serve many connections, each in a task written as if it blocked,
//! like the [`echo`] server.
//!
//! This is the Python experiment's `selectors.DefaultSelector`: a coroutine
//! yields the file object it waits for, the scheduler registers it, and
//! between passes, while anything is registered, calls `select` with the
//! next deadline as the timeout (and still `time.sleep` when nothing is).
//! Its registrations are one-shot, as the reactor's are here: the scheduler
//! unregisters the file object as soon as `select` reports it ready.
//!
//! Sockets need `libc` and `socket2`, and `poll(2)` is called as Linux's
//! `ppoll`: this crate is for Linux.

// Calling `poll(2)` takes `unsafe`: denied here for the whole crate, and
// allowed for that one call alone, in reactor.rs.
#![deny(unsafe_code)]

pub mod echo;
mod join;
pub mod net;
mod reactor;
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

use reactor::Reactor;
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
/// included. When no task is ready, the thread waits in `poll(2)` until a
/// socket that a task waits for is ready or the next timer is due.
///
/// A waker may also be called on another thread: its task is queued, but
/// polled only once `poll(2)` returns, for a socket or a timer. With no
/// timer pending and no socket waited for, `poll(2)` would never return, so
/// `run` panics, reporting that nothing can wake the tasks, rather than wait
/// for such a wake (experiment 6 waits for it).
///
/// A panic in a task unwinds out of `run`, dropping the other tasks.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use exp5_selectors::{run, sleep, spawn, task};
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
/// finds the timers, `spawn` the scheduler and sockets the reactor.
struct Shared {
    /// The timers of sleeping tasks.
    timers: RefCell<Timers>,
    /// The task being polled: the trace names it as the owner of a timer or
    /// a socket's registration set up during its poll.
    polling: Cell<TaskId>,
    /// The fds that tasks wait for.
    reactor: RefCell<Reactor>,
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
            reactor: RefCell::new(Reactor::default()),
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

    /// The loop: poll what is ready, else wait for a socket or a timer, until
    /// no task is left. An empty ready queue never ends the loop on its own.
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

    /// Nothing is ready: wait in `poll(2)` until a registered fd is ready or
    /// the earliest timer is due.
    ///
    /// A wake from another thread does not end the wait: `poll(2)` waits for
    /// nothing but fds and time. So with no timer pending and no socket
    /// waited for, this scheduler cannot wait for such a wake, and reports
    /// the tasks stuck instead.
    fn idle(&self) {
        let deadline = self.shared.timers.borrow().next_deadline();
        if deadline.is_none() && self.shared.reactor.borrow().is_empty() {
            panic!(
                "run: {} task(s) wait, but none is ready, no timer is pending \
                 and no socket is waited for: nothing can wake them on this \
                 thread, and this scheduler does not wait for wakes from other \
                 threads (exp6-combined does)",
                self.tasks.len()
            );
        }
        self.wait_for_io(deadline);
    }

    /// Calls `poll(2)` with `deadline` as the timeout (none: wait for an fd),
    /// then wakes the tasks whose fds are ready.
    fn wait_for_io(&self, deadline: Option<Instant>) {
        // Release the borrow before waking: a waker may run any code.
        let woken = self.shared.reactor.borrow_mut().poll(deadline);
        for waker in woken {
            waker.wake();
        }
    }
}

impl Drop for Scheduler {
    /// Drops the tasks while their futures can still reach the timers and the
    /// reactor to deregister, then leaves [`CURRENT`] empty for the next
    /// `run`. This also runs when a task's panic unwinds out of `run`.
    fn drop(&mut self) {
        self.tasks.clear();
        CURRENT.with_borrow_mut(|current| *current = None);
    }
}
