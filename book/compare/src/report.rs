//! The results page: the machine's stamp, the goals with their measured
//! ratios, a table per family of measures, and the charts. And the steps
//! page (`steps`): runtimes as successive steps, each compared with the one
//! before, for the ablation (`book/compare/ablation`).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::entry::{Entry, Kind};
use crate::goals;
use crate::results::{Results, cell, value};
use crate::suite::{self, CONNECTIONS, COUNTS, Filter, IDLE_FDS, ids};
use crate::svg::{Chart, Series};

/// What the results were measured on.
pub struct Stamp {
    /// Machine, versions, date: a list item each.
    pub lines: Vec<String>,
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

impl Stamp {
    /// Taken at the end of a run that started at `started` with the load
    /// average `load_at_start`.
    pub fn take(started: SystemTime, load_at_start: &str, took: Duration) -> Stamp {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let model = cpuinfo
            .lines()
            .find_map(|l| {
                l.strip_prefix("model name")
                    .map(|r| r.trim_start_matches([' ', '\t', ':']))
            })
            .unwrap_or("unknown CPU");
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let mem_gib = fs::read_to_string("/proc/meminfo")
            .ok()
            .and_then(|m| {
                let kb: f64 = m.lines().next()?.split_whitespace().nth(1)?.parse().ok()?;
                Some(kb / 1024.0 / 1024.0)
            })
            .unwrap_or(0.0);
        let git = |args: &[&str]| {
            Command::new("git")
                .args(args)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let commit = commit(
            std::env::var("COMPARE_COMMIT").ok(),
            || git(&["rev-parse", "--short", "HEAD"]),
            || git(&["status", "--porcelain"]),
        );
        Stamp {
            lines: vec![
                format!(
                    "**Machine**: {model}, `nproc` = {nproc}, {mem_gib:.0} GiB, Linux {}; \
                     load average {load_at_start} at the start, {} at the end",
                    kernel.trim(),
                    load_average()
                ),
                format!(
                    "**Versions**: {}; tokio {} (current-thread runtime, `LocalSet`); \
                     smol {} (`LocalExecutor`; async-executor {}, async-io {}, blocking {}); criterion {}",
                    env!("COMPARE_RUSTC"),
                    env!("COMPARE_VERSION_TOKIO"),
                    env!("COMPARE_VERSION_SMOL"),
                    env!("COMPARE_VERSION_ASYNC_EXECUTOR"),
                    env!("COMPARE_VERSION_ASYNC_IO"),
                    env!("COMPARE_VERSION_BLOCKING"),
                    env!("COMPARE_VERSION_CRITERION"),
                ),
                format!(
                    "**Run**: {} UTC, commit {commit}, took {:.0} s",
                    date(started),
                    took.as_secs_f64()
                ),
            ],
        }
    }
}

/// The commit the page names: `COMPARE_COMMIT` when set (a scratch copy of
/// this crate outside the checkout cannot ask git), else HEAD, marked when
/// the tree has uncommitted changes.
fn commit(
    given: Option<String>,
    head: impl FnOnce() -> Option<String>,
    status: impl FnOnce() -> Option<String>,
) -> String {
    if let Some(given) = given.filter(|c| !c.is_empty()) {
        return given;
    }
    match (head(), status()) {
        (Some(c), Some(s)) if !s.is_empty() => format!("{c} (with uncommitted changes)"),
        (Some(c), _) => c,
        _ => "unknown".into(),
    }
}

/// `2026-05-01 12:34` from the system clock (civil-from-days).
fn date(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// The goals table; also returns the missed goals' texts.
fn goals_table(entries: &[Entry], results: &Results, out: &mut String) -> Vec<String> {
    let mut missed = Vec::new();
    out.push_str("| goal | stage | compared with | ratio | met |\n|---|---|---|---|---|\n");
    for g in goals::goals(entries) {
        let Some(v) = goals::check(&g, results) else {
            continue; // not measured in this run
        };
        if !v.met {
            missed.push(g.text.clone());
        }
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            g.text,
            v.mine,
            v.theirs,
            v.ratio,
            if v.met { "yes" } else { "**no**" }
        );
    }
    missed
}

/// A table with a row per measure and a column per runtime that has any.
fn table(rows: &[(String, String)], entries: &[Entry], results: &Results, out: &mut String) {
    let columns: Vec<&str> = entries
        .iter()
        .map(|e| e.name)
        .chain(["poll(2) call", "epoll_wait call"])
        .filter(|name| rows.iter().any(|(m, _)| results.get(m, name).is_some()))
        .collect();
    if columns.is_empty() {
        return;
    }
    let _ = writeln!(out, "| measure | {} |", columns.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(columns.len()));
    for (measure, label) in rows {
        if columns.iter().all(|c| results.get(measure, c).is_none()) {
            continue;
        }
        let unit = results.unit(measure);
        let cells: Vec<String> = columns
            .iter()
            .map(|c| {
                results
                    .get(measure, c)
                    .map_or("–".into(), |s| cell(unit, s))
            })
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }
    out.push('\n');
}

/// The charts: file name, title, axis labels, series id.
const CHARTS: [(&str, &str, &str, &str, &str); 4] = [
    (
        "spawn-growth.svg",
        "Spawn cost as tasks grow: n spawned, then joined",
        "tasks spawned before the first join",
        "ns per task",
        ids::SPAWN_GROWTH,
    ),
    (
        "timer-growth.svg",
        "Timer cost as sleepers grow: n tasks sleeping 0-10 ms",
        "sleeping tasks",
        "CPU ns per sleeping task",
        ids::TIMER_GROWTH,
    ),
    (
        "idle-fds.svg",
        "Going idle with many fds: ping-pong beside n idle sockets",
        "idle registered fds",
        "ns per round trip (references: per call)",
        ids::IDLE_FDS,
    ),
    (
        "echo.svg",
        "Echo throughput, 1 KiB messages, all connections at once",
        "connections",
        "MiB/s echoed",
        ids::ECHO,
    ),
];

/// Where the charts are, seen from the chapter that includes the page
/// (`book/src/performance.md` includes `performance/results.md`).
const IMAGES: &str = "performance";

/// The rows of the per-operation table: measure id, label.
fn per_operation_rows() -> Vec<(String, String)> {
    suite::benches()
        .iter()
        .map(|b| (b.id.to_string(), format!("{} ({})", b.id, b.what)))
        .chain([
            (
                ids::OVERSLEEP.to_string(),
                "timers/sleep(1 ms) oversleep, median (time past the deadline)".to_string(),
            ),
            (
                ids::OVERSLEEP_P99.to_string(),
                "timers/sleep(1 ms) oversleep, 99th percentile".to_string(),
            ),
            (
                ids::SLEEPERS_WALL.to_string(),
                "timers/100k sleepers, 0-100 ms: wall time (100 ms is ideal)".to_string(),
            ),
            (
                ids::SLEEPERS_CPU.to_string(),
                "timers/100k sleepers, 0-100 ms: CPU time of the process".to_string(),
            ),
        ])
        .collect()
}

/// What a measure is, for the legend of the steps page.
fn describe(id: &str) -> String {
    if let Some((_, label)) = per_operation_rows().into_iter().find(|(m, _)| m == id) {
        return label;
    }
    match CONNECTIONS.iter().find(|&&n| suite::echo_id(n) == id) {
        Some(n) => format!(
            "{id} (echo throughput, {n} connections, 1 KiB messages, all at once; \
             higher is better)"
        ),
        None => id.to_string(),
    }
}

/// A change from `before` to `now` as a whole percentage: `+5%`, `−18%`
/// (a minus sign, not a hyphen), `0%`.
pub fn change(before: f64, now: f64) -> String {
    let pct = ((now / before - 1.0) * 100.0).round();
    if pct == 0.0 || !pct.is_finite() {
        "0%".into()
    } else if pct > 0.0 {
        format!("+{pct:.0}%")
    } else {
        format!("\u{2212}{:.0}%", -pct)
    }
}

/// The runtimes as successive steps (`compare report --runtimes A,B,…
/// --steps FILE`): a table with a row per runtime in the order of
/// `entries` and a column per measure recorded that `wanted` wants. A
/// stage's cell is its median and the change from the stage on a row
/// above it (so each row compares with the step before it); a peer's cell
/// is its median alone. A second table gives the spreads. The page starts
/// with the stamp as a list; the caller adds a heading and says what the
/// steps are.
pub fn steps(entries: &[Entry], results: &Results, wanted: &Filter, stamp: &Stamp) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for (m, ..) in &results.values {
        if wanted.wants(m) && !columns.contains(&m.as_str()) {
            columns.push(m);
        }
    }
    let rows: Vec<&Entry> = entries
        .iter()
        .filter(|e| columns.iter().any(|m| results.get(m, e.name).is_some()))
        .collect();

