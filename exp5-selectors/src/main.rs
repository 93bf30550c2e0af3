//! Experiment 5 demo: an echo server and its clients, all in one thread.
//!
//! The server accepts 50 connections and echoes each in a task of its own;
//! 50 client tasks make 10 round trips each. Whenever a socket would block,
//! its task registers with the reactor, and when no task is ready the thread
//! waits for all of the sockets in one `poll(2)`.
//!
//! `serve [ADDR]` runs the server alone, for `nc` or any other client.

use std::cell::Cell;
use std::env;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::Instant;

use exp5_selectors::net::TcpListener;
use exp5_selectors::{echo, run, task};

/// How many clients the demo runs.
const CLIENTS: usize = 50;

/// How many round trips each client makes.
const ROUNDS: usize = 10;

/// Where `serve` listens without an ADDR: the original experiment's port.
const DEFAULT_ADDR: &str = "127.0.0.1:1234";

/// Prints a line stamped with the milliseconds since `start`.
fn say(start: Instant, line: &str) {
    let ms = start.elapsed().as_secs_f64() * 1e3;
    println!("{ms:>8.3} ms  {line}");
}

/// The demo: the server and the clients in one `run`, then a summary.
fn demo() -> ExitCode {
    println!(
        "exp5-selectors: one thread serves {CLIENTS} echo connections of {ROUNDS} round trips \
         each, waiting for all of their sockets in one poll(2): watch every connection open \
         before the first one closes."
    );
    let start = Instant::now();
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen on a free loopback port");
    let addr = listener.local_addr().expect("the listener's address");
    say(start, &format!("server: listening on {addr}"));
    let server = echo::serve(listener, Some(CLIENTS), move |line| {
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

/// `serve [ADDR]`: the echo server alone, until the process is stopped.
fn serve(addr: &str) -> ExitCode {
    let listener = match TcpListener::bind(addr) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("exp5-selectors: cannot listen on {addr:?}: {err}");
            return ExitCode::from(2);
        }
    };
    let local = listener.local_addr().expect("the listener's address");
    println!(
        "exp5-selectors: an echo server; try `nc {} {}`, stop it with Ctrl-C.",
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
            eprintln!("usage: exp5-selectors [serve [ADDR]]  (ADDR defaults to {DEFAULT_ADDR})");
            ExitCode::from(2)
        }
    }
}
