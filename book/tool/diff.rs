//! The fragments of a stage: each hunk of its diff from the parent, and each
//! piece of a file that is new in it, as ready-to-include Markdown.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use similar::udiff::UnifiedDiffHunk;
use similar::{Algorithm, ChangeTag, DiffOp, TextDiff};

use crate::markdown::{HEADER, fenced};
use crate::split::{self, Line};
use crate::stages::{Stage, dir_of};

/// Lines of context around each change, as in `diff -u`.
pub const CONTEXT: usize = 3;

/// One generated fragment of a stage's diff.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// The file's name inside `book/src/generated/CRATE/`: `lib.rs-03.md`,
    /// `from-exp4-threadpool/pool.rs-01.md`.
    pub name: String,
    /// The source file it shows, relative to the crate: `src/lib.rs`.
    pub source: String,
    /// What it shows.
    pub kind: FragmentKind,
    /// The Markdown: caption and fenced block.
    pub markdown: String,
}

/// What a [`Fragment`] shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FragmentKind {
    /// A hunk of the diff of a file the parent also has (or had).
    Hunk,
    /// A piece of a file the parent does not have (every file of the first
    /// stage).
    NewPiece,
}

/// Every fragment of `stage`: the hunks of each changed file, the pieces of
/// each new file, then the hunks of each [`Also`](crate::stages::Also) file,
/// files in path order with `Cargo.toml` first.
pub fn stage_fragments(root: &Path, stage: &Stage) -> io::Result<Vec<Fragment>> {
    let child = root.join(stage.dir);
    let mut paths = source_files(&child)?;
    if let Some(parent) = stage.parent {
        paths.extend(source_files(&root.join(dir_of(parent)))?);
    }
    paths.sort_by_key(|path| (path != "Cargo.toml", path.clone()));
    paths.dedup();
    // A file that came from another crate is shown only as its diff from
    // that crate, below, not again as new.
    paths.retain(|path| !stage.also.iter().any(|also| also.path == path));

    let mut fragments = Vec::new();
    for path in &paths {
        let new = read_optional(&child.join(path))?;
        let file = File {
            krate: stage.krate,
            path,
            name_prefix: String::new(),
            compared_with: None,
            removed_from: None,
        };
        match stage.parent {
            None => fragments.extend(new_file_pieces(&file, &new.unwrap_or_default(), false)),
            Some(parent) => match (read_optional(&root.join(dir_of(parent)).join(path))?, new) {
                (Some(old), Some(new)) => fragments.extend(hunks(&file, &old, &new)),
                (None, Some(new)) => fragments.extend(new_file_pieces(&file, &new, true)),
                (Some(old), None) => {
                    let file = File {
                        removed_from: Some(parent),
                        ..file
                    };
                    fragments.extend(hunks(&file, &old, ""));
                }
                (None, None) => unreachable!("{path} was listed in one of the crates"),
            },
        }
    }
    for also in stage.also {
        let old = fs::read_to_string(root.join(dir_of(also.from)).join(also.path))?;
        let new = fs::read_to_string(child.join(also.path))?;
        let compared_with = format!("{}/{}", also.from, also.path);
        let file = File {
            krate: stage.krate,
            path: also.path,
            name_prefix: format!("from-{}/", also.from),
            compared_with: Some(&compared_with),
            removed_from: None,
        };
        fragments.extend(hunks(&file, &old, &new));
    }
    Ok(fragments)
}

