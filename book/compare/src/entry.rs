//! A runtime as the comparison sees it: an `Entry` holding its name, where
//! it comes from, and each workload it can run (`None` where it lacks what
//! the workload needs).
//!
//! The adapters (`stages.rs`, `peers.rs`, `threads.rs`) build entries; the
//! suite (`suite.rs`) runs them and the page (`report.rs`, `goals.rs`) reads
//! their names and kinds. This module depends on neither side.

use std::time::Duration;

use crate::rt::{Blocking, Net, Pair, Rt, Sleep, Spawn};
use crate::sample::Plan;
use crate::work;

/// A workload in criterion's `iter_custom` form.
pub type IterFn = fn(u64) -> Duration;
/// `n` sleepers over a span: wall time and CPU time.
pub type SleepersFn = fn(u64, Duration) -> (Duration, Duration);
/// The idle-fd workload: per size, the samples.
pub type IdleFn = fn(&'static [usize], Plan) -> Vec<Vec<f64>>;

/// Where a runtime comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// One of the six crates, or `book/tuned`.
    Stage,
    /// tokio, smol.
    Peer,
    /// Plain threads.
    Baseline,
}

/// A runtime and the workloads it can run.
#[derive(Clone)]
pub struct Entry {
    /// Its name in the tables and charts.
    pub name: &'static str,
    /// Stage, peer or baseline.
    pub kind: Kind,
    /// One task yielding `iters` times.
    pub yield_one: Option<IterFn>,
    /// `iters` runs of 1000 tasks × 100 yields.
    pub yield_many: Option<IterFn>,
    /// Spawn a trivial task and join it, `iters` times.
    pub spawn_join: Option<IterFn>,
    /// `iters` batches of 100k tasks spawned, then joined.
    pub spawn_100k: Option<IterFn>,
    /// One batch of `n` tasks spawned, then joined.
    pub spawn_batch: Option<fn(u64) -> Duration>,
    /// Spawn cost per task for `n` tasks, per sample.
    pub spawn_growth: Option<fn(u64, Plan) -> Vec<f64>>,
    /// How late each of `samples` `sleep(1 ms)` returns.
    pub oversleep: Option<fn(usize) -> Vec<Duration>>,
    /// `n` tasks sleeping over a span.
    pub sleepers: Option<SleepersFn>,
    /// CPU ns per sleeping task for `n` sleepers, per sample.
    pub timer_growth: Option<fn(u64, usize) -> Vec<f64>>,
    /// `spawn_blocking(|| 1).await`, `iters` times.
    pub pool: Option<IterFn>,
    /// 1-byte round trips over a Unix socketpair.
    pub ping_pong_pair: Option<IterFn>,
    /// 1-byte round trips over TCP on loopback.
    pub ping_pong_tcp: Option<IterFn>,
    /// Echo round time with `n` connections, per sample.
    pub echo: Option<fn(usize, Plan) -> Vec<f64>>,
    /// Ping-pong beside idle fds.
    pub idle_fds: Option<IdleFn>,
}

impl Entry {
    /// A runtime that runs nothing yet.
    pub fn new(name: &'static str, kind: Kind) -> Entry {
        Entry {
            name,
            kind,
            yield_one: None,
            yield_many: None,
            spawn_join: None,
            spawn_100k: None,
            spawn_batch: None,
            spawn_growth: None,
            oversleep: None,
            sleepers: None,
            timer_growth: None,
            pool: None,
            ping_pong_pair: None,
            ping_pong_tcp: None,
            echo: None,
            idle_fds: None,
        }
    }

    /// The workloads of every stage: `run` and `yield_now`.
    pub fn rt<R: Rt>(mut self) -> Entry {
        self.yield_one = Some(work::yield_one::<R>);
        self.yield_many = Some(work::yield_many::<R>);
        self
    }

    /// The workloads of `sleep`.
    pub fn sleep<R: Sleep>(mut self) -> Entry {
        self.oversleep = Some(work::oversleep::<R>);
        self.sleepers = Some(work::sleepers::<R>);
        self.timer_growth = Some(work::timer_growth::<R>);
        self
    }

    /// The workloads of `spawn`.
    pub fn spawn<R: Spawn>(mut self) -> Entry {
        self.spawn_join = Some(work::spawn_join::<R>);
        self.spawn_100k = Some(work::spawn_100k::<R>);
        self.spawn_batch = Some(work::spawn_batch::<R>);
        self.spawn_growth = Some(work::spawn_growth::<R>);
        self
    }

    /// The workloads of `spawn_blocking`.
    pub fn blocking<R: Blocking>(mut self) -> Entry {
        self.pool = Some(work::pool_round_trip::<R>);
        self
    }

    /// The workloads of `net`.
    pub fn net<R: Net>(mut self) -> Entry {
        self.ping_pong_tcp = Some(work::ping_pong_tcp::<R>);
        self.echo = Some(work::echo::<R>);
        self.idle_fds = Some(work::idle_fds::<R>);
        self
    }

    /// The workloads of a socketpair.
    pub fn pair<R: Pair + Spawn>(mut self) -> Entry {
        self.ping_pong_pair = Some(work::ping_pong_pair::<R>);
        self
    }
}
