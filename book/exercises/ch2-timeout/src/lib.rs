//! Chapter 2 exercise: `timeout(duration, future)`.
//!
//! Polls `future` and a `sleep(duration)` together, with the same waker, and
//! returns whichever finishes first: the output, or `Err(Elapsed)`.
//! Write `timeout`: the `todo!()` below.

// Until the `todo!()` is written, the arguments and imports go unused.
#![allow(unused_variables, unused_imports)]

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
    todo!("poll future and sleep(duration) together; the first one ready decides")
}
