//! `spawn_blocking` when the system refuses the pool its threads: the jobs
//! still run, on the threads the pool could start, or on the scheduler's
//! own thread when it could start none.
//!
//! The limit is the whole process's, so this test binary has no harness,
//! whose threads would count, and runs its scenarios one after the other on
//! the main thread. The limit is `RLIMIT_AS`, the size of the address space:
//! a thread's stack is mapped when the thread starts, and with no room for
//! it `pthread_create` fails with `EAGAIN`, as it does under a low
//! `RLIMIT_NPROC`, the limit on a user's threads. `RLIMIT_NPROC` cannot
//! serve here: it does not bind root, and tests may run as root.

mod common;

use std::env;
use std::fs;
use std::io;
use std::panic::{self, AssertUnwindSafe};
use std::thread;
use std::time::Duration;

use common::panic_message;
use exp6_tuned::net::TcpListener;
use exp6_tuned::{echo, run, sleep, spawn_blocking, task};

/// The stack of every thread started here (`RUST_MIN_STACK`): large, so
/// that a limit can leave room for all the test allocates, but not for one
/// more stack.
const STACK: u64 = 64 << 20;

/// The panic of the job that a scenario runs to see it reach its task.
const EXPECTED_PANIC: &str = "job failed";

fn main() {
    if cfg!(miri) {
        println!("thread_limit: skipped, Miri does not model setrlimit");
        return;
    }
    // SAFETY: no other thread runs yet, so none can read the environment
    // meanwhile.
    unsafe { env::set_var("RUST_MIN_STACK", STACK.to_string()) };
    // The watchdog: SIGALRM's default action ends the process, so a hang
    // fails the test after a minute. A thread could not watch: the test
    // decides which threads exist.
    // SAFETY: `alarm` only arms a timer.
    unsafe { libc::alarm(60) };
    let unlimited = address_space_limit();
    // A failure's message, and its backtrace, need memory: lift the limit
    // before printing them. The one panic a scenario expects is caught, and
    // is not printed.
    let print = panic::take_hook();
    panic::set_hook(Box::new(move |panic| {
        if panic_message(panic.payload()) == EXPECTED_PANIC {
            return;
        }
        // SAFETY: `setrlimit` reads the `rlimit` it is given, which lives
        // through the call.
        unsafe { libc::setrlimit(libc::RLIMIT_AS, &unlimited) };
        print(panic);
    }));
    with_room_for_threads(unlimited, 0, no_pool_thread_can_start);
    with_room_for_threads(unlimited, 1, one_pool_thread_can_start);
    with_room_for_threads(unlimited, 0, the_echo_server_serves_with_no_pool_thread);
    println!("thread_limit: 3 scenarios passed");
}

/// No room for a thread: each job runs on the scheduler's thread, and the
/// scheduler goes on, through timers, more jobs and a job's panic.
fn no_pool_thread_can_start() {
    thread::Builder::new()
        .spawn(|| ())
        .expect_err("the limit let a thread start: this test cannot provoke the fault");
    run(vec![task(async {
        let scheduler = thread::current().id();
        let (answer, ran_on) = spawn_blocking(|| (6 * 7, thread::current().id())).await;
        assert_eq!(answer, 42);
        assert_eq!(ran_on, scheduler, "with no worker, the scheduler runs it");
        sleep(Duration::from_millis(1)).await;
        assert_eq!(spawn_blocking(|| 7).await, 7);
    })]);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        run(vec![task(async {
            let _: u32 = spawn_blocking(|| panic!("{EXPECTED_PANIC}")).await;
        })]);
    }));
    assert_eq!(
        panic_message(&*caught.expect_err("the job's panic")),
        EXPECTED_PANIC
    );
    assert_eq!(pool_threads(), 0);
}

/// Room for one thread: the pool runs with the one worker it could start.
fn one_pool_thread_can_start() {
    run(vec![task(async {
        for _ in 0..3 {
            let name = spawn_blocking(|| thread::current().name().map(String::from)).await;
            assert_eq!(name.as_deref(), Some("exp6-pool-0"));
        }
        assert_eq!(pool_threads(), 1, "the pool's threads while it runs");
    })]);
    assert_eq!(pool_threads(), 0, "the pool's threads after run");
}

/// No room for a thread: the echo server, which hands each chunk it reads
/// to the pool, goes on serving.
fn the_echo_server_serves_with_no_pool_thread() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let jobs_before = echo::pool_jobs();
    let mut tasks = vec![task(echo::serve(
        listener,
        Some(3),
        echo::Config::default(),
        |_| {},
    ))];
    for id in 0..3 {
        tasks.push(task(async move {
            echo::client(addr, id, 10).await.expect("an echo client");
        }));
    }
    run(tasks);
    assert!(
        echo::pool_jobs() - jobs_before >= 30,
        "the echoes used the pool"
    );
    assert_eq!(pool_threads(), 0);
}

/// Runs `scenario` with the address space limited to what the process uses
/// now, plus room for `threads` stacks and half a stack more; then sets the
/// limit back to `unlimited`.
fn with_room_for_threads(unlimited: libc::rlimit, threads: u64, scenario: fn()) {
    limit_address_space(libc::rlimit {
        rlim_cur: address_space() + threads * STACK + STACK / 2,
        rlim_max: unlimited.rlim_max,
    });
    scenario();
    limit_address_space(unlimited);
}

/// `RLIMIT_AS` as it is.
fn address_space_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `getrlimit` writes to the `rlimit` it is given, which lives
    // through the call.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) };
    assert_eq!(got, 0, "getrlimit: {}", io::Error::last_os_error());
    limit
}

/// Sets `RLIMIT_AS`.
fn limit_address_space(limit: libc::rlimit) {
    // SAFETY: `setrlimit` reads the `rlimit` it is given, which lives
    // through the call.
    let set = unsafe { libc::setrlimit(libc::RLIMIT_AS, &limit) };
    assert_eq!(set, 0, "setrlimit: {}", io::Error::last_os_error());
}

/// The size of this process's address space, in bytes.
fn address_space() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmSize:"))
        .and_then(|size| size.trim().strip_suffix("kB")?.trim().parse::<u64>().ok())
        .expect("VmSize in /proc/self/status");
    kb << 10
}

/// How many of this process's threads are the pool's, by their names.
fn pool_threads() -> usize {
    fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter(|task| {
            let comm = task.as_ref().unwrap().path().join("comm");
            fs::read_to_string(comm).is_ok_and(|name| name.starts_with("exp6-pool-"))
        })
        .count()
}
