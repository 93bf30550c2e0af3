//! The chapter 6 eventfd exercise runs exp6 with the reader's self-wake: its
//! `scheduler/lib.rs` is exp6's `src/lib.rs`, and its tests are exp6's
//! `tests/self_wake.rs` and `tests/common/mod.rs`, copied with the crate's
//! name changed (the other modules it loads from exp6 by `#[path]`). These
//! tests fail when exp6's files change and the copies do not follow.
//!
//! Lines are compared as sets, sorted, after the name is changed and the
//! lines only the copy has are left out: its module doc (`//!`), the
//! `#[path]` attributes, and its own test module. A line added, removed or
//! changed on either side fails; an import that `rustfmt` sorted elsewhere
//! after the renaming does not.

use std::fs;

/// `text`'s lines with exp6's crate name as the copy has it, without the
/// lines only the copy has, sorted.
fn comparable(text: &str) -> Vec<String> {
    let copy_only = |line: &str| {
        line.starts_with("//!")
            || line.starts_with("#[path = ")
            || line == "#[cfg(test)]"
            || line == "mod eventfd_tests;"
            || line.is_empty()
    };
    let mut lines: Vec<String> = text
        .lines()
        .map(|line| line.replace("exp6_combined", "ch6_eventfd"))
        .filter(|line| !copy_only(line))
        .collect();
    lines.sort();
    lines
}

fn assert_copy(original: &str, copy: &str) {
    let root = book::root();
    let read = |path: &str| {
        fs::read_to_string(root.join(path)).unwrap_or_else(|err| panic!("reading {path}: {err}"))
    };
    let (want, got) = (comparable(&read(original)), comparable(&read(copy)));
    let only = |a: &[String], b: &[String]| -> Vec<String> {
        a.iter().filter(|line| !b.contains(line)).cloned().collect()
    };
    assert!(
        want == got,
        "{copy} no longer follows {original}: copy it again (and change exp6_combined to \
         ch6_eventfd)\n  only in {original}: {:?}\n  only in {copy}: {:?}",
        only(&want, &got),
        only(&got, &want)
    );
}

#[test]
fn the_eventfd_exercise_runs_exp6s_own_lib() {
    assert_copy(
        "exp6-combined/src/lib.rs",
        "book/exercises/ch6-eventfd/scheduler/lib.rs",
    );
}

#[test]
fn the_eventfd_exercise_runs_exp6s_own_self_wake_tests() {
    assert_copy(
        "exp6-combined/tests/self_wake.rs",
        "book/exercises/ch6-eventfd/tests/check.rs",
    );
    assert_copy(
        "exp6-combined/tests/common/mod.rs",
        "book/exercises/ch6-eventfd/tests/common/mod.rs",
    );
}
