//! Demo scripts: a TOML file of steps, parsed and checked against the lessons, experiments
//! and recordings before anything is shown, so a broken script fails at the start of a talk
//! with `path:line: message` rather than in the middle of it.
//!
//! The format is described in `assets/demos/README.md`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use include_dir::{Dir, include_dir};
use serde::Deserialize;
use toml::Spanned;

use crate::chart::Metric;
use crate::experiment::{self, Params};
use crate::lesson::{LessonSet, LineIndex};
use crate::puzzle::{Session, StepResult};
use crate::record::{Record, RunRecord};

/// The demo built into the binary: race → deadlock → Amdahl → threads vs MPI.
pub const DEFAULT_SCRIPT: &str = include_str!("../../assets/demos/default.toml");

/// The name the built-in demo goes by in messages.
pub const DEFAULT_NAME: &str = "assets/demos/default.toml";

/// Recordings shipped in the binary, named in scripts by their path in the repository,
/// `assets/recordings/NAME.jsonl`.
static RECORDINGS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/recordings");

/// The folder prefix by which scripts name shipped recordings.
pub const RECORDINGS_PREFIX: &str = "assets/recordings/";

/// The largest demo script read: the built-in one is a few kilobytes, and a script of
/// 20,000 steps about 8 MiB.
pub const MAX_SCRIPT_BYTES: u64 = 16 * crate::input::MIB;

/// Longest wait, hold or tick a script may ask for.
const MAX_SECONDS: f64 = 3600.0;

/// A demo script, checked and ready to play.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// Where it came from, as shown in messages (`assets/demos/default.toml` for the built-in one).
    pub name: String,
    /// Shown in the presenter's bar and the notes viewer.
    pub title: Option<String>,
    /// Start again from the first step after the last one (an unattended kiosk).
    pub looped: bool,
    /// The steps, in order; at least one.
    pub steps: Vec<Step>,
}

/// One step of a demo.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Line of the step in the script, for messages.
    pub line: usize,
    /// What the step does.
    pub action: Action,
    /// A large caption shown over the stage while this step is current.
    pub caption: Option<String>,
    /// Speaker notes: `n` in the presenter, and `hpc-tutor demo --notes`.
    pub notes: Option<String>,
    /// What autoplay does once the action has finished.
    pub wait: Wait,
}

/// What autoplay does after a step's action has finished.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Wait {
    /// Go on after this long.
    For(Duration),
    /// Stay until the presenter presses space or →.
    Key,
}

/// What a step does.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Nothing but its caption, or a pause.
    Hold,
    /// Show a lesson's text, scrolled to a heading.
    Lesson {
        /// Index into [`LessonSet::lessons`].
        lesson: usize,
        /// The heading to scroll to, as written in the lesson (without `#`).
        heading: Option<String>,
    },
    /// Play an interleaving puzzle with a fixed schedule, one step per tick.
    Puzzle {
        /// Index into [`LessonSet::lessons`].
        lesson: usize,
        /// Index into that lesson's puzzles.
        puzzle: usize,
        /// The thread that takes each step, in order.
        schedule: Vec<usize>,
        /// Time between steps.
        tick: Duration,
    },
    /// Run an experiment for real, as the tutor's `r` does.
    Run(RunStep),
    /// Play back a recorded results file at its original pace.
    Replay(ReplayStep),
    /// Save a PNG: the card of the lesson last shown, or the chart of the run last shown.
    Export {
        /// Which.
        what: ExportKind,
        /// Where; `None`: the default name in the current folder.
        output: Option<PathBuf>,
    },
}

impl Action {
    /// Whether the step sets what is on stage (a lesson, a puzzle or a chart); the others
    /// leave the previous stage in place under their caption.
    pub fn is_stage(&self) -> bool {
        matches!(
            self,
            Action::Lesson { .. } | Action::Puzzle { .. } | Action::Run(_) | Action::Replay(_)
        )
    }

    /// Whether the step shows a run (live or replayed).
    pub fn is_run(&self) -> bool {
        matches!(self, Action::Run(_) | Action::Replay(_))
    }
}

/// A PNG a step saves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    /// The lesson card of the lesson last shown.
    Card,
    /// The chart of the run last shown (the metric on screen).
    Chart,
}

