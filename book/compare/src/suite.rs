//! What is measured on whom: an `Entry` per runtime (its workloads, `None`
//! where it lacks what the workload needs), the criterion groups, the custom
//! samplers, and the results they fill in.

use std::cell::RefCell;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};

use crate::rt::{Blocking, Net, Pair, Rt, Sleep, Spawn};
use crate::sample::{Plan, Summary};
use crate::{alloc, reference, work};

/// A workload in criterion's `iter_custom` form.
pub type IterFn = fn(u64) -> Duration;

/// `n` sleepers over a span: wall time and CPU time.
pub type SleepersFn = fn(u64, Duration) -> (Duration, Duration);
/// The idle-fd workload: per size, the samples.
pub type IdleFn = fn(&'static [usize], Plan) -> Vec<Vec<f64>>;
/// A chart's line: chart id, runtime, (x, summary at x).
pub type Line = (String, &'static str, Vec<(f64, Summary)>);

/// Where a runtime comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// One of the six crates.
    Stage,
    /// tokio, smol.
    Peer,
    /// Plain threads.
    Baseline,
}

/// A runtime and the workloads it can run.
#[derive(Clone)]
pub struct Entry {
    pub name: &'static str,
    pub kind: Kind,
    pub yield_one: Option<IterFn>,
    pub yield_many: Option<IterFn>,
    pub spawn_join: Option<IterFn>,
    pub spawn_100k: Option<IterFn>,
    pub spawn_batch: Option<fn(u64) -> Duration>,
    pub spawn_growth: Option<fn(u64, Plan) -> Vec<f64>>,
    pub oversleep: Option<fn(usize) -> Vec<Duration>>,
    pub sleepers: Option<SleepersFn>,
    pub timer_growth: Option<fn(u64, usize) -> Vec<f64>>,
    pub pool: Option<IterFn>,
    pub ping_pong_pair: Option<IterFn>,
    pub ping_pong_tcp: Option<IterFn>,
    pub echo: Option<fn(usize, Plan) -> Vec<f64>>,
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

/// Every runtime: the stages, the peers, plain threads.
pub fn entries() -> Vec<Entry> {
    let mut all = crate::stages::stages();
    all.extend(crate::peers::peers());
    all.push(crate::threads::entry());
    all
}

/// How a measure's numbers read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Unit {
    /// Nanoseconds, printed in ns, µs, ms or s.
    Time,
    /// Bytes.
    Bytes,
    /// MiB per second.
    MiBps,
}

/// A measure taken with criterion: a group name, a function per runtime.
pub struct Bench {
    pub id: &'static str,
    /// What one criterion iteration is, in the measure's terms: the result
    /// is time per iteration divided by this.
    pub per_iter: u64,
    pub what: &'static str,
    pub workload: fn(&Entry) -> Option<IterFn>,
    /// Fewer, longer samples for slow iterations.
    pub slow: bool,
}

/// The criterion measures, in the order of the tables.
pub fn benches() -> Vec<Bench> {
    use work::{MANY_TASKS, YIELDS_PER_TASK};
    vec![
        Bench {
            id: "yield/1 task",
            per_iter: 1,
            what: "per yield: one task yielding in a loop",
            workload: |e| e.yield_one,
            slow: false,
        },
        Bench {
            id: "yield/1000 tasks",
            per_iter: MANY_TASKS * YIELDS_PER_TASK,
            what: "per yield: 1000 tasks × 100 yields",
            workload: |e| e.yield_many,
            slow: false,
        },
        Bench {
            id: "spawn/spawn + join",
            per_iter: 1,
            what: "per task: spawn a trivial task, await its handle",
            workload: |e| e.spawn_join,
            slow: false,
        },
        Bench {
            id: "spawn/100k spawned then joined",
            per_iter: 1,
            what: "total: 100k trivial tasks spawned, then joined",
            workload: |e| e.spawn_100k,
            slow: true,
        },
        Bench {
            id: "pool/round trip",
            per_iter: 1,
            what: "per job: `spawn_blocking(|| 1).await`",
            workload: |e| e.pool,
            slow: false,
        },
        Bench {
            id: "io/ping-pong socketpair",
            per_iter: 1,
            what: "per round trip: 1 byte each way between two tasks, Unix socketpair",
            workload: |e| e.ping_pong_pair,
            slow: false,
        },
        Bench {
            id: "io/ping-pong tcp",
            per_iter: 1,
            what: "per round trip: 1 byte each way between two tasks, TCP on loopback",
            workload: |e| e.ping_pong_tcp,
            slow: false,
        },
    ]
}

/// How long criterion and the custom samplers run.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub warm_up: Duration,
    pub measurement: Duration,
    pub sample_size: usize,
    /// For the custom samplers.
    pub plan: Plan,
    pub oversleep_samples: usize,
    pub sleeper_samples: usize,
}

