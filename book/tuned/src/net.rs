//! Non-blocking TCP sockets: [`TcpListener`] and [`TcpStream`].
//!
//! Every socket is non-blocking, and every operation first just makes its
//! system call. Only when that fails with `WouldBlock` does the future wait:
//! it registers the socket with the reactor and returns `Pending`, and once
//! woken it makes the call again. Trying first saves a `poll(2)` when data
//! is already there, and makes a wake that turns out to be early harmless.
//!
//! ```
//! use exp6_tuned::net::{TcpListener, TcpStream};
//! use exp6_tuned::{run, spawn, task};
//!
//! run(vec![task(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     let server = spawn(async move {
//!         let (stream, _) = listener.accept().await.unwrap();
//!         let mut buf = [0; 64];
//!         let n = stream.read(&mut buf).await.unwrap();
//!         stream.write_all(&buf[..n]).await.unwrap();
//!     });
//!     let client = TcpStream::connect(addr).await.unwrap();
//!     client.write_all(b"hello").await.unwrap();
//!     let mut buf = [0; 64];
//!     let n = client.read(&mut buf).await.unwrap();
//!     assert_eq!(&buf[..n], b"hello");
//!     server.await;
//! })]);
//! ```
//!
//! A read right after its stream wrote is the exception. The data to read
//! next is then most often the peer's reply to what was written (the answer
//! to a request, or the next request after an answer), which is rarely
//! there yet: a try would fail, one system call wasted before the wait.
//! Such a read waits for `poll(2)` first, where the fd costs one entry more
//! in a call the loop makes anyway, for as long as that pays: a stream
//! whose try after a write found nothing waits first after its next write,
//! and one whose wait found the data ready at the first `poll(2)`, so most
//! likely there all along, tries first again.

use std::future::Future;
use std::io::{self, Read};
use std::mem;
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use crate::reactor::{Interest, Token};
use crate::{try_with_current, with_current};

/// How many connections the kernel may hold for a listener before they are
/// accepted: enough for a burst of hundreds of clients connecting at once.
const BACKLOG: i32 = 1024;

/// The flags of every `send`: writing to a connection the peer has reset
/// raises `SIGPIPE`, which kills the process, unless `MSG_NOSIGNAL` says not
/// to.
const SEND_FLAGS: libc::c_int = libc::MSG_NOSIGNAL;

/// A TCP socket listening for connections.
#[derive(Debug)]
pub struct TcpListener {
    socket: Socket,
}

impl TcpListener {
    /// Listens on `addr`: the first of its addresses that can be bound.
    ///
    /// The socket has `SO_REUSEADDR` set, so that a server can be restarted
    /// on its port at once, while connections of its last run linger in
    /// `TIME_WAIT`. Port 0 picks a free port; [`local_addr`](Self::local_addr)
    /// tells which.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<Self> {
        let mut last_error = None;
        for addr in addr.to_socket_addrs()? {
            match listen(addr) {
                Ok(socket) => return Ok(TcpListener { socket }),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to listen on")
        }))
    }

    /// The address the listener is bound to.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket_addr(self.socket.local_addr()?)
    }

    /// Waits for a connection and returns it, with the peer's address.
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run): only a running
    /// scheduler has a reactor.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (socket, addr) = retry(&self.socket, Interest::Read, "TcpListener::accept", || {
            self.socket.accept()
        })
        .await?;
        // An accepted socket does not inherit the listener's O_NONBLOCK.
        socket.set_nonblocking(true)?;
        Ok((TcpStream::new(socket), socket_addr(addr)?))
    }
}

/// Makes a non-blocking listening socket bound to `addr`.
fn listen(addr: SocketAddr) -> io::Result<Socket> {
    let socket = new_socket(addr)?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket)
}

/// A TCP connection.
///
/// Every method takes `&self`, so one task can read while another writes.
#[derive(Debug)]
pub struct TcpStream {
    socket: Socket,
    /// Whether a write has sent bytes since the last read began.
    wrote: AtomicBool,
    /// Whether a read right after a write waits for `poll(2)` before its
    /// first try: set when such a try found nothing, cleared when such a
    /// wait found the data ready at the first `poll(2)`.
    ///
    /// Both flags are hints, not a protocol: whatever they hold, every read
    /// still returns what has arrived, and only the number of system calls
    /// changes. They are atomics, loaded and stored `Relaxed`, only so that
    /// the stream stays `Sync`, as exp6's is.
    wait_after_write: AtomicBool,
}