/// A live run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStep {
    /// The experiment.
    pub experiment: String,
    /// `threads` or `mpi`.
    pub backend: String,
    /// Arguments of the `hpc-tutor` child process: `run EXPERIMENT --format json …`.
    pub args: Vec<String>,
    /// Played instead when the run cannot happen here (or fails before measuring anything).
    pub fallback: Option<Recording>,
    /// Speed of the fallback replay.
    pub speed: f64,
    /// The chart shown.
    pub metric: Metric,
    /// Overlay the run shown by the previous run or replay step.
    pub compare: bool,
}

/// A replay of a recording.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayStep {
    /// What is replayed.
    pub recording: Recording,
    /// 1 plays at the recorded pace, 2 twice as fast.
    pub speed: f64,
    /// The chart shown.
    pub metric: Metric,
    /// Overlay the run shown by the previous run or replay step.
    pub compare: bool,
}

/// A recorded results file, read when the script was loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// The file as the script names it.
    pub name: String,
    /// Its records; the first is the run record.
    pub records: Vec<Record>,
}

impl Recording {
    /// The run record at its start.
    pub fn run(&self) -> Option<&RunRecord> {
        match self.records.first() {
            Some(Record::Run(r)) => Some(r),
            _ => None,
        }
    }
}

/// A problem in a script, at a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script, as named in [`Script::name`].
    pub path: String,
    /// Line number, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// Every problem of a script that could not be loaded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
pub struct ScriptErrors(pub Vec<ScriptError>);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScript {
    title: Option<String>,
    #[serde(rename = "loop", default)]
    looped: bool,
    #[serde(default)]
    step: Vec<Spanned<RawStep>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    lesson: Option<Spanned<String>>,
    heading: Option<Spanned<String>>,
    puzzle: Option<Spanned<String>>,
    schedule: Option<Spanned<Vec<Spanned<toml::Value>>>>,
    tick: Option<Spanned<toml::Value>>,
    run: Option<Spanned<String>>,
    backend: Option<Spanned<String>>,
    workers: Option<Spanned<Vec<Spanned<i64>>>>,
    reps: Option<Spanned<i64>>,
    warmup: Option<Spanned<i64>>,
    params: Option<Spanned<BTreeMap<String, Spanned<toml::Value>>>>,
    replay_if_unavailable: Option<Spanned<String>>,
    replay: Option<Spanned<String>>,
    speed: Option<Spanned<toml::Value>>,
    metric: Option<Spanned<String>>,
    compare: Option<Spanned<bool>>,
    export: Option<Spanned<String>>,
    output: Option<Spanned<String>>,
    caption: Option<Spanned<String>>,
    wait: Option<Spanned<toml::Value>>,
    notes: Option<String>,
}

/// Collects problems with their positions while a script is checked.
struct Cx<'a> {
    path: &'a str,
    /// Where each line of the script starts: a step's line is a binary search, not a count
    /// of the newlines before it (which made checking quadratic in the script's length).
    lines: LineIndex<'a>,
    errors: Vec<ScriptError>,
    /// Recordings read so far, by name: a recording named by many steps is read once.
    recordings: HashMap<String, Result<Vec<Record>, String>>,
    /// The headings of each lesson shown so far, by index.
    headings: HashMap<usize, Vec<String>>,
}

impl Cx<'_> {
    fn line(&self, span: &Range<usize>) -> usize {
        self.lines.position(span.start).0
    }

    fn error(&mut self, span: Range<usize>, message: impl Into<String>) {
        let line = self.line(&span);
        self.errors.push(ScriptError {
            path: self.path.to_owned(),
            line,
            message: message.into(),
        });
    }
}

/// Where a script looks for the files it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The built-in script: only the shipped recordings.
    BuiltIn,
    /// A script file in this folder: files next to it first, then the shipped recordings.
    Dir(PathBuf),
}

impl Script {
    /// The built-in demo, checked against `lessons`.
    pub fn built_in(lessons: &LessonSet) -> Result<Script, ScriptErrors> {
        Script::parse(DEFAULT_SCRIPT, DEFAULT_NAME, &Base::BuiltIn, lessons)
    }

