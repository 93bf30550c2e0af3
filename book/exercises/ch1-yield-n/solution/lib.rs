//! Chapter 1 exercise: `yield_n(n)`, which gives the other tasks `n` turns.
//!
//! Experiment 1's `yield_now` with its `yielded: bool` turned into a count:
//! the first `n` polls wake the task and return `Pending`, the next is `Ready`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Returns `Pending` on its first `n` polls, waking its task each time as
/// `yield_now` does, and `Ready` on the next.
pub fn yield_n(n: u32) -> YieldN {
    YieldN { left: n }
}

/// The future behind [`yield_n`].
pub struct YieldN {
    /// How many more times it returns `Pending`.
    left: u32,
}

impl Future for YieldN {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.left == 0 {
            return Poll::Ready(());
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
