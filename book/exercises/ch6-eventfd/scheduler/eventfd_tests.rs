//! Tests of the self-wake itself, adapted from exp6's `self_wake.rs`: a
//! full eventfd, a wake ending a `poll(2)`, and the count a drain returns.

use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use crate::self_wake::SelfWake;

/// Whether `poll(2)` finds the eventfd readable, waiting up to `timeout_ms`
/// (-1: for ever).
fn readable(self_wake: &SelfWake, timeout_ms: i32) -> bool {
    let mut pollfd = libc::pollfd {
        fd: self_wake.fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one pollfd, which lives across the call.
    #[allow(unsafe_code)]
    let ready = unsafe { libc::poll(&raw mut pollfd, 1, timeout_ms) };
    assert!(ready >= 0, "poll: {}", std::io::Error::last_os_error());
    ready == 1 && pollfd.revents & libc::POLLIN != 0
}

#[test]
fn a_wake_from_another_thread_ends_a_poll_with_no_timeout() {
    let self_wake = Arc::new(SelfWake::new().unwrap());
    assert!(!readable(&self_wake, 0), "readable before any wake");
    let waking = {
        let self_wake = self_wake.clone();
        thread::spawn(move || {
            thread::sleep(Duration::from_millis(20));
            self_wake.wake();
        })
    };
    // The crate's tests run under a watchdog; this one waits in poll(2)
    // itself, so a lost wake shows as the test runner's hang report.
    assert!(
        readable(&self_wake, 10_000),
        "the wake did not end the poll"
    );
    waking.join().unwrap();
    assert_eq!(self_wake.drain(), 1);
    assert!(!readable(&self_wake, 0), "still readable once drained");
}

#[test]
fn a_drain_returns_every_wake_since_the_last_one_and_then_none() {
    let self_wake = SelfWake::new().unwrap();
    assert_eq!(
        self_wake.drain(),
        0,
        "a drain of a fresh eventfd must not block"
    );
    for _ in 0..1000 {
        self_wake.wake();
    }
    assert_eq!(self_wake.drain(), 1000);
    assert_eq!(self_wake.drain(), 0, "drained to the last wake");
}

#[test]
fn a_wake_into_a_full_eventfd_returns_at_once() {
    // Raise the counter to its maximum, as if wakes had piled up undrained,
    // then wake: the wake must find EAGAIN and return, not wait for room.
    let self_wake = Arc::new(SelfWake::new().unwrap());
    let most: u64 = u64::MAX - 1;
    // SAFETY: the pointer and length are those of `most`, which lives across
    // the call.
    #[allow(unsafe_code)]
    let written = unsafe { libc::write(self_wake.fd(), (&raw const most).cast(), 8) };
    assert_eq!(written, 8);
    let (done_tx, done_rx) = mpsc::channel();
    let waker = {
        let self_wake = self_wake.clone();
        thread::spawn(move || {
            self_wake.wake();
            done_tx.send(()).unwrap();
        })
    };
    let result = done_rx.recv_timeout(Duration::from_secs(10));
    if result.is_err() {
        // Unblock the writer before failing, so the test can end.
        self_wake.drain();
    }
    result.expect("a wake blocked on a full eventfd");
    waker.join().unwrap();
    assert_eq!(self_wake.drain() as u64, most);
    assert_eq!(self_wake.drain(), 0, "drained to the last wake");
}