    /// Reads and checks the script file at `path`: a regular file of at most
    /// [`MAX_SCRIPT_BYTES`] (a FIFO or a device is refused, not waited on or read for ever).
    pub fn load(path: &Path, lessons: &LessonSet) -> Result<Script, ScriptErrors> {
        let name = path.display().to_string();
        let text =
            crate::input::read_text(path, MAX_SCRIPT_BYTES, "a demo script").map_err(|e| {
                ScriptErrors(vec![ScriptError {
                    path: name.clone(),
                    line: 1,
                    message: format!("cannot read the script: {e}"),
                }])
            })?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        Script::parse(&text, &name, &Base::Dir(dir), lessons)
    }

    /// Parses and checks `text`, named `name` in messages. Every problem is reported, each
    /// at its line.
    pub fn parse(
        text: &str,
        name: &str,
        base: &Base,
        lessons: &LessonSet,
    ) -> Result<Script, ScriptErrors> {
        let mut cx = Cx {
            path: name,
            lines: LineIndex::new(text),
            errors: Vec::new(),
            recordings: HashMap::new(),
            headings: HashMap::new(),
        };
        let raw: RawScript = match toml::from_str(text) {
            Ok(r) => r,
            Err(e) => {
                let message = e.message().trim_end().replace("field", "key");
                cx.error(e.span().unwrap_or(0..0), message);
                return Err(ScriptErrors(cx.errors));
            }
        };
        if raw.step.is_empty() {
            cx.error(
                0..0,
                "the script has no steps: add at least one [[step]] table",
            );
        }
        let mut steps = Vec::new();
        let mut seen_lesson: Option<usize> = None;
        let mut seen_run = false;
        for raw_step in raw.step {
            let span = raw_step.span();
            let step = check_step(
                &mut cx,
                raw_step.into_inner(),
                span,
                base,
                lessons,
                &mut seen_lesson,
                &mut seen_run,
            );
            if let Some(s) = step {
                steps.push(s);
            }
        }
        let takes_time = |s: &Step| {
            matches!(
                s.action,
                Action::Run(_) | Action::Replay(_) | Action::Puzzle { .. }
            ) || match s.wait {
                Wait::Key => true,
                Wait::For(d) => d >= Duration::from_secs(1),
            }
        };
        if raw.looped && !steps.is_empty() && !steps.iter().any(takes_time) {
            cx.error(
                0..0,
                "`loop = true` needs a step that takes time (a `wait` of 1 s or more, \
                 \"key\", a puzzle, a run or a replay), or the demo would spin",
            );
        }
        if cx.errors.is_empty() {
            Ok(Script {
                name: name.to_owned(),
                title: raw.title,
                looped: raw.looped,
                steps,
            })
        } else {
            Err(ScriptErrors(cx.errors))
        }
    }
}

/// Seconds from a TOML integer or float within `lo..=hi`.
fn seconds(cx: &mut Cx, v: &Spanned<toml::Value>, key: &str, lo: f64, hi: f64) -> Option<f64> {
    let x = match v.get_ref() {
        toml::Value::Integer(i) => *i as f64,
        toml::Value::Float(f) => *f,
        other => {
            cx.error(
                v.span(),
                format!("`{key}` must be a number, not {}", other.type_str()),
            );
            return None;
        }
    };
    if x.is_finite() && (lo..=hi).contains(&x) {
        Some(x)
    } else {
        cx.error(
            v.span(),
            format!("`{key}` = {x} is not allowed; expected {lo} to {hi}"),
        );
        None
    }
}

