//! `cargo run -p book -- COMMAND`: see [`USAGE`].

use std::io::{self, Read, Write};
use std::process::ExitCode;

use book::timeline::{self, Options};
use book::trace::{self, Nanos};

/// What the tool does, printed for `help` or a wrong command.
const USAGE: &str = "\
usage: cargo run -p book -- COMMAND

commands:
  generate           write book/src/generated/: every stage's diff fragments,
                     its demo.txt and trace.txt, and the pictures in
                     generated/pictures/ (builds and runs the demos)
  generate --no-run  the diff fragments and the pictures that need no run
  check              report what is stale or not included (what `cargo test -p book` checks)
  timeline TRACE_FILE [--from MS] [--to MS] [--max-events N] [--cut MS]
                     draw an EXP_TRACE=1 trace (stderr of a stage; `-` reads stdin)
                     as an SVG timeline on stdout: `... timeline t.log > t.svg`.
                     --from/--to: the window, in ms on the trace's clock;
                     --max-events: the most events drawn (default 250);
                     --cut: cut stretches with no event longer than this";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let root = book::root();
    let result = match args.as_slice() {
        ["generate"] => book::generate(&root, true, &mut |line| println!("{line}")).map(|()| true),
        ["generate", "--no-run"] => {
            book::generate(&root, false, &mut |line| println!("{line}")).map(|()| true)
        }
        ["check"] => check(&root),
        ["timeline", rest @ ..] => match timeline(rest) {
            Some(result) => result.map(|()| true),
            None => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        },
        ["help" | "--help" | "-h"] => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("book: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Prints every problem; `Ok(true)` when there is none.
fn check(root: &std::path::Path) -> std::io::Result<bool> {
    let mut problems = book::stale_fragments(root)?;
    problems.extend(book::stale_transcripts(root)?);
    problems.extend(book::pictures::stale(root)?);
    let stages: Vec<_> = book::stages::STAGES.to_vec();
    let demos = book::transcript::Demos::build(root, &stages)?;
    book::pictures::build_examples(root)?;
    for picture in book::pictures::TIMELINES {
        problems.extend(book::pictures::stale_run(root, &demos, picture.krate)?);
    }
    let stale = !problems.is_empty();
    problems.extend(book::missing_includes(root)?);
    problems.extend(book::unnarrated_fragments(root)?);
    problems.extend(book::missing_chapters(root)?);
    problems.extend(book::pictures::unshown(root)?);
    for problem in &problems {
        println!("{problem}");
    }
    if stale {
        println!(
            "run `{}` to bring book/src/generated up to date",
            book::GENERATE
        );
    }
    Ok(problems.is_empty())
}

/// `timeline TRACE_FILE [OPTIONS]`: prints the SVG; `None` when the
/// arguments are wrong.
fn timeline(args: &[&str]) -> Option<io::Result<()>> {
    let mut options = Options::default();
    let mut file = None;
    let mut args = args.iter();
    while let Some(&arg) = args.next() {
        let ms = |value: Option<&&str>| -> Option<Nanos> { trace::decimal(value?, 1_000_000) };
        match arg {
            "--from" => options.from = Some(ms(args.next())?),
            "--to" => options.to = Some(ms(args.next())?),
            "--cut" => options.cut = Some(ms(args.next())?),
            "--max-events" => options.max_events = args.next()?.parse().ok().filter(|&n| n > 0)?,
            _ if file.is_none() && (arg == "-" || !arg.starts_with('-')) => file = Some(arg),
            _ => return None,
        }
    }
    if options
        .from
        .zip(options.to)
        .is_some_and(|(from, to)| from > to)
    {
        return None;
    }
    let file = file?;
    Some((|| {
        let mut text = String::new();
        if file == "-" {
            io::stdin().read_to_string(&mut text)?;
        } else {
            // A trace is text, but a stray byte must not stop the picture.
            text = String::from_utf8_lossy(&std::fs::read(file)?).into_owned();
        }
        let parsed = trace::parse(&text);
        if parsed.lines.is_empty() {
            eprintln!(
                "book: {file} has no trace lines (`[trace   12.345 ms scheduler] ...`, see book/tool/trace.rs)"
            );
        }
        let svg = timeline::svg(&timeline::view(&parsed, &options));
        io::stdout().write_all(svg.as_bytes())
    })())
}
