//! The self-wake: how a waker on another thread ends the scheduler's wait in
//! `poll(2)`.
//!
//! Experiment 4's scheduler blocked on a `Condvar`, which a waker notifies.
//! This one blocks in `poll(2)`, which waits for file descriptors and nothing
//! else, so the wake has to become one: the self-wake is a connected pair of
//! Unix sockets, and its read end is in every `poll(2)` set. A waker that
//! finds the scheduler parked in `poll(2)` writes one byte to the write end;
//! the read end turns readable and `poll(2)` returns. The reactor then reads
//! the byte back out (drains it) and the loop looks at its ready queue. This
//! is the self-pipe trick.
//!
//! Three rules keep it from going wrong:
//!
//! - Both ends are non-blocking. A waker never waits for room in the socket:
//!   if it is full, bytes are pending already, and `poll(2)` returns anyway.
//! - A wake writes only when the scheduler is parked, and only the first
//!   wake after each park writes: the `parked` flag, taken down by the wake
//!   that writes. Wakes from workers while the scheduler is busy cost one
//!   atomic load and no system call; wakes on its own thread never get here.
//! - The byte only says "look again". A byte may be stale (written for a
//!   wake that the loop had seen already, or for a job nobody awaits), so
//!   the loop never takes it to mean that a task is ready, nor that none is
//!   left.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;

use socket2::{Domain, Socket, Type};

use crate::trace::trace;

/// Bytes written to self-wake sockets, by every `run` of the process.
static WRITTEN: AtomicU64 = AtomicU64::new(0);

/// Bytes drained from self-wake sockets, by every `run` of the process.
static DRAINED: AtomicU64 = AtomicU64::new(0);

/// How many bytes the self-wake sockets have carried, over every
/// [`run`](crate::run) of this process so far: see [`self_wake_bytes`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SelfWakeBytes {
    /// Bytes written by wakers that found the scheduler parked in `poll(2)`:
    /// at most one per park, however many tasks were woken meanwhile.
    pub written: u64,
    /// Bytes the schedulers read back out once `poll(2)` reported them. A
    /// byte written as a `run` ends may never be drained: it is closed with
    /// its socket.
    pub drained: u64,
}

/// How many bytes the self-wake sockets have carried, over every
/// [`run`](crate::run) of this process so far, on any thread.
///
/// A waker writes a byte only when it finds the scheduler parked in
/// `poll(2)`, so the count stays far below the number of wakes: the demo
/// prints it, and the tests check it.
pub fn self_wake_bytes() -> SelfWakeBytes {
    // Drained first: a byte drained after this load was written before the
    // next, so the counts never show more bytes drained than written.
    let drained = DRAINED.load(Ordering::Relaxed);
    SelfWakeBytes {
        written: WRITTEN.load(Ordering::Relaxed),
        drained,
    }
}

/// The self-wake of one `run`: the socketpair, and whether the scheduler is
/// parked in `poll(2)`. Shared by the scheduler, the reactor (which polls and
/// drains the read end) and the ready queue (whose pushes wake through it).
pub(crate) struct SelfWake {
    /// Raised by the scheduler just before it parks in `poll(2)`, lowered
    /// when it is back; taken down by the first wake that lands meanwhile,
    /// which writes the byte.
    parked: AtomicBool,
    /// In every `poll(2)` set; read by the scheduler's thread only.
    reader: Socket,
    /// Written by wakers, on any thread.
    writer: Socket,
}

impl SelfWake {
    /// A new socketpair, both ends non-blocking. It takes two file
    /// descriptors, closed when the last of the scheduler, the reactor and
    /// the wakers lets go of it.
    pub(crate) fn new() -> io::Result<Self> {
        let (reader, writer) = Socket::pair(Domain::UNIX, Type::STREAM, None)?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(SelfWake {
            parked: AtomicBool::new(false),
            reader,
            writer,
        })
    }

    /// The read end, for the `poll(2)` set.
    pub(crate) fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// The scheduler is about to park in `poll(2)`: from now on, the first
    /// wake writes a byte. The scheduler must look at its ready queue once
    /// more after this, and not park if a task is there.
    pub(crate) fn park(&self) {
        self.parked.store(true, Ordering::SeqCst);
    }

    /// The scheduler is back from `poll(2)`, or did not go: wakes need no
    /// byte.
    pub(crate) fn unpark(&self) {
        self.parked.store(false, Ordering::SeqCst);
    }

