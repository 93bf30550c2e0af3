//! The demos' real output: `demo.txt` (stdout of `cargo run -q -p CRATE`)
//! and `trace.txt` (stdout and stderr of the same with `EXP_TRACE=1`, in the
//! order they were written), and how a fresh run is compared with them.
//!
//! # Normalisation
//!
//! No two runs print the same timestamps, so before comparing, each line is
//! normalised:
//!
//! - a timestamp or duration becomes `<time>`: a decimal number followed by
//!   ` ms` (`  100.242 ms`, the demos' and the trace's clock), or a number
//!   followed directly by `s`, `ms`, `µs`, `us` or `ns` (`99.988472ms`,
//!   `207.538µs`, Rust's `Debug` for `Duration`). `300 ms` (a whole number and
//!   a space) is part of a message and stays;
//! - the port after `127.0.0.1:` becomes `<port>`;
//! - a pool worker's lane in a trace line (`pool-2]`) becomes `pool-<n>]`:
//!   whichever idle worker wakes first takes a job;
//! - runs of spaces become one space, and the line is trimmed;
//! - lines containing one of the stage's
//!   [`varying`](crate::stages::Demo::varying) markers are dropped: how often
//!   the scheduler went idle depends on timing.
//!
//! Then [`Compare::Lines`] wants the same lines the same number of times, in
//! any order (events a fraction of a millisecond apart may swap), and
//! [`Compare::Kinds`] also turns every number into `#` and wants the same set
//! of lines. A committed transcript is current if one of [`TRIES`] fresh runs
//! matches it.

use std::collections::BTreeSet;
use std::env;
use std::ffi::OsString;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::markdown::{HEADER, fenced};
use crate::stages::{Compare, Keep, Stage};

/// Fresh runs tried before a transcript is called stale.
pub const TRIES: usize = 3;

/// A demo still running after this long is killed and reported.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// Which transcript of a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// `demo.txt`: the demo's stdout.
    Demo,
    /// `trace.txt`: stdout and stderr with `EXP_TRACE=1`.
    Trace,
}

impl Which {
    /// Both transcripts, in the order a chapter shows them.
    pub const BOTH: [Which; 2] = [Which::Demo, Which::Trace];

    /// The file's name in `book/src/generated/CRATE/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Which::Demo => "demo.txt",
            Which::Trace => "trace.txt",
        }
    }
}

/// The command a reader types to see the same output.
fn command_line(stage: &Stage, which: Which) -> String {
    let env = match which {
        Which::Demo => "",
        Which::Trace => "EXP_TRACE=1 ",
    };
    let mut line = format!("{env}cargo run -q -p {}", stage.krate);
    if !stage.demo.args.is_empty() {
        line.push_str(" -- ");
        line.push_str(&stage.demo.args.join(" "));
    }
    line
}

/// The Markdown of a transcript: a caption naming the command, then the
/// output (already cut by [`keep`]) in a `text` block.
pub fn markdown(stage: &Stage, which: Which, output: &str) -> String {
    let what = match which {
        Which::Demo => "Output of",
        Which::Trace => "Output (stdout and stderr, in the order written) of",
    };
    // An output short enough to keep whole says nothing of a cut.
    let cut = match stage.demo.keep {
        Keep::HeadTail { head, tail } if output.lines().any(is_left_out_line) => {
            format!(", the first {head} and last {tail} lines")
        }
        _ => String::new(),
    };
    format!(
        "{HEADER}\n{what} `{}`{cut}:\n\n{}",
        command_line(stage, which),
        fenced("text", output)
    )
}

/// The lines of `output` the book keeps.
pub fn keep(output: &str, keep: Keep) -> String {
    let lines: Vec<&str> = output.lines().collect();
    let mut kept = String::new();
    match keep {
        Keep::HeadTail { head, tail } if lines.len() > head + tail + 1 => {
            for line in &lines[..head] {
                kept.push_str(line);
                kept.push('\n');
            }
            let left_out = lines.len() - head - tail;
            kept.push_str(&format!("[... {left_out} lines left out ...]\n"));
            for line in &lines[lines.len() - tail..] {
                kept.push_str(line);
                kept.push('\n');
            }
        }
        _ => {
            for line in lines {
                kept.push_str(line);
                kept.push('\n');
            }
        }
    }
    kept
}

