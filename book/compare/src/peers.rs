//! The peers: tokio's current-thread runtime (with a `LocalSet`, since the
//! stages' tasks need not be `Send`) and smol's `LocalExecutor`, adapted to
//! the traits of `rt.rs` the way the stages are.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::rc::Rc;
use std::time::Duration;

use crate::entry::{Entry, Kind};
use crate::rt::{Blocking, Net, Pair, Rt, Sleep, Spawn, Stream};

/// tokio and smol.
pub fn peers() -> Vec<Entry> {
    vec![
        Entry::new("tokio", Kind::Peer)
            .rt::<Tokio>()
            .sleep::<Tokio>()
            .spawn::<Tokio>()
            .blocking::<Tokio>()
            .net::<Tokio>()
            .pair::<Tokio>(),
        Entry::new("smol", Kind::Peer)
            .rt::<Smol>()
            .sleep::<Smol>()
            .spawn::<Smol>()
            .blocking::<Smol>()
            .net::<Smol>()
            .pair::<Smol>(),
    ]
}

/// tokio: `Builder::new_current_thread().enable_all()`, built once per
/// thread so that no workload pays for building it; every `block_on` gets a
/// fresh `LocalSet` for `spawn_local`.
pub struct Tokio;

thread_local! {
    static TOKIO: tokio::runtime::Runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread tokio runtime");
}

impl Rt for Tokio {
    fn block_on<F>(fut: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let local = tokio::task::LocalSet::new();
        TOKIO.with(|rt| rt.block_on(local.run_until(fut)))
    }

    fn run_all<F: Future<Output = ()> + 'static>(futs: Vec<F>) {
        let local = tokio::task::LocalSet::new();
        for fut in futs {
            local.spawn_local(fut);
        }
        TOKIO.with(|rt| rt.block_on(local));
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }
}

impl Sleep for Tokio {
    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
}

impl Spawn for Tokio {
    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = tokio::task::spawn_local(fut);
        async move { handle.await.expect("the spawned task panicked") }
    }
}

impl Blocking for Tokio {
    fn spawn_blocking<T, F>(f: F) -> impl Future<Output = T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let handle = tokio::task::spawn_blocking(f);
        async move { handle.await.expect("the blocking job panicked") }
    }
}

impl Net for Tokio {
    type Listener = tokio::net::TcpListener;
    type Stream = tokio::net::TcpStream;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        tokio::net::TcpListener::bind(addr).await
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        tokio::net::TcpStream::connect(addr).await
    }
}

impl Pair for Tokio {
    type Stream = tokio::net::UnixStream;

    fn pair() -> io::Result<(Self::Stream, Self::Stream)> {
        tokio::net::UnixStream::pair()
    }
}

impl Stream for tokio::net::TcpStream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(self, buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(self, buf).await
    }
}

impl Stream for tokio::net::UnixStream {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        tokio::io::AsyncReadExt::read(self, buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        tokio::io::AsyncWriteExt::write_all(self, buf).await
    }
}

/// smol: one `LocalExecutor` per thread, run by `smol::block_on` (which
/// also drives async-io's reactor and timers while it waits).
pub struct Smol;

thread_local! {
    static SMOL: Rc<smol::LocalExecutor<'static>> = Rc::new(smol::LocalExecutor::new());
}

fn executor() -> Rc<smol::LocalExecutor<'static>> {
    SMOL.with(Rc::clone)
}

impl Rt for Smol {
    fn block_on<F>(fut: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let ex = executor();
        smol::block_on(ex.run(fut))
    }

    fn run_all<F: Future<Output = ()> + 'static>(futs: Vec<F>) {
        let ex = executor();
        let tasks: Vec<smol::Task<()>> = futs.into_iter().map(|fut| ex.spawn(fut)).collect();
        smol::block_on(ex.run(async {
            for task in tasks {
                task.await;
            }
        }));
    }

    fn yield_now() -> impl Future<Output = ()> {
        smol::future::yield_now()
    }
}

impl Sleep for Smol {
    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        let timer = smol::Timer::after(duration);
        async move {
            timer.await;
        }
    }
}

impl Spawn for Smol {
    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        executor().spawn(fut)
    }
}

impl Blocking for Smol {
    fn spawn_blocking<T, F>(f: F) -> impl Future<Output = T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        smol::unblock(f)
    }
}

impl Net for Smol {
    type Listener = smol::Async<TcpListener>;
    type Stream = smol::Async<TcpStream>;

    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener> {
        smol::Async::<TcpListener>::bind(addr)
    }

    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr> {
        listener.get_ref().local_addr()
    }

    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream> {
        Ok(listener.accept().await?.0)
    }

    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream> {
        smol::Async::<TcpStream>::connect(addr).await
    }
}

impl Pair for Smol {
    type Stream = smol::Async<UnixStream>;

    fn pair() -> io::Result<(Self::Stream, Self::Stream)> {
        smol::Async::<UnixStream>::pair()
    }
}

impl Stream for smol::Async<TcpStream> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        smol::io::AsyncReadExt::read(self, buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        smol::io::AsyncWriteExt::write_all(self, buf).await
    }
}

impl Stream for smol::Async<UnixStream> {
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        smol::io::AsyncReadExt::read(self, buf).await
    }

    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        smol::io::AsyncWriteExt::write_all(self, buf).await
    }
}
