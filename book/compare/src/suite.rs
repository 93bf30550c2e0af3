//! What is measured on whom: every runtime's `Entry` (`entries`), the
//! criterion measures (`benches`), the custom samplers (`run_custom`), and
//! the ids of what they record into `Results`.

use std::cell::RefCell;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput};

use crate::entry::{Entry, IterFn};
use crate::results::{Results, Unit};
use crate::sample::{Plan, Summary};
use crate::{alloc, peers, reference, stages, threads, work};

/// Every runtime: the stages, the peers, plain threads.
pub fn entries() -> Vec<Entry> {
    let mut all = stages::stages();
    all.extend(peers::peers());
    all.push(threads::entry());
    all
}

/// A measure taken with criterion: a group name, a function per runtime.
pub struct Bench {
    /// The measure's id: `family/what`.
    pub id: &'static str,
    /// What one criterion iteration is, in the measure's terms: the result
    /// is time per iteration divided by this.
    pub per_iter: u64,
    /// What one result is, for the tables.
    pub what: &'static str,
    /// The runtime's workload for it, if it has one.
    pub workload: fn(&Entry) -> Option<IterFn>,
    /// Fewer, longer samples for slow iterations.
    pub slow: bool,
}

/// The criterion measures, in the order of the tables.
pub fn benches() -> Vec<Bench> {
    use work::{MANY_TASKS, YIELDS_PER_TASK};
    vec![
        Bench {
            id: ids::YIELD_ONE,
            per_iter: 1,
            what: "per yield: one task yielding in a loop",
            workload: |e| e.yield_one,
            slow: false,
        },
        Bench {
            id: ids::YIELD_MANY,
            per_iter: MANY_TASKS * YIELDS_PER_TASK,
            what: "per yield: 1000 tasks × 100 yields",
            workload: |e| e.yield_many,
            slow: false,
        },
        Bench {
            id: ids::SPAWN_JOIN,
            per_iter: 1,
            what: "per task: spawn a trivial task, await its handle",
            workload: |e| e.spawn_join,
            slow: false,
        },
        Bench {
            id: ids::SPAWN_100K,
            per_iter: 1,
            what: "total: 100k trivial tasks spawned, then joined",
            workload: |e| e.spawn_100k,
            slow: true,
        },
        Bench {
            id: ids::POOL,
            per_iter: 1,
            what: "per job: `spawn_blocking(|| 1).await`",
            workload: |e| e.pool,
            slow: false,
        },
        Bench {
            id: ids::PING_PONG_PAIR,
            per_iter: 1,
            what: "per round trip: 1 byte each way between two tasks, Unix socketpair; \
                   peers and threads only, the stages' `net` has TCP alone",
            workload: |e| e.ping_pong_pair,
            slow: false,
        },
        Bench {
            id: ids::PING_PONG_TCP,
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
    /// Criterion's warm-up per runtime and measure.
    pub warm_up: Duration,
    /// Criterion's measurement time per runtime and measure.
    pub measurement: Duration,
    /// Criterion's samples per runtime and measure.
    pub sample_size: usize,
    /// For the custom samplers.
    pub plan: Plan,
    /// `sleep(1 ms)` samples per runtime.
    pub oversleep_samples: usize,
    /// 100k-sleeper runs per runtime (and timer-growth samples per size).
    pub sleeper_samples: usize,
    /// Rounds of the criterion and echo measures (`--rounds`): with more
    /// than one, the runtimes take turns, a round at a time, each round
    /// getting its share of the warm-up, measurement time and echo samples
    /// (and criterion's `sample_size` samples), so that a disturbance of
    /// the shared machine hits them alike; every other round runs them in
    /// reverse order, so that a drift does too.
    pub rounds: usize,
}

/// The order of `n` runtimes taking turns in round `round`, as indices: as
/// given on even rounds, reversed on odd ones, so that a drift of the
/// machine during the rounds hits the first and the last alike.
pub fn in_turn(n: usize, round: usize) -> Vec<usize> {
    let mut turn: Vec<usize> = (0..n).collect();
    if round % 2 == 1 {
        turn.reverse();
    }
    turn
}

impl Config {
    /// The report's: a few minutes in all.
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
            rounds: 1,
        }
    }

    /// `--quick`: a smoke test.
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
            rounds: 1,
        }
    }
}

/// Which measures to run: all, or those whose id contains one of the words.
/// A word ending in `$` must end the id: `oversleep$` is the median of
/// `timers/sleep(1 ms) oversleep`, not its `… oversleep p99`.
pub struct Filter(pub Vec<String>);

impl Filter {
    /// Whether to run measure `id`.
    pub fn wants(&self, id: &str) -> bool {
        self.0.is_empty()
            || self.0.iter().any(|word| match word.strip_suffix('$') {
                Some(end) => id.ends_with(end),
                None => id.contains(word.as_str()),
            })
    }
}

