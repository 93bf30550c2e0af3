//! The reactor: which task waits for which file descriptor, and the one
//! `poll(2)` call that waits for all of them at once.
//!
//! A socket future that would block registers its fd, what it waits for
//! (reading or writing) and its task's waker. When the scheduler has nothing
//! ready, it hands every registration to `poll(2)`, with the earliest timer
//! deadline as the timeout, and wakes the tasks whose fds came back ready.
//! The self-wake's read end is in every `poll(2)` set too, so that a wake
//! from another thread ends the wait.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::TaskId;
use crate::self_wake::SelfWake;
use crate::trace::trace;

/// What a registration waits for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Interest {
    /// The fd has data to read, a connection to accept, or an end of file.
    Read,
    /// The fd has room to write, or a connection attempt has finished.
    Write,
}

impl Interest {
    /// The `poll(2)` events to ask for.
    fn events(self) -> libc::c_short {
        match self {
            Interest::Read => libc::POLLIN,
            Interest::Write => libc::POLLOUT,
        }
    }
}

/// `poll(2)` reports these whether or not they were asked for. Each of them
/// wakes the task: its next read or write then returns the error (or the end
/// of file) instead of waiting for an event that will never come.
const ALWAYS_REPORTED: libc::c_short = libc::POLLERR | libc::POLLHUP | libc::POLLNVAL;

/// A registration's key, handed out once and never reused: an fd number is
/// reused as soon as its fd is closed, so it cannot tell an old wait from a
/// new one.
pub(crate) type Token = u64;

/// One task waiting for one fd.
struct Registration {
    fd: RawFd,
    interest: Interest,
    /// The task that registered, for the trace.
    task: TaskId,
    /// The waker of the task to wake: that of its most recent poll.
    waker: Waker,
}

/// The registrations of waiting socket futures, and the `poll(2)` set built
/// from them and the self-wake.
///
/// A registration is one-shot: it is removed when its fd comes back ready,
/// and its future registers again if it would still block. It is also
/// removed when its future is dropped, so a closed fd is never polled for a
/// task that stopped waiting. The self-wake is no registration: it is in
/// every `poll(2)` set, and wakes no task.
pub(crate) struct Reactor {
    /// Ordered by token, that is by age, so that wakes come in a stable order.
    registrations: BTreeMap<Token, Registration>,
    next_token: Token,
    /// The `poll(2)` set, rebuilt from the registrations before each call;
    /// kept to reuse its allocation. The self-wake's read end comes first.
    pollfds: Vec<libc::pollfd>,
    /// `tokens[i]` is the registration that `pollfds[i + 1]` was made from.
    tokens: Vec<Token>,
    /// Polled in every call, and drained when it is readable.
    self_wake: Arc<SelfWake>,
}

impl Reactor {
    /// A reactor with no registration, whose `poll(2)` also waits for
    /// `self_wake`.
    pub(crate) fn new(self_wake: Arc<SelfWake>) -> Self {
        Reactor {
            registrations: BTreeMap::new(),
            next_token: 0,
            pollfds: Vec::new(),
            tokens: Vec::new(),
            self_wake,
        }
    }

    /// Registers `waker`, of task `task`, to be woken when `fd` is ready for
    /// `interest`, and returns the registration's token.
    pub(crate) fn register(
        &mut self,
        fd: RawFd,
        interest: Interest,
        task: TaskId,
        waker: &Waker,
    ) -> Token {
        self.next_token += 1;
        let token = self.next_token;
        trace!("reactor: fd {fd} registered for {interest:?} (token {token})");
        let waker = waker.clone();
        let registration = Registration {
            fd,
            interest,
            task,
            waker,
        };
        self.registrations.insert(token, registration);
        token
    }

    /// Replaces the waker of registration `token`: a future must wake the
    /// waker it was most recently polled with. Returns `false` when the
    /// registration is gone because its fd came back ready.
    pub(crate) fn set_waker(&mut self, token: Token, waker: &Waker) -> bool {
        match self.registrations.get_mut(&token) {
            Some(registration) => {
                registration.waker.clone_from(waker);
                true
            }
            None => false,
        }
    }

