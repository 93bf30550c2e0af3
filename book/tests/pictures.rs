//! (e) The chapters' pictures are current: each SVG is what its committed
//! log, or the diagram code, draws now (byte for byte); each committed log
//! has the structure of a fresh run (lanes, kinds of step and their order
//! on each lane, times aside: `book::pictures::shape`); and each
//! experiment chapter shows its pictures.
//!
//! One test per timeline, so that the runs (a second or two each) overlap.

use std::sync::OnceLock;

use book::pictures;
use book::stages::{self, Stage};
use book::transcript::Demos;

/// The demos and the examples, built once for all the tests of this file.
fn demos() -> &'static Demos {
    static DEMOS: OnceLock<Demos> = OnceLock::new();
    DEMOS.get_or_init(|| {
        let stages: Vec<Stage> = stages::STAGES.to_vec();
        let root = book::root();
        Demos::build(&root, &stages).expect("building the demos");
        pictures::build_examples(&root).expect("building the examples")
    })
}

fn assert_none(problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "\n{}\n\nrun `{}` and commit book/src/generated\n",
        problems.join("\n"),
        book::GENERATE
    );
}

#[test]
fn every_picture_is_what_its_log_or_the_code_draws() {
    assert_none(pictures::stale(&book::root()).expect("reading the pictures"));
}

#[test]
fn every_chapter_shows_its_pictures() {
    let problems = pictures::unshown(&book::root()).expect("reading the chapters");
    assert!(problems.is_empty(), "\n{}\n", problems.join("\n"));
}

/// Fails when `krate`'s committed timeline no longer has the structure of
/// a fresh run.
fn current(krate: &str) {
    let stale = pictures::stale_run(&book::root(), demos(), krate).expect("running the scene");
    assert_none(stale.into_iter().collect());
}

#[test]
fn exp1_timeline_is_current() {
    current("exp1-simplest");
}

#[test]
fn exp2_timeline_is_current() {
    current("exp2-sleep");
}

#[test]
fn exp3_timeline_is_current() {
    current("exp3-spawn");
}

#[test]
fn exp4_timeline_is_current() {
    current("exp4-threadpool");
}

#[test]
fn exp5_timeline_is_current() {
    current("exp5-selectors");
}

#[test]
fn exp6_timeline_is_current() {
    current("exp6-combined");
}
