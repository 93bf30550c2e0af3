//! The self-wake over an eventfd: how a waker on another thread ends the
//! scheduler's wait in `poll(2)`, with one file descriptor instead of a
//! socketpair's two.
//!
//! An eventfd (eventfd(2)) is a counter in the kernel behind a file
//! descriptor. A write of an 8-byte number adds it to the counter; a read
//! returns the counter and sets it back to 0; `poll(2)` reports it readable
//! while the counter is above 0. So a wake writes 1, and the drain reads the
//! count of wakes since the last drain. exp6's rules hold as they were: the
//! descriptor is non-blocking (a write that would overflow the counter fails
//! with `EAGAIN` instead of waiting, and then a wake is pending anyway), and
//! the count only says "look again".

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::trace::trace;

/// Wakes written to self-wake eventfds, by every `run` of the process.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Wakes drained from self-wake eventfds, by every `run` of the process.
static DRAINED: AtomicU64 = AtomicU64::new(0);

/// How many wakes the self-wake eventfds have carried, over every
/// [`run`](crate::run) of this process so far: see [`self_wake_bytes`]. (The
/// name is exp6's, whose self-wake carried bytes; here each is a wake
/// added to the counter.)
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelfWakeBytes {
    /// Wakes written by wakers that found the scheduler parked in `poll(2)`.
    pub written: u64,
    /// Wakes the schedulers read back out once `poll(2)` reported them.
    pub drained: u64,
}

/// How many wakes the self-wake eventfds have carried, over every
/// [`run`](crate::run) of this process so far, on any thread.
pub fn self_wake_bytes() -> SelfWakeBytes {
    // Drained first, so that a wake drained between the two loads is
    // counted as written too.
    let drained = DRAINED.load(Ordering::Relaxed);
    SelfWakeBytes {
        written: WRITTEN.load(Ordering::Relaxed),
        drained,
    }
}

/// The self-wake of one `run`: an eventfd. Owned by the reactor, which
/// polls and drains it; the ready queue's wakes write to it while the
/// reactor lives.
pub(crate) struct SelfWake {
    /// In every `poll(2)` set, read by the scheduler's thread; written by
    /// wakers, on any thread.
    fd: OwnedFd,
}

impl SelfWake {
    /// A new eventfd with its counter at 0, non-blocking, closed on `exec`.
    pub(crate) fn new() -> io::Result<Self> {
        // SAFETY: eventfd takes no pointer; it returns a new descriptor or -1.
        #[allow(unsafe_code)]
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just opened, and nothing else owns it.
        #[allow(unsafe_code)]
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(SelfWake { fd })
    }

    /// The eventfd, for the `poll(2)` set.
    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Adds 1 to the counter, which makes `poll(2)` return. Called on any
    /// thread, by the first wake after the scheduler parked; it never blocks
    /// and never panics.
    pub(crate) fn wake(&self) {
        // Counted before it can be drained, and taken back if not written.
        WRITTEN.fetch_add(1, Ordering::Relaxed);
        let one: u64 = 1;
        loop {
            // SAFETY: the pointer and length are those of `one`, 8 bytes
            // that live across the call; the descriptor is open while `self` is.
            #[allow(unsafe_code)]
            let written = unsafe { libc::write(self.fd(), (&raw const one).cast(), 8) };
            if written == 8 {
                trace!("self-wake: counter raised");
                return;
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                io::ErrorKind::Interrupted => {}
                // The counter is at its maximum: poll(2) returns anyway.
                io::ErrorKind::WouldBlock => {
                    WRITTEN.fetch_sub(1, Ordering::Relaxed);
                    trace!("self-wake: the counter is full, a wake is pending already");
                    return;
                }
                // A waker must not panic, and there is nothing else to try.
                _ => {
                    WRITTEN.fetch_sub(1, Ordering::Relaxed);
                    trace!("self-wake: raising the counter failed: {err}");
                    return;
                }
            }
        }
    }

    /// Reads the counter, setting it back to 0, once `poll(2)` has reported
    /// it readable, so that the next `poll(2)` waits again, and returns how
    /// many wakes it held.
    pub(crate) fn drain(&self) -> usize {
        let mut count: u64 = 0;
        let drained = loop {
            // SAFETY: the pointer and length are those of `count`, 8 bytes
            // that live across the call; the descriptor is open while `self` is.
            #[allow(unsafe_code)]
            let read = unsafe { libc::read(self.fd(), (&raw mut count).cast(), 8) };
            if read == 8 {
                break count;
            }
            let err = io::Error::last_os_error();
            match err.kind() {
                // The counter is 0: nothing to drain.
                io::ErrorKind::WouldBlock => break 0,
                io::ErrorKind::Interrupted => {}
                _ => panic!("reading the self-wake eventfd failed: {err}"),
            }
        };
        DRAINED.fetch_add(drained, Ordering::Relaxed);
        trace!("self-wake: {drained} wakes drained");
        drained as usize
    }
}