fn check_step(
    cx: &mut Cx,
    raw: RawStep,
    span: Range<usize>,
    base: &Base,
    lessons: &LessonSet,
    seen_lesson: &mut Option<usize>,
    seen_run: &mut bool,
) -> Option<Step> {
    let errors_before = cx.errors.len();
    let actions: Vec<(&str, Range<usize>)> = [
        ("lesson", raw.lesson.as_ref().map(Spanned::span)),
        ("puzzle", raw.puzzle.as_ref().map(Spanned::span)),
        ("run", raw.run.as_ref().map(Spanned::span)),
        ("replay", raw.replay.as_ref().map(Spanned::span)),
        ("export", raw.export.as_ref().map(Spanned::span)),
    ]
    .into_iter()
    .filter_map(|(k, s)| s.map(|s| (k, s)))
    .collect();
    if actions.len() > 1 {
        let names: Vec<String> = actions.iter().map(|(k, _)| format!("`{k}`")).collect();
        cx.error(
            actions[1].1.clone(),
            format!(
                "a step does one thing: {} cannot go together; split them into steps",
                names.join(" and ")
            ),
        );
        return None;
    }
    let action_name = actions.first().map(|(k, _)| *k);

    // Keys that belong to one kind of step only: (key, where, the actions it goes with).
    type Belongs<'a> = (&'a str, Option<Range<usize>>, &'a [&'a str]);
    let belongs: [Belongs; 12] = [
        (
            "heading",
            raw.heading.as_ref().map(Spanned::span),
            &["lesson"],
        ),
        (
            "schedule",
            raw.schedule.as_ref().map(Spanned::span),
            &["puzzle"],
        ),
        ("tick", raw.tick.as_ref().map(Spanned::span), &["puzzle"]),
        ("backend", raw.backend.as_ref().map(Spanned::span), &["run"]),
        ("workers", raw.workers.as_ref().map(Spanned::span), &["run"]),
        ("reps", raw.reps.as_ref().map(Spanned::span), &["run"]),
        ("warmup", raw.warmup.as_ref().map(Spanned::span), &["run"]),
        ("params", raw.params.as_ref().map(Spanned::span), &["run"]),
        (
            "replay_if_unavailable",
            raw.replay_if_unavailable.as_ref().map(Spanned::span),
            &["run"],
        ),
        (
            "speed",
            raw.speed.as_ref().map(Spanned::span),
            &["run", "replay"],
        ),
        (
            "metric",
            raw.metric.as_ref().map(Spanned::span),
            &["run", "replay"],
        ),
        (
            "output",
            raw.output.as_ref().map(Spanned::span),
            &["export"],
        ),
    ];
    for (key, s, owners) in belongs {
        if let Some(s) = s
            && !action_name.is_some_and(|a| owners.contains(&a))
        {
            let owners: Vec<String> = owners.iter().map(|o| format!("`{o}`")).collect();
            cx.error(
                s,
                format!("`{key}` only goes in a step with {}", owners.join(" or ")),
            );
        }
    }
    if let Some(c) = &raw.compare
        && !matches!(action_name, Some("run" | "replay"))
    {
        cx.error(
            c.span(),
            "`compare` only goes in a step with `run` or `replay`",
        );
    }
    if action_name.is_none() && raw.caption.is_none() && raw.wait.is_none() {
        cx.error(
            span.clone(),
            "empty step: give it one of `lesson`, `puzzle`, `run`, `replay`, `export`, or a \
             `caption`, or a `wait`",
        );
        return None;
    }

    let caption = match &raw.caption {
        Some(c) if c.get_ref().trim().is_empty() => {
            cx.error(c.span(), "`caption` must not be empty");
            None
        }
        Some(c) => Some(c.get_ref().trim().to_owned()),
        None => None,
    };

    let default_wait = match action_name {
        Some("lesson") => 6.0,
        Some("puzzle") => 3.0,
        Some("run" | "replay") => 5.0,
        Some(_) => 2.0,
        None => 4.0,
    };
    let wait = match &raw.wait {
        None => Wait::For(Duration::from_secs_f64(default_wait)),
        Some(w) => match w.get_ref() {
            toml::Value::String(s) if s == "key" => Wait::Key,
            toml::Value::String(s) => {
                cx.error(
                    w.span(),
                    format!("`wait` = \"{s}\" is not allowed; give seconds, or \"key\""),
                );
                Wait::Key
            }
            _ => Wait::For(Duration::from_secs_f64(
                seconds(cx, w, "wait", 0.0, MAX_SECONDS).unwrap_or(0.0),
            )),
        },
    };

    let metric = |cx: &mut Cx, default: Metric| match &raw.metric {
        None => default,
        Some(m) => match m.get_ref().as_str() {
            "time" => Metric::Time,
            "speedup" => Metric::Speedup,
            "efficiency" => Metric::Efficiency,
            other => {
                cx.error(
                    m.span(),
                    format!(
                        "`metric` = \"{other}\" is not allowed; one of time, speedup, efficiency"
                    ),
                );
                default
            }
        },
    };
    let speed = |cx: &mut Cx| {
        raw.speed
            .as_ref()
            .and_then(|s| seconds(cx, s, "speed", 0.1, 100.0))
            .unwrap_or(1.0)
    };
    let compare = raw.compare.as_ref().is_some_and(|c| *c.get_ref());

    let action = match action_name {
        None => Action::Hold,
        Some("lesson") => {
            let id = raw.lesson.as_ref()?;
            let lesson = find_lesson(cx, lessons, id)?;
            *seen_lesson = Some(lesson);
            let heading = raw.heading.as_ref().map(|h| {
                let wanted = h.get_ref().trim().trim_start_matches('#').trim();
                let known = cx
                    .headings
                    .entry(lesson)
                    .or_insert_with(|| headings(&lessons.lessons[lesson].body));
                if !known.iter().any(|k| k.eq_ignore_ascii_case(wanted)) {
                    let known = known.clone();
                    cx.error(
                        h.span(),
                        format!(
                            "lesson `{}` has no heading `{wanted}` (its headings: {})",
                            id.get_ref(),
                            known.join(", ")
                        ),
                    );
                }
                wanted.to_owned()
            });
            Action::Lesson { lesson, heading }
        }
        Some("puzzle") => {
            let id = raw.puzzle.as_ref()?;
            let (lesson, puzzle) = find_puzzle(cx, lessons, id)?;
            let p = &lessons.lessons[lesson].puzzles[puzzle];
            let tick = raw
                .tick
                .as_ref()
                .and_then(|t| seconds(cx, t, "tick", 0.1, 60.0))
                .unwrap_or(1.0);
            let mut schedule = Vec::new();
            match &raw.schedule {
                None => cx.error(
                    id.span(),
                    format!(
                        "a puzzle step needs a `schedule`: the threads to step, in order, e.g. \
                         schedule = [{}]",
                        p.threads
                            .iter()
                            .map(|t| format!("\"{}\"", t.name))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ),
                Some(s) => {
                    let mut session = Session::new(p.clone());
                    for (k, entry) in s.get_ref().iter().enumerate() {
                        let t = match entry.get_ref() {
                            toml::Value::String(name) => p
                                .threads
                                .iter()
                                .position(|t| t.name.eq_ignore_ascii_case(name)),
                            toml::Value::Integer(n) => usize::try_from(*n)
                                .ok()
                                .filter(|n| (1..=p.threads.len()).contains(n))
                                .map(|n| n - 1),
                            _ => None,
                        };
                        let Some(t) = t else {
                            cx.error(
                                entry.span(),
                                format!(
                                    "schedule entry {}: `{}` is not a thread of puzzle `{}`; \
                                     its threads: {} (or their numbers from 1)",
                                    k + 1,
                                    entry.get_ref(),
                                    p.id,
                                    p.threads
                                        .iter()
                                        .map(|t| t.name.as_str())
                                        .collect::<Vec<_>>()
                                        .join(", ")
                                ),
                            );
                            break;
                        };
                        if session.status().is_over() {
                            cx.error(
                                entry.span(),
                                format!(
                                    "schedule entry {}: the puzzle is already over after {k} steps",
                                    k + 1
                                ),
                            );
                            break;
                        }
                        if let StepResult::Blocked(b) = session.step(t) {
                            cx.error(
                                entry.span(),
                                format!(
                                    "schedule entry {}: {} cannot move here: {}",
                                    k + 1,
                                    p.threads[t].name,
                                    b.describe(p)
                                ),
                            );
                            break;
                        }
                        schedule.push(t);
                    }
                    if schedule.is_empty() && cx.errors.len() == errors_before {
                        cx.error(s.span(), "`schedule` must name at least one thread");
                    }
                }
            }
            Action::Puzzle {
                lesson,
                puzzle,
                schedule,
                tick: Duration::from_secs_f64(tick),
            }
        }
        Some("run") => {
            let name = raw.run.as_ref()?;
            let backend = raw
                .backend
                .as_ref()
                .map_or("threads", |b| b.get_ref().as_str());
            let fallback = raw
                .replay_if_unavailable
                .as_ref()
                .and_then(|r| recording(cx, base, r, Some((name.get_ref(), backend))));
            let speed = speed(cx);
            let metric = metric(cx, Metric::Speedup);
            let step = check_run(cx, &raw, name, fallback, speed, metric);
            *seen_run = true;
            Action::Run(RunStep { compare, ..step? })
        }
        Some("replay") => {
            let file = raw.replay.as_ref()?;
            let recording = recording(cx, base, file, None);
            let speed = speed(cx);
            let metric = metric(cx, Metric::Speedup);
            *seen_run = true;
            Action::Replay(ReplayStep {
                recording: recording?,
                speed,
                metric,
                compare,
            })
        }
        Some("export") => {
            let what = raw.export.as_ref()?;
            let kind = match what.get_ref().as_str() {
                "card" => {
                    if seen_lesson.is_none() {
                        cx.error(
                            what.span(),
                            "`export = \"card\"` saves the card of the lesson last shown, but no \
                             step before it shows a lesson",
                        );
                    }
                    ExportKind::Card
                }
                "chart" => {
                    if !*seen_run {
                        cx.error(
                            what.span(),
                            "`export = \"chart\"` saves the chart of the run last shown, but no \
                             step before it runs or replays one",
                        );
                    }
                    ExportKind::Chart
                }
                other => {
                    cx.error(
                        what.span(),
                        format!("`export` = \"{other}\" is not allowed; one of card, chart"),
                    );
                    ExportKind::Card
                }
            };
            Action::Export {
                what: kind,
                output: raw.output.as_ref().map(|o| PathBuf::from(o.get_ref())),
            }
        }
        Some(_) => Action::Hold,
    };
    if let Action::Lesson { lesson, .. } | Action::Puzzle { lesson, .. } = &action {
        *seen_lesson = Some(*lesson);
    }
    (cx.errors.len() == errors_before).then(|| Step {
        line: cx.line(&span),
        action,
        caption,
        notes: raw
            .notes
            .clone()
            .map(|n| n.trim().to_owned())
            .filter(|n| !n.is_empty()),
        wait,
    })
}

