//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! Wakes on the scheduler's own thread (a yield, a timer) still skip the lock,
//! and queue their task in the scheduler's [`Shared`](crate::Shared) state,
//! which only its thread can reach. The queue of the other wakes is behind a
//! `Mutex`, and comes with a `Condvar` that the scheduler blocks on when no
//! task is ready.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Wake;
use std::thread;
use std::time::{Duration, Instant};

use crate::trace::trace;
use crate::{TaskId, try_with_current};

/// How long the scheduler watches the queue before it blocks, while a pool
/// job is in flight: a few times what it costs a thread to sleep on a futex
/// and be woken (5-10 µs on the virtual machine of the performance chapter).
const SPIN: Duration = Duration::from_micros(50);

/// The ids of tasks woken on another thread than their scheduler's, and not
/// yet polled.
#[derive(Default)]
pub(crate) struct ReadyQueue {
    ids: Mutex<VecDeque<TaskId>>,
    /// Whether `ids` may hold an id: a pass reads this first, and takes the
    /// lock only if it is set, which it seldom is.
    pending: AtomicBool,
    /// Notified when a task is queued or a pool job finishes: what a
    /// scheduler blocked in [`wait`](Self::wait) waits for.
    changed: Condvar,
    /// Whether the scheduler is blocked in [`wait`](Self::wait) and nobody
    /// has notified it yet. A notify is a system call, so only the first
    /// push or [`notify`](Self::notify) after it starts waiting makes one,
    /// and none is made while it runs tasks. Written under the lock of `ids`;
    /// `notify` also reads it without the lock (see there), hence `SeqCst`.
    waiting: AtomicBool,
}

impl ReadyQueue {
    /// Queues a task woken on another thread, and wakes the scheduler if it
    /// is blocked waiting.
    fn push(&self, id: TaskId) {
        let mut ids = self.ids.lock().unwrap();
        ids.push_back(id);
        self.pending.store(true, Ordering::Release);
        let waiting = self.waiting.swap(false, Ordering::SeqCst);
        drop(ids);
        if waiting {
            self.changed.notify_one();
        }
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

    /// Blocks until a task is queued or `deadline` passes, and returns `true`;
    /// with no deadline, returns `false` instead once the queue is empty and
    /// `jobs_in_flight()` is `false`: nothing is left that could wake a task.
    ///
    /// Every check runs under the queue's lock, and [`wait`](Condvar::wait)
    /// lets go of it only as it starts blocking. A worker pushes under that
    /// lock, so a push cannot land between a check and the wait; nor can the
    /// count of jobs in flight drop there unseen (see [`notify`](Self::notify)):
    /// no wake-up is lost.
    pub(crate) fn wait(
        &self,
        deadline: Option<Instant>,
        jobs_in_flight: impl Fn() -> bool,
    ) -> bool {
        let mut ids = self.ids.lock().unwrap();
        let can_wake = loop {
            if !ids.is_empty() {
                break true;
            }
            // Raised only now that the scheduler may block (a push cannot
            // come between the look above and the wait: it needs the lock),
            // before it reads the count of jobs in flight; and again after
            // every wake-up, since the push or notify that woke it lowered it.
            self.waiting.store(true, Ordering::SeqCst);
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
        self.waiting.store(false, Ordering::SeqCst);
        can_wake
    }

    /// Wakes the scheduler, if it is blocked in [`wait`](Self::wait), to check
    /// again: called after something it checks changed outside the lock.
    pub(crate) fn notify(&self) {
        // A worker changes what the scheduler checks (it lowers the count of
        // jobs in flight), then reads `waiting`; the scheduler sets `waiting`,
        // then checks. With `SeqCst` on both sides, at least one of them sees
        // the other's write: if `waiting` is still false here, the scheduler
        // will check after the change. So the common case (the scheduler
        // busy, or already woken by this job's own wake) costs no lock.
        if !self.waiting.load(Ordering::SeqCst) {
            return;
        }
        // Taking the lock makes this wait for a scheduler between its check
        // and its wait, so the notify reaches it once it waits.
        let _ids = self.ids.lock().unwrap();
        if self.waiting.swap(false, Ordering::SeqCst) {
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
