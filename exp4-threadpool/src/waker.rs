//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! So the queue it pushes to is behind a `Mutex`, and comes with a `Condvar`
//! that the scheduler blocks on when no task is ready. Everything the
//! scheduler looks at before it blocks is under that one lock, and a wake
//! needs the lock too: no wake can slip in between the look and the wait.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::Wake;
use std::time::{Duration, Instant};

use crate::TaskId;
use crate::trace::trace;

/// How long the scheduler waits for the wake of a waker kept outside it
/// before it counts the wakers again. Such a waker may also be dropped
/// unwoken, which tells nobody: without a second look, the report that
/// nothing can wake the tasks would never come.
const RECOUNT: Duration = Duration::from_secs(1);

/// The ids of tasks that were woken and not yet polled, and what the
/// scheduler needs to know to wait for more.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    state: Mutex<ReadyState>,
    /// Notified by the first change (a task queued, a pool job finished)
    /// after the scheduler starts waiting.
    wake_up: Condvar,
}

/// What the lock of a [`ReadyQueue`] guards.
#[derive(Default)]
struct ReadyState {
    ids: VecDeque<TaskId>,
    /// Pool jobs queued and not finished: while any is, a task may still be
    /// woken from a worker.
    jobs_in_flight: usize,
    /// Whether the scheduler is blocked in [`ReadyQueue::wait`] and nobody
    /// has notified it yet. A notify is a system call, so only the first
    /// change after the scheduler starts waiting makes one.
    waiting: bool,
}

impl ReadyQueue {
    /// Lets go of the lock, then wakes the scheduler if it waits and nobody
    /// has woken it yet: something it looks at has changed. The decision is
    /// made under the lock; the notify comes after, so that the scheduler,
    /// woken, does not find the lock still held.
    fn changed(&self, mut state: MutexGuard<'_, ReadyState>) {
        let waiting = mem::take(&mut state.waiting);
        drop(state);
        if waiting {
            self.wake_up.notify_one();
        }
    }

    /// Queues a woken task, and wakes the scheduler if it is blocked waiting.
    fn push(&self, id: TaskId) {
        let mut state = self.state.lock().unwrap();
        state.ids.push_back(id);
        self.changed(state);
    }

    /// Moves every queued id, in the order they were woken, to the end of
    /// `pass`: one lock per pass, not one per task.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        pass.append(&mut self.state.lock().unwrap().ids);
    }

    /// Counts a pool job as in flight.
    pub(crate) fn job_queued(&self) {
        self.state.lock().unwrap().jobs_in_flight += 1;
    }

    /// Counts a pool job as done. Called after the job has woken its task,
    /// so that a scheduler that sees no job in flight sees the task queued.
    pub(crate) fn job_finished(&self) {
        let mut state = self.state.lock().unwrap();
        state.jobs_in_flight -= 1;
        self.changed(state);
    }

    /// Blocks until a task is queued or `deadline` passes, and returns `true`;
    /// with no deadline, returns `false` instead once the queue is empty, no
    /// pool job is in flight and no waker is `kept_elsewhere`: nothing is
    /// left that could wake a task. A waker kept elsewhere is waited for
    /// [`RECOUNT`] at most, then `true` sends the scheduler to count again.
    ///
    /// Every look happens under the lock, and [`Condvar::wait`] lets go of
    /// it only as it starts blocking. A wake or a finished job needs the lock
    /// too, so it comes before the look or after the wait has begun, and
    /// then it finds `waiting` up and notifies, or down because an earlier
    /// change of this wait has notified already: no wake-up is lost.
    pub(crate) fn wait(&self, mut deadline: Option<Instant>, kept_elsewhere: bool) -> bool {
        let mut state = self.state.lock().unwrap();
        let can_wake = loop {
            if !state.ids.is_empty() {
                break true;
            }
            let timeout = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break true; // a timer is due
                    }
                    Some(deadline - now)
                }
                None if state.jobs_in_flight > 0 => {
                    trace!("idle: {} pool job(s) in flight", state.jobs_in_flight);
                    None
                }
                None if kept_elsewhere => {
                    trace!("idle: a waker is held elsewhere: counting again in {RECOUNT:?}");
                    deadline = Some(Instant::now() + RECOUNT);
                    continue;
                }
                None => break false,
            };
            // Raised before every wait: the change that ended the last one
            // took it down.
            state.waiting = true;
            state = match timeout {
                Some(timeout) => {
                    trace!("idle: condvar wait for {timeout:?}");
                    self.wake_up.wait_timeout(state, timeout).unwrap().0
                }
                None => {
                    trace!("idle: condvar wait, no timeout");
                    self.wake_up.wait(state).unwrap()
                }
            };
            trace!("idle: awake");
        };
        state.waiting = false;
        can_wake
    }
}

/// The waker of one task: waking it queues the task's id.
pub(crate) struct TaskWaker {
    id: TaskId,
    /// Whether the id is on the ready queue already. Waking a queued task
    /// again changes nothing, so a task is queued, and polled, once per pass
    /// however many times it was woken.
    queued: AtomicBool,
    ready: Arc<ReadyQueue>,
}

impl TaskWaker {
    pub(crate) fn new(id: TaskId, ready: Arc<ReadyQueue>) -> Self {
        TaskWaker {
            id,
            queued: AtomicBool::new(false),
            ready,
        }
    }

    /// Called just before the task is polled: from here on, a wake must queue
    /// it again.
    pub(crate) fn clear_queued(&self) {
        self.queued.store(false, Ordering::Release);
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            trace!("woke task {}", self.id);
            self.ready.push(self.id);
        }
    }
}
