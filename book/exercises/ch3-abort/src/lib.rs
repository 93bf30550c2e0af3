//! Chapter 3 exercise: stopping a spawned task.
//!
//! `spawn_abortable` spawns the future inside a wrapper that shares a flag
//! with an `AbortHandle`. `abort` sets the flag and wakes the task; the
//! wrapper, polled, sees the flag and finishes with `None`, dropping the future.
//! Write `AbortHandle::abort` and `Abortable::poll`: the two `todo!()`s below.

// Until the `todo!()`s are written, arguments, fields and imports go unused.
#![allow(unused_variables, unused_mut, unused_imports, dead_code)]

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
        todo!("set the flag, and wake the task if it has been polled")
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
        todo!("Ready(None) once aborted; else keep the waker and poll the future")
    }
}
