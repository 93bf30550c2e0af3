//! The goals the results page checks, and their verdicts.
//!
//! Every stage (exp1 to exp6): yield, spawn + join, the pool round trip,
//! socket ping-pong and 100k sleepers within 2× of the better of tokio and
//! smol; exp1's yield at most 0.25× smol's; `sleep(1 ms)` oversleep median
//! at most 100 µs.
//!
//! `tuned` (`book/tuned`): at or ahead of the better peer on every one of
//! those, oversleep included, and echo throughput at 1000 connections at
//! least tokio's.
//!
//! A goal applies to a stage that runs its workload; it is checked when the
//! run measured both the stage and what it is compared with.

use crate::entry::{Entry, Kind};
use crate::results::{Results, Unit, cell};
use crate::sample::Summary;
use crate::suite::{echo_id, ids};

/// The peers a stage is held to.
pub const PEERS: [&str; 2] = ["tokio", "smol"];

/// The stage held to the stricter goals.
pub const TUNED: &str = "tuned";

/// What a stage's median is compared with.
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Against {
    /// One peer's median.
    Peer(&'static str),
    /// The better of the peers' medians (the lower for a cost, the higher
    /// for a throughput).
    BetterPeer,
    /// A number in the measure's unit.
    Absolute,
}

/// A goal: `stage`'s median of `measure` at most `limit` times what it is
/// compared with (at least, for a throughput).
#[derive(Clone, PartialEq, Debug)]
pub struct Goal {
    /// The goal as the page states it.
    pub text: String,
    /// The measure's id.
    pub measure: String,
    /// The stage held to it.
    pub stage: &'static str,
    /// What the stage is compared with.
    pub against: Against,
    /// The bound on the ratio (or, `Against::Absolute`, on the median).
    pub limit: f64,
}

/// The goals for every stage in `entries` that runs what they measure.
pub fn goals(entries: &[Entry]) -> Vec<Goal> {
    let mut goals = Vec::new();
    for e in entries.iter().filter(|e| e.kind == Kind::Stage) {
        let s = e.name;
        let tuned = s == TUNED;
        let mut goal = |text: String, measure: &str, against: Against, limit: f64| {
            goals.push(Goal {
                text,
                measure: measure.to_string(),
                stage: s,
                against,
                limit,
            })
        };
        // Within 2× of the better peer; tuned at or ahead of it.
        let (limit, bound) = if tuned {
            (1.0, "≤ the better of tokio and smol")
        } else {
            (2.0, "≤ 2× the better of tokio and smol")
        };
        let relative = [
            (e.yield_one.is_some(), ids::YIELD_ONE, "yield, 1 task"),
            (e.yield_many.is_some(), ids::YIELD_MANY, "yield, 1000 tasks"),
            (e.spawn_join.is_some(), ids::SPAWN_JOIN, "spawn + join"),
            (e.pool.is_some(), ids::POOL, "pool round trip"),
            (
                e.ping_pong_tcp.is_some(),
                ids::PING_PONG_TCP,
                "socket ping-pong (TCP loopback)",
            ),
            (
                e.sleepers.is_some(),
                ids::SLEEPERS_WALL,
                "100k sleepers wall time",
            ),
        ];
        for (has, m, what) in relative {
            if has {
                goal(
                    format!("{what}: {s} {bound}"),
                    m,
                    Against::BetterPeer,
                    limit,
                );
            }
        }
        if s == "exp1" {
            for (m, what) in [
                (ids::YIELD_ONE, "yield, 1 task"),
                (ids::YIELD_MANY, "yield, 1000 tasks"),
            ] {
                goal(
                    format!("{what}: {s} ≤ 0.25× smol"),
                    m,
                    Against::Peer("smol"),
                    0.25,
                );
            }
        }
        if e.oversleep.is_some() {
            let m = ids::OVERSLEEP;
            let what = "sleep(1 ms) oversleep median";
            goal(format!("{what}: {s} ≤ 100 µs"), m, Against::Absolute, 100e3);
            if tuned {
                goal(format!("{what}: {s} {bound}"), m, Against::BetterPeer, 1.0);
            }
        }
        if tuned && e.echo.is_some() {
            goal(
                format!("echo throughput, 1000 connections: {s} ≥ tokio"),
                &echo_id(1000),
                Against::Peer("tokio"),
                1.0,
            );
        }
    }
    goals
}

/// A goal checked against a run's results.
#[derive(Clone, PartialEq, Debug)]
pub struct Verdict {
    /// The stage's cell: its median and spread.
    pub mine: String,
    /// What it was compared with: the peer's cell, or the peers' for scale.
    pub theirs: String,
    /// The ratio and its bound, or the median as a fraction of the limit.
    pub ratio: String,
    /// Whether the goal was met.
    pub met: bool,
}

/// The peer `against` names in `results`, and its summary: for
/// `BetterPeer`, whichever of `PEERS` did better (both must have run).
fn compared_with<'r>(
    against: Against,
    measure: &str,
    unit: Unit,
    results: &'r Results,
) -> Option<(&'static str, &'r Summary)> {
    match against {
        Against::Peer(p) => Some((p, results.get(measure, p)?)),
        Against::BetterPeer => {
            let [a, b] = PEERS.map(|p| results.get(measure, p).map(|s| (p, s)));
            let (a, b) = (a?, b?);
            let a_better = if unit.higher_is_better() {
                a.1.median >= b.1.median
            } else {
                a.1.median <= b.1.median
            };
            Some(if a_better { a } else { b })
        }
        Against::Absolute => None,
    }
}

