//! File descriptors: none is left open after `run`, the self-wake's
//! socketpair included, even by a waker kept past its run; a closed fd whose
//! number is reused never wakes the task that stopped waiting for it, nor
//! receives a late wake's byte.
//!
//! The tests watch the process's fd numbers, which every thread shares, so
//! they live in this test binary of their own and take turns.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::fs;
use std::future::poll_fn;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixStream;
use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::Duration;

use common::{CountPolls, PollOnce, open_fds, tcp_pair, watchdog};
use exp6_combined::net::{TcpListener, TcpStream};
use exp6_combined::{echo, run, sleep, spawn, spawn_blocking, task, yield_now};

const MS: Duration = Duration::from_millis(1);

/// Taken by each test, so that no other test opens fds meanwhile.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn no_fd_is_left_open_after_run() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(60, || {
        let before = open_fds();
        // A server and its clients, and waits abandoned half way.
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut tasks = vec![task(echo::serve(
            listener,
            Some(20),
            echo::Config::default(),
            |_| {},
        ))];
        tasks.extend(
            (0..20).map(|id| task(async move { echo::client(addr, id, 5).await.unwrap() })),
        );
        tasks.push(task(async {
            let idle = TcpListener::bind("127.0.0.1:0").unwrap();
            let mut accept = pin!(idle.accept());
            assert!(PollOnce(accept.as_mut()).await.is_pending());
            let (near, _far) = tcp_pair().await;
            let mut buf = [0; 1];
            let mut read = pin!(near.read(&mut buf));
            assert!(PollOnce(read.as_mut()).await.is_pending());
        }));
        run(tasks);
        assert_eq!(open_fds(), before, "fds left open by a run that finished");

        // A task's panic unwinds out of `run`, and the sockets of every task
        // are closed on the way.
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![
                task(async {
                    let (near, _far) = tcp_pair().await;
                    let mut buf = [0; 1];
                    let _ = near.read(&mut buf).await; // waits for ever
                }),
                task(async {
                    let _listener = TcpListener::bind("127.0.0.1:0").unwrap();
                    sleep(10 * MS).await;
                    panic!("failed on purpose");
                }),
            ])
        }));
        assert!(caught.is_err());
        assert_eq!(open_fds(), before, "fds left open by a run that panicked");
    });
}

#[test]
fn the_self_wake_socketpair_is_open_while_run_runs_and_closed_after() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(30, || {
        let before = open_fds();
        run(vec![task(async move {
            assert_eq!(open_fds(), before + 2, "the self-wake's two ends");
            spawn_blocking(|| ()).await;
        })]);
        assert_eq!(
            open_fds(),
            before,
            "fds left open by a run that used the pool"
        );

        // A task's panic unwinds out of `run` while a pool job is in flight
        // and a socket is open.
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![task(async {
                let (_near, _far) = tcp_pair().await;
                let mut job = Box::pin(spawn_blocking(|| std::thread::sleep(50 * MS)));
                assert!(PollOnce(job.as_mut()).await.is_pending());
                panic!("failed on purpose");
            })])
        }));
        assert!(caught.is_err());
        assert_eq!(open_fds(), before, "fds left open by a run that panicked");
    });
}