fn find_lesson(cx: &mut Cx, lessons: &LessonSet, id: &Spanned<String>) -> Option<usize> {
    let found = lessons.lessons.iter().position(|l| l.id == *id.get_ref());
    if found.is_none() {
        let known: Vec<&str> = lessons.lessons.iter().map(|l| l.id.as_str()).collect();
        cx.error(
            id.span(),
            format!(
                "no lesson with id `{}` (known: {})",
                id.get_ref(),
                known.join(", ")
            ),
        );
    }
    found
}

/// `puzzle = "ID"` (searched in every lesson) or `"LESSON/ID"`.
fn find_puzzle(cx: &mut Cx, lessons: &LessonSet, id: &Spanned<String>) -> Option<(usize, usize)> {
    let text = id.get_ref();
    let (lesson_id, puzzle_id) = match text.split_once('/') {
        Some((l, p)) => (Some(l), p),
        None => (None, text.as_str()),
    };
    let found: Vec<(usize, usize)> = lessons
        .lessons
        .iter()
        .enumerate()
        .filter(|(_, l)| lesson_id.is_none_or(|want| l.id == want))
        .flat_map(|(i, l)| {
            l.puzzles
                .iter()
                .enumerate()
                .filter(|(_, p)| p.id == puzzle_id)
                .map(move |(j, _)| (i, j))
        })
        .collect();
    match found.as_slice() {
        [one] => Some(*one),
        [] => {
            let known: Vec<String> = lessons
                .lessons
                .iter()
                .flat_map(|l| l.puzzles.iter().map(move |p| format!("{}/{}", l.id, p.id)))
                .collect();
            cx.error(
                id.span(),
                format!("no puzzle `{text}` (known: {})", known.join(", ")),
            );
            None
        }
        many => {
            let names: Vec<String> = many
                .iter()
                .map(|(i, _)| format!("{}/{puzzle_id}", lessons.lessons[*i].id))
                .collect();
            cx.error(
                id.span(),
                format!(
                    "puzzle `{text}` is in several lessons: write one of {}",
                    names.join(", ")
                ),
            );
            None
        }
    }
}

