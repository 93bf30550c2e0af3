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
//! `serve [ADDR]` runs the server alone, for `nc` or any other client.

use std::cell::Cell;
use std::env;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use exp6_tuned::net::TcpListener;
use exp6_tuned::{JoinHandle, echo, run, self_wake_bytes, sleep, spawn, task};

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

/// Prints a line stamped with the milliseconds since `start`.
fn say(start: Instant, line: &str) {
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{ms:>8.3} ms  {line}");
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
    println!(
        "exp6-tuned: {CLIENTS} echo clients in waves of {WAVE} (server lines for the first \
         of each wave only), every echo checksummed on the thread pool, and a ticker every \
         {TICK:?}. Watch the ticks keep time while one poll(2) waits for sockets, timers and \
         pool workers at once: a worker that finds the loop parked there writes a byte to the \
         self-wake socket, at most one per park, so the bytes are fewer than the wakes."
    );
    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    say(start, &format!("server: listening on {addr}"));
    let server = echo::serve(listener, Some(CLIENTS), move |line| {
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

/// `serve [ADDR]`: the echo server alone, until the process is stopped.
fn serve(addr: &str) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("exp6-tuned: cannot listen on {addr:?}: {err}");
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().expect("the listener's address");
    println!(
        "exp6-tuned: an echo server that checksums every chunk on the thread pool; try \
         `nc {} {}`, stop it with Ctrl-C.",
        local.ip(),
        local.port()
    );
    let start = Instant::now();
    say(start, &format!("listening on {local}"));
    run(vec![task(echo::serve(listener, None, move |line| {
        say(start, line)
    }))]);
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => demo(),
        ["serve"] => serve(DEFAULT_ADDR),
        ["serve", addr] => serve(addr),
        _ => {
            eprintln!("usage: exp6-tuned [serve [ADDR]]  (ADDR defaults to {DEFAULT_ADDR})");
            ExitCode::from(2)
        }
    }
}
