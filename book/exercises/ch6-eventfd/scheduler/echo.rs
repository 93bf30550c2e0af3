//! An echo server and client over [`net`](crate::net): the demo runs them,
//! and the tests and benchmarks drive them.
//!
//! The server echoes each connection in a task of its own until the client
//! closes it, and hands every chunk it echoes to the thread pool for a
//! checksum on the way; the client checks that every message comes back
//! unchanged.

use std::cell::Cell;
use std::fs;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use crate::net::{TcpListener, TcpStream};
use crate::{sleep, spawn, spawn_blocking, yield_now};

/// The most one read of a connection takes.
const BUFFER_SIZE: usize = 16 * 1024;

/// How long the server pauses before it tries to accept again after accept
/// failed.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// The jobs the servers of this process have handed to the pool.
static POOL_JOBS: AtomicU64 = AtomicU64::new(0);

/// How many checksum jobs the echo servers of this process have handed to
/// the pool so far: one for every chunk they have read and echoed.
pub fn pool_jobs() -> u64 {
    POOL_JOBS.load(Ordering::Relaxed)
}

/// How long a connection may wait for its client, unless the [`Config`]
/// says otherwise.
const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The file descriptors the default [`Config`] leaves to the rest of the
/// process: the standard streams, the listener, a client being refused, and
/// whatever else the program has open.
const FD_RESERVE: usize = 32;

/// What [`serve`] allows its clients.
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// How long a connection may make no progress, neither sending anything
    /// nor taking its echo, before the server closes it.
    pub idle_timeout: Duration,
    /// The most connections open at once. A client that connects while this
    /// many are open is accepted and closed at once.
    pub max_connections: usize,
}

impl Default for Config {
    /// An idle timeout of 60 s, and as many connections as the process's
    /// limit on open files (`RLIMIT_NOFILE`) allows, less 32 for the rest of
    /// the process.
    fn default() -> Self {
        Config {
            idle_timeout: IDLE_TIMEOUT,
            max_connections: fd_limit().saturating_sub(FD_RESERVE).max(1),
        }
    }
}

/// This process's limit on open files, the soft `RLIMIT_NOFILE`, as Linux
/// shows it in `/proc/self/limits`: `usize::MAX` for none, and 1024, the
/// limit Linux starts a process with, should the file not say.
fn fd_limit() -> usize {
    // Read rather than asked for with getrlimit(2), which would take unsafe.
    // The line is "Max open files  SOFT  HARD  files", SOFT a number or
    // "unlimited".
    let limits = fs::read_to_string("/proc/self/limits").unwrap_or_default();
    let soft = limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next());
    match soft {
        Some("unlimited") => usize::MAX,
        soft => soft.and_then(|soft| soft.parse().ok()).unwrap_or(1024),
    }
}

/// Accepts connections on `listener` and echoes each in a task of its own,
/// until `limit` connections have been accepted (forever when `None`). The
/// connections' tasks go on after it returns, and [`run`](crate::run) waits
/// for them.
///
/// `log` gets one line for each connection opened, closed (with the bytes'
/// checksum), failed or refused, and for the first of a run of failed
/// accepts.
///
/// Nothing a client sends and nothing its surroundings do can make the
/// server panic or stop:
///
/// - an error ends its own connection, and nothing else;
/// - a connection that makes no progress for `config.idle_timeout` is
///   closed, so idle clients cannot hold every file descriptor;
/// - while `config.max_connections` are open, a client that connects is
///   accepted and closed at once, rather than left waiting;
/// - when accept fails, for want of a file descriptor or for any other
///   reason, the server logs it once, then tries again every 100 ms until
///   it succeeds;
/// - when the system refuses the pool its threads (a limit on threads or
///   memory), the checksums run on the scheduler's thread: slower, but the
///   server goes on ([`spawn_blocking`] says how);
/// - `log` is called on the scheduler's thread, so it must never wait: the
///   demo's `serve` command hands its lines to a thread that prints them,
///   and drops those that stdout cannot take, so that a full or closed
///   stdout cannot stop the server either.
pub async fn serve(
    listener: TcpListener,
    limit: Option<usize>,
    config: Config,
    log: impl Fn(&str) + 'static,
) {
    let log = Rc::new(log);
    let open = Rc::new(Cell::new(0));
    let mut accepted = 0;
    let mut failing = false;
    while limit.is_none_or(|limit| accepted < limit) {
        match listener.accept().await {
            Ok((stream, peer)) => {
                failing = false;
                accepted += 1;
                let id = accepted;
                if open.get() >= config.max_connections {
                    // Dropped, so closed: the client reads the end at once.
                    log(&format!(
                        "connection {id} from {peer}: refused, {} open already",
                        open.get()
                    ));
                    continue;
                }
                open.set(open.get() + 1);
                log(&format!("connection {id} from {peer}: open"));
                let (log, open) = (log.clone(), open.clone());
                // Detached: `run` waits for it all the same.
                spawn(async move {
                    match echo(&stream, config.idle_timeout).await {
                        Ok((bytes, sum)) => log(&format!(
                            "connection {id}: closed, {bytes} bytes echoed, checksum {sum:016x}"
                        )),
                        Err(err) => log(&format!("connection {id}: closed on error: {err}")),
                    }
                    open.set(open.get() - 1);
                });
            }
            // Whatever the error, trying again at once would likely fail
            // again. Out of file descriptors, say, the connection waits in
            // the listen queue, so the listener stays readable: without a
            // pause this loop would spin, and no other task would run.
            Err(err) => {
                if !failing {
                    log(&format!(
                        "accept failed: {err}; trying again every {ACCEPT_BACKOFF:?}"
                    ));
                    failing = true;
                }
                sleep(ACCEPT_BACKOFF).await;
            }
        }
    }
}

/// Echoes what `stream` receives until the peer closes its side, then
/// returns how many bytes it echoed and their checksum.
///
/// Waiting longer than `idle_timeout` for the peer, for bytes to read or for
/// room to write, is an error.
async fn echo(stream: &TcpStream, idle_timeout: Duration) -> io::Result<(u64, u64)> {
    let mut buf = vec![0; BUFFER_SIZE];
    let mut echoed = 0;
    let mut sum = CHECKSUM_START;
    loop {
        let n = within(idle_timeout, stream.read(&mut buf)).await?;
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
        within(idle_timeout, stream.write_all(&buf[..n])).await?;
        echoed += n as u64;
        // A read that finds data waiting does not return `Pending`: a client
        // that sends without pause would keep this task, and so the thread,
        // to itself. Let the other tasks have a turn.
        yield_now().await;
    }
}

/// Awaits `op`, unless it is still waiting after `timeout`: then drops it,
/// which withdraws its registration, and fails with `TimedOut`.
async fn within<T>(timeout: Duration, op: impl Future<Output = io::Result<T>>) -> io::Result<T> {
    let mut op = pin!(op);
    let mut timer = pin!(sleep(timeout));
    // `op` first: one that is done at once never sets the timer.
    poll_fn(|cx| match op.as_mut().poll(cx) {
        Poll::Ready(result) => Poll::Ready(result),
        Poll::Pending => timer.as_mut().poll(cx).map(|()| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("idle for {timeout:?}"),
            ))
        }),
    })
    .await
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
