//! The `EXP_TRACE=1` line format, and nothing else: how one stderr line of a
//! stage reads. [`crate::timeline`] draws what this module parses, so a change
//! of format is a change here.
//!
//! # Grammar
//!
//! One event a line, readable by people:
//!
//! ```text
//! [trace   12.345 ms scheduler] polled task 3: Pending (4.1 µs)
//! ```
//!
//! ```text
//! LINE     = "[trace" SP+ TIME " ms" SP+ THREAD "]" SP MESSAGE
//! TIME     = DIGITS ["." DIGITS]    ms on the demo's own clock, printed {:>9.3}
//! THREAD   = "scheduler" | "pool-" N (a pool worker, from 1) | "thread-" NAME
//!            (any other thread: its name, or its id); no "]" in it
//! DURATION = DIGITS ["." DIGITS] [SP] UNIT      UNIT = "ns" | "µs" | "us" | "ms" | "s"
//! MESSAGE  = "run: " N " tasks"
//!          | "polled task " T ": " ("Pending" | "Ready") " (" DURATION ")"
//!          | "woke task " T                 on the lane of the thread that woke it
//!          | "spawned task " T
//!          | "idle: sleep for " DURATION                        thread::sleep
//!          | "idle: condvar wait for " DURATION
//!          | "idle: condvar wait, no timeout"                   Condvar
//!          | "idle: poll(2) on " N " fds, timeout " DURATION
//!          | "idle: poll(2) on " N " fds, no timeout"           poll(2)
//!          | "idle: awake" [", " N " fds ready"]               ends the lane's idle wait
//!          | "timer fired: task " T
//!          | "fd " F " ready: task " T [" (" EVENTS ")"]        EVENTS: POLLIN|POLLHUP
//!          | "job queued: task " T | "job started: task " T | "job finished: task " T
//!          | "self-wake: byte written"                          on the writer's lane
//!          | "self-wake: " N " bytes drained"
//! ```
//!
//! A poll line is printed when the poll ends: the poll took DURATION and
//! spans `[TIME - DURATION, TIME]`. A job is started and finished on the
//! lane of the worker that ran it.
//!
//! Leniencies, so that a stage can print with `{:?}`: a DURATION may be
//! Rust's `Debug` of a `Duration` (`99.98ms`, no space), `Ready` may be
//! followed by its value (`Ready(())`), and `task`, `fd` and `byte` may be
//! singular. A line in the `[trace ...]` shape with any other MESSAGE is an
//! [`Event::Unknown`]; any other line (the demo's stdout, cargo's output) is
//! not a trace line at all.

use std::fmt;

/// A time or a duration, in nanoseconds.
pub type Nanos = u64;

/// The thread a trace line names.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Thread {
    /// The thread that runs `run`.
    Scheduler,
    /// Pool worker N (`pool-1` is the first).
    Pool(u32),
    /// Any other thread, by the name it is traced under (`thread-main`).
    Other(String),
}

impl Thread {
    /// The thread named `name` in a trace line.
    pub fn parse(name: &str) -> Thread {
        if name == "scheduler" {
            return Thread::Scheduler;
        }
        match name.strip_prefix("pool-").and_then(|n| n.parse().ok()) {
            Some(n) => Thread::Pool(n),
            None => Thread::Other(name.to_string()),
        }
    }
}

impl fmt::Display for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Thread::Scheduler => f.write_str("scheduler"),
            Thread::Pool(n) => write!(f, "pool-{n}"),
            Thread::Other(name) => f.write_str(name),
        }
    }
}

/// How a thread waits when it has nothing to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IdleKind {
    /// `thread::sleep` until the next timer (exp2, exp3).
    Sleep,
    /// A `Condvar` wait for a wake or the next timer (exp4).
    Condvar,
    /// `poll(2)` on the registered fds (exp5, exp6).
    Poll,
}

impl IdleKind {
    /// How the legend and the tooltips name it.
    pub fn name(self) -> &'static str {
        match self {
            IdleKind::Sleep => "thread::sleep",
            IdleKind::Condvar => "Condvar wait",
            IdleKind::Poll => "poll(2)",
        }
    }
}