impl Config {
    pub fn full() -> Config {
        Config {
            warm_up: Duration::from_millis(500),
            measurement: Duration::from_millis(1500),
            sample_size: 20,
            plan: Plan {
                target: Duration::from_millis(20),
                samples: 15,
            },
            oversleep_samples: 500,
            sleeper_samples: 9,
        }
    }

    pub fn quick() -> Config {
        Config {
            warm_up: Duration::from_millis(100),
            measurement: Duration::from_millis(300),
            sample_size: 10,
            plan: Plan {
                target: Duration::from_millis(5),
                samples: 5,
            },
            oversleep_samples: 200,
            sleeper_samples: 3,
        }
    }
}

/// One summary per (measure, runtime), and the series of the charts.
#[derive(Default)]
pub struct Results {
    pub values: Vec<(String, &'static str, Unit, Summary)>,
    pub series: Vec<Line>,
}

impl Results {
    pub fn add(&mut self, measure: &str, runtime: &'static str, unit: Unit, summary: Summary) {
        println!(
            "  {measure:<40} {runtime:<8} {}",
            crate::report::cell(unit, &summary)
        );
        self.values
            .push((measure.to_string(), runtime, unit, summary));
    }

    pub fn get(&self, measure: &str, runtime: &str) -> Option<&Summary> {
        self.values
            .iter()
            .find(|(m, r, ..)| m == measure && *r == runtime)
            .map(|(.., s)| s)
    }

