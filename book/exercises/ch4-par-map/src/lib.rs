//! Chapter 4 exercise: a parallel map over the thread pool.
//!
//! Write [`par_map`]: it runs `f` on every item on exp4's pool, all of them
//! in flight at once, and returns the outputs in the order of the items.

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
    // Your code: one `exp4_threadpool::spawn_blocking` job per item, all in
    // flight at once, then the outputs in the order of `items`.
    let _ = (items, f);
    todo!()
}
