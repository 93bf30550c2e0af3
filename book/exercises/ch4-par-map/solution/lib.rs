//! Chapter 4 exercise: a parallel map over the thread pool.
//!
//! Write [`par_map`]: it runs `f` on every item on exp4's pool, all of them
//! in flight at once, and returns the outputs in the order of the items.

use std::sync::Arc;

use exp4_threadpool::{spawn, spawn_blocking};

/// Runs `f(item)` for every item on the thread pool, every job handed to the
/// pool at once (so as many run at once as the pool has threads), and
/// returns the outputs in the order of `items`.
///
/// # Panics
///
/// When awaited outside [`run`](exp4_threadpool::run), as `spawn_blocking` does.
pub async fn par_map<T, U, F>(items: Vec<T>, f: F) -> Vec<U>
where
    T: Send + 'static,
    U: Send + 'static,
    F: Fn(T) -> U + Send + Sync + 'static,
{
    // Every job needs `f`, on whichever worker runs it: share it.
    let f = Arc::new(f);
    // A `spawn_blocking` future hands its job to the pool when first polled,
    // so awaiting them one by one would run one job at a time. Spawning each
    // as a task gets them all polled on the loop's next pass, all in flight.
    let handles: Vec<_> = items
        .into_iter()
        .map(|item| {
            let f = f.clone();
            spawn(spawn_blocking(move || f(item)))
        })
        .collect();
    // The handles are in the items' order, whatever order the jobs end in.
    let mut outputs = Vec::with_capacity(handles.len());
    for handle in handles {
        outputs.push(handle.await);
    }
    outputs
}
