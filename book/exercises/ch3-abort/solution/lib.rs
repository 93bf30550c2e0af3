//! Chapter 3 exercise: stopping a spawned task.
//!
//! `spawn_abortable` spawns the future inside a wrapper that shares a flag
//! with an `AbortHandle`. `abort` sets the flag and wakes the task; the
//! wrapper, polled, sees the flag and finishes with `None`, dropping the future.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use exp3_spawn::{JoinHandle, spawn};

/// Spawns `future` as [`spawn`] does, with a handle that can stop it. The
/// [`JoinHandle`] returns `Some(output)` if the future finished, `None` if
/// it was aborted first.
pub fn spawn_abortable<F>(future: F) -> (JoinHandle<Option<F::Output>>, AbortHandle)
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = Rc::new(RefCell::new(AbortState::default()));
    let join = spawn(Abortable {
        future: Box::pin(future),
        state: state.clone(),
    });
    (join, AbortHandle { state })
}

/// Stops a task started with [`spawn_abortable`].
pub struct AbortHandle {
    state: Rc<RefCell<AbortState>>,
}

/// What an [`AbortHandle`] and its task's wrapper share.
#[derive(Default)]
struct AbortState {
    /// Set by [`AbortHandle::abort`].
    aborted: bool,
    /// The waker the wrapper was last polled with: the task to wake on abort.
    waker: Option<Waker>,
}

impl AbortHandle {
    /// Stops the task: it is not polled again, its future is dropped, and its
    /// [`JoinHandle`] returns `None`. Does nothing if the task has finished.
    pub fn abort(&self) {
        let waker = {
            let mut state = self.state.borrow_mut();
            state.aborted = true;
            state.waker.take()
        };
        // A sleeping task would otherwise stay asleep until its timer fires.
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// The future [`spawn_abortable`] spawns: `future`, unless aborted.
struct Abortable<F> {
    future: Pin<Box<F>>,
    state: Rc<RefCell<AbortState>>,
}

impl<F: Future> Future for Abortable<F> {
    type Output = Option<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        {
            let mut state = self.state.borrow_mut();
            if state.aborted {
                return Poll::Ready(None);
            }
            state.waker = Some(cx.waker().clone());
        }
        self.future.as_mut().poll(cx).map(Some)
    }
}
