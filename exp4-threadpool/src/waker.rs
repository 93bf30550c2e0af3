//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! So the queue it pushes to is behind a `Mutex`, and comes with a `Condvar`
//! that the scheduler blocks on when no task is ready.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Wake;
use std::time::Instant;

use crate::TaskId;
use crate::trace::trace;

/// The ids of tasks that were woken and not yet polled.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// Notified when a task is queued or a pool job finishes: what a
    /// scheduler blocked in [`wait`](Self::wait) waits for.
    changed: Condvar,
    /// Whether the scheduler is in [`wait`](Self::wait). A notify is a system
    /// call, so a push makes one only then; most pushes come from the
    /// scheduler's own thread, which is not waiting. Read and written only
    /// under the lock of `ids` (an atomic only because it sits outside it).
    waiting: AtomicBool,
}

impl ReadyQueue {
    /// Queues a woken task, and wakes the scheduler if it is blocked waiting.
    fn push(&self, id: TaskId) {
        let mut ids = self.ids.lock().unwrap();
        ids.push_back(id);
        let waiting = self.waiting.load(Ordering::Relaxed);
        drop(ids);
        if waiting {
            self.changed.notify_one();
        }
    }

    /// Moves every queued id into `pass` (which must be empty): one lock per
    /// pass, not one per task.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        debug_assert!(pass.is_empty());
        mem::swap(&mut *self.ids.lock().unwrap(), pass);
    }

    /// Blocks until a task is queued or `deadline` passes, and returns `true`;
    /// with no deadline, returns `false` instead once the queue is empty and
    /// `jobs_in_flight()` is `false`: nothing is left that could wake a task.
    ///
    /// Every check runs under the queue's lock, and [`wait`](Condvar::wait)
    /// lets go of it only as it starts blocking. A worker pushes under that
    /// lock, and takes it to [`notify`](Self::notify) after lowering its count
    /// of jobs in flight, so neither can land between a check and the wait:
    /// no wake-up is lost.
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        jobs_in_flight: impl Fn() -> bool,
    ) -> bool {
        let mut ids = self.ids.lock().unwrap();
        self.waiting.store(true, Ordering::Relaxed);
        let can_wake = loop {
            if !ids.is_empty() {
                break true;
            }
            match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break true; // a timer is due
                    }
                    ids = self.changed.wait_timeout(ids, deadline - now).unwrap().0;
                }
                None if jobs_in_flight() => ids = self.changed.wait(ids).unwrap(),
                None => break false,
            }
        };
        self.waiting.store(false, Ordering::Relaxed);
        can_wake
    }

    /// Wakes the scheduler, if it is blocked in [`wait`](Self::wait), to check
    /// again: called after something it checks changed outside the lock.
    pub(crate) fn notify(&self) {
        // Taking the lock makes this wait for a scheduler between its check
        // and its wait, so the notify reaches it once it waits; and, as in
        // `push`, a scheduler that is not waiting needs no system call.
        let _ids = self.ids.lock().unwrap();
        if self.waiting.load(Ordering::Relaxed) {
            self.changed.notify_one();
        }
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
