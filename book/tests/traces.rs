//! (d) Every stage's demo, run with `EXP_TRACE=1`, prints a trace that the
//! book's tool can draw: each trace line parses under the grammar of
//! `book/tool/trace.rs` and names a thread the stage has, the stage's own
//! events are all there, each lane's idle waits end before the next begins,
//! and the demo's lines share the trace's clock.
//!
//! One test per stage; the demos are built once, as for the transcripts.

use std::collections::BTreeSet;
use std::sync::OnceLock;

use book::stages::{self, Stage};
use book::trace::{self, Event, IdleKind, Thread};
use book::transcript::{self, Demos, Which};

/// Every demo, built once for all the tests of this file.
fn demos() -> &'static Demos {
    static DEMOS: OnceLock<Demos> = OnceLock::new();
    DEMOS.get_or_init(|| {
        let stages: Vec<Stage> = stages::STAGES.to_vec();
        Demos::build(&book::root(), &stages).expect("building the demos")
    })
}

/// What kind of event a line is, without its numbers: what a stage must
/// show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Run,
    Polled,
    /// A wake on the scheduler's own thread.
    Woke,
    /// A wake from a pool worker.
    WokeFromPool,
    Spawned,
    Idle(IdleKind),
    Awake,
    TimerFired,
    FdReady,
    JobQueued,
    JobStarted,
    JobFinished,
    ByteWritten,
    BytesDrained,
}

/// The start of every message of a known kind: a message that starts so
/// and still parses as unknown is a known event misprinted.
const KNOWN_PREFIXES: &[&str] = &[
    "run: ",
    "polled task ",
    "woke task ",
    "spawned task ",
    "idle: sleep for",
    "idle: condvar wait",
    "idle: poll(2) on",
    "idle: awake",
    "timer fired",
    "fd ",
    "job ",
    "self-wake: byte",
];

/// Runs `krate`'s demo with `EXP_TRACE=1` and checks its trace (see the
/// module docs); `kinds` are the events it must have, `maybe` those it may
/// have, and `pool` says whether the stage has pool workers.
fn check(krate: &str, kinds: &[Kind], maybe: &[Kind], pool: bool) {
    let stage = stages::stage(krate).expect("a stage of the table");
    // Every run's lines must be right; the kinds may take a few runs to all
    // show up (exp6's demo writes a self-wake byte only when a worker finds
    // the loop parked, which a busy machine may make it miss).
    let mut seen = BTreeSet::new();
    let wanted: BTreeSet<Kind> = kinds.iter().copied().collect();
    for _ in 0..transcript::TRIES {
        check_run(stage, pool, &mut seen);
        if wanted.is_subset(&seen) {
            break;
        }
    }
    let missing: Vec<&Kind> = wanted.difference(&seen).collect();
    assert!(
        missing.is_empty(),
        "{krate}'s trace has no {missing:?} in {} runs",
        transcript::TRIES
    );
    let extra: Vec<&Kind> = seen
        .difference(&wanted)
        .filter(|kind| !maybe.contains(kind))
        .collect();
    assert!(
        extra.is_empty(),
        "{krate}'s trace has events of another stage: {extra:?}"
    );
}

