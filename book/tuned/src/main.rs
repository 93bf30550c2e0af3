//! Experiment 6 demo: an echo server whose every echo goes through the
//! thread pool, its clients, and a ticker, all in one thread.
//!
//! The server accepts 50 connections and echoes each in a task of its own,
//! handing every chunk to the pool for a checksum before it writes it back.
//! 50 client tasks come in 5 waves of 10 and make 10 round trips each, and a
//! ticker task prints every 100 ms until the last client is done. When no
//! task is ready the thread parks in `poll(2)`, on the sockets, the timers
//! and the self-wake at once: a worker that finishes a checksum meanwhile
//! writes a byte to the self-wake, and `poll(2)` returns.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.
//!
//! `serve [ADDR]` runs the server alone, for `nc` or any other client;
//! `serve --help` tells its settings.

use std::cell::Cell;
use std::env;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc::{self, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use exp6_tuned::net::TcpListener;
use exp6_tuned::{JoinHandle, echo, run, self_wake_bytes, sleep, spawn, task, trace_start};

/// How many clients the demo runs.
const CLIENTS: usize = 50;

/// How many round trips each client makes.
const ROUNDS: usize = 10;

/// How many clients come at once.
const WAVE: usize = 10;

/// The time between one wave of clients and the next.
const WAVE_GAP: Duration = Duration::from_millis(400);

/// The time between two ticks.
const TICK: Duration = Duration::from_millis(100);

/// Where `serve` listens without an ADDR: the original experiment's port.
const DEFAULT_ADDR: &str = "127.0.0.1:1234";

/// The program's name, for `serve`'s messages.
const NAME: &str = env!("CARGO_PKG_NAME");

/// How many lines `serve`'s log holds for stdout before it drops them.
const LOG_QUEUE: usize = 1024;

/// Prints `line` on stdout, unless stdout's reader has gone (`| head -n 1`):
/// then the line is lost. `println!` would panic on the error, and a demo
/// whose output nobody reads has no reason to stop half way.
fn print(line: &str) {
    let _ = writeln!(io::stdout(), "{line}");
}

/// Prints a line stamped with the milliseconds since `start`.
fn say(start: Instant, line: &str) {
    print(&stamped(start, line));
}

/// `line` stamped with the milliseconds since `start`.
fn stamped(start: Instant, line: &str) -> String {
    let ms = start.elapsed().as_secs_f64() * 1e3;
    format!("{ms:>8.3} ms  {line}")
}

/// The counts the demo's tasks keep, for the ticker and the summary.
#[derive(Default)]
struct Counts {
    /// Clients whose round trips all came back intact.
    ok: Cell<usize>,
    /// Clients that failed.
    failed: Cell<usize>,
}

impl Counts {
    /// Clients done, whether they succeeded or failed.
    fn done(&self) -> usize {
        self.ok.get() + self.failed.get()
    }

    /// Round trips, pool jobs and self-wake bytes so far.
    fn progress(&self) -> String {
        let bytes = self_wake_bytes();
        format!(
            "{} round trips, {} pool jobs, self-wake bytes: {} written, {} drained",
            self.ok.get() * ROUNDS,
            echo::pool_jobs(),
            bytes.written,
            bytes.drained
        )
    }
}

/// Wave `number` (from 0): waits its turn, then runs its clients at once.
async fn wave(number: usize, addr: SocketAddr, counts: Rc<Counts>, start: Instant) {
    sleep(WAVE_GAP * number as u32).await;
    say(
        start,
        &format!("wave {}: {WAVE} clients connect", number + 1),
    );
    let clients: Vec<JoinHandle<()>> = (number * WAVE..(number + 1) * WAVE)
        .map(|id| {
            let counts = counts.clone();
            spawn(async move {
                match echo::client(addr, id, ROUNDS).await {
                    Ok(()) => counts.ok.set(counts.ok.get() + 1),
                    Err(err) => {
                        say(start, &format!("client {id}: {err}"));
                        counts.failed.set(counts.failed.get() + 1);
                    }
                }
            })
        })
        .collect();
    for client in clients {
        client.await;
    }
    say(
        start,
        &format!("wave {}: done; so far {}", number + 1, counts.progress()),
    );
}

/// Prints a line every [`TICK`] until every client is done, with how late
/// the tick is: a loop that blocked, on a computation or on a wait that
/// missed a wake, would show here.
async fn ticker(counts: Rc<Counts>, start: Instant) -> u32 {
    let mut ticks = 0;
    let mut next = Instant::now() + TICK;
    while counts.done() < CLIENTS {
        sleep(next.saturating_duration_since(Instant::now())).await;
        ticks += 1;
        let late = next.elapsed().as_secs_f64() * 1e3;
        say(
            start,
            &format!("tick {ticks} ({late:.1} ms late): {}", counts.progress()),
        );
        next += TICK;
    }
    ticks
}

/// The demo: the server, the waves of clients and the ticker in one `run`,
/// then a summary.
fn demo() -> ExitCode {
    print(&format!(
        "exp6-tuned: {CLIENTS} echo clients in waves of {WAVE} (server lines for the first \
         of each wave only), every echo checksummed on the thread pool, and a ticker every \
         {TICK:?}. Watch the ticks keep time while one poll(2) waits for sockets, timers and \
         pool workers at once: a worker that finds the loop parked there writes a byte to the \
         self-wake socket, at most one per park, so the bytes are fewer than the wakes."
    ));
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    say(start, &format!("server: listening on {addr}"));
    let config = echo::Config::default();
    let server = echo::serve(listener, Some(CLIENTS), config, move |line| {
        // "connection 11 from ...: open", "connection 11: closed, ...": the
        // first connection of each wave.
        let first_of_a_wave = line
            .strip_prefix("connection ")
            .and_then(|rest| rest.split([' ', ':']).next())
            .and_then(|id| id.parse::<usize>().ok())
            .is_none_or(|id| id % WAVE == 1);
        if first_of_a_wave {
            say(start, &format!("server: {line}"));
        }
    });
    let counts = Rc::new(Counts::default());
    let ticks = Rc::new(Cell::new(0));
    let mut tasks = vec![task(server)];
    for number in 0..CLIENTS / WAVE {
        tasks.push(task(wave(number, addr, counts.clone(), start)));
    }
    let (ticker_counts, ticks_out) = (counts.clone(), ticks.clone());
    tasks.push(task(async move {
        ticks_out.set(ticker(ticker_counts, start).await);
    }));
    run(tasks);
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    say(
        start,
        &format!(
            "done: {CLIENTS} connections, {} clients failed, {}, {} ticks, {elapsed:.1} ms",
            counts.failed.get(),
            counts.progress(),
            ticks.get()
        ),
    );
    if counts.failed.get() == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `serve`'s log: its lines go through a queue of [`LOG_QUEUE`] lines to a
/// thread that prints them. `println!` on the scheduler's thread would let
/// stdout stop the server: it blocks while a pipe is full, and panics once
/// the pipe's reader has gone. Here a line that finds the queue full is
/// dropped, and the next line that fits says how many were; once printing
/// fails, the thread stops, and every line after is dropped.
struct Log {
    queue: SyncSender<String>,
    dropped: Cell<u64>,
}

impl Log {
    /// Starts the thread that prints the lines.
    fn start() -> Log {
        let (queue, lines) = mpsc::sync_channel::<String>(LOG_QUEUE);
        let printer = thread::Builder::new()
            .name("log".to_string())
            .spawn(move || {
                let mut stdout = io::stdout();
                for line in lines {
                    if writeln!(stdout, "{line}").is_err() {
                        return;
                    }
                }
            });
        if let Err(err) = printer {
            // Without the thread, every line is dropped: serving goes on.
            let _ = writeln!(
                io::stderr(),
                "{NAME}: no log: cannot start its thread: {err}"
            );
        }
        Log {
            queue,
            dropped: Cell::new(0),
        }
    }

    /// Queues `line` for stdout, or drops it; never waits.
    fn say(&self, line: String) {
        let dropped = self.dropped.get();
        if dropped > 0
            && self
                .queue
                .try_send(format!(
                    "({dropped} log lines dropped: stdout did not keep up)"
                ))
                .is_ok()
        {
            self.dropped.set(0);
        }
        if self.queue.try_send(line).is_err() {
            self.dropped.set(self.dropped.get() + 1);
        }
    }
}

/// `serve [ADDR] [OPTIONS]`: the echo server alone, until the process is
/// stopped.
fn serve(addr: &str, config: echo::Config) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("exp6-tuned: cannot listen on {addr:?}: {err}");
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().expect("the listener's address");
    let log = Log::start();
    log.say(format!(
        "exp6-tuned: an echo server that checksums every chunk on the thread pool; try \
         `nc {} {}`, stop it with Ctrl-C. It closes connections idle for {:?}, and serves at \
         most {} at once (see serve --help).",
        local.ip(),
        local.port(),
        config.idle_timeout,
        config.max_connections
    ));
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    log.say(stamped(start, &format!("listening on {local}")));
    run(vec![task(echo::serve(
        listener,
        None,
        config,
        move |line| log.say(stamped(start, line)),
    ))]);
    ExitCode::SUCCESS
}

/// What `--help` prints, and bad arguments too.
fn usage() -> String {
    let config = echo::Config::default();
    format!(
        "usage: {NAME}
           the demo: a server and {CLIENTS} clients in one run
       {NAME} serve [ADDR] [--idle-timeout SECS] [--max-connections N]
           the echo server alone, on ADDR (default {DEFAULT_ADDR}), until it
           is stopped
  --idle-timeout SECS   close a connection that makes no progress, neither
                        sending nor taking its echo, for SECS seconds
                        (default {})
  --max-connections N   serve at most N connections at once, and close at once
                        a client that connects while N are open (default {}:
                        the limit on open files, `ulimit -n`, less a reserve)
  The log of connections goes to stdout, and never holds the server up: a line
  that stdout cannot take at once is dropped, and the next line that gets
  through says how many were.
",
        config.idle_timeout.as_secs(),
        config.max_connections
    )
}

/// `serve`'s arguments: where to listen and the settings, or `None` for
/// `--help`.
fn serve_args(args: &[&str]) -> Result<Option<(String, echo::Config)>, String> {
    let mut addr = None;
    let mut config = echo::Config::default();
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        match arg {
            "-h" | "--help" => return Ok(None),
            "--idle-timeout" => {
                config.idle_timeout = Duration::from_secs(positive(arg, args.next())?);
            }
            "--max-connections" => {
                let max = positive(arg, args.next())?;
                config.max_connections = usize::try_from(max).unwrap_or(usize::MAX);
            }
            _ if arg.starts_with('-') => return Err(format!("unknown option {arg:?}")),
            _ if addr.is_none() => addr = Some(arg.to_string()),
            _ => return Err(format!("one address only, not {arg:?} as well")),
        }
    }
    Ok(Some((addr.unwrap_or(DEFAULT_ADDR.to_string()), config)))
}

/// The value given to `option`: a whole number, 1 or more.
fn positive(option: &str, value: Option<&&str>) -> Result<u64, String> {
    let value = value.ok_or_else(|| format!("{option} wants a value"))?;
    match value.parse() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!(
            "{option} wants a whole number, 1 or more, not {value:?}"
        )),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => demo(),
        ["serve", ref options @ ..] => match serve_args(options) {
            Ok(Some((addr, config))) => serve(&addr, config),
            Ok(None) => {
                print!("{}", usage());
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprint!("{NAME}: {err}\n{}", usage());
                ExitCode::from(2)
            }
        },
        _ => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
    }
}