/// The files a stage's diff covers, relative to the crate: `Cargo.toml`
/// and everything under `src/`.
pub fn source_files(krate: &Path) -> io::Result<Vec<String>> {
    let mut files = Vec::new();
    if krate.join("Cargo.toml").is_file() {
        files.push("Cargo.toml".to_string());
    }
    let mut dirs = vec![PathBuf::from("src")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = fs::read_dir(krate.join(&dir)) else {
            continue;
        };
        for entry in entries {
            let relative = dir.join(entry?.file_name());
            if krate.join(&relative).is_dir() {
                dirs.push(relative);
            } else {
                files.push(slash_path(&relative));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// A path with `/` separators, whatever the platform.
fn slash_path(path: &Path) -> String {
    path.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

fn read_optional(path: &Path) -> io::Result<Option<String>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err),
    }
}

/// The file a run of fragments shows.
struct File<'a> {
    krate: &'a str,
    /// Relative to the crate.
    path: &'a str,
    /// Put before the fragment names: a folder for [`Also`](crate::stages::Also) diffs.
    name_prefix: String,
    /// For an [`Also`](crate::stages::Also) diff: the other crate's file.
    compared_with: Option<&'a str>,
    /// For a file the stage no longer has: the parent that had it.
    removed_from: Option<&'a str>,
}

impl File<'_> {
    /// `lib.rs-03.md`: the path without `src/`, and the fragment's number.
    fn fragment_name(&self, number: usize, count: usize) -> String {
        let short = self.path.strip_prefix("src/").unwrap_or(self.path);
        let width = count.to_string().len().max(2);
        format!("{}{short}-{number:0width$}.md", self.name_prefix)
    }

    /// `` **`exp3-spawn/src/lib.rs`**, lines 204-224: ``, or for a removed
    /// file `` **`exp2-sleep/src/old.rs`** (removed in `exp3-spawn`): ``.
    fn caption(&self, note: &str, lines: &str) -> String {
        if let Some(parent) = self.removed_from {
            return format!(
                "**`{parent}/{}`** (removed in `{}`):",
                self.path, self.krate
            );
        }
        let compared = match self.compared_with {
            Some(other) => format!(" (compared with `{other}`)"),
            None => String::new(),
        };
        format!(
            "**`{}/{}`**{note}{compared}, {lines}:",
            self.krate, self.path
        )
    }
}

/// "lines 3-7", "line 3", or "removed after line 3" for an empty range.
fn line_range(first: usize, count: usize) -> String {
    match count {
        0 => format!("lines removed after line {first}"),
        1 => format!("line {}", first + 1),
        _ => format!("lines {}-{}", first + 1, first + count),
    }
}

fn language(path: &str) -> &'static str {
    match Path::new(path).extension().and_then(|ext| ext.to_str()) {
        Some("rs") => "rust",
        Some("toml") => "toml",
        _ => "text",
    }
}

/// A new file cut at its items (see [`split`]), each piece a code block.
fn new_file_pieces(file: &File, text: &str, new_in_child: bool) -> Vec<Fragment> {
    let lines = Line::of_file(text);
    let starts = split::piece_starts(&lines);
    let note = if new_in_child { " (new file)" } else { "" };
    let count = starts.len();
    (0..count)
        .map(|n| {
            let start = starts[n];
            let mut end = starts.get(n + 1).copied().unwrap_or(lines.len());
            while end > start + 1 && lines[end - 1].text.trim().is_empty() {
                end -= 1; // the blank line before the next piece
            }
            let code: String = lines[start..end]
                .iter()
                .map(|line| format!("{}\n", line.text))
                .collect();
            let caption = file.caption(note, &line_range(start, end - start));
            Fragment {
                name: file.fragment_name(n + 1, count),
                source: file.path.to_string(),
                kind: FragmentKind::NewPiece,
                markdown: format!(
                    "{HEADER}\n{caption}\n\n{}",
                    fenced(language(file.path), &code)
                ),
            }
        })
        .collect()
}

