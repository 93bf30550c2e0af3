//! The demo binary: the in-process demo, `serve`, and bad arguments.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::watchdog;

/// The demo binary, built by cargo for these tests.
fn demo() -> Command {
    Command::new(env!("CARGO_BIN_EXE_exp6-tuned"))
}

#[test]
fn the_demo_echoes_every_round_trip_and_stamps_every_line() {
    watchdog(60, || {
        let output = demo().output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let stdout = String::from_utf8(output.stdout).unwrap();
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(lines[0].starts_with("exp6-tuned: "), "{stdout}");
        for line in &lines[1..] {
            let (stamp, _) = line.split_once(" ms  ").expect(line);
            stamp.trim().parse::<f64>().expect(line);
        }
        // The server's lines of the first connection of each of the 5 waves.
        assert_eq!(lines.iter().filter(|l| l.ends_with(": open")).count(), 5);
        let ticks = lines.iter().filter(|l| l.contains(" ms  tick ")).count();
        assert!(ticks >= 10, "{ticks} ticks: {stdout}");
        let summary = lines.last().unwrap();
        assert!(
            summary.contains(
                "done: 50 connections, 0 clients failed, 500 round trips, 500 pool jobs, \
                 self-wake bytes: "
            ),
            "{summary}"
        );
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

#[test]
fn serve_echoes_for_any_client() {
    watchdog(60, || {
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
        let mut client = TcpStream::connect(&addr).unwrap();
        client
            .set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        client.write_all(b"TEST00042").unwrap();
        let mut reply = [0; 9];
        client.read_exact(&mut reply).unwrap();
        assert_eq!(&reply, b"TEST00042");
        drop(client);
        // One line when the connection opens, one when it closes.
        for expected in [": open", "closed, 9 bytes echoed"] {
            line.clear();
            stdout.read_line(&mut line).unwrap();
            assert!(line.contains(expected), "{line:?}");
        }
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
    let output = demo().args(["serve", "a", "b"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("usage: "), "{stderr}");
}
