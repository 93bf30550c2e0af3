//! Signals: a `poll(2)` interrupted by a signal (`EINTR`) is called again,
//! with the time left until the deadline, not the whole timeout again.
//!
//! TEST-ONLY UNSAFE: this test installs a `SIGUSR1` handler with
//! `libc::signal` and sends the signal with `libc::pthread_kill`. A signal
//! handler is process-wide, which is why this is a test binary of its own,
//! with this one test in it.

mod common;

use std::os::unix::thread::JoinHandleExt;
use std::thread;
use std::time::{Duration, Instant};

use common::watchdog;
use exp6_tuned::{run, sleep, task};

/// Does nothing: its only effect is to interrupt the system call the thread
/// is in.
extern "C" fn on_signal(_: libc::c_int) {}

#[test]
fn a_poll_interrupted_by_signals_goes_on_until_the_deadline() {
    watchdog(30, interrupted_sleep);
}

fn interrupted_sleep() {
    // SAFETY (test only): `on_signal` is an `extern "C"` handler that does
    // nothing, which is async-signal-safe.
    #[allow(unsafe_code)]
    let previous = unsafe {
        libc::signal(
            libc::SIGUSR1,
            on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t,
        )
    };
    assert_ne!(previous, libc::SIG_ERR);

    const NAP: Duration = Duration::from_millis(300);
    let sleeper = thread::spawn(|| {
        let start = Instant::now();
        run(vec![task(sleep(NAP))]);
        start.elapsed()
    });
    // Interrupt the sleeper's poll(2) every 10 ms for twice the nap: were
    // the whole timeout started again after each signal, the nap would end
    // a whole timeout after the last signal.
    let thread = sleeper.as_pthread_t();
    let start = Instant::now();
    while start.elapsed() < 2 * NAP && !sleeper.is_finished() {
        // SAFETY (test only): `thread` is the sleeper's, which is joined
        // only below, so it names that thread even if it has just finished.
        #[allow(unsafe_code)]
        let sent = unsafe { libc::pthread_kill(thread, libc::SIGUSR1) };
        assert_eq!(sent, 0);
        thread::sleep(Duration::from_millis(10));
    }
    let slept = sleeper
        .join()
        .expect("an interrupted poll(2) made run fail");
    assert!(slept >= NAP, "woke after {slept:?}, wanted {NAP:?}");
    assert!(
        slept < 2 * NAP,
        "slept {slept:?} for {NAP:?}: the timeout was not recomputed"
    );
}
