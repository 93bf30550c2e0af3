//! Pictures that are not runs: each stage's component map, the loop, and
//! the races of chapters 4 and 6 drawn from constructed traces by
//! [`crate::timeline`]. All are deterministic: [`all`] gives the same bytes
//! every time, and [`crate::pictures`] checks the committed files byte by
//! byte.

use std::fmt::Write;

use crate::timeline::{self, Options};
use crate::trace;

/// The Okabe-Ito colours the maps use (as the timelines do).
const BLUE: &str = "#0072B2";
const VERMILLION: &str = "#D55E00";
const GREEN: &str = "#009E73";
const PURPLE: &str = "#CC79A7";
const ORANGE: &str = "#E69F00";
const SKY: &str = "#56B4E9";

/// The width of every diagram: the book's text width.
const WIDTH: f64 = 720.0;

/// One box of a component map.
#[derive(Clone, Copy)]
struct Part {
    /// Where it is drawn: its key in [`place`].
    key: &'static str,
    /// Its name, bold.
    title: &'static str,
    /// What it is, one or two short lines.
    lines: &'static [&'static str],
}

/// One arrow of a map: the path of a kind of wake, or of a task.
#[derive(Clone, Copy)]
struct Flow {
    from: &'static str,
    to: &'static str,
    label: &'static str,
    /// A wake from another thread than the scheduler's.
    other_thread: bool,
}

/// A stage's map: its parts, its arrows, and which of them are new.
struct Map {
    krate: &'static str,
    title: &'static str,
    parts: Vec<Part>,
    flows: Vec<Flow>,
    new: &'static [&'static str],
    idle: &'static str,
}

/// Where each part's box is: x, y (its top left corner), on a grid of
/// three columns and four rows. Boxes are [`BOX_W`] by [`BOX_H`]. Every
/// map puts a part in the same place, so that a reader sees what is new.
fn place(key: &str) -> (f64, f64) {
    let (column, row) = match key {
        "pass" => (1, 0),
        "tasks" => (2, 0),
        "timers" => (0, 1),
        "ready" => (1, 1),
        "spawned" => (2, 1),
        "reactor" => (0, 2),
        "selfwake" => (0, 3),
        _ => (1, 3), // the pool
    };
    (COLUMNS[column], ROWS[row])
}

/// The left edges of the grid's columns.
const COLUMNS: [f64; 3] = [20.0, 280.0, 540.0];
/// The top edges of the grid's rows.
const ROWS: [f64; 4] = [50.0, 175.0, 300.0, 425.0];
const BOX_W: f64 = 160.0;
const BOX_H: f64 = 62.0;

const TASKS: Part = Part {
    key: "tasks",
    title: "tasks",
    lines: &["every future,", "by task id"],
};
const READY: Part = Part {
    key: "ready",
    title: "ready queue",
    lines: &["ids of woken tasks:", "a wake pushes one"],
};
const PASS: Part = Part {
    key: "pass",
    title: "this pass",
    lines: &["the ids polled now"],
};
const TIMERS: Part = Part {
    key: "timers",
    title: "timers",
    lines: &["deadline -> waker,", "earliest first"],
};
const SPAWNED: Part = Part {
    key: "spawned",
    title: "spawned",
    lines: &["spawned while running,", "admitted next turn"],
};
const REACTOR: Part = Part {
    key: "reactor",
    title: "reactor: poll(2)",
    lines: &["fd -> waker of a task", "whose I/O would block"],
};
const POOL: Part = Part {
    key: "pool",
    title: "pool workers",
    lines: &["run spawn_blocking's", "jobs, wake their task"],
};
const SELF_WAKE: Part = Part {
    key: "selfwake",
    title: "self-wake",
    lines: &["a socket pair: a byte", "ends a parked poll(2)"],
};

const fn flow(from: &'static str, to: &'static str, label: &'static str) -> Flow {
    Flow {
        from,
        to,
        label,
        other_thread: false,
    }
}

const fn away(from: &'static str, to: &'static str, label: &'static str) -> Flow {
    Flow {
        from,
        to,
        label,
        other_thread: true,
    }
}

