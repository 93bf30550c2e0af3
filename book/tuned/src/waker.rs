//! Wakers: how a task asks to be polled again.
//!
//! A [`Waker`](std::task::Waker) may be cloned, kept and called from any
//! thread, and now it is: a pool worker wakes the task whose job it finished.
//! Most wakes still come from the scheduler's own thread (a yield, a timer,
//! a socket found ready): those skip the lock, and queue their task in the
//! scheduler's [`Shared`](crate::Shared) state, which only its thread can
//! reach. The other wakes' queue is behind a `Mutex`, and a push there ends the
//! scheduler's wait in `poll(2)` through the self-wake, if it is parked there.
//! Everything the scheduler looks at before it parks is under that one lock,
//! and a wake needs the lock too: no wake can slip in between the look and
//! the park.

use std::collections::VecDeque;
use std::mem;
use std::sync::{Arc, Weak};
use std::task::Wake;
use std::time::{Duration, Instant};

use crate::self_wake::SelfWake;
use crate::sync::{AtomicBool, Mutex, MutexGuard, Ordering, thread};
use crate::trace::trace;
use crate::{TaskId, try_with_current};

/// How long the scheduler watches the queue before it parks, while a pool
/// job is in flight: a few times what it costs a thread to sleep in the
/// kernel and be woken again. Also how early it asks the kernel to wake it
/// for a timer, since the kernel wakes a sleeper about that late.
pub(crate) const SPIN: Duration = Duration::from_micros(50);

