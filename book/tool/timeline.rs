//! `cargo run -p book -- timeline TRACE_FILE > picture.svg`: draws an
//! `EXP_TRACE=1` trace (the format of [`crate::trace`]) as an SVG timeline.
//!
//! One lane per thread (the scheduler first, then the pool workers, then
//! any other thread), time running left to right:
//!
//! - a poll is a box labelled with its task id (when the label fits; every
//!   box has a tooltip), darker when the task returned `Ready`;
//! - a pool job is a box on its worker's lane, from started to finished;
//! - an idle wait is shaded by its kind (`thread::sleep`, `Condvar`,
//!   `poll(2)`), each with its own pattern;
//! - a wake from another thread than the scheduler is an arrow from the
//!   wake to the task's next poll (a cross when no poll follows it); a job
//!   handed to the pool is a dashed arrow from the scheduler to the job;
//! - timers firing, fds turning ready, self-wake bytes written and drained,
//!   spawns and the run's start are marks of distinct shapes.
//!
//! # The time axis and its cuts
//!
//! A poll takes microseconds, a sleep hundreds of milliseconds. Time is
//! linear between cuts: every stretch of time in which no event starts,
//! ends or happens, and that is longer than the cut threshold, is drawn
//! [`BREAK_W`] pixels wide, with a zig-zag on either side and the time it
//! stands for written under it. Stretches are cut longest first while
//! each is longer than [`CUT_FACTOR`] times the median gap between
//! consecutive instants and, drawn to the scale of what is left, wider than
//! a cut (so that cutting it leaves more room for the rest), [`MAX_BREAKS`]
//! at most. `--cut MS` sets the threshold instead. A demo that sleeps a
//! dozen times has a dozen long stretches: when the cuts at full width
//! would take more than [`CUT_SHARE`] of the axis, every cut is narrowed
//! to fit, down to [`MIN_BREAK_W`], and their labels take a second row
//! where the first has no room.
//!
//! # What a picture leaves out
//!
//! `--from MS --to MS` draws a window of the trace (spans crossing its edges
//! are clipped; a wait still open at the trace's end runs to `--to`). A window with more than `--max-events` events (default
//! [`MAX_EVENTS`]) is cut short after that many, and the caption says from
//! when on events were left out. Trace lines of an unknown kind are not
//! drawn and are counted in the caption; lines that are not trace lines
//! (the demo's own output) are skipped.
//!
//! The output depends on the input alone: same trace and options, same
//! bytes. [`summary`] gives what a picture shows without its times, for a
//! comparison that survives a fresh run.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::{self, Write};

use crate::trace::{self, Event, IdleKind, Line, Nanos, Thread};

/// Events a picture draws at most, unless `--max-events` says otherwise.
pub const MAX_EVENTS: usize = 250;

/// No stretch shorter than this many times the median gap between
/// instants is cut.
pub const CUT_FACTOR: u64 = 5;

/// At most this many stretches are cut.
pub const MAX_BREAKS: usize = 24;

/// The width of a cut stretch, in pixels, when there is room.
pub const BREAK_W: f64 = 40.0;

/// The narrowest a cut is drawn, when many share the axis.
pub const MIN_BREAK_W: f64 = 16.0;

/// The most of the axis the cuts take, while they can be narrowed.
pub const CUT_SHARE: f64 = 0.5;

/// The picture's width: about the width of the book's text.
const WIDTH: f64 = 750.0;
/// Where the time axis starts: the lane names are left of it.
const PLOT_X0: f64 = 86.0;
/// Where the time axis ends.
const PLOT_X1: f64 = 740.0;
/// A lane's height.
const LANE_H: f64 = 44.0;
/// Where, in a lane, the marks' row is centred.
const MARK_Y: f64 = 9.0;
/// Where, in a lane, a box starts, and its height.
const BOX_Y: f64 = 17.0;
const BOX_H: f64 = 20.0;
/// The narrowest box drawn, however short the poll.
const MIN_BOX_W: f64 = 1.5;
/// The width of one character of 11 px text, roughly.
const CHAR_W: f64 = 6.6;
/// The width of a digit of 11 px text.
const DIGIT_W: f64 = 6.2;
/// How far in from a cut's edges its zig-zags are.
const CUT_MARGIN: f64 = 5.0;
/// A wake this close before a poll's start still counts as before it: the
/// trace prints its times to the microsecond.
const WAKE_SLACK: Nanos = 1_000;

/// How much of a trace to draw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// Draw from this time on (`--from MS`).
    pub from: Option<Nanos>,
    /// Draw up to this time (`--to MS`).
    pub to: Option<Nanos>,
    /// Cut the window short after this many events (`--max-events N`).
    pub max_events: usize,
    /// Cut stretches with no event longer than this (`--cut MS`); `None`
    /// picks the threshold from the trace (see the module docs).
    pub cut: Option<Nanos>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            from: None,
            to: None,
            max_events: MAX_EVENTS,
            cut: None,
        }
    }
}

/// Something drawn over a stretch of a lane.
#[derive(Clone, Debug, PartialEq, Eq)]
enum SpanKind {
    /// A poll of a task.
    Poll { task: u64, ready: bool },
    /// A pool job awaited by a task.
    Job { task: u64 },
    /// An idle wait.
    Idle {
        kind: IdleKind,
        timeout: Option<Nanos>,
        fds: Option<u64>,
        ready_fds: Option<u64>,
    },
}

/// A box or a shaded stretch.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Span {
    lane: Thread,
    start: Nanos,
    end: Nanos,
    kind: SpanKind,
    /// The trace has no end for it: it is drawn up to the trace's end.
    open: bool,
}