impl TcpStream {
    /// Connects to `addr`: the first of its addresses that accepts.
    ///
    /// Like std's `TcpStream::connect`, it tries each address in turn and
    /// returns the last one's error if none accepts, so that
    /// `"localhost:PORT"` reaches a server listening on `127.0.0.1` even when
    /// `localhost` is `::1` first. Resolving a host name blocks the thread,
    /// and so the scheduler, as it does in [`TcpListener::bind`].
    ///
    /// Each connect is non-blocking: it starts the handshake and waits for
    /// the socket to turn writable, which it does when the handshake is over,
    /// whether it succeeded or not. The socket's `SO_ERROR` then says which,
    /// so that a refused connection is an error rather than a stream whose
    /// first read fails.
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run).
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<Self> {
        let mut last_error = None;
        for addr in addr.to_socket_addrs()? {
            match connect(addr).await {
                Ok(socket) => return Ok(TcpStream::new(socket)),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no address to connect to")
        }))
    }

    /// Reads what has arrived into `buf`, waiting until something has, and
    /// returns how many bytes it read: 0 means the peer closed its side (or
    /// `buf` is empty).
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        // Set for a read right after a write that tries first: its first try
        // tells whether the data after a write comes late.
        let mut learn = false;
        if self.wrote.swap(false, Ordering::Relaxed) && !buf.is_empty() {
            if self.wait_after_write.load(Ordering::Relaxed) {
                self.wait_for_answer().await;
            } else {
                learn = true;
            }
        }
        retry(&self.socket, Interest::Read, "TcpStream::read", || {
            let read = (&self.socket).read(buf);
            if mem::take(&mut learn) {
                let nothing = matches!(&read, Err(err) if err.kind() == io::ErrorKind::WouldBlock);
                self.wait_after_write.store(nothing, Ordering::Relaxed);
            }
            read
        })
        .await
    }

    /// The wait of a read right after a write, before its first try. If the
    /// first `poll(2)` after the wait began found the fd ready, the data was
    /// most likely there before the wait, where a try would have found it:
    /// the reads after the next writes try first again. Outside `run` it
    /// returns at once, and the read tries first like any other.
    async fn wait_for_answer(&self) {
        let polls = || try_with_current(|shared| shared.reactor.borrow().polls());
        let Some(began) = polls() else { return };
        Readiness::new(&self.socket, Interest::Read, "TcpStream::read").await;
        if polls() == Some(began + 1) {
            self.wait_after_write.store(false, Ordering::Relaxed);
        }
    }

    /// Writes all of `buf`, waiting for room as often as it takes.
    ///
    /// A write takes only as much as fits in the socket's send buffer, so a
    /// large `buf` goes out over many writes, with waits between them while
    /// the peer reads. If this future is dropped part way, an unknown part of
    /// `buf` has been sent.
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run).
    pub async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let written = retry(
                &self.socket,
                Interest::Write,
                "TcpStream::write_all",
                || self.socket.send_with_flags(buf, SEND_FLAGS),
            )
            .await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            self.wrote.store(true, Ordering::Relaxed);
            buf = &buf[written..];
        }
        Ok(())
    }

    /// Closes the writing side: the peer reads the end of file once it has
    /// read everything written before, and can still send.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.socket.shutdown(Shutdown::Write)
    }

    /// Sets `TCP_NODELAY`: with `true`, a small write is sent at once
    /// rather than held back by Nagle's algorithm until the data sent before
    /// it is acknowledged.
    ///
    /// A server that answers each request with a few small writes, or a
    /// client that sends one request in pieces, wants it: the peer delays its
    /// acknowledgements, so a held-back write can wait tens of milliseconds.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.socket.set_tcp_nodelay(nodelay)
    }

    /// The address of this end of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket_addr(self.socket.local_addr()?)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket_addr(self.socket.peer_addr()?)
    }

    /// A stream of a connected socket, whose first read tries first.
    fn new(socket: Socket) -> Self {
        TcpStream {
            socket,
            wrote: AtomicBool::new(false),
            wait_after_write: AtomicBool::new(false),
        }
    }
}

/// Makes a non-blocking socket connected to `addr`.
async fn connect(addr: SocketAddr) -> io::Result<Socket> {
    let socket = new_socket(addr)?;
    match socket.connect(&addr.into()) {
        Ok(()) => {}
        // Interrupted or not, the handshake goes on in the kernel.
        Err(err)
            if err.raw_os_error() == Some(libc::EINPROGRESS)
                || err.kind() == io::ErrorKind::Interrupted =>
        {
            Readiness::new(&socket, Interest::Write, "TcpStream::connect").await;
            if let Some(err) = socket.take_error()? {
                return Err(err);
            }
        }
        Err(err) => return Err(err),
    }
    Ok(socket)
}

