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
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

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
        // Your code: `libc::eventfd` with the flags the doc above names, and
        // the descriptor it returns into an `OwnedFd`.
        todo!()
    }

    /// The eventfd, for the `poll(2)` set.
    pub(crate) fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Adds 1 to the counter, which makes `poll(2)` return. Called on any
    /// thread, by the first wake after the scheduler parked; it never blocks
    /// and never panics.
    pub(crate) fn wake(&self) {
        // Your code: write the 8 bytes of a `1u64` with `libc::write`; count
        // it in WRITTEN; an `EAGAIN` means a wake is pending already.
        todo!()
    }

    /// Reads the counter, setting it back to 0, once `poll(2)` has reported
    /// it readable, so that the next `poll(2)` waits again, and returns how
    /// many wakes it held.
    pub(crate) fn drain(&self) -> usize {
        // Your code: read the counter's 8 bytes with `libc::read`; an `EAGAIN`
        // means it was 0; add what was read to DRAINED.
        todo!()
    }
}
