//! Chapter 5 exercise: a read with a timeout.
//!
//! Write [`read_timeout`]: it races a read against a sleep, and whichever
//! finishes first decides; the loser is dropped.

use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use exp5_selectors::net::TcpStream;
use exp5_selectors::sleep;

/// Reads what has arrived into `buf`, as [`TcpStream::read`] does, but
/// waits at most `timeout` for it: then fails with
/// [`io::ErrorKind::TimedOut`], having read nothing.
pub async fn read_timeout(
    stream: &TcpStream,
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<usize> {
    // Both futures are polled by hand from one, so they are pinned here, in
    // this future's state, and polled through `as_mut`.
    let mut read = pin!(stream.read(buf));
    let mut timer = pin!(sleep(timeout));
    // Each poll passes the task's waker to both: the reactor holds it for
    // the socket, the timers for the deadline, and whichever comes first
    // wakes the task. The read is polled first, so data that is there wins.
    poll_fn(|cx| {
        if let Poll::Ready(result) = read.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
        }
        Poll::Pending
    })
    .await
    // Returning drops the loser: the sleep takes its timer with it, and the
    // read its interest in the socket.
}