/// The `#` headings of a Markdown text, outside code blocks.
fn headings(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = false;
    for line in body.lines() {
        let l = line.trim_start();
        if l.starts_with("```") || l.starts_with("~~~") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let hashes = l.chars().take_while(|&c| c == '#').count();
        if (1..=6).contains(&hashes) && l[hashes..].starts_with(' ') {
            out.push(l[hashes..].trim().to_owned());
        }
    }
    out
}

#[cfg(test)]
fn has_heading(body: &str, wanted: &str) -> bool {
    headings(body)
        .iter()
        .any(|h| h.eq_ignore_ascii_case(wanted))
}

/// Reads a recording named in the script: next to the script first, then the shipped ones.
/// `stands_in_for`: the experiment and backend of the run step it replaces, which it must
/// be a run of (a class told "this is MPI" must see MPI).
fn recording(
    cx: &mut Cx,
    base: &Base,
    file: &Spanned<String>,
    stands_in_for: Option<(&String, &str)>,
) -> Option<Recording> {
    let name = file.get_ref().clone();
    let loaded = cx
        .recordings
        .entry(name.clone())
        .or_insert_with(|| load_recording(base, &name))
        .clone();
    let records = match loaded {
        Ok(r) => r,
        Err(message) => {
            cx.error(file.span(), message);
            return None;
        }
    };
    let Some(Record::Run(run)) = records.first() else {
        cx.error(
            file.span(),
            format!("recording `{name}` does not start with a run record"),
        );
        return None;
    };
    if let Some((e, backend)) = stands_in_for {
        if run.experiment != *e {
            cx.error(
                file.span(),
                format!(
                    "recording `{name}` is a run of `{}`, not of `{e}`",
                    run.experiment
                ),
            );
            return None;
        }
        if run.backend != backend {
            cx.error(
                file.span(),
                format!(
                    "recording `{name}` was measured on {}, but the step runs on {backend}",
                    run.backend
                ),
            );
            return None;
        }
    }
    Some(Recording { name, records })
}