/// Checks `goal` against `results`; `None` when the run did not measure
/// the stage or what it is compared with.
pub fn check(goal: &Goal, results: &Results) -> Option<Verdict> {
    let unit = results.unit(&goal.measure);
    let mine = results.get(&goal.measure, goal.stage)?;
    let higher = unit.higher_is_better();
    let (theirs, ratio, met) = match goal.against {
        Against::Absolute => (
            peer_reference(&goal.measure, results, unit),
            format!("{:.2} of the limit", mine.median / goal.limit),
            if higher {
                mine.median >= goal.limit
            } else {
                mine.median <= goal.limit
            },
        ),
        against => {
            let (p, peer) = compared_with(against, &goal.measure, unit, results)?;
            let ratio = mine.median / peer.median;
            let (sign, met) = if higher {
                ("≥", ratio >= goal.limit)
            } else {
                ("≤", ratio <= goal.limit)
            };
            (
                format!("{p}: {}", cell(unit, peer)),
                format!("{ratio:.2}× ({sign} {}×)", goal.limit),
                met,
            )
        }
    };
    Some(Verdict {
        mine: cell(unit, mine),
        theirs,
        ratio,
        met,
    })
}

/// For an absolute goal: what the peers measured, for scale.
fn peer_reference(measure: &str, results: &Results, unit: Unit) -> String {
    let peers: Vec<String> = PEERS
        .into_iter()
        .chain(["threads"])
        .filter_map(|p| Some(format!("{p}: {}", cell(unit, results.get(measure, p)?))))
        .collect();
    peers.join(", ")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn stage(name: &'static str) -> Entry {
        let mut e = Entry::new(name, Kind::Stage);
        e.yield_one = Some(|_| Duration::ZERO);
        e
    }

    fn results(values: &[(&str, &'static str, Unit, f64)]) -> Results {
        let mut r = Results::default();
        for &(m, rt, unit, v) in values {
            r.values.push((m.to_string(), rt, unit, Summary::of(&[v])));
        }
        r
    }

    fn goal_for<'g>(goals: &'g [Goal], stage: &str, measure: &str, against: Against) -> &'g Goal {
        goals
            .iter()
            .find(|g| g.stage == stage && g.measure == measure && g.against == against)
            .unwrap_or_else(|| panic!("no goal {measure} {against:?} for {stage}"))
    }

    #[test]
    fn each_stage_gets_the_goals_of_what_it_runs() {
        let mut exp2 = stage("exp2");
        exp2.oversleep = Some(|_| Vec::new());
        let mut tuned = stage(TUNED);
        tuned.oversleep = Some(|_| Vec::new());
        tuned.echo = Some(|_, _| Vec::new());
        let peer = Entry::new("tokio", Kind::Peer);
        let goals = goals(&[stage("exp1"), exp2, tuned, peer]);

        let g = goal_for(&goals, "exp1", ids::YIELD_ONE, Against::BetterPeer);
        assert_eq!(g.limit, 2.0);
        let g = goal_for(&goals, "exp1", ids::YIELD_ONE, Against::Peer("smol"));
        assert_eq!(g.limit, 0.25);
        assert!(goals.iter().all(|g| g.stage != "exp2" || g.limit != 0.25));
        let g = goal_for(&goals, "exp2", ids::OVERSLEEP, Against::Absolute);
        assert_eq!(g.limit, 100e3);
        // Only tuned is held to the better peer's oversleep and to echo.
        assert!(
            !goals
                .iter()
                .any(|g| g.stage == "exp2" && g.measure == ids::OVERSLEEP && g.limit == 1.0)
        );
        goal_for(&goals, TUNED, ids::OVERSLEEP, Against::BetterPeer);
        goal_for(&goals, TUNED, ids::OVERSLEEP, Against::Absolute);
        let g = goal_for(&goals, TUNED, &echo_id(1000), Against::Peer("tokio"));
        assert_eq!(g.limit, 1.0);
        let g = goal_for(&goals, TUNED, ids::YIELD_ONE, Against::BetterPeer);
        assert_eq!(g.limit, 1.0);
        // Nothing for what a stage does not run, nor for the peers.
        assert!(goals.iter().all(|g| g.measure != ids::SPAWN_JOIN));
        assert!(goals.iter().all(|g| g.stage != "tokio"));
    }

    #[test]
    fn a_cost_is_compared_with_the_lower_peer() {
        let goal = &goals(&[stage("exp3")])[0];
        assert_eq!(goal.measure, ids::YIELD_ONE);
        let run = |mine: f64| {
            results(&[
                (ids::YIELD_ONE, "exp3", Unit::Time, mine),
                (ids::YIELD_ONE, "tokio", Unit::Time, 50.0),
                (ids::YIELD_ONE, "smol", Unit::Time, 40.0),
            ])
        };
        let v = check(goal, &run(80.0)).unwrap();
        assert!(v.met, "{v:?}");
        assert_eq!(v.theirs, "smol: 40.0 ns");
        assert_eq!(v.ratio, "2.00× (≤ 2×)");
        let v = check(goal, &run(81.0)).unwrap();
        assert!(!v.met, "{v:?}");
    }

    #[test]
    fn a_throughput_is_compared_the_other_way() {
        let mut tuned = Entry::new(TUNED, Kind::Stage);
        tuned.echo = Some(|_, _| Vec::new());
        let goal = &goals(&[tuned])[0];
        let run = |mine: f64| {
            results(&[
                (&echo_id(1000), TUNED, Unit::MiBps, mine),
                (&echo_id(1000), "tokio", Unit::MiBps, 100.0),
            ])
        };
        let v = check(goal, &run(120.0)).unwrap();
        assert!(v.met, "{v:?}");
        assert_eq!(v.ratio, "1.20× (≥ 1×)");
        assert!(!check(goal, &run(99.0)).unwrap().met);

        // The better of two throughputs is the higher.
        let better = Goal {
            against: Against::BetterPeer,
            ..goal.clone()
        };
        let mut r = run(120.0);
        r.values
            .push((echo_id(1000), "smol", Unit::MiBps, Summary::of(&[150.0])));
        let v = check(&better, &r).unwrap();
        assert!(!v.met);
        assert!(v.theirs.starts_with("smol:"), "{v:?}");
    }

    #[test]
    fn an_absolute_limit_and_missing_measures() {
        let mut exp2 = Entry::new("exp2", Kind::Stage);
        exp2.oversleep = Some(|_| Vec::new());
        let goal = &goals(&[exp2])[0];
        let r = results(&[
            (ids::OVERSLEEP, "exp2", Unit::Time, 120e3),
            (ids::OVERSLEEP, "smol", Unit::Time, 60e3),
        ]);
        let v = check(goal, &r).unwrap();
        assert!(!v.met);
        assert_eq!(v.ratio, "1.20 of the limit");
        assert_eq!(v.theirs, "smol: 60.0 µs");
        // Not measured: no verdict.
        assert!(check(goal, &Results::default()).is_none());
        // The better peer needs both peers.
        let g = Goal {
            against: Against::BetterPeer,
            limit: 1.0,
            ..goal.clone()
        };
        assert!(check(&g, &r).is_none());
    }
}
