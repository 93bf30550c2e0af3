//! exp6's tests/self_wake.rs, run on the eventfd self-wake: pool jobs and
//! sockets in one `poll(2)` loop. Lost wake-ups, wakes in the parking window,
//! piles of completions, stale bytes, and echoes through the pool.
//!
//! Several tests count the bytes written to self-wake sockets, which every
//! `run` of the process adds to: the tests of this file take turns, and no
//! other test binary's runs share the count.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use ch6_eventfd::net::TcpListener;
use ch6_eventfd::{echo, run, self_wake_bytes, sleep, spawn, spawn_blocking, task};
use common::{PollOnce, pile_up_completions, tcp_pair, watchdog};

const MS: Duration = Duration::from_millis(1);

/// Taken by each test, so that the self-wake counts are its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn turn() -> MutexGuard<'static, ()> {
    ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner())
}

/// Bytes written to self-wake sockets so far.
fn written() -> u64 {
    self_wake_bytes().written
}

#[test]
fn round_trips_with_nothing_but_the_self_wake_to_wait_for() {
    let _turn = turn();
    watchdog(120, || {
        // No timer, no socket: each time, the scheduler parks in poll(2) on
        // the self-wake alone, with no timeout, while the job runs. A lost
        // wake-up hangs here. Each job sleeps 200 µs, so that the scheduler
        // has parked by the time its wake comes, unless it was kept off the
        // CPU all that while.
        const ROUND_TRIPS: u64 = 2_000;
        let before = written();
        let sum = Rc::new(Cell::new(0));
        let out = sum.clone();
        run(vec![task(async move {
            let mut total = 0;
            for i in 0..ROUND_TRIPS {
                total += spawn_blocking(move || {
                    thread::sleep(Duration::from_micros(200));
                    i
                })
                .await;
            }
            out.set(total);
        })]);
        assert_eq!(sum.get(), ROUND_TRIPS * (ROUND_TRIPS - 1) / 2);
        // At most one byte per park: one for a job's wake, and one for the
        // end of the job if the scheduler has parked again by then (for the
        // next job). How many parks come before the wake depends on how busy
        // the machine is, so the test asserts only that some did.
        let bytes = written() - before;
        assert!(
            (1..=2 * ROUND_TRIPS).contains(&bytes),
            "{bytes} bytes through the self-wake for {ROUND_TRIPS} round trips"
        );
    });
}

#[test]
fn pool_wakes_at_any_moment_are_never_lost() {
    let _turn = turn();
    watchdog(120, || {
        // Each job spins a different while, from 30 to 70 µs, so that its
        // wake lands at a different point of the scheduler's way from "the
        // queue is empty" into poll(2). With no timer and no socket, a lost one hangs.
        // (A worker notifies after every job, which can make up for a lost
        // wake: the next test aims at the parking window without it.)
        const JOBS: u64 = 20_000;
        let done = Rc::new(Cell::new(0));
        let out = done.clone();
        run(vec![task(async move {
            for i in 0..JOBS {
                let busy = Duration::from_nanos(30_000 + i * 7919 % 40_000);
                spawn_blocking(move || {
                    let start = Instant::now();
                    while start.elapsed() < busy {
                        std::hint::spin_loop();
                    }
                })
                .await;
                out.set(out.get() + 1);
            }
        })]);
        assert_eq!(done.get(), JOBS);
    });
}

