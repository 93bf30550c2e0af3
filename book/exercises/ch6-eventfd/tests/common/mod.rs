//! Helpers shared by this crate's tests.
//!
//! Each test file uses a different subset of them.
#![allow(dead_code)]

use std::cell::Cell;
use std::fs;
use std::future::Future;
use std::panic;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use ch6_eventfd::net::{TcpListener, TcpStream};
use ch6_eventfd::{JoinHandle, run, spawn, spawn_blocking, task, yield_now};

/// Runs `scenario` on its own thread and fails the test if it has not
/// finished after `seconds`: a scheduler bug then shows up as a failure
/// instead of a CI run that never ends. A panic in the scenario is re-raised.
pub fn watchdog(seconds: u64, scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        scenario();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(()) => worker.join().expect("scenario thread"),
        Err(mpsc::RecvTimeoutError::Disconnected) => match worker.join() {
            Err(payload) => panic::resume_unwind(payload),
            Ok(()) => unreachable!("the scenario returned without reporting"),
        },
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("watchdog: the scenario is still running after {seconds} s (a hang?)")
        }
    }
}

/// The message a caught panic carried.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        message.to_string()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "<non-string panic>".to_string()
    }
}

/// Counts how often the future inside is polled.
pub struct CountPolls {
    pub polls: Rc<Cell<u32>>,
    pub inner: Pin<Box<dyn Future<Output = ()>>>,
}

impl Future for CountPolls {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.polls.set(self.polls.get() + 1);
        self.inner.as_mut().poll(cx)
    }
}

/// Polls the future inside once and returns what that poll returned.
pub struct PollOnce<F>(pub F);

impl<F: Future + Unpin> Future for PollOnce<F> {
    type Output = Poll<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Poll::Ready(Pin::new(&mut self.0).poll(cx))
    }
}

/// A connected pair of loopback TCP streams; call it inside `run`.
pub async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local_addr");
    let accepted = spawn(async move { listener.accept().await.expect("accept").0 });
    let connected = TcpStream::connect(addr).await.expect("connect");
    (connected, accepted.await)
}

/// How many file descriptors this process has open (Linux).
pub fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count()
}

/// Starts `jobs` pool jobs, keeps the scheduler busy with a yielding task
/// until every one of them is done, so that their wakes pile up on the ready
/// queue from the workers, then joins them all; returns the sum of their
/// outputs, `0 + 1 + ... + (jobs - 1)` when nothing was lost.
pub fn pile_up_completions(jobs: u64) -> u64 {
    let sum = Rc::new(Cell::new(0));
    let out = sum.clone();
    run(vec![task(async move {
        let finished = Arc::new(AtomicU64::new(0));
        let handles: Vec<JoinHandle<u64>> = (0..jobs)
            .map(|i| {
                let finished = finished.clone();
                spawn(spawn_blocking(move || {
                    finished.fetch_add(1, Ordering::Relaxed);
                    i
                }))
            })
            .collect();
        while finished.load(Ordering::Relaxed) < jobs {
            yield_now().await;
        }
        let mut total = 0;
        for handle in handles {
            total += handle.await;
        }
        out.set(total);
    })]);
    sum.get()
}

/// How many threads this process has, as Linux lists them.
pub fn threads() -> usize {
    fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .count()
}

/// The thread count once it has come back down to `expected`, or after a
/// second. `join` returns as soon as the thread has cleared its id, a moment
/// before the kernel takes it off the list.
pub fn threads_settled_to(expected: usize) -> usize {
    let start = Instant::now();
    loop {
        let count = threads();
        if count <= expected || start.elapsed() > Duration::from_secs(1) {
            return count;
        }
        thread::yield_now();
    }
}