/// The ids of tasks that were woken and not yet polled, and what the
/// scheduler needs to know to wait for more.
pub(crate) struct ReadyQueue {
    state: Mutex<ReadyState>,
    /// Whether `ids` may hold an id: a pass reads this first, and takes the
    /// lock only if it is set, which it seldom is.
    pending: AtomicBool,
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
            state: Mutex::new(ReadyState::default()),
            pending: AtomicBool::new(false),
            self_wake: Arc::downgrade(self_wake),
        }
    }

    /// Queues a woken task, and ends the scheduler's `poll(2)` if it is
    /// parked there.
    fn push(&self, id: TaskId) {
        let mut state = self.state.lock().unwrap();
        state.ids.push_back(id);
        self.pending.store(true, Ordering::Release);
        self.changed(state);
    }

    /// Moves every queued id to the end of `pass`: one lock per pass, not
    /// one per task, and none when nothing is queued. A push that this just
    /// misses is taken by the next pass.
    pub(crate) fn take_all(&self, pass: &mut VecDeque<TaskId>) {
        if self.pending.load(Ordering::Acquire) {
            let mut state = self.state.lock().unwrap();
            self.pending.store(false, Ordering::Relaxed);
            pass.extend(state.ids.drain(..));
        }
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

    /// While a pool job is in flight, or the earliest timer is due within
    /// [`SPIN`], watches the queue for up to [`SPIN`] (and not past
    /// `deadline`), giving the CPU away at each turn. Returns `true` as soon
    /// as a task is queued or `deadline` has passed, `false` if neither came.
    ///
    /// A short job finishes within microseconds. If the scheduler parked
    /// meanwhile, the worker's wake would pay for a write to the self-wake,
    /// and the scheduler for falling asleep in `poll(2)` and being scheduled
    /// again: more than the job itself. Spinning keeps both threads awake
    /// for the round trip. For a timer, the scheduler has slept in `poll(2)`
    /// until [`SPIN`] before its deadline, and spins the rest of the way:
    /// the kernel would have woken it tens of microseconds late.
    pub(crate) fn spin(&self, deadline: Option<Instant>) -> bool {
        let until = Instant::now() + SPIN;
        let timer_due_soon = deadline.is_some_and(|deadline| deadline <= until);
        if !timer_due_soon && self.state.lock().unwrap().jobs_in_flight == 0 {
            return false;
        }
        let until = deadline.map_or(until, |deadline| deadline.min(until));
        loop {
            // The flag, not the lock: a pushing worker never waits for us.
            if self.pending.load(Ordering::Acquire) {
                return true;
            }
            // The model check looks once: it cannot follow the clock.
            if cfg!(loom) {
                return false;
            }
            let now = Instant::now();
            if now >= until {
                return deadline.is_some_and(|deadline| now >= deadline);
            }
            thread::yield_now();
        }
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

#[cfg(all(test, not(loom)))]
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

/// The model check: every interleaving of a scheduler's turn with a worker
/// that finishes the job its task awaits, as loom can make them, under the
/// memory model's rules for the atomics and locks of this file.
///
/// The queue reaches the self-wake through std's `Weak` (loom 0.7 has no
/// `Weak` of its own), which the model keeps upgradable throughout, as a
/// running scheduler does: that a late wake writes nothing once the
/// socketpair is gone rests on `Arc` alone, not on this protocol.
#[cfg(all(test, loom))]
mod model {
    use super::*;

    /// Where the scheduler's turn ended.
    #[derive(Debug, PartialEq, Eq)]
    enum Turn {
        /// The poll saw the job's output.
        Done,
        /// A wake was seen: the task will be polled again.
        Woken,
        /// The scheduler parked, to wait in `poll(2)`.
        Parked,
    }

    /// One turn of the scheduler for a task that awaits a job: poll the
    /// task (it is done if the job's output is there), then take the woken
    /// tasks, spin, park, as `Scheduler::run` and `idle` do. With
    /// `clear_before_poll` false, the task is marked unqueued after its poll
    /// instead of before: the broken order.
    fn scheduler_turn(
        ready: &ReadyQueue,
        waker: &TaskWaker,
        output: &Mutex<Option<u32>>,
        clear_before_poll: bool,
    ) -> Turn {
        if clear_before_poll {
            waker.clear_queued();
        }
        let done = output.lock().unwrap().is_some();
        if !clear_before_poll {
            waker.clear_queued();
        }
        if done {
            return Turn::Done;
        }
        let mut pass = VecDeque::new();
        ready.take_all(&mut pass);
        if !pass.is_empty() || ready.spin(None) {
            return Turn::Woken;
        }
        match ready.park() {
            None => Turn::Woken,
            Some(_) => Turn::Parked,
        }
    }

    /// Checks that no wake-up is lost: a scheduler that parked finds the
    /// task queued and a byte on the self-wake that ends its `poll(2)`.
    fn check(clear_before_poll: bool) {
        loom::model(move || {
            let self_wake = Arc::new(SelfWake::new().unwrap());
            let ready = Arc::new(ReadyQueue::new(&self_wake));
            let waker = Arc::new(TaskWaker::new(0, ready.clone()));
            // The task was woken to be polled; its job is in flight.
            waker.queued.store(true, Ordering::Relaxed);
            ready.job_queued();
            let output = Arc::new(Mutex::new(None));
            let worker = {
                let (ready, waker, output) = (ready.clone(), waker.clone(), output.clone());
                thread::spawn(move || {
                    *output.lock().unwrap() = Some(42);
                    waker.wake_by_ref();
                    ready.job_finished();
                })
            };
            let turn = scheduler_turn(&ready, &waker, &output, clear_before_poll);
            worker.join().unwrap();
            if turn == Turn::Parked {
                let mut pass = VecDeque::new();
                ready.take_all(&mut pass);
                let byte = self_wake.drain() > 0;
                assert!(
                    pass == [0] && byte,
                    "lost wake-up: parked with the task queued: {}, a byte written: {byte}",
                    pass == [0]
                );
            }
        });
    }

    #[test]
    fn model_no_wake_up_is_lost() {
        check(true);
    }

    #[test]
    #[should_panic(expected = "lost wake-up")]
    fn model_catches_a_task_marked_unqueued_after_its_poll() {
        check(false);
    }
}
