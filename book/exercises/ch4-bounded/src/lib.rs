//! Chapter 4 exercise: a pool with a bounded queue.
//!
//! Write [`BoundedBlocking::run`]: like `spawn_blocking`, but with at most
//! `limit` jobs in flight; the next caller waits, without blocking the
//! scheduler, until one of them is done.

use std::cell::RefCell;
use std::rc::Rc;
use std::task::Waker;

/// Hands closures to the thread pool, at most `limit` of them in flight at
/// once. Cloning it shares the limit; it lives on the scheduler's thread.
#[derive(Clone)]
pub struct BoundedBlocking {
    state: Rc<RefCell<State>>,
}

/// What the clones of a [`BoundedBlocking`] share.
#[allow(dead_code)] // Until your code reads the fields.
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
        // Your code: wait (return Pending, leaving a waker) while `limit` jobs
        // are in flight, then run `f` with `spawn_blocking`, and make room
        // again once it is done.
        let _ = (&self.state, f);
        todo!()
    }
}
