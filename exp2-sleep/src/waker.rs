//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, so the queue it pushes to is behind a `Mutex`. Yet in this
//! experiment every wake comes from the scheduler's own thread, and in the
//! later ones most still do (a yield, a timer, a socket found ready): those
//! skip the lock, and queue their task in the scheduler's
//! [`Shared`](crate::Shared) state, which only its thread can reach.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;

use crate::trace::trace;
use crate::{TaskId, try_with_current};

/// The ids of tasks woken on another thread than their scheduler's, and not
/// yet polled.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// Whether `ids` may hold an id: a pass reads this first, and takes the
    /// lock only if it is set, which it seldom is.
    pending: AtomicBool,
}

impl ReadyQueue {
    /// Queues a task woken on another thread.
    fn push(&self, id: TaskId) {
        let mut ids = self.ids.lock().unwrap();
        ids.push_back(id);
        self.pending.store(true, Ordering::Release);
    }

    /// Moves every queued id to the end of `pass`: one lock per pass, not
    /// one per task, and none when nothing is queued. A push that this just
    /// misses is taken by the next pass.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        if self.pending.load(Ordering::Acquire) {
            let mut ids = self.ids.lock().unwrap();
            self.pending.store(false, Ordering::Relaxed);
            pass.extend(ids.drain(..));
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

    /// Queues the task with no lock if this thread runs the task's scheduler,
    /// and says whether it did. The test compares queues, not threads: a
    /// waker kept from an earlier `run` on this thread has a queue of its own,
    /// which nobody reads any more, and must not wake a task of this one.
    fn queue_here(&self) -> bool {
        let queued = try_with_current(|shared| {
            let here = Arc::ptr_eq(&shared.ready, &self.ready);
            if here {
                shared.woken_here.borrow_mut().push_back(self.id);
            }
            here
        });
        queued == Some(true)
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            trace!("woke task {}", self.id);
            if !self.queue_here() {
                self.ready.push(self.id);
            }
        }
    }
}
