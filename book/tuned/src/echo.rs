//! An echo server and client over [`net`](crate::net): the demo runs them,
//! and the tests and benchmarks drive them.
//!
//! The server echoes each connection in a task of its own until the client
//! closes it, and hands every chunk it echoes to the thread pool for a
//! checksum on the way; the client checks that every message comes back
//! unchanged.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::net::{TcpListener, TcpStream};
use crate::{sleep, spawn, spawn_blocking, yield_now};

/// The most one read of a connection takes.
const BUFFER_SIZE: usize = 16 * 1024;

/// How long the server pauses before it tries to accept again when the
/// process is out of file descriptors.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The jobs the servers of this process have handed to the pool.
static POOL_JOBS: AtomicU64 = AtomicU64::new(0);

/// How many checksum jobs the echo servers of this process have handed to
/// the pool so far: one for every chunk they have read and echoed.
pub fn pool_jobs() -> u64 {
    POOL_JOBS.load(Ordering::Relaxed)
}

/// Accepts connections on `listener` and echoes each in a task of its own,
/// until `limit` connections have been accepted (forever when `None`). The
/// connections' tasks go on after it returns, and [`run`](crate::run) waits
/// for them.
///
/// `log` gets one line for each connection opened, closed (with the bytes'
/// checksum) or failed, and for each failed accept. Nothing a client sends
/// can make the server panic or stop: an error ends its own connection, and
/// nothing else.
///
/// When the process runs out of file descriptors, accept fails until one is
/// closed; the server logs that once, then tries again every 100 ms.
pub async fn serve(listener: TcpListener, limit: Option<usize>, log: impl Fn(&str) + 'static) {
    let log = Rc::new(log);
    let mut accepted = 0;
    let mut out_of_fds = false;
    while limit.is_none_or(|limit| accepted < limit) {
        match listener.accept().await {
            Ok((stream, peer)) => {
                out_of_fds = false;
                accepted += 1;
                let id = accepted;
                log(&format!("connection {id} from {peer}: open"));
                let log = log.clone();
                // Detached: `run` waits for it all the same.
                spawn(async move {
                    match echo(&stream).await {
                        Ok((bytes, sum)) => log(&format!(
                            "connection {id}: closed, {bytes} bytes echoed, checksum {sum:016x}"
                        )),
                        Err(err) => log(&format!("connection {id}: closed on error: {err}")),
                    }
                });
            }
            // The connection waits in the listen queue, so the listener stays
            // readable: without a pause this loop would spin.
            Err(err) if is_out_of_fds(&err) => {
                if !out_of_fds {
                    log(&format!(
                        "accept failed: {err}; trying again every {ACCEPT_BACKOFF:?}"
                    ));
                    out_of_fds = true;
                }
                sleep(ACCEPT_BACKOFF).await;
            }
            // A connection reset before it was accepted, say: only it is lost.
            Err(err) => log(&format!("accept failed: {err}")),
        }
    }
}

/// Whether accept failed for want of a file descriptor or of memory for one:
/// something that only time, not a retry at once, can cure.
fn is_out_of_fds(err: &io::Error) -> bool {
    let errno = err.raw_os_error();
    [libc::EMFILE, libc::ENFILE, libc::ENOBUFS, libc::ENOMEM]
        .into_iter()
        .any(|out_of| errno == Some(out_of))
}

/// Echoes what `stream` receives until the peer closes its side, then
/// returns how many bytes it echoed and their checksum.
async fn echo(stream: &TcpStream) -> io::Result<(u64, u64)> {
    let mut buf = vec![0; BUFFER_SIZE];
    let mut echoed = 0;
    let mut sum = CHECKSUM_START;
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            // Closed or half-closed: all it sent is echoed, so close too.
            return Ok((echoed, sum));
        }
        // The work a server does with a request, on the pool: the buffer
        // goes to a worker and comes back with the checksum, unchanged.
        POOL_JOBS.fetch_add(1, Ordering::Relaxed);
        (buf, sum) = spawn_blocking(move || {
            let sum = checksum(sum, &buf[..n]);
            (buf, sum)
        })
        .await;
        stream.write_all(&buf[..n]).await?;
        echoed += n as u64;
        // A read that finds data waiting does not return `Pending`: a client
        // that sends without pause would keep this task, and so the thread,
        // to itself. Let the other tasks have a turn.
        yield_now().await;
    }
}

/// The checksum of no bytes.
const CHECKSUM_START: u64 = 0xcbf2_9ce4_8422_2325;

/// Carries the checksum `sum` on over `bytes`: 64-bit FNV-1a, a stand-in for
/// whatever work a real server would do with them.
fn checksum(sum: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(sum, |sum, &byte| {
        (sum ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One client of the echo server at `addr`: connects, and makes `rounds`
/// round trips of a 9-byte message, `TEST` and a 5-digit number, checking
/// that each comes back unchanged. Each client `id` sends numbers of its own,
/// so an echo that reaches the wrong client is caught.
pub async fn client(addr: SocketAddr, id: usize, rounds: usize) -> io::Result<()> {
    let stream = TcpStream::connect(addr).await?;
    let mut reply = [0; 9];
    for round in 0..rounds {
        let message = format!("TEST{:05}", (id * rounds + round) % 100_000);
        stream.write_all(message.as_bytes()).await?;
        read_exact(&stream, &mut reply).await?;
        if reply != message.as_bytes() {
            let reply = String::from_utf8_lossy(&reply);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("sent {message:?}, got {reply:?} back"),
            ));
        }
    }
    Ok(())
}

/// Reads exactly `buf.len()` bytes: an echo may come back in pieces.
async fn read_exact(stream: &TcpStream, buf: &mut [u8]) -> io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        match stream.read(&mut buf[filled..]).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}