/// Makes a non-blocking TCP socket for `addr`'s address family.
fn new_socket(addr: SocketAddr) -> io::Result<Socket> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// A socket address as an IP address and port.
fn socket_addr(addr: SockAddr) -> io::Result<SocketAddr> {
    addr.as_socket()
        .ok_or_else(|| io::Error::other("not an IP socket address"))
}

/// Makes the system call `op` until it does something other than fail with
/// `WouldBlock` (or be interrupted by a signal), waiting between tries for
/// `socket` to be ready for `interest`. `caller` names the public function,
/// for the panic outside `run`.
async fn retry<T>(
    socket: &Socket,
    interest: Interest,
    caller: &'static str,
    mut op: impl FnMut() -> io::Result<T>,
) -> io::Result<T> {
    loop {
        match op() {
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                Readiness::new(socket, interest, caller).await;
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            result => return result,
        }
    }
}

/// Waits, once, until an fd is ready for an interest, or has an error or a
/// hang-up: the future a socket operation awaits when it would block.
///
/// Its first poll registers with the reactor; later polls only replace the
/// registration's waker, until the registration has fired. Dropping it
/// removes the registration, so that once the fd is closed and its number
/// reused, nothing wakes this future's task for the new socket.
struct Readiness {
    fd: RawFd,
    interest: Interest,
    /// The public function waiting, for the panic outside `run`.
    caller: &'static str,
    /// The registration's token, once registered.
    token: Option<Token>,
}

impl Readiness {
    fn new(socket: &Socket, interest: Interest, caller: &'static str) -> Self {
        Readiness {
            fd: socket.as_raw_fd(),
            interest,
            caller,
            token: None,
        }
    }
}

impl Future for Readiness {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        with_current(this.caller, |shared| {
            let mut reactor = shared.reactor.borrow_mut();
            match this.token {
                None => {
                    let task = shared.polling.get();
                    this.token = Some(reactor.register(this.fd, this.interest, task, cx.waker()));
                    Poll::Pending
                }
                Some(token) if reactor.set_waker(token, cx.waker()) => Poll::Pending,
                // The reactor removed the registration when the fd was ready.
                Some(_) => {
                    this.token = None;
                    Poll::Ready(())
                }
            }
        })
    }
}

impl Drop for Readiness {
    /// A wait dropped before its fd was ready takes its registration with it.
    fn drop(&mut self) {
        if let Some(token) = self.token {
            try_with_current(|shared| shared.reactor.borrow_mut().deregister(token));
        }
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{run, sleep, spawn, task};
    use std::cell::RefCell;
    use std::mem::MaybeUninit;
    use std::pin::pin;
    use std::rc::Rc;
    use std::sync::mpsc::{self, RecvTimeoutError};
    use std::task::Waker;
    use std::thread;
    use std::time::Duration;

    /// Runs `scenario` on its own thread, and fails if it has not finished
    /// within 30 s: a read that never wakes fails the test, not CI.
    fn watchdog(scenario: impl FnOnce() + Send + 'static) {
        let (done_tx, done_rx) = mpsc::channel();
        let worker = thread::spawn(move || {
            scenario();
            let _ = done_tx.send(());
        });
        match done_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(()) => worker.join().unwrap(),
            Err(RecvTimeoutError::Disconnected) => {
                std::panic::resume_unwind(worker.join().unwrap_err())
            }
            Err(RecvTimeoutError::Timeout) => panic!("watchdog: still running after 30 s"),
        }
    }

