//! Experiment 5 demo: an echo server and its clients, all in one thread.
//!
//! The server accepts 50 connections and echoes each in a task of its own;
//! 50 client tasks make 10 round trips each. Whenever a socket would block,
//! its task registers with the reactor, and when no task is ready the thread
//! waits for all of the sockets in one `poll(2)`.
//!
//! Once stdout's reader has gone (`| head -n 1`), the demo finishes its work
//! without printing, and exits with the status it would have had.
//!
//! `serve [ADDR]` runs the server alone, for `nc` or any other client;
//! `serve --help` tells its settings.

use std::cell::Cell;
use std::env;
use std::io::{self, Write};
use std::process::ExitCode;
use std::rc::Rc;
use std::sync::mpsc::{self, SyncSender};
use std::thread;
use std::time::{Duration, Instant};

use exp5_selectors::net::TcpListener;
use exp5_selectors::{echo, run, task, trace_start};

/// How many clients the demo runs.
const CLIENTS: usize = 50;

/// How many round trips each client makes.
const ROUNDS: usize = 10;

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

/// The demo: the server and the clients in one `run`, then a summary.
fn demo() -> ExitCode {
    print(&format!(
        "exp5-selectors: one thread serves {CLIENTS} echo connections of {ROUNDS} round trips \
         each, waiting for all of their sockets in one poll(2): watch every connection open \
         before the first one closes."
    ));
    // The trace's clock: with `EXP_TRACE=1`, these lines and the trace's
    // interleave in the order they happened.
    let start = trace_start();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    say(start, &format!("server: listening on {addr}"));
    let config = echo::Config::default();
    let server = echo::serve(listener, Some(CLIENTS), config, move |line| {
        say(start, &format!("server: {line}"));
    });
    let failed = Rc::new(Cell::new(0));
    let mut tasks = vec![task(server)];
    for id in 0..CLIENTS {
        let failed = failed.clone();
        tasks.push(task(async move {
            if let Err(err) = echo::client(addr, id, ROUNDS).await {
                say(start, &format!("client {id}: {err}"));
                failed.set(failed.get() + 1);
            }
        }));
    }
    run(tasks);
    let elapsed = start.elapsed().as_secs_f64() * 1e3;
    let ok = CLIENTS - failed.get();
    say(
        start,
        &format!(
            "done: {CLIENTS} connections, {} round trips echoed intact, {} clients failed, \
             {elapsed:.1} ms",
            ok * ROUNDS,
            failed.get()
        ),
    );
    if failed.get() == 0 {
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
            eprintln!("exp5-selectors: cannot listen on {addr:?}: {err}");
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().expect("the listener's address");
    let log = Log::start();
    log.say(format!(
        "exp5-selectors: an echo server; try `nc {} {}`, stop it with Ctrl-C. It closes \
         connections idle for {:?}, and serves at most {} at once (see serve --help).",
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
