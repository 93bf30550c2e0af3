//! Chapter 4 exercise: a pool with a bounded queue.
//!
//! Write [`BoundedBlocking::run`]: like `spawn_blocking`, but with at most
//! `limit` jobs in flight; the next caller waits, without blocking the
//! scheduler, until one of them is done.

use std::cell::RefCell;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use exp4_threadpool::spawn_blocking;

/// Hands closures to the thread pool, at most `limit` of them in flight at
/// once. Cloning it shares the limit; it lives on the scheduler's thread.
#[derive(Clone)]
pub struct BoundedBlocking {
    state: Rc<RefCell<State>>,
}

/// What the clones of a [`BoundedBlocking`] share.
struct State {
    /// How many jobs may be in flight at once.
    limit: usize,
    /// How many are.
    in_flight: usize,
    /// The tasks waiting for a job to finish.
    waiters: Vec<Waker>,
}

impl BoundedBlocking {
    /// A bound of `limit` jobs in flight; `limit` must be at least 1.
    pub fn new(limit: usize) -> Self {
        assert!(limit >= 1, "a limit of 0 would let no job run");
        let state = State {
            limit,
            in_flight: 0,
            waiters: Vec::new(),
        };
        BoundedBlocking {
            state: Rc::new(RefCell::new(state)),
        }
    }

    /// Runs `f` on the pool once fewer than `limit` jobs are in flight,
    /// waiting for that first, and returns its output.
    pub async fn run<T, F>(&self, f: F) -> T
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        // Wait for room: a task that finds none leaves its waker, as a
        // `spawn_blocking` future does with the pool, and returns Pending.
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.in_flight < state.limit {
                state.in_flight += 1;
                Poll::Ready(())
            } else {
                state.waiters.push(cx.waker().clone());
                Poll::Pending
            }
        })
        .await;
        // Gives the room back when the job is done, or if this future is
        // dropped while it waits for the job, or the job panics.
        let _slot = Slot(self.state.clone());
        spawn_blocking(f).await
    }
}

/// A job's room in flight, given back when dropped.
struct Slot(Rc<RefCell<State>>);

impl Drop for Slot {
    fn drop(&mut self) {
        let waiters = {
            let mut state = self.0.borrow_mut();
            state.in_flight -= 1;
            std::mem::take(&mut state.waiters)
        };
        // Wake them all: each looks again, one takes the room and the others
        // wait again. Waking just one could wake a task that has been dropped
        // meanwhile, and then nobody would take the room.
        for waiter in waiters {
            waiter.wake();
        }
    }
}