    /// Ends the scheduler's `poll(2)` if it is parked there. Called on any
    /// thread, by every wake once it has queued its task, and by a pool
    /// worker once its job is no longer counted in flight; it never blocks
    /// and never panics.
    ///
    /// Against the scheduler's [`park`](Self::park) this is the classic
    /// handshake. The scheduler raises the flag, then looks at the queue; a
    /// wake pushes onto the queue, then looks at the flag. The two looks
    /// cannot both miss: if the scheduler's look came first, the wake sees
    /// the flag and writes the byte, which ends `poll(2)` at once; if the
    /// push came first, the scheduler sees the task and does not park.
    pub(crate) fn wake(&self) {
        // The cheap check first, for the common case: a worker's wake while
        // the scheduler is busy polling tasks, with the flag down.
        // Relaxed is enough. The push took the queue's lock; if the
        // scheduler's look at the queue took it before, the lock orders the
        // scheduler's park, which came before its look, before this load,
        // which then sees the flag up (or already taken down by a wake that
        // wrote the byte, or by the scheduler, back from `poll(2)`).
        if !self.parked.load(Ordering::Relaxed) {
            return;
        }
        // Only the wake that takes the flag down writes: one byte per park.
        if self.parked.swap(false, Ordering::SeqCst) {
            self.write_byte();
        }
    }

    /// Writes the byte that makes `poll(2)` return.
    fn write_byte(&self) {
        // Counted before it can be drained, and taken back if not written.
        WRITTEN.fetch_add(1, Ordering::Relaxed);
        loop {
            // No SIGPIPE to fear: the read end lives as long as this one.
            match (&self.writer).write(&[1]) {
                Ok(_) => {
                    trace!(
                        "self-wake: {} wrote a byte, to end the wait in poll(2)",
                        thread::current().name().unwrap_or("an unnamed thread")
                    );
                    return;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                // Full: bytes are pending already, so poll(2) returns anyway.
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                    WRITTEN.fetch_sub(1, Ordering::Relaxed);
                    trace!("self-wake: the socket is full, a byte is pending already");
                    return;
                }
                // A waker must not panic, and there is nothing else to try.
                Err(err) => {
                    WRITTEN.fetch_sub(1, Ordering::Relaxed);
                    trace!("self-wake: writing the byte failed: {err}");
                    return;
                }
            }
        }
    }

    /// Reads every byte in the socket, once `poll(2)` has reported it
    /// readable, so that the next `poll(2)` waits again.
    pub(crate) fn drain(&self) {
        let mut buf = [0; 64];
        let mut drained = 0;
        loop {
            match (&self.reader).read(&mut buf) {
                // The end of file: impossible while the write end is open.
                Ok(0) => break,
                Ok(n) => drained += n,
                Err(err) if err.kind() == io::ErrorKind::WouldBlock => break,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => panic!("reading the self-wake socket failed: {err}"),
            }
        }
        DRAINED.fetch_add(drained as u64, Ordering::Relaxed);
        trace!("self-wake: drained {drained} bytes");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Bytes waiting to be read on the read end.
    fn pending(self_wake: &SelfWake) -> usize {
        let mut buf = [0; 4096];
        let mut total = 0;
        while let Ok(n) = (&self_wake.reader).read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    }

    #[test]
    fn wakes_write_only_when_parked_and_once_per_park() {
        let self_wake = SelfWake::new().unwrap();
        self_wake.wake();
        assert_eq!(pending(&self_wake), 0, "a wake with the scheduler running");
        self_wake.park();
        for _ in 0..1000 {
            self_wake.wake();
        }
        assert_eq!(pending(&self_wake), 1, "1000 wakes during one park");
        self_wake.park();
        self_wake.unpark();
        self_wake.wake();
        assert_eq!(pending(&self_wake), 0, "a wake after the park ended");
    }

    #[test]
    fn a_wake_into_a_full_socket_returns_at_once() {
        // Fill the socket, as if bytes had piled up undrained, then park and
        // wake: the wake must find WouldBlock and return, not wait for room.
        // MSG_DONTWAIT: the filling must not block, whatever the socket's mode.
        let self_wake = SelfWake::new().unwrap();
        let mut filled = 0;
        for chunk in [4096, 1] {
            while let Ok(n) = self_wake
                .writer
                .send_with_flags(&vec![0; chunk], libc::MSG_DONTWAIT)
            {
                filled += n;
            }
        }
        assert!(filled > 0);
        let self_wake = std::sync::Arc::new(self_wake);
        let (done_tx, done_rx) = mpsc::channel();
        let waker = {
            let self_wake = self_wake.clone();
            thread::spawn(move || {
                self_wake.park();
                self_wake.wake();
                done_tx.send(()).unwrap();
            })
        };
        let result = done_rx.recv_timeout(Duration::from_secs(10));
        if result.is_err() {
            // Unblock the writer before failing, so the test can end.
            self_wake.drain();
        }
        result.expect("a wake blocked on a full self-wake socket");
        waker.join().unwrap();
        self_wake.drain();
        assert_eq!(pending(&self_wake), 0, "drained to the last byte");
    }
}