/// What one trace line says happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// `run: N tasks`: the run starts.
    Run {
        /// The tasks `run` was given.
        tasks: u64,
    },
    /// `polled task T: Pending (D)`: a poll that ended now.
    Polled {
        /// The task.
        task: u64,
        /// Whether it returned `Ready`.
        ready: bool,
        /// How long the poll took.
        took: Nanos,
    },
    /// `woke task T`.
    Woke {
        /// The task woken.
        task: u64,
    },
    /// `spawned task T`.
    Spawned {
        /// The new task.
        task: u64,
    },
    /// `idle: ...`: the thread starts waiting.
    Idle {
        /// How it waits.
        kind: IdleKind,
        /// For how long at most; `None` for no timeout.
        timeout: Option<Nanos>,
        /// The fds `poll(2)` waits on.
        fds: Option<u64>,
    },
    /// `idle: awake`: the wait that the same thread started last is over.
    Awake {
        /// The fds `poll(2)` found ready.
        ready_fds: Option<u64>,
    },
    /// `timer fired: task T`.
    TimerFired {
        /// The task whose timer it was.
        task: u64,
    },
    /// `fd F ready: task T`.
    FdReady {
        /// The file descriptor.
        fd: u64,
        /// The task registered for it.
        task: u64,
    },
    /// `job queued: task T`: the scheduler hands a job to the pool.
    JobQueued {
        /// The task awaiting the job.
        task: u64,
    },
    /// `job started: task T`, on the worker's lane.
    JobStarted {
        /// The task awaiting the job.
        task: u64,
    },
    /// `job finished: task T`, on the worker's lane.
    JobFinished {
        /// The task awaiting the job.
        task: u64,
    },
    /// `self-wake: byte written`, on the lane of the thread that wrote it.
    ByteWritten,
    /// `self-wake: N bytes drained`.
    BytesDrained {
        /// How many.
        bytes: u64,
    },
    /// A trace line whose message is none of the above: its message.
    Unknown(String),
}

/// One trace line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// When, on the demo's clock.
    pub at: Nanos,
    /// The thread that printed it.
    pub thread: Thread,
    /// What happened.
    pub event: Event,
}

/// A whole trace file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// Its trace lines, in file order.
    pub lines: Vec<Line>,
    /// How many lines were not trace lines (the demo's own output).
    pub other_lines: usize,
}

/// Parses a trace file: every line, trace line or not.
pub fn parse(text: &str) -> Trace {
    let mut trace = Trace::default();
    for line in text.lines() {
        match parse_line(line) {
            Some(line) => trace.lines.push(line),
            None => trace.other_lines += 1,
        }
    }
    trace
}

/// One line, or `None` when it is not a trace line.
pub fn parse_line(line: &str) -> Option<Line> {
    let rest = line.trim_start().strip_prefix("[trace")?;
    let rest = rest.trim_start();
    let (time, rest) = rest.split_once(" ms")?;
    let at = decimal(time, 1_000_000)?;
    let (thread, message) = rest.split_once(']')?;
    let thread = thread.trim();
    if thread.is_empty() {
        return None;
    }
    let message = message.strip_prefix(' ').unwrap_or(message).trim_end();
    Some(Line {
        at,
        thread: Thread::parse(thread),
        event: parse_event(message),
    })
}

/// The event a trace line's message names.
pub fn parse_event(message: &str) -> Event {
    known_event(message).unwrap_or_else(|| Event::Unknown(message.to_string()))
}

fn known_event(message: &str) -> Option<Event> {
    if let Some(rest) = message.strip_prefix("polled task ") {
        let (task, rest) = rest.split_once(": ")?;
        let (status, took) = rest.strip_suffix(')')?.rsplit_once(" (")?;
        let ready = match status {
            "Pending" => false,
            _ if status.starts_with("Ready") => true,
            _ => return None,
        };
        return Some(Event::Polled {
            task: number(task)?,
            ready,
            took: duration(took)?,
        });
    }
    if let Some(rest) = message.strip_prefix("idle: ") {
        return idle(rest);
    }
    if let Some(rest) = message.strip_prefix("self-wake: ") {
        if rest == "byte written" {
            return Some(Event::ByteWritten);
        }
        let bytes = plural(rest.strip_suffix(" drained")?, "byte")?;
        return Some(Event::BytesDrained {
            bytes: number(bytes)?,
        });
    }
    if let Some(rest) = message.strip_prefix("fd ") {
        let (fd, task) = rest.split_once(" ready: task ")?;
        // What `poll(2)` reported, for people: `3 (POLLIN|POLLHUP)`.
        let task = task.split_once(" (").map_or(task, |(task, _)| task);
        return Some(Event::FdReady {
            fd: number(fd)?,
            task: number(task)?,
        });
    }
    if let Some(rest) = message.strip_prefix("run: ") {
        return Some(Event::Run {
            tasks: number(plural(rest, "task")?)?,
        });
    }
    type Of = fn(u64) -> Event;
    let tasked: [(&str, Of); 6] = [
        ("woke task ", |task| Event::Woke { task }),
        ("spawned task ", |task| Event::Spawned { task }),
        ("timer fired: task ", |task| Event::TimerFired { task }),
        ("job queued: task ", |task| Event::JobQueued { task }),
        ("job started: task ", |task| Event::JobStarted { task }),
        ("job finished: task ", |task| Event::JobFinished { task }),
    ];
    tasked.iter().find_map(|(prefix, event)| {
        let task = number(message.strip_prefix(prefix)?)?;
        Some(event(task))
    })
}

