//! `cargo run -p book -- COMMAND`: see [`USAGE`].

use std::process::ExitCode;

/// What the tool does, printed for `help` or a wrong command.
const USAGE: &str = "\
usage: cargo run -p book -- COMMAND

commands:
  generate           write book/src/generated/: every stage's diff fragments,
                     and its demo.txt and trace.txt (builds and runs the demos)
  generate --no-run  the diff fragments only
  check              report what is stale or not included (what `cargo test -p book` checks)";

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
    let stale = !problems.is_empty();
    problems.extend(book::missing_includes(root)?);
    problems.extend(book::unnarrated_fragments(root)?);
    problems.extend(book::missing_chapters(root)?);
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