/// The hunks of `old` to `new`, long runs of added lines cut at their items
/// (see [`split`]) so that each piece is a hunk of its own.
fn hunks(file: &File, old: &str, new: &str) -> Vec<Fragment> {
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .diff_lines(old, new);
    let pieces: Vec<Vec<DiffOp>> = diff
        .grouped_ops(CONTEXT)
        .into_iter()
        .filter(|ops| !ops.is_empty())
        .flat_map(|ops| cut_hunk(&diff, ops))
        .collect();
    let count = pieces.len();
    pieces
        .into_iter()
        .enumerate()
        .map(|(n, ops)| {
            let first = ops[0].new_range().start;
            let last = ops[ops.len() - 1].new_range().end;
            let hunk = UnifiedDiffHunk::new(ops, &diff, true).to_string();
            let caption = file.caption("", &line_range(first, last - first));
            Fragment {
                name: file.fragment_name(n + 1, count),
                source: file.path.to_string(),
                kind: FragmentKind::Hunk,
                markdown: format!("{HEADER}\n{caption}\n\n{}", fenced("diff", &hunk)),
            }
        })
        .collect()
}

/// Cuts one hunk where [`split::piece_starts`] says, between two added
/// lines, into hunks whose ops cover the same lines.
fn cut_hunk(diff: &TextDiff<str>, ops: Vec<DiffOp>) -> Vec<Vec<DiffOp>> {
    let changes: Vec<(ChangeTag, String)> = ops
        .iter()
        .flat_map(|op| diff.iter_changes(op))
        .map(|change| {
            (
                change.tag(),
                change.to_string_lossy().trim_end().to_string(),
            )
        })
        .collect();
    let lines: Vec<Line> = changes
        .iter()
        .enumerate()
        .map(|(i, (tag, text))| Line {
            text,
            may_start: i > 0 && *tag == ChangeTag::Insert && changes[i - 1].0 == ChangeTag::Insert,
            removed: *tag == ChangeTag::Delete,
        })
        .collect();
    // A piece must change something beyond a blank line: context and the
    // blank line before an item stay with that item.
    let changes_something = |range: std::ops::Range<usize>| {
        changes[range]
            .iter()
            .any(|(tag, text)| *tag != ChangeTag::Equal && !text.is_empty())
    };
    let mut starts = split::piece_starts(&lines);
    let mut kept = 1;
    for n in 1..starts.len() {
        if changes_something(starts[kept - 1]..starts[n]) {
            starts[kept] = starts[n];
            kept += 1;
        }
    }
    starts.truncate(kept);
    let mut pieces = Vec::with_capacity(starts.len());
    let mut rest = ops;
    let mut done = 0; // change lines already cut off into `pieces`
    for &start in &starts[1..] {
        let (head, tail) = split_ops(rest, start - done);
        pieces.push(head);
        rest = tail;
        done = start;
    }
    pieces.push(rest);
    pieces
}