/// Something drawn at one instant of a lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MarkKind {
    Run {
        tasks: u64,
    },
    Spawned {
        task: u64,
    },
    TimerFired {
        task: u64,
    },
    FdReady {
        fd: u64,
        task: u64,
    },
    JobQueued {
        task: u64,
    },
    /// A wake from a thread other than the scheduler.
    Wake {
        task: u64,
    },
    ByteWritten,
    BytesDrained {
        bytes: u64,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Mark {
    lane: Thread,
    at: Nanos,
    kind: MarkKind,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ArrowKind {
    /// A wake from another thread, to the task's next poll.
    Wake,
    /// A job queued, to the job's start on a worker.
    Handoff,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Arrow {
    kind: ArrowKind,
    task: u64,
    from: (Thread, Nanos),
    to: (Thread, Nanos),
}

/// Everything a trace says, laid out as spans, marks and arrows.
#[derive(Debug, Default)]
struct Model {
    /// The known lines, sorted by time (ties in file order).
    lines: Vec<Line>,
    /// Unknown trace lines, with their times.
    unknown: Vec<Nanos>,
    spans: Vec<Span>,
    marks: Vec<Mark>,
    arrows: Vec<Arrow>,
}

impl Model {
    fn new(trace: &trace::Trace) -> Model {
        let mut model = Model::default();
        for line in &trace.lines {
            match line.event {
                Event::Unknown(_) => model.unknown.push(line.at),
                _ => model.lines.push(line.clone()),
            }
        }
        model.lines.sort_by_key(|line| line.at);
        let end = model.lines.last().map_or(0, |line| line.at);
        let mut idle: BTreeMap<Thread, Span> = BTreeMap::new();
        let mut jobs: BTreeMap<(Thread, u64), Nanos> = BTreeMap::new();
        let mut queued: BTreeMap<u64, VecDeque<(Thread, Nanos)>> = BTreeMap::new();
        let mut wakes = Vec::new();
        for Line { at, thread, event } in &model.lines {
            let (at, lane) = (*at, thread.clone());
            let mark = |kind| Mark {
                lane: lane.clone(),
                at,
                kind,
            };
            match *event {
                Event::Run { tasks } => model.marks.push(mark(MarkKind::Run { tasks })),
                Event::Spawned { task } => model.marks.push(mark(MarkKind::Spawned { task })),
                Event::TimerFired { task } => {
                    model.marks.push(mark(MarkKind::TimerFired { task }));
                }
                Event::FdReady { fd, task } => {
                    model.marks.push(mark(MarkKind::FdReady { fd, task }));
                }
                Event::ByteWritten => model.marks.push(mark(MarkKind::ByteWritten)),
                Event::BytesDrained { bytes } => {
                    model.marks.push(mark(MarkKind::BytesDrained { bytes }));
                }
                Event::JobQueued { task } => {
                    model.marks.push(mark(MarkKind::JobQueued { task }));
                    // The handoff arrow is drawn when a worker starts it.
                    queued
                        .entry(task)
                        .or_default()
                        .push_back((lane.clone(), at));
                }
                Event::Woke { task } => {
                    if lane != Thread::Scheduler {
                        model.marks.push(mark(MarkKind::Wake { task }));
                        wakes.push((lane, at, task));
                    }
                }
                Event::Polled { task, ready, took } => model.spans.push(Span {
                    lane,
                    start: at.saturating_sub(took),
                    end: at,
                    kind: SpanKind::Poll { task, ready },
                    open: false,
                }),
                Event::Idle { kind, timeout, fds } => {
                    let span = Span {
                        lane: lane.clone(),
                        start: at,
                        end: at,
                        kind: SpanKind::Idle {
                            kind,
                            timeout,
                            fds,
                            ready_fds: None,
                        },
                        open: false,
                    };
                    // A wait the thread never said it woke from ends here.
                    if let Some(mut before) = idle.insert(lane, span) {
                        before.end = at;
                        before.open = true;
                        model.spans.push(before);
                    }
                }
                Event::Awake { ready_fds } => {
                    if let Some(mut span) = idle.remove(&lane) {
                        span.end = at;
                        if let SpanKind::Idle { ready_fds: r, .. } = &mut span.kind {
                            *r = ready_fds;
                        }
                        model.spans.push(span);
                    }
                }
                Event::JobStarted { task } => {
                    jobs.insert((lane.clone(), task), at);
                    if let Some(from) = queued.get_mut(&task).and_then(VecDeque::pop_front) {
                        model.arrows.push(Arrow {
                            kind: ArrowKind::Handoff,
                            task,
                            from,
                            to: (lane, at),
                        });
                    }
                }
                Event::JobFinished { task } => {
                    let start = jobs.remove(&(lane.clone(), task)).unwrap_or(at);
                    model.spans.push(Span {
                        lane,
                        start,
                        end: at,
                        kind: SpanKind::Job { task },
                        open: false,
                    });
                }
                Event::Unknown(_) => unreachable!("left out above"),
            }
        }
        for (_, mut span) in idle {
            span.end = end;
            span.open = true;
            model.spans.push(span);
        }
        for ((lane, task), start) in jobs {
            model.spans.push(Span {
                lane,
                start,
                end,
                kind: SpanKind::Job { task },
                open: true,
            });
        }
        // The scheduler's polls of each task, by start.
        let mut polls: BTreeMap<u64, Vec<Nanos>> = BTreeMap::new();
        for span in &model.spans {
            if let (Thread::Scheduler, SpanKind::Poll { task, .. }) = (&span.lane, &span.kind) {
                polls.entry(*task).or_default().push(span.start);
            }
        }
        for starts in polls.values_mut() {
            starts.sort_unstable();
        }
        for (lane, at, task) in wakes {
            let Some(starts) = polls.get(&task) else {
                continue;
            };
            let next = starts.partition_point(|&start| start + WAKE_SLACK < at);
            if let Some(&poll) = starts.get(next) {
                model.arrows.push(Arrow {
                    kind: ArrowKind::Wake,
                    task,
                    from: (lane, at),
                    to: (Thread::Scheduler, poll),
                });
            }
        }
        model
    }
}

/// The part of a trace that one picture shows, laid out on its time axis.
#[derive(Debug)]
pub struct View {
    from: Nanos,
    to: Nanos,
    /// The known lines in the window, by time.
    lines: Vec<Line>,
    lanes: Vec<Thread>,
    spans: Vec<Span>,
    marks: Vec<Mark>,
    arrows: Vec<Arrow>,
    /// Unknown trace lines in the window.
    unknown: usize,
    /// Events left out after the window was cut short at `max_events`.
    left_out: usize,
    /// `max_events`, when it cut the window short.
    cut_short: Option<usize>,
    axis: Axis,
}

/// Picks the part of `trace` that `options` asks for and lays it out.
pub fn view(trace: &trace::Trace, options: &Options) -> View {
    let model = Model::new(trace);
    let first = model
        .spans
        .iter()
        .map(|span| span.start)
        .chain(model.lines.iter().map(|line| line.at))
        .min()
        .unwrap_or(0);
    // Lines of an unknown kind draw nothing, so they do not stretch the
    // window (a pool's last words after the run's last poll).
    let last = model.lines.iter().map(|line| line.at).max().unwrap_or(0);
    let from = options.from.unwrap_or(first);
    let mut to = options.to.unwrap_or(last).max(from);
    let in_window: Vec<&Line> = model
        .lines
        .iter()
        .filter(|line| (from..=to).contains(&line.at))
        .collect();
    let mut left_out = 0;
    let mut cut_short = None;
    if in_window.len() > options.max_events.max(1) {
        to = in_window[options.max_events.max(1) - 1].at;
        left_out = in_window.iter().filter(|line| line.at > to).count();
        cut_short = Some(options.max_events.max(1));
    }
    let window = from..=to;
    let lines: Vec<Line> = model
        .lines
        .iter()
        .filter(|line| window.contains(&line.at))
        .cloned()
        .collect();
    let spans: Vec<Span> = model
        .spans
        .iter()
        .filter(|span| span.start <= to && span.end >= from)
        .map(|span| Span {
            start: span.start.max(from),
            // A span still open when the trace ends (a wait that never
            // ended) runs to the window's end, however far `--to` puts it.
            end: if span.open && span.end == last {
                to
            } else {
                span.end.min(to)
            },
            ..span.clone()
        })
        .collect();
    let marks: Vec<Mark> = model
        .marks
        .iter()
        .filter(|mark| window.contains(&mark.at))
        .cloned()
        .collect();
    let arrows: Vec<Arrow> = model
        .arrows
        .iter()
        .filter(|arrow| window.contains(&arrow.from.1) && window.contains(&arrow.to.1))
        .cloned()
        .collect();
    let lanes: BTreeSet<Thread> = spans
        .iter()
        .map(|span| &span.lane)
        .chain(marks.iter().map(|mark| &mark.lane))
        .chain(arrows.iter().flat_map(|arrow| [&arrow.from.0, &arrow.to.0]))
        .cloned()
        .collect();
    let mut instants: Vec<Nanos> = [from, to]
        .into_iter()
        .chain(spans.iter().flat_map(|span| [span.start, span.end]))
        .chain(marks.iter().map(|mark| mark.at))
        .collect();
    instants.sort_unstable();
    instants.dedup();
    View {
        from,
        to,
        lines,
        lanes: lanes.into_iter().collect(),
        spans,
        marks,
        arrows,
        // Those after the last event are in a window that does not end
        // before them.
        unknown: model
            .unknown
            .iter()
            .filter(|&&at| {
                window.contains(&at) || (at > to && options.to.is_none() && cut_short.is_none())
            })
            .count(),
        left_out,
        cut_short,
        axis: Axis::new(&instants, options.cut),
    }
}

/// One stretch of the time axis: drawn to scale, or cut.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Segment {
    t0: Nanos,
    t1: Nanos,
    x0: f64,
    x1: f64,
    cut: bool,
}

/// Where each time is drawn.
#[derive(Clone, Debug, PartialEq)]
struct Axis {
    segments: Vec<Segment>,
    /// Stretches longer than this were cut.
    threshold: Nanos,
}

impl Axis {
    /// Lays out the time axis over the instants of a view (sorted, no
    /// duplicates), cutting the long stretches between them.
    fn new(instants: &[Nanos], cut: Option<Nanos>) -> Axis {
        let gaps: Vec<Nanos> = instants.windows(2).map(|w| w[1] - w[0]).collect();
        let threshold = cut.unwrap_or_else(|| auto_threshold(&gaps));
        let cuts = gaps.iter().filter(|&&gap| gap > threshold).count();
        let linear: Nanos = gaps.iter().filter(|&&gap| gap <= threshold).sum();
        let break_w = break_width(cuts);
        let room = (PLOT_X1 - PLOT_X0 - cuts as f64 * break_w).max(0.0);
        let scale = if linear == 0 {
            0.0
        } else {
            room / linear as f64
        };
        let mut segments: Vec<Segment> = Vec::new();
        let mut x = PLOT_X0;
        for (w, &gap) in instants.windows(2).zip(&gaps) {
            let cut = gap > threshold;
            let width = if cut { break_w } else { gap as f64 * scale };
            match segments.last_mut() {
                Some(last) if !cut && !last.cut => {
                    last.t1 = w[1];
                    last.x1 = x + width;
                }
                _ => segments.push(Segment {
                    t0: w[0],
                    t1: w[1],
                    x0: x,
                    x1: x + width,
                    cut,
                }),
            }
            x += width;
        }
        if segments.is_empty() {
            let t = instants.first().copied().unwrap_or(0);
            segments.push(Segment {
                t0: t,
                t1: t,
                x0: PLOT_X0,
                x1: PLOT_X0,
                cut: false,
            });
        }
        Axis {
            segments,
            threshold,
        }
    }

    /// Where `t` is drawn.
    fn x(&self, t: Nanos) -> f64 {
        let at = self.segments.partition_point(|segment| segment.t1 < t);
        let Some(segment) = self.segments.get(at) else {
            return self.segments.last().map_or(PLOT_X0, |segment| segment.x1);
        };
        if segment.t1 == segment.t0 || t <= segment.t0 {
            return segment.x0;
        }
        let part = (t - segment.t0) as f64 / (segment.t1 - segment.t0) as f64;
        segment.x0 + part * (segment.x1 - segment.x0)
    }

    fn cuts(&self) -> impl Iterator<Item = &Segment> {
        self.segments.iter().filter(|segment| segment.cut)
    }
}

/// How wide each of `cuts` cuts is drawn: [`BREAK_W`], or narrower so that
/// together they take [`CUT_SHARE`] of the axis, but never under
/// [`MIN_BREAK_W`].
fn break_width(cuts: usize) -> f64 {
    if cuts == 0 {
        return BREAK_W;
    }
    let share = CUT_SHARE * (PLOT_X1 - PLOT_X0) / cuts as f64;
    share.clamp(MIN_BREAK_W, BREAK_W)
}

/// The cut threshold of the module docs, from the gaps between instants.
fn auto_threshold(gaps: &[Nanos]) -> Nanos {
    let mut sorted: Vec<Nanos> = gaps.iter().copied().filter(|&gap| gap > 0).collect();
    if sorted.is_empty() {
        return Nanos::MAX;
    }
    sorted.sort_unstable();
    let floor = sorted[sorted.len() / 2].saturating_mul(CUT_FACTOR);
    let mut linear: Nanos = sorted.iter().sum();
    for (cuts, &gap) in sorted.iter().rev().enumerate() {
        // Cutting a stretch leaves more room for the rest only if, drawn to
        // scale, it would be wider than the cut.
        let break_w = break_width(cuts + 1);
        let room = PLOT_X1 - PLOT_X0 - cuts as f64 * break_w;
        let wider = gap as f64 * room > break_w * linear as f64;
        if cuts == MAX_BREAKS || gap <= floor || !wider {
            return gap.max(floor);
        }
        linear -= gap;
    }
    floor
}

/// What kind of step a trace line is, without times, durations and counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// `run: N tasks`.
    Run,
    /// A poll that returned `Pending`.
    PolledPending,
    /// A poll that returned `Ready`.
    PolledReady,
    /// A wake.
    Woke,
    /// A spawn.
    Spawned,
    /// An idle wait starts.
    Idle(IdleKind),
    /// An idle wait ends.
    Awake,
    /// A timer fired.
    TimerFired,
    /// An fd turned ready.
    FdReady,
    /// A job handed to the pool.
    JobQueued,
    /// A worker started a job.
    JobStarted,
    /// A worker finished a job.
    JobFinished,
    /// A self-wake byte written.
    ByteWritten,
    /// Self-wake bytes drained.
    BytesDrained,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Run => "run",
            Kind::PolledPending => "polled: Pending",
            Kind::PolledReady => "polled: Ready",
            Kind::Woke => "woke",
            Kind::Spawned => "spawned",
            Kind::Idle(IdleKind::Sleep) => "idle: sleep",
            Kind::Idle(IdleKind::Condvar) => "idle: condvar",
            Kind::Idle(IdleKind::Poll) => "idle: poll(2)",
            Kind::Awake => "awake",
            Kind::TimerFired => "timer fired",
            Kind::FdReady => "fd ready",
            Kind::JobQueued => "job queued",
            Kind::JobStarted => "job started",
            Kind::JobFinished => "job finished",
            Kind::ByteWritten => "self-wake: byte written",
            Kind::BytesDrained => "self-wake: bytes drained",
        })
    }
}