/// The six maps.
fn maps() -> Vec<Map> {
    let take = flow("ready", "pass", "take the woken");
    let poll = flow("pass", "tasks", "poll each");
    let yield_wake = flow("tasks", "ready", "wake: yield, join");
    let timer_wake = flow("timers", "ready", "timer fired");
    let admit = flow("spawned", "tasks", "admit");
    let fd_wake = flow("reactor", "ready", "fd ready");
    let pool_wake = away("pool", "ready", "job done: wake");
    vec![
        Map {
            krate: "exp1-simplest",
            title: "exp1: every task, every pass",
            parts: vec![
                Part {
                    key: "pass",
                    title: "the queue",
                    lines: &["every task, in order;", "a no-op waker"],
                },
                Part {
                    key: "tasks",
                    title: "poll",
                    lines: &["the front task", "once"],
                },
            ],
            flows: vec![
                flow("pass", "tasks", "pop the front"),
                flow("tasks", "pass", "Pending: back"),
            ],
            new: &[],
            idle: "never idle: it polls the front task until the queue is empty",
        },
        Map {
            krate: "exp2-sleep",
            title: "exp2: wakers, a ready queue and timers",
            parts: vec![TASKS, READY, PASS, TIMERS],
            flows: vec![
                take,
                poll,
                flow("tasks", "ready", "wake: a yield"),
                timer_wake,
            ],
            new: &["ready", "timers"],
            idle: "idle: thread::sleep until the earliest timer",
        },
        Map {
            krate: "exp3-spawn",
            title: "exp3: tasks spawned while running",
            parts: vec![TASKS, READY, PASS, TIMERS, SPAWNED],
            flows: vec![take, poll, yield_wake, timer_wake, admit],
            new: &["spawned"],
            idle: "idle: thread::sleep until the earliest timer",
        },
        Map {
            krate: "exp4-threadpool",
            title: "exp4: a pool, whose wakes come from other threads",
            parts: vec![TASKS, READY, PASS, TIMERS, SPAWNED, POOL],
            flows: vec![take, poll, yield_wake, timer_wake, admit, pool_wake],
            new: &["pool"],
            idle: "idle: Condvar wait beside the ready queue; a wake from a worker notifies it",
        },
        Map {
            krate: "exp5-selectors",
            title: "exp5: one poll(2) waits for every socket",
            parts: vec![TASKS, READY, PASS, TIMERS, SPAWNED, REACTOR],
            flows: vec![take, poll, yield_wake, timer_wake, admit, fd_wake],
            new: &["reactor"],
            idle: "idle: poll(2) on the sockets, timeout: the earliest timer",
        },
        Map {
            krate: "exp6-combined",
            title: "exp6: sockets, timers and a pool in one poll(2)",
            parts: vec![
                TASKS, READY, PASS, TIMERS, SPAWNED, REACTOR, POOL, SELF_WAKE,
            ],
            flows: vec![
                take,
                poll,
                yield_wake,
                timer_wake,
                admit,
                fd_wake,
                pool_wake,
                away("pool", "selfwake", "a byte, if parked"),
                flow("selfwake", "reactor", "readable"),
            ],
            new: &["pool", "selfwake"],
            idle: "idle: poll(2) on the sockets and the self-wake socket",
        },
    ]
}

/// A point: x, y.
type Point = (f64, f64);

