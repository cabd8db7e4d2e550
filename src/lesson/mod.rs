//! Lessons: the file model, the loader (built-in or from a folder) and the validator.
//!
//! A lesson file is a TOML front matter between `+++` lines followed by a Markdown body;
//! `lessons/README.md` documents the format for lesson authors.

mod body;
mod diag;
mod load;
mod parse;
pub mod program;

pub use diag::Diagnostic;
pub(crate) use diag::LineIndex;
pub use load::{LessonSet, LessonSource, LoadError, built_in_program};
pub use parse::{BrokenLesson, ParsedLesson, parse_lesson};
pub use program::LessonProgram;

/// A valid lesson, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Lesson {
    /// Unique name, used by `--lesson` and in the progress file.
    pub id: String,
    /// Shown in the catalogue and the reader's title.
    pub title: String,
    /// The group the lesson is listed under.
    pub track: String,
    /// Position within the track.
    pub order: u32,
    /// One line for the catalogue.
    pub summary: String,
    /// What the learner can do afterwards.
    pub objectives: Vec<String>,
    /// Names from the experiment registry.
    pub experiments: Vec<String>,
    /// Shown one at a time on request.
    pub hints: Vec<String>,
    /// Speaker notes for instructors.
    pub notes: Option<String>,
    /// Questions for the learner.
    pub checks: Vec<Check>,
    /// Starting settings for the lesson's experiments, by experiment name.
    pub presets: std::collections::BTreeMap<String, Preset>,
    /// Interleaving puzzles: the learner schedules the threads (see [`crate::puzzle`]).
    pub puzzles: Vec<crate::puzzle::Puzzle>,
    /// Programs of the lesson folder the learner runs through the "Your program" screen.
    pub programs: Vec<LessonProgram>,
    /// The Markdown text after the front matter.
    pub body: String,
    /// Where the lesson came from, as shown in messages.
    pub path: String,
}

impl Lesson {
    /// What the panel lists after the checks and puzzles, in order: the experiments, then
    /// `program:ID` for each program.
    pub fn runnables(&self) -> Vec<String> {
        self.experiments
            .iter()
            .cloned()
            .chain(self.programs.iter().map(|g| format!("program:{}", g.id)))
            .collect()
    }

    /// The experiments whose recent runs the lesson's predictions compare with: its own,
    /// and `program` when it has programs.
    pub fn measured_experiments(&self) -> Vec<String> {
        let mut out = self.experiments.clone();
        if !self.programs.is_empty() {
            out.push("program".to_owned());
        }
        out
    }
}

impl Lesson {
    /// How the card and the panel name entry `entry` of [`Lesson::runnables`]: an
    /// experiment's name, a program's title.
    pub fn runnable_title(&self, entry: &str) -> String {
        entry
            .strip_prefix("program:")
            .and_then(|id| self.programs.iter().find(|g| g.id == id))
            .map_or_else(|| entry.to_owned(), |g| g.title.clone())
    }
}

/// Whether a panel entry ([`Lesson::runnables`]) can run in this version.
pub fn runnable(entry: &str) -> bool {
    entry.starts_with("program:") || crate::experiment::find(entry).is_some_and(|e| e.runnable())
}

/// A question in a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// Unique within the lesson; answers are stored under it.
    pub id: String,
    /// The question as shown.
    pub question: String,
    /// What kind of answer it takes, and the right one.
    pub kind: CheckKind,
    /// Shown after the learner answers, right or wrong.
    pub explanation: String,
    /// Shown after a first wrong answer, before the learner tries once more; without it,
    /// the tutor says only whether a number was too high or too low.
    pub hint: Option<String>,
    /// For predictions: the measurement the answer is compared with after a run.
    pub measure: Option<Measure>,
}

/// Starting settings a lesson gives one of its experiments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preset {
    /// Worker counts to sweep, if the lesson chooses them.
    pub workers: Option<Vec<usize>>,
    /// Timed repetitions per point.
    pub reps: Option<u32>,
    /// Parameter values as `KEY=VALUE` texts, already checked against the registry.
    pub params: Vec<String>,
    /// The backend, when the lesson chooses it (a program's).
    pub backend: Option<crate::experiment::Backend>,
}

/// A measured quantity a prediction is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    /// The experiment whose latest run is used.
    pub experiment: String,
    /// What is compared.
    pub quantity: Quantity,
    /// At which worker count (not needed for `serial_fraction`).
    pub workers: Option<usize>,
    /// Which variant, for experiments that compare variants.
    pub variant: Option<String>,
    /// The backend the prediction is about (e.g. `mpi`, where a manager rank computes no
    /// task); `None`: a run on any backend.
    pub backend: Option<String>,
    /// The parameter values the prediction is about (e.g. `order` = `same`), as the run
    /// record writes them: only a run with these values is compared with it.
    pub params: std::collections::BTreeMap<String, String>,
}