#[test]
fn wakes_from_a_plain_thread_that_land_while_the_scheduler_parks_are_never_lost() {
    let _turn = turn();
    watchdog(30, || {
        // The task leaves its waker in a slot and returns `Pending`, and a
        // thread spinning on the slot wakes it. The scheduler's way from "the
        // queue is empty" to its park takes a few dozen nanoseconds; to land
        // wakes there, the time between hand-over and wake is steered to the
        // moment of the park. A wake that wrote a byte came after the park,
        // so the next comes a little sooner; one that did not came before
        // it, so the next a little later. To wake sooner than at once, the
        // task spins after the hand-over, before it returns.
        //
        // No pool job follows up with a notify here, and a read that waits
        // for the whole run keeps poll(2) from having a timeout: a wake lost
        // in the parking window hangs the run. On an idle machine thousands
        // of wakes land in the window; when the scheduler and the waking
        // thread cannot run at once, few do. The test stops after 50,000
        // wakes or 3 seconds.
        const WAKES: u64 = 50_000;
        const LONGEST: Duration = Duration::from_secs(3);
        let slot: Arc<Mutex<Option<Waker>>> = Arc::default();
        let handed = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        // Stops the waking thread however the scenario ends.
        let stop = SetOnDrop(finished.clone());
        // Spins between hand-over and wake: by the waker when positive, by
        // the task when negative.
        let delay = Arc::new(AtomicI64::new(0));
        let waking = {
            let (slot, handed, finished, delay) = (
                slot.clone(),
                handed.clone(),
                finished.clone(),
                delay.clone(),
            );
            thread::spawn(move || {
                let mut idle: u32 = 0;
                while !finished.load(Ordering::Acquire) {
                    if !handed.swap(false, Ordering::Acquire) {
                        // Now and then, leave the CPU to the scheduler, in
                        // case they share one.
                        idle = idle.wrapping_add(1);
                        if idle.is_multiple_of(1024) {
                            thread::yield_now();
                        }
                        std::hint::spin_loop();
                        continue;
                    }
                    let spins = delay.load(Ordering::Relaxed);
                    spin(spins);
                    let waker = slot.lock().unwrap().take().expect("a waker");
                    let before = written();
                    waker.wake();
                    let step = if written() > before { -1 } else { 1 };
                    delay.store((spins + step).clamp(-1000, 1000), Ordering::Relaxed);
                }
            })
        };
        let woken = Rc::new(Cell::new(0));
        let out = woken.clone();
        run(vec![task(async move {
            let (near, far) = tcp_pair().await;
            let reading = spawn(async move {
                let mut buf = [0; 1];
                near.read(&mut buf).await.unwrap()
            });
            let start = Instant::now();
            while out.get() < WAKES && start.elapsed() < LONGEST {
                let mut handed_over = false;
                std::future::poll_fn(|cx| {
                    if handed_over {
                        return Poll::Ready(());
                    }
                    handed_over = true;
                    *slot.lock().unwrap() = Some(cx.waker().clone());
                    let spins = delay.load(Ordering::Relaxed);
                    handed.store(true, Ordering::Release);
                    spin(-spins);
                    Poll::Pending
                })
                .await;
                out.set(out.get() + 1);
            }
            drop(far);
            assert_eq!(reading.await, 0);
        })]);
        drop(stop);
        waking.join().unwrap();
        assert!(woken.get() > 0);
    });
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Spins `spins` times, if that is more than none.
fn spin(spins: i64) {
    for _ in 0..spins.max(0) {
        std::hint::spin_loop();
    }
}

#[test]
fn completions_piling_up_while_the_loop_is_busy_write_almost_nothing() {
    let _turn = turn();
    watchdog(120, || {
        // 50,000 jobs finish while a task keeps the loop busy, so every wake
        // comes from a worker while the scheduler is not parked: none of
        // them needs a byte. A byte per wake would fill the socket hundreds
        // of times over; with a blocking write end, the workers would stop.
        const JOBS: u64 = 50_000;
        let before = written();
        assert_eq!(pile_up_completions(JOBS), JOBS * (JOBS - 1) / 2);
        let bytes = written() - before;
        assert!(bytes < 100, "{bytes} bytes written for {JOBS} wakes");
    });
}

#[test]
fn a_stale_byte_from_a_job_nobody_awaits_does_not_end_the_loop() {
    let _turn = turn();
    watchdog(30, || {
        // The job's future is dropped, so when the job ends it wakes no
        // task; but the scheduler is parked, so the worker writes a byte to
        // make it look again. poll(2) returns with that byte and no task
        // ready. The loop must go on to the timer, not end there.
        let before = written();
        let finished = Rc::new(Cell::new(false));
        let out = finished.clone();
        run(vec![task(async move {
            let mut job = Box::pin(spawn_blocking(|| thread::sleep(20 * MS)));
            assert!(PollOnce(job.as_mut()).await.is_pending());
            drop(job);
            sleep(100 * MS).await;
            out.set(true);
        })]);
        assert!(finished.get(), "run returned before the task finished");
        assert!(
            written() > before,
            "no byte was written: the test proves nothing"
        );
    });
}

#[test]
fn a_stale_wake_of_a_finished_task_does_not_end_the_loop() {
    let _turn = turn();
    watchdog(30, || {
        // A thread keeps a finished task's waker and wakes it while the
        // scheduler is parked: a byte, and the id of a task that is gone.
        let before = written();
        let finished = Rc::new(Cell::new(false));
        let out = finished.clone();
        let kept: Arc<Mutex<Option<Waker>>> = Arc::default();
        let keeper = kept.clone();
        let short = task(std::future::poll_fn(move |cx| {
            *keeper.lock().unwrap() = Some(cx.waker().clone());
            Poll::Ready(())
        }));
        let waking = {
            let kept = kept.clone();
            thread::spawn(move || {
                thread::sleep(20 * MS);
                kept.lock().unwrap().take().expect("the waker").wake();
            })
        };
        let long = task(async move {
            sleep(100 * MS).await;
            out.set(true);
        });
        run(vec![short, long]);
        waking.join().unwrap();
        assert!(finished.get(), "run returned before the task finished");
        assert!(
            written() > before,
            "no byte was written: the test proves nothing"
        );
    });
}

#[test]
fn a_worker_ends_a_poll_that_waits_for_a_socket_with_no_timeout() {
    let _turn = turn();
    watchdog(30, || {
        // A read waits for data that never comes, and no timer is pending:
        // poll(2) has no timeout. Only the self-wake can end it for the job.
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            let reading = spawn(async move {
                let mut buf = [0; 1];
                near.read(&mut buf).await.unwrap()
            });
            let answer = spawn_blocking(|| {
                thread::sleep(50 * MS);
                6 * 7
            });
            assert_eq!(answer.await, 42);
            drop(far); // the read now gets the end of file
            assert_eq!(reading.await, 0);
        })]);
    });
}