/// The message after `idle: `.
fn idle(rest: &str) -> Option<Event> {
    if rest == "awake" {
        return Some(Event::Awake { ready_fds: None });
    }
    if let Some(ready) = rest.strip_prefix("awake, ") {
        let fds = plural(ready.strip_suffix(" ready")?, "fd")?;
        return Some(Event::Awake {
            ready_fds: Some(number(fds)?),
        });
    }
    if let Some(time) = rest.strip_prefix("sleep for ") {
        return Some(Event::Idle {
            kind: IdleKind::Sleep,
            timeout: Some(duration(time)?),
            fds: None,
        });
    }
    if let Some(rest) = rest.strip_prefix("condvar wait") {
        return Some(Event::Idle {
            kind: IdleKind::Condvar,
            timeout: timeout(rest, " for ")?,
            fds: None,
        });
    }
    let rest = rest.strip_prefix("poll(2) on ")?;
    let (fds, rest) = rest.split_at(rest.find(',')?);
    Some(Event::Idle {
        kind: IdleKind::Poll,
        timeout: timeout(rest, ", timeout ")?,
        fds: Some(number(plural(fds, "fd")?)?),
    })
}

/// `", no timeout"` is `Some(None)`; `introducer` then a duration is
/// `Some(Some(duration))`.
fn timeout(rest: &str, introducer: &str) -> Option<Option<Nanos>> {
    if rest == ", no timeout" {
        return Some(None);
    }
    Some(Some(duration(rest.strip_prefix(introducer)?)?))
}

/// `"3 fds"` or `"1 fd"` (with `noun` = `"fd"`) is `"3"` or `"1"`.
fn plural<'a>(text: &'a str, noun: &str) -> Option<&'a str> {
    let text = text.strip_suffix('s').unwrap_or(text);
    text.strip_suffix(noun)?.strip_suffix(' ')
}

/// A whole number, digits only.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A duration: a decimal number, an optional space, a unit.
pub fn duration(text: &str) -> Option<Nanos> {
    const UNITS: [(&str, u64); 5] = [
        ("ns", 1),
        ("µs", 1_000),
        ("us", 1_000),
        ("ms", 1_000_000),
        ("s", 1_000_000_000),
    ];
    UNITS.iter().find_map(|&(unit, nanos)| {
        let number = text.strip_suffix(unit)?;
        decimal(number.strip_suffix(' ').unwrap_or(number), nanos)
    })
}

