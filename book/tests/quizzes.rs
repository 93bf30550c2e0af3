//! (f) The quizzes: every experiment chapter ends with a `## Quiz` that
//! embeds `quizzes/<crate>.toml` (mdbook-quiz's format), of 4 to 6
//! questions, each with its answer explained; and every "which trace line
//! comes next?" question is right about the run.
//!
//! A trace question is one whose prompt has a ```` ```text ```` block with
//! trace lines in it. Its lines and its answer are checked against the
//! chapter's committed timeline log, `generated/pictures/<crate>-timeline.txt`,
//! not against a fresh run of the scene: a fresh run has other times, and
//! on a busy machine its threads may interleave otherwise, so a question
//! built from it could not show real lines and still pass every time. The
//! log is kept current by `pictures.rs`: each of its lanes must have the
//! kinds of step, and their order, of a fresh run (times and idle waits
//! aside). So, for each trace question:
//!
//! - every line of the block is a line of the log, verbatim (times too), in
//!   the log's order: the reader sees a real excerpt;
//! - the answer is a trace line of the log, and, on the answer's own thread,
//!   the next trace line after the block's last line on that thread (the
//!   file order between threads is only the order in which their lines
//!   reached stderr; a thread's own order is what `pictures.rs` keeps);
//! - the answer is a step that `pictures.rs` compares (not an idle wait or
//!   its end, which it skips, nor an unknown line), so a change of the code
//!   that changes the answer fails that test until the log is regenerated,
//!   and then this one until the question is brought up to date;
//! - no wrong choice is the same event as the answer, times aside.

use std::fs;
use std::path::Path;

use book::pictures::{self, TIMELINES};
use book::trace::{self, Event, Line, Thread};

/// An event with its times taken out: what a question may ask about.
fn timeless(line: &Line) -> (Thread, Event) {
    let event = match line.event.clone() {
        Event::Polled { task, ready, .. } => Event::Polled {
            task,
            ready,
            took: 0,
        },
        Event::Idle { kind, timeout, fds } => Event::Idle {
            kind,
            timeout: timeout.map(|_| 0),
            fds,
        },
        event => event,
    };
    (line.thread.clone(), event)
}

/// A choice of a question, in backticks, as a trace line.
fn choice_line(choice: &str) -> Option<Line> {
    trace::parse_line(choice.trim().trim_matches('`'))
}

/// The lines of the prompt's first ```` ```text ```` block.
fn text_block(prompt: &str) -> Option<Vec<&str>> {
    let start = prompt.find("```text\n")? + "```text\n".len();
    let len = prompt[start..].find("```")?;
    Some(
        prompt[start..start + len]
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect(),
    )
}

fn string<'a>(table: &'a toml::Table, path: &[&str]) -> Option<&'a str> {
    let (last, tables) = path.split_last()?;
    let mut table = table;
    for key in tables {
        table = table.get(*key)?.as_table()?;
    }
    table.get(*last)?.as_str()
}

/// What is wrong with trace question `n` of `krate`'s quiz (none: empty).
fn trace_problems(
    krate: &str,
    n: usize,
    question: &toml::Table,
    block: &[&str],
    log: &str,
) -> Vec<String> {
    let at = format!("{krate}.toml, question {n}");
    let mut problems = Vec::new();
    let log_lines: Vec<&str> = log.lines().collect();

    // The block is a real excerpt, in the log's order.
    let mut shown = Vec::new(); // indices into log_lines
    let mut from = 0;
    for line in block {
        match log_lines[from..].iter().position(|l| l == line) {
            Some(i) => {
                shown.push(from + i);
                from += i + 1;
            }
            None => problems.push(format!(
                "{at}: `{line}` is not a line of the log after the one before it"
            )),
        }
    }
    let Some(answer) = string(question, &["answer", "answer"]) else {
        problems.push(format!("{at}: no answer.answer"));
        return problems;
    };
    let Some(answer_line) = choice_line(answer) else {
        problems.push(format!("{at}: the answer {answer} is not a trace line"));
        return problems;
    };
    if problems.is_empty() {
        // The lane of the answer's thread: (index in the file, line).
        let lane: Vec<(usize, Line)> = log_lines
            .iter()
            .enumerate()
            .filter_map(|(i, l)| trace::parse_line(l).map(|line| (i, line)))
            .filter(|(_, line)| line.thread == answer_line.thread)
            .collect();
        let on_lane: Vec<usize> = shown
            .iter()
            .filter_map(|i| lane.iter().position(|(j, _)| j == i))
            .collect();
        match on_lane.last() {
            None => problems.push(format!(
                "{at}: no line of the block is on {}, the answer's thread",
                answer_line.thread
            )),
            Some(&last) => {
                if on_lane.windows(2).any(|w| w[1] != w[0] + 1) {
                    problems.push(format!(
                        "{at}: the block's lines on {} are not consecutive on that thread",
                        answer_line.thread
                    ));
                }
                match lane.get(last + 1) {
                    None => problems.push(format!(
                        "{at}: nothing follows the block on {}",
                        answer_line.thread
                    )),
                    Some((i, next)) => {
                        if timeless(next) != timeless(&answer_line) {
                            problems.push(format!("{at}: the answer is {answer}, but the log's next line on {} is `{}`", answer_line.thread, log_lines[*i]));
                        } else if log_lines[*i] != answer.trim().trim_matches('`') {
                            problems.push(format!(
                                "{at}: the answer {answer} has other times than the log's `{}`",
                                log_lines[*i]
                            ));
                        }
                    }
                }
            }
        }
    }
    if matches!(
        answer_line.event,
        Event::Idle { .. } | Event::Awake { .. } | Event::Unknown(_)
    ) {
        problems.push(format!("{at}: the answer {answer} is a step that pictures.rs does not compare; ask about another line"));
    }
    let distractors = question
        .get("prompt")
        .and_then(|p| p.get("distractors"))
        .and_then(|d| d.as_array())
        .cloned()
        .unwrap_or_default();
    for distractor in distractors.iter().filter_map(|d| d.as_str()) {
        if choice_line(distractor).is_some_and(|d| timeless(&d) == timeless(&answer_line)) {
            problems.push(format!(
                "{at}: the wrong choice {distractor} is the same event as the answer"
            ));
        }
    }
    problems
}