/// Whether `line` is the one [`keep`] puts where it left lines out.
fn is_left_out_line(line: &str) -> bool {
    line.starts_with("[... ") && line.ends_with(" lines left out ...]")
}

/// Whether two kept outputs count as the same run (see the module docs).
pub fn same(stage: &Stage, stored: &str, fresh: &str) -> bool {
    let varying = stage.demo.varying;
    match stage.demo.compare {
        Compare::Lines => {
            let mut a = normalise(stored, varying);
            let mut b = normalise(fresh, varying);
            a.sort();
            b.sort();
            a == b
        }
        Compare::Kinds => {
            let kinds = |text: &str| -> BTreeSet<String> {
                normalise(text, varying)
                    .iter()
                    .map(|line| numbers_to_hashes(line))
                    .collect()
            };
            kinds(stored) == kinds(fresh)
        }
    }
}

/// A short account of how two outputs differ once normalised: lines only
/// one of them has.
pub fn difference(stage: &Stage, stored: &str, fresh: &str) -> String {
    let varying = stage.demo.varying;
    let mut only_stored = normalise(stored, varying);
    let mut only_fresh = Vec::new();
    for line in normalise(fresh, varying) {
        match only_stored.iter().position(|other| *other == line) {
            Some(at) => {
                only_stored.remove(at);
            }
            None => only_fresh.push(line),
        }
    }
    let show = |lines: &[String]| {
        lines
            .iter()
            .take(5)
            .map(|line| format!("\n      {line}"))
            .collect::<String>()
    };
    format!(
        "only in the committed file:{}\n    only in the fresh run:{}",
        show(&only_stored),
        show(&only_fresh)
    )
}

/// `text`'s lines, normalised (see the module docs), in order.
pub fn normalise(text: &str, varying: &[&str]) -> Vec<String> {
    text.lines()
        .filter(|line| !varying.iter().any(|marker| line.contains(marker)))
        .map(|line| {
            let line = pool_lane(&times_and_ports(line));
            line.split_whitespace().collect::<Vec<_>>().join(" ")
        })
        .collect()
}