/// One step of a trace, as [`Summary`] keeps it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Step {
    /// The thread's lane: `scheduler`, `pool-1`, ...
    pub lane: String,
    /// What happened.
    pub kind: Kind,
    /// The task it concerns, if any.
    pub task: Option<u64>,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.lane, self.kind)?;
        match self.task {
            Some(task) => write!(f, " (task {task})"),
            None => Ok(()),
        }
    }
}

/// A picture's structure: its lanes and its steps in order, without the
/// times, durations, fd numbers and counts that differ from run to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The lanes, top to bottom.
    pub lanes: Vec<String>,
    /// The steps drawn, by time (ties in the trace's order).
    pub steps: Vec<Step>,
}

impl Summary {
    /// Which kinds of step each lane has, whatever their order and number.
    pub fn kinds(&self) -> BTreeSet<(String, Kind)> {
        self.steps
            .iter()
            .map(|step| (step.lane.clone(), step.kind))
            .collect()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "lanes: {}", self.lanes.join(", "))?;
        for step in &self.steps {
            writeln!(f, "{step}")?;
        }
        Ok(())
    }
}

/// The structure of what `view` draws.
pub fn summary(view: &View) -> Summary {
    let steps = view
        .lines
        .iter()
        .filter_map(|line| {
            let (kind, task) = match line.event {
                Event::Run { .. } => (Kind::Run, None),
                Event::Polled { task, ready, .. } => (
                    if ready {
                        Kind::PolledReady
                    } else {
                        Kind::PolledPending
                    },
                    Some(task),
                ),
                Event::Woke { task } => (Kind::Woke, Some(task)),
                Event::Spawned { task } => (Kind::Spawned, Some(task)),
                Event::Idle { kind, .. } => (Kind::Idle(kind), None),
                Event::Awake { .. } => (Kind::Awake, None),
                Event::TimerFired { task } => (Kind::TimerFired, Some(task)),
                Event::FdReady { task, .. } => (Kind::FdReady, Some(task)),
                Event::JobQueued { task } => (Kind::JobQueued, Some(task)),
                Event::JobStarted { task } => (Kind::JobStarted, Some(task)),
                Event::JobFinished { task } => (Kind::JobFinished, Some(task)),
                Event::ByteWritten => (Kind::ByteWritten, None),
                Event::BytesDrained { .. } => (Kind::BytesDrained, None),
                Event::Unknown(_) => return None,
            };
            Some(Step {
                lane: line.thread.to_string(),
                kind,
                task,
            })
        })
        .collect();
    Summary {
        lanes: view.lanes.iter().map(Thread::to_string).collect(),
        steps,
    }
}