#[test]
fn sockets_are_served_while_pool_jobs_block() {
    let _turn = turn();
    watchdog(30, || {
        // Two jobs block their workers for 200 ms; meanwhile a ping-pong
        // over TCP goes on in the loop, which waits for the socket and for
        // the jobs at once.
        let round_trips = Rc::new(Cell::new(0));
        let took = Rc::new(Cell::new(Duration::ZERO));
        let (count, took_out) = (round_trips.clone(), took.clone());
        run(vec![task(async move {
            let (ping, pong) = tcp_pair().await;
            let start = Instant::now();
            let jobs = spawn(async {
                let first = spawn(spawn_blocking(|| thread::sleep(200 * MS)));
                let second = spawn(spawn_blocking(|| thread::sleep(200 * MS)));
                first.await;
                second.await;
            });
            let ponger = spawn(async move {
                let mut byte = [0];
                while pong.read(&mut byte).await.unwrap() == 1 {
                    pong.write_all(&byte).await.unwrap();
                }
            });
            let mut byte = [0];
            while start.elapsed() < 150 * MS {
                ping.write_all(b"x").await.unwrap();
                assert_eq!(ping.read(&mut byte).await.unwrap(), 1);
                count.set(count.get() + 1);
            }
            jobs.await;
            took_out.set(start.elapsed());
            drop(ping);
            ponger.await;
        })]);
        let took = took.get();
        assert!(took >= 200 * MS, "the jobs ended early: {took:?}");
        assert!(took < 350 * MS, "the jobs did not overlap: {took:?}");
        assert!(
            round_trips.get() > 100,
            "the loop stalled: {} round trips",
            round_trips.get()
        );
    });
}

#[test]
fn every_echo_of_many_clients_goes_through_the_pool() {
    let _turn = turn();
    watchdog(60, || {
        const CLIENTS: usize = 200;
        const ROUNDS: usize = 10;
        let jobs_before = echo::pool_jobs();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let closed = Rc::new(Cell::new(0));
        let log = {
            let closed = closed.clone();
            move |line: &str| {
                if line.contains(&format!("closed, {} bytes echoed", 9 * ROUNDS)) {
                    closed.set(closed.get() + 1);
                }
            }
        };
        let ok = Rc::new(Cell::new(0));
        let mut tasks = vec![task(echo::serve(
            listener,
            Some(CLIENTS),
            echo::Config::default(),
            log,
        ))];
        tasks.extend((0..CLIENTS).map(|id| {
            let ok = ok.clone();
            task(async move {
                echo::client(addr, id, ROUNDS).await.unwrap();
                ok.set(ok.get() + 1);
            })
        }));
        run(tasks);
        assert_eq!(ok.get(), CLIENTS);
        assert_eq!(closed.get(), CLIENTS);
        // One job per chunk read: a 9-byte message is one chunk.
        let jobs = echo::pool_jobs() - jobs_before;
        assert!(
            jobs >= (CLIENTS * ROUNDS) as u64,
            "{jobs} pool jobs for {} echoes",
            CLIENTS * ROUNDS
        );
    });
}