/// Replaces timestamps and durations with `<time>` and a loopback port with
/// `<port>`.
fn times_and_ports(line: &str) -> String {
    const UNITS: &[&str] = &["ns", "µs", "us", "ms", "s"];
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let before = &rest[..start];
        let glued = before
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '.' || c == '_');
        let whole = rest[start..]
            .find(|c: char| !c.is_ascii_digit())
            .map_or(rest.len(), |n| start + n);
        let mut end = whole;
        if rest[end..].starts_with('.') {
            let fraction = rest[end + 1..]
                .find(|c: char| !c.is_ascii_digit())
                .map_or(rest.len() - end - 1, |n| n);
            if fraction > 0 {
                end += 1 + fraction;
            }
        }
        let has_fraction = end > whole;
        let after = &rest[end..];
        let unit = UNITS
            .iter()
            .find(|unit| after.starts_with(*unit) && ends_word(&after[unit.len()..]))
            .map(|unit| unit.len())
            .or_else(|| {
                (has_fraction && after.starts_with(" ms") && ends_word(&after[3..])).then_some(3)
            });
        out.push_str(before);
        match unit {
            Some(unit_len) if !glued => {
                out.push_str("<time>");
                rest = &rest[end + unit_len..];
            }
            _ if !glued && out.ends_with("127.0.0.1:") => {
                out.push_str("<port>");
                rest = &rest[whole..];
            }
            _ => {
                out.push_str(&rest[start..end]);
                rest = &rest[end..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// `line` with the number of the pool worker whose lane it is on, as in
/// `[trace <time> pool-2]`, made `<n>`.
fn pool_lane(line: &str) -> String {
    const LANE: &str = " pool-";
    let Some(at) = line.find(LANE).map(|at| at + LANE.len()) else {
        return line.to_string();
    };
    let digits = line[at..].bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !line[at + digits..].starts_with(']') {
        return line.to_string();
    }
    format!("{}<n>{}", &line[..at], &line[at + digits..])
}

/// Whether `rest` (what follows a unit) ends the word.
fn ends_word(rest: &str) -> bool {
    !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_')
}

/// Every run of digits becomes `#`.
fn numbers_to_hashes(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_number = false;
    for c in line.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('#');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

/// The demo binaries, built once.
#[derive(Debug)]
pub struct Demos {
    bin_dir: PathBuf,
}

/// Where the demos are built: a folder of their own in the target directory,
/// so that the nested cargo never waits for the lock of the cargo that runs
/// the book's tests.
fn demo_target_dir(root: &Path) -> PathBuf {
    let target = env::var_os("CARGO_TARGET_DIR")
        .or_else(|| env::var_os("CARGO_BUILD_TARGET_DIR"))
        .map(PathBuf::from)
        .map(|dir| match env::current_dir() {
            Ok(cwd) if dir.is_relative() => cwd.join(dir),
            _ => dir,
        })
        .unwrap_or_else(|| root.join("target"));
    target.join("book-demos")
}

/// The cargo that runs us, or the one on `PATH`.
fn cargo() -> OsString {
    env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

impl Demos {
    /// Builds the demos of `stages` with one `cargo build`.
    pub fn build(root: &Path, stages: &[Stage]) -> io::Result<Demos> {
        let target = demo_target_dir(root);
        let mut command = Command::new(cargo());
        command
            .current_dir(root)
            .args(["build", "--quiet", "--bins", "--target-dir"])
            .arg(&target);
        for stage in stages {
            command.args(["-p", stage.krate]);
        }
        let status = command.status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "building the demos failed ({status}): {command:?}"
            )));
        }
        Ok(Demos {
            bin_dir: target.join("debug"),
        })
    }

    /// Builds the examples `examples`, each `(crate, example)`, with one
    /// `cargo build`, beside the demos.
    pub fn build_examples(root: &Path, examples: &[(&str, &str)]) -> io::Result<Demos> {
        let target = demo_target_dir(root);
        let mut command = Command::new(cargo());
        command
            .current_dir(root)
            .args(["build", "--quiet", "--target-dir"])
            .arg(&target);
        for (krate, example) in examples {
            command.args(["-p", krate, "--example", example]);
        }
        let status = command.status()?;
        if !status.success() {
            return Err(io::Error::other(format!(
                "building the examples failed ({status}): {command:?}"
            )));
        }
        Ok(Demos {
            bin_dir: target.join("debug"),
        })
    }

    /// Runs the demo of `stage` (built by [`Demos::build`]) and returns what
    /// `which` captures, whole.
    pub fn run(&self, root: &Path, stage: &Stage, which: Which) -> io::Result<String> {
        let binary = self
            .bin_dir
            .join(format!("{}{}", stage.krate, env::consts::EXE_SUFFIX));
        self.run_binary(root, &binary, stage.demo.args, which)
    }

    /// Runs example `example` (built by [`Demos::build_examples`]) and
    /// returns what `which` captures, whole.
    pub fn run_example(&self, root: &Path, example: &str, which: Which) -> io::Result<String> {
        let binary = self
            .bin_dir
            .join("examples")
            .join(format!("{example}{}", env::consts::EXE_SUFFIX));
        self.run_binary(root, &binary, &[], which)
    }

    fn run_binary(
        &self,
        root: &Path,
        binary: &Path,
        args: &[&str],
        which: Which,
    ) -> io::Result<String> {
        let mut command = Command::new(binary);
        command.current_dir(root).args(args).stdin(Stdio::null());
        let (mut reader, writer) = io::pipe()?;
        match which {
            Which::Demo => {
                command.env_remove("EXP_TRACE").stderr(Stdio::inherit());
            }
            Which::Trace => {
                // One pipe for both: the lines arrive in the order written.
                command.env("EXP_TRACE", "1").stderr(writer.try_clone()?);
            }
        }
        command.stdout(writer);
        let mut child = command.spawn().map_err(|err| {
            io::Error::new(err.kind(), format!("running {}: {err}", binary.display()))
        })?;
        drop(command); // closes our copies of the pipe's write end
        let collector = thread::spawn(move || {
            let mut output = Vec::new();
            reader.read_to_end(&mut output).map(|_| output)
        });
        let deadline = Instant::now() + TIMEOUT;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if Instant::now() > deadline {
                child.kill()?;
                child.wait()?;
                return Err(io::Error::other(format!(
                    "{} ran longer than {TIMEOUT:?}",
                    binary.display()
                )));
            }
            thread::sleep(Duration::from_millis(20));
        };
        let output = collector
            .join()
            .map_err(|_| io::Error::other("the output reader panicked"))??;
        if !status.success() {
            return Err(io::Error::other(format!(
                "{} failed ({status})",
                binary.display()
            )));
        }
        String::from_utf8(output).map_err(io::Error::other)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stages::Stage;

    #[test]
    fn times_and_durations_are_normalised_and_messages_kept() {
        let lines = "   0.011 ms  C1: Start\n\
                     [trace   100.186 ms scheduler] timer fired: task 1\n\
                     [trace     0.064 ms scheduler] polled task 1: Ready(()) (3.2µs)\n\
                     [trace     0.071 ms pool-12] job started: task 1\n\
                     slept 99.989244ms, then 207.538µs, then 1.5s, then 12ns\n\
                     C1 sleeps 300 ms between lines, exp2 v0.1.2\n\
                     listening on 127.0.0.1:50123\n";
        assert_eq!(
            normalise(lines, &[]),
            [
                "<time> C1: Start",
                "[trace <time> scheduler] timer fired: task 1",
                "[trace <time> scheduler] polled task 1: Ready(()) (<time>)",
                "[trace <time> pool-<n>] job started: task 1",
                "slept <time>, then <time>, then <time>, then <time>",
                "C1 sleeps 300 ms between lines, exp2 v0.1.2",
                "listening on 127.0.0.1:<port>",
            ]
        );
    }

    #[test]
    fn lines_compare_in_any_order_but_count_repeats() {
        let stage = Stage::first("x", "x.md");
        let stored = "  1.000 ms  a\n  2.000 ms  b\n";
        assert!(same(&stage, stored, "  1.500 ms  b\n  1.700 ms  a\n"));
        assert!(!same(
            &stage,
            stored,
            "  1.500 ms  b\n  1.700 ms  a\n  1.800 ms  a\n"
        ));
        assert!(!same(&stage, stored, "  1.500 ms  b\n  1.700 ms  c\n"));
    }

    #[test]
    fn idle_lines_are_left_out_of_the_comparison() {
        let stage = Stage::first("x", "x.md");
        let stored = "[trace     0.064 ms scheduler] idle: sleep for 99.98ms\n[trace 1.000 ms scheduler] timer fired: task 0\n";
        assert!(same(
            &stage,
            stored,
            "[trace 1.010 ms scheduler] timer fired: task 0\n"
        ));
    }

    #[test]
    fn kinds_ignore_numbers_and_repeats() {
        let stage = Stage::first("x", "x.md").compare(Compare::Kinds);
        let stored = "client 3: echoed 10 rounds\nclient 4: echoed 10 rounds\n";
        assert!(same(&stage, stored, "client 12: echoed 10 rounds\n"));
        assert!(!same(&stage, stored, "client 12: failed\n"));
    }

    #[test]
    fn a_long_output_keeps_its_head_and_tail() {
        let output: String = (1..=10).map(|n| format!("{n}\n")).collect();
        let kept = keep(&output, Keep::HeadTail { head: 2, tail: 3 });
        assert_eq!(kept, "1\n2\n[... 5 lines left out ...]\n8\n9\n10\n");
        assert_eq!(keep(&output, Keep::HeadTail { head: 5, tail: 5 }), output);
    }
}
