//! The echo server against clients that misbehave: binary data, megabytes
//! at once, resets in the middle of a write, half-closes, connections
//! dropped before they are accepted. Each runs beside a well-behaved client
//! that must go on getting correct echoes, and the server must go on
//! serving. And against clients that send nothing, clients past the most
//! connections allowed, and a listener whose every accept fails.
//!
//! The server runs in `run` on a thread of its own; the clients are plain
//! blocking `std::net` sockets on other threads, as real clients would be.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::watchdog;
use exp6_combined::echo::Config;
use exp6_combined::net::TcpListener;
use exp6_combined::{echo, run, task};

/// Starts a server that runs until the test binary exits; returns its
/// address and its log lines.
fn start_server() -> (SocketAddr, Receiver<String>) {
    start_server_with(Config::default())
}

/// Starts a server with `config` that runs until the test binary exits;
/// returns its address and its log lines.
fn start_server_with(config: Config) -> (SocketAddr, Receiver<String>) {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (log_tx, log_rx) = mpsc::channel();
    thread::spawn(move || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        addr_tx.send(listener.local_addr().unwrap()).unwrap();
        run(vec![task(echo::serve(
            listener,
            None,
            config,
            move |line| {
                let _ = log_tx.send(line.to_string());
            },
        ))]);
    });
    (addr_rx.recv().unwrap(), log_rx)
}

/// A well-behaved client, the server's connection 1, making round trips
/// until told to stop and checking each echo.
struct Steady {
    stop: Arc<AtomicBool>,
    rounds: Arc<AtomicUsize>,
    thread: JoinHandle<()>,
}

impl Steady {
    fn start(addr: SocketAddr) -> Self {
        // Connected here, not on its thread, so that it is connection 1.
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let rounds = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, rounds) = (stop.clone(), rounds.clone());
            thread::spawn(move || {
                let mut round = 0;
                while !stop.load(Ordering::SeqCst) || round == 0 {
                    let message = format!("TEST{:05}", round % 100_000);
                    stream.write_all(message.as_bytes()).unwrap();
                    let mut reply = [0; 9];
                    stream
                        .read_exact(&mut reply)
                        .expect("the steady client's echo");
                    assert_eq!(&reply, message.as_bytes());
                    round += 1;
                    rounds.store(round, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(1));
                }
            })
        };
        Steady {
            stop,
            rounds,
            thread,
        }
    }

    /// How many round trips it has made so far.
    fn rounds(&self) -> usize {
        self.rounds.load(Ordering::SeqCst)
    }

    /// Stops the client and returns how many round trips it made; panics if
    /// it saw a wrong or missing echo.
    fn finish(self) -> usize {
        self.stop.store(true, Ordering::SeqCst);
        let rounds = self.rounds.clone();
        self.thread.join().expect("the steady client failed");
        rounds.load(Ordering::SeqCst)
    }
}

/// Sends `data` while reading the echo on another thread (a client that
/// sent everything before reading would deadlock with any echo server once
/// both sides' buffers fill), then half-closes and reads to the end.
fn echo_through(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let sending = thread::spawn(move || {
        writer.write_all(&data).unwrap();
        writer.shutdown(Shutdown::Write).unwrap();
    });
    let mut echoed = Vec::new();
    (&stream).read_to_end(&mut echoed).unwrap();
    sending.join().unwrap();
    echoed
}

/// Waits for a log line that contains `needle`; returns all lines seen.
fn wait_for_log(log: &Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut seen = Vec::new();
    while let Ok(line) = log.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        let found = line.contains(needle);
        seen.push(line);
        if found {
            return seen;
        }
    }
    panic!("no log line with {needle:?}; saw {seen:?}");
}