/// Runs `stage`'s demo once, checks each of its lines, and adds the kinds
/// of event it has to `seen`.
fn check_run(stage: &Stage, pool: bool, seen: &mut BTreeSet<Kind>) {
    let output = demos()
        .run(&book::root(), stage, Which::Trace)
        .expect("running the demo");
    let mut idle_lanes = BTreeSet::new();
    let mut jobs = BTreeSet::new();
    // The demo's lines and the scheduler's, in the order written, and the
    // line of the latest time so far.
    let mut latest: Option<(u64, &str)> = None;
    for text in output.lines() {
        let at = if text.trim_start().starts_with("[trace") {
            let line =
                trace::parse_line(text).unwrap_or_else(|| panic!("not a trace line: {text}"));
            match &line.thread {
                Thread::Scheduler => {}
                Thread::Pool(n) => assert!(pool && *n >= 1, "no such thread: {text}"),
                Thread::Other(_) => panic!("a thread the demo does not have: {text}"),
            }
            let kind = match line.event {
                Event::Unknown(message) => {
                    assert!(
                        !KNOWN_PREFIXES.iter().any(|p| message.starts_with(p)),
                        "a known event misprinted: {text}"
                    );
                    None
                }
                Event::Run { .. } => Some(Kind::Run),
                Event::Polled { .. } => Some(Kind::Polled),
                Event::Woke { .. } if line.thread == Thread::Scheduler => Some(Kind::Woke),
                Event::Woke { .. } => Some(Kind::WokeFromPool),
                Event::Spawned { .. } => Some(Kind::Spawned),
                Event::Idle { kind, .. } => {
                    let fresh = idle_lanes.insert(line.thread.clone());
                    assert!(
                        fresh,
                        "an idle wait began before the last one ended: {text}"
                    );
                    Some(Kind::Idle(kind))
                }
                Event::Awake { .. } => {
                    let waiting = idle_lanes.remove(&line.thread);
                    assert!(waiting, "awake, but not idle: {text}");
                    Some(Kind::Awake)
                }
                Event::TimerFired { .. } => Some(Kind::TimerFired),
                Event::FdReady { .. } => Some(Kind::FdReady),
                Event::JobQueued { .. } => Some(Kind::JobQueued),
                Event::JobStarted { task } => {
                    assert!(matches!(line.thread, Thread::Pool(_)), "{text}");
                    assert!(jobs.insert((line.thread.clone(), task)), "{text}");
                    Some(Kind::JobStarted)
                }
                Event::JobFinished { task } => {
                    let started = jobs.remove(&(line.thread.clone(), task));
                    assert!(
                        started,
                        "a job finished that this worker did not start: {text}"
                    );
                    Some(Kind::JobFinished)
                }
                Event::ByteWritten => Some(Kind::ByteWritten),
                Event::BytesDrained { .. } => Some(Kind::BytesDrained),
            };
            seen.extend(kind);
            // A worker's lines may be written a moment after the
            // scheduler's later ones: only the scheduler's share its order
            // with the demo's.
            (line.thread == Thread::Scheduler).then_some(line.at)
        } else {
            // A demo line: `   12.345 ms  C1: a`.
            text.split_once(" ms  ")
                .and_then(|(time, _)| trace::decimal(time, 1_000_000))
        };
        if let Some(at) = at {
            if let Some((before, earlier)) = latest {
                assert!(
                    at >= before,
                    "one clock: this line\n  {text}\nwas written after\n  {earlier}"
                );
            }
            latest = Some((at, text));
        }
    }
    assert!(latest.is_some(), "no stamped line at all:\n{output}");
}

use Kind::*;

#[test]
fn exp1_traces_its_run_and_every_timed_poll() {
    check("exp1-simplest", &[Run, Polled], &[], false);
}

#[test]
fn exp2_traces_wakes_sleeps_and_timers() {
    check(
        "exp2-sleep",
        &[Run, Polled, Woke, Idle(IdleKind::Sleep), Awake, TimerFired],
        &[],
        false,
    );
}

#[test]
fn exp3_traces_spawns() {
    check(
        "exp3-spawn",
        &[
            Run,
            Polled,
            Woke,
            Idle(IdleKind::Sleep),
            Awake,
            TimerFired,
            Spawned,
        ],
        &[],
        false,
    );
}

#[test]
fn exp4_traces_condvar_waits_and_pool_jobs() {
    check(
        "exp4-threadpool",
        &[
            Run,
            Polled,
            Woke,
            WokeFromPool,
            Idle(IdleKind::Condvar),
            Awake,
            TimerFired,
            JobQueued,
            JobStarted,
            JobFinished,
        ],
        &[],
        true,
    );
}

#[test]
fn exp5_traces_poll_waits_and_ready_fds() {
    check(
        "exp5-selectors",
        &[
            Run,
            Polled,
            Woke,
            Spawned,
            Idle(IdleKind::Poll),
            Awake,
            FdReady,
        ],
        &[],
        false,
    );
}

/// The events exp6's demo shows: everything but `thread::sleep` and
/// `Condvar` waits.
const COMBINED: &[Kind] = &[
    Run,
    Polled,
    Woke,
    WokeFromPool,
    Spawned,
    Idle(IdleKind::Poll),
    Awake,
    TimerFired,
    FdReady,
    JobQueued,
    JobStarted,
    JobFinished,
    ByteWritten,
    BytesDrained,
];

#[test]
fn exp6_traces_pool_jobs_and_self_wake_bytes() {
    check("exp6-combined", COMBINED, &[], true);
}

#[test]
fn tuned_traces_what_exp6_does() {
    // Its scheduler spins a moment before it parks, and the demo's jobs are
    // short: most runs, every wake lands during a spin, and no byte is
    // written.
    let (bytes, rest): (Vec<Kind>, Vec<Kind>) = COMBINED
        .iter()
        .partition(|kind| matches!(kind, ByteWritten | BytesDrained));
    check("exp6-tuned", &rest, &bytes, true);
}
