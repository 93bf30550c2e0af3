//! The workloads, written once against the traits of `rt.rs` and run on every
//! runtime that has what they use.
//!
//! Timing is taken inside the runtime where the work is one task's loop, so
//! that building a runtime never counts; `*_iters` functions follow
//! criterion's `iter_custom` contract: do the work `iters` times, return the
//! time it took.

use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

use crate::rt::{Blocking, Gate, Net, Pair, Rt, Sleep, Spawn, Stream, race, read_exact, tcp_pair};
use crate::sample;

/// Tasks of the "1000 tasks" yield benchmark.
pub const MANY_TASKS: u64 = 1000;
/// Yields per task of the "1000 tasks" yield benchmark.
pub const YIELDS_PER_TASK: u64 = 100;

/// One task yielding `iters` times.
pub fn yield_one<R: Rt>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for _ in 0..iters {
            R::yield_now().await;
        }
        start.elapsed()
    })
}

/// `iters` runs of 1000 tasks yielding 100 times each (every task is given
/// to the runtime up front: exp1 has no `spawn`).
pub fn yield_many<R: Rt>(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let tasks: Vec<_> = (0..MANY_TASKS)
            .map(|_| async {
                for _ in 0..YIELDS_PER_TASK {
                    R::yield_now().await;
                }
            })
            .collect();
        let start = Instant::now();
        R::run_all(tasks);
        total += start.elapsed();
    }
    total
}

/// `iters` times: spawn a trivial task and await its output.
pub fn spawn_join<R: Spawn>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for i in 0..iters {
            black_box(R::spawn(async move { black_box(i) }).await);
        }
        start.elapsed()
    })
}

/// `n` trivial tasks spawned, then all joined.
pub fn spawn_batch<R: Spawn>(n: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        let handles: Vec<_> = (0..n)
            .map(|i| R::spawn(async move { black_box(i) }))
            .collect();
        for handle in handles {
            black_box(handle.await);
        }
        start.elapsed()
    })
}

/// `spawn_batch` as `iter_custom` wants it: `iters` batches of 100k.
pub fn spawn_100k<R: Spawn>(iters: u64) -> Duration {
    (0..iters).map(|_| spawn_batch::<R>(100_000)).sum()
}

/// How late `sleep(1 ms)` returns, `samples` times in a row (after a few
/// unrecorded ones).
pub fn oversleep<R: Sleep>(samples: usize) -> Vec<Duration> {
    const SLEEP: Duration = Duration::from_millis(1);
    R::block_on(async move {
        let mut late = Vec::with_capacity(samples);
        for i in 0..samples + 5 {
            let start = Instant::now();
            R::sleep(SLEEP).await;
            if i >= 5 {
                late.push(start.elapsed().saturating_sub(SLEEP));
            }
        }
        late
    })
}

/// The delay of sleeper `i` out of many: spread over `0..span`, the same on
/// every runtime.
pub fn delay(i: u64, span: Duration) -> Duration {
    let micros = span.as_micros() as u64;
    Duration::from_micros(i.wrapping_mul(7919) % micros.max(1))
}

/// `n` tasks each sleeping `delay(i, span)`: wall time and the process's CPU
/// time from handing the tasks over until the last one is done.
pub fn sleepers<R: Sleep>(n: u64, span: Duration) -> (Duration, Duration) {
    let tasks: Vec<_> = (0..n)
        .map(|i| async move { R::sleep(delay(i, span)).await })
        .collect();
    let (wall, cpu) = (Instant::now(), sample::cpu_time());
    R::run_all(tasks);
    (wall.elapsed(), sample::cpu_time() - cpu)
}

/// `iters` times: a closure returning 1, on the pool, awaited.
pub fn pool_round_trip<R: Blocking>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(R::spawn_blocking(|| black_box(1)).await);
        }
        start.elapsed()
    })
}

/// `iters` 1-byte round trips between two tasks, over `a` and `b`.
async fn ping_pong<R: Spawn, S: Stream>(mut a: S, mut b: S, iters: u64) -> Duration {
    let echo = R::spawn(async move {
        let mut byte = [0u8];
        while let Ok(1) = b.read(&mut byte).await {
            b.write_all(&byte).await.expect("echo write");
        }
    });
    let mut byte = [7u8];
    let start = Instant::now();
    for _ in 0..iters {
        a.write_all(&byte).await.expect("ping write");
        read_exact(&mut a, &mut byte).await.expect("ping read");
    }
    let elapsed = start.elapsed();
    drop(a); // the echo task reads 0 and ends
    echo.await;
    elapsed
}

/// Ping-pong over a `socketpair(2)` (the peers': see `rt::Pair`).
pub fn ping_pong_pair<R: Pair + Spawn>(iters: u64) -> Duration {
    R::block_on(async move {
        let (a, b) = R::pair().expect("socketpair");
        ping_pong::<R, _>(a, b, iters).await
    })
}

