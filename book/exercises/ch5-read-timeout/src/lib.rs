//! Chapter 5 exercise: a read with a timeout.
//!
//! Write [`read_timeout`]: it races a read against a sleep, and whichever
//! finishes first decides; the loser is dropped.

use std::io;
use std::time::Duration;

use exp5_selectors::net::TcpStream;

/// Reads what has arrived into `buf`, as [`TcpStream::read`] does, but
/// waits at most `timeout` for it: then fails with
/// [`io::ErrorKind::TimedOut`], having read nothing.
pub async fn read_timeout(
    stream: &TcpStream,
    buf: &mut [u8],
    timeout: Duration,
) -> io::Result<usize> {
    // Your code: poll `stream.read(buf)` and `sleep(timeout)` side by side,
    // and return as soon as either is ready. (`sleep` is `exp5_selectors::sleep`,
    // exported at the crate's top.)
    let _ = (stream, buf, timeout);
    todo!()
}