    let mut out = String::new();
    for line in &stamp.lines {
        let _ = writeln!(out, "- {line}");
    }
    out.push('\n');
    if columns.is_empty() {
        out.push_str("Nothing was measured.\n");
        return out;
    }
    // The peers' rows in italics: they are no steps.
    let row_name = |e: &Entry| match e.kind {
        Kind::Stage => e.name.to_string(),
        _ => format!("*{}*", e.name),
    };
    let header = |out: &mut String| {
        let _ = writeln!(out, "| step | {} |", columns.join(" | "));
        let _ = writeln!(out, "|---|{}", "---|".repeat(columns.len()));
    };

    header(&mut out);
    for (i, e) in rows.iter().enumerate() {
        let before = rows[..i].iter().rev().find(|b| b.kind == Kind::Stage);
        let cells: Vec<String> = columns
            .iter()
            .map(|m| {
                let Some(s) = results.get(m, e.name) else {
                    return "–".into();
                };
                let median = value(results.unit(m), s.median);
                match before.and_then(|b| results.get(m, b.name)) {
                    Some(b) if e.kind == Kind::Stage => {
                        format!("{median} ({})", change(b.median, s.median))
                    }
                    _ => median,
                }
            })
            .collect();
        let name = row_name(e);
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    out.push_str(
        "\nEach cell is the median over the samples; on a step's row, in brackets, its change \
         from the step above it (for a time, a minus is faster; for a throughput, a plus is \
         more). The peers' rows, in italics, are the same measures in the same run, for \
         scale.\n\n",
    );
    for m in &columns {
        let _ = writeln!(out, "- {}", describe(m));
    }

    out.push_str(
        "\nThe spreads: half the interquartile range of each cell's samples, as a \
         percentage of its median (a change smaller than the spreads of its two cells is \
         noise).\n\n",
    );
    header(&mut out);
    for e in &rows {
        let name = row_name(e);
        let cells: Vec<String> = columns
            .iter()
            .map(|m| match results.get(m, e.name) {
                Some(s) if s.n > 1 => format!("±{:.0}%", s.spread_pct()),
                _ => "–".into(),
            })
            .collect();
        let _ = writeln!(out, "| {name} | {} |", cells.join(" | "));
    }
    out
}

/// The whole page: a section of the performance chapter, which includes it.
pub fn markdown(
    entries: &[Entry],
    results: &Results,
    stamp: &Stamp,
    command: &str,
) -> (String, Vec<String>) {
    let mut out = String::new();
    out.push_str("## Results\n\n");
    let _ = writeln!(
        out,
        "<!-- Generated by `{command}` (book/compare). Do not edit: run it again. -->\n"
    );
    for line in &stamp.lines {
        let _ = writeln!(out, "- {line}");
    }
    out.push_str(
        "\nEvery cell is the median over the samples, ± half the interquartile range as a \
         percentage of the median. The runtimes ran one after another in one process, so the \
         ratios compare runs minutes apart at most; this machine is shared, so trust ratios \
         over absolute numbers. tokio runs its current-thread runtime with a `LocalSet`, smol \
         a `LocalExecutor` under `smol::block_on`; neither pays for building its runtime \
         inside a measurement. \"threads\" does the same work with OS threads and blocking \
         calls where that makes sense: a yield is `sched_yield(2)`, a task a thread, the pool \
         one worker thread behind a channel, a connection a thread per end.\n\n",
    );

    out.push_str("### Goals\n\n");
    let missed = goals_table(entries, results, &mut out);
    out.push('\n');

    out.push_str("### Per operation\n\n");
    table(&per_operation_rows(), entries, results, &mut out);

    out.push_str("### Memory\n\nPeak heap bytes above the start of the run, per task, counted by a global allocator in the bench binary (one run, so no spread).\n\n");
    let rows = [
        (
            ids::SLEEPERS_MEM.to_string(),
            "100k tasks sleeping 0-100 ms".to_string(),
        ),
        (
            ids::SPAWN_MEM.to_string(),
            "100k trivial tasks spawned, then joined".to_string(),
        ),
    ];
    table(&rows, entries, results, &mut out);

    out.push_str("### Echo throughput\n\nAn echo server and its clients in one runtime; every client writes 1 KiB and reads it back, all at once; connections are made before the timing.\n\n");
    let rows: Vec<(String, String)> = CONNECTIONS
        .iter()
        .map(|&n| (suite::echo_id(n), format!("{n} connections")))
        .collect();
    table(&rows, entries, results, &mut out);
    let _ = writeln!(out, "![Echo throughput]({IMAGES}/echo.svg)\n");

    out.push_str("### Cost growth\n\n");
    let growth = [
        (
            ids::SPAWN_GROWTH,
            "n tasks spawned, then joined: ns per task",
            COUNTS.iter().map(|&n| n as usize).collect::<Vec<_>>(),
        ),
        (
            ids::TIMER_GROWTH,
            "n tasks sleeping 0-10 ms: CPU ns per task",
            COUNTS.iter().map(|&n| n as usize).collect(),
        ),
        (
            ids::IDLE_FDS,
            "ping-pong round trip beside n idle fds (each with a task waiting to read); poll(2) and epoll_wait: one call, timeout 0, n idle fds and one ready",
            IDLE_FDS.to_vec(),
        ),
    ];
    for (id, what, ns) in growth {
        let _ = writeln!(out, "#### {id}\n\n{what}.\n");
        let rows: Vec<(String, String)> = ns
            .iter()
            .map(|n| (format!("{id} {n}"), format!("n = {n}")))
            .collect();
        table(&rows, entries, results, &mut out);
        if let Some(chart) = CHARTS.iter().find(|c| c.4 == id) {
            let _ = writeln!(out, "![{}]({IMAGES}/{})\n", chart.1, chart.0);
        }
    }

    if !missed.is_empty() {
        out.push_str("### Goals missed\n\n");
        for m in &missed {
            let _ = writeln!(out, "- {m}");
        }
        out.push_str("\nWhy: see [the goals, one by one](#the-goals-one-by-one).\n");
    }
    (out, missed)
}

/// Writes the charts into `dir`; returns their file names.
pub fn charts(results: &Results, dir: &Path) -> std::io::Result<Vec<String>> {
    let mut written = Vec::new();
    for (file, title, x_label, y_label, id) in CHARTS {
        let series: Vec<Series> = results
            .series
            .iter()
            .filter(|(c, ..)| c == id)
            .map(|(_, name, points)| Series { name, points })
            .collect();
        if series.is_empty() {
            continue;
        }
        let chart = Chart {
            title,
            x_label,
            y_label,
            series,
        };
        fs::write(dir.join(file), chart.render())?;
        written.push(file.to_string());
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::Unit;
    use crate::sample::Summary;

    #[test]
    fn dates() {
        assert_eq!(date(UNIX_EPOCH), "1970-01-01 00:00");
        assert_eq!(
            date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "2000-02-29 00:00"
        );
    }

    fn runtimes() -> Vec<Entry> {
        let with_yield = |name, kind| {
            let mut e = Entry::new(name, kind);
            e.yield_one = Some(|_| Duration::ZERO);
            e
        };
        vec![
            with_yield("exp6", Kind::Stage),
            with_yield(goals::TUNED, Kind::Stage),
            with_yield("tokio", Kind::Peer),
            with_yield("smol", Kind::Peer),
        ]
    }

    fn measured(tuned: f64) -> Results {
        let mut r = Results::default();
        for (rt, ns) in [
            ("exp6", 90.0),
            (goals::TUNED, tuned),
            ("tokio", 60.0),
            ("smol", 50.0),
        ] {
            r.add(ids::YIELD_ONE, rt, Unit::Time, Summary::of(&[ns]));
        }
        r.point(ids::ECHO, "tokio", 10.0, Summary::of(&[1.0]));
        r
    }

    #[test]
    fn the_page_has_a_column_per_runtime_and_checks_the_goals() {
        let stamp = Stamp {
            lines: vec!["**Machine**: a test".into()],
        };
        let (page, missed) = markdown(&runtimes(), &measured(40.0), &stamp, "cmd");
        assert!(page.starts_with("## Results\n"));
        assert!(page.contains("Generated by `cmd`"));
        assert!(page.contains("- **Machine**: a test\n"));
        assert!(page.contains("| measure | exp6 | tuned | tokio | smol |\n"));
        assert!(page.contains("| 90.0 ns | 40.0 ns | 60.0 ns | 50.0 ns |\n"));
        assert!(page.contains(
            "| yield, 1 task: tuned ≤ the better of tokio and smol | 40.0 ns | smol: 50.0 ns | 0.80× (≤ 1×) | yes |"
        ));
        assert!(
            page.contains("| yield, 1 task: exp6 ≤ 2× the better of tokio and smol | 90.0 ns |")
        );
        // Nothing was measured for the other tables.
        assert!(!page.contains("| 10 connections |"));
        assert!(missed.is_empty() && !page.contains("### Goals missed"));

        let (page, missed) = markdown(&runtimes(), &measured(55.0), &stamp, "cmd");
        assert_eq!(
            missed,
            ["yield, 1 task: tuned ≤ the better of tokio and smol"]
        );
        assert!(page.contains("| 1.10× (≤ 1×) | **no** |"));
        assert!(page.contains("### Goals missed\n\n- yield, 1 task: tuned"));
    }

    #[test]
    fn changes_are_whole_percentages_with_a_minus_sign() {
        assert_eq!(change(100.0, 82.0), "\u{2212}18%");
        assert_eq!(change(100.0, 105.4), "+5%");
        assert_eq!(change(100.0, 100.4), "0%");
        assert_eq!(change(100.0, 99.6), "0%");
        assert_eq!(change(0.0, 1.0), "0%");
    }

    #[test]
    fn the_commit_given_wins_over_git() {
        let never = || -> Option<String> { panic!("git asked") };
        assert_eq!(commit(Some("abc".into()), never, never), "abc");
        let head = || Some("def".to_string());
        assert_eq!(commit(None, head, || Some(String::new())), "def");
        assert_eq!(
            commit(Some(String::new()), head, || Some(" M x".into())),
            "def (with uncommitted changes)"
        );
        assert_eq!(commit(None, || None, || None), "unknown");
    }

    #[test]
    fn the_steps_page_compares_each_step_with_the_one_above() {
        let mut r = Results::default();
        let ns = |v: &[f64]| Summary::of(v);
        for (rt, yield_ns, p99, mibps) in [
            ("base", 100.0, 9.0, 50.0),
            ("faster", 82.0, 9.0, 60.0),
            ("tokio", 60.0, 9.0, 70.0),
            ("smol", 50.0, 9.0, 80.0),
        ] {
            r.add(ids::YIELD_ONE, rt, Unit::Time, ns(&[yield_ns, yield_ns]));
            r.add(ids::OVERSLEEP_P99, rt, Unit::Time, ns(&[p99]));
            r.add(&suite::echo_id(1000), rt, Unit::MiBps, ns(&[mibps]));
        }
        // "later" lacks the measures of the other column.
        r.add(
            ids::YIELD_ONE,
            "later",
            Unit::Time,
            ns(&[90.0, 100.0, 110.0]),
        );
        let entries = [
            Entry::new("base", Kind::Stage),
            Entry::new("faster", Kind::Stage),
            Entry::new("later", Kind::Stage),
            Entry::new("unmeasured", Kind::Stage),
            Entry::new("tokio", Kind::Peer),
            Entry::new("smol", Kind::Peer),
        ];
        let stamp = Stamp {
            lines: vec!["**Machine**: a test".into()],
        };
        let wanted = Filter(vec!["yield/".into(), "echo 1000".into()]);
        let page = steps(&entries, &r, &wanted, &stamp);
        assert!(page.starts_with("- **Machine**: a test\n\n"));
        assert!(page.contains("| step | yield/1 task | io/echo 1000 conns |\n|---|---|---|\n"));
        assert!(page.contains("| base | 100 ns | 50.0 MiB/s |\n"));
        assert!(page.contains("| faster | 82.0 ns (\u{2212}18%) | 60.0 MiB/s (+20%) |\n"));
        assert!(page.contains("| later | 100 ns (+22%) | – |\n"));
        assert!(page.contains("| *tokio* | 60.0 ns | 70.0 MiB/s |\n"));
        assert!(
            !page.contains("unmeasured"),
            "a row for a runtime not measured"
        );
        assert!(!page.contains("p99"), "a column the filter does not want");
        assert!(page.contains("- io/echo 1000 conns (echo throughput, 1000 connections"));
        assert!(page.contains("| later | ±5% | – |\n"));
        assert!(page.contains("| *smol* | ±0% | – |\n"));
    }

    #[test]
    fn charts_are_written_for_the_series_measured() {
        let dir = std::env::temp_dir().join(format!("compare-charts-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let written = charts(&measured(40.0), &dir).unwrap();
        assert_eq!(written, ["echo.svg"]);
        let svg = fs::read_to_string(dir.join("echo.svg")).unwrap();
        assert!(svg.contains("Echo throughput"));
        fs::remove_dir_all(&dir).unwrap();
    }
}