    pub fn point(&mut self, chart: &str, runtime: &'static str, x: f64, summary: Summary) {
        match self
            .series
            .iter_mut()
            .find(|(c, r, _)| c == chart && *r == runtime)
        {
            Some((.., points)) => points.push((x, summary)),
            None => self
                .series
                .push((chart.to_string(), runtime, vec![(x, summary)])),
        }
    }
}

/// Which measures to run: all, or those whose id contains one of the words.
pub struct Filter(pub Vec<String>);

impl Filter {
    pub fn wants(&self, id: &str) -> bool {
        self.0.is_empty() || self.0.iter().any(|word| id.contains(word.as_str()))
    }
}

/// Runs the criterion measures on every entry that has them, recording
/// each sample (criterion's own analysis still prints as usual).
pub fn run_criterion(
    c: &mut Criterion,
    entries: &[Entry],
    config: &Config,
    filter: &Filter,
    results: &mut Results,
) {
    for bench in benches() {
        if !filter.wants(bench.id) {
            continue;
        }
        let mut group = c.benchmark_group(bench.id);
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(if bench.slow { 10 } else { config.sample_size });
        group.warm_up_time(config.warm_up);
        group.measurement_time(if bench.slow {
            config.measurement * 2
        } else {
            config.measurement
        });
        group.throughput(Throughput::Elements(bench.per_iter));
        for entry in entries {
            let Some(workload) = (bench.workload)(entry) else {
                continue;
            };
            let recorded = RefCell::new(Vec::new());
            group.bench_function(entry.name, |b| {
                b.iter_custom(|iters| {
                    let took = workload(iters);
                    recorded.borrow_mut().push((iters, took));
                    took
                })
            });
            // Warm-up runs come first; the last `sample_size` are the samples.
            let recorded = recorded.into_inner();
            let n = (if bench.slow { 10 } else { config.sample_size }).min(recorded.len());
            if n == 0 {
                continue; // filtered out by criterion's own arguments
            }
            let samples: Vec<f64> = recorded[recorded.len() - n..]
                .iter()
                .map(|&(iters, took)| took.as_nanos() as f64 / (iters * bench.per_iter) as f64)
                .collect();
            results.add(bench.id, entry.name, Unit::Time, Summary::of(&samples));
        }
        group.finish();
    }
}

/// Task counts of the growth charts.
pub const COUNTS: [u64; 5] = [10, 100, 1000, 10_000, 100_000];
/// Connection counts of the echo benchmark.
pub const CONNECTIONS: [usize; 3] = [10, 100, 1000];
/// Idle fd counts of the idle-cost chart.
pub const IDLE_FDS: &[usize] = &[10, 100, 1000, 10_000];

/// Ids of the custom measures, for `Filter` and the tables.
pub mod ids {
    pub const OVERSLEEP: &str = "timers/sleep(1 ms) oversleep";
    pub const OVERSLEEP_P99: &str = "timers/sleep(1 ms) oversleep p99";
    pub const SLEEPERS_WALL: &str = "timers/100k sleepers wall";
    pub const SLEEPERS_CPU: &str = "timers/100k sleepers cpu";
    pub const SLEEPERS_MEM: &str = "memory/100k sleepers per task";
    pub const SPAWN_MEM: &str = "memory/100k spawned per task";
    pub const ECHO: &str = "io/echo";
    pub const SPAWN_GROWTH: &str = "growth/spawn";
    pub const TIMER_GROWTH: &str = "growth/timers";
    pub const IDLE_FDS: &str = "growth/idle fds";
}

/// `io/echo N conns`.
pub fn echo_id(conns: usize) -> String {
    format!("{} {conns} conns", ids::ECHO)
}

/// Runs the custom measures.
pub fn run_custom(entries: &[Entry], config: &Config, filter: &Filter, results: &mut Results) {
    const N: u64 = 100_000;
    const SPAN: Duration = Duration::from_millis(100);
    let plan = config.plan;

    // The goals compare these across runtimes, and one run lasts long
    // enough for the shared machine to change under it: the runtimes take
    // turns, a round at a time, so that a disturbance hits them alike.
    if filter.wants(ids::OVERSLEEP) {
        println!("\n{} (runtimes taking turns)", ids::OVERSLEEP);
        const ROUNDS: usize = 5;
        let sleepy: Vec<_> = entries
            .iter()
            .filter_map(|e| Some((e.name, e.oversleep?)))
            .collect();
        let mut late = vec![Vec::new(); sleepy.len()];
        for _ in 0..ROUNDS {
            for (i, (_, oversleep)) in sleepy.iter().enumerate() {
                let per_round = config.oversleep_samples.div_ceil(ROUNDS);
                late[i].extend(oversleep(per_round).iter().map(|d| d.as_nanos() as f64));
            }
        }
        for ((name, _), late) in sleepy.iter().zip(late) {
            let summary = Summary::of(&late);
            results.add(ids::OVERSLEEP, name, Unit::Time, summary);
            results.add(
                ids::OVERSLEEP_P99,
                name,
                Unit::Time,
                Summary::of(&[summary.p99]),
            );
        }
    }

    if filter.wants(ids::SLEEPERS_WALL) || filter.wants(ids::SLEEPERS_MEM) {
        println!("\n100k sleepers, 0-100 ms (runtimes taking turns)");
        let sleepy: Vec<_> = entries
            .iter()
            .filter_map(|e| Some((e.name, e.sleepers?)))
            .collect();
        for (_, sleepers) in &sleepy {
            sleepers(N, SPAN); // warm-up: lazily built timers, reactors
        }
        let mut runs = vec![Vec::new(); sleepy.len()];
        for _ in 0..config.sleeper_samples {
            for (i, (_, sleepers)) in sleepy.iter().enumerate() {
                runs[i].push(sleepers(N, SPAN));
            }
        }
        let ns = |d: Duration| d.as_nanos() as f64;
        for ((name, sleepers), runs) in sleepy.iter().zip(runs) {
            let wall: Vec<f64> = runs.iter().map(|r| ns(r.0)).collect();
            let cpu: Vec<f64> = runs.iter().map(|r| ns(r.1)).collect();
            results.add(ids::SLEEPERS_WALL, name, Unit::Time, Summary::of(&wall));
            results.add(ids::SLEEPERS_CPU, name, Unit::Time, Summary::of(&cpu));
            let (_, peak) = alloc::peak_during(|| sleepers(N, SPAN));
            let per_task = Summary::of(&[peak as f64 / N as f64]);
            results.add(ids::SLEEPERS_MEM, name, Unit::Bytes, per_task);
        }
    }

    if filter.wants(ids::SPAWN_MEM) {
        println!("\nmemory per spawned task");
        for entry in entries {
            let Some(batch) = entry.spawn_batch else {
                continue;
            };
            batch(N); // warm-up
            let (_, peak) = alloc::peak_during(|| batch(N));
            let per_task = Summary::of(&[peak as f64 / N as f64]);
            results.add(ids::SPAWN_MEM, entry.name, Unit::Bytes, per_task);
        }
    }

    if filter.wants(ids::ECHO) {
        println!("\n{}", ids::ECHO);
        for conns in CONNECTIONS {
            for entry in entries {
                let Some(echo) = entry.echo else { continue };
                // ns per round (every connection one message) to MiB/s.
                let bytes = (conns * work::ECHO_MESSAGE) as f64;
                let mibps = |ns: f64| bytes / (ns / 1e9) / (1024.0 * 1024.0);
                let summary = Summary::of(&echo(conns, plan)).map(mibps);
                results.add(&echo_id(conns), entry.name, Unit::MiBps, summary);
                results.point(ids::ECHO, entry.name, conns as f64, summary);
            }
        }
    }

    if filter.wants(ids::SPAWN_GROWTH) {
        println!("\n{} (ns per task)", ids::SPAWN_GROWTH);
        for entry in entries {
            let Some(growth) = entry.spawn_growth else {
                continue;
            };
            for n in COUNTS {
                let summary = Summary::of(&growth(n, plan));
                results.add(
                    &format!("{} {n}", ids::SPAWN_GROWTH),
                    entry.name,
                    Unit::Time,
                    summary,
                );
                results.point(ids::SPAWN_GROWTH, entry.name, n as f64, summary);
            }
        }
    }

    if filter.wants(ids::TIMER_GROWTH) {
        println!("\n{} (CPU ns per sleeping task)", ids::TIMER_GROWTH);
        for entry in entries {
            let Some(growth) = entry.timer_growth else {
                continue;
            };
            for n in COUNTS {
                let summary = Summary::of(&growth(n, config.sleeper_samples));
                results.add(
                    &format!("{} {n}", ids::TIMER_GROWTH),
                    entry.name,
                    Unit::Time,
                    summary,
                );
                results.point(ids::TIMER_GROWTH, entry.name, n as f64, summary);
            }
        }
    }

    if filter.wants(ids::IDLE_FDS) {
        println!(
            "\n{} (ns per ping-pong round trip; references: ns per call)",
            ids::IDLE_FDS
        );
        let limit = reference::raise_fd_limit();
        let max = IDLE_FDS
            .iter()
            .copied()
            .filter(|&n| (n as u64) + 64 <= limit)
            .collect::<Vec<_>>();
        let sizes: &'static [usize] = Vec::leak(max);
        for entry in entries {
            let Some(idle) = entry.idle_fds else { continue };
            for (&n, samples) in sizes.iter().zip(idle(sizes, plan)) {
                let summary = Summary::of(&samples);
                results.add(
                    &format!("{} {n}", ids::IDLE_FDS),
                    entry.name,
                    Unit::Time,
                    summary,
                );
                results.point(ids::IDLE_FDS, entry.name, n as f64, summary);
            }
        }
        for (name, call) in [
            (
                "poll(2) call",
                reference::poll as fn(usize, Plan) -> Vec<f64>,
            ),
            ("epoll_wait call", reference::epoll),
        ] {
            for &n in sizes {
                let summary = Summary::of(&call(n, plan));
                results.add(&format!("{} {n}", ids::IDLE_FDS), name, Unit::Time, summary);
                results.point(ids::IDLE_FDS, name, n as f64, summary);
            }
        }
    }
}
