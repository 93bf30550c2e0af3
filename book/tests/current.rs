//! (a) Every generated file is current: `cargo run -p book -- generate`
//! would not change it.

/// Fails listing `problems`, with the command that fixes them.
fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "\n{}\n\nrun `{}` and commit book/src/generated\n",
        problems.join("\n"),
        book::GENERATE
    );
}

#[test]
fn diff_fragments_match_the_crates() {
    assert_none(book::stale_fragments(&book::root()).expect("reading the crates and the book"));
}

/// Builds and runs every demo (twice: plain and traced), so it takes a few
/// seconds. Runs are compared as `book/tool/transcript.rs` describes.
#[test]
fn transcripts_match_fresh_runs_of_the_demos() {
    assert_none(book::stale_transcripts(&book::root()).expect("building and running the demos"));
}
