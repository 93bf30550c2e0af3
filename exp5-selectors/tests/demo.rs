//! The demo binary: the in-process demo, `serve`, and bad arguments; and
//! `serve` with a stdout that is closed, or that nobody reads.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use common::watchdog;

/// The demo binary, built by cargo for these tests.
fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exp5-selectors"))
}

#[test]
fn the_demo_echoes_every_round_trip_and_stamps_every_line() {
    watchdog(60, || {
        let output = demo().output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].starts_with("exp5-selectors: "), "{stdout}");
        for line in &lines[1..] {
            let (stamp, _) = line.split_once(" ms  ").expect(line);
            stamp.trim().parse::<f64>().expect(line);
        }
        assert_eq!(lines.iter().filter(|l| l.ends_with(": open")).count(), 50);
        let summary = lines.last().unwrap();
        assert!(
            summary.contains("50 connections, 500 round trips echoed intact, 0 clients failed"),
            "{summary}"
        );
    });
}

#[test]
fn the_demo_finishes_quietly_once_stdout_is_gone() {
    watchdog(60, || {
        // `... | head -n 1`: the reader goes after the first line.
        let mut demo = demo()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(demo.stdout.take().unwrap());
        let mut first = String::new();
        stdout.read_line(&mut first).unwrap();
        assert!(
            first.starts_with(concat!(env!("CARGO_PKG_NAME"), ": ")),
            "{first}"
        );
        drop(stdout);
        let output = demo.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{output:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.is_empty(), "{stderr}");
    });
}

/// Kills the child process it holds when dropped, should the test fail.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve` on a free loopback port, its stdout a pipe, and reads
/// that pipe up to the line that says where it listens; returns the server,
/// its address, and the rest of its stdout.
fn start_serve() -> (KillOnDrop, String, BufReader<ChildStdout>) {
    let mut server = KillOnDrop(
        demo()
            .args(["serve", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stdout = BufReader::new(server.0.stdout.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "no address");
        if let Some((_, addr)) = line.trim().split_once("listening on ") {
            break addr.to_string();
        }
    };
    (server, addr, stdout)
}

/// One round trip of a 9-byte message to the echo server at `addr`, in a
/// connection of its own; fails the test if the echo does not come back
/// whole within `seconds`.
fn round_trip(addr: &str, seconds: u64) {
    let mut client = TcpStream::connect(addr).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(seconds)))
        .unwrap();
    client.write_all(b"TEST00042").unwrap();
    let mut reply = [0; 9];
    client.read_exact(&mut reply).expect("the echo");
    assert_eq!(&reply, b"TEST00042");
}

#[test]
fn serve_echoes_for_any_client() {
    watchdog(60, || {
        let (_server, addr, mut stdout) = start_serve();
        round_trip(&addr, 20);
        let mut line = String::new();
        // One line when the connection opens, one when it closes.
        for expected in [": open", "closed, 9 bytes echoed"] {
            line.clear();
            stdout.read_line(&mut line).unwrap();
            assert!(line.contains(expected), "{line:?}");
        }
    });
}

#[test]
fn serve_goes_on_serving_once_stdout_is_closed() {
    watchdog(60, || {
        // `serve | head -n 2`: the reader goes once it has read two lines.
        let (mut server, addr, stdout) = start_serve();
        drop(stdout);
        for _ in 0..20 {
            round_trip(&addr, 10);
        }
        let status = server.0.try_wait().unwrap();
        assert!(status.is_none(), "the server exited: {status:?}");
    });
}

#[test]
fn serve_goes_on_serving_when_nobody_reads_stdout() {
    watchdog(120, || {
        // Two log lines of about 50 bytes a connection: enough to fill a
        // 64 KiB pipe five times over.
        let (mut server, addr, _unread) = start_serve();
        for _ in 0..3000 {
            round_trip(&addr, 10);
        }
        let status = server.0.try_wait().unwrap();
        assert!(status.is_none(), "the server exited: {status:?}");
    });
}

#[test]
fn serve_with_a_bad_address_says_so_and_exits_with_2() {
    let output = demo().args(["serve", "not-an-address"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot listen on \"not-an-address\""),
        "{stderr}"
    );
}

#[test]
fn unknown_arguments_get_the_usage_and_exit_with_2() {
    for args in [&["serve", "a", "b"][..], &["serve", "--idle"], &["demo"]] {
        let output = demo().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(stderr.contains("usage: "), "{args:?}: {stderr}");
    }
}

#[test]
fn serve_help_tells_both_settings_and_their_defaults() {
    for help in ["--help", "-h"] {
        let output = demo().args(["serve", help]).output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.starts_with("usage: "), "{stdout}");
        assert!(stdout.contains("--idle-timeout SECS"), "{stdout}");
        assert!(stdout.contains("(default 60)"), "{stdout}");
        assert!(stdout.contains("--max-connections N"), "{stdout}");
        assert!(stdout.contains("less a reserve)"), "{stdout}");
    }
}

#[test]
fn the_default_cap_on_connections_is_the_soft_fd_limit_less_32() {
    // The shell lowers the soft limit on open files to 200, for the demo
    // alone, then becomes it.
    let output = Command::new("sh")
        .args(["-c", "ulimit -S -n 200 && exec \"$0\" serve --help"])
        .arg(demo().get_program())
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.contains("(default 168:"), "{stdout}");
}

#[test]
fn serve_with_a_bad_setting_says_which_and_exits_with_2() {
    for (args, message) in [
        (
            &["serve", "--idle-timeout", "0"][..],
            "--idle-timeout wants a whole number, 1 or more, not \"0\"",
        ),
        (
            &["serve", "--max-connections", "many"],
            "--max-connections wants a whole number, 1 or more, not \"many\"",
        ),
        (
            &["serve", "--max-connections"],
            "--max-connections wants a value",
        ),
    ] {
        let output = demo().args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let stderr = String::from_utf8(output.stderr).unwrap();
        assert!(
            stderr.starts_with(&format!("{}: {message}\n", env!("CARGO_PKG_NAME"))),
            "{stderr}"
        );
    }
}
