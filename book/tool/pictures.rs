//! The chapters' pictures, under `book/src/generated/pictures/`.
//!
//! - `CRATE-timeline.svg`: a real run drawn by [`crate::timeline`], beside
//!   `CRATE-timeline.txt`, the run's output it draws. Each run does the same
//!   things in the same order every time: the stage's demo for exp1 to exp4
//!   (a few tasks on timers), and a small example of the crate for exp5 and
//!   exp6, whose demos serve fifty clients at once (`examples/one_echo.rs`,
//!   `examples/two_jobs.rs`; the book's diffs cover `src/` and
//!   `Cargo.toml` only).
//! - the component maps, the loop and the races: [`crate::diagrams`].
//!
//! [`stale`] checks that each SVG is what the committed log (or the
//! diagram code) draws, and [`stale_run`] that the committed log still has
//! the structure of a fresh run: its [`timeline::summary`] made
//! run-independent by [`shape`].

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::stages;
use crate::timeline::{self, Kind, Options, Summary};
use crate::trace;
use crate::transcript::{Demos, Which};

/// A timeline of one stage's run.
#[derive(Clone, Copy, Debug)]
pub struct TimelinePicture {
    /// The stage's crate.
    pub krate: &'static str,
    /// The crate's example that the picture runs, or `None` for its demo.
    pub example: Option<&'static str>,
}

/// The timelines, one per experiment chapter.
pub const TIMELINES: &[TimelinePicture] = &[
    TimelinePicture {
        krate: "exp1-simplest",
        example: None,
    },
    TimelinePicture {
        krate: "exp2-sleep",
        example: None,
    },
    TimelinePicture {
        krate: "exp3-spawn",
        example: None,
    },
    TimelinePicture {
        krate: "exp4-threadpool",
        example: None,
    },
    TimelinePicture {
        krate: "exp5-selectors",
        example: Some("one_echo"),
    },
    TimelinePicture {
        krate: "exp6-combined",
        example: Some("two_jobs"),
    },
];

/// `book/src/generated/pictures`.
pub fn pictures_dir(root: &Path) -> PathBuf {
    crate::generated_root(root).join("pictures")
}

impl TimelinePicture {
    /// The SVG's path.
    pub fn svg_path(&self, root: &Path) -> PathBuf {
        pictures_dir(root).join(format!("{}-timeline.svg", self.krate))
    }

    /// The drawn log's path.
    pub fn log_path(&self, root: &Path) -> PathBuf {
        pictures_dir(root).join(format!("{}-timeline.txt", self.krate))
    }

    /// Runs it with `EXP_TRACE=1`: its whole output. `demos` has the
    /// demos built, and [`build_examples`] the examples.
    pub fn run(&self, root: &Path, demos: &Demos) -> io::Result<String> {
        match self.example {
            Some(example) => demos.run_example(root, example, Which::Trace),
            None => {
                let stage = stages::stage(self.krate).expect("a picture of a stage in the table");
                demos.run(root, stage, Which::Trace)
            }
        }
    }

    /// The SVG of the log.
    pub fn svg(&self, log: &str) -> String {
        timeline::render(log, &Options::default())
    }

    /// What the log's picture shows, as [`timeline::summary`] says.
    pub fn summary(&self, log: &str) -> Summary {
        timeline::summary(&timeline::view(&trace::parse(log), &Options::default()))
    }
}

/// Builds the examples the timelines run, beside the demos.
pub fn build_examples(root: &Path) -> io::Result<Demos> {
    let examples: Vec<(&str, &str)> = TIMELINES
        .iter()
        .filter_map(|picture| Some((picture.krate, picture.example?)))
        .collect();
    Demos::build_examples(root, &examples)
}

/// What of a summary every run shares: each lane's steps in order, idle
/// waits left out (how often the scheduler waited depends on timing), and
/// pool workers' lanes all called `pool` (whichever idle worker wakes first
/// takes a job).
pub fn shape(summary: &Summary) -> Vec<String> {
    let mut lanes: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for step in &summary.steps {
        if matches!(step.kind, Kind::Idle(_) | Kind::Awake) {
            continue;
        }
        let mut step = step.clone();
        if step.lane.starts_with("pool-") {
            step.lane = "pool".to_string();
        }
        lanes
            .entry(step.lane.clone())
            .or_default()
            .push(step.to_string());
    }
    lanes.into_values().flatten().collect()
}

/// Every picture file as the committed logs draw it, by path (the logs
/// themselves come from runs: [`generate`]).
pub fn expected(root: &Path) -> io::Result<BTreeMap<PathBuf, String>> {
    let mut files = BTreeMap::new();
    for picture in TIMELINES {
        let log = fs::read_to_string(picture.log_path(root)).unwrap_or_default();
        files.insert(picture.log_path(root), log.clone());
        files.insert(picture.svg_path(root), picture.svg(&log));
    }
    for (name, svg) in crate::diagrams::all() {
        files.insert(pictures_dir(root).join(name), svg);
    }
    Ok(files)
}

