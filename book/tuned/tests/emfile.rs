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
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::watchdog;
use exp6_tuned::net::TcpListener;
use exp6_tuned::{echo, run, task};

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
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Connected before the server runs: the connection waits in the
        // listener's backlog, and the client already has its fd.
        let mut client = TcpStream::connect(addr).unwrap();

        // A limit a little above the fds open now, so that filling it up
        // takes few files; whatever else the process opens meanwhile, the
        // server fills every number left before its first accept.
        let original = fd_limit();
        let open_now = File::open("/dev/null").unwrap().as_raw_fd() as libc::rlim_t;
        set_fd_limit(libc::rlimit {
            rlim_cur: open_now + 32,
            rlim_max: original.rlim_max,
        });
        let filler: Arc<Mutex<Vec<File>>> = Arc::default();
        let server_filler = filler.clone();
        let (log_tx, log_rx) = mpsc::channel();
        thread::spawn(move || {
            run(vec![task(async move {
                {
                    let mut files = server_filler.lock().unwrap();
                    while let Ok(file) = File::open("/dev/null") {
                        files.push(file);
                    }
                }
                echo::serve(listener, None, echo::Config::default(), move |line| {
                    let _ = log_tx.send(line.to_string());
                })
                .await
            })]);
        });

        let failure = log_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the server logged nothing");
        assert!(
            failure.contains("accept failed") && failure.contains("Too many open files"),
            "{failure}"
        );
        // Let the server fail a few more times before giving fds back.
        thread::sleep(Duration::from_millis(350));
        filler.lock().unwrap().clear();
        set_fd_limit(original);

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