#[test]
fn an_abandoned_read_never_wakes_its_task_for_a_socket_that_reuses_its_fd_number() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(30, || {
        let old_fd = Rc::new(Cell::new(None));
        // The old task's poll count once it has dropped its read.
        let polls_after_drop = Rc::new(Cell::new(None));
        let polls = Rc::new(Cell::new(0));
        // Starts a read, drops it and its socket, then sleeps: it should be
        // polled once more, when the sleep is over, and never for the new
        // socket's data.
        let old = CountPolls {
            polls: polls.clone(),
            inner: Box::pin({
                let (old_fd, polls_after_drop, polls) =
                    (old_fd.clone(), polls_after_drop.clone(), polls.clone());
                async move {
                    let (near, far) = tcp_pair().await;
                    {
                        let mut buf = [0; 1];
                        let mut read = pin!(near.read(&mut buf));
                        assert!(PollOnce(read.as_mut()).await.is_pending());
                    }
                    old_fd.set(Some(near.as_raw_fd()));
                    drop((near, far));
                    polls_after_drop.set(Some(polls.get()));
                    sleep(200 * MS).await;
                }
            }),
        };
        // Once the old fd is closed, makes new sockets, one of which gets
        // its number, and waits for data on it.
        let new = task({
            let old_fd = old_fd.clone();
            async move {
                while old_fd.get().is_none() {
                    yield_now().await;
                }
                let old_fd = old_fd.get().unwrap();
                let listener = TcpListener::bind("127.0.0.1:0").unwrap();
                let addr = listener.local_addr().unwrap();
                let accepting = spawn(async move { listener.accept().await.unwrap().0 });
                let near = TcpStream::connect(addr).await.unwrap();
                let far = accepting.await;
                let (near_fd, far_fd) = (near.as_raw_fd(), far.as_raw_fd());
                assert!(
                    near_fd == old_fd || far_fd == old_fd,
                    "fd {old_fd} was not reused (new fds {near_fd}, {far_fd}): \
                     the test proves nothing"
                );
                let (reused, other) = if near_fd == old_fd {
                    (near, far)
                } else {
                    (far, near)
                };
                let writer = spawn(async move {
                    sleep(20 * MS).await;
                    other.write_all(b"x").await.unwrap();
                    // Leave the data unread a while, the fd readable.
                    sleep(50 * MS).await;
                    other
                });
                sleep(40 * MS).await;
                let mut buf = [0; 1];
                assert_eq!(reused.read(&mut buf).await.unwrap(), 1);
                writer.await;
            }
        });
        run(vec![task(old), new]);
        let after_drop = polls_after_drop
            .get()
            .expect("the old task dropped its read");
        assert_eq!(
            polls.get(),
            after_drop + 1,
            "the old task was woken for the fd it stopped waiting for"
        );
    });
}

/// The numbers of the fds this process has open (Linux).
fn fd_numbers() -> BTreeSet<RawFd> {
    let listed: Vec<RawFd> = fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .map(|entry| {
            entry
                .unwrap()
                .file_name()
                .to_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // The listing's own fd is closed by now: leave it out.
    listed
        .into_iter()
        .filter(|fd| fs::read_link(format!("/proc/self/fd/{fd}")).is_ok())
        .collect()
}

/// A task that keeps its waker in `slot`, and finishes.
fn keep_waker(slot: Rc<RefCell<Option<Waker>>>) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        *slot.borrow_mut() = Some(cx.waker().clone());
        Poll::Ready(())
    })
}

#[test]
fn wakers_kept_past_their_runs_hold_no_fd() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(60, || {
        // Each run's self-wake used to stay open for as long as one of its
        // wakers was kept: 2 fds a run, until the process ran out.
        let before = open_fds();
        let kept: Vec<Waker> = (0..200)
            .map(|_| {
                let slot = Rc::default();
                run(vec![task(keep_waker(Rc::clone(&slot)))]);
                slot.take().expect("the task kept its waker")
            })
            .collect();
        assert_eq!(
            open_fds(),
            before,
            "fds held by {} wakers kept past their runs",
            kept.len()
        );
    });
}

#[test]
fn a_late_wake_writes_nothing_to_a_socket_that_took_the_self_wakes_fd_numbers() {
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    watchdog(30, || {
        let before = fd_numbers();
        let self_wake_fds = Rc::new(RefCell::new(BTreeSet::new()));
        let slot = Rc::default();
        // The first task keeps its waker and finishes. The second waits for
        // nothing, so `run` reports it, and unwinds parked before `poll(2)`:
        // a wake would write its byte now, if it could reach the socketpair.
        let (found, keep) = (self_wake_fds.clone(), Rc::clone(&slot));
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            run(vec![
                task(async move {
                    *found.borrow_mut() = &fd_numbers() - &before;
                    keep_waker(keep).await;
                }),
                task(std::future::pending()),
            ])
        }));
        assert!(caught.is_err());
        let old = self_wake_fds.take();
        assert_eq!(old.len(), 2, "the self-wake's two ends: {old:?}");
        // The lowest free numbers: those the self-wake had, once closed.
        let (a, b) = UnixStream::pair().unwrap();
        let new = [a.as_raw_fd(), b.as_raw_fd()];
        assert!(
            new.iter().any(|fd| old.contains(fd)),
            "no fd number of the self-wake {old:?} was reused (new fds {new:?}): \
             the test proves nothing"
        );
        slot.take().expect("the task kept its waker").wake();
        for mut end in [&a, &b] {
            end.set_nonblocking(true).unwrap();
            let read = end.read(&mut [0; 1]);
            assert!(
                matches!(&read, Err(err) if err.kind() == io::ErrorKind::WouldBlock),
                "a late wake wrote into fd {}: {read:?}",
                end.as_raw_fd()
            );
        }
    });
}
