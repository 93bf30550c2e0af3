//! Chapter 3 exercise: `join_all(futures)`.
//!
//! Spawns every future first, so that they all run at once, then awaits the
//! handles one by one, which puts the outputs in the order of the futures.
//! Write `join_all`: the `todo!()` below.

// Until the `todo!()` is written, the argument and the import go unused.
#![allow(unused_variables, unused_imports)]

use std::future::Future;

use exp3_spawn::spawn;

/// Runs all `futures` at once and returns their outputs, in their order.
pub async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    todo!("spawn them all, then await each handle")
}