/// Where a label goes: x, y, and its `text-anchor`.
type Label = (f64, f64, &'static str);

/// Where an arrow from box `a` to box `b` starts and ends, and where its
/// label goes (x, y, text-anchor): beside a vertical arrow, above a
/// horizontal one, clear of the line for a slanted one.
fn ends(a: Point, b: Point) -> (Point, Point, Label) {
    let (ax, ay) = (a.0 + BOX_W / 2.0, a.1 + BOX_H / 2.0);
    let (bx, by) = (b.0 + BOX_W / 2.0, b.1 + BOX_H / 2.0);
    if (ay - by).abs() < 1.0 {
        // Left or right: one direction a little above the other.
        let shift = if bx > ax { -8.0 } else { 8.0 };
        let (sx, ex) = if bx > ax {
            (a.0 + BOX_W, b.0)
        } else {
            (a.0, b.0 + BOX_W)
        };
        let label = if bx > ax {
            ((sx + ex) / 2.0, ay + shift - 6.0, "middle")
        } else {
            ((sx + ex) / 2.0, ay + shift + 15.0, "middle")
        };
        ((sx, ay + shift), (ex, by + shift), label)
    } else if (ax - bx).abs() < 1.0 {
        // Up or down: up on the right of the middle, down on the left; the
        // label on the outer side.
        let shift = if by > ay { -40.0 } else { 40.0 };
        let (sy, ey) = if by > ay {
            (a.1 + BOX_H, b.1)
        } else {
            (a.1, b.1 + BOX_H)
        };
        let label = if by > ay {
            (ax + shift + 6.0, (sy + ey) / 2.0 + 4.0, "start")
        } else {
            (ax + shift - 6.0, (sy + ey) / 2.0 + 4.0, "end")
        };
        ((ax + shift, sy), (bx + shift, ey), label)
    } else {
        let sy = if by > ay { a.1 + BOX_H } else { a.1 };
        let ey = if by > ay { b.1 } else { b.1 + BOX_H };
        let sx = if bx > ax { ax + 30.0 } else { ax - 30.0 };
        let ex = if bx > ax { bx - 60.0 } else { bx + 60.0 };
        let (mx, my) = ((sx + ex) / 2.0, (sy + ey) / 2.0);
        // Off the line's middle, on the side away from the arrows that
        // share its end box.
        let label = if ey < sy {
            (mx - 8.0, my - 6.0, "end")
        } else {
            (mx + 8.0, my + 14.0, "start")
        };
        ((sx, sy), (ex, ey), label)
    }
}

/// The SVG of one map.
fn map_svg(map: &Map) -> String {
    let bottom = map
        .parts
        .iter()
        .map(|part| place(part.key).1 + BOX_H)
        .fold(0.0, f64::max);
    let height = bottom + 96.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, "<title>{}</title>", escape(map.title));
    out.push_str(&format!(
        r##"<defs>
<marker id="m-same" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{BLUE}"/></marker>
<marker id="m-away" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{VERMILLION}"/></marker>
</defs>
<rect width="{WIDTH}" height="{height}" fill="white"/>
"##
    ));
    let _ = writeln!(
        out,
        r#"<text x="10" y="20" font-size="15" font-weight="bold">{}</text>"#,
        escape(map.title)
    );
    // The scheduler's thread: the first three rows.
    let has_pool = map.parts.iter().any(|part| part.key == "pool");
    let thread_h = bottom.min(ROWS[2] + BOX_H) + 30.0 - 34.0;
    let _ = writeln!(
        out,
        r##"<rect x="8" y="34" width="{}" height="{thread_h}" rx="8" fill="#F4F8FB" stroke="{SKY}" stroke-dasharray="6 4"/><text x="{}" y="{}" text-anchor="end" fill="#2A5F80" font-style="italic">the scheduler's thread</text>"##,
        WIDTH - 16.0,
        WIDTH - 16.0,
        34.0 + thread_h - 6.0
    );
    if has_pool {
        let _ = writeln!(
            out,
            r##"<rect x="{}" y="{}" width="{}" height="{}" rx="8" fill="#FDF1EA" stroke="{VERMILLION}" stroke-dasharray="2 3"/><text x="{}" y="{}" text-anchor="end" fill="#8A3A00" font-style="italic">other threads</text>"##,
            COLUMNS[1] - 10.0,
            ROWS[3] - 10.0,
            BOX_W + 20.0,
            BOX_H + 34.0,
            COLUMNS[1] + BOX_W + 6.0,
            ROWS[3] + BOX_H + 20.0
        );
    }
    for flow in &map.flows {
        let ((x1, y1), (x2, y2), (lx, ly, anchor)) = ends(place(flow.from), place(flow.to));
        let (colour, marker, dash) = if flow.other_thread {
            (VERMILLION, "m-away", r#" stroke-dasharray="7 4""#)
        } else {
            (BLUE, "m-same", "")
        };
        let _ = writeln!(
            out,
            r#"<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="{colour}" stroke-width="2"{dash} marker-end="url(#{marker})"/>"#
        );
        // White behind the label, drawn by the text's own stroke.
        let _ = writeln!(
            out,
            r#"<text x="{lx}" y="{ly}" text-anchor="{anchor}" fill="{colour}" stroke="white" stroke-width="4" paint-order="stroke">{}</text>"#,
            escape(flow.label)
        );
    }
    for part in &map.parts {
        let (x, y) = place(part.key);
        let new = map.new.contains(&part.key);
        let (stroke, width, fill) = if new {
            (ORANGE, 3.5, "#FFF6E0")
        } else {
            ("#555", 1.2, "white")
        };
        let _ = writeln!(
            out,
            r#"<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{width}"/>"#
        );
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" font-weight="bold" font-size="13">{}</text>"#,
            x + 10.0,
            y + 18.0,
            escape(part.title)
        );
        if new {
            let _ = writeln!(
                out,
                r#"<rect x="{}" y="{}" width="38" height="16" rx="3" fill="{ORANGE}"/><text x="{}" y="{}" text-anchor="middle" font-size="11" font-weight="bold">NEW</text>"#,
                x + BOX_W - 44.0,
                y + 6.0,
                x + BOX_W - 25.0,
                y + 18.0
            );
        }
        for (i, line) in part.lines.iter().enumerate() {
            let _ = writeln!(
                out,
                r##"<text x="{}" y="{}" fill="#333">{}</text>"##,
                x + 10.0,
                y + 36.0 + 15.0 * i as f64,
                escape(line)
            );
        }
    }
    // The legend and the idle wait.
    let ly = height - 44.0;
    let _ = writeln!(
        out,
        r##"<text x="10" y="{}" fill="#333"><tspan font-weight="bold">When nothing is ready</tspan>: {}</text>"##,
        ly,
        escape(map.idle)
    );
    // The legend: only what the map draws.
    let (y, ty, ry) = (height - 18.0, height - 14.0, height - 25.0);
    let mut x = 10.0;
    if !map.flows.is_empty() {
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{BLUE}" stroke-width="2" marker-end="url(#m-same)"/><text x="{}" y="{ty}">on the scheduler's thread</text>"#,
            x + 34.0,
            x + 40.0
        );
        x += 210.0;
    }
    if map.flows.iter().any(|flow| flow.other_thread) {
        let _ = writeln!(
            out,
            r#"<line x1="{x}" y1="{y}" x2="{}" y2="{y}" stroke="{VERMILLION}" stroke-width="2" stroke-dasharray="7 4" marker-end="url(#m-away)"/><text x="{}" y="{ty}">from another thread</text>"#,
            x + 34.0,
            x + 40.0
        );
        x += 200.0;
    }
    if !map.new.is_empty() {
        let _ = writeln!(
            out,
            r##"<rect x="{x}" y="{ry}" width="24" height="14" rx="3" fill="#FFF6E0" stroke="{ORANGE}" stroke-width="3"/><text x="{}" y="{ty}">new in this stage</text>"##,
            x + 30.0
        );
    }
    out.push_str("</svg>\n");
    out
}

