//! Chapter 3 exercise: `join_all(futures)`.
//!
//! Spawns every future first, so that they all run at once, then awaits the
//! handles one by one, which puts the outputs in the order of the futures.

use std::future::Future;

use exp3_spawn::spawn;

/// Runs all `futures` at once and returns their outputs, in their order.
pub async fn join_all<F>(futures: Vec<F>) -> Vec<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let handles: Vec<_> = futures.into_iter().map(spawn).collect();
    let mut outputs = Vec::with_capacity(handles.len());
    // A task runs whether or not its handle is awaited, so waiting for the
    // first does not hold the others up.
    for handle in handles {
        outputs.push(handle.await);
    }
    outputs
}
