//! Sockets and the reactor: many clients, partial writes, refused connects,
//! closes and resets, starvation, wakers, abandoned waits, misuse.

mod common;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use common::{CountPolls, PollOnce, panic_message, tcp_pair, watchdog};
use exp6_combined::net::{TcpListener, TcpStream};
use exp6_combined::{Task, echo, run, sleep, spawn, task, yield_now};

const MS: Duration = Duration::from_millis(1);

/// A port nothing listens on: bound, then closed again.
fn closed_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[test]
fn many_concurrent_clients_are_all_echoed() {
    watchdog(60, || {
        const CLIENTS: usize = 200;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        // Counts the connections open at once, from the server's log.
        let open = Rc::new(Cell::new(0));
        let most_open = Rc::new(Cell::new(0));
        let log = {
            let (open, most_open) = (open.clone(), most_open.clone());
            move |line: &str| {
                if line.ends_with(": open") {
                    open.set(open.get() + 1);
                    most_open.set(most_open.get().max(open.get()));
                } else {
                    assert!(line.contains("bytes echoed"), "{line}");
                    open.set(open.get() - 1);
                }
            }
        };
        let ok = Rc::new(Cell::new(0));
        let mut tasks = vec![task(echo::serve(
            listener,
            Some(CLIENTS),
            echo::Config::default(),
            log,
        ))];
        tasks.extend((0..CLIENTS).map(|id| {
            let ok = ok.clone();
            task(async move {
                echo::client(addr, id, 10).await.unwrap();
                ok.set(ok.get() + 1);
            })
        }));
        run(tasks);
        assert_eq!(ok.get(), CLIENTS);
        assert_eq!(open.get(), 0, "every connection was closed");
        // One thread served them side by side, not one after another.
        assert!(
            most_open.get() > CLIENTS / 2,
            "at most {} open",
            most_open.get()
        );
    });
}

#[test]
fn four_mib_reach_a_slow_reader_whole() {
    watchdog(60, || {
        const LEN: usize = 4 << 20;
        let data: Rc<Vec<u8>> = Rc::new((0..LEN).map(|i| (i % 251) as u8).collect());
        let received = Rc::new(RefCell::new(Vec::with_capacity(LEN)));
        let writer_polls = Rc::new(Cell::new(0));
        let (data_in, received_in, polls_in) =
            (data.clone(), received.clone(), writer_polls.clone());
        run(vec![task(async move {
            let (writer, reader) = tcp_pair().await;
            // Small socket buffers: the write has to wait for room many times.
            socket2::SockRef::from(&writer)
                .set_send_buffer_size(16 << 10)
                .unwrap();
            socket2::SockRef::from(&reader)
                .set_recv_buffer_size(16 << 10)
                .unwrap();
            let writing = CountPolls {
                polls: polls_in,
                inner: Box::pin(async move {
                    writer.write_all(&data_in).await.unwrap();
                    // Dropping `writer` closes it: the reader then reads 0.
                }),
            };
            let writing = spawn(writing);
            let mut buf = vec![0; 7919];
            loop {
                let n = reader.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                received_in.borrow_mut().extend_from_slice(&buf[..n]);
                sleep(MS / 4).await; // slow: the writer's buffers fill up
            }
            writing.await;
        })]);
        assert!(*received.borrow() == *data, "the data came back changed");
        assert!(
            writer_polls.get() > 10,
            "the write never had to wait ({} polls): the test proves nothing",
            writer_polls.get()
        );
    });
}

#[test]
fn a_connect_to_a_closed_port_is_refused() {
    watchdog(30, || {
        let addr = closed_port();
        let result = Rc::new(RefCell::new(None));
        let out = result.clone();
        run(vec![task(async move {
            *out.borrow_mut() = Some(TcpStream::connect(addr).await.map(drop));
        })]);
        let result = result.borrow_mut().take().unwrap();
        let err = result.expect_err("a connect to a closed port succeeded");
        assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
    });
}

