//! Non-blocking TCP sockets: [`TcpListener`] and [`TcpStream`].
//!
//! Every socket is non-blocking, and every operation first just makes its
//! system call. Only when that fails with `WouldBlock` does the future wait:
//! it registers the socket with the reactor and returns `Pending`, and once
//! woken it makes the call again. Trying first saves a `poll(2)` when data
//! is already there, and makes a wake that turns out to be early harmless.
//!
//! ```
//! use ch6_eventfd::net::{TcpListener, TcpStream};
//! use ch6_eventfd::{run, spawn, task};
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

use std::future::Future;
use std::io::{self, Read};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::pin::Pin;
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
        Ok((TcpStream { socket }, socket_addr(addr)?))
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
}

impl TcpStream {
    /// Connects to `addr`.
    ///
    /// The connect is non-blocking: it starts the handshake and waits for
    /// the socket to turn writable, which it does when the handshake is over,
    /// whether it succeeded or not. The socket's `SO_ERROR` then says which,
    /// so that a refused connection is an error rather than a stream whose
    /// first read fails.
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run).
    pub async fn connect(addr: SocketAddr) -> io::Result<Self> {
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
        Ok(TcpStream { socket })
    }

    /// Reads what has arrived into `buf`, waiting until something has, and
    /// returns how many bytes it read: 0 means the peer closed its side (or
    /// `buf` is empty).
    ///
    /// # Panics
    ///
    /// When it has to wait outside [`run`](crate::run).
    pub async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        retry(&self.socket, Interest::Read, "TcpStream::read", || {
            (&self.socket).read(buf)
        })
        .await
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
            buf = &buf[written..];
        }
        Ok(())
    }

    /// Closes the writing side: the peer reads the end of file once it has
    /// read everything written before, and can still send.
    pub fn shutdown_write(&self) -> io::Result<()> {
        self.socket.shutdown(Shutdown::Write)
    }

    /// The address of this end of the connection.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        socket_addr(self.socket.local_addr()?)
    }

    /// The address of the other end.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        socket_addr(self.socket.peer_addr()?)
    }
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
