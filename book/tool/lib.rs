//! The book's tool: it generates what the chapters include from the crates,
//! and checks that it is current and that the chapters include all of it.
//!
//! For each stage of [`stages::STAGES`] it writes, under
//! `book/src/generated/CRATE/`:
//!
//! - one Markdown fragment per hunk of the crate's diff from its parent
//!   (`src/` and `Cargo.toml`, unified, 3 lines of context), or per piece of
//!   a file that is new in it: [`diff`], cut where [`split`] says;
//! - `demo.txt` and `trace.txt`, the demo's real output: [`transcript`].
//!
//! and under `book/src/generated/pictures/` the chapters' pictures: a
//! timeline of a real run per stage, a component map per stage, the loop,
//! and the races of chapters 4 and 6 ([`pictures`], [`diagrams`]).
//!
//! `cargo run -p book -- generate` writes them; `cargo run -p book -- check`
//! and `cargo test -p book` check them.
//!
//! `cargo run -p book -- timeline TRACE_FILE` draws an `EXP_TRACE=1` trace
//! ([`trace`] reads its lines) as an SVG timeline: [`timeline`].

pub mod diagrams;
pub mod diff;
pub mod markdown;
pub mod pictures;
pub mod split;
pub mod stages;
pub mod timeline;
pub mod trace;
pub mod transcript;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use stages::{STAGES, Stage};
use transcript::{Demos, Which};

/// What to run after changing a crate.
pub const GENERATE: &str = "cargo run -p book -- generate";

/// The workspace root (the folder above `book/`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("book/ has a parent")
        .to_path_buf()
}

/// `book/src`, where the chapters and `generated/` are.
pub fn book_src(root: &Path) -> PathBuf {
    root.join("book").join("src")
}

/// `book/src/generated`.
pub fn generated_root(root: &Path) -> PathBuf {
    book_src(root).join("generated")
}

/// `book/src/generated/CRATE`.
pub fn generated_dir(root: &Path, stage: &Stage) -> PathBuf {
    generated_root(root).join(stage.krate)
}

/// Every fragment file as it should be, by path: the diffs, not the
/// transcripts.
pub fn expected_fragments(root: &Path) -> io::Result<BTreeMap<PathBuf, String>> {
    let mut expected = BTreeMap::new();
    for stage in STAGES {
        let dir = generated_dir(root, stage);
        for fragment in diff::stage_fragments(root, stage)? {
            expected.insert(dir.join(&fragment.name), fragment.markdown);
        }
    }
    Ok(expected)
}

/// The transcript files every stage has.
fn transcript_paths(root: &Path) -> BTreeSet<PathBuf> {
    demo_stages()
        .flat_map(|stage| {
            Which::BOTH.map(|which| generated_dir(root, stage).join(which.file_name()))
        })
        .collect()
}

/// The stages whose chapters show their demo's transcripts.
fn demo_stages() -> impl Iterator<Item = &'static Stage> {
    STAGES.iter().filter(|stage| stage.transcripts)
}