#[test]
fn connect_tries_each_address_until_one_accepts() {
    watchdog(30, || {
        run(vec![task(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let accepting = spawn(async move { listener.accept().await.unwrap() });
            let (closed, other_closed) = (closed_port(), closed_port());
            let client = TcpStream::connect(&[closed, addr][..]).await.unwrap();
            assert_eq!(client.peer_addr().unwrap(), addr);
            accepting.await;
            // None accepts: the error is the last address's.
            let err = TcpStream::connect(&[closed, other_closed][..])
                .await
                .map(drop)
                .expect_err("a connect to two closed ports succeeded");
            assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused, "{err}");
            let err = TcpStream::connect(&[][..] as &[SocketAddr])
                .await
                .map(drop)
                .expect_err("a connect to no address succeeded");
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{err}");
        })]);
    });
}

#[test]
fn connect_resolves_a_host_name() {
    watchdog(30, || {
        run(vec![task(async {
            // Whether `localhost` is `::1` first or not, 127.0.0.1 answers.
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let port = listener.local_addr().unwrap().port();
            let accepting = spawn(async move { listener.accept().await.unwrap() });
            let client = TcpStream::connect(format!("localhost:{port}"))
                .await
                .unwrap();
            let (server, _) = accepting.await;
            assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
        })]);
    });
}

#[test]
fn set_nodelay_sets_tcp_nodelay() {
    watchdog(30, || {
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            let nodelay =
                |stream: &TcpStream| socket2::SockRef::from(stream).tcp_nodelay().unwrap();
            assert!(!nodelay(&near), "TCP_NODELAY is on by default");
            near.set_nodelay(true).unwrap();
            assert!(nodelay(&near));
            assert!(!nodelay(&far), "set on the wrong socket");
            near.set_nodelay(false).unwrap();
            assert!(!nodelay(&near));
        })]);
    });
}

#[test]
fn a_read_after_the_peer_closes_returns_what_was_sent_then_zero() {
    watchdog(30, || {
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            let closer = spawn(async move {
                sleep(10 * MS).await;
                far.write_all(b"last words").await.unwrap();
            }); // `far` is dropped, so closed, when the task ends
            let mut buf = [0; 64];
            let mut got = Vec::new();
            loop {
                let n = near.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            assert_eq!(got, b"last words");
            assert_eq!(near.read(&mut buf).await.unwrap(), 0, "0 again");
            closer.await;
        })]);
    });
}

#[test]
fn a_half_closed_stream_still_receives() {
    watchdog(30, || {
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            near.write_all(b"request").await.unwrap();
            near.shutdown_write().unwrap();
            let mut buf = [0; 64];
            let mut request = Vec::new();
            loop {
                match far.read(&mut buf).await.unwrap() {
                    0 => break,
                    n => request.extend_from_slice(&buf[..n]),
                }
            }
            assert_eq!(request, b"request");
            far.write_all(b"reply").await.unwrap();
            drop(far);
            let n = near.read(&mut buf).await.unwrap();
            assert_eq!(&buf[..n], b"reply");
        })]);
    });
}

#[test]
fn a_reset_wakes_a_waiting_read() {
    watchdog(30, || {
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            let resetter = spawn(async move {
                sleep(20 * MS).await;
                reset(far);
            });
            let mut buf = [0; 64];
            // The read waits (nothing was sent) until the reset wakes it;
            // then it fails, or reads the end of file.
            let result = near.read(&mut buf).await;
            assert!(
                matches!(&result, Ok(0)) || result.is_err(),
                "read {result:?} from a reset connection"
            );
            resetter.await;
        })]);
    });
}

#[test]
fn a_reset_wakes_a_write_waiting_for_room() {
    watchdog(30, || {
        run(vec![task(async {
            let (near, far) = tcp_pair().await;
            let resetter = spawn(async move {
                sleep(20 * MS).await;
                reset(far);
            });
            // Nobody reads, so this fills both socket buffers and waits for
            // room that never comes, until the reset.
            let result = near.write_all(&vec![0; 64 << 20]).await;
            let err = result.expect_err("64 MiB written to a peer that never read");
            assert!(
                matches!(
                    err.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe
                ),
                "{err}"
            );
            resetter.await;
        })]);
    });
}