/// Splits `ops` after their first `at` change lines. The cut must fall
/// between two added lines: inside an insert, after the removed lines of a
/// replace, or between ops.
fn split_ops(ops: Vec<DiffOp>, at: usize) -> (Vec<DiffOp>, Vec<DiffOp>) {
    let mut head = Vec::new();
    let mut seen = 0;
    let mut ops = ops.into_iter();
    for op in ops.by_ref() {
        let lines = op.old_range().len() + op.new_range().len();
        let lines = match op {
            DiffOp::Equal { len, .. } => len,
            _ => lines,
        };
        if seen + lines <= at {
            head.push(op);
            seen += lines;
            if seen == at {
                break;
            }
            continue;
        }
        let k = at - seen; // lines of `op` that go to the head
        let (first, second) = match op {
            DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => (
                DiffOp::Insert {
                    old_index,
                    new_index,
                    new_len: k,
                },
                DiffOp::Insert {
                    old_index,
                    new_index: new_index + k,
                    new_len: new_len - k,
                },
            ),
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } if k > old_len => (
                DiffOp::Replace {
                    old_index,
                    old_len,
                    new_index,
                    new_len: k - old_len,
                },
                DiffOp::Insert {
                    old_index: old_index + old_len,
                    new_index: new_index + k - old_len,
                    new_len: new_len - (k - old_len),
                },
            ),
            other => unreachable!("a hunk was cut inside {other:?}, not between added lines"),
        };
        head.push(first);
        let mut tail = vec![second];
        tail.extend(ops);
        return (head, tail);
    }
    (head, ops.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file() -> File<'static> {
        File {
            krate: "child",
            path: "src/lib.rs",
            name_prefix: String::new(),
            compared_with: None,
            removed_from: None,
        }
    }

    /// A scratch workspace under the system's temporary folder.
    fn scratch(name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
        let root = std::env::temp_dir().join(format!("book-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(path, text).unwrap();
        }
        root
    }

    #[test]
    fn changed_removed_and_also_files_each_get_their_fragments() {
        use crate::stages::Also;
        let root = scratch(
            "stage",
            &[
                ("four/src/pool.rs", "fn pool() {}\n"),
                ("five/src/lib.rs", "mod old;\n"),
                ("five/src/old.rs", "fn old() {}\n"),
                ("six/src/lib.rs", "mod pool;\n"),
                ("six/src/pool.rs", "fn pool() {}\n\nfn wake() {}\n"),
            ],
        );
        const ALSO: &[Also] = &[Also::new("four", "src/pool.rs")];
        let stage = Stage::child("six", "five", "six.md").also(ALSO);
        let fragments = stage_fragments(&root, &stage).unwrap();
        let names: Vec<&str> = fragments.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            // pool.rs came from crate four: only its diff from there, not
            // its pieces again as a new file.
            ["lib.rs-01.md", "old.rs-01.md", "from-four/pool.rs-01.md"]
        );
        assert!(
            fragments[1]
                .markdown
                .contains("**`five/src/old.rs`** (removed in `six`):")
        );
        assert!(fragments[1].markdown.contains("-fn old() {}"));
        let also = &fragments[2].markdown;
        assert!(
            also.contains("**`six/src/pool.rs`** (compared with `four/src/pool.rs`), lines 1-3:")
        );
        assert!(also.contains("+fn wake() {}"));
        fs::remove_dir_all(root).unwrap();
    }

    /// The `diff` block of a fragment, fences and caption left out.
    fn diff_body(fragment: &Fragment) -> String {
        let body: Vec<&str> = fragment
            .markdown
            .lines()
            .skip_while(|line| !line.starts_with("```"))
            .skip(1)
            .take_while(|line| !line.starts_with("```"))
            .collect();
        body.join("\n") + "\n"
    }

    #[test]
    fn an_uncut_hunk_is_exactly_what_similar_prints() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\n";
        let fragments = hunks(&file(), old, new);
        assert_eq!(fragments.len(), 1);
        let whole = TextDiff::from_lines(old, new)
            .unified_diff()
            .context_radius(CONTEXT)
            .to_string();
        assert_eq!(diff_body(&fragments[0]), whole);
        assert!(
            fragments[0]
                .markdown
                .contains("**`child/src/lib.rs`**, lines 1-7:")
        );
    }

    #[test]
    fn a_long_addition_is_cut_at_its_items_into_valid_hunks() {
        let old = "fn keep() {}\n";
        let new = "fn keep() {}\n\nfn one() {}\n\nfn two() {}\n";
        let fragments = hunks(&file(), old, new);
        let bodies: Vec<String> = fragments.iter().map(diff_body).collect();
        assert_eq!(
            bodies,
            [
                "@@ -1 +1,4 @@\n fn keep() {}\n+\n+fn one() {}\n+\n",
                "@@ -1,0 +5 @@\n+fn two() {}\n",
            ]
        );
        assert_eq!(fragments[1].name, "lib.rs-02.md");
        assert!(fragments[1].markdown.contains("line 5:"));
    }

    #[test]
    fn a_new_file_is_cut_into_code_blocks_without_trailing_blank_lines() {
        let fragments = new_file_pieces(&file(), "//! Doc.\n\nfn a() {}\n", true);
        assert_eq!(fragments.len(), 2);
        assert!(fragments[0].markdown.contains("(new file), line 1:"));
        assert!(fragments[0].markdown.ends_with("```rust\n//! Doc.\n```\n"));
        assert!(fragments[1].markdown.contains("line 3:"));
    }
}
