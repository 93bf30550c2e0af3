//! `EXP_TRACE=1`: print every scheduler decision to stderr.
//!
//! The check is one atomic load once the environment has been read, so leaving
//! the `trace!` calls in the hot loop costs next to nothing when tracing is off.
//!
//! Each line names the thread that printed it and when, on the same clock as
//! the demo's own lines, so that the book's tool can draw a trace as a
//! timeline (`cargo run -p book -- timeline TRACE`; `book/tool/trace.rs` has
//! the format):
//!
//! ```text
//! [trace     0.012 ms scheduler] polled task 1: Pending (1.2µs)
//! ```

use std::cell::Cell;
use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::thread;
use std::time::Instant;

/// Whether `EXP_TRACE=1` is set, read once.
static ENABLED: OnceLock<bool> = OnceLock::new();

/// The instant the trace clock counts from: see [`trace_start`].
static START: OnceLock<Instant> = OnceLock::new();

/// Whether `EXP_TRACE=1` is set.
pub(crate) fn enabled() -> bool {
    *ENABLED.get_or_init(|| std::env::var_os("EXP_TRACE").is_some_and(|value| value == "1"))
}

/// The instant every trace line counts its milliseconds from: the first
/// call of this function, by a trace line or by the program.
///
/// A program that stamps its own output with the time since this instant,
/// as the demo does, prints on the trace's clock: with `EXP_TRACE=1 ...
/// 2>&1`, its lines and the trace's interleave in the order they happened.
pub fn trace_start() -> Instant {
    *START.get_or_init(Instant::now)
}

/// What a thread the scheduler knows is called in trace lines.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Name {
    /// The thread running `run`.
    Scheduler,
    /// Pool worker N (`pool-1` is the first).
    Pool(usize),
}

thread_local! {
    /// This thread's [`Name`], while it has one.
    static NAME: Cell<Option<Name>> = const { Cell::new(None) };
}

/// Names the calling thread in trace lines until the guard it returns is
/// dropped, when `run` returns or unwinds, or the pool's worker exits.
pub(crate) fn name_thread(name: Name) -> NamedThread {
    NamedThread(NAME.replace(Some(name)))
}

/// Gives the thread its former name back when dropped.
pub(crate) struct NamedThread(Option<Name>);

impl Drop for NamedThread {
    fn drop(&mut self) {
        NAME.set(self.0);
    }
}

/// The calling thread as trace lines name it: `scheduler`, `pool-1`, or
/// any other thread as `thread-` and its name (`thread-main`), or its id if
/// it has none.
struct ThisThread;

impl fmt::Display for ThisThread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match NAME.get() {
            Some(Name::Scheduler) => f.write_str("scheduler"),
            Some(Name::Pool(n)) => write!(f, "pool-{n}"),
            None => {
                let thread = thread::current();
                match thread.name() {
                    Some(name) => write!(f, "thread-{name}"),
                    // `ThreadId(7)`: the number alone.
                    None => {
                        let id = format!("{:?}", thread.id());
                        let digits: String = id.chars().filter(char::is_ascii_digit).collect();
                        write!(f, "thread-{digits}")
                    }
                }
            }
        }
    }
}

/// Prints one trace line: `[trace   12.345 ms scheduler] message`. A line
/// stderr cannot take, once its reader has gone say, is lost: tracing never
/// stops the program it traces.
pub(crate) fn print(message: fmt::Arguments) {
    let ms = trace_start().elapsed().as_secs_f64() * 1e3;
    // Written at once, so that no line of another thread, nor of stdout in
    // the same pipe, lands inside it. `eprintln!` would write it piece by
    // piece, and panic on the error.
    let line = format!("[trace {ms:>9.3} ms {ThisThread}] {message}\n");
    let _ = io::stderr().write_all(line.as_bytes());
}

/// `trace!("polled task {id}")` prints only when `EXP_TRACE=1`; its arguments
/// are not even formatted otherwise.
macro_rules! trace {
    ($($arg:tt)*) => {
        if $crate::trace::enabled() {
            $crate::trace::print(format_args!($($arg)*));
        }
    };
}
pub(crate) use trace;