/// The loop's turn, as exp6 takes it: each step, the stage it came in, and
/// the ways back to the top.
fn loop_svg() -> String {
    const STEPS: &[(&str, &str, &str)] = &[
        ("1. admit", "the tasks spawned meanwhile join", "exp3"),
        ("2. timers", "wake the tasks whose time is up", "exp2"),
        (
            "3. take the woken",
            "the ready queue becomes the pass",
            "exp2",
        ),
        ("4. check I/O", "poll(2), timeout 0: wake the ready", "exp5"),
        (
            "5. poll the pass",
            "each woken task, once, in order",
            "exp1",
        ),
    ];
    let (x, w, h, gap) = (110.0, 330.0, 44.0, 22.0);
    let y = |i: usize| 44.0 + (h + gap) * i as f64;
    let height = y(STEPS.len()) + 34.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" font-family="sans-serif" font-size="12">"#
    );
    out.push_str(&format!(
        r##"<title>One turn of the scheduler's loop</title>
<defs><marker id="l-head" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{BLUE}"/></marker>
<marker id="l-idle" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{PURPLE}"/></marker></defs>
<rect width="{WIDTH}" height="{height}" fill="white"/>
<text x="10" y="22" font-size="15" font-weight="bold">One turn of the loop, as exp6 takes it (each step tagged with its stage)</text>
"##
    ));
    for (i, (title, what, stage)) in STEPS.iter().enumerate() {
        let top = y(i);
        let _ = writeln!(
            out,
            r##"<rect x="{x}" y="{top}" width="{w}" height="{h}" rx="6" fill="white" stroke="#555" stroke-width="1.5"/><text x="{}" y="{}" font-weight="bold" font-size="13">{}</text><text x="{}" y="{}" fill="#333">{}</text><text x="{}" y="{}" text-anchor="end" fill="{GREEN}" font-size="11" font-style="italic">{}</text>"##,
            x + 10.0,
            top + 18.0,
            escape(title),
            x + 10.0,
            top + 35.0,
            escape(what),
            x + w - 8.0,
            top + 18.0,
            stage
        );
        if i + 1 < STEPS.len() {
            let _ = writeln!(
                out,
                r#"<path d="M{cx},{} L{cx},{}" stroke="{BLUE}" stroke-width="2" marker-end="url(#l-head)"/>"#,
                top + h,
                y(i + 1) - 1.0,
                cx = x + 60.0
            );
        }
    }
    // 5 -> 1 on the left: the next turn.
    let (y1, y5) = (y(0) + h / 2.0, y(4) + h / 2.0);
    let _ = writeln!(
        out,
        r#"<path d="M{x},{y5} L70,{y5} L70,{y1} L{},{y1}" fill="none" stroke="{BLUE}" stroke-width="2" marker-end="url(#l-head)"/><text x="64" y="{}" text-anchor="end" fill="{BLUE}" font-size="11">next</text><text x="64" y="{}" text-anchor="end" fill="{BLUE}" font-size="11">turn</text>"#,
        x - 1.0,
        (y1 + y5) / 2.0,
        (y1 + y5) / 2.0 + 13.0
    );
    // 3 -> 4 says "some woken"; 3 -> idle, off to the right, "none".
    let _ = writeln!(
        out,
        r#"<text x="{}" y="{}" fill="{BLUE}" font-size="11">some woken</text>"#,
        x + 68.0,
        y(3) - 7.0
    );
    let (ix, iw) = (530.0, 180.0);
    let y3 = y(2) + h / 2.0;
    let _ = writeln!(
        out,
        r##"<path d="M{},{y3} L{},{y3}" stroke="{PURPLE}" stroke-width="2" stroke-dasharray="6 4" marker-end="url(#l-idle)"/><text x="{}" y="{}" text-anchor="middle" fill="{PURPLE}" font-size="11">none woken</text>
<rect x="{ix}" y="{}" width="{iw}" height="{h}" rx="6" fill="#F5E1EC" stroke="{PURPLE}" stroke-width="1.5"/><text x="{}" y="{}" font-weight="bold" font-size="13">6. idle</text><text x="{}" y="{}" text-anchor="end" fill="{GREEN}" font-size="11" font-style="italic">exp2</text><text x="{}" y="{}" fill="#333">wait for a wake or a timer</text>
<path d="M{},{} L{},{y1} L{},{y1}" fill="none" stroke="{PURPLE}" stroke-width="2" stroke-dasharray="6 4" marker-end="url(#l-idle)"/><text x="{}" y="{}" fill="{PURPLE}" font-size="11">woken, or</text><text x="{}" y="{}" fill="{PURPLE}" font-size="11">a timer due</text>"##,
        x + w,
        ix - 1.0,
        (x + w + ix) / 2.0,
        y3 - 6.0,
        y(2),
        ix + 10.0,
        y(2) + 18.0,
        ix + iw - 8.0,
        y(2) + 18.0,
        ix + 10.0,
        y(2) + 35.0,
        ix + iw / 2.0,
        y(2),
        ix + iw / 2.0,
        x + w + 1.0,
        ix + iw / 2.0 + 6.0,
        y(1) + 10.0,
        ix + iw / 2.0 + 6.0,
        y(1) + 23.0
    );
    let _ = writeln!(
        out,
        r##"<text x="10" y="{}" fill="#333">Idle waits: exp2 and exp3 thread::sleep, exp4 a Condvar, exp5 and exp6 poll(2). Step 4 is skipped</text>
<text x="10" y="{}" fill="#333">right after an idle poll(2), which has just looked at the sockets; exp1 has only steps 5 and "next turn".</text>"##,
        height - 24.0,
        height - 8.0
    );
    out.push_str("</svg>\n");
    out
}

