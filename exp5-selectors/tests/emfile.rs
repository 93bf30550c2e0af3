//! The echo server when the process runs out of file descriptors: accept
//! fails with `EMFILE`, the server logs it once, pauses between tries, and
//! serves the waiting client once an fd is free again.
//!
//! TEST-ONLY UNSAFE: this test lowers the process's `RLIMIT_NOFILE` with
//! `libc::setrlimit`, which affects every thread of the process. That is
//! why it is a test binary of its own, with this one test in it.

mod common;

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use common::watchdog;
use exp5_selectors::net::TcpListener;
use exp5_selectors::{echo, run, task};

/// This process's `RLIMIT_NOFILE`.
fn fd_limit() -> libc::rlimit {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY (test only): `limit` is a valid rlimit for getrlimit to fill.
    #[allow(unsafe_code)]
    let result = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    assert_eq!(result, 0, "getrlimit");
    limit
}

/// Sets this process's `RLIMIT_NOFILE`.
fn set_fd_limit(limit: libc::rlimit) {
    // SAFETY (test only): `limit` is a valid rlimit for setrlimit to read.
    #[allow(unsafe_code)]
    let result = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) };
    assert_eq!(result, 0, "setrlimit");
}

#[test]
fn out_of_fds_the_server_logs_once_pauses_and_recovers() {
    watchdog(60, || {
        let (addr_tx, addr_rx) = mpsc::channel();
        let (log_tx, log_rx) = mpsc::channel();
        thread::spawn(move || {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            run(vec![task(echo::serve(listener, None, move |line| {
                let _ = log_tx.send(line.to_string());
            }))]);
        });
        let addr = addr_rx.recv().unwrap();

        // New fds take the lowest free number. Allow numbers up to the
        // lowest free one only: the client's socket gets it, and the
        // server's accept finds none left.
        let lowest_free = File::open("/dev/null").unwrap().as_raw_fd();
        let original = fd_limit();
        set_fd_limit(libc::rlimit {
            rlim_cur: lowest_free as libc::rlim_t + 1,
            rlim_max: original.rlim_max,
        });
        let client = TcpStream::connect(addr);
        let failure = log_rx.recv_timeout(Duration::from_secs(20));
        // Let the server fail a few more times before giving fds back.
        thread::sleep(Duration::from_millis(350));
        set_fd_limit(original);

        let mut client = client.expect("the client's own socket fits the limit");
        let failure = failure.expect("the server logged nothing");
        assert!(
            failure.contains("accept failed") && failure.contains("Too many open files"),
            "{failure}"
        );
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        client.write_all(b"served at last").unwrap();
        let mut echoed = [0; 14];
        client.read_exact(&mut echoed).unwrap();
        assert_eq!(&echoed, b"served at last");
        let next = log_rx.recv_timeout(Duration::from_secs(20)).unwrap();
        assert!(
            next.contains("connection 1 from"),
            "logged again before it recovered: {next}"
        );
    });
}