    /// A connected pair: (the connecting end, the accepted end).
    async fn tcp_pair() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let accepted = spawn(async move { listener.accept().await.unwrap().0 });
        (TcpStream::connect(addr).await.unwrap(), accepted.await)
    }

    #[test]
    fn a_read_after_a_write_waits_first_only_while_answers_come_late() {
        watchdog(|| {
            run(vec![task(async {
                let (client, server) = tcp_pair().await;
                let echoing = spawn(async move {
                    let mut buf = [0; 64];
                    while let Ok(n @ 1..) = server.read(&mut buf).await {
                        server.write_all(&buf[..n]).await.unwrap();
                    }
                });
                // How many poll(2) calls the scheduler has made.
                let polls = || with_current("polls", |shared| shared.reactor.borrow().polls());
                let mut buf = [0; 64];
                // Requests and answers: the try after the first write finds
                // nothing, so the reads after the next writes wait first,
                // and their answers come after their waits began.
                for request in [b"1", b"2", b"3"] {
                    client.write_all(request).await.unwrap();
                    assert_eq!(client.read(&mut buf).await.unwrap(), 1);
                    assert_eq!(&buf[..1], request);
                    assert!(client.wait_after_write.load(Ordering::Relaxed));
                }
                // An answer that is there before the read after a write: the
                // wait finds it ready at its first poll(2)...
                client.write_all(b"4").await.unwrap();
                sleep(Duration::from_millis(20)).await;
                client.write_all(b"5").await.unwrap();
                let n = client.read(&mut buf).await.unwrap();
                assert_eq!(&buf[..n], &b"45"[..n]);
                assert!(!client.wait_after_write.load(Ordering::Relaxed));
                if n == 1 {
                    assert_eq!(client.read(&mut buf).await.unwrap(), 1);
                    assert_eq!(&buf[..1], b"5");
                }
                // ... so the next read after a write tries first, and reads
                // the data there without a poll(2).
                client.write_all(b"6").await.unwrap();
                sleep(Duration::from_millis(20)).await;
                client.write_all(b"7").await.unwrap();
                let polls_before = polls();
                assert_eq!(client.read(&mut buf).await.unwrap(), 1);
                assert_eq!(&buf[..1], b"6");
                assert_eq!(polls(), polls_before, "a read of data already there waited");
                assert!(!client.wait_after_write.load(Ordering::Relaxed));
                assert_eq!(client.read(&mut buf).await.unwrap(), 1);
                assert_eq!(&buf[..1], b"7");
                client.shutdown_write().unwrap();
                echoing.await;
            })]);
        });
    }

    #[test]
    fn a_read_after_a_write_outside_run_reads_what_is_there() {
        let streams = Rc::new(RefCell::new(None));
        let out = streams.clone();
        run(vec![task(async move {
            let (client, server) = tcp_pair().await;
            // Teach the client to wait first after a write.
            let echoing = spawn(async move {
                let mut buf = [0; 1];
                assert_eq!(server.read(&mut buf).await.unwrap(), 1);
                server.write_all(&buf).await.unwrap();
                server
            });
            client.write_all(b"q").await.unwrap();
            client.read(&mut [0; 1]).await.unwrap();
            assert!(client.wait_after_write.load(Ordering::Relaxed));
            *out.borrow_mut() = Some((client, echoing.await));
        })]);
        let (client, server) = streams.take().unwrap();
        // No scheduler, no reactor: the read after a write must just read.
        let mut cx = Context::from_waker(Waker::noop());
        let mut write = pin!(server.write_all(b"a"));
        assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
        // Loopback delivers at once, unless the kernel defers it: make sure.
        let mut byte = [MaybeUninit::uninit()];
        while socket2::SockRef::from(&client).peek(&mut byte).is_err() {
            thread::sleep(Duration::from_millis(1));
        }
        let mut write = pin!(client.write_all(b"r"));
        assert!(matches!(write.as_mut().poll(&mut cx), Poll::Ready(Ok(()))));
        let mut buf = [0; 8];
        let read = pin!(client.read(&mut buf)).poll(&mut cx);
        assert!(matches!(read, Poll::Ready(Ok(1))), "{read:?}");
        assert_eq!(&buf[..1], b"a");
    }

    #[test]
    fn a_reset_wakes_a_read_that_waits_first_after_a_write() {
        watchdog(|| {
            run(vec![task(async {
                let (client, server) = tcp_pair().await;
                let server = spawn(async move {
                    let mut buf = [0; 1];
                    assert_eq!(server.read(&mut buf).await.unwrap(), 1);
                    server.write_all(&buf).await.unwrap();
                    // Unread data and a linger of 0: closing resets.
                    assert_eq!(server.read(&mut buf).await.unwrap(), 1);
                    socket2::SockRef::from(&server)
                        .set_linger(Some(Duration::ZERO))
                        .unwrap();
                });
                let mut buf = [0; 8];
                client.write_all(b"q").await.unwrap();
                client.read(&mut buf).await.unwrap();
                assert!(client.wait_after_write.load(Ordering::Relaxed));
                // This read waits first, for an answer that never comes: the
                // reset has to wake it (POLLHUP and POLLERR, not POLLIN).
                client.write_all(b"rr").await.unwrap();
                let result = client.read(&mut buf).await;
                assert!(
                    matches!(&result, Ok(0)) || result.is_err(),
                    "read {result:?} from a reset connection"
                );
                server.await;
            })]);
        });
    }
}
