//! Chapter 1 exercise: `join(a, b)`, one future that runs two.
//!
//! Each poll of the join polls whichever of `a` and `b` is not done yet, and
//! keeps an output as soon as it is ready; the join is ready when both are.
//! Write `Join::poll`: the `todo!()` below.

// Until the `todo!()` is written, its argument and the fields go unused.
#![allow(unused_variables, unused_mut, dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `a` and `b` together and returns both outputs, `a`'s first.
pub fn join<A: Future, B: Future>(a: A, b: B) -> Join<A, B> {
    Join {
        a: Box::pin(a),
        b: Box::pin(b),
        a_output: None,
        b_output: None,
    }
}

/// The future behind [`join`].
pub struct Join<A: Future, B: Future> {
    /// Boxed, so that they can be polled in place without `unsafe`.
    a: Pin<Box<A>>,
    b: Pin<Box<B>>,
    /// Each output, once its future is done. A done future is not polled again.
    a_output: Option<A::Output>,
    b_output: Option<B::Output>,
}

// The futures are pinned in their boxes; the outputs are never pinned. So a
// `Join` may move, and `poll` can take `&mut self` out of `Pin<&mut Self>`.
impl<A: Future, B: Future> Unpin for Join<A, B> {}

impl<A: Future, B: Future> Future for Join<A, B> {
    type Output = (A::Output, B::Output);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        todo!("poll whichever of a and b is not done; Ready when both are")
    }
}
