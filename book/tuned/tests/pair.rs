//! `UnixStream::pair`: ping-pong, a write larger than the buffers, a
//! half-close, two `run`s on two threads, misuse outside `run`.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Waker};
use std::thread;

use common::{CountPolls, panic_message, watchdog};
use exp6_tuned::net::UnixStream;
use exp6_tuned::{run, spawn, task};

#[test]
fn a_thousand_bytes_ping_pong_in_order() {
    watchdog(30, || {
        const ROUNDS: u32 = 1000;
        let answerer_polls = Rc::new(Cell::new(0));
        let rounds = Rc::new(Cell::new(0));
        let (polls_in, rounds_in) = (answerer_polls.clone(), rounds.clone());
        run(vec![task(async move {
            let (asker, answerer) = UnixStream::pair().unwrap();
            // The answerer gets byte n and sends n + 1 back; the asker then
            // sends n + 2. Each side has to wait for nearly every byte.
            let answering = spawn(CountPolls {
                polls: polls_in,
                inner: Box::pin(async move {
                    let mut byte = [0];
                    for round in 0..ROUNDS {
                        assert_eq!(answerer.read(&mut byte).await.unwrap(), 1);
                        assert_eq!(byte[0], (2 * round) as u8, "round {round}");
                        answerer
                            .write_all(&[byte[0].wrapping_add(1)])
                            .await
                            .unwrap();
                    }
                    assert_eq!(answerer.read(&mut byte).await.unwrap(), 0, "no stray byte");
                }),
            });
            let mut byte = [0];
            for round in 0..ROUNDS {
                asker.write_all(&[(2 * round) as u8]).await.unwrap();
                assert_eq!(asker.read(&mut byte).await.unwrap(), 1);
                assert_eq!(byte[0], (2 * round + 1) as u8, "round {round}");
                rounds_in.set(rounds_in.get() + 1);
            }
            drop(asker);
            answering.await;
        })]);
        assert_eq!(rounds.get(), ROUNDS);
        assert!(
            answerer_polls.get() > ROUNDS / 2,
            "the answerer never had to wait ({} polls): the test proves nothing",
            answerer_polls.get()
        );
    });
}

#[test]
fn four_mib_cross_whole_with_waits_on_both_sides() {
    watchdog(60, || {
        const LEN: usize = 4 << 20;
        let data: Rc<Vec<u8>> = Rc::new((0..LEN).map(|i| (i % 251) as u8).collect());
        let received = Rc::new(RefCell::new(Vec::with_capacity(LEN)));
        let writer_polls = Rc::new(Cell::new(0));
        let reader_polls = Rc::new(Cell::new(0));
        let (writer, reader) = UnixStream::pair().unwrap();
        let data_in = data.clone();
        let writing = CountPolls {
            polls: writer_polls.clone(),
            inner: Box::pin(async move {
                writer.write_all(&data_in).await.unwrap();
                // Dropping `writer` closes it: the reader then reads 0.
            }),
        };
        let received_in = received.clone();
        let reading = CountPolls {
            polls: reader_polls.clone(),
            inner: Box::pin(async move {
                let mut buf = vec![0; 7919];
                loop {
                    let n = reader.read(&mut buf).await.unwrap();
                    if n == 0 {
                        break;
                    }
                    received_in.borrow_mut().extend_from_slice(&buf[..n]);
                }
            }),
        };
        run(vec![task(reading), task(writing)]);
        assert!(*received.borrow() == *data, "the data came through changed");
        // Far more than a socket buffer: the writer fills it and waits, the
        // reader empties it and waits, over and over.
        for (side, polls) in [("writer", &writer_polls), ("reader", &reader_polls)] {
            assert!(
                polls.get() > 10,
                "the {side} never had to wait ({} polls): the test proves nothing",
                polls.get()
            );
        }
    });
}

#[test]
fn a_half_closed_end_still_receives() {
    watchdog(30, || {
        let reply = Rc::new(RefCell::new(Vec::new()));
        let reply_in = reply.clone();
        run(vec![task(async move {
            let (near, far) = UnixStream::pair().unwrap();
            let answering = spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0; 64];
                // Only the end of the stream tells the request is complete.
                loop {
                    match far.read(&mut buf).await.unwrap() {
                        0 => break,
                        n => request.extend_from_slice(&buf[..n]),
                    }
                }
                assert_eq!(request, b"hello");
                far.write_all(b"got it").await.unwrap();
            });
            near.write_all(b"hello").await.unwrap();
            near.shutdown_write().unwrap();
            // `near` is still open: its reading side outlives the half-close.
            let mut buf = [0; 64];
            loop {
                match near.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => reply_in.borrow_mut().extend_from_slice(&buf[..n]),
                }
            }
            answering.await;
        })]);
        assert_eq!(*reply.borrow(), b"got it");
    });
}

#[test]
fn a_pair_connects_runs_on_two_threads() {
    watchdog(30, || {
        let (here, there) = UnixStream::pair().unwrap();
        // The other thread's `run` echoes every byte back, plus one.
        let echoer = thread::spawn(move || {
            run(vec![task(async move {
                let mut byte = [0];
                while there.read(&mut byte).await.unwrap() == 1 {
                    there.write_all(&[byte[0] + 1]).await.unwrap();
                }
            })]);
        });
        run(vec![task(async move {
            let mut byte = [0];
            for n in 0..100 {
                here.write_all(&[n]).await.unwrap();
                assert_eq!(here.read(&mut byte).await.unwrap(), 1);
                assert_eq!(byte[0], n + 1);
            }
        })]);
        echoer.join().unwrap();
    });
}

#[test]
fn read_polled_outside_run_panics_naming_it() {
    // Under a watchdog: on a blocking socket, the read would wait for ever.
    watchdog(30, || {
        let (near, _far) = UnixStream::pair().unwrap();
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut buf = [0; 1];
            let mut read = pin!(near.read(&mut buf));
            let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(
            message.contains("`UnixStream::read`") && message.contains("outside `run`"),
            "{message}"
        );
    });
}

#[test]
fn write_all_polled_outside_run_panics_naming_it() {
    watchdog(30, || {
        // More than the socket buffer holds: the write has to wait for room.
        let (near, _far) = UnixStream::pair().unwrap();
        let data = vec![0; 4 << 20];
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let mut write = pin!(near.write_all(&data));
            let _ = write.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(
            message.contains("`UnixStream::write_all`") && message.contains("outside `run`"),
            "{message}"
        );
    });
}
