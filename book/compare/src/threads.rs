//! The plain-threads baseline: the same work with OS threads and blocking
//! calls, where that is the same work at all. A "yield" is `sched_yield(2)`,
//! a "task" is a thread, a "sleep" is `nanosleep(2)`, the "pool" is one
//! worker thread behind a channel, a connection gets a thread per end.

use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::entry::{Entry, Kind};
use crate::sample::{self, Plan};
use crate::work::{ECHO_MESSAGE, loopback};

/// The baseline's entry: only the workloads that mean something for threads.
pub fn entry() -> Entry {
    let mut entry = Entry::new("threads", Kind::Baseline);
    entry.yield_one = Some(yield_one);
    entry.spawn_join = Some(spawn_join);
    entry.oversleep = Some(oversleep);
    entry.pool = Some(pool_round_trip);
    entry.ping_pong_pair = Some(ping_pong_pair);
    entry.ping_pong_tcp = Some(ping_pong_tcp);
    entry.echo = Some(echo);
    entry
}

fn yield_one(iters: u64) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        thread::yield_now();
    }
    start.elapsed()
}

fn spawn_join(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        black_box(thread::spawn(move || black_box(i)).join().unwrap());
    }
    start.elapsed()
}

fn oversleep(samples: usize) -> Vec<Duration> {
    const SLEEP: Duration = Duration::from_millis(1);
    (0..samples)
        .map(|_| {
            let start = Instant::now();
            thread::sleep(SLEEP);
            start.elapsed().saturating_sub(SLEEP)
        })
        .collect()
}

fn pool_round_trip(iters: u64) -> Duration {
    type Job = Box<dyn FnOnce() -> i32 + Send>;
    let (jobs, queue) = mpsc::channel::<Job>();
    let (done, results) = mpsc::channel();
    let worker = thread::spawn(move || {
        for job in queue {
            done.send(job()).unwrap();
        }
    });
    let start = Instant::now();
    for _ in 0..iters {
        jobs.send(Box::new(|| black_box(1))).unwrap();
        black_box(results.recv().unwrap());
    }
    let elapsed = start.elapsed();
    drop(jobs);
    worker.join().unwrap();
    elapsed
}

/// 1-byte round trips over `a`, with a thread echoing on `b`.
fn ping_pong<S: Read + Write + Send + 'static>(mut a: S, mut b: S, iters: u64) -> Duration {
    let echo = thread::spawn(move || {
        let mut byte = [0u8];
        while let Ok(1) = b.read(&mut byte) {
            b.write_all(&byte).unwrap();
        }
    });
    let mut byte = [7u8];
    let start = Instant::now();
    for _ in 0..iters {
        a.write_all(&byte).unwrap();
        a.read_exact(&mut byte).unwrap();
    }
    let elapsed = start.elapsed();
    drop(a);
    echo.join().unwrap();
    elapsed
}

fn ping_pong_pair(iters: u64) -> Duration {
    let (a, b) = UnixStream::pair().unwrap();
    ping_pong(a, b, iters)
}

fn ping_pong_tcp(iters: u64) -> Duration {
    let listener = TcpListener::bind(loopback()).unwrap();
    let a = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let b = listener.accept().unwrap().0;
    ping_pong(a, b, iters)
}

/// A thread per connection end; the client threads wait at a barrier for
/// each sample's rounds, so the threads are made once.
fn echo(conns: usize, plan: Plan) -> Vec<f64> {
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let rounds = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let barrier = Arc::new(Barrier::new(conns + 1));
    let mut threads = Vec::new();
    for _ in 0..conns {
        let mut client = TcpStream::connect(addr).unwrap();
        let mut server = listener.accept().unwrap().0;
        threads.push(thread::spawn(move || {
            let mut buf = [0u8; ECHO_MESSAGE];
            while let Ok(n @ 1..) = server.read(&mut buf) {
                server.write_all(&buf[..n]).unwrap();
            }
        }));
        let (rounds, barrier) = (rounds.clone(), barrier.clone());
        threads.push(thread::spawn(move || {
            let message = [b'e'; ECHO_MESSAGE];
            let mut buf = [0u8; ECHO_MESSAGE];
            loop {
                barrier.wait();
                let n = rounds.load(std::sync::atomic::Ordering::Acquire);
                if n == 0 {
                    return; // closing `client` ends its server thread
                }
                for _ in 0..n {
                    client.write_all(&message).unwrap();
                    client.read_exact(&mut buf).unwrap();
                }
                barrier.wait();
            }
        }));
    }
    let samples = sample::outside(plan, |n| {
        rounds.store(n, std::sync::atomic::Ordering::Release);
        let start = Instant::now();
        barrier.wait(); // go
        barrier.wait(); // all done
        start.elapsed()
    });
    rounds.store(0, std::sync::atomic::Ordering::Release);
    barrier.wait();
    for thread in threads {
        thread.join().unwrap();
    }
    samples
}