/// The records of recording `name`, or why they cannot be read (as one line).
pub fn load_recording(base: &Base, name: &str) -> Result<Vec<Record>, String> {
    let path = Path::new(name);
    if let Base::Dir(dir) = base {
        let on_disk = if path.is_absolute() {
            path.to_path_buf()
        } else {
            dir.join(path)
        };
        // Anything there is read (a FIFO or a device is refused with what it is).
        if on_disk.exists() && !on_disk.is_dir() {
            return crate::record::store::load(&on_disk)
                .map_err(|e| format!("recording `{name}`: {e}"));
        }
        if path.is_absolute() {
            return Err(format!("no recording {name}"));
        }
    }
    let shipped = name
        .strip_prefix(RECORDINGS_PREFIX)
        .and_then(|n| RECORDINGS.get_file(n))
        .and_then(|f| f.contents_utf8());
    let Some(text) = shipped else {
        let known: Vec<String> = RECORDINGS
            .files()
            .map(|f| format!("{RECORDINGS_PREFIX}{}", f.path().display()))
            .collect();
        let here = match base {
            Base::Dir(d) => format!("next to the script (in {}) or ", d.display()),
            Base::BuiltIn => String::new(),
        };
        return Err(format!(
            "no recording `{name}` {here}among the shipped ones ({})",
            known.join(", ")
        ));
    };
    parse_records(name, text)
}

/// Parses the JSON Lines of a recording; errors are `name:line: message`.
fn parse_records(name: &str, text: &str) -> Result<Vec<Record>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match Record::from_line(line) {
            Ok(r) => out.push(r),
            Err(e) => return Err(format!("recording {name}:{}: {e}", i + 1)),
        }
    }
    Ok(out)
}

