//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! Wakes on the scheduler's own thread (a yield, a timer, a socket found
//! ready) still skip the lock, and queue their task in the scheduler's
//! [`Shared`](crate::Shared) state, which only its thread can reach. The
//! queue of the other wakes is behind a `Mutex`, and a push there ends the
//! scheduler's wait in `poll(2)` through the self-wake, if it is parked there.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Wake;
use std::thread;
use std::time::{Duration, Instant};

use crate::self_wake::SelfWake;
use crate::trace::trace;
use crate::{TaskId, try_with_current};

/// How long the scheduler watches the queue before it blocks, while a pool
/// job is in flight: a few times what it costs a thread to sleep on a futex
/// and be woken (5-10 µs on the virtual machine of the performance chapter).
const SPIN: Duration = Duration::from_micros(50);

/// The ids of tasks woken on another thread than their scheduler's, and not
/// yet polled.
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// Whether `ids` may hold an id: a pass reads this first, and takes the
    /// lock only if it is set, which it seldom is.
    pending: AtomicBool,
    /// What a push writes to when the scheduler is parked in `poll(2)`.
    self_wake: Arc<SelfWake>,
}

impl ReadyQueue {
    /// An empty queue, whose pushes wake the scheduler through `self_wake`.
    pub(crate) fn new(self_wake: Arc<SelfWake>) -> Self {
        ReadyQueue {
            ids: Mutex::default(),
            pending: AtomicBool::new(false),
            self_wake,
        }
    }

    /// Queues a task woken on another thread, and ends the scheduler's
    /// `poll(2)` if it is parked there: pushed first, so that the scheduler,
    /// once back, finds it.
    fn push(&self, id: TaskId) {
        let mut ids = self.ids.lock().unwrap();
        ids.push_back(id);
        self.pending.store(true, Ordering::Release);
        drop(ids);
        self.self_wake.wake();
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

    /// Watches the queue for up to [`SPIN`] (and not past `deadline`), giving
    /// the CPU away at each turn, and returns `true` as soon as a task is
    /// queued, `false` if none was.
    ///
    /// A short job finishes within microseconds. If the scheduler blocked
    /// meanwhile, the worker's wake would pay for a `futex` wake-up, and the
    /// scheduler for falling asleep and being scheduled again: more than the
    /// job itself. Spinning keeps both threads awake for the round trip.
    pub(crate) fn spin(&self, deadline: Option<Instant>) -> bool {
        let until = Instant::now() + SPIN;
        let until = deadline.map_or(until, |deadline| deadline.min(until));
        while Instant::now() < until {
            // The flag, not the lock: a pushing worker never waits for us.
            if self.pending.load(Ordering::Acquire) {
                return true;
            }
            thread::yield_now();
        }
        false
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
