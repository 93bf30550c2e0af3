//! `compare report [--quick] [--only WORD,WORD] [--out DIR]`: runs the whole
//! comparison and writes `results.md` and the SVG charts into
//! `book/src/performance/` (or DIR). With `--only`, runs the measures whose
//! id contains one of the words (or ends with it, for a word ending in `$`)
//! and prints the page instead of writing it. `--runtimes NAME,NAME` runs
//! only those runtimes, in that order. `--rounds N` takes the criterion and
//! echo measures in N rounds, the runtimes taking turns (`Config::rounds`).
//! `--steps FILE` writes, instead of the
//! results page, the runtimes as steps (a row each, a column per measure,
//! each cell's change from the step above: `report::steps`) into FILE.
//! `compare list`: the runtimes and what each can run.
//! `compare one WORKLOAD RUNTIME [N]`: one workload, N iterations (for
//! `echo`, 1000 connections and N samples), no harness: for `strace -c`,
//! `perf record` or callgrind.

use std::path::PathBuf;
use std::time::{Instant, SystemTime};
use std::{env, fs, process};

use compare::report::{self, Stamp};
use compare::results::Results;
use compare::suite::{self, Config, Filter};
use criterion::Criterion;

const USAGE: &str = "usage: compare report [--quick] [--only WORD,WORD] [--runtimes NAME,NAME]
                      [--rounds N] [--out DIR | --steps FILE]
       compare list
       compare one WORKLOAD RUNTIME [N]   (WORKLOAD: yield, yield-many, spawn-join, spawn-100k,
                                           pool, ping-pong-pair, ping-pong-tcp, sleepers, oversleep,
                                           echo)";

fn main() {
    let mut args = env::args().skip(1);
    let mut config = Config::full();
    let mut filter = Filter(Vec::new());
    let mut out = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../src/performance"));
    let mut runtimes: Option<Vec<String>> = None;
    let mut steps: Option<PathBuf> = None;
    let mut rounds = None;
    match args.next().as_deref() {
        Some("report") => {}
        Some("list") => return list(),
        Some("one") => return one(args.collect()),
        _ => fail(USAGE),
    }
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => config = Config::quick(),
            "--only" => {
                let words = args.next().unwrap_or_else(|| fail(USAGE));
                filter = Filter(words.split(',').map(str::to_string).collect());
            }
            "--out" => out = args.next().unwrap_or_else(|| fail(USAGE)).into(),
            "--runtimes" => {
                let names = args.next().unwrap_or_else(|| fail(USAGE));
                runtimes = Some(names.split(',').map(str::to_string).collect());
            }
            "--steps" => steps = Some(args.next().unwrap_or_else(|| fail(USAGE)).into()),
            "--rounds" => {
                let n = args.next().and_then(|n| n.parse::<usize>().ok());
                rounds = Some(n.filter(|&n| n > 0).unwrap_or_else(|| fail(USAGE)));
            }
            _ => fail(USAGE),
        }
    }
    if let Some(rounds) = rounds {
        config.rounds = rounds;
    }

    let entries = match &runtimes {
        Some(names) => suite::select(suite::entries(), names).unwrap_or_else(|e| fail(&e)),
        None => suite::entries(),
    };
    let (started, clock, load) = (SystemTime::now(), Instant::now(), load_average());
    let mut results = Results::default();
    let mut c = Criterion::default();
    suite::run_criterion(&mut c, &entries, &config, &filter, &mut results);
    suite::run_custom(&entries, &config, &filter, &mut results);
    let stamp = Stamp::take(started, &load, clock.elapsed());

    if let Some(file) = steps {
        let page = report::steps(&entries, &results, &filter, &stamp);
        if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
            fs::create_dir_all(dir).unwrap_or_else(|e| fail(&format!("{}: {e}", dir.display())));
        }
        fs::write(&file, &page).unwrap_or_else(|e| fail(&format!("{}: {e}", file.display())));
        println!("\n{page}\nwrote {}", file.display());
        return;
    }
    let command = "book/compare/report";
    let (page, missed) = report::markdown(&entries, &results, &stamp, command);
    if !filter.0.is_empty() {
        println!("\n{page}");
        return;
    }
    fs::create_dir_all(&out).unwrap_or_else(|e| fail(&format!("{}: {e}", out.display())));
    fs::write(out.join("results.md"), &page).unwrap_or_else(|e| fail(&e.to_string()));
    let charts = report::charts(&results, &out).unwrap_or_else(|e| fail(&e.to_string()));
    println!("\n{page}");
    println!(
        "wrote {} and {}",
        out.join("results.md").display(),
        charts.join(", ")
    );
    match missed.len() {
        0 => println!("every goal met"),
        n => println!("{n} goal(s) missed: {}", missed.join("; ")),
    }
}