/// Closes `stream` with a reset (`SO_LINGER` 0) rather than a graceful close.
fn reset(stream: TcpStream) {
    socket2::SockRef::from(&stream)
        .set_linger(Some(Duration::ZERO))
        .unwrap();
}

#[test]
fn a_yielding_task_does_not_starve_a_reader() {
    watchdog(30, || {
        // The spinner yields until the reader has read, so the ready queue is
        // never empty and the loop never idles: only the check of the fds
        // between passes can notice the data.
        let done = Rc::new(Cell::new(false));
        let spinner = {
            let done = done.clone();
            task(async move {
                while !done.get() {
                    yield_now().await;
                }
            })
        };
        let reader = task(read_a_late_byte(done));
        run(vec![spinner, reader]);
    });
}

#[test]
fn a_chain_of_spawns_does_not_starve_a_reader() {
    watchdog(30, || {
        // Each link spawns the next and ends: the ready queue is empty at
        // the end of every pass, yet the loop never idles.
        fn link(done: Rc<Cell<bool>>) {
            if !done.get() {
                drop(spawn(async move { link(done) }));
            }
        }
        let done = Rc::new(Cell::new(false));
        let chain = {
            let done = done.clone();
            task(async move { link(done) })
        };
        let reader = task(read_a_late_byte(done));
        run(vec![reader, chain]);
    });
}

/// Reads one byte that its peer writes 10 ms later, then sets `done`: a
/// reader the busy tasks of the tests above must not starve.
async fn read_a_late_byte(done: Rc<Cell<bool>>) {
    let (near, far) = tcp_pair().await;
    let writer = spawn(async move {
        sleep(10 * MS).await;
        far.write_all(b"x").await.unwrap();
        far
    });
    let mut buf = [0; 1];
    assert_eq!(near.read(&mut buf).await.unwrap(), 1);
    done.set(true);
    writer.await;
}

#[test]
fn a_waiting_read_is_not_polled_until_data_arrives() {
    watchdog(30, || {
        let polls = Rc::new(Cell::new(0));
        let (polls_in, reader_polls) = (polls.clone(), polls.clone());
        run(vec![task(async move {
            let (near, far) = tcp_pair().await;
            let reader = CountPolls {
                polls: polls_in,
                inner: Box::pin(async move {
                    let mut buf = [0; 1];
                    assert_eq!(near.read(&mut buf).await.unwrap(), 1);
                }),
            };
            let reader = spawn(reader);
            // A busy neighbour keeps the loop turning while the reader waits.
            let start = Instant::now();
            while start.elapsed() < 30 * MS {
                yield_now().await;
            }
            far.write_all(b"x").await.unwrap();
            reader.await;
        })]);
        assert_eq!(
            reader_polls.get(),
            2,
            "polled once to start, once when ready"
        );
    });
}

#[test]
fn a_read_keeps_the_waker_it_was_last_polled_with() {
    watchdog(30, || {
        // The read moves from one task to another after its first poll: the
        // reactor must wake the second task, or `run` reports a deadlock.
        let handoff: Rc<RefCell<Option<Task>>> = Rc::default();
        let handoff_in = handoff.clone();
        run(vec![task(async move {
            let (near, far) = tcp_pair().await;
            let first = spawn(async move {
                let mut read = Box::pin(async move {
                    let mut buf = [0; 1];
                    assert_eq!(near.read(&mut buf).await.unwrap(), 1);
                });
                assert!(PollOnce(read.as_mut()).await.is_pending());
                *handoff_in.borrow_mut() = Some(read);
            });
            first.await;
            let read = handoff.borrow_mut().take().expect("handed over");
            let second = spawn(read);
            sleep(10 * MS).await;
            far.write_all(b"x").await.unwrap();
            second.await;
        })]);
    });
}

#[test]
fn an_abandoned_read_leaves_no_registration_behind() {
    watchdog(30, || {
        // Left behind, the read's registration would keep `run` waiting in
        // poll(2), with no timeout, for data that never comes, instead of
        // reporting that nothing can wake the task.
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                let (near, _far) = tcp_pair().await;
                {
                    let mut buf = [0; 1];
                    let mut read = pin!(near.read(&mut buf));
                    assert!(PollOnce(read.as_mut()).await.is_pending());
                }
                std::future::pending::<()>().await;
            })]);
        }));
        let message = panic_message(&*caught.expect_err("should panic"));
        assert!(message.contains("nothing can wake them"), "{message}");
    });
}