/// A decimal number of `unit` nanoseconds (`"12.345"`, `1_000_000` for
/// milliseconds), exactly, to the nanosecond; leading spaces allowed.
pub fn decimal(text: &str, unit: u64) -> Option<Nanos> {
    let text = text.trim_start();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(fraction) || text.ends_with('.') {
        return None;
    }
    let mut nanos = u128::from(whole.parse::<u64>().ok()?) * u128::from(unit);
    // Digits past the nanosecond change nothing.
    let mut scale = u128::from(unit);
    for digit in fraction.bytes() {
        scale /= 10;
        nanos += u128::from(digit - b'0') * scale;
    }
    u64::try_from(nanos).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(message: &str) -> Event {
        parse_event(message)
    }

    #[test]
    fn a_line_names_its_time_and_thread() {
        let line = parse_line("[trace   12.345 ms scheduler] polled task 3: Pending (4.1 µs)");
        assert_eq!(
            line,
            Some(Line {
                at: 12_345_000,
                thread: Thread::Scheduler,
                event: Event::Polled {
                    task: 3,
                    ready: false,
                    took: 4_100
                },
            })
        );
        let line = parse_line("[trace  1700.409 ms pool-2] job started: task 17").unwrap();
        assert_eq!((line.at, line.thread), (1_700_409_000, Thread::Pool(2)));
        let line = parse_line("[trace 0.000 ms thread-main] self-wake: byte written").unwrap();
        assert_eq!(line.thread, Thread::Other("thread-main".into()));
        assert_eq!(line.event, Event::ByteWritten);
    }

    #[test]
    fn other_lines_are_not_trace_lines() {
        for line in [
            "   0.347 ms  wave 1: 10 clients connect",
            "[trace     0.001 ms] woke task 0",
            "[trace x ms scheduler] woke task 0",
            "   Compiling exp6-combined v0.1.0",
            "",
        ] {
            assert_eq!(parse_line(line), None, "{line}");
        }
        let trace = parse("hello\n[trace 1.000 ms scheduler] woke task 1\n");
        assert_eq!((trace.lines.len(), trace.other_lines), (1, 1));
    }

    #[test]
    fn an_unknown_message_is_kept_as_unknown() {
        let line =
            parse_line("[trace 1.5 ms scheduler] reactor: fd 3 registered for Read").unwrap();
        assert_eq!(
            line.event,
            Event::Unknown("reactor: fd 3 registered for Read".into())
        );
        assert_eq!(
            event("polled task 3: Pending"),
            Event::Unknown("polled task 3: Pending".into()),
            "a poll without its duration cannot be drawn"
        );
        assert!(matches!(
            event("polled task 3: Maybe (1 ms)"),
            Event::Unknown(_)
        ));
    }

    #[test]
    fn every_event_kind_parses() {
        use Event::*;
        let cases = [
            ("run: 7 tasks", Run { tasks: 7 }),
            ("run: 1 task", Run { tasks: 1 }),
            (
                "polled task 3: Ready (250 ns)",
                Polled {
                    task: 3,
                    ready: true,
                    took: 250,
                },
            ),
            (
                "polled task 4: Ready(()) (1.5ms)",
                Polled {
                    task: 4,
                    ready: true,
                    took: 1_500_000,
                },
            ),
            ("woke task 12", Woke { task: 12 }),
            ("spawned task 8", Spawned { task: 8 }),
            (
                "idle: sleep for 300 ms",
                Idle {
                    kind: IdleKind::Sleep,
                    timeout: Some(300_000_000),
                    fds: None,
                },
            ),
            (
                "idle: condvar wait for 99.098188ms",
                Idle {
                    kind: IdleKind::Condvar,
                    timeout: Some(99_098_188),
                    fds: None,
                },
            ),
            (
                "idle: condvar wait, no timeout",
                Idle {
                    kind: IdleKind::Condvar,
                    timeout: None,
                    fds: None,
                },
            ),
            (
                "idle: poll(2) on 12 fds, timeout 2.5 s",
                Idle {
                    kind: IdleKind::Poll,
                    timeout: Some(2_500_000_000),
                    fds: Some(12),
                },
            ),
            (
                "idle: poll(2) on 1 fd, no timeout",
                Idle {
                    kind: IdleKind::Poll,
                    timeout: None,
                    fds: Some(1),
                },
            ),
            ("idle: awake", Awake { ready_fds: None }),
            ("idle: awake, 3 fds ready", Awake { ready_fds: Some(3) }),
            ("timer fired: task 6", TimerFired { task: 6 }),
            ("fd 9 ready: task 10", FdReady { fd: 9, task: 10 }),
            (
                "fd 9 ready: task 10 (POLLIN|POLLHUP)",
                FdReady { fd: 9, task: 10 },
            ),
            ("job queued: task 5", JobQueued { task: 5 }),
            ("job started: task 5", JobStarted { task: 5 }),
            ("job finished: task 5", JobFinished { task: 5 }),
            ("self-wake: byte written", ByteWritten),
            ("self-wake: 2 bytes drained", BytesDrained { bytes: 2 }),
            ("self-wake: 1 byte drained", BytesDrained { bytes: 1 }),
        ];
        for (message, expected) in cases {
            assert_eq!(event(message), expected, "{message}");
        }
    }

    #[test]
    fn durations_take_every_unit_exactly() {
        assert_eq!(duration("4.1 µs"), Some(4_100));
        assert_eq!(duration("4.1us"), Some(4_100));
        assert_eq!(duration("17 ns"), Some(17));
        assert_eq!(duration("0.001 ms"), Some(1_000));
        assert_eq!(duration("1.000000001s"), Some(1_000_000_001));
        assert_eq!(duration("12"), None);
        assert_eq!(duration("1. ms"), None);
        assert_eq!(duration("-1 ms"), None);
        assert_eq!(decimal("   12.345", 1_000_000), Some(12_345_000));
    }
}
