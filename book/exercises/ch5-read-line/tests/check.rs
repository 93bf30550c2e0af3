//! Checks `read_exact` and `LineReader` against a peer on another thread
//! that writes in pieces, with pauses, over a real loopback connection.

use std::cell::RefCell;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use ch5_read_line::{LineReader, read_exact};
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

/// A peer on its own thread: connects to `addr`, writes each piece after a
/// 30 ms pause (so that each arrives on its own), then closes.
fn peer(addr: SocketAddr, pieces: &'static [&'static [u8]]) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_nodelay(true).unwrap();
        for piece in pieces {
            thread::sleep(Duration::from_millis(30));
            stream.write_all(piece).unwrap();
        }
    })
}

/// Accepts one connection from a [`peer`] writing `pieces`, and runs
/// `reader` on it.
fn with_peer<F, Fut>(pieces: &'static [&'static [u8]], reader: F)
where
    F: FnOnce(TcpStream) -> Fut + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let peer = peer(listener.local_addr().unwrap(), pieces);
    run(vec![task(async move {
        let (stream, _) = listener.accept().await.unwrap();
        reader(stream).await;
    })]);
    peer.join().unwrap();
}

#[test]
fn read_exact_gathers_pieces_until_the_buffer_is_full() {
    watchdog(30, || {
        with_peer(&[b"abc", b"defg", b"hij", b"kl"], |stream| async move {
            let mut buf = [0; 10];
            read_exact(&stream, &mut buf).await.unwrap();
            assert_eq!(&buf, b"abcdefghij");
            // Two bytes left, then the end of file: four cannot be read.
            let mut buf = [0; 4];
            let err = read_exact(&stream, &mut buf).await.unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        });
    });
}

#[test]
fn lines_split_across_pieces_come_whole_and_in_order() {
    watchdog(30, || {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let lines_read = lines.clone();
        with_peer(
            &[b"hello\nwor", b"ld\n", b"\nla", b"st"],
            |stream| async move {
                let mut reader = LineReader::new(stream);
                while let Some(line) = reader.read_line().await.unwrap() {
                    lines_read
                        .borrow_mut()
                        .push(String::from_utf8(line).unwrap());
                }
                // And it stays at the end.
                assert_eq!(reader.read_line().await.unwrap(), None);
            },
        );
        assert_eq!(*lines.borrow(), ["hello", "world", "", "last"]);
    });
}

#[test]
fn lines_in_one_piece_are_not_lost_between_calls() {
    watchdog(30, || {
        let lines = Rc::new(RefCell::new(Vec::new()));
        let lines_read = lines.clone();
        with_peer(&[b"one\ntwo\nthree\n"], |stream| async move {
            let mut reader = LineReader::new(stream);
            while let Some(line) = reader.read_line().await.unwrap() {
                lines_read
                    .borrow_mut()
                    .push(String::from_utf8(line).unwrap());
            }
        });
        assert_eq!(*lines.borrow(), ["one", "two", "three"]);
    });
}

#[test]
fn a_long_line_spans_many_reads() {
    watchdog(30, || {
        const LONG: &[u8] = &[b'x'; 100_000];
        with_peer(&[LONG, b"\nend\n"], |stream| async move {
            let mut reader = LineReader::new(stream);
            let line = reader.read_line().await.unwrap().unwrap();
            assert_eq!(line.len(), LONG.len());
            assert_eq!(reader.read_line().await.unwrap().unwrap(), b"end");
            assert_eq!(reader.read_line().await.unwrap(), None);
        });
    });
}