/// The entries named in `names`, in that order (`--runtimes`): an unknown
/// or repeated name is an error that lists the known ones.
pub fn select(entries: Vec<Entry>, names: &[String]) -> Result<Vec<Entry>, String> {
    let known = || {
        entries
            .iter()
            .map(|e| e.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut chosen = Vec::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        if names[..i].contains(name) {
            return Err(format!("runtime {name} named twice"));
        }
        match entries.iter().find(|e| e.name == name.as_str()) {
            Some(e) => chosen.push(e.clone()),
            None => return Err(format!("no runtime {name}; the runtimes: {}", known())),
        }
    }
    Ok(chosen)
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
    let rounds = config.rounds.max(1);
    for bench in benches() {
        if !filter.wants(bench.id) {
            continue;
        }
        let mut samples: Vec<Vec<f64>> = vec![Vec::new(); entries.len()];
        for round in 0..rounds {
            let mut group = if rounds == 1 {
                c.benchmark_group(bench.id)
            } else {
                c.benchmark_group(format!("{} (round {} of {rounds})", bench.id, round + 1))
            };
            group.sampling_mode(SamplingMode::Flat);
            group.sample_size(if bench.slow { 10 } else { config.sample_size });
            group.warm_up_time(config.warm_up / rounds as u32);
            group.measurement_time(if bench.slow {
                config.measurement * 2 / rounds as u32
            } else {
                config.measurement / rounds as u32
            });
            group.throughput(Throughput::Elements(bench.per_iter));
            for i in in_turn(entries.len(), round) {
                let entry = &entries[i];
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
                samples[i].extend(recorded[recorded.len() - n..].iter().map(|&(iters, took)| {
                    took.as_nanos() as f64 / (iters * bench.per_iter) as f64
                }));
            }
            group.finish();
        }
        for (entry, samples) in entries.iter().zip(samples) {
            if !samples.is_empty() {
                // (Empty: no workload, or filtered out by criterion's own arguments.)
                results.add(bench.id, entry.name, Unit::Time, Summary::of(&samples));
            }
        }
    }
}

/// Task counts of the growth charts.
pub const COUNTS: [u64; 5] = [10, 100, 1000, 10_000, 100_000];
/// Connection counts of the echo benchmark.
pub const CONNECTIONS: [usize; 3] = [10, 100, 1000];
/// Idle fd counts of the idle-cost chart.
pub const IDLE_FDS: &[usize] = &[10, 100, 1000, 10_000];

/// Ids of the measures, for `Filter`, the tables and the goals.
pub mod ids {
    /// One task yielding in a loop, per yield.
    pub const YIELD_ONE: &str = "yield/1 task";
    /// 1000 tasks × 100 yields, per yield.
    pub const YIELD_MANY: &str = "yield/1000 tasks";
    /// Spawn a trivial task and await its handle, per task.
    pub const SPAWN_JOIN: &str = "spawn/spawn + join";
    /// 100k trivial tasks spawned, then joined, in all.
    pub const SPAWN_100K: &str = "spawn/100k spawned then joined";
    /// `spawn_blocking(|| 1).await`, per job.
    pub const POOL: &str = "pool/round trip";
    /// 1-byte ping-pong over a Unix socketpair, per round trip.
    pub const PING_PONG_PAIR: &str = "io/ping-pong socketpair";
    /// 1-byte ping-pong over TCP on loopback, per round trip.
    pub const PING_PONG_TCP: &str = "io/ping-pong tcp";
    /// How late `sleep(1 ms)` returns: the median over the samples.
    pub const OVERSLEEP: &str = "timers/sleep(1 ms) oversleep";
    /// How late `sleep(1 ms)` returns: the 99th percentile.
    pub const OVERSLEEP_P99: &str = "timers/sleep(1 ms) oversleep p99";
    /// 100k tasks sleeping 0-100 ms: wall time.
    pub const SLEEPERS_WALL: &str = "timers/100k sleepers wall";
    /// 100k tasks sleeping 0-100 ms: the process's CPU time.
    pub const SLEEPERS_CPU: &str = "timers/100k sleepers cpu";
    /// 100k tasks sleeping: peak heap bytes per task.
    pub const SLEEPERS_MEM: &str = "memory/100k sleepers per task";
    /// 100k tasks spawned, then joined: peak heap bytes per task.
    pub const SPAWN_MEM: &str = "memory/100k spawned per task";
    /// Echo throughput (followed by ` N conns`; see `echo_id`).
    pub const ECHO: &str = "io/echo";
    /// Spawn cost per task as tasks grow (followed by ` N`).
    pub const SPAWN_GROWTH: &str = "growth/spawn";
    /// CPU per sleeping task as sleepers grow (followed by ` N`).
    pub const TIMER_GROWTH: &str = "growth/timers";
    /// Ping-pong beside N idle fds (followed by ` N`).
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
    // turns, a round at a time (`in_turn`), so that a disturbance hits them
    // alike.
    if filter.wants(ids::OVERSLEEP) {
        println!("\n{} (runtimes taking turns)", ids::OVERSLEEP);
        const ROUNDS: usize = 5;
        let sleepy: Vec<_> = entries
            .iter()
            .filter_map(|e| Some((e.name, e.oversleep?)))
            .collect();
        let mut late = vec![Vec::new(); sleepy.len()];
        for round in 0..ROUNDS {
            for i in in_turn(sleepy.len(), round) {
                let (_, oversleep) = sleepy[i];
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

    if [ids::SLEEPERS_WALL, ids::SLEEPERS_CPU, ids::SLEEPERS_MEM]
        .iter()
        .any(|id| filter.wants(id))
    {
        println!("\n100k sleepers, 0-100 ms (runtimes taking turns)");
        let sleepy: Vec<_> = entries
            .iter()
            .filter_map(|e| Some((e.name, e.sleepers?)))
            .collect();
        for (_, sleepers) in &sleepy {
            sleepers(N, SPAN); // warm-up: lazily built timers, reactors
        }
        let mut runs = vec![Vec::new(); sleepy.len()];
        for round in 0..config.sleeper_samples {
            for i in in_turn(sleepy.len(), round) {
                let (_, sleepers) = sleepy[i];
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

    if CONNECTIONS.iter().any(|&n| filter.wants(&echo_id(n))) {
        println!("\n{}", ids::ECHO);
        let rounds = config.rounds.max(1);
        let share = Plan {
            samples: plan.samples.div_ceil(rounds),
            ..plan
        };
        for conns in CONNECTIONS {
            if !filter.wants(&echo_id(conns)) {
                continue;
            }
            let mut samples: Vec<Vec<f64>> = vec![Vec::new(); entries.len()];
            for round in 0..rounds {
                for i in in_turn(entries.len(), round) {
                    let Some(echo) = entries[i].echo else {
                        continue;
                    };
                    samples[i].extend(echo(conns, if rounds == 1 { plan } else { share }));
                }
            }
            // ns per round (every connection one message) to MiB/s.
            let bytes = (conns * work::ECHO_MESSAGE) as f64;
            let mibps = |ns: f64| bytes / (ns / 1e9) / (1024.0 * 1024.0);
            for (entry, samples) in entries.iter().zip(samples) {
                if samples.is_empty() {
                    continue;
                }
                let summary = Summary::of(&samples).map(mibps);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Kind;

    fn filter(words: &[&str]) -> Filter {
        Filter(words.iter().map(|w| w.to_string()).collect())
    }

    #[test]
    fn a_filter_matches_words_inside_ids_and_anchored_at_their_end() {
        assert!(filter(&[]).wants(ids::OVERSLEEP_P99));
        let f = filter(&["yield/", "oversleep$", "echo 1000"]);
        assert!(f.wants(ids::YIELD_ONE) && f.wants(ids::YIELD_MANY));
        assert!(f.wants(ids::OVERSLEEP) && !f.wants(ids::OVERSLEEP_P99));
        assert!(f.wants(&echo_id(1000)) && !f.wants(&echo_id(10)));
        assert!(!f.wants(ids::ECHO), "the family alone is no echo measure");
        assert!(filter(&["io/echo"]).wants(&echo_id(10)));
        assert!(filter(&["p99$"]).wants(ids::OVERSLEEP_P99));
    }

    #[test]
    fn rounds_take_turns_forward_then_backward() {
        assert_eq!(in_turn(3, 0), [0, 1, 2]);
        assert_eq!(in_turn(3, 1), [2, 1, 0]);
        assert_eq!(in_turn(3, 2), [0, 1, 2]);
        assert!(in_turn(0, 1).is_empty());
    }

    #[test]
    fn runtimes_are_selected_by_name_in_the_order_given() {
        let all = || ["a", "b", "c"].map(|n| Entry::new(n, Kind::Stage)).to_vec();
        let names = |ns: &[&str]| ns.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let chosen = select(all(), &names(&["c", "a"])).unwrap();
        assert_eq!(
            chosen.iter().map(|e| e.name).collect::<Vec<_>>(),
            ["c", "a"]
        );
        assert_eq!(
            select(all(), &names(&["a", "z"])).err().unwrap(),
            "no runtime z; the runtimes: a, b, c"
        );
        assert!(select(all(), &names(&["a", "a"])).is_err());
    }
}