/// Writes the pictures that are missing or out of date; with `demos`, runs
/// each stage's demo first and keeps its new log unless the committed one
/// has the same [`shape`]. Removes files no picture produces.
pub fn generate(root: &Path, demos: Option<&Demos>, log: &mut dyn FnMut(String)) -> io::Result<()> {
    fs::create_dir_all(pictures_dir(root))?;
    if let Some(demos) = demos {
        build_examples(root)?;
        for picture in TIMELINES {
            let fresh = picture.run(root, demos)?;
            let stored = fs::read_to_string(picture.log_path(root)).ok();
            let current = stored.as_deref().is_some_and(|stored| {
                shape(&picture.summary(stored)) == shape(&picture.summary(&fresh))
            });
            if !current {
                fs::write(picture.log_path(root), fresh)?;
                log(format!(
                    "wrote   {}",
                    crate::shown(root, &picture.log_path(root))
                ));
            }
        }
    }
    let expected = expected(root)?;
    for (path, text) in &expected {
        if fs::read_to_string(path).ok().as_deref() != Some(text.as_str()) {
            fs::write(path, text)?;
            log(format!("wrote   {}", crate::shown(root, path)));
        }
    }
    for path in crate::files_under(&pictures_dir(root))? {
        if !expected.contains_key(&path) {
            fs::remove_file(&path)?;
            log(format!("removed {}", crate::shown(root, &path)));
        }
    }
    Ok(())
}

/// Pictures missing, left over, or not what the committed logs draw: one
/// message each. Runs nothing.
pub fn stale(root: &Path) -> io::Result<Vec<String>> {
    let expected = expected(root)?;
    let mut problems = Vec::new();
    for (path, text) in &expected {
        match fs::read_to_string(path) {
            Ok(stored) if stored == *text && !stored.is_empty() => {}
            Ok(_) => problems.push(format!("{} is stale", crate::shown(root, path))),
            Err(_) => problems.push(format!("{} is missing", crate::shown(root, path))),
        }
    }
    for path in crate::files_under(&pictures_dir(root))? {
        if !expected.contains_key(&path) {
            problems.push(format!(
                "{} is left over: no picture is drawn from it",
                crate::shown(root, &path)
            ));
        }
    }
    Ok(problems)
}

/// How many fresh runs [`stale_run`] tries before it calls a timeline stale.
/// More than a transcript's: a scene's shape can change with the timing of
/// threads, and on a loaded machine it often does. In exp6's scene, a worker
/// preempted between its wake and its `job_finished` finds the scheduler
/// parked again, and writes a second byte. The first run that matches ends
/// the search, so a quiet machine pays for one.
pub const PICTURE_TRIES: usize = 10;

/// Whether `krate`'s committed timeline log has the [`shape`] of one of
/// [`PICTURE_TRIES`] fresh runs of its demo; else what differs.
pub fn stale_run(root: &Path, demos: &Demos, krate: &str) -> io::Result<Option<String>> {
    let picture = TIMELINES
        .iter()
        .find(|picture| picture.krate == krate)
        .expect("a stage with a timeline");
    let stored = fs::read_to_string(picture.log_path(root)).unwrap_or_default();
    let want = shape(&picture.summary(&stored));
    let mut got = Vec::new();
    for _ in 0..PICTURE_TRIES {
        let fresh = picture.run(root, demos)?;
        got = shape(&picture.summary(&fresh));
        if got == want {
            return Ok(None);
        }
    }
    let only = |a: &[String], b: &[String]| -> String {
        a.iter()
            .filter(|step| !b.contains(step))
            .take(8)
            .map(|step| format!("\n      {step}"))
            .collect()
    };
    Ok(Some(format!(
        "{} no longer has the structure of a fresh run of {krate} ({} tries)\n    only in the committed log:{}\n    only in the fresh run:{}\n    (the whole fresh shape has {} steps, the committed one {})",
        crate::shown(root, &picture.log_path(root)),
        PICTURE_TRIES,
        only(&want, &got),
        only(&got, &want),
        got.len(),
        want.len()
    )))
}

/// The pictures a chapter must show, as paths relative to `book/src`.
pub fn chapter_pictures(krate: &str) -> Vec<String> {
    let mut names = Vec::new();
    if TIMELINES.iter().any(|picture| picture.krate == krate) {
        names.push(format!("generated/pictures/{krate}-timeline.svg"));
    }
    for (name, _) in crate::diagrams::all() {
        // The loop's picture is in chapter 2, whose loop it is.
        if name.starts_with(krate) || (name == "loop.svg" && krate == "exp2-sleep") {
            names.push(format!("generated/pictures/{name}"));
        }
    }
    names
}

/// Each picture a stage's chapter does not show: one message each.
pub fn unshown(root: &Path) -> io::Result<Vec<String>> {
    let mut problems = Vec::new();
    for stage in stages::STAGES {
        let chapter = crate::book_src(root).join(stage.chapter);
        let text = fs::read_to_string(&chapter).unwrap_or_default();
        for picture in chapter_pictures(stage.krate) {
            if !text.contains(&format!("({picture})")) && !text.contains(&format!("\"{picture}\""))
            {
                problems.push(format!(
                    "{} does not show {picture}",
                    crate::shown(root, &chapter)
                ));
            }
        }
    }
    Ok(problems)
}
