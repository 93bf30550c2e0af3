//! The stage table: which crate copies which, where its chapter is, and how
//! its demo is run for the transcripts.

/// One experiment crate, as the book sees it.
#[derive(Clone, Copy, Debug)]
pub struct Stage {
    /// The crate's package name: `exp2-sleep`.
    pub krate: &'static str,
    /// The crate's folder, relative to the workspace: its package name for
    /// the six stages, `book/tuned` for the tuned one.
    pub dir: &'static str,
    /// The crate it copies, whose diff the chapter walks; `None` for the
    /// first stage, whose chapter walks every file as new.
    pub parent: Option<&'static str>,
    /// The chapter that narrates the stage, relative to `book/src`.
    pub chapter: &'static str,
    /// Files that came from a crate other than the parent, each shown as a
    /// second diff against the same path in that crate.
    pub also: &'static [Also],
    /// How the demo is run and its transcripts kept and compared.
    pub demo: Demo,
    /// Whether the chapter shows the demo's transcripts: the tuned crate's
    /// demo is exp6's, and its chapter shows measurements instead.
    pub transcripts: bool,
}

/// A file of a stage diffed against the same file in another crate than its
/// parent: exp6's `src/pool.rs` against exp4's.
#[derive(Clone, Copy, Debug)]
pub struct Also {
    /// The crate the file came from.
    pub from: &'static str,
    /// The file's path inside both crates: `src/pool.rs`.
    pub path: &'static str,
}

/// How a stage's demo is run for `demo.txt` and `trace.txt`.
#[derive(Clone, Copy, Debug)]
pub struct Demo {
    /// Arguments for the demo: `cargo run -q -p CRATE -- ARGS`.
    pub args: &'static [&'static str],
    /// Which lines of a long transcript the book keeps.
    pub keep: Keep,
    /// When a fresh run counts as the same as the committed transcript.
    pub compare: Compare,
    /// Lines containing any of these are left out of the comparison: lines
    /// whose number depends on timing, like the scheduler's idle waits.
    pub varying: &'static [&'static str],
}

/// Which lines of a transcript the book keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// Every line.
    All,
    /// The first `head` and the last `tail` lines, with one line in between
    /// saying how many were left out.
    HeadTail {
        /// Lines kept from the start.
        head: usize,
        /// Lines kept from the end.
        tail: usize,
    },
}

/// When a fresh run of a demo counts as the same as the committed one. Both
/// are normalised first (see [`crate::transcript::normalise`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compare {
    /// The same lines, each as often, in any order: for demos whose events
    /// are the same every run but may swap places by a fraction of a
    /// millisecond.
    Lines,
    /// The same kinds of line, numbers aside, however often and in any
    /// order: for demos whose many clients interleave differently each run.
    Kinds,
}

impl Stage {
    /// The first stage: no parent, every file is new.
    pub const fn first(krate: &'static str, chapter: &'static str) -> Stage {
        Stage {
            krate,
            dir: krate,
            parent: None,
            chapter,
            also: &[],
            demo: Demo {
                args: &[],
                keep: Keep::All,
                compare: Compare::Lines,
                varying: DEFAULT_VARYING,
            },
            transcripts: true,
        }
    }

    /// A stage that copies `parent`.
    pub const fn child(krate: &'static str, parent: &'static str, chapter: &'static str) -> Stage {
        let mut stage = Stage::first(krate, chapter);
        stage.parent = Some(parent);
        stage
    }

    /// Lives in folder `dir` rather than in the folder named after it.
    pub const fn dir(mut self, dir: &'static str) -> Stage {
        self.dir = dir;
        self
    }

    /// Has no transcripts in the book.
    pub const fn no_transcripts(mut self) -> Stage {
        self.transcripts = false;
        self
    }

    /// Also diffs `path` against the same file in crate `from`.
    pub const fn also(mut self, also: &'static [Also]) -> Stage {
        self.also = also;
        self
    }

    /// Runs the demo with these arguments.
    pub const fn args(mut self, args: &'static [&'static str]) -> Stage {
        self.demo.args = args;
        self
    }

    /// Keeps only the first `head` and last `tail` lines of each transcript.
    pub const fn keep(mut self, head: usize, tail: usize) -> Stage {
        self.demo.keep = Keep::HeadTail { head, tail };
        self
    }

    /// Compares fresh runs with the committed transcripts this way.
    pub const fn compare(mut self, compare: Compare) -> Stage {
        self.demo.compare = compare;
        self
    }

    /// Leaves lines containing any of `varying` out of the comparison,
    /// instead of [`DEFAULT_VARYING`].
    pub const fn varying(mut self, varying: &'static [&'static str]) -> Stage {
        self.demo.varying = varying;
        self
    }
}

impl Also {
    /// `path` of the stage, diffed against `path` in `from`.
    pub const fn new(from: &'static str, path: &'static str) -> Also {
        Also { from, path }
    }
}

/// Trace lines whose count depends on timing: how often the scheduler found
/// nothing ready and waited.
pub const DEFAULT_VARYING: &[&str] = &["] idle:"];

/// The varying lines of a stage with a thread pool: the idle waits and the
/// line that counts the workers (one per CPU). Which worker ran a job
/// varies too, but only in the lane's name, which the comparison leaves out
/// (see [`crate::transcript::normalise`]).
pub const POOL_VARYING: &[&str] = &["] idle:", "pool: started"];

/// Every stage the book narrates, in reading order. Adding a stage is one
/// line here (and its chapter). For example:
///
/// ```text
/// Stage::child("exp4-threadpool", "exp3-spawn", "exp4-threadpool.md"),
/// Stage::child("exp5-selectors", "exp3-spawn", "exp5-selectors.md").keep(40, 15).compare(Compare::Kinds),
/// Stage::child("exp6-combined", "exp5-selectors", "exp6-combined.md").also(&[Also::new("exp4-threadpool", "src/pool.rs")]).keep(63, 8).compare(Compare::Kinds).varying(POOL_VARYING),
/// ```
pub const STAGES: &[Stage] = &[
    Stage::first("exp1-simplest", "exp1-simplest.md"),
    Stage::child("exp2-sleep", "exp1-simplest", "exp2-sleep.md"),
    Stage::child("exp3-spawn", "exp2-sleep", "exp3-spawn.md"),
    Stage::child("exp4-threadpool", "exp3-spawn", "exp4-threadpool.md").varying(POOL_VARYING),
    Stage::child("exp5-selectors", "exp3-spawn", "exp5-selectors.md")
        .keep(58, 12)
        .compare(Compare::Kinds),
    Stage::child("exp6-combined", "exp5-selectors", "exp6-combined.md")
        .also(&[Also::new("exp4-threadpool", "src/pool.rs")])
        .keep(63, 8)
        .compare(Compare::Kinds)
        .varying(POOL_VARYING),
    Stage::child("exp6-tuned", "exp6-combined", "performance.md")
        .dir("book/tuned")
        .no_transcripts(),
];

/// The stage of crate `krate`, if the table has it.
pub fn stage(krate: &str) -> Option<&'static Stage> {
    STAGES.iter().find(|stage| stage.krate == krate)
}

/// The folder of crate `krate`: the one the table gives, else its name.
pub fn dir_of(krate: &'static str) -> &'static str {
    stage(krate).map_or(krate, |stage| stage.dir)
}