/// The Okabe-Ito palette, which colour-blind readers tell apart; every kind
/// also has a shape or a pattern of its own, so that the picture reads in
/// grey too. [`DEFS`] draws the idle patterns in orange (sleep), reddish
/// purple (`Condvar`) and yellow (`poll(2)`).
const SKY: &str = "#56B4E9";
const BLUE: &str = "#0072B2";
const GREEN: &str = "#009E73";
const ORANGE: &str = "#E69F00";
const YELLOW: &str = "#F0E442";
const VERMILLION: &str = "#D55E00";

/// The patterns and arrowheads the picture uses.
const DEFS: &str = r##"<defs>
<pattern id="idle-sleep" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#FBEBC6"/><line x1="0" y1="0" x2="0" y2="6" stroke="#E69F00" stroke-width="2"/></pattern>
<pattern id="idle-condvar" width="6" height="5" patternUnits="userSpaceOnUse"><rect width="6" height="5" fill="#F5E1EC"/><line x1="0" y1="1" x2="6" y2="1" stroke="#CC79A7" stroke-width="1.5"/></pattern>
<pattern id="idle-poll" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#FAF5C0"/><circle cx="3" cy="3" r="1.2" fill="#8A7F00"/></pattern>
<marker id="head-wake" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#D55E00"/></marker>
<marker id="head-handoff" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker>
</defs>
"##;

/// Draws `text`, a trace file, as an SVG picture.
pub fn render(text: &str, options: &Options) -> String {
    svg(&view(&trace::parse(text), options))
}

/// The SVG picture of `view`.
pub fn svg(view: &View) -> String {
    let caption = wrap(&caption(view), ((WIDTH - 12.0) / CHAR_W) as usize);
    let axis_y = 14.0 + 15.0 * caption.len() as f64 + 12.0;
    let lanes_top = axis_y + 8.0;
    let lanes_bottom = lanes_top + LANE_H * view.lanes.len() as f64;
    let legend = legend(view);
    let cut_labels = cut_labels(&view.axis);
    let label_rows = cut_labels.iter().map(|label| label.row + 1).max();
    let legend_top = lanes_bottom
        + match label_rows {
            Some(rows) => 14.0 + 12.0 * rows as f64,
            None => 12.0,
        };
    let (legend_svg, legend_h) = layout_legend(&legend, legend_top);
    let height = (legend_top + legend_h + 6.0).ceil();
    let lane_top = |lane: &Thread| {
        let index = view.lanes.iter().position(|l| l == lane).unwrap_or(0);
        lanes_top + LANE_H * index as f64
    };
    let x = |t: Nanos| view.axis.x(t);

    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    out.push_str(DEFS);
    let _ = writeln!(
        out,
        r#"<rect width="{WIDTH}" height="{height}" fill="white"/>"#
    );
    for (i, line) in caption.iter().enumerate() {
        let y = 14.0 + 15.0 * i as f64;
        let size = if i == 0 { 12 } else { 11 };
        let _ = writeln!(
            out,
            r#"<text x="6" y="{y}" font-size="{size}">{}</text>"#,
            escape(line)
        );
    }

    // Lanes, with the time grid over them.
    for (i, lane) in view.lanes.iter().enumerate() {
        let top = lanes_top + LANE_H * i as f64;
        let fill = if i % 2 == 0 { "#F4F4F4" } else { "#FFFFFF" };
        let _ = writeln!(
            out,
            r#"<rect x="0" y="{top}" width="{WIDTH}" height="{LANE_H}" fill="{fill}"/>"#
        );
        let name = lane.to_string();
        let shown = if name.chars().count() > 13 {
            format!("{}…", name.chars().take(12).collect::<String>())
        } else {
            name.clone()
        };
        let _ = writeln!(
            out,
            r#"<text x="6" y="{:.1}">{}<title>{}</title></text>"#,
            top + BOX_Y + 14.0,
            escape(&shown),
            escape(&name)
        );
    }
    let _ = writeln!(
        out,
        r##"<text x="6" y="{axis_y}" font-size="11" fill="#444">time, ms</text>"##
    );
    for (tick_x, label, anchor) in ticks(&view.axis) {
        let _ = writeln!(
            out,
            r##"<line x1="{tick_x:.1}" y1="{:.1}" x2="{tick_x:.1}" y2="{lanes_bottom:.1}" stroke="#D8D8D8"/><text x="{tick_x:.1}" y="{axis_y}" font-size="11" text-anchor="{anchor}">{label}</text>"##,
            axis_y + 3.0
        );
    }

    // A cut shows the lane's background white between its zig-zags; what
    // runs on through it (a sleep, a job) is drawn across it.
    for cut in view.axis.cuts() {
        let margin = cut_margin(cut);
        let (a, b) = (cut.x0 + margin, cut.x1 - margin);
        let _ = writeln!(
            out,
            r#"<rect x="{a:.1}" y="{lanes_top:.1}" width="{:.1}" height="{:.1}" fill="white"/>"#,
            b - a,
            lanes_bottom - lanes_top
        );
    }

    // Idle waits, then jobs and polls over them.
    for span in &view.spans {
        let top = lane_top(&span.lane);
        let (x0, x1) = (x(span.start), x(span.end));
        let w = (x1 - x0).max(MIN_BOX_W);
        let title = escape(&span_title(span));
        match span.kind {
            SpanKind::Idle { kind, .. } => {
                let _ = writeln!(
                    out,
                    r#"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="url(#{})"><title>{title}</title></rect>"#,
                    top + 2.0,
                    LANE_H - 4.0,
                    pattern(kind)
                );
            }
            SpanKind::Job { task } => {
                let _ = writeln!(
                    out,
                    r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{BOX_H}" fill="#B3E2D4" stroke="{GREEN}" stroke-width="1.5"><title>{title}</title></rect>"##,
                    top + BOX_Y
                );
                label(&mut out, x0, w, top, task, "black");
            }
            SpanKind::Poll { task, ready } => {
                let (fill, ink) = if ready {
                    (BLUE, "white")
                } else {
                    (SKY, "black")
                };
                let _ = writeln!(
                    out,
                    r##"<rect x="{x0:.1}" y="{:.1}" width="{w:.1}" height="{BOX_H}" fill="{fill}" stroke="#1A1A1A" stroke-width="0.5"><title>{title}</title></rect>"##,
                    top + BOX_Y
                );
                if ready {
                    let end = x0 + w;
                    let _ = writeln!(
                        out,
                        r#"<line x1="{end:.1}" y1="{:.1}" x2="{end:.1}" y2="{:.1}" stroke="black" stroke-width="2"/>"#,
                        top + BOX_Y - 2.0,
                        top + BOX_Y + BOX_H + 2.0
                    );
                }
                label(&mut out, x0, w, top, task, ink);
            }
        }
    }

    // The cuts' zig-zags, over what runs on through them.
    for cut in view.axis.cuts() {
        let margin = cut_margin(cut);
        for edge in [cut.x0 + margin, cut.x1 - margin] {
            let points = zigzag(edge, lanes_top - 2.0, lanes_bottom + 2.0);
            let _ = writeln!(
                out,
                r##"<polyline points="{points}" fill="none" stroke="white" stroke-width="3.5"/><polyline points="{points}" fill="none" stroke="#666" stroke-width="1.2"/>"##
            );
        }
    }
    for label in &cut_labels {
        let cut = label.cut;
        let _ = writeln!(
            out,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="#333">{}<title>{} cut out: no event from {} to {} ms</title></text>"##,
            (cut.x0 + cut.x1) / 2.0,
            lanes_bottom + 15.0 + 12.0 * label.row as f64,
            short_duration(cut.t1 - cut.t0),
            duration_text(cut.t1 - cut.t0),
            ms(cut.t0),
            ms(cut.t1)
        );
    }

    // Arrows, then marks on top.
    for arrow in &view.arrows {
        let (from_top, to_top) = (lane_top(&arrow.from.0), lane_top(&arrow.to.0));
        let (x0, x1) = (x(arrow.from.1), x(arrow.to.1));
        let title = escape(&arrow_title(arrow));
        match arrow.kind {
            ArrowKind::Wake => {
                let y0 = from_top + BOX_Y + BOX_H / 2.0;
                let y1 = if to_top < from_top {
                    to_top + BOX_Y + BOX_H + 1.0
                } else {
                    to_top + BOX_Y - 1.0
                };
                let _ = writeln!(
                    out,
                    r#"<g><title>{title}</title><line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="{VERMILLION}" stroke-width="1.5" marker-end="url(#head-wake)"/><circle cx="{x0:.1}" cy="{y0:.1}" r="2.5" fill="{VERMILLION}"/></g>"#
                );
            }
            ArrowKind::Handoff => {
                let y0 = from_top + MARK_Y + 4.0;
                let y1 = to_top + BOX_Y - 1.0;
                let _ = writeln!(
                    out,
                    r##"<line x1="{x0:.1}" y1="{y0:.1}" x2="{x1:.1}" y2="{y1:.1}" stroke="#555" stroke-width="1.2" stroke-dasharray="4 2" marker-end="url(#head-handoff)"><title>{title}</title></line>"##
                );
            }
        }
    }
    for mark in &view.marks {
        if answered(view, mark) {
            continue; // drawn as its arrow's tail
        }
        let (cx, cy) = (x(mark.at), lane_top(&mark.lane) + MARK_Y);
        let title = escape(&mark_title(mark));
        let _ = writeln!(
            out,
            "<g><title>{title}</title>{}</g>",
            shape(mark.kind, cx, cy)
        );
    }
    out.push_str(&legend_svg);
    out.push_str("</svg>\n");
    out
}

