//! (b) Each stage's chapter includes every generated file of its stage
//! exactly once, and no chapter includes a file that does not exist;
//! (c) every chapter `SUMMARY.md` lists exists.

fn assert_none(problems: Vec<String>) {
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

#[test]
fn every_generated_file_is_included_once_in_its_chapter() {
    assert_none(book::unnarrated_fragments(&book::root()).expect("reading the book"));
}

#[test]
fn no_chapter_includes_a_missing_file() {
    assert_none(book::missing_includes(&book::root()).expect("reading the book"));
}

#[test]
fn every_chapter_in_the_summary_exists() {
    assert_none(book::missing_chapters(&book::root()).expect("reading SUMMARY.md"));
}
