//! Checks `read_timeout` over a real loopback connection whose peer, on
//! another thread, writes late or early.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use ch5_read_timeout::read_timeout;
use exp5_selectors::net::{TcpListener, TcpStream};
use exp5_selectors::{run, task};

/// Runs `scenario` on its own thread and fails if it has not finished after
/// `seconds`, so that a hang is a failure, not a test run that never ends.
fn watchdog(seconds: u64, scenario: impl FnOnce() + Send + 'static) {
    let (done_tx, done_rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        scenario();
        let _ = done_tx.send(());
    });
    match done_rx.recv_timeout(Duration::from_secs(seconds)) {
        Ok(()) => worker.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(worker.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("still running after {seconds} s"),
    }
}

/// A peer on its own thread: connects to `addr`, waits `delay`, writes
/// `bytes`, then waits for the reader's side to close.
fn peer(addr: SocketAddr, delay: Duration, bytes: &'static [u8]) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        thread::sleep(delay);
        stream.write_all(bytes).unwrap();
        let _ = io::copy(&mut stream, &mut io::sink());
    })
}

/// Accepts one connection from a [`peer`], runs `reader` on it, and returns
/// how long `run` took.
fn with_peer<F, Fut>(delay: Duration, bytes: &'static [u8], reader: F) -> Duration
where
    F: FnOnce(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = peer(listener.local_addr().unwrap(), delay, bytes);
    let start = Instant::now();
    run(vec![task(async move {
        let (stream, _) = listener.accept().await.unwrap();
        reader(stream).await;
    })]);
    let took = start.elapsed();
    peer.join().unwrap();
    took
}

#[test]
fn data_that_arrives_in_time_is_read() {
    watchdog(30, || {
        with_peer(Duration::from_millis(20), b"ping", |stream| async move {
            let mut buf = [0; 16];
            let n = read_timeout(&stream, &mut buf, Duration::from_secs(10))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"ping");
        });
    });
}

#[test]
fn a_silent_peer_times_out_after_the_timeout() {
    watchdog(30, || {
        with_peer(Duration::from_millis(1000), b"late", |stream| async move {
            let mut buf = [0; 16];
            let start = Instant::now();
            let err = read_timeout(&stream, &mut buf, Duration::from_millis(100))
                .await
                .unwrap_err();
            let waited = start.elapsed();
            assert_eq!(err.kind(), io::ErrorKind::TimedOut);
            assert!(
                waited >= Duration::from_millis(100),
                "gave up after {waited:?}"
            );
            assert!(waited < Duration::from_millis(900), "waited {waited:?}");
            // The abandoned read left nothing behind: the stream still reads.
            let n = read_timeout(&stream, &mut buf, Duration::from_secs(10))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"late");
        });
    });
}

#[test]
fn a_read_that_wins_leaves_no_timer_to_wait_for() {
    watchdog(60, || {
        // `run` returns when no task is left and no timer is pending: a sleep
        // of the race kept alive after the read won would hold it 20 s.
        let took = with_peer(Duration::ZERO, b"now", |stream| async move {
            let mut buf = [0; 16];
            let n = read_timeout(&stream, &mut buf, Duration::from_secs(20))
                .await
                .unwrap();
            assert_eq!(&buf[..n], b"now");
        });
        assert!(took < Duration::from_secs(10), "run took {took:?}");
    });
}