/// A constructed trace: what chapter 4 argues when a worker lowers the
/// count of jobs before it wakes the task (the wrong order). The scheduler
/// sees no job in flight and an empty queue, and gives up; the wake comes
/// after, and no poll follows it.
const EXP4_WRONG: &str = "\
[trace     0.000 ms scheduler] run: 1 tasks
[trace     0.020 ms scheduler] job queued: task 0
[trace     0.040 ms scheduler] polled task 0: Pending (30 µs)
[trace     0.050 ms scheduler] idle: condvar wait, no timeout
[trace     0.060 ms pool-1] job started: task 0
[trace     0.140 ms pool-1] job finished: task 0
[trace     0.160 ms scheduler] idle: awake
[trace     0.170 ms scheduler] nothing can wake them: 0 jobs in flight, queue empty
[trace     0.200 ms pool-1] woke task 0
";

/// The same, in the order exp4 keeps: the wake, then the count.
const EXP4_RIGHT: &str = "\
[trace     0.000 ms scheduler] run: 1 tasks
[trace     0.020 ms scheduler] job queued: task 0
[trace     0.040 ms scheduler] polled task 0: Pending (30 µs)
[trace     0.050 ms scheduler] idle: condvar wait, no timeout
[trace     0.060 ms pool-1] job started: task 0
[trace     0.140 ms pool-1] woke task 0
[trace     0.160 ms scheduler] idle: awake
[trace     0.175 ms pool-1] job finished: task 0
[trace     0.200 ms scheduler] polled task 0: Ready (20 µs)
";