/// Ping-pong over a TCP connection on loopback: the one every runtime with
/// `net` runs alike, so the one the goals compare.
pub fn ping_pong_tcp<R: Net>(iters: u64) -> Duration {
    R::block_on(async move {
        let listener = R::bind(loopback()).await.expect("bind");
        let (a, b) = tcp_pair::<R>(&listener).await.expect("connect");
        ping_pong::<R, _>(a, b, iters).await
    })
}

/// 127.0.0.1 on a port the kernel picks.
pub fn loopback() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

/// Bytes per message of the echo benchmark.
pub const ECHO_MESSAGE: usize = 1024;

/// Echo throughput with `conns` connections to an echo server in the same
/// runtime: every client writes `ECHO_MESSAGE` bytes and reads them back,
/// all clients at once. Connections are made once; each sample then runs
/// rounds on all of them. Returns per sample the time of one round (every
/// connection one message) in ns.
pub fn echo<R: Net>(conns: usize, plan: sample::Plan) -> Vec<f64> {
    R::block_on(async move {
        let listener = R::bind(loopback()).await.expect("bind");
        let mut clients = Vec::with_capacity(conns);
        let mut servers = Vec::with_capacity(conns);
        for _ in 0..conns {
            let (client, mut server) = tcp_pair::<R>(&listener).await.expect("connect");
            clients.push(client);
            servers.push(R::spawn(async move {
                let mut buf = [0u8; ECHO_MESSAGE];
                while let Ok(n @ 1..) = server.read(&mut buf).await {
                    server.write_all(&buf[..n]).await.expect("echo write");
                }
            }));
        }
        let per_round = sample::in_run(plan, async |rounds| {
            let start = Instant::now();
            let running: Vec<_> = clients
                .drain(..)
                .map(|mut client| {
                    R::spawn(async move {
                        static MESSAGE: [u8; ECHO_MESSAGE] = [b'e'; ECHO_MESSAGE];
                        let mut buf = [0u8; ECHO_MESSAGE];
                        for _ in 0..rounds {
                            client.write_all(&MESSAGE).await.expect("client write");
                            read_exact(&mut client, &mut buf)
                                .await
                                .expect("client read");
                        }
                        client
                    })
                })
                .collect();
            for client in running {
                clients.push(client.await);
            }
            start.elapsed()
        })
        .await;
        drop(clients);
        for server in servers {
            server.await;
        }
        per_round
    })
}

/// The cost of going idle with many fds registered: a ping-pong between two
/// tasks while `n` other sockets (n/2 loopback connections, both ends) each
/// have a task waiting to read, for each `n` of `sizes` in turn. Returns,
/// per size, the round trip's samples in ns.
pub fn idle_fds<R: Net>(sizes: &'static [usize], plan: sample::Plan) -> Vec<Vec<f64>> {
    R::block_on(async move {
        let listener = R::bind(loopback()).await.expect("bind");
        let (mut a, mut b) = tcp_pair::<R>(&listener).await.expect("connect");
        let echo = R::spawn(async move {
            let mut byte = [0u8];
            while let Ok(1) = b.read(&mut byte).await {
                b.write_all(&byte).await.expect("echo write");
            }
        });
        let gate = Gate::default();
        let idle = |mut stream: R::Stream| {
            let gate = gate.clone();
            R::spawn(async move {
                let mut buf = [0u8; 1];
                race(stream.read(&mut buf), gate.wait()).await;
            })
        };
        let mut waiting = Vec::new();
        let mut results = Vec::new();
        for &n in sizes {
            while waiting.len() < n {
                let (client, server) = tcp_pair::<R>(&listener).await.expect("connect");
                waiting.push(idle(client));
                waiting.push(idle(server));
            }
            let mut byte = [1u8];
            let samples = sample::in_run(plan, async |iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    a.write_all(&byte).await.expect("ping write");
                    read_exact(&mut a, &mut byte).await.expect("ping read");
                }
                start.elapsed()
            })
            .await;
            results.push(samples);
        }
        gate.open();
        for task in waiting {
            task.await;
        }
        drop(a);
        echo.await;
        results
    })
}

/// Timer cost as the number of sleepers grows: `n` tasks sleeping up to
/// 10 ms; the process's CPU time per task, in ns, per sample.
pub fn timer_growth<R: Sleep>(n: u64, samples: usize) -> Vec<f64> {
    const SPAN: Duration = Duration::from_millis(10);
    sleepers::<R>(n, SPAN); // warm-up
    (0..samples)
        .map(|_| sleepers::<R>(n, SPAN).1.as_nanos() as f64 / n as f64)
        .collect()
}

/// Spawn cost as the number of tasks grows: `n` spawned, then joined; ns per
/// task, per sample.
pub fn spawn_growth<R: Spawn>(n: u64, plan: sample::Plan) -> Vec<f64> {
    sample::outside(plan, |iters| {
        (0..iters).map(|_| spawn_batch::<R>(n)).sum::<Duration>()
    })
    .into_iter()
    .map(|ns| ns / n as f64)
    .collect()
}