#[test]
fn sleeps_never_end_early_while_sockets_are_waited_for() {
    watchdog(60, || {
        let mut tasks: Vec<Task> = (0..100)
            .map(|i| {
                let wanted = Duration::from_micros(i * 137 % 5000);
                task(async move {
                    let start = Instant::now();
                    sleep(wanted).await;
                    let slept = start.elapsed();
                    assert!(slept >= wanted, "woke after {slept:?}, wanted {wanted:?}");
                })
            })
            .collect();
        // A read that waits for the whole run, so every idle is a poll(2)
        // with registrations as well as a timeout.
        tasks.push(task(async {
            let (near, far) = tcp_pair().await;
            let writer = spawn(async move {
                sleep(20 * MS).await;
                far.write_all(b"x").await.unwrap();
            });
            let mut buf = [0; 1];
            assert_eq!(near.read(&mut buf).await.unwrap(), 1);
            writer.await;
        }));
        run(tasks);
    });
}

#[test]
fn a_server_and_its_clients_in_one_run_finish() {
    watchdog(30, || {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let lines = Rc::new(RefCell::new(Vec::new()));
        let log = {
            let lines = lines.clone();
            move |line: &str| lines.borrow_mut().push(line.to_string())
        };
        run(vec![
            task(echo::serve(listener, Some(2), echo::Config::default(), log)),
            task(async move { echo::client(addr, 0, 3).await.unwrap() }),
            task(async move { echo::client(addr, 1, 3).await.unwrap() }),
        ]);
        let lines = lines.borrow();
        assert_eq!(lines.len(), 4, "{lines:?}");
        assert_eq!(
            lines
                .iter()
                .filter(|l| l.contains("closed, 27 bytes echoed"))
                .count(),
            2,
            "{lines:?}"
        );
    });
}

#[test]
fn bind_reports_an_address_in_use() {
    let first = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = first.local_addr().unwrap();
    let err = TcpListener::bind(addr).expect_err("bound one port twice");
    assert_eq!(err.kind(), io::ErrorKind::AddrInUse, "{err}");
}

#[test]
fn accept_reports_the_peer_address() {
    watchdog(30, || {
        run(vec![task(async {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let accepting = spawn(async move { listener.accept().await.unwrap() });
            let client = TcpStream::connect(addr).await.unwrap();
            let (server, peer) = accepting.await;
            assert_eq!(peer, client.local_addr().unwrap());
            assert_eq!(server.peer_addr().unwrap(), client.local_addr().unwrap());
            assert_eq!(client.peer_addr().unwrap(), addr);
        })]);
    });
}

#[test]
fn connect_polled_outside_run_panics_naming_it() {
    // A non-blocking connect returns "in progress" even on loopback: the
    // wait for the handshake is what needs a scheduler.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let caught = panic::catch_unwind(|| {
        let mut connect = pin!(TcpStream::connect(addr));
        let _ = connect
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()));
    });
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`TcpStream::connect`") && message.contains("outside `run`"),
        "{message}"
    );
}

#[test]
fn read_polled_outside_run_panics_naming_it() {
    // The streams outlive the `run` that made them; nothing was sent, so
    // the read has to wait, and that needs a scheduler.
    let pair = Rc::new(RefCell::new(None));
    let out = pair.clone();
    run(vec![task(async move {
        *out.borrow_mut() = Some(tcp_pair().await);
    })]);
    let (near, _far) = pair.borrow_mut().take().unwrap();
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let mut buf = [0; 1];
        let mut read = pin!(near.read(&mut buf));
        let _ = read.as_mut().poll(&mut Context::from_waker(Waker::noop()));
    }));
    let message = panic_message(&*caught.expect_err("should panic"));
    assert!(
        message.contains("`TcpStream::read`") && message.contains("outside `run`"),
        "{message}"
    );
}
