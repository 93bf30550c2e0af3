//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, so the queue it pushes to is behind a `Mutex`. In this experiment
//! every wake comes from the scheduler's own thread, and the lock is never
//! contended; in production we'd skip it for those wakes (the performance
//! chapter does).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use crate::TaskId;
use crate::trace::trace;

/// The ids of tasks that were woken and not yet polled.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
}

impl ReadyQueue {
    /// Queues a woken task.
    fn push(&self, id: TaskId) {
        self.ids.lock().unwrap().push_back(id);
    }

    /// Moves every queued id, in the order they were woken, to the end of
    /// `pass`: one lock per pass, not one per task.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        pass.append(&mut self.ids.lock().unwrap());
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
