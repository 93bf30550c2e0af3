//! `EXP_TRACE=1`: print every scheduler decision to stderr.
//!
//! The check is one atomic load once the environment has been read, so leaving
//! the `trace!` calls in the hot loop costs next to nothing when tracing is off.

use std::fmt;
use std::io::{self, Write};
use std::sync::OnceLock;
use std::time::Instant;

/// When tracing started: every trace line shows milliseconds since then.
static START: OnceLock<Option<Instant>> = OnceLock::new();

/// The trace clock's start, or `None` when `EXP_TRACE` is not `1`.
fn start() -> Option<Instant> {
    *START.get_or_init(|| (std::env::var_os("EXP_TRACE")? == "1").then(Instant::now))
}

/// Whether `EXP_TRACE=1` is set.
pub(crate) fn enabled() -> bool {
    start().is_some()
}

/// Prints one trace line: `[trace   12.345 ms] message`. A line stderr
/// cannot take, once its reader has gone say, is lost: tracing never stops
/// the program it traces.
pub(crate) fn print(message: fmt::Arguments) {
    if let Some(start) = start() {
        let ms = start.elapsed().as_secs_f64() * 1e3;
        // `eprintln!` would panic on the error.
        let _ = writeln!(io::stderr(), "[trace {ms:>9.3} ms] {message}");
    }
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