/// A box's task id, in it when it fits.
fn label(out: &mut String, x0: f64, w: f64, top: f64, task: u64, ink: &str) {
    let text = task.to_string();
    if w >= text.len() as f64 * DIGIT_W + 3.0 {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle" fill="{ink}">{text}</text>"#,
            x0 + w / 2.0,
            top + BOX_Y + 14.0
        );
    }
}

/// The fill pattern of an idle kind.
fn pattern(kind: IdleKind) -> &'static str {
    match kind {
        IdleKind::Sleep => "idle-sleep",
        IdleKind::Condvar => "idle-condvar",
        IdleKind::Poll => "idle-poll",
    }
}

/// A mark's shape, centred on `(cx, cy)`.
fn shape(kind: MarkKind, cx: f64, cy: f64) -> String {
    let stroke = r#"stroke="black" stroke-width="1""#;
    match kind {
        MarkKind::Run { .. } => format!(
            r#"<path d="M{:.1},{:.1} l9,5 l-9,5 z" fill="black"/>"#,
            cx,
            cy - 5.0
        ),
        MarkKind::Spawned { .. } => format!(
            r#"<path d="M{:.1},{cy:.1} h10 M{cx:.1},{:.1} v10" stroke="black" stroke-width="2"/>"#,
            cx - 5.0,
            cy - 5.0
        ),
        MarkKind::TimerFired { .. } => format!(
            r#"<path d="M{cx:.1},{:.1} l5.5,5.5 l-5.5,5.5 l-5.5,-5.5 z" fill="{ORANGE}" {stroke}/>"#,
            cy - 5.5
        ),
        MarkKind::FdReady { .. } => format!(
            r#"<path d="M{cx:.1},{:.1} l6,10 h-12 z" fill="{YELLOW}" {stroke}/>"#,
            cy - 5.5
        ),
        MarkKind::JobQueued { .. } => format!(
            r#"<rect x="{:.1}" y="{:.1}" width="8" height="8" fill="white" stroke="{GREEN}" stroke-width="2"/>"#,
            cx - 4.0,
            cy - 4.0
        ),
        MarkKind::ByteWritten => {
            format!(r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="4.5" fill="{VERMILLION}" {stroke}/>"#)
        }
        MarkKind::BytesDrained { .. } => format!(
            r#"<circle cx="{cx:.1}" cy="{cy:.1}" r="4" fill="white" stroke="{VERMILLION}" stroke-width="2"/>"#
        ),
        // Drawn only when no poll follows it: a cross.
        MarkKind::Wake { .. } => format!(
            r#"<path d="M{:.1},{:.1} L{:.1},{:.1} M{:.1},{:.1} L{:.1},{:.1}" stroke="{VERMILLION}" stroke-width="2.5"/>"#,
            cx - 4.5,
            cy - 4.5,
            cx + 4.5,
            cy + 4.5,
            cx - 4.5,
            cy + 4.5,
            cx + 4.5,
            cy - 4.5
        ),
    }
}

/// Whether `mark` is a wake from another thread that an arrow to the
/// task's next poll draws; a wake that no poll in the picture follows is
/// drawn as a mark of its own.
fn answered(view: &View, mark: &Mark) -> bool {
    matches!(mark.kind, MarkKind::Wake { .. })
        && view.arrows.iter().any(|arrow| {
            arrow.kind == ArrowKind::Wake && arrow.from.0 == mark.lane && arrow.from.1 == mark.at
        })
}

/// How far in from a cut's edges its zig-zags are: [`CUT_MARGIN`], less
/// in a narrowed cut, so that white still shows between them.
fn cut_margin(cut: &Segment) -> f64 {
    CUT_MARGIN.min((cut.x1 - cut.x0) / 4.0)
}

/// The length written under a cut, in the first row where it overlaps no
/// other; a cut whose label fits in neither row has only its zig-zags.
struct CutLabel<'a> {
    cut: &'a Segment,
    row: usize,
}

/// Where each cut's label goes (see [`CutLabel`]).
fn cut_labels(axis: &Axis) -> Vec<CutLabel<'_>> {
    let mut ends = [f64::NEG_INFINITY; 2];
    let mut labels = Vec::new();
    for cut in axis.cuts() {
        let w = short_duration(cut.t1 - cut.t0).chars().count() as f64 * CHAR_W;
        let (a, b) = ((cut.x0 + cut.x1 - w) / 2.0, (cut.x0 + cut.x1 + w) / 2.0);
        if let Some(row) = ends.iter().position(|&end| a >= end + 4.0) {
            ends[row] = b;
            labels.push(CutLabel { cut, row });
        }
    }
    labels
}

/// A zig-zag down the line `x`, from `y0` to `y1`.
fn zigzag(x: f64, y0: f64, y1: f64) -> String {
    let mut points = Vec::new();
    let mut y = y0;
    let mut left = true;
    while y < y1 {
        points.push(format!(
            "{:.1},{y:.1}",
            if left { x - 3.0 } else { x + 3.0 }
        ));
        left = !left;
        y += 6.0;
    }
    points.push(format!("{x:.1},{y1:.1}"));
    points.join(" ")
}