impl Measure {
    /// Whether `records` are a run this prediction is about: its experiment, with the
    /// parameter values the check names.
    pub fn matches(&self, records: &[crate::record::Record]) -> bool {
        records.iter().any(|r| match r {
            crate::record::Record::Run(run) => {
                run.experiment == self.experiment
                    && self.backend.as_ref().is_none_or(|b| *b == run.backend)
                    && self
                        .params
                        .iter()
                        .all(|(k, v)| run.params.get(k).is_some_and(|have| have == v))
            }
            _ => false,
        })
    }

    /// The entry of the lesson's panel ([`Lesson::runnables`]) whose runs this prediction
    /// is compared with: the experiment, or `program:ID` for a lesson's program.
    pub fn runnable(&self) -> String {
        match self.params.get("name") {
            Some(id) if self.experiment == "program" => format!("program:{id}"),
            _ => self.experiment.clone(),
        }
    }

    /// The parameter values the prediction is about, as `order = same, size = 4`.
    pub fn params_text(&self) -> String {
        self.backend
            .iter()
            .map(|b| format!("backend = {b}"))
            .chain(self.params.iter().map(|(k, v)| format!("{k} = {v}")))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The measured value this prediction is compared with, from one run's records; `None`
    /// when the run is not one the check is about, or lacks the value.
    pub fn measured(&self, records: &[crate::record::Record]) -> Option<f64> {
        use crate::record::Record;
        if !self.matches(records) {
            return None;
        }
        match self.quantity {
            Quantity::SerialFraction => records.iter().rev().find_map(|r| match r {
                Record::Fit(f)
                    if f.model.is_scaling_law()
                        && (f.variant == self.variant || self.variant.is_none()) =>
                {
                    Some(f.serial_fraction)
                }
                _ => None,
            }),
            q => records.iter().find_map(|r| match r {
                Record::Point(p)
                    if Some(p.workers) == self.workers
                        && (self.variant.is_none() || p.variant == self.variant) =>
                {
                    match q {
                        Quantity::Speedup => p.speedup,
                        Quantity::Efficiency => p.efficiency,
                        Quantity::Time => Some(p.median_s),
                        Quantity::KarpFlatt => p.karp_flatt,
                        Quantity::SerialFraction => None,
                    }
                }
                _ => None,
            }),
        }
    }

    /// Why the run this prediction is compared with may not show the machine's own
    /// behaviour, e.g. `this run shared its CPUs: 43 % busy with other work during N = 2`:
    /// a point it is compared at (or, for a fitted fraction, any point) measured while
    /// other work shared the CPUs. `None` when the run is not about it or was undisturbed.
    pub fn disturbance(&self, records: &[crate::record::Record]) -> Option<String> {
        use crate::record::Record;
        if !self.matches(records) {
            return None;
        }
        records.iter().find_map(|r| match r {
            Record::Point(p)
                if (self.quantity == Quantity::SerialFraction
                    || Some(p.workers) == self.workers)
                    && (self.variant.is_none() || p.variant == self.variant) =>
            {
                let what = p.disturbance_detail()?;
                Some(format!(
                    "this run shared its CPUs: {what} during N = {}",
                    p.workers
                ))
            }
            _ => None,
        })
    }

    /// The quantity in words, e.g. `speedup`.
    pub fn quantity_label(&self) -> &'static str {
        match self.quantity {
            Quantity::Speedup => "speedup",
            Quantity::Efficiency => "efficiency",
            Quantity::Time => "time (s)",
            Quantity::SerialFraction => "fitted serial fraction",
            Quantity::KarpFlatt => "Karp–Flatt serial fraction",
        }
    }
}

/// Whether an answer given at `answered_at_ms` (milliseconds since 1970) was given before
/// the run that started at `run_started_at` (RFC 3339): a prediction or a look at the
/// result. `None` when either time is unknown.
pub fn predicted_before(answered_at_ms: Option<u64>, run_started_at: &str) -> Option<bool> {
    let answered = i64::try_from(answered_at_ms.filter(|&t| t > 0)?).ok()?;
    let started = chrono::DateTime::parse_from_rfc3339(run_started_at).ok()?;
    Some(answered < started.timestamp_millis())
}

/// Quantities a prediction can be about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// S(N) = T(1)/T(N) (scaled speedup for weak scaling).
    Speedup,
    /// E(N) = S(N)/N.
    Efficiency,
    /// Median time in seconds at N workers.
    Time,
    /// The fitted serial fraction (Amdahl or Gustafson).
    SerialFraction,
    /// The Karp–Flatt metric at N workers.
    KarpFlatt,
}

