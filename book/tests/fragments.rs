//! The fragments tell the truth: applying a stage's hunks, in order, to the
//! parent's files gives the child's (and its hunks against another crate, to
//! that crate's file), and the pieces of a new file are its lines, at the
//! line numbers their captions give.

use std::fs;
use std::path::Path;

use book::diff::{FragmentKind, stage_fragments};
use book::markdown::fenced_body;
use book::stages::{STAGES, dir_of};

/// `(first, count)` of a `@@` header side: `-12,3`, `+7`, `-4,0`.
fn header_range(side: &str) -> (usize, usize) {
    let (start, count) = side[1..].split_once(',').unwrap_or((&side[1..], "1"));
    (start.parse().unwrap(), count.parse().unwrap())
}

/// Applies `hunks` (each a `diff` block body) to `old`.
fn apply(old: &str, hunks: &[String]) -> String {
    let old: Vec<&str> = old.lines().collect();
    let mut new: Vec<String> = Vec::new();
    let mut next_old = 0; // index of the first old line not yet copied
    for hunk in hunks {
        let mut lines = hunk.lines();
        let header = lines.next().unwrap();
        let sides: Vec<&str> = header.split_whitespace().collect();
        assert_eq!((sides[0], sides[3]), ("@@", "@@"), "{header}");
        let (old_start, old_count) = header_range(sides[1]);
        let (new_start, new_count) = header_range(sides[2]);
        // An empty range names the line before it.
        let at = if old_count == 0 {
            old_start
        } else {
            old_start - 1
        };
        let new_at = if new_count == 0 {
            new_start
        } else {
            new_start - 1
        };
        assert!(at >= next_old, "hunks out of order at {header}");
        new.extend(old[next_old..at].iter().map(|line| line.to_string()));
        assert_eq!(new.len(), new_at, "{header}: the new side starts elsewhere");
        next_old = at;
        for line in lines {
            let (tag, text) = line.split_at(1);
            match tag {
                " " => {
                    assert_eq!(old[next_old], text, "context of {header}");
                    new.push(text.to_string());
                    next_old += 1;
                }
                "-" => {
                    assert_eq!(old[next_old], text, "removed line of {header}");
                    next_old += 1;
                }
                "+" => new.push(text.to_string()),
                _ => panic!("unexpected line in {header}: {line:?}"),
            }
        }
    }
    new.extend(old[next_old..].iter().map(|line| line.to_string()));
    new.iter().map(|line| format!("{line}\n")).collect()
}

/// The line range in a caption: "lines 3-7:" or "line 3:".
fn caption_range(markdown: &str) -> (usize, usize) {
    let caption = markdown.lines().nth(1).unwrap();
    let range = caption
        .rsplit_once(", line")
        .map(|(_, range)| range.trim_start_matches('s').trim().trim_end_matches(':'))
        .unwrap_or_else(|| panic!("no line range in {caption:?}"));
    match range.split_once('-') {
        Some((first, last)) => (first.parse().unwrap(), last.parse().unwrap()),
        None => (range.parse().unwrap(), range.parse().unwrap()),
    }
}

#[test]
fn hunks_turn_each_parent_file_into_the_child_file() {
    let root = book::root();
    for stage in STAGES {
        let Some(parent) = stage.parent else { continue };
        let fragments = stage_fragments(&root, stage).unwrap();
        let mut sources: Vec<&str> = fragments
            .iter()
            .filter(|f| f.kind == FragmentKind::Hunk && !f.name.starts_with("from-"))
            .map(|f| f.source.as_str())
            .collect();
        sources.dedup();
        for source in sources {
            let hunks: Vec<String> = fragments
                .iter()
                .filter(|f| {
                    f.kind == FragmentKind::Hunk
                        && !f.name.starts_with("from-")
                        && f.source == source
                })
                .map(|f| fenced_body(&f.markdown).unwrap())
                .collect();
            let old =
                fs::read_to_string(root.join(dir_of(parent)).join(source)).unwrap_or_default();
            let new = fs::read_to_string(root.join(stage.dir).join(source)).unwrap_or_default();
            assert_eq!(apply(&old, &hunks), new, "{}/{source}", stage.krate);
        }
    }
}

#[test]
fn hunks_against_another_crate_turn_its_file_into_the_child_file() {
    let root = book::root();
    for stage in STAGES {
        let fragments = stage_fragments(&root, stage).unwrap();
        for also in stage.also {
            let prefix = format!("from-{}/", also.from);
            let hunks: Vec<String> = fragments
                .iter()
                .filter(|f| f.name.starts_with(&prefix) && f.source == also.path)
                .map(|f| fenced_body(&f.markdown).unwrap())
                .collect();
            let old = fs::read_to_string(root.join(dir_of(also.from)).join(also.path)).unwrap();
            let new = fs::read_to_string(root.join(stage.dir).join(also.path)).unwrap();
            assert_eq!(
                apply(&old, &hunks),
                new,
                "{}/{} from {}",
                stage.krate,
                also.path,
                also.from
            );
        }
    }
}

#[test]
fn new_file_pieces_are_the_file_at_their_captions_line_numbers() {
    let root = book::root();
    for stage in STAGES {
        let fragments = stage_fragments(&root, stage).unwrap();
        let mut sources: Vec<&str> = fragments
            .iter()
            .filter(|f| f.kind == FragmentKind::NewPiece)
            .map(|f| f.source.as_str())
            .collect();
        sources.dedup();
        for source in sources {
            let text = fs::read_to_string(Path::new(&root).join(stage.dir).join(source)).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            let mut covered = vec![false; lines.len()];
            // Only the pieces: a file new since the parent may also have a
            // diff against another crate (exp6's pool.rs against exp4's).
            for fragment in fragments
                .iter()
                .filter(|f| f.kind == FragmentKind::NewPiece && f.source == source)
            {
                let (first, last) = caption_range(&fragment.markdown);
                let body = fenced_body(&fragment.markdown).unwrap();
                let shown: Vec<&str> = body.lines().collect();
                assert_eq!(shown, lines[first - 1..last], "{}", fragment.name);
                covered[first - 1..last].iter_mut().for_each(|c| *c = true);
            }
            for (n, line) in lines.iter().enumerate() {
                assert!(
                    covered[n] || line.trim().is_empty(),
                    "{}/{source} line {} is in no piece",
                    stage.krate,
                    n + 1
                );
            }
        }
    }
}
