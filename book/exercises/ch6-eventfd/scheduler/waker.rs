//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! So the queue it pushes to is behind a `Mutex`, and a push there ends the
//! scheduler's wait in `poll(2)` through the self-wake, if it is parked there.
//! Everything the scheduler looks at before it parks is under that one lock,
//! and a wake needs the lock too: no wake can slip in between the look and
//! the park.

use std::collections::VecDeque;
use std::mem;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::task::Wake;

use crate::TaskId;
use crate::self_wake::SelfWake;
use crate::trace::trace;

/// The ids of tasks that were woken and not yet polled, and what the
/// scheduler needs to know to wait for more.
pub(crate) struct ReadyQueue {
    state: Mutex<ReadyState>,
    /// What a wake writes to when the scheduler is parked in `poll(2)`.
    /// The reactor owns it; the queue, which every waker holds, only
    /// reaches it, so that a waker kept past its `run` keeps no fd open.
    self_wake: Weak<SelfWake>,
}

/// What the lock of a [`ReadyQueue`] guards.
#[derive(Default)]
struct ReadyState {
    ids: VecDeque<TaskId>,
    /// Pool jobs queued and not finished: while any is, a task may still be
    /// woken from a worker.
    jobs_in_flight: usize,
    /// Whether the scheduler is parked in `poll(2)` and nobody has written
    /// the byte that ends it yet. A write is a system call, so only the
    /// first change after the scheduler parks makes one.
    parked: bool,
}

impl ReadyQueue {
    /// Lets go of the lock, then ends the scheduler's `poll(2)` if it is
    /// parked and nobody has woken it yet: something it looks at has
    /// changed. The decision is made under the lock; the write comes after,
    /// so that the scheduler, woken, does not find the lock still held.
    ///
    /// The socketpair closes as `run` returns, when the reactor lets go of
    /// it; from then on the upgrade fails, and a late wake writes nothing.
    /// A wake whose upgrade succeeds holds the socketpair open until its
    /// write is done, so a write never reaches an fd number that was closed
    /// meanwhile and given to another file. The `Arc`'s count decides
    /// between the two: an upgrade raises it from above zero, or fails.
    fn changed(&self, mut state: MutexGuard<'_, ReadyState>) {
        let parked = mem::take(&mut state.parked);
        drop(state);
        if parked && let Some(self_wake) = self.self_wake.upgrade() {
            self_wake.wake();
        }
    }

    /// An empty queue, whose pushes wake the scheduler through `self_wake`
    /// for as long as someone else owns it.
    pub(crate) fn new(self_wake: &Arc<SelfWake>) -> Self {
        ReadyQueue {
            state: Mutex::default(),
            self_wake: Arc::downgrade(self_wake),
        }
    }

    /// Queues a woken task, and ends the scheduler's `poll(2)` if it is
    /// parked there.
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

    /// Parks the scheduler before `poll(2)`, so that the next wake writes the
    /// byte that ends it, and returns how many pool jobs are in flight; or,
    /// if a task is queued already, parks nothing and returns `None`, for
    /// the scheduler to poll the task instead.
    ///
    /// The look at the queue and the park are one step under the lock, and
    /// a wake needs the lock too: it comes before, and the look sees its
    /// task, or after, and it finds `parked` up and writes the byte, or down
    /// because an earlier change of this park has written it already.
    pub(crate) fn park(&self) -> Option<usize> {
        let mut state = self.state.lock().unwrap();
        if !state.ids.is_empty() {
            return None;
        }
        state.parked = true;
        Some(state.jobs_in_flight)
    }

    /// The scheduler is back from `poll(2)`: wakes need no byte.
    pub(crate) fn unpark(&self) {
        self.state.lock().unwrap().parked = false;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wakes_write_only_when_parked_and_once_per_park() {
        let self_wake = Arc::new(SelfWake::new().unwrap());
        let ready = ReadyQueue::new(&self_wake);
        let mut pass = VecDeque::new();
        ready.push(0);
        assert_eq!(self_wake.drain(), 0, "a wake with the scheduler running");
        assert_eq!(ready.park(), None, "parked with a task queued");
        ready.take_all(&mut pass);
        assert_eq!(ready.park(), Some(0));
        for id in 0..1000 {
            ready.push(id);
        }
        assert_eq!(self_wake.drain(), 1, "1000 wakes during one park");
        ready.take_all(&mut pass);
        ready.park();
        ready.unpark();
        ready.push(0);
        assert_eq!(self_wake.drain(), 0, "a wake after the park ended");
    }
}