impl Quantity {
    /// The names lesson files use.
    pub const NAMES: &'static [&'static str] = &[
        "speedup",
        "efficiency",
        "time",
        "serial_fraction",
        "karp_flatt",
    ];

    /// Parses a lesson file's name of the quantity.
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "speedup" => Self::Speedup,
            "efficiency" => Self::Efficiency,
            "time" => Self::Time,
            "serial_fraction" => Self::SerialFraction,
            "karp_flatt" => Self::KarpFlatt,
            _ => return None,
        })
    }

    /// Whether it needs a worker count.
    pub fn needs_workers(self) -> bool {
        !matches!(self, Self::SerialFraction)
    }
}

/// The kinds of check and their correct answers.
#[derive(Debug, Clone, PartialEq)]
pub enum CheckKind {
    /// Pick one of `choices`; `answer` is the index of the right one.
    Choice {
        /// The options, in the order shown.
        choices: Vec<String>,
        /// Index into `choices` of the correct option.
        answer: usize,
    },
    /// Type a number; right when within `tolerance` of `answer`.
    Numeric {
        /// The expected value.
        answer: f64,
        /// Largest absolute difference that still counts as right.
        tolerance: f64,
        /// Label shown next to the input, e.g. `x` or `s`.
        unit: Option<String>,
    },
}

/// What a learner answered to a check.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer {
    /// The text of the chosen option (text, not index, so reordering choices keeps answers).
    Choice(String),
    /// The number typed.
    Number(f64),
}