#[test]
fn binary_data_comes_back_byte_for_byte() {
    watchdog(60, || {
        let (addr, _log) = start_server();
        let steady = Steady::start(addr);
        // Every byte value, NULs and invalid UTF-8 included, in a pattern
        // that shows a dropped or repeated chunk.
        let data: Vec<u8> = (0..1_000_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert!(echo_through(addr, data.clone()) == data);
        assert!(steady.finish() > 0);
    });
}

#[test]
fn eight_mib_at_once_come_back_whole() {
    watchdog(60, || {
        let (addr, log) = start_server();
        let steady = Steady::start(addr);
        let data: Vec<u8> = (0..8 << 20).map(|i: u32| (i % 253) as u8).collect();
        assert!(echo_through(addr, data.clone()) == data);
        wait_for_log(&log, &format!("closed, {} bytes echoed", 8 << 20));
        assert!(steady.finish() > 0);
    });
}

#[test]
fn a_reset_in_the_middle_of_a_write_closes_only_that_connection() {
    watchdog(60, || {
        let (addr, log) = start_server();
        let steady = Steady::start(addr);
        let before = steady.rounds();
        let stream = TcpStream::connect(addr).unwrap();
        // Sends without reading, until both directions' buffers are full
        // and the server waits to write its echo; then resets.
        stream.set_nonblocking(true).unwrap();
        let chunk = vec![b'r'; 64 << 10];
        let mut sent = 0;
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(300) {
            match (&stream).write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => thread::sleep(Duration::from_millis(5)),
            }
        }
        assert!(sent > 0);
        socket2::SockRef::from(&stream)
            .set_linger(Some(Duration::ZERO))
            .unwrap();
        drop(stream);
        let lines = wait_for_log(&log, "closed on error");
        assert!(
            lines
                .iter()
                .any(|line| line.contains("connection 2: closed on error")),
            "{lines:?}"
        );
        assert!(
            steady.rounds() > before,
            "the steady client made no round trip while the other one sent"
        );
        assert!(steady.finish() > 0);
        // Still serving.
        assert!(echo_through(addr, b"after the reset".to_vec()) == b"after the reset");
    });
}

#[test]
fn a_half_closed_connection_gets_its_echo_then_the_end() {
    watchdog(60, || {
        let (addr, log) = start_server();
        let steady = Steady::start(addr);
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        stream.write_all(b"all I have to say").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut echoed = Vec::new();
        stream.read_to_end(&mut echoed).unwrap();
        assert_eq!(echoed, b"all I have to say");
        wait_for_log(&log, "closed, 17 bytes echoed");
        assert!(steady.finish() > 0);
    });
}

#[test]
fn connections_dropped_before_they_are_served_are_harmless() {
    watchdog(60, || {
        let (addr, log) = start_server();
        let steady = Steady::start(addr);
        for i in 0..50 {
            let stream = TcpStream::connect(addr).unwrap();
            if i % 2 == 0 {
                // A reset, rather than a graceful close.
                socket2::SockRef::from(&stream)
                    .set_linger(Some(Duration::ZERO))
                    .unwrap();
            }
            drop(stream);
        }
        assert!(echo_through(addr, b"still here".to_vec()) == b"still here");
        let lines = wait_for_log(&log, "closed, 10 bytes echoed");
        assert!(
            lines.iter().all(|line| !line.contains("panic")),
            "{lines:?}"
        );
        assert!(steady.finish() > 0);
    });
}

/// Connects to `addr` and makes one round trip; returns the connection.
fn connect_and_echo(addr: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(b"TEST00042").unwrap();
    let mut reply = [0; 9];
    stream.read_exact(&mut reply).expect("the echo");
    assert_eq!(&reply, b"TEST00042");
    stream
}

#[test]
fn an_idle_connection_is_closed_after_the_timeout_and_a_busy_one_is_not() {
    watchdog(60, || {
        let idle_timeout = Duration::from_millis(500);
        let (addr, log) = start_server_with(Config {
            idle_timeout,
            ..Config::default()
        });
        // A round trip every millisecond or so, for longer than the timeout.
        let steady = Steady::start(addr);
        // Timed from before connect: the server may accept, and start its
        // timer, before connect returns here.
        let connected = Instant::now();
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        // Sends nothing, and waits for the server to close.
        let mut buf = [0; 16];
        assert_eq!(idle.read(&mut buf).expect("the end of the stream"), 0);
        let waited = connected.elapsed();
        assert!(
            waited >= idle_timeout && waited < idle_timeout + Duration::from_secs(10),
            "closed after {waited:?}"
        );
        wait_for_log(&log, "connection 2: closed on error: idle for 500ms");
        let rounds = steady.rounds();
        thread::sleep(idle_timeout);
        assert!(steady.rounds() > rounds, "the busy client stalled");
        // Its echoes all came back: its connection is still open.
        assert!(steady.finish() > 0);
    });
}