fn check_run(
    cx: &mut Cx,
    raw: &RawStep,
    name: &Spanned<String>,
    fallback: Option<Recording>,
    speed: f64,
    metric: Metric,
) -> Option<RunStep> {
    let before = cx.errors.len();
    let Some(info) = experiment::find(name.get_ref()) else {
        cx.error(
            name.span(),
            format!(
                "unknown experiment `{}` (known: {})",
                name.get_ref(),
                experiment::known_names()
            ),
        );
        return None;
    };
    let backend = raw
        .backend
        .as_ref()
        .map_or_else(|| "threads".to_owned(), |b| b.get_ref().clone());
    if !matches!(backend.as_str(), "threads" | "mpi")
        && let Some(b) = &raw.backend
    {
        cx.error(
            b.span(),
            format!("`backend` = \"{backend}\" is not allowed; one of threads, mpi"),
        );
    }
    let mut workers: Vec<u16> = Vec::new();
    let mut counts = [3u32, 1u32];
    if let Some(w) = &raw.workers {
        let list = w.get_ref();
        if list.is_empty() {
            cx.error(w.span(), "`workers` must list at least one worker count");
        }
        for n in list {
            if !(1..=1024).contains(n.get_ref()) {
                cx.error(
                    n.span(),
                    format!(
                        "`workers`: {} is not allowed; expected 1 to 1024",
                        n.get_ref()
                    ),
                );
            } else if let Some(fixed) = info.fixed_workers()
                && *n.get_ref() as usize != fixed
            {
                cx.error(
                    n.span(),
                    format!(
                        "experiment `{}` always runs on exactly {fixed} workers; give \
                         workers = [{fixed}] or leave it out",
                        info.name
                    ),
                );
            }
        }
        workers = list.iter().map(|n| *n.get_ref() as u16).collect();
    }
    for (i, (key, value, lo, hi, default)) in [
        ("reps", &raw.reps, 1, 1000, 3),
        ("warmup", &raw.warmup, 0, 100, 1),
    ]
    .into_iter()
    .enumerate()
    {
        let v = match value {
            Some(v) if !(lo..=hi).contains(v.get_ref()) => {
                cx.error(
                    v.span(),
                    format!(
                        "`{key}` = {} is not allowed; expected {lo} to {hi}",
                        v.get_ref()
                    ),
                );
                default
            }
            Some(v) => *v.get_ref(),
            None => default,
        };
        counts[i] = v as u32;
    }
    let mut pairs = Vec::new();
    if let Some(params) = &raw.params {
        for (k, v) in params.get_ref() {
            let text = match v.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    cx.error(
                        v.span(),
                        format!(
                            "parameter `{k}` must be a string or a number, not {}",
                            other.type_str()
                        ),
                    );
                    continue;
                }
            };
            let pair = format!("{k}={text}");
            if let Err(e) = Params::parse(info, std::slice::from_ref(&pair)) {
                cx.error(v.span(), format!("run `{}`: {e}", info.name));
            }
            pairs.push(pair);
        }
        if cx.errors.len() == before
            && let Err(e) = Params::parse(info, &pairs)
        {
            cx.error(params.span(), format!("run `{}`: {e}", info.name));
        }
    }
    if cx.errors.len() != before {
        return None;
    }
    // The same request, checked the same way, as `hpc-tutor run` and the tutor's form.
    let request = match experiment::RunRequest::check(
        info.name,
        experiment::Backend::from_name(&backend),
        &workers,
        counts[0],
        counts[1],
        &pairs,
    ) {
        Ok(r) => r,
        Err(e) => {
            cx.error(name.span(), format!("run `{}`: {e}", info.name));
            return None;
        }
    };
    Some(RunStep {
        experiment: info.name.to_owned(),
        backend: request.backend.name().to_owned(),
        args: request.child_args(),
        fallback,
        speed,
        metric,
        compare: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_skip_code_blocks() {
        let body = "# Title\n\ntext\n\n```sh\n# not a heading\n```\n## Two words\n#nospace\n";
        assert_eq!(headings(body), ["Title", "Two words"]);
        assert!(has_heading(body, "two words"));
    }

    #[test]
    fn shipped_recordings_parse() {
        for f in RECORDINGS.files() {
            let name = format!("{RECORDINGS_PREFIX}{}", f.path().display());
            let records = load_recording(&Base::BuiltIn, &name).expect("valid recording");
            assert!(
                matches!(records.first(), Some(Record::Run(_))),
                "{name} starts with a run record"
            );
            assert!(
                matches!(records.last(), Some(Record::End(_))),
                "{name} ends with an end record"
            );
        }
    }
}