fn load_average() -> String {
    fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "?".into())
}

fn one(args: Vec<String>) {
    let [workload, runtime, rest @ ..] = args.as_slice() else {
        fail(USAGE)
    };
    let n: u64 = rest
        .first()
        .map_or(Some(1), |n| n.parse().ok())
        .unwrap_or_else(|| fail(USAGE));
    let entries = suite::entries();
    let entry = entries
        .iter()
        .find(|e| e.name == runtime.as_str())
        .unwrap_or_else(|| fail(&format!("no runtime {runtime}: see `compare list`")));
    let missing = || -> ! { fail(&format!("{runtime} cannot run {workload}")) };
    let iter_fn = match workload.as_str() {
        "yield" => entry.yield_one,
        "yield-many" => entry.yield_many,
        "spawn-join" => entry.spawn_join,
        "spawn-100k" => entry.spawn_100k,
        "pool" => entry.pool,
        "ping-pong-pair" => entry.ping_pong_pair,
        "ping-pong-tcp" => entry.ping_pong_tcp,
        "sleepers" => {
            let sleepers = entry.sleepers.unwrap_or_else(|| missing());
            for _ in 0..n {
                let (wall, cpu) = sleepers(100_000, std::time::Duration::from_millis(100));
                println!("100k sleepers: wall {wall:?}, cpu {cpu:?}");
            }
            return;
        }
        "echo" => {
            // The report's echo at 1000 connections, made once, then N
            // samples of about 20 ms each: the connections' setup is a small
            // part of a profile of a few hundred samples.
            let echo = entry.echo.unwrap_or_else(|| missing());
            let plan = compare::sample::Plan {
                target: std::time::Duration::from_millis(20),
                samples: n as usize,
            };
            let per_round = compare::sample::Summary::of(&echo(1000, plan)).median;
            let mibps =
                (1000 * compare::work::ECHO_MESSAGE) as f64 / per_round * 1e9 / (1 << 20) as f64;
            println!(
                "echo, 1000 connections, on {runtime}: {n} samples, median {per_round:.0} ns per round ({mibps:.1} MiB/s)"
            );
            return;
        }
        "oversleep" => {
            let oversleep = entry.oversleep.unwrap_or_else(|| missing());
            let late = oversleep(n as usize);
            let summary = compare::sample::Summary::of(
                &late.iter().map(|d| d.as_nanos() as f64).collect::<Vec<_>>(),
            );
            println!(
                "oversleep over {n}: median {:.0} ns, p99 {:.0} ns",
                summary.median, summary.p99
            );
            return;
        }
        _ => fail(USAGE),
    };
    let took = iter_fn.unwrap_or_else(|| missing())(n);
    println!(
        "{workload} on {runtime}: {n} iterations in {took:?} ({:.0} ns each)",
        took.as_nanos() as f64 / n as f64
    );
}

fn list() {
    for e in suite::entries() {
        let has = |b: bool, what: &'static str| b.then_some(what);
        let caps: Vec<&str> = [
            has(e.yield_one.is_some(), "yield"),
            has(e.oversleep.is_some(), "sleep"),
            has(e.spawn_join.is_some(), "spawn"),
            has(e.pool.is_some(), "blocking"),
            has(e.ping_pong_tcp.is_some(), "net"),
            has(e.ping_pong_pair.is_some(), "socketpair"),
        ]
        .into_iter()
        .flatten()
        .collect();
        println!("{:<8} {:?}: {}", e.name, e.kind, caps.join(", "));
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    process::exit(2)
}