    /// Removes registration `token`, if it has not fired yet.
    pub(crate) fn deregister(&mut self, token: Token) {
        if let Some(registration) = self.registrations.remove(&token) {
            trace!(
                "reactor: fd {} deregistered (token {token}): its future was dropped",
                registration.fd
            );
        }
    }

    /// Whether no task waits for an fd.
    pub(crate) fn is_empty(&self) -> bool {
        self.registrations.is_empty()
    }

    /// Waits in `poll(2)` until a registered fd is ready, a byte arrives on
    /// the self-wake, or `deadline` has passed (no deadline: until one of the
    /// others), then drains the self-wake, removes the registrations whose
    /// fds are ready and returns their wakers. A deadline of now only checks,
    /// without blocking.
    ///
    /// The wakers are returned rather than called so that the caller wakes
    /// them after releasing its borrow of the reactor: a waker may run any
    /// code.
    pub(crate) fn poll(&mut self, deadline: Option<Instant>) -> Vec<Waker> {
        self.pollfds.clear();
        self.tokens.clear();
        self.pollfds.push(libc::pollfd {
            fd: self.self_wake.fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        for (&token, registration) in &self.registrations {
            self.pollfds.push(libc::pollfd {
                fd: registration.fd,
                events: registration.interest.events(),
                revents: 0,
            });
            self.tokens.push(token);
        }
        let fds = self.pollfds.len();
        loop {
            // Recomputed on every try, so a call interrupted by a signal
            // still returns at the deadline, not a full timeout after it.
            let timeout =
                deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
            // The self-wake counts among the fds.
            match timeout {
                Some(timeout) => trace!("idle: poll(2) on {fds} fds, timeout {timeout:?}"),
                None => trace!("idle: poll(2) on {fds} fds, no timeout"),
            }
            match poll_fds(&mut self.pollfds, timeout) {
                Ok(ready) => {
                    trace!("idle: awake, {ready} fds ready");
                    break;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {
                    trace!("poll(2): interrupted by a signal, calling it again");
                }
                Err(err) => panic!("poll(2) failed: {err}"),
            }
        }
        if self.pollfds[0].revents != 0 {
            // No task waits for it: a waker wrote to end the wait. The byte
            // only says "look at the ready queue", so it wakes nobody.
            self.self_wake.drain();
        }
        let mut woken = Vec::new();
        for (pollfd, token) in self.pollfds[1..].iter().zip(&self.tokens) {
            if pollfd.revents & (pollfd.events | ALWAYS_REPORTED) == 0 {
                continue;
            }
            let registration = self
                .registrations
                .remove(token)
                .expect("the registrations do not change during poll");
            trace!(
                "fd {} ready: task {} ({})",
                registration.fd,
                registration.task,
                EventNames(pollfd.revents)
            );
            woken.push(registration.waker);
        }
        woken
    }
}

/// One `poll(2)` call: fills in the `revents` of `fds` and returns how many
/// are non-zero, or the error. `None` waits with no timeout.
///
/// It is `ppoll`, the variant of `poll` that takes the timeout as a
/// `timespec` in nanoseconds rather than in whole milliseconds: nothing is
/// rounded, so a timer is never woken early, and not a millisecond late
/// either.
fn poll_fds(fds: &mut [libc::pollfd], timeout: Option<Duration>) -> io::Result<usize> {
    let timespec = timeout.map(|timeout| libc::timespec {
        tv_sec: timeout.as_secs().try_into().unwrap_or(libc::time_t::MAX),
        tv_nsec: timeout.subsec_nanos() as _, // under a billion: fits any `tv_nsec`
    });
    let timespec: *const libc::timespec = match &timespec {
        Some(timespec) => timespec,
        None => std::ptr::null(),
    };
    // The crate's only unsafe code: lib.rs denies it everywhere else.
    #[allow(unsafe_code)]
    // SAFETY: `fds` is a live, exclusively borrowed array of `fds.len()`
    // pollfds, which ppoll writes the `revents` of and nothing else;
    // `timespec` is null or points to a timespec that outlives the call; a
    // null signal mask leaves the thread's signal mask as it is.
    let ready = unsafe {
        libc::ppoll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            timespec,
            std::ptr::null(),
        )
    };
    if ready < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(ready as usize)
}

/// Shows `revents` by name for the trace: `POLLIN|POLLHUP`.
struct EventNames(libc::c_short);

impl std::fmt::Display for EventNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names = [
            (libc::POLLIN, "POLLIN"),
            (libc::POLLPRI, "POLLPRI"),
            (libc::POLLOUT, "POLLOUT"),
            (libc::POLLERR, "POLLERR"),
            (libc::POLLHUP, "POLLHUP"),
            (libc::POLLNVAL, "POLLNVAL"),
        ];
        let mut separator = "";
        for (bit, name) in names {
            if self.0 & bit != 0 {
                write!(f, "{separator}{name}")?;
                separator = "|";
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    /// A waker that counts its wakes.
    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A reactor with a self-wake of its own.
    fn reactor() -> Reactor {
        Reactor::new(Arc::new(SelfWake::new().unwrap()))
    }

    /// Polls with a deadline long after the test should be over, and wakes
    /// the wakers it returns.
    fn poll_and_wake(reactor: &mut Reactor) {
        for waker in reactor.poll(Some(Instant::now() + Duration::from_secs(5))) {
            waker.wake();
        }
    }

    #[test]
    fn a_ready_fd_wakes_every_wait_for_it_once() {
        let (reader, mut writer) = io::pipe().unwrap();
        let mut reactor = reactor();
        let counts = [Arc::new(Count::default()), Arc::new(Count::default())];
        for count in &counts {
            let waker = Waker::from(count.clone());
            reactor.register(reader.as_raw_fd(), Interest::Read, 0, &waker);
        }
        writer.write_all(b"x").unwrap();
        poll_and_wake(&mut reactor);
        for count in &counts {
            assert_eq!(count.0.load(Ordering::SeqCst), 1);
        }
        assert!(reactor.is_empty(), "a registration is one-shot");
    }

    #[test]
    fn a_hang_up_without_data_wakes_a_reader() {
        // A pipe whose writer is closed reports POLLHUP alone, not POLLIN: a
        // reactor that looked only at the events it asked for would sleep
        // through it.
        let (reader, writer) = io::pipe().unwrap();
        let mut reactor = reactor();
        let count = Arc::new(Count::default());
        let waker = Waker::from(count.clone());
        reactor.register(reader.as_raw_fd(), Interest::Read, 0, &waker);
        drop(writer);
        poll_and_wake(&mut reactor);
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "slept through POLLHUP");
    }

    #[test]
    fn a_deregistered_wait_is_not_woken() {
        let (reader, mut writer) = io::pipe().unwrap();
        let mut reactor = reactor();
        let token = reactor.register(reader.as_raw_fd(), Interest::Read, 0, Waker::noop());
        reactor.deregister(token);
        writer.write_all(b"x").unwrap();
        assert!(reactor.poll(Some(Instant::now())).is_empty());
        assert!(!reactor.set_waker(token, Waker::noop()));
    }

    #[test]
    fn a_self_wake_ends_a_poll_with_no_deadline_and_wakes_no_task() {
        let self_wake = Arc::new(SelfWake::new().unwrap());
        let mut reactor = Reactor::new(self_wake.clone());
        let count = Arc::new(Count::default());
        let (reader, _writer) = io::pipe().unwrap();
        reactor.register(
            reader.as_raw_fd(),
            Interest::Read,
            0,
            &Waker::from(count.clone()),
        );
        let waking = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            self_wake.wake();
        });
        assert!(reactor.poll(None).is_empty(), "woke a task");
        waking.join().unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        // Drained: the next poll waits again.
        let start = Instant::now();
        assert!(
            reactor
                .poll(Some(start + Duration::from_millis(20)))
                .is_empty()
        );
        assert!(
            start.elapsed() >= Duration::from_millis(20),
            "the byte was not drained"
        );
    }

    #[test]
    fn a_timeout_is_never_cut_short() {
        let mut reactor = reactor();
        for micros in [0, 1, 999, 1000, 1001, 2500] {
            let wanted = Duration::from_micros(micros);
            let start = Instant::now();
            assert!(reactor.poll(Some(start + wanted)).is_empty());
            let waited = start.elapsed();
            assert!(
                waited >= wanted,
                "returned after {waited:?}, wanted {wanted:?}"
            );
        }
    }
}
