//! What a pass of the scheduler costs: `cargo bench -p exp6-tuned`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use exp6_tuned::net::{TcpListener, TcpStream};
use exp6_tuned::{JoinHandle, echo, run, sleep, spawn, spawn_blocking, task, yield_now};

/// One task yielding `YIELDS` times, and 1000 tasks yielding 100 times each:
/// the cost of one round trip through the scheduler, per yield.
fn yields(c: &mut Criterion) {
    const YIELDS: u64 = 10_000;
    let mut group = c.benchmark_group("yield");
    group.throughput(Throughput::Elements(YIELDS));
    group.bench_function("1 task", |b| {
        b.iter(|| {
            run(vec![task(async {
                for _ in 0..YIELDS {
                    yield_now().await;
                }
            })])
        })
    });
    group.throughput(Throughput::Elements(1000 * 100));
    group.bench_function("1000 tasks", |b| {
        b.iter(|| {
            let tasks = (0..1000)
                .map(|_| {
                    task(async {
                        for _ in 0..100 {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            run(tasks)
        })
    });
    group.finish();
}

/// Timers: how late `sleep(1 ms)` wakes (the time past the deadline, per
/// sleep), and 100k tasks sleeping 0-100 ms at once (wall time of the run).
fn timers(c: &mut Criterion) {
    let mut group = c.benchmark_group("timers");
    group.bench_function("sleep(1 ms) oversleep", |b| {
        b.iter_custom(|iters| {
            let mut late = Duration::ZERO;
            for _ in 0..iters {
                let start = Instant::now();
                run(vec![task(sleep(Duration::from_millis(1)))]);
                late += start.elapsed().saturating_sub(Duration::from_millis(1));
            }
            late
        })
    });
    group.sample_size(10);
    group.bench_function("100k sleepers", |b| {
        b.iter(|| {
            let tasks = (0..100_000u64)
                .map(|i| task(sleep(Duration::from_micros(i * 7919 % 100_000))))
                .collect();
            run(tasks)
        })
    });
    group.finish();
}

/// Spawning: one trivial task spawned and joined (per task), and 100k
/// spawned before any is joined.
fn spawns(c: &mut Criterion) {
    const SPAWNS: u64 = 1000;
    let mut group = c.benchmark_group("spawn");
    group.throughput(Throughput::Elements(SPAWNS));
    group.bench_function("spawn + join", |b| {
        b.iter(|| {
            run(vec![task(async {
                for i in 0..SPAWNS {
                    assert_eq!(spawn(async move { i }).await, i);
                }
            })])
        })
    });
    group.sample_size(10);
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("100k spawned then joined", |b| {
        b.iter(|| {
            run(vec![task(async {
                let handles: Vec<JoinHandle<u64>> =
                    (0..100_000).map(|i| spawn(async move { i })).collect();
                for handle in handles {
                    handle.await;
                }
            })])
        })
    });
    group.finish();
}

/// The pool: one `spawn_blocking(|| 1)` awaited, per round trip: the job
/// queued, a worker running it and waking the task, and the scheduler,
/// parked in `poll(2)`, woken by the self-wake's byte and polling the task
/// again. The pool's threads start before the clock does.
fn pool(c: &mut Criterion) {
    let mut group = c.benchmark_group("pool");
    group.bench_function("spawn_blocking round trip", |b| {
        b.iter_custom(|iters| {
            let took = Rc::new(Cell::new(Duration::ZERO));
            let out = took.clone();
            run(vec![task(async move {
                spawn_blocking(|| 1).await;
                let start = Instant::now();
                for _ in 0..iters {
                    assert_eq!(spawn_blocking(|| 1).await, 1);
                }
                out.set(start.elapsed());
            })]);
            took.get()
        })
    });
    group.finish();
}

/// Sockets: a 1-byte ping-pong between two tasks over a loopback TCP pair
/// (per round trip: two writes, two reads, and the `poll(2)` calls between),
/// and the echo server with 50 and with 1000 clients, each making 100 round
/// trips of 9 bytes (per round trip, connecting and closing included).
fn io(c: &mut Criterion) {
    let mut group = c.benchmark_group("io");
    group.bench_function("ping-pong 1 byte", |b| {
        b.iter_custom(|iters| {
            let elapsed = Rc::new(Cell::new(Duration::ZERO));
            let out = elapsed.clone();
            run(vec![task(async move {
                let (ping, pong) = tcp_pair().await;
                let ponger = spawn(async move {
                    let mut byte = [0];
                    for _ in 0..iters {
                        assert_eq!(pong.read(&mut byte).await.unwrap(), 1);
                        pong.write_all(&byte).await.unwrap();
                    }
                });
                let mut byte = [0];
                let start = Instant::now();
                for _ in 0..iters {
                    ping.write_all(b"x").await.unwrap();
                    assert_eq!(ping.read(&mut byte).await.unwrap(), 1);
                }
                out.set(start.elapsed());
                ponger.await;
            })]);
            elapsed.get()
        })
    });
    group.sample_size(10);
    const ROUNDS: usize = 100;
    for clients in [50, 1000] {
        group.throughput(Throughput::Elements((clients * ROUNDS) as u64));
        group.bench_function(format!("echo {clients} clients"), |b| {
            b.iter(|| {
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let mut tasks = vec![task(echo::serve(
                    listener,
                    Some(clients),
                    echo::Config::default(),
                    |_| {},
                ))];
                tasks.extend(
                    (0..clients).map(|id| {
                        task(async move { echo::client(addr, id, ROUNDS).await.unwrap() })
                    }),
                );
                run(tasks)
            })
        });
    }
    group.finish();
}

/// A connected pair of loopback TCP streams; call it inside `run`.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = spawn(async move { listener.accept().await.unwrap().0 });
    let connected = TcpStream::connect(addr).await.unwrap();
    (connected, accepted.await)
}

criterion_group!(benches, yields, timers, spawns, pool, io);
criterion_main!(benches);
