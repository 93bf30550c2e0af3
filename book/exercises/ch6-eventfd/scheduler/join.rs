//! Spawning: [`spawn`] adds a task while `run` runs, and the [`JoinHandle`]
//! it returns carries the task's output back.

use std::cell::RefCell;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::with_current;

/// Starts `fut` as a new task of the running scheduler, polled from the loop's
/// next pass on, and returns a handle to await its output.
///
/// The task runs to completion whether or not the handle is awaited:
/// dropping the handle detaches the task, and [`run`](crate::run) still
/// waits for it.
///
/// # Panics
///
/// When called outside `run`: there is no scheduler to add the task to.
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let state = Rc::new(RefCell::new(JoinState::Running(None)));
    let task = {
        let state = state.clone();
        crate::task(async move {
            let output = fut.await;
            let waiter = state.replace(JoinState::Finished(output));
            if let JoinState::Running(Some(waiter)) = waiter {
                waiter.wake();
            }
        })
    };
    with_current("spawn", |shared| shared.spawned.borrow_mut().push(task));
    JoinHandle { state }
}

/// Awaits the output of a task started with [`spawn`].
///
/// Awaiting it after the task has finished returns the output at once.
/// Dropping it lets the task run on, detached; its output is then dropped.
pub struct JoinHandle<T> {
    state: Rc<RefCell<JoinState<T>>>,
}

/// What a [`JoinHandle`] and its task share.
enum JoinState<T> {
    /// The task runs; the waker is that of whoever awaits the handle.
    Running(Option<Waker>),
    /// The task finished; its output waits to be taken.
    Finished(T),
    /// The handle returned the output.
    Joined,
}

impl<T> Future for JoinHandle<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.state.borrow_mut();
        match &mut *state {
            JoinState::Running(Some(waiter)) => waiter.clone_from(cx.waker()),
            JoinState::Running(waiter) => *waiter = Some(cx.waker().clone()),
            JoinState::Finished(_) => {
                let JoinState::Finished(output) = mem::replace(&mut *state, JoinState::Joined)
                else {
                    unreachable!("matched Finished above")
                };
                return Poll::Ready(output);
            }
            JoinState::Joined => panic!("a JoinHandle was polled after it returned the output"),
        }
        Poll::Pending
    }
}
