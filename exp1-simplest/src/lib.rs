//! Experiment 1: the simplest scheduler.
//!
//! A queue of futures, polled one after another, round-robin, until every one
//! of them has finished. A future that is not done returns [`Poll::Pending`]
//! and goes to the back of the queue. Nothing wakes anything: every pending
//! task is simply polled again in the next round, so the waker we hand out is
//! [`Waker::noop`].
//!
//! This is the Python experiment's `while tasks: coro.send(None)` loop with
//! Rust's contract: `send(None)` is [`Future::poll`], `StopIteration` is
//! [`Poll::Ready`], and a `yield` to the scheduler is [`yield_now`].

#![forbid(unsafe_code)]

mod trace;

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use trace::trace;

pub use trace::trace_start;

/// A task: a future with no output, boxed and pinned so that tasks of
/// different types fit in one queue and can be polled in place.
pub type Task = Pin<Box<dyn Future<Output = ()>>>;

/// Boxes a future into a [`Task`] for [`run`].
pub fn task(fut: impl Future<Output = ()> + 'static) -> Task {
    Box::pin(fut)
}

/// Each task is known by its position in the list given to [`run`].
type TaskId = usize;

/// Runs every task to completion on the current thread, polling them in
/// turn, and returns when the last one is done.
///
/// A panic in a task unwinds out of `run`, dropping the other tasks.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use exp1_simplest::{run, task, yield_now};
///
/// let log = Rc::new(RefCell::new(Vec::new()));
/// let worker = |name: &'static str| {
///     let log = log.clone();
///     task(async move {
///         for step in 0..2 {
///             log.borrow_mut().push(format!("{name}{step}"));
///             yield_now().await;
///         }
///     })
/// };
/// run(vec![worker("a"), worker("b")]);
/// assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1"]);
/// ```
pub fn run(tasks: Vec<Task>) {
    let _thread = trace::name_thread(trace::Name::Scheduler);
    let mut queue: VecDeque<(TaskId, Task)> = tasks.into_iter().enumerate().collect();
    trace!("run: {} tasks", queue.len());
    let mut cx = Context::from_waker(Waker::noop());
    while let Some((id, mut task)) = queue.pop_front() {
        // The trace times each poll; the clock is read only when it is on.
        let started = trace::enabled().then(Instant::now);
        let poll = task.as_mut().poll(&mut cx);
        if let Some(started) = started {
            trace!("polled task {id}: {poll:?} ({:?})", started.elapsed());
        }
        if poll.is_pending() {
            queue.push_back((id, task));
        }
    }
}

/// Gives the other tasks a turn: the first poll returns [`Poll::Pending`],
/// the next returns [`Poll::Ready`].
///
/// Before returning `Pending` it wakes its own task: "poll me again". Here
/// every task is polled again anyway; later schedulers poll only tasks that
/// were woken.
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