#[test]
fn a_client_that_takes_none_of_its_echo_is_closed_after_the_timeout() {
    watchdog(60, || {
        let (addr, log) = start_server_with(Config {
            idle_timeout: Duration::from_millis(500),
            ..Config::default()
        });
        let stream = TcpStream::connect(addr).unwrap();
        // Sends without reading, until both directions' buffers are full
        // and the server waits to write its echo.
        stream.set_nonblocking(true).unwrap();
        let chunk = vec![b'w'; 64 << 10];
        let start = Instant::now();
        while start.elapsed() < Duration::from_millis(300) {
            if (&stream).write(&chunk).is_err() {
                thread::sleep(Duration::from_millis(5));
            }
        }
        wait_for_log(&log, "connection 1: closed on error: idle for 500ms");
    });
}

#[test]
fn past_max_connections_a_client_is_refused_at_once_and_logged() {
    watchdog(60, || {
        let (addr, log) = start_server_with(Config {
            max_connections: 3,
            ..Config::default()
        });
        let mut served: Vec<TcpStream> = (0..3).map(|_| connect_and_echo(addr)).collect();
        let mut refused = TcpStream::connect(addr).unwrap();
        refused
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let start = Instant::now();
        let mut buf = [0; 16];
        // The end of the stream; or a reset, should the client's write
        // reach the server first.
        let _ = refused.write(b"TEST00042");
        match refused.read(&mut buf) {
            Ok(0) => {}
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
            other => panic!("the fourth client got {other:?}"),
        }
        let waited = start.elapsed();
        assert!(waited < Duration::from_secs(5), "refused after {waited:?}");
        let lines = wait_for_log(&log, "refused");
        assert!(
            lines
                .last()
                .unwrap()
                .contains("connection 4 from 127.0.0.1:"),
            "{lines:?}"
        );
        assert!(
            lines.last().unwrap().ends_with("refused, 3 open already"),
            "{lines:?}"
        );
        // Once one closes, a new client is served.
        drop(served.remove(0));
        wait_for_log(&log, "connection 1: closed");
        connect_and_echo(addr);
        drop(served);
    });
}

/// The CPU time the thread whose `/proc/PID/task/TID` folder is `thread`
/// has used so far, user and system: fields 14 and 15 of its `stat`, in
/// clock ticks of 10 ms (Linux's `USER_HZ`).
fn cpu_time(thread: &Path) -> Duration {
    let stat = fs::read_to_string(thread.join("stat")).unwrap();
    // The fields after the command name, which is in parentheses and may
    // hold spaces: the 3rd field of the line is the first of these.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[test]
fn a_persistent_accept_error_is_logged_once_and_retried_with_pauses() {
    watchdog(60, || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // The same socket, for shutting it down while the server has it.
        let same = listener.as_fd().try_clone_to_owned().unwrap();
        let (thread_tx, thread_rx) = mpsc::channel();
        let (log_tx, log) = mpsc::channel();
        thread::spawn(move || {
            // "PID/task/TID": this thread, the scheduler's.
            let thread = Path::new("/proc").join(fs::read_link("/proc/thread-self").unwrap());
            thread_tx.send(thread).unwrap();
            run(vec![task(echo::serve(
                listener,
                None,
                Config::default(),
                move |line| {
                    let _ = log_tx.send(line.to_string());
                },
            ))]);
        });
        let thread: PathBuf = thread_rx.recv().unwrap();
        let steady = Steady::start(addr);
        wait_for_log(&log, "connection 1 from");

        // Shut down, a listening socket stops listening: from then on
        // accept fails with EINVAL, every time, at once.
        socket2::SockRef::from(&same)
            .shutdown(Shutdown::Read)
            .unwrap();
        let rounds = steady.rounds();
        let cpu = cpu_time(&thread);
        let start = Instant::now();
        let mut failures = Vec::new();
        while let Some(left) = Duration::from_secs(1).checked_sub(start.elapsed()) {
            match log.recv_timeout(left) {
                Ok(line) if line.contains("accept failed") => failures.push(line),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        let cpu = cpu_time(&thread) - cpu;
        let elapsed = start.elapsed();
        assert!(
            (1..=3).contains(&failures.len()),
            "{} \"accept failed\" lines in {elapsed:?}, the first {:?}",
            failures.len(),
            failures.first()
        );
        assert!(failures[0].contains("Invalid argument"), "{failures:?}");
        // Retrying at once would keep the thread busy all the time.
        assert!(
            cpu < Duration::from_millis(250),
            "the scheduler's thread used {cpu:?} of CPU in {elapsed:?}"
        );
        assert!(
            steady.rounds() > rounds,
            "no round trip while accept failed"
        );
        assert!(steady.finish() > 0);
    });
}
