//! The demo binary, run as a reader would run it: with a stdout nobody
//! reads, and with a trace on a stderr that cannot take it.

mod common;

use std::io;
use std::process::Command;

use common::watchdog;

/// The demo binary, built by cargo for these tests.
fn demo() -> Command {
    let mut demo = Command::new(env!("CARGO_BIN_EXE_exp1-simplest"));
    demo.env_remove("EXP_TRACE");
    demo
}

/// A pipe whose reader has gone already, as after `| head -n 0`: every write
/// to it fails with `EPIPE` (a Rust program ignores `SIGPIPE`, so the write
/// returns the error rather than killing the writer).
fn broken_pipe() -> io::PipeWriter {
    let (reader, writer) = io::pipe().unwrap();
    drop(reader);
    writer
}

/// The lines of `stdout`, each without its timestamp.
fn unstamped(stdout: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| line.split_once(" ms  ").map_or(line, |(_, rest)| rest))
        .map(str::to_string)
        .collect()
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start a process")]
fn a_trace_that_stderr_cannot_take_is_lost_and_the_demo_runs_on() {
    watchdog(60, || {
        let plain = demo().output().unwrap();
        assert!(plain.status.success(), "{plain:?}");
        // `EXP_TRACE=1 exp1-simplest 2>&1 >out.txt | head -n 0`
        let traced = demo()
            .env("EXP_TRACE", "1")
            .stderr(broken_pipe())
            .output()
            .unwrap();
        assert_eq!(traced.status.code(), Some(0), "{traced:?}");
        assert_eq!(unstamped(&traced.stdout), unstamped(&plain.stdout));
    });
}

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start a process")]
fn once_stdout_is_gone_the_demo_finishes_quietly_and_exits_0() {
    watchdog(60, || {
        // A reader gone before the first line: the demo takes a fraction of
        // a millisecond and its lines fit in a pipe, so a reader that went
        // after the first line would most likely find them all written.
        let output = demo().stdout(broken_pipe()).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.is_empty(), "{stderr}");
    });
}
