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
//! Four rules keep it from going wrong:
//!
//! - Both ends are non-blocking. A waker never waits for room in the socket:
//!   if it is full, bytes are pending already, and `poll(2)` returns anyway.
//! - A wake writes only when the scheduler is parked, and only the first
//!   wake after each park writes: the ready queue's `parked` flag, taken
//!   down under the queue's lock by the wake that writes. Wakes while the
//!   scheduler is busy, on its own thread or another, make no system call.
//! - The byte only says "look again". A byte may be stale (written for a
//!   wake that the loop had seen already, or for a job nobody awaits), so
//!   the loop never takes it to mean that a task is ready, nor that none is
//!   left.
//! - The socketpair belongs to its `run`. The reactor owns it, and the
//!   wakers only reach it, through a `Weak` in the ready queue: it closes
//!   when `run` returns, however long a waker is kept, and a later wake
//!   writes nothing.

use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::{AtomicU64, Ordering};

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
    // Drained first, so that a byte drained between the two loads is
    // counted as written too: the counts are meant never to show more bytes
    // drained than written. (They are statistics, loaded `Relaxed`, not a
    // protocol: nothing relies on them.)
    let drained = DRAINED.load(Ordering::Relaxed);
    SelfWakeBytes {
        written: WRITTEN.load(Ordering::Relaxed),
        drained,
    }
}

/// The self-wake of one `run`: the socketpair. Owned by the reactor, which
/// polls and drains the read end; the ready queue's wakes write to the
/// write end while the reactor lives.
pub(crate) struct SelfWake {
    /// In every `poll(2)` set; read by the scheduler's thread only.
    reader: Socket,
    /// Written by wakers, on any thread.
    writer: Socket,
}

impl SelfWake {
    /// A new socketpair, both ends non-blocking. It takes two file
    /// descriptors, closed when the reactor lets go of it as `run` returns
    /// (or, if a wake is writing just then, once its write is done).
    pub(crate) fn new() -> io::Result<Self> {
        let (reader, writer) = Socket::pair(Domain::UNIX, Type::STREAM, None)?;
        reader.set_nonblocking(true)?;
        writer.set_nonblocking(true)?;
        Ok(SelfWake { reader, writer })
    }

    /// The read end, for the `poll(2)` set.
    pub(crate) fn fd(&self) -> RawFd {
        self.reader.as_raw_fd()
    }

    /// Writes the byte that makes `poll(2)` return. Called on any thread, by
    /// the first wake after the scheduler parked; it never blocks and never
    /// panics.
    pub(crate) fn wake(&self) {
        // Counted before it can be drained, and taken back if not written.
        WRITTEN.fetch_add(1, Ordering::Relaxed);
        loop {
            // No SIGPIPE to fear: the read end lives as long as this one.
            match (&self.writer).write(&[1]) {
                Ok(_) => {
                    trace!("self-wake: byte written");
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
    /// readable, so that the next `poll(2)` waits again, and returns how
    /// many there were.
    pub(crate) fn drain(&self) -> usize {
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
        trace!("self-wake: {drained} bytes drained");
        drained
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

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
        assert!(self_wake.drain() > 0);
        assert_eq!(self_wake.drain(), 0, "drained to the last byte");
    }
}
