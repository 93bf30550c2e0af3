//! What a runtime must offer for a workload to run on it: one trait per part
//! of the stages' API, so a workload names exactly what it uses and runs on
//! every stage and peer that has it.
//!
//! The stages implement these traits through the `stages!` macro
//! (`src/stages.rs`); tokio and smol in `src/peers.rs`.

#![allow(async_fn_in_trait)] // one thread runs everything: no `Send` bounds wanted

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

/// Every stage: run tasks on this thread, and give way with `yield_now`.
pub trait Rt: 'static {
    /// Runs `fut` as the only top-level task and returns its output.
    fn block_on<F>(fut: F) -> F::Output
    where
        F: Future + 'static,
        F::Output: 'static;

    /// Runs every future as a top-level task and returns when all are done.
    fn run_all<F: Future<Output = ()> + 'static>(futs: Vec<F>);

    /// Gives the other tasks a turn.
    fn yield_now() -> impl Future<Output = ()>;
}

/// exp2 and later: timers.
pub trait Sleep: Rt {
    /// Completes once `duration` has passed.
    fn sleep(duration: Duration) -> impl Future<Output = ()>;
}

/// exp3 and later: tasks started by tasks, joined through a handle.
pub trait Spawn: Rt {
    /// Starts `fut` now; the returned future waits for its output.
    fn spawn<F>(fut: F) -> impl Future<Output = F::Output> + 'static
    where
        F: Future + 'static,
        F::Output: 'static;
}

/// exp4 and exp6: closures on a thread pool.
pub trait Blocking: Rt {
    /// Runs `f` on the pool; the returned future waits for its result.
    fn spawn_blocking<T, F>(f: F) -> impl Future<Output = T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static;
}

/// exp5 and exp6: TCP on non-blocking sockets.
pub trait Net: Spawn {
    /// A listening TCP socket.
    type Listener: 'static;
    /// A TCP connection.
    type Stream: Stream;
    /// Listens on `addr`.
    async fn bind(addr: SocketAddr) -> io::Result<Self::Listener>;
    /// The address `listener` listens on (its port, if the kernel chose).
    fn local_addr(listener: &Self::Listener) -> io::Result<SocketAddr>;
    /// Waits for the next connection to `listener`.
    async fn accept(listener: &Self::Listener) -> io::Result<Self::Stream>;
    /// Connects to `addr`.
    async fn connect(addr: SocketAddr) -> io::Result<Self::Stream>;
}

/// A connected pair of Unix sockets (`socketpair(2)`). The peers have it;
/// the stages' `net` does not (their API contract is TCP alone), so the
/// socketpair ping-pong runs on tokio, smol and threads only.
pub trait Pair: Rt {
    /// One end of the pair.
    type Stream: Stream;
    /// A new connected pair.
    fn pair() -> io::Result<(Self::Stream, Self::Stream)>;
}

/// A connected byte stream, whatever the runtime.
pub trait Stream: 'static {
    /// Reads what has arrived (waiting until something has); 0 is the end
    /// of the stream.
    async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize>;
    /// Writes all of `buf`.
    async fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
}

/// Reads until `buf` is full; an early end of stream is an error.
pub async fn read_exact<S: Stream>(stream: &mut S, mut buf: &mut [u8]) -> io::Result<()> {
    while !buf.is_empty() {
        match stream.read(buf).await? {
            0 => return Err(io::ErrorKind::UnexpectedEof.into()),
            n => buf = &mut buf[n..],
        }
    }
    Ok(())
}

/// A connected TCP pair on loopback: `(client end, server end)`.
pub async fn tcp_pair<R: Net>(listener: &R::Listener) -> io::Result<(R::Stream, R::Stream)> {
    let client = R::connect(R::local_addr(listener)?).await?;
    let server = R::accept(listener).await?;
    Ok((client, server))
}

/// A one-shot signal for any number of waiting tasks, on any executor: it
/// needs nothing but wakers.
#[derive(Clone, Default)]
pub struct Gate {
    state: Rc<RefCell<(bool, Vec<Waker>)>>,
}

impl Gate {
    /// Opens the gate: every waiting task is woken, later waits return at once.
    pub fn open(&self) {
        let wakers = {
            let mut state = self.state.borrow_mut();
            state.0 = true;
            std::mem::take(&mut state.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Waits until the gate is open.
    pub async fn wait(&self) {
        let mut registered = false;
        poll_fn(|cx| {
            let mut state = self.state.borrow_mut();
            if state.0 {
                return Poll::Ready(());
            }
            if !registered {
                state.1.push(cx.waker().clone());
                registered = true;
            }
            Poll::Pending
        })
        .await
    }
}

/// Runs `a` and `b` together until either finishes, and drops the other.
pub async fn race<A: Future, B: Future>(a: A, b: B) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() || b.as_mut().poll(cx).is_ready() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await
}

/// `block_on` for a stage: runs `fut` as the one task given to `run` (the
/// stage's `run(vec![task])`) and hands its output back through a slot.
pub fn block_on_with<F, R>(run: R, fut: F) -> F::Output
where
    F: Future + 'static,
    F::Output: 'static,
    R: FnOnce(std::pin::Pin<Box<dyn Future<Output = ()>>>),
{
    let out = Rc::new(RefCell::new(None));
    let slot = out.clone();
    run(Box::pin(async move {
        let value = fut.await;
        *slot.borrow_mut() = Some(value);
    }));
    let value = out.borrow_mut().take();
    value.expect("the runtime returned before its task finished")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::task::Context;

    #[test]
    fn a_gate_wakes_its_waiters() {
        let gate = Gate::default();
        let mut wait = Box::pin(gate.wait());
        let mut cx = Context::from_waker(Waker::noop());
        assert!(wait.as_mut().poll(&mut cx).is_pending());
        gate.open();
        assert!(wait.as_mut().poll(&mut cx).is_ready());
    }
}