/// The time labels: every segment's edges first, then round times inside
/// the drawn-to-scale segments where there is room; none overlapping.
fn ticks(axis: &Axis) -> Vec<(f64, String, &'static str)> {
    let mut wanted: Vec<(f64, Nanos, &'static str)> = Vec::new();
    let segments = &axis.segments;
    for (i, segment) in segments.iter().enumerate() {
        let after_cut = i > 0 && segments[i - 1].cut;
        if !segment.cut || i == 0 {
            let anchor = if after_cut { "start" } else { "middle" };
            wanted.push((segment.x0, segment.t0, anchor));
        }
        if segment.cut {
            wanted.push((segment.x0, segment.t0, "end"));
            wanted.push((segment.x1, segment.t1, "start"));
        }
    }
    if let Some(last) = segments.last()
        && !last.cut
    {
        wanted.push((last.x1, last.t1, "middle"));
    }
    for segment in segments.iter().filter(|segment| !segment.cut) {
        let width = segment.x1 - segment.x0;
        let span = segment.t1 - segment.t0;
        if width < 120.0 || span == 0 {
            continue;
        }
        let step = nice_step(span as f64 * 90.0 / width);
        let mut t = (segment.t0 / step + 1) * step;
        while t < segment.t1 {
            wanted.push((axis.x(t), t, "middle"));
            t += step;
        }
    }
    let mut placed: Vec<(f64, f64, f64, String, &'static str)> = Vec::new();
    for (x, t, anchor) in wanted {
        let label = ms_trimmed(t);
        let w = label.len() as f64 * CHAR_W;
        let (a, b) = match anchor {
            "start" => (x, x + w),
            "end" => (x - w, x),
            _ => (x - w / 2.0, x + w / 2.0),
        };
        let free = placed
            .iter()
            .all(|&(pa, pb, ..)| b + 6.0 <= pa || a >= pb + 6.0);
        if free && a >= PLOT_X0 - 40.0 && b <= WIDTH {
            placed.push((a, b, x, label, anchor));
        }
    }
    placed.sort_by(|p, q| p.2.total_cmp(&q.2));
    placed
        .into_iter()
        .map(|(_, _, x, label, anchor)| (x, label, anchor))
        .collect()
}

/// 1, 2 or 5 times a power of ten, in ns, at least `at_least`.
fn nice_step(at_least: f64) -> Nanos {
    let mut step: Nanos = 1_000;
    loop {
        for factor in [1, 2, 5] {
            if (step * factor) as f64 >= at_least {
                return step * factor;
            }
        }
        step *= 10;
    }
}

/// What the caption says: the window, and what was left out or cut.
fn caption(view: &View) -> Vec<String> {
    let threads = view.lanes.len();
    let mut lines = vec![format!(
        "EXP_TRACE timeline, {} to {} ms on the demo's clock: {} events on {} thread{}",
        ms(view.from),
        ms(view.to),
        view.lines.len(),
        threads,
        if threads == 1 { "" } else { "s" }
    )];
    let mut notes = Vec::new();
    let cuts = view.axis.cuts().count();
    if cuts > 0 {
        notes.push(format!(
            "{cuts} stretch{} with no event for over {} cut short (zig-zags)",
            if cuts == 1 { "" } else { "es" },
            duration_text(view.axis.threshold)
        ));
    }
    if let Some(max) = view.cut_short {
        notes.push(format!(
            "only the first {max} events drawn, {} later ones left out (--from/--to picks a window, --max-events raises the cap)",
            view.left_out
        ));
    }
    if view.unknown > 0 {
        notes.push(format!(
            "{} trace line{} of an unknown kind left out",
            view.unknown,
            if view.unknown == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        let mut note = notes.join("; ");
        note[..1].make_ascii_uppercase();
        lines.push(format!("{note}."));
    }
    lines
}

/// `text`'s paragraphs, each broken into lines of at most `width` chars.
fn wrap(paragraphs: &[String], width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in paragraphs {
        let mut line = String::new();
        for word in paragraph.split(' ') {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// One legend entry: its swatch (drawn in a 24 x 14 box at the origin) and
/// its text.
type Entry = (String, &'static str);

/// The legend's entries, for what the view shows.
fn legend(view: &View) -> Vec<Entry> {
    let mut entries: Vec<Entry> = Vec::new();
    let has_span = |f: &dyn Fn(&SpanKind) -> bool| view.spans.iter().any(|span| f(&span.kind));
    let has_mark = |f: &dyn Fn(&MarkKind) -> bool| view.marks.iter().any(|mark| f(&mark.kind));
    let boxed = |fill: &str, stroke: &str| {
        format!(r#"<rect x="2" y="1" width="20" height="12" fill="{fill}" stroke="{stroke}"/>"#)
    };
    if has_span(&|kind| matches!(kind, SpanKind::Poll { ready: false, .. })) {
        entries.push((boxed(SKY, "#1A1A1A"), "poll of task N: Pending"));
    }
    if has_span(&|kind| matches!(kind, SpanKind::Poll { ready: true, .. })) {
        entries.push((
            boxed(BLUE, "#1A1A1A")
                + r#"<line x1="22" y1="-1" x2="22" y2="15" stroke="black" stroke-width="2"/>"#,
            "poll: Ready (bar at its end)",
        ));
    }
    if has_span(&|kind| matches!(kind, SpanKind::Job { .. })) {
        entries.push((boxed("#B3E2D4", GREEN), "pool job for task N"));
    }
    for kind in [IdleKind::Sleep, IdleKind::Condvar, IdleKind::Poll] {
        if has_span(&|k| matches!(k, SpanKind::Idle { kind: k, .. } if *k == kind)) {
            let text = match kind {
                IdleKind::Sleep => "idle: thread::sleep",
                IdleKind::Condvar => "idle: Condvar wait",
                IdleKind::Poll => "idle: poll(2)",
            };
            entries.push((
                format!(
                    r#"<rect x="2" y="0" width="20" height="14" fill="url(#{})"/>"#,
                    pattern(kind)
                ),
                text,
            ));
        }
    }
    if view
        .arrows
        .iter()
        .any(|arrow| arrow.kind == ArrowKind::Wake)
    {
        entries.push((
            format!(r#"<line x1="3" y1="10" x2="20" y2="3" stroke="{VERMILLION}" stroke-width="1.5" marker-end="url(#head-wake)"/><circle cx="3" cy="10" r="2.5" fill="{VERMILLION}"/>"#),
            "wake from another thread, to the next poll",
        ));
    }
    if view
        .arrows
        .iter()
        .any(|arrow| arrow.kind == ArrowKind::Handoff)
    {
        entries.push((
            r##"<line x1="2" y1="3" x2="20" y2="11" stroke="#555" stroke-width="1.2" stroke-dasharray="4 2" marker-end="url(#head-handoff)"/>"##.to_string(),
            "job handed to a worker",
        ));
    }
    let marks: [(MarkKind, &str); 7] = [
        (MarkKind::Run { tasks: 0 }, "run starts"),
        (MarkKind::Spawned { task: 0 }, "task spawned"),
        (MarkKind::TimerFired { task: 0 }, "timer fired"),
        (MarkKind::FdReady { fd: 0, task: 0 }, "fd ready"),
        (MarkKind::JobQueued { task: 0 }, "job queued"),
        (MarkKind::ByteWritten, "self-wake byte written"),
        (
            MarkKind::BytesDrained { bytes: 0 },
            "self-wake bytes drained",
        ),
    ];
    if view
        .marks
        .iter()
        .any(|mark| matches!(mark.kind, MarkKind::Wake { .. }) && !answered(view, mark))
    {
        entries.push((
            shape(MarkKind::Wake { task: 0 }, 12.0, 7.0),
            "wake that no poll in the picture follows",
        ));
    }
    for (kind, text) in marks {
        if has_mark(&|k| std::mem::discriminant(k) == std::mem::discriminant(&kind)) {
            entries.push((shape(kind, 12.0, 7.0), text));
        }
    }
    if view.axis.cuts().next().is_some() {
        entries.push((
            format!(
                r##"<polyline points="{}" fill="none" stroke="#666" stroke-width="1.2"/><polyline points="{}" fill="none" stroke="#666" stroke-width="1.2"/>"##,
                zigzag(7.0, 0.0, 14.0),
                zigzag(17.0, 0.0, 14.0)
            ),
            "time cut out, its length below",
        ));
    }
    entries
}

/// The legend's entries laid out left to right in rows from `top`: its SVG
/// and its height.
fn layout_legend(entries: &[Entry], top: f64) -> (String, f64) {
    let mut out = String::new();
    let (mut x, mut y) = (6.0, top);
    for (swatch, text) in entries {
        let w = 24.0 + 5.0 + text.chars().count() as f64 * CHAR_W;
        if x > 6.0 && x + w > WIDTH - 6.0 {
            x = 6.0;
            y += 20.0;
        }
        let _ = writeln!(
            out,
            r#"<g transform="translate({x:.1} {y:.1})">{swatch}<text x="29" y="11" font-size="11">{}</text></g>"#,
            escape(text)
        );
        x += w + 14.0;
    }
    let height = if entries.is_empty() {
        0.0
    } else {
        y - top + 16.0
    };
    (out, height)
}

fn span_title(span: &Span) -> String {
    let when = format!(
        "{} to {} ms ({}{})",
        ms(span.start),
        ms(span.end),
        duration_text(span.end - span.start),
        if span.open {
            ", no end in the trace"
        } else {
            ""
        }
    );
    match span.kind {
        SpanKind::Poll { task, ready } => format!(
            "task {task} polled on {}: {}, {when}",
            span.lane,
            if ready { "Ready" } else { "Pending" }
        ),
        SpanKind::Job { task } => format!("{} ran the job of task {task}: {when}", span.lane),
        SpanKind::Idle {
            kind,
            timeout,
            fds,
            ready_fds,
        } => {
            let mut text = format!("{} idle in {}", span.lane, kind.name());
            if let Some(fds) = fds {
                let _ = write!(text, " on {fds} fds");
            }
            match timeout {
                Some(timeout) => {
                    let _ = write!(text, ", timeout {}", duration_text(timeout));
                }
                None => text.push_str(", no timeout"),
            }
            let _ = write!(text, ": {when}");
            if let Some(ready) = ready_fds {
                let _ = write!(text, ", {ready} fds ready");
            }
            text
        }
    }
}

fn mark_title(mark: &Mark) -> String {
    let what = match mark.kind {
        MarkKind::Run { tasks } => format!("run starts with {tasks} tasks"),
        MarkKind::Spawned { task } => format!("task {task} spawned"),
        MarkKind::TimerFired { task } => format!("timer fired: task {task}"),
        MarkKind::FdReady { fd, task } => format!("fd {fd} ready: task {task}"),
        MarkKind::JobQueued { task } => format!("job queued: task {task}"),
        MarkKind::Wake { task } => format!("woke task {task}"),
        MarkKind::ByteWritten => "self-wake: byte written".to_string(),
        MarkKind::BytesDrained { bytes } => format!("self-wake: {bytes} bytes drained"),
    };
    format!("{what}, on {} at {} ms", mark.lane, ms(mark.at))
}

fn arrow_title(arrow: &Arrow) -> String {
    match arrow.kind {
        ArrowKind::Wake => format!(
            "{} woke task {} at {} ms; its next poll starts at {} ms",
            arrow.from.0,
            arrow.task,
            ms(arrow.from.1),
            ms(arrow.to.1)
        ),
        ArrowKind::Handoff => format!(
            "job of task {} queued at {} ms, started on {} at {} ms",
            arrow.task,
            ms(arrow.from.1),
            arrow.to.0,
            ms(arrow.to.1)
        ),
    }
}

/// `t` in ms, to the microsecond: `12.345`.
fn ms(t: Nanos) -> String {
    format!("{}.{:03}", t / 1_000_000, t / 1_000 % 1_000)
}

/// `t` in ms, without trailing zeros: `12.3`, `100`.
fn ms_trimmed(t: Nanos) -> String {
    let text = ms(t);
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A duration for a tooltip or the caption: `250 ns`, `4.1 µs`, `1.563 ms`, `1.2 s`.
fn duration_text(d: Nanos) -> String {
    match d {
        0..1_000 => format!("{d} ns"),
        1_000..1_000_000 => format!("{:.1} µs", d as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.3} ms", d as f64 / 1e6),
        _ => format!("{:.3} s", d as f64 / 1e9),
    }
}

/// A duration in at most six characters, under a cut: `250 µs`, `2.5 ms`, `300 ms`, `1.2 s`.
fn short_duration(d: Nanos) -> String {
    match d {
        0..1_000_000 => format!("{} µs", d / 1_000),
        1_000_000..10_000_000 => format!("{:.1} ms", d as f64 / 1e6),
        10_000_000..1_000_000_000 => format!("{} ms", (d + 500_000) / 1_000_000),
        _ => format!("{:.1} s", d as f64 / 1e9),
    }
}

/// `text` safe inside an SVG element or attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXP6_LIKE: &str = include_str!("testdata/exp6-like.log");
    const EXP4_LIKE: &str = include_str!("testdata/exp4-like.log");

    fn view_of(text: &str) -> View {
        view(&trace::parse(text), &Options::default())
    }

    #[test]
    fn the_fixture_draws_as_committed() {
        // Same trace, same bytes: the book's drift test relies on it.
        let expected = include_str!("testdata/exp6-like.svg");
        let drawn = render(EXP6_LIKE, &Options::default());
        assert!(
            drawn == expected,
            "the picture changed; if that is intended, run\n  cargo run -p book -- timeline book/tool/testdata/exp6-like.log > book/tool/testdata/exp6-like.svg\nand look at it"
        );
        assert_eq!(render(EXP6_LIKE, &Options::default()), drawn);
    }

    #[test]
    fn the_fixture_has_every_lane_and_mark() {
        let view = view_of(EXP6_LIKE);
        let lanes: Vec<String> = view.lanes.iter().map(Thread::to_string).collect();
        assert_eq!(lanes, ["scheduler", "pool-1", "pool-2", "thread-feeder"]);
        let svg = svg(&view);
        for needle in [
            "task 4 polled on scheduler: Pending",
            "pool-1 ran the job of task 4: 0.349 to 1.912 ms",
            "scheduler idle in poll(2) on 5 fds, timeout 99.790 ms: 0.352 to 1.951 ms",
            "thread-feeder idle in thread::sleep, timeout 300.000 ms",
            "timer fired: task 1, on scheduler at 100.158 ms",
            "fd 6 ready: task 0, on scheduler at 0.266 ms",
            "self-wake: byte written, on pool-1 at 1.918 ms",
            "self-wake: 1 bytes drained, on scheduler at 1.960 ms",
            "url(#idle-sleep)",
            "url(#idle-poll)",
            "marker-end=\"url(#head-wake)\"",
        ] {
            assert!(svg.contains(needle), "no {needle:?} in the picture");
        }
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 750 "));
        assert!(!svg.contains("NaN") && !svg.contains("inf"));
    }

    #[test]
    fn a_long_idle_span_is_cut_and_microseconds_stay_visible() {
        let text = "\
[trace 0.010 ms scheduler] polled task 0: Pending (4.0 µs)
[trace 0.015 ms scheduler] polled task 1: Pending (3.0 µs)
[trace 0.016 ms scheduler] idle: sleep for 300 ms
[trace 300.016 ms scheduler] idle: awake
[trace 300.021 ms scheduler] polled task 0: Ready (4.0 µs)
";
        let view = view_of(text);
        let cuts: Vec<&Segment> = view.axis.cuts().collect();
        assert_eq!(cuts.len(), 1, "{:?}", view.axis);
        assert_eq!((cuts[0].t0, cuts[0].t1), (16_000, 300_016_000));
        assert_eq!(cuts[0].x1 - cuts[0].x0, BREAK_W);
        // 4 µs of poll, drawn to the scale of the 15 µs left: tens of pixels.
        let poll = view.axis.x(10_000) - view.axis.x(6_000);
        assert!(poll > 40.0, "a 4 µs poll is {poll} px wide");
        assert!(svg(&view).contains(">300 ms<title>300.000 ms cut out"));
        // Uncut, the same poll would be a hundredth of a pixel.
        let uncut = super::view(
            &trace::parse(text),
            &Options {
                cut: Some(Nanos::MAX),
                ..Options::default()
            },
        );
        assert_eq!(uncut.axis.cuts().count(), 0);
        assert!(uncut.axis.x(10_000) - uncut.axis.x(6_000) < 0.1);
    }

    #[test]
    fn a_dozen_sleeps_are_all_cut_and_every_poll_stays_visible() {
        // exp3's demo sleeps sixteen times in a second: with eight cuts at
        // most, the other eight sleeps squeezed its polls to nothing.
        let mut text = String::new();
        for i in 0..16_u64 {
            let at = i * 100_000 + 1;
            let _ = writeln!(
                text,
                "[trace {at}.010 ms scheduler] polled task {i}: Pending (10 µs)\n\
                 [trace {at}.011 ms scheduler] idle: sleep for 100 ms\n\
                 [trace {}.995 ms scheduler] idle: awake",
                at + 99_999
            );
        }
        let view = view_of(&text);
        assert_eq!(view.axis.cuts().count(), 16, "{:?}", view.axis);
        for i in 0..16_u64 {
            let end = (i * 100_000 + 1) * 1_000_000 + 10_000;
            let poll = view.axis.x(end) - view.axis.x(end - 10_000);
            assert!(poll >= 2.0, "poll {i} is {poll} px wide");
        }
        let svg = svg(&view);
        assert_eq!(svg.matches("cut out: no event").count(), 16, "a label each");
    }

    #[test]
    fn a_line_of_an_unknown_kind_after_the_last_event_stretches_nothing() {
        let text = "\
[trace 1.000 ms scheduler] polled task 0: Ready (10 µs)
[trace 9.000 ms scheduler] pool: joined the worker threads
";
        let view = view_of(text);
        assert_eq!((view.from, view.to), (990_000, 1_000_000));
        assert_eq!(view.unknown, 1);
    }

    #[test]
    fn stretches_like_the_others_are_not_cut() {
        let text = "\
[trace 0.010 ms scheduler] polled task 0: Pending (4.0 µs)
[trace 0.020 ms scheduler] polled task 1: Pending (4.0 µs)
[trace 0.030 ms scheduler] polled task 2: Pending (4.0 µs)
[trace 0.045 ms scheduler] polled task 3: Pending (4.0 µs)
";
        assert_eq!(view_of(text).axis.cuts().count(), 0);
    }

    #[test]
    fn a_wake_from_another_thread_points_at_the_next_poll() {
        let text = "\
[trace 1.000 ms scheduler] polled task 4: Pending (10 µs)
[trace 1.500 ms pool-1] woke task 4
[trace 1.600 ms scheduler] woke task 5
[trace 1.700 ms scheduler] polled task 5: Pending (10 µs)
[trace 1.800 ms scheduler] polled task 4: Pending (10 µs)
[trace 1.900 ms scheduler] polled task 4: Ready (10 µs)
";
        let view = view_of(text);
        assert_eq!(
            view.arrows,
            [Arrow {
                kind: ArrowKind::Wake,
                task: 4,
                from: (Thread::Pool(1), 1_500_000),
                to: (Thread::Scheduler, 1_790_000),
            }],
            "one arrow, to task 4's first poll after the wake; none for the scheduler's own wake"
        );
        assert!(
            svg(&view).contains("pool-1 woke task 4 at 1.500 ms; its next poll starts at 1.790 ms")
        );
    }

    #[test]
    fn a_job_is_a_box_on_its_worker_with_a_handoff() {
        let view = view_of(EXP4_LIKE);
        assert!(view.spans.contains(&Span {
            lane: Thread::Pool(1),
            start: 66_000,
            end: 3_412_000,
            kind: SpanKind::Job { task: 0 },
            open: false,
        }));
        assert!(
            view.arrows
                .iter()
                .any(|arrow| arrow.kind == ArrowKind::Handoff
                    && arrow.from == (Thread::Scheduler, 52_000)
                    && arrow.to == (Thread::Pool(1), 66_000))
        );
        assert!(svg(&view).contains("url(#idle-condvar)"));
    }

    #[test]
    fn an_unknown_line_is_left_out_and_counted() {
        let text = "\
demo output, not a trace line
[trace 1.000 ms scheduler] polled task 0: Pending (1 µs)
[trace 1.001 ms scheduler] reactor: fd 3 registered for Read (token 1)
";
        let view = view_of(text);
        assert_eq!((view.lines.len(), view.unknown), (1, 1));
        assert!(svg(&view).contains("1 trace line of an unknown kind left out"));
        assert!(!svg(&view).contains("reactor"));
    }

    #[test]
    fn a_window_and_a_cap_leave_events_out_and_say_so() {
        let windowed = view(
            &trace::parse(EXP6_LIKE),
            &Options {
                from: Some(1_900_000),
                to: Some(2_300_000),
                ..Options::default()
            },
        );
        assert!(
            windowed
                .lines
                .iter()
                .all(|line| (1_900_000..=2_300_000).contains(&line.at))
        );
        // The job that started before the window is clipped to it.
        assert!(
            windowed
                .spans
                .iter()
                .any(|span| span.kind == SpanKind::Job { task: 4 } && span.start == 1_900_000)
        );
        let capped = view(
            &trace::parse(EXP6_LIKE),
            &Options {
                max_events: 10,
                ..Options::default()
            },
        );
        assert_eq!(capped.lines.len(), 10);
        assert_eq!(capped.to, 266_000);
        assert!(svg(&capped).contains("the first 10 events drawn, 50 later ones left out"));
    }

    #[test]
    fn the_summary_keeps_lanes_order_and_kinds_not_times() {
        let summary = summary(&view_of(EXP4_LIKE));
        assert_eq!(summary.lanes, ["scheduler", "pool-1"]);
        let text = summary.to_string();
        assert!(text.starts_with(
            "lanes: scheduler, pool-1\n\
             scheduler: run\n\
             scheduler: job queued (task 0)\n\
             scheduler: polled: Pending (task 0)\n\
             pool-1: job started (task 0)\n"
        ));
        assert!(!text.contains("ms"), "no times: {text}");
        // A run with other times but the same steps has the same summary.
        let shifted: String = EXP4_LIKE
            .replace("3.412 ms", "3.401 ms")
            .replace("(12.5 µs)", "(9 µs)");
        assert_eq!(crate::timeline::summary(&view_of(&shifted)), summary);
        let kinds = summary.kinds();
        assert!(kinds.contains(&("pool-1".to_string(), Kind::Woke)));
        assert!(kinds.contains(&("scheduler".to_string(), Kind::Idle(IdleKind::Condvar))));
    }

    #[test]
    fn times_print_exactly() {
        assert_eq!(ms(12_345_678), "12.345");
        assert_eq!(ms_trimmed(2_100_000), "2.1");
        assert_eq!(ms_trimmed(100_000_000), "100");
        assert_eq!(short_duration(300_000_000), "300 ms");
        assert_eq!(short_duration(106_000), "106 µs");
        assert_eq!(short_duration(1_560_000), "1.6 ms");
        assert_eq!(duration_text(4_100), "4.1 µs");
    }

    /// A wake that no poll follows (chapter 4's late wake, chapter 6's lost
    /// one) is drawn as a cross of its own, with a legend entry; a wake that
    /// a poll answers is only its arrow.
    #[test]
    fn a_wake_that_no_poll_follows_is_a_cross() {
        let lost = "[trace 0.000 ms scheduler] polled task 0: Pending (5 µs)\n\
                    [trace 0.010 ms scheduler] idle: condvar wait, no timeout\n\
                    [trace 0.020 ms pool-1] woke task 0\n";
        let picture = svg(&view_of(lost));
        assert!(picture.contains("wake that no poll in the picture follows"));
        assert!(picture.contains(r##"stroke="#D55E00" stroke-width="2.5""##));
        let answered = format!(
            "{lost}[trace 0.030 ms scheduler] idle: awake\n\
             [trace 0.040 ms scheduler] polled task 0: Ready (5 µs)\n"
        );
        let picture = svg(&view_of(&answered));
        assert!(!picture.contains("wake that no poll in the picture follows"));
        assert!(picture.contains("wake from another thread, to the next poll"));
    }

    /// A wait that never ended runs to `--to`, past the trace's last line.
    #[test]
    fn a_wait_open_at_the_end_runs_to_the_window_end() {
        let text = "[trace 0.000 ms scheduler] polled task 0: Pending (5 µs)\n\
                    [trace 0.090 ms scheduler] idle: poll(2) on 2 fds, no timeout\n";
        let options = Options {
            to: Some(200_000),
            ..Options::default()
        };
        let view = view(&trace::parse(text), &options);
        let idle = view
            .spans
            .iter()
            .find(|span| matches!(span.kind, SpanKind::Idle { .. }))
            .expect("the wait is drawn");
        assert_eq!((idle.start, idle.end), (90_000, 200_000));
    }
}
