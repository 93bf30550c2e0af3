//! The references for the cost of waiting on many fds: one `poll(2)` call
//! and one `epoll_wait(2)` call over `n` idle sockets plus one ready one,
//! timeout 0, as the kernel's own lower bound for a scheduler's idle step.
//! `poll` walks every fd on every call; epoll keeps a ready list. The
//! sockets are loopback TCP connections, like the runtimes' idle fds: the
//! kernel's poll of a TCP socket costs more than that of a Unix one.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::Instant;

use crate::sample::{self, Plan};

/// `n` idle fds (n/2 loopback TCP connections, both ends) and a connection
/// whose read end always has a byte waiting.
struct Fds {
    idle: Vec<TcpStream>,
    ready: (TcpStream, TcpStream),
}

/// A connected pair on loopback.
fn tcp_pair(listener: &TcpListener) -> [TcpStream; 2] {
    let client = TcpStream::connect(listener.local_addr().unwrap()).expect("connect");
    [client, listener.accept().expect("accept").0]
}

impl Fds {
    fn new(n: usize) -> Fds {
        let listener = TcpListener::bind(crate::work::loopback()).expect("bind");
        let idle = (0..n / 2).flat_map(|_| tcp_pair(&listener)).collect();
        let [mut tx, rx] = tcp_pair(&listener);
        tx.write_all(b"!").unwrap();
        // Wait until the byte has arrived: the ready fd must be ready.
        let mut byte = [0u8];
        while rx.peek(&mut byte).unwrap_or(0) == 0 {}
        Fds {
            idle,
            ready: (tx, rx),
        }
    }

    fn raw(&self) -> impl Iterator<Item = i32> + '_ {
        self.idle
            .iter()
            .map(AsRawFd::as_raw_fd)
            .chain([self.ready.1.as_raw_fd()])
    }
}

/// ns per `poll(2)` call over `n` idle fds and one ready one.
pub fn poll(n: usize, plan: Plan) -> Vec<f64> {
    let fds = Fds::new(n);
    let mut set: Vec<libc::pollfd> = fds
        .raw()
        .map(|fd| libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    sample::outside(plan, |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            // SAFETY: `set` is a valid array of `set.len()` pollfds that
            // lives across the call; the fds stay open (owned by `fds`).
            let ready = unsafe { libc::poll(set.as_mut_ptr(), set.len() as libc::nfds_t, 0) };
            assert_eq!(ready, 1, "poll: exactly the one ready fd");
        }
        start.elapsed()
    })
}

/// ns per `epoll_wait(2)` call with `n` idle fds and one ready one
/// registered (level-triggered, so the ready one stays ready).
pub fn epoll(n: usize, plan: Plan) -> Vec<f64> {
    let fds = Fds::new(n);
    // SAFETY: plain syscall; the result is checked before use.
    let epfd = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    assert!(epfd >= 0, "epoll_create1");
    // SAFETY: `epfd` is a fresh fd nobody else owns.
    let epfd: OwnedFd = unsafe { std::os::fd::FromRawFd::from_raw_fd(epfd) };
    for fd in fds.raw() {
        let mut event = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: both fds are open; `event` is valid for the call.
        let rc = unsafe { libc::epoll_ctl(epfd.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut event) };
        assert_eq!(rc, 0, "epoll_ctl");
    }
    let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
    sample::outside(plan, |iters| {
        let start = Instant::now();
        for _ in 0..iters {
            // SAFETY: `events` is a valid, writable array of 64 events.
            let ready = unsafe {
                libc::epoll_wait(
                    epfd.as_raw_fd(),
                    events.as_mut_ptr(),
                    events.len() as i32,
                    0,
                )
            };
            assert_eq!(ready, 1, "epoll_wait: exactly the one ready fd");
        }
        start.elapsed()
    })
}

/// Raises the soft limit on open fds to the hard limit: 10,000 idle fds
/// need more than the usual 1024.
pub fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is valid and writable for both calls.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        }
    }
    limit.rlim_cur
}
