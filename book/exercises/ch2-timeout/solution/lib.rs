//! Chapter 2 exercise: `timeout(duration, future)`.
//!
//! Polls `future` and a `sleep(duration)` together, with the same waker, and
//! returns whichever finishes first: the output, or `Err(Elapsed)`.

use std::future::{Future, poll_fn};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use exp2_sleep::sleep;

/// The error of a [`timeout`] whose duration passed first.
#[derive(Debug, PartialEq, Eq)]
pub struct Elapsed;

/// Runs `future` for at most `duration`: its output, or `Err(Elapsed)` if
/// the duration passes first. The future is polled first, so one that is
/// ready at once wins even a zero timeout. Either way the loser is dropped.
pub async fn timeout<F: Future>(duration: Duration, future: F) -> Result<F::Output, Elapsed> {
    let mut future = pin!(future);
    let mut timer = pin!(sleep(duration));
    // Both get this task's waker: whichever wakes it, the next poll asks both.
    poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Ok(output));
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(Elapsed));
        }
        Poll::Pending
    })
    .await
}