/// A constructed trace of chapter 6's lost wake-up: the wake lands between
/// the look at the queue and the park, and writes no byte; `poll(2)` then
/// blocks for good.
const EXP6_LOST: &str = "\
[trace     0.000 ms scheduler] run: 1 tasks
[trace     0.040 ms scheduler] polled task 0: Pending (30 µs)
[trace     0.050 ms scheduler] took the ready queue: empty
[trace     0.070 ms thread-waker] woke task 0
[trace     0.090 ms scheduler] idle: poll(2) on 2 fds, no timeout
";

/// The fix: look and park under one lock; a wake after the park finds
/// the flag up and writes a byte.
const EXP6_FIXED: &str = "\
[trace     0.000 ms scheduler] run: 1 tasks
[trace     0.040 ms scheduler] polled task 0: Pending (30 µs)
[trace     0.050 ms scheduler] park: queue empty, parked
[trace     0.060 ms scheduler] idle: poll(2) on 2 fds, no timeout
[trace     0.090 ms thread-waker] woke task 0
[trace     0.095 ms thread-waker] self-wake: byte written
[trace     0.110 ms scheduler] idle: awake, 1 fds ready
[trace     0.115 ms scheduler] self-wake: 1 bytes drained
[trace     0.150 ms scheduler] polled task 0: Ready (20 µs)
";

/// A constructed trace drawn as a timeline.
fn constructed(text: &str, to_us: Option<u64>) -> String {
    let options = Options {
        to: to_us.map(|us| us * 1_000),
        ..Options::default()
    };
    timeline::svg(&timeline::view(&trace::parse(text), &options))
}

/// Every diagram: its file name in `generated/pictures/` and its SVG. A
/// name that starts with a crate's name belongs to that crate's chapter.
pub fn all() -> Vec<(String, String)> {
    let mut all: Vec<(String, String)> = maps()
        .iter()
        .map(|map| (format!("{}-map.svg", map.krate), map_svg(map)))
        .collect();
    all.push(("loop.svg".to_string(), loop_svg()));
    all.push((
        "exp4-threadpool-race-right.svg".to_string(),
        constructed(EXP4_RIGHT, None),
    ));
    all.push((
        "exp4-threadpool-race-wrong.svg".to_string(),
        constructed(EXP4_WRONG, Some(240)),
    ));
    all.push((
        "exp6-combined-race-lost.svg".to_string(),
        constructed(EXP6_LOST, Some(200)),
    ));
    all.push((
        "exp6-combined-race-fixed.svg".to_string(),
        constructed(EXP6_FIXED, None),
    ));
    all
}

/// `text` safe inside an SVG element or attribute.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