/// Every file under `dir`, recursively; none if it does not exist.
pub fn files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        for entry in entries {
            let path = entry?.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

/// `path` relative to the workspace root, for messages.
pub(crate) fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Writes every generated file that is missing or out of date and removes
/// the ones no stage produces any more. With `run_demos`, also builds and
/// runs the demos for the transcripts; a transcript that matches the fresh
/// run (see [`transcript::same`]) is left as it is, so that regenerating
/// does not rewrite every timestamp. Reports each change to `log`.
pub fn generate(root: &Path, run_demos: bool, log: &mut dyn FnMut(String)) -> io::Result<()> {
    let expected = expected_fragments(root)?;
    let transcripts = transcript_paths(root);
    for (path, markdown) in &expected {
        if fs::read_to_string(path).ok().as_deref() != Some(markdown.as_str()) {
            fs::create_dir_all(path.parent().expect("a generated file has a folder"))?;
            fs::write(path, markdown)?;
            log(format!("wrote   {}", shown(root, path)));
        }
    }
    for path in files_under(&generated_root(root))? {
        if !expected.contains_key(&path)
            && !transcripts.contains(&path)
            && !path.starts_with(pictures::pictures_dir(root))
        {
            fs::remove_file(&path)?;
            log(format!("removed {}", shown(root, &path)));
        }
    }
    remove_empty_dirs(&generated_root(root))?;
    if !run_demos {
        return pictures::generate(root, None, log);
    }
    let stages: Vec<Stage> = demo_stages().copied().collect();
    let demos = Demos::build(root, &stages)?;
    pictures::generate(root, Some(&demos), log)?;
    for stage in &stages {
        for which in Which::BOTH {
            let path = generated_dir(root, stage).join(which.file_name());
            let fresh = transcript::keep(&demos.run(root, stage, which)?, stage.demo.keep);
            let stored = fs::read_to_string(&path).ok();
            if stored
                .as_deref()
                .is_some_and(|stored| transcript_is_current(stage, which, stored, &fresh))
            {
                continue;
            }
            fs::create_dir_all(generated_dir(root, stage))?;
            fs::write(&path, transcript::markdown(stage, which, &fresh))?;
            log(format!("wrote   {}", shown(root, &path)));
        }
    }
    Ok(())
}

/// Whether the committed transcript file `stored` has the caption it
/// should and an output that counts as the same as `fresh`.
fn transcript_is_current(stage: &Stage, which: Which, stored: &str, fresh: &str) -> bool {
    let Some(body) = markdown::fenced_body(stored) else {
        return false;
    };
    transcript::markdown(stage, which, &body) == stored && transcript::same(stage, &body, fresh)
}

/// Removes the empty folders under `dir` (not `dir` itself).
fn remove_empty_dirs(dir: &Path) -> io::Result<()> {
    let Ok(entries) = fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries {
        let path = entry?.path();
        if path.is_dir() {
            remove_empty_dirs(&path)?;
            if fs::read_dir(&path)?.next().is_none() {
                fs::remove_dir(&path)?;
            }
        }
    }
    Ok(())
}

/// The diff fragments that are missing, differ from what the crates give
/// now, or that no stage produces: one message each.
pub fn stale_fragments(root: &Path) -> io::Result<Vec<String>> {
    let expected = expected_fragments(root)?;
    let transcripts = transcript_paths(root);
    let mut problems = Vec::new();
    for (path, markdown) in &expected {
        match fs::read_to_string(path) {
            Ok(text) if text == *markdown => {}
            Ok(_) => problems.push(format!("{} is stale", shown(root, path))),
            Err(_) => problems.push(format!("{} is missing", shown(root, path))),
        }
    }
    for path in files_under(&generated_root(root))? {
        if !expected.contains_key(&path)
            && !transcripts.contains(&path)
            && !path.starts_with(pictures::pictures_dir(root))
        {
            problems.push(format!(
                "{} is left over: no stage generates it",
                shown(root, &path)
            ));
        }
    }
    Ok(problems)
}

/// The transcripts that are missing or that none of
/// [`transcript::TRIES`] fresh runs matches: one message each.
pub fn stale_transcripts(root: &Path) -> io::Result<Vec<String>> {
    let stages: Vec<Stage> = demo_stages().copied().collect();
    let demos = Demos::build(root, &stages)?;
    let mut problems = Vec::new();
    for stage in &stages {
        for which in Which::BOTH {
            let path = generated_dir(root, stage).join(which.file_name());
            let Ok(stored) = fs::read_to_string(&path) else {
                problems.push(format!("{} is missing", shown(root, &path)));
                continue;
            };
            let mut last = String::new();
            let mut current = false;
            for _ in 0..transcript::TRIES {
                last = transcript::keep(&demos.run(root, stage, which)?, stage.demo.keep);
                if transcript_is_current(stage, which, &stored, &last) {
                    current = true;
                    break;
                }
            }
            if !current {
                let body = markdown::fenced_body(&stored).unwrap_or_default();
                problems.push(format!(
                    "{} is stale: {} fresh runs differ from it (normalised as book/tool/transcript.rs says)\n    {}",
                    shown(root, &path),
                    transcript::TRIES,
                    transcript::difference(stage, &body, &last)
                ));
            }
        }
    }
    Ok(problems)
}

/// `base` joined with `relative`, `..` and `.` resolved without touching
/// the file system.
fn resolve(base: &Path, relative: &str) -> PathBuf {
    let mut path = base.to_path_buf();
    for component in Path::new(relative).components() {
        match component {
            Component::ParentDir => {
                path.pop();
            }
            Component::CurDir => {}
            other => path.push(other),
        }
    }
    path
}

/// The chapters (every `.md` under `book/src`, `generated/` aside), with
/// the files each includes, resolved.
pub fn chapter_includes(root: &Path) -> io::Result<BTreeMap<PathBuf, Vec<PathBuf>>> {
    let generated = generated_root(root);
    let mut chapters = BTreeMap::new();
    for path in files_under(&book_src(root))? {
        if path.starts_with(&generated) || path.extension().is_none_or(|ext| ext != "md") {
            continue;
        }
        let text = fs::read_to_string(&path)?;
        let dir = path.parent().expect("a chapter has a folder");
        let includes = markdown::includes(&text)
            .iter()
            .map(|include| resolve(dir, include))
            .collect();
        chapters.insert(path, includes);
    }
    Ok(chapters)
}

/// Includes of files that do not exist: one message each.
pub fn missing_includes(root: &Path) -> io::Result<Vec<String>> {
    let mut problems = Vec::new();
    for (chapter, includes) in &chapter_includes(root)? {
        for include in includes {
            if !include.is_file() {
                problems.push(format!(
                    "{} includes {}, which does not exist",
                    shown(root, chapter),
                    shown(root, include)
                ));
            }
        }
    }
    Ok(problems)
}

/// Each generated file of a stage that the stage's chapter does not include
/// exactly once, and each stage whose chapter or generated files are
/// missing: one message each.
pub fn unnarrated_fragments(root: &Path) -> io::Result<Vec<String>> {
    let chapters = chapter_includes(root)?;
    let mut problems = Vec::new();
    for stage in STAGES {
        let chapter = book_src(root).join(stage.chapter);
        let Some(includes) = chapters.get(&chapter) else {
            problems.push(format!(
                "{} (the chapter of {}) does not exist",
                shown(root, &chapter),
                stage.krate
            ));
            continue;
        };
        let files = files_under(&generated_dir(root, stage))?;
        if files.is_empty() {
            problems.push(format!(
                "{} has no generated files: run `{GENERATE}`",
                stage.krate
            ));
        }
        for file in files {
            let count = includes.iter().filter(|include| **include == file).count();
            if count != 1 {
                problems.push(format!(
                    "{} includes {} {count} times, not once",
                    shown(root, &chapter),
                    shown(root, &file)
                ));
            }
        }
    }
    Ok(problems)
}

/// Chapters `SUMMARY.md` links to that do not exist: one message each.
pub fn missing_chapters(root: &Path) -> io::Result<Vec<String>> {
    let src = book_src(root);
    let summary = fs::read_to_string(src.join("SUMMARY.md"))?;
    Ok(markdown::summary_chapters(&summary)
        .into_iter()
        .filter(|chapter| !src.join(chapter).is_file())
        .map(|chapter| format!("SUMMARY.md lists {chapter}, which does not exist"))
        .collect())
}
