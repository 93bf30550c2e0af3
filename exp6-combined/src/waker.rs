//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! So the queue it pushes to is behind a `Mutex`, and a push ends the
//! scheduler's wait in `poll(2)` through the self-wake, if it is parked there.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use crate::TaskId;
use crate::self_wake::SelfWake;
use crate::trace::trace;

/// The ids of tasks that were woken and not yet polled.
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// What a push writes to when the scheduler is parked in `poll(2)`.
    self_wake: Arc<SelfWake>,
}

impl ReadyQueue {
    /// An empty queue, whose pushes wake the scheduler through `self_wake`.
    pub(crate) fn new(self_wake: Arc<SelfWake>) -> Self {
        ReadyQueue {
            ids: Mutex::default(),
            self_wake,
        }
    }

    /// Queues a woken task, and ends the scheduler's `poll(2)` if it is
    /// parked there: pushed first, so that the scheduler, once back, finds it.
    fn push(&self, id: TaskId) {
        self.ids.lock().unwrap().push_back(id);
        self.self_wake.wake();
    }

    /// Moves every queued id into `pass` (which must be empty): one lock per
    /// pass, not one per task.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        debug_assert!(pass.is_empty());
        mem::swap(&mut *self.ids.lock().unwrap(), pass);
    }

    /// Whether no task is queued: the scheduler's last look before it parks.
    pub(crate) fn is_empty(&self) -> bool {
        self.ids.lock().unwrap().is_empty()
    }

    /// Ends the scheduler's `poll(2)`, if it is parked there, for it to check
    /// again: called after something it checks changed outside the queue.
    pub(crate) fn notify(&self) {
        // Taking the lock orders this after the scheduler's last look at the
        // queue, or before it, as a push would be: see `SelfWake::wake`.
        drop(self.ids.lock().unwrap());
        self.self_wake.wake();
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