impl Check {
    /// The order in which a choice check's options are shown to `learner` (indices into
    /// `choices`): a shuffle that differs between checks and between learners and is the
    /// same every time for one learner, so that where the right answer stands tells
    /// nothing. FNV-1a of the ids and seed, then SplitMix64 driving a Fisher–Yates shuffle:
    /// both fixed here, so the order does not change with a library's version. A numeric
    /// check has no options: empty.
    pub fn shown_order(&self, learner: u64, lesson_id: &str) -> Vec<usize> {
        let CheckKind::Choice { choices, .. } = &self.kind else {
            return Vec::new();
        };
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in learner
            .to_le_bytes()
            .iter()
            .chain(lesson_id.as_bytes())
            .chain(&[0])
            .chain(self.id.as_bytes())
        {
            hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        let mut next = move || {
            hash = hash.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = hash;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        };
        let mut order: Vec<usize> = (0..choices.len()).collect();
        for i in (1..order.len()).rev() {
            // Any bias of the modulo is far below what a learner could notice.
            let j = (next() % (i as u64 + 1)) as usize;
            order.swap(i, j);
        }
        order
    }

    /// Whether `answer` is right for this check. An answer of the wrong kind is wrong.
    pub fn is_correct(&self, answer: &Answer) -> bool {
        match (&self.kind, answer) {
            (
                CheckKind::Choice {
                    choices,
                    answer: right,
                },
                Answer::Choice(given),
            ) => choices.get(*right).is_some_and(|c| c == given),
            (
                CheckKind::Numeric {
                    answer: right,
                    tolerance,
                    ..
                },
                Answer::Number(given),
            ) => given.is_finite() && (given - right).abs() <= *tolerance + tolerance_slack(*right),
            _ => false,
        }
    }

    /// The correct answer, formatted for the learner.
    pub fn correct_answer_text(&self) -> String {
        match &self.kind {
            CheckKind::Choice { choices, answer } => {
                choices.get(*answer).cloned().unwrap_or_default()
            }
            CheckKind::Numeric {
                answer,
                tolerance,
                unit,
            } => {
                let unit = unit.as_deref().map(|u| format!(" {u}")).unwrap_or_default();
                if *tolerance > 0.0 {
                    format!("{answer}{unit} (± {tolerance})")
                } else {
                    format!("{answer}{unit}")
                }
            }
        }
    }
}

/// Floating-point slack so that an answer exactly at the tolerance's edge (e.g. 2.24 for
/// 2.29 ± 0.05) is not rejected by rounding.
fn tolerance_slack(answer: f64) -> f64 {
    1e-9 * answer.abs().max(1.0)
}

/// The order tracks are listed in; other tracks follow alphabetically.
pub const TRACK_ORDER: &[&str] = &[
    "Getting started",
    "Foundations",
    "Shared memory",
    "Distributed memory",
    "Scaling",
    "Clusters",
];

/// Sort key of a track: known tracks first in [`TRACK_ORDER`], then the rest by name.
pub fn track_rank(track: &str) -> (usize, String) {
    let pos = TRACK_ORDER
        .iter()
        .position(|t| *t == track)
        .unwrap_or(TRACK_ORDER.len());
    (pos, track.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// lock-deadlock's check on `order = same` was compared with a later `order = backoff`
    /// run: a prediction is compared only with a run of the settings it asks about.
    #[test]
    fn predictions_compare_only_with_runs_of_their_settings() {
        let m = Measure {
            experiment: "mc-pi".into(),
            quantity: Quantity::Time,
            workers: Some(2),
            variant: None,
            backend: None,
            params: [("mode".to_owned(), "weak".to_owned())].into(),
        };
        let mut records = crate::record::tests::sample_run();
        let crate::record::Record::Run(run) = &mut records[0] else {
            panic!("a run first")
        };
        run.experiment = "mc-pi".into();
        run.params.insert("mode".into(), "strong".into());
        assert!(!m.matches(&records));
        assert_eq!(m.measured(&records), None);
        if let crate::record::Record::Run(run) = &mut records[0] {
            run.params.insert("mode".into(), "weak".into());
        }
        assert!(m.matches(&records));
        assert!(m.measured(&records).is_some());
        assert_eq!(m.params_text(), "mode = weak");
        // A prediction about MPI ranks (farm's manager computes no task there) is not
        // compared with a threads run of the same settings.
        let on_mpi = Measure {
            backend: Some("mpi".into()),
            ..m.clone()
        };
        assert!(!on_mpi.matches(&records), "the sample run is on threads");
        if let crate::record::Record::Run(run) = &mut records[0] {
            run.backend = "mpi".into();
        }
        assert!(on_mpi.matches(&records));
    }

    fn numeric(answer: f64, tolerance: f64) -> Check {
        Check {
            id: "n".into(),
            question: "?".into(),
            kind: CheckKind::Numeric {
                answer,
                tolerance,
                unit: None,
            },
            explanation: String::new(),
            hint: None,
            measure: None,
        }
    }

    #[test]
    fn numeric_tolerance_is_inclusive() {
        let c = numeric(2.29, 0.05);
        assert!(c.is_correct(&Answer::Number(2.29)));
        assert!(c.is_correct(&Answer::Number(2.24)));
        assert!(c.is_correct(&Answer::Number(2.34)));
        assert!(!c.is_correct(&Answer::Number(2.35)));
        assert!(!c.is_correct(&Answer::Number(f64::NAN)));
        assert!(!c.is_correct(&Answer::Choice("2.29".into())));
    }

    fn choice(id: &str, n: usize) -> Check {
        Check {
            id: id.into(),
            question: "?".into(),
            kind: CheckKind::Choice {
                choices: (0..n).map(|i| format!("option {i}")).collect(),
                answer: 0,
            },
            explanation: String::new(),
            hint: None,
            measure: None,
        }
    }

    #[test]
    fn options_are_shown_in_an_order_of_the_learner_and_the_check() {
        let c = choice("limit", 4);
        let order = c.shown_order(7, "amdahl");
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [0, 1, 2, 3], "a permutation");
        assert_eq!(order, c.shown_order(7, "amdahl"), "stable for one learner");
        // Over many learners (or checks) the right answer stands everywhere, about evenly.
        let mut first_at = [0usize; 4];
        for learner in 0..4000 {
            let at = c
                .shown_order(learner, "amdahl")
                .iter()
                .position(|&i| i == 0);
            first_at[at.expect("shown")] += 1;
        }
        assert!(
            first_at.iter().all(|&n| (800..1200).contains(&n)),
            "{first_at:?}"
        );
        let mut by_check = [0usize; 4];
        for k in 0..4000 {
            let order = choice(&format!("c{k}"), 4).shown_order(0, "amdahl");
            by_check[order.iter().position(|&i| i == 0).expect("shown")] += 1;
        }
        assert!(
            by_check.iter().all(|&n| (800..1200).contains(&n)),
            "{by_check:?}"
        );
        assert!(numeric(1.0, 0.1).shown_order(7, "amdahl").is_empty());
    }

    #[test]
    fn choice_matches_text_of_the_right_option() {
        let c = Check {
            id: "c".into(),
            question: "?".into(),
            kind: CheckKind::Choice {
                choices: vec!["a".into(), "b".into()],
                answer: 1,
            },
            explanation: String::new(),
            hint: None,
            measure: None,
        };
        assert!(c.is_correct(&Answer::Choice("b".into())));
        assert!(!c.is_correct(&Answer::Choice("a".into())));
        assert!(!c.is_correct(&Answer::Number(1.0)));
        assert_eq!(c.correct_answer_text(), "b");
    }

    #[test]
    fn tracks_sort_known_first_then_by_name() {
        let mut t = vec!["Zeta", "Scaling", "Alpha", "Getting started"];
        t.sort_by_key(|t| track_rank(t));
        assert_eq!(t, ["Getting started", "Scaling", "Alpha", "Zeta"]);
    }
}