/// Everything wrong with `krate`'s chapter and quiz.
fn quiz_problems(root: &Path, krate: &str) -> Vec<String> {
    let src = book::book_src(root);
    let mut problems = Vec::new();
    let chapter = fs::read_to_string(src.join(format!("{krate}.md"))).expect("reading the chapter");
    let directive = format!("{{{{#quiz quizzes/{krate}.toml}}}}");
    let last_heading = chapter.lines().rev().find(|l| l.starts_with("## "));
    if last_heading != Some("## Quiz") {
        problems.push(format!(
            "{krate}.md: its last section is {last_heading:?}, not `## Quiz`"
        ));
    }
    if chapter.lines().rev().find(|l| !l.trim().is_empty()) != Some(directive.as_str()) {
        problems.push(format!("{krate}.md: does not end with `{directive}`"));
    }

    let path = src.join("quizzes").join(format!("{krate}.toml"));
    let text = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) => return vec![format!("{}: {err}", path.display())],
    };
    let quiz: toml::Table = match text.parse() {
        Ok(quiz) => quiz,
        Err(err) => return vec![format!("{}: {err}", path.display())],
    };
    let questions: Vec<toml::Table> = quiz
        .get("questions")
        .and_then(|q| q.as_array())
        .map(|q| q.iter().filter_map(|q| q.as_table().cloned()).collect())
        .unwrap_or_default();
    if !(4..=6).contains(&questions.len()) {
        problems.push(format!(
            "{krate}.toml: {} questions, not 4 to 6",
            questions.len()
        ));
    }
    let log = fs::read_to_string(
        TIMELINES
            .iter()
            .find(|t| t.krate == krate)
            .expect("a timeline")
            .log_path(root),
    )
    .expect("reading the timeline log");
    let mut traced = 0;
    for (i, question) in questions.iter().enumerate() {
        let n = i + 1;
        if string(question, &["context"]).is_none_or(|c| c.trim().is_empty()) {
            problems.push(format!(
                "{krate}.toml, question {n}: no context explains the answer"
            ));
        }
        // mdbook-quiz writes a missing id into the file when it builds the
        // book: committed ids keep a build from changing the sources.
        if string(question, &["id"]).is_none() {
            problems.push(format!("{krate}.toml, question {n}: no id (build the book with mdbook-quiz once, and commit the ids it adds)"));
        }
        let prompt = string(question, &["prompt", "prompt"]).unwrap_or_default();
        if let Some(block) =
            text_block(prompt).filter(|b| b.iter().any(|l| trace::parse_line(l).is_some()))
        {
            traced += 1;
            problems.extend(trace_problems(krate, n, question, &block, &log));
        }
    }
    if traced == 0 {
        problems.push(format!(
            "{krate}.toml: no \"which trace line comes next?\" question"
        ));
    }
    problems
}

#[test]
fn every_experiment_chapter_ends_with_a_quiz_whose_trace_answers_match_the_run() {
    let root = book::root();
    let problems: Vec<String> = TIMELINES
        .iter()
        .flat_map(|t| quiz_problems(&root, t.krate))
        .collect();
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
    // The logs these questions are checked against are the ones pictures.rs keeps current.
    assert!(
        TIMELINES
            .iter()
            .all(|t| t.log_path(&root).starts_with(pictures::pictures_dir(&root)))
    );
}
