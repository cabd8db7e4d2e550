//! The tutor's state and its one way of changing: [`App::update`].
//!
//! `update` takes an [`Event`] and returns an [`Effect`] for the event loop to carry out; it
//! never touches the terminal, so every interaction is testable without one. Drawing lives
//! in `view/` and only reads the state.

use crate::experiment::RunRequest;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use super::experiment::{Action, Comparison, ExperimentView, LiveRun, RunState};
use super::markdown;
use super::theme::Theme;
use super::view::layout;
use crate::cluster::SystemInfo;
use crate::lesson::{Answer, CheckKind, Lesson, LessonSet};
use crate::progress::{LessonProgress, Progress};
use crate::record::Record;
use crate::record::store::{Store, StoredRun};

/// Everything that can happen to the app. Input, signals and background runs all arrive as
/// events on one channel.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal now has this size.
    Resize(u16, u16),
    /// The process got a signal asking it to stop.
    Signal(StopSignal),
    /// Something happened to background run `id`.
    Run(u64, RunEvent),
    /// A clock tick while a run is going (for its elapsed and remaining time).
    Tick(Instant),
    /// The answer to an [`Io`] request, from a worker thread.
    Loaded(Loaded),
    /// SIGTSTP (`kill -TSTP`, a job-control stop): the event loop hands the terminal back,
    /// stops, and takes it again on `fg`.
    Suspend,
}

/// Slow work `update` asks for instead of doing it (reading the results store): the event
/// loop carries it out on a worker thread, and the answer comes back as [`Event::Loaded`],
/// so that no key waits for the disk (opening a lesson with 30,000 stored runs included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Io {
    /// The recent stored runs of this experiment, for predictions and the lesson card.
    RecentRuns(String),
    /// Every stored run of this experiment, for the compare window (`o`).
    History(String),
    /// The CPUs per node of the cluster's partition (`sinfo`), for fitting job scripts.
    NodeCpus(Option<String>),
}

/// What an [`Io`] request found.
#[derive(Debug, Clone, PartialEq)]
pub enum Loaded {
    /// The recent stored runs of an experiment, newest first (at most [`RECENT_RUNS`]).
    RecentRuns {
        /// The experiment.
        experiment: String,
        /// Each run's records.
        runs: Vec<Vec<Record>>,
    },
    /// The stored runs of an experiment, newest first.
    History {
        /// The experiment.
        experiment: String,
        /// The runs.
        runs: Vec<StoredRun>,
    },
    /// The CPUs per node, when `sinfo` answered.
    NodeCpus(Option<usize>),
}

impl Io {
    /// Carries the request out (slow: on a worker thread); without a results store the
    /// look-ups in it find nothing.
    pub fn run(&self, store: Option<&Store>) -> Loaded {
        let list = || store.map(Store::list).unwrap_or_default();
        match self {
            Io::RecentRuns(experiment) => Loaded::RecentRuns {
                experiment: experiment.clone(),
                runs: list()
                    .into_iter()
                    .filter(|r| r.run.experiment == *experiment)
                    .take(RECENT_RUNS)
                    .filter_map(|r| crate::record::store::load(&r.path).ok())
                    .collect(),
            },
            Io::History(experiment) => Loaded::History {
                experiment: experiment.clone(),
                runs: list()
                    .into_iter()
                    .filter(|r| r.run.experiment == *experiment)
                    .collect(),
            },
            Io::NodeCpus(partition) => Loaded::NodeCpus(
                crate::cluster::slurm::cluster_cpus_per_node(partition.as_deref()),
            ),
        }
    }
}

pub use crate::backend::child::RunEvent;

impl From<crate::backend::child::Report> for Event {
    fn from(r: crate::backend::child::Report) -> Self {
        match r {
            crate::backend::child::Report::Run(id, ev) => Event::Run(id, ev),
            crate::backend::child::Report::Tick(t) => Event::Tick(t),
        }
    }
}

/// Signals that end the tutor after saving progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    /// SIGINT (Ctrl-C from outside the raw-mode terminal, or `kill -INT`).
    Interrupt,
    /// SIGTERM: SLURM sends it when a job's time runs out.
    Terminate,
    /// SIGHUP: the terminal went away (a closed ssh session).
    Hangup,
}

impl StopSignal {
    /// The conventional exit status, 128 + signal number.
    pub fn exit_status(self) -> u8 {
        match self {
            StopSignal::Hangup => 129,
            StopSignal::Interrupt => 130,
            StopSignal::Terminate => 143,
        }
    }
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Nothing changed: do not redraw.
    None,
    /// The screen changed: redraw.
    Redraw,
    /// Progress changed in a way worth keeping now: save it, then redraw.
    Save,
    /// Save progress, stop any run, restore the terminal and exit with this status.
    Quit(u8),
    /// Start background run `id`: a child `hpc-tutor run` of this request. Then redraw.
    StartRun {
        /// The tutor's id for the run.
        id: u64,
        /// What to run.
        request: Box<crate::experiment::RunRequest>,
    },
    /// Kill background run `id` (its whole process group). Then redraw.
    CancelRun(u64),
    /// Save what is on screen as a PNG in the current folder (see `App::export_screen`),
    /// say where it went in the status bar, then redraw.
    Export,
}

/// Which screen is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Tracks and lessons.
    Catalogue,
    /// One lesson's text, with its panel of checks and experiments.
    Reader(Reader),
    /// An interleaving puzzle opened from a lesson: the learner schedules the threads.
    Puzzle {
        /// The stepper.
        view: Box<super::puzzle::PuzzleView>,
        /// The reader to go back to.
        back: Box<Reader>,
    },
    /// An experiment opened from a lesson, or the "Your program" screen (experiment
    /// `program`) opened from the catalogue: form, run and charts.
    Experiment {
        /// The experiment's name (key into [`App::experiments`]).
        name: String,
        /// The reader to go back to; `None`: back to the catalogue.
        back: Option<Box<Reader>>,
    },
    /// Results of batch jobs read from a folder (`--results DIR`), in [`App::results`].
    Results,
}

/// A row of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Row {
    /// A track heading (not selectable).
    Track(String),
    /// A valid lesson, by index into [`LessonSet::lessons`].
    Lesson(usize),
    /// A file with problems, by index into [`LessonSet::broken`].
    Broken(usize),
}

/// Which part of the reader takes the arrow keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    /// The lesson text scrolls.
    Text,
    /// The panel's list of checks moves.
    Panel,
}

/// The reader's state for the open lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct Reader {
    /// Index into [`LessonSet::lessons`].
    pub lesson: usize,
    /// The text, rendered and wrapped for the current width.
    pub lines: Vec<Line<'static>>,
    /// The wrap width `lines` was rendered for.
    pub width: u16,
    /// First visible line.
    pub scroll: usize,
    /// Which part takes the arrow keys.
    pub focus: Focus,
    /// Selected item in the panel: the checks, then the experiments.
    pub selected_check: usize,
    /// How many hints have been shown (the next `h` shows hint number `hints_shown`).
    pub hints_shown: usize,
}

/// A window drawn over the current screen; it takes the keys until closed.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// Every key of the screen below.
    Help,
    /// Answering a check.
    Check(CheckDialog),
    /// One hint, by index into the lesson's hints.
    Hint(usize),
    /// The lesson's instructor notes.
    Notes,
    /// The problems of a broken lesson file, by index into [`LessonSet::broken`].
    Problems(usize),
    /// The job script that reproduces the experiment screen's form on a cluster.
    JobScript(Box<JobScript>),
    /// Before a program of a lesson loaded with `--lessons` runs for the first time: the
    /// learner sees its command and agrees (y) or not.
    ConfirmProgram {
        /// The command it would run.
        command: String,
        /// The run waiting for the answer.
        request: Box<RunRequest>,
    },
    /// Earlier runs of the open experiment, to pick one to compare with.
    History {
        /// Runs of the experiment, newest first.
        runs: Vec<StoredRun>,
        /// The highlighted one.
        selected: usize,
    },
}

/// The job-script window: the script, where its time limit came from, and whether it
/// has been written.
#[derive(Debug, Clone, PartialEq)]
pub struct JobScript {
    /// The script's text.
    pub text: String,
    /// The name it is written under unless that file exists (`amdahl-threads.sbatch`).
    pub file_name: String,
    /// Whether the time limit comes from a measured run (else it is a guess).
    pub measured: bool,
    /// How the time limit was arrived at.
    pub basis: String,
    /// Notes on the request (e.g. fitted to the cluster's nodes).
    pub notes: Vec<String>,
    /// First visible line of the script.
    pub scroll: usize,
    /// First visible column of the script (long lines scroll sideways).
    pub hscroll: usize,
    /// Where it was written, once it was.
    pub written: Option<PathBuf>,
    /// The window's key help is open over it (`?`).
    pub help: bool,
}

impl JobScript {
    /// Lines above the script in its window.
    pub fn header_lines(&self) -> usize {
        3 + self.notes.len()
    }

    /// How many lines the script has.
    pub fn line_count(&self) -> usize {
        self.text.lines().count()
    }
}

/// The state of the check window.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDialog {
    /// Index into the lesson's checks.
    pub check: usize,
    /// A choice check's options in the order shown, as indices into its `choices` (see
    /// [`crate::lesson::Check::shown_order`]); empty for a numeric check.
    pub order: Vec<usize>,
    /// Highlighted option of a choice check: a position in `order`.
    pub selected: usize,
    /// What has been typed for a numeric check.
    pub input: String,
    /// Why the typed text was not accepted.
    pub error: Option<String>,
    /// After an answer: whether it was right.
    pub result: Option<bool>,
    /// After an answer: how a percentage was read, or that the answer would be right as a
    /// fraction (or as a percentage).
    pub note: Option<String>,
    /// Wrong answers since the dialog opened: after the first, a hint and one more try;
    /// after the second, the answer and its explanation.
    pub wrong: u8,
    /// The run the learner asked for before predicting its result: it starts when this
    /// (prediction) dialog closes, answered or not.
    pub then_run: Option<Box<RunRequest>>,
}

impl CheckDialog {
    /// Whether the right answer and the explanation are shown: after a right answer, or
    /// after the second wrong one.
    pub fn revealed(&self) -> bool {
        self.result == Some(true) || (self.result == Some(false) && self.wrong >= 2)
    }
}

/// The number typed for a numeric check: `0.95`, or `95 %` read as 0.95 (unless the check's
/// unit is `%`, where `95 %` is 95); `None` when it is not a number.
pub fn parse_number_answer(input: &str, kind: &CheckKind) -> Option<f64> {
    let text = input.trim();
    let percent_unit = matches!(kind, CheckKind::Numeric { unit: Some(u), .. } if u.trim() == "%");
    let (number, percent) = match text.strip_suffix('%') {
        Some(n) => (n.trim(), !percent_unit),
        None => (text, false),
    };
    let v = number.parse::<f64>().ok().filter(|v| v.is_finite())?;
    Some(if percent { v / 100.0 } else { v })
}

/// What to tell about percentages after `answer` to `check`: how `95 %` was read, or that a
/// wrong answer would be right as a fraction (typed 95 for 0.95) or as a percentage.
fn percent_note(check: &crate::lesson::Check, answer: &Answer, input: &str) -> Option<String> {
    let Answer::Number(v) = answer else {
        return None;
    };
    let right = check.is_correct(answer);
    if input.trim().ends_with('%')
        && !matches!(&check.kind, CheckKind::Numeric { unit: Some(u), .. } if u.trim() == "%")
    {
        return Some(format!("{} was read as the fraction {v}.", input.trim()));
    }
    if right {
        return None;
    }
    if check.is_correct(&Answer::Number(v / 100.0)) {
        return Some(format!(
            "This check asks for a fraction: {v} % is {}. Your {v} read as a percentage would be right.",
            v / 100.0
        ));
    }
    if check.is_correct(&Answer::Number(v * 100.0)) {
        return Some(format!(
            "This check asks for a percentage: {v} is {} %. Your answer as a fraction would be right.",
            v * 100.0
        ));
    }
    None
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    /// The text.
    pub text: String,
    /// Shown as a warning rather than information.
    pub warning: bool,
}

/// How far a learner is in a lesson, as the catalogue marks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LessonState {
    /// Never opened.
    NotStarted,
    /// Opened, not yet scrolled to the end.
    Started,
    /// Scrolled to the end; some checks not yet answered correctly.
    Read,
    /// Read, and every check answered correctly.
    Complete,
}

/// The whole state of the tutor.
#[derive(Debug, Clone)]
pub struct App {
    /// The lessons on offer.
    pub lessons: LessonSet,
    /// What the learner has done.
    pub progress: Progress,
    /// Host, CPUs, SLURM job: shown in the status bar.
    pub system: SystemInfo,
    /// Colours or not.
    pub theme: Theme,
    /// The terminal size.
    pub size: (u16, u16),
    /// The screen below any overlay.
    pub screen: Screen,
    /// The catalogue's rows.
    pub rows: Vec<Row>,
    /// Selected catalogue row (always a lesson or broken row when any exist).
    pub selected_row: usize,
    /// A window over the screen.
    pub overlay: Option<Overlay>,
    /// A message in the status bar until the next key.
    pub status: Option<StatusLine>,
    /// Experiment screens opened in this session, by experiment name.
    pub experiments: BTreeMap<String, ExperimentView>,
    /// The run in progress: its id and experiment.
    pub running: Option<(u64, String)>,
    /// The next run id.
    pub next_run: u64,
    /// Where results are kept, when there is a place.
    pub store: Option<Store>,
    /// The recent runs of each experiment, newest first (this session's and from the store,
    /// at most [`RECENT_RUNS`]): the newest is "your latest run"; predictions compare with
    /// the newest whose parameters match what the check asks about.
    pub latest: BTreeMap<String, Vec<Vec<Record>>>,
    /// The folder job scripts and PNGs are written to: the current folder.
    pub work_dir: PathBuf,
    /// The hpc-tutor a job script runs (`hpc-tutor` unless set, e.g. to this binary).
    pub exe: String,
    /// CPUs per node of the cluster, for fitting job scripts: `Some(Some(n))` known,
    /// `Some(None)` unknown, `None` not answered yet (asked with [`Io::NodeCpus`]).
    pub node_cpus: Option<Option<usize>>,
    /// Slow work asked for by `update`, for the event loop to carry out off this thread.
    pub io: Vec<Io>,
    /// Experiments whose recent stored runs were asked for and have not arrived yet.
    pub loading: std::collections::BTreeSet<String>,
    /// Results read from a folder (`--results DIR`), shown on [`Screen::Results`].
    pub results: Option<super::results::ResultsView>,
}

/// How many recent runs of each experiment the tutor keeps at hand for predictions.
pub const RECENT_RUNS: usize = 16;

/// The smallest terminal the tutor draws in.
pub const MIN_SIZE: (u16, u16) = (80, 24);

impl App {
    /// A new app over `lessons`, resuming `progress`. Opens `open` (a lesson id) if given,
    /// else the lesson that was open last time, else the catalogue.
    pub fn new(
        lessons: LessonSet,
        progress: Progress,
        system: SystemInfo,
        theme: Theme,
        size: (u16, u16),
        open: Option<&str>,
    ) -> Self {
        let rows = catalogue_rows(&lessons);
        let mut app = Self {
            lessons,
            progress,
            system,
            theme,
            size,
            screen: Screen::Catalogue,
            rows,
            selected_row: 0,
            overlay: None,
            status: None,
            experiments: BTreeMap::new(),
            running: None,
            next_run: 1,
            store: None,
            latest: BTreeMap::new(),
            work_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            exe: "hpc-tutor".to_owned(),
            node_cpus: Some(None),
            io: Vec::new(),
            loading: Default::default(),
            results: None,
        };
        app.selected_row = app.first_selectable();
        let resume = open
            .map(str::to_owned)
            .or_else(|| app.progress.last_lesson.clone());
        if let Some(idx) = resume.and_then(|id| app.lessons.lessons.iter().position(|l| l.id == id))
        {
            app.select_lesson_row(idx);
            app.open_lesson(idx, true);
        }
        if !app.lessons.broken.is_empty() && app.status.is_none() {
            app.status = Some(StatusLine {
                text: format!(
                    "{} lesson file(s) have problems: they are listed at the end, marked ✗",
                    app.lessons.broken.len()
                ),
                warning: true,
            });
        }
        app
    }

    /// Shows `text` in the status bar until the next key.
    pub fn set_status(&mut self, text: impl Into<String>, warning: bool) {
        self.status = Some(StatusLine {
            text: text.into(),
            warning,
        });
    }

    /// Applies one event.
    pub fn update(&mut self, event: Event) -> Effect {
        match event {
            // The event loop stops the process; coming back, everything is drawn again.
            Event::Suspend => Effect::Redraw,
            Event::Loaded(Loaded::NodeCpus(n)) => {
                self.node_cpus = Some(n);
                Effect::None
            }
            Event::Loaded(Loaded::History { experiment, runs }) => {
                // Only if the learner is still on that experiment's screen.
                let here =
                    matches!(&self.screen, Screen::Experiment { name, .. } if *name == experiment);
                if !here || self.overlay.is_some() {
                    return Effect::None;
                }
                if runs.is_empty() {
                    self.set_status(
                        format!("no earlier `{experiment}` runs in the results store yet"),
                        false,
                    );
                } else {
                    self.overlay = Some(Overlay::History { runs, selected: 0 });
                }
                Effect::Redraw
            }
            Event::Loaded(Loaded::RecentRuns { experiment, runs }) => {
                self.loading.remove(&experiment);
                // Runs made in this session since the request stay first.
                let known = self.latest.entry(experiment).or_default();
                let id = |records: &Vec<Record>| match records.first() {
                    Some(Record::Run(r)) => Some(r.run_id.clone()),
                    _ => None,
                };
                let have: Vec<Option<String>> = known.iter().map(id).collect();
                known.extend(runs.into_iter().filter(|r| !have.contains(&id(r))));
                known.truncate(RECENT_RUNS);
                Effect::Redraw
            }
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.rewrap();
                Effect::Redraw
            }
            Event::Signal(sig) => {
                self.sync_progress();
                Effect::Quit(sig.exit_status())
            }
            Event::Run(id, ev) => self.on_run_event(id, ev),
            Event::Tick(now) => {
                let mut changed = false;
                for v in self.experiments.values_mut() {
                    if let Some(run) = v.run.as_mut().filter(|r| r.active()) {
                        run.now = now;
                        changed = true;
                    }
                }
                // Only the screen showing the run needs the new time.
                if changed && matches!(self.screen, Screen::Experiment { .. }) {
                    Effect::Redraw
                } else {
                    Effect::None
                }
            }
            Event::Key(key) => {
                if key.kind == KeyEventKind::Release {
                    return Effect::None;
                }
                let had_status = self.status.take().is_some();
                let effect = self.on_key(key);
                match effect {
                    Effect::None if had_status => Effect::Redraw,
                    other => other,
                }
            }
        }
    }

    fn on_key(&mut self, key: KeyEvent) -> Effect {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.sync_progress();
            return Effect::Quit(0);
        }
        if self.overlay.is_some() {
            return self.on_overlay_key(key);
        }
        match key.code {
            KeyCode::Char('q') => {
                self.sync_progress();
                return Effect::Quit(0);
            }
            KeyCode::Char('?') => {
                self.overlay = Some(Overlay::Help);
                return Effect::Redraw;
            }
            _ => {}
        }
        if self.too_small() {
            return Effect::None;
        }
        match self.screen {
            Screen::Catalogue => self.on_catalogue_key(key),
            Screen::Reader(_) => self.on_reader_key(key),
            Screen::Experiment { .. } => self.on_experiment_key(key),
            Screen::Puzzle { .. } => self.on_puzzle_key(key),
            Screen::Results => self.on_results_key(key),
        }
    }

    // ----- results of batch jobs -------------------------------------------------------

    /// Shows the sweeps read from `dir` on the results screen.
    pub fn open_results(
        &mut self,
        dir: &std::path::Path,
        entries: Vec<super::results::ResultEntry>,
    ) {
        self.results = Some(super::results::ResultsView::new(dir, entries));
        self.screen = Screen::Results;
    }

    fn on_results_key(&mut self, key: KeyEvent) -> Effect {
        use super::results::Action as A;
        let Some(view) = self.results.as_mut() else {
            return Effect::None;
        };
        match view.on_key(key) {
            A::None => Effect::None,
            A::Redraw => Effect::Redraw,
            A::Export => Effect::Export,
            A::Leave => {
                self.screen = Screen::Catalogue;
                self.set_status("R goes back to the results", false);
                Effect::Redraw
            }
        }
    }

    // ----- puzzles ---------------------------------------------------------------------

    /// Opens puzzle `index` of the lesson in the reader.
    fn open_puzzle(&mut self, index: usize) -> Effect {
        let Screen::Reader(r) = &self.screen else {
            return Effect::None;
        };
        let Some(puzzle) = self
            .lessons
            .lessons
            .get(r.lesson)
            .and_then(|l| l.puzzles.get(index))
            .cloned()
        else {
            return Effect::None;
        };
        let back = Box::new(r.clone());
        self.screen = Screen::Puzzle {
            view: Box::new(super::puzzle::PuzzleView::new(puzzle)),
            back,
        };
        Effect::Redraw
    }

    fn on_puzzle_key(&mut self, key: KeyEvent) -> Effect {
        use super::puzzle::Action as P;
        let Screen::Puzzle { view, .. } = &mut self.screen else {
            return Effect::None;
        };
        match view.on_key(key) {
            P::None => Effect::None,
            P::Redraw => Effect::Redraw,
            P::Solved(id) => {
                if let Some(lp) = self.open_lesson_progress_mut() {
                    lp.puzzles_solved.insert(id);
                }
                Effect::Save
            }
            P::Back => {
                self.back_to_reader();
                Effect::Redraw
            }
        }
    }

    /// Leaves a puzzle or experiment screen for the reader it was opened from.
    fn back_to_reader(&mut self) {
        match std::mem::replace(&mut self.screen, Screen::Catalogue) {
            Screen::Puzzle { back, .. }
            | Screen::Experiment {
                back: Some(back), ..
            } => {
                self.screen = Screen::Reader(*back);
                self.rewrap();
            }
            // The "Your program" screen opened from the catalogue goes back there.
            Screen::Experiment { back: None, .. } => {}
            other => self.screen = other,
        }
    }

    /// Whether the learner has solved puzzle `id` of `lesson`.
    pub fn puzzle_solved(&self, lesson: &Lesson, id: &str) -> bool {
        self.progress
            .lessons
            .get(&lesson.id)
            .is_some_and(|p| p.puzzles_solved.contains(id))
    }

    /// Attaches the results store (runs are kept there; predictions compare with its runs).
    pub fn with_store(mut self, store: Option<Store>) -> Self {
        self.store = store;
        if let Some(l) = self.lesson_in_reader().cloned() {
            for e in &l.measured_experiments() {
                self.ensure_latest(e);
            }
        }
        self
    }

    /// Asks for the recent stored runs of `experiment` unless they are known or asked for
    /// already (see [`Io::RecentRuns`]).
    fn ensure_latest(&mut self, experiment: &str) {
        if self.store.is_none()
            || self.latest.contains_key(experiment)
            || self.loading.contains(experiment)
        {
            return;
        }
        self.loading.insert(experiment.to_owned());
        self.io.push(Io::RecentRuns(experiment.to_owned()));
    }

    /// Takes the slow work asked for so far, for the event loop.
    pub fn take_io(&mut self) -> Vec<Io> {
        std::mem::take(&mut self.io)
    }

    /// The newest run of `experiment` known to the tutor.
    pub fn newest_run(&self, experiment: &str) -> Option<&Vec<Record>> {
        self.latest.get(experiment).and_then(|runs| runs.first())
    }

    // ----- experiments -----------------------------------------------------------------

    /// Opens the experiment screen of `name` from the reader; `program:ID` opens the lesson's
    /// program ID on the "Your program" screen.
    fn open_experiment(&mut self, name: &str) -> Effect {
        let (screen, program_id) = match name.strip_prefix("program:") {
            Some(id) => ("program", Some(id)),
            None => (name, None),
        };
        let Some(info) = crate::experiment::find(screen) else {
            return Effect::None;
        };
        if !info.runnable() {
            self.set_status(
                format!("the `{name}` experiment cannot run in this version of hpc-tutor"),
                true,
            );
            return Effect::Redraw;
        }
        let Screen::Reader(r) = &self.screen else {
            return Effect::None;
        };
        let back = Box::new(r.clone());
        let Some(lesson) = self.lessons.lessons.get(r.lesson).cloned() else {
            return Effect::None;
        };
        let (preset, opened_from, notice) = match program_id {
            Some(id) => {
                let Some(program) = lesson.programs.iter().find(|g| g.id == id) else {
                    return Effect::None;
                };
                match self.program_preset(program) {
                    Ok((preset, notice)) => (Some(preset), format!("{}#{id}", lesson.id), notice),
                    Err(e) => {
                        self.set_status(e, true);
                        return Effect::Redraw;
                    }
                }
            }
            None => (lesson.presets.get(name).cloned(), lesson.id.clone(), None),
        };
        // Each lesson (and each program of it) opens the screen with its own preset; the form
        // a learner edited there stays, and so does a run still going.
        let old = self.experiments.get(screen);
        let fresh = old.is_none_or(|v| {
            v.opened_from.as_deref() != Some(opened_from.as_str())
                && !v.run.as_ref().is_some_and(LiveRun::active)
        });
        if fresh {
            // Another program of the same lesson: its finished run stays on the chart to
            // compare with (threads, then processes, of the same program).
            // Else, for a program, the newest finished run of the lesson's own experiments
            // (the built-in kernel beside its Python version).
            let measured = |r: &&Vec<Record>| {
                r.iter().any(|x| matches!(x, Record::Point(_)))
                    && r.iter().any(|x| matches!(x, Record::End(_)))
            };
            let carried = old
                .filter(|v| {
                    program_id.is_some()
                        && v.opened_from
                            .as_deref()
                            .is_some_and(|o| o.starts_with(&format!("{}#", lesson.id)))
                })
                .and_then(|v| v.run.as_ref())
                .map(|r| &r.records)
                .filter(measured)
                .or_else(|| {
                    program_id.and(
                        lesson
                            .experiments
                            .iter()
                            .filter_map(|e| self.latest.get(e).and_then(|runs| runs.first()))
                            .find(measured),
                    )
                })
                // An experiment of a lesson that compares several (stream beside mc-pi):
                // the newest finished run over workers of the lesson's other experiments.
                .or_else(|| {
                    let over_workers = |r: &&Vec<Record>| {
                        crate::chart::ChartKind::of(&[r.as_slice()])
                            == crate::chart::ChartKind::Scaling
                    };
                    if program_id.is_some() {
                        return None;
                    }
                    lesson
                        .experiments
                        .iter()
                        .filter(|e| e.as_str() != name)
                        .filter_map(|e| {
                            self.latest
                                .get(e)?
                                .iter()
                                .find(|r| measured(r) && over_workers(r))
                        })
                        .max_by_key(|r| run_started(r))
                })
                .map(|records| Comparison {
                    label: run_label(records),
                    records: records.clone(),
                });
            let mut view = ExperimentView::new(info, preset.as_ref(), self.system.cpus);
            view.opened_from = Some(opened_from);
            view.notice = notice;
            view.compare = carried;
            self.experiments.insert(screen.to_owned(), view);
        }
        if program_id.is_some() {
            self.ensure_latest("program");
        }
        self.screen = Screen::Experiment {
            name: screen.to_owned(),
            back: Some(back),
        };
        Effect::Redraw
    }

    /// Opens the "Your program" screen from the catalogue: the form of the last program run
    /// there, or an empty one with the most recent command.
    fn open_your_program(&mut self) -> Effect {
        let Some(info) = crate::experiment::find("program") else {
            return Effect::None;
        };
        let fresh = self.experiments.get("program").is_none_or(|v| {
            v.opened_from.is_some() && !v.run.as_ref().is_some_and(LiveRun::active)
        });
        if fresh {
            let mut view = ExperimentView::new(info, None, self.system.cpus);
            if let Some(f) = view.fields.iter_mut().find(|f| f.name == "command") {
                f.recent = self.progress.recent_commands.clone();
                if let Some(c) = f.recent.first() {
                    f.value.clone_from(c);
                }
            }
            view.selected = view
                .fields
                .iter()
                .position(|f| f.name == "command")
                .unwrap_or(0);
            self.experiments.insert("program".to_owned(), view);
        }
        self.ensure_latest("program");
        self.screen = Screen::Experiment {
            name: "program".to_owned(),
            back: None,
        };
        Effect::Redraw
    }

    /// The form's starting settings for a lesson's program: its file (a built-in one
    /// written to the data folder first), the interpreter that has its modules, and what to
    /// install when none has.
    fn program_preset(
        &self,
        program: &crate::lesson::LessonProgram,
    ) -> Result<(crate::lesson::Preset, Option<String>), String> {
        use crate::lesson::program::materialize;
        let file = match &self.lessons.source {
            crate::lesson::LessonSource::Directory(dir) => {
                let path = dir.join(&program.file);
                std::path::absolute(&path).unwrap_or(path)
            }
            crate::lesson::LessonSource::BuiltIn => {
                let contents = crate::lesson::built_in_program(&program.file)
                    .ok_or_else(|| format!("{} is not built into this hpc-tutor", program.file))?;
                // `programs/…` lands in the data folder's `programs/`.
                let dir = crate::record::store::data_dir()
                    .unwrap_or_else(|| std::env::temp_dir().join("hpc-tutor"));
                materialize(&dir, &program.file, contents).map_err(|e| {
                    format!("cannot write {} into {}: {e}", program.file, dir.display())
                })?
            }
        };
        let interpreter = program.interpreter();
        let notice = interpreter.as_ref().and_then(|i| i.install_hint());
        let preset = program.preset(&file, interpreter.as_ref().map(|i| i.command.as_str()));
        Ok((preset, notice))
    }

    fn on_experiment_key(&mut self, key: KeyEvent) -> Effect {
        let Screen::Experiment { name, .. } = &self.screen else {
            return Effect::None;
        };
        let name = name.clone();
        let Some(view) = self.experiments.get_mut(&name) else {
            return Effect::None;
        };
        match view.on_key(key) {
            Action::None => Effect::None,
            Action::Redraw => Effect::Redraw,
            Action::Back => {
                self.back_to_reader();
                Effect::Redraw
            }
            Action::Cancel => match &self.running {
                Some((id, n)) if *n == name => Effect::CancelRun(*id),
                _ => Effect::None,
            },
            Action::Run(request) => {
                // A program of a lesson from a folder runs only once the learner agreed.
                let lesson_program = self
                    .experiments
                    .get(&name)
                    .and_then(|v| v.opened_from.as_deref())
                    .is_some_and(|o| o.contains('#'));
                let command = request
                    .params
                    .text("command")
                    .unwrap_or_default()
                    .to_owned();
                if name == "program"
                    && lesson_program
                    && self.lessons.source != crate::lesson::LessonSource::BuiltIn
                    && !self.progress.approved_programs.contains(&command)
                {
                    self.overlay = Some(Overlay::ConfirmProgram { command, request });
                    return Effect::Redraw;
                }
                self.request_run(&name, request)
            }
            Action::Export => Effect::Export,
            Action::JobScript => self.open_job_script(&name),
            Action::History => {
                if self.store.is_none() {
                    self.set_status("no results store here: nothing to compare with", false);
                } else {
                    // The window opens when the look-up answers (Loaded::History).
                    self.io.push(Io::History(name.clone()));
                    self.set_status(format!("looking up earlier `{name}` runs…"), false);
                }
                Effect::Redraw
            }
        }
    }

    /// Starts `request` on screen `name`, after the lesson's prediction about such a run
    /// if it has one that is not answered yet.
    fn request_run(&mut self, name: &str, request: Box<RunRequest>) -> Effect {
        // Predict first: a prediction made after seeing the result teaches nothing.
        if self.running.is_none()
            && let Some(i) = self.unanswered_prediction(name, &request)
        {
            if let Effect::Redraw = self.open_check(i)
                && let Some(Overlay::Check(d)) = &mut self.overlay
            {
                d.then_run = Some(request);
            }
            return Effect::Redraw;
        }
        self.start_run(name, request)
    }

    /// Opens the job-script window for the form of experiment `name`.
    fn open_job_script(&mut self, name: &str) -> Effect {
        use crate::cluster::jobscript::{self, TimeLimit};
        let system = self.system.clone();
        let Some(view) = self.experiments.get_mut(name) else {
            return Effect::None;
        };
        let (mut spec, weak) = match view.job_spec(&system, &self.exe) {
            Ok(s) => s,
            Err(e) => {
                self.set_status(e, true);
                return Effect::Redraw;
            }
        };
        // Asked of sinfo off this thread when the tutor starts (Io::NodeCpus): until it has
        // answered, the script is not fitted to the nodes.
        if let Some(Some(cpn)) = self.node_cpus {
            spec.fit_to_nodes(cpn);
        }
        // A measured run of the same sweep: this screen's, the compared one, the store's;
        // one of exactly the job's worker counts first, else one to extrapolate from.
        let backend = spec.backend();
        let sweep_of = |records: &[Record]| match records.first() {
            Some(Record::Run(r))
                if r.experiment == spec.experiment
                    && r.backend == backend
                    && r.params == spec.params =>
            {
                Some((r.run_id.clone(), r.env.host.clone(), r.workers.clone()))
            }
            _ => None,
        };
        let mut candidates: Vec<(Vec<Record>, String, Vec<usize>)> = Vec::new();
        if let Some(run) = view.run.as_ref().filter(|r| !r.active())
            && let Some((id, host, workers)) = sweep_of(&run.records)
        {
            let from = format!("run {id} made on this screen ({host})");
            candidates.push((run.records.clone(), from, workers));
        }
        if let Some(c) = view.compare.as_ref()
            && let Some((id, host, workers)) = sweep_of(&c.records)
        {
            candidates.push((c.records.clone(), format!("run {id} on {host}"), workers));
        }
        // The stored ones: the experiment's recent runs, read off the UI thread when the
        // lesson opened (no look-up in the store here). Finished runs only.
        for records in self.latest.get(&spec.experiment).into_iter().flatten() {
            let ended_ok = records
                .iter()
                .any(|r| matches!(r, Record::End(e) if e.status == crate::record::Status::Ok));
            if let Some((id, host, workers)) = sweep_of(records).filter(|_| ended_ok) {
                candidates.push((records.clone(), format!("run {id} on {host}"), workers));
            }
        }
        candidates.sort_by_key(|(_, _, workers)| *workers != spec.workers);
        let measured: Option<(Vec<Record>, String)> =
            candidates
                .into_iter()
                .next()
                .map(|(records, from, workers)| {
                    let note = jobscript::extrapolated(&workers, &spec.workers);
                    (records, format!("{from}{note}"))
                });
        let estimate = measured.as_ref().and_then(|(records, from)| {
            jobscript::estimate_seconds(records, &spec, weak).map(|e| (e, from.clone()))
        });
        let is_measured = estimate.is_some();
        spec.time = match estimate {
            Some((est, from)) => TimeLimit::estimated(est, &format!("this sweep takes by {from}")),
            None => TimeLimit::guess(
                "this sweep has not been measured yet; run it first (r in the tutor), then make the script again",
            ),
        };
        self.overlay = Some(Overlay::JobScript(Box::new(JobScript {
            text: spec.render(),
            file_name: spec.file_name(),
            measured: is_measured,
            basis: spec.time.basis.clone(),
            notes: spec.notes.clone(),
            scroll: 0,
            hscroll: 0,
            written: None,
            help: false,
        })));
        Effect::Redraw
    }

    fn on_job_script_key(&mut self, mut js: Box<JobScript>, key: KeyEvent) -> Effect {
        let rows = usize::from(layout::job_script_rows(self.area(), js.header_lines())).max(1);
        let max = js.line_count().saturating_sub(rows);
        let scroll_to = |js: &mut JobScript, to: isize| {
            let new = to.clamp(0, max as isize) as usize;
            let changed = new != js.scroll;
            js.scroll = new;
            changed
        };
        let at = js.scroll as isize;
        let page = rows.saturating_sub(1).max(1) as isize;
        if js.help {
            // Any key closes the help (q still quits), back to the script.
            if key.code == KeyCode::Char('q') {
                self.sync_progress();
                return Effect::Quit(0);
            }
            js.help = false;
            self.overlay = Some(Overlay::JobScript(js));
            return Effect::Redraw;
        }
        let changed = match key.code {
            KeyCode::Esc => return Effect::Redraw,
            KeyCode::Char('q') => {
                self.sync_progress();
                return Effect::Quit(0);
            }
            KeyCode::Char('?') => {
                js.help = true;
                true
            }
            KeyCode::Up | KeyCode::Char('k') => scroll_to(&mut js, at - 1),
            KeyCode::Down | KeyCode::Char('j') => scroll_to(&mut js, at + 1),
            KeyCode::PageUp => scroll_to(&mut js, at - page),
            KeyCode::PageDown | KeyCode::Char(' ') => scroll_to(&mut js, at + page),
            KeyCode::Home | KeyCode::Char('g') => scroll_to(&mut js, 0),
            KeyCode::End | KeyCode::Char('G') => scroll_to(&mut js, max as isize),
            KeyCode::Left | KeyCode::Right | KeyCode::Char('h') | KeyCode::Char('l') => {
                // The script is shown after one column of padding.
                let width = usize::from(layout::job_script(self.area()).width.saturating_sub(3));
                let widest = js
                    .text
                    .lines()
                    .map(|l| l.chars().count())
                    .max()
                    .unwrap_or(0);
                let max_h = widest.saturating_sub(width);
                let new = if matches!(key.code, KeyCode::Left | KeyCode::Char('h')) {
                    js.hscroll.saturating_sub(8)
                } else {
                    (js.hscroll + 8).min(max_h)
                };
                let changed = new != js.hscroll;
                js.hscroll = new;
                changed
            }
            KeyCode::Char('w') => {
                match &js.written {
                    Some(p) => {
                        self.set_status(format!("already written to {}", p.display()), false)
                    }
                    None => match write_job_script(&self.work_dir, &js.file_name, &js.text) {
                        Ok(path) => {
                            self.set_status(
                                format!("job script written to {}", path.display()),
                                false,
                            );
                            js.written = Some(path);
                        }
                        Err(e) => self.set_status(e, true),
                    },
                }
                true
            }
            _ => false,
        };
        self.overlay = Some(Overlay::JobScript(js));
        if changed {
            Effect::Redraw
        } else {
            Effect::None
        }
    }

    fn on_run_event(&mut self, id: u64, ev: RunEvent) -> Effect {
        let Some(name) = self
            .experiments
            .iter()
            .find(|(_, v)| v.run.as_ref().is_some_and(|r| r.id == id))
            .map(|(k, _)| k.clone())
        else {
            return Effect::None;
        };
        let mut finished = false;
        let mut warning = None;
        if let Some(run) = self.experiments.get_mut(&name).and_then(|v| v.run.as_mut()) {
            let folded = crate::backend::child::fold(
                ev,
                &mut run.state,
                &mut run.records,
                &mut run.stored,
                &mut run.stderr,
            );
            warning = folded.warning;
            finished = folded.exited;
            if !run.active() && run.records.iter().any(|r| matches!(r, Record::Point(_))) {
                let runs = self.latest.entry(name.clone()).or_default();
                runs.insert(0, run.records.clone());
                runs.truncate(RECENT_RUNS);
            }
        }
        if let Some(w) = warning {
            self.set_status(w, true);
        }
        if finished && self.running.as_ref().is_some_and(|(rid, _)| *rid == id) {
            self.running = None;
        }
        let visible = matches!(&self.screen, Screen::Experiment { name: n, .. } if *n == name);
        if visible || finished {
            Effect::Redraw
        } else {
            Effect::None
        }
    }

    /// Whether the terminal is below [`MIN_SIZE`].
    pub fn too_small(&self) -> bool {
        self.size.0 < MIN_SIZE.0 || self.size.1 < MIN_SIZE.1
    }

    // ----- catalogue -------------------------------------------------------------------

    fn on_catalogue_key(&mut self, key: KeyEvent) -> Effect {
        let page = usize::from(layout::catalogue_list_height(self.area())).max(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(-1),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(1),
            KeyCode::PageUp => self.move_selection(-(page as isize)),
            KeyCode::PageDown => self.move_selection(page as isize),
            KeyCode::Home | KeyCode::Char('g') => {
                self.selected_row = self.first_selectable();
                Effect::Redraw
            }
            KeyCode::End | KeyCode::Char('G') => self.move_selection(self.rows.len() as isize),
            KeyCode::Char('R') if self.results.is_some() => {
                self.screen = Screen::Results;
                Effect::Redraw
            }
            KeyCode::Char('p') => self.open_your_program(),
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') => {
                match self.rows.get(self.selected_row) {
                    Some(Row::Lesson(i)) => {
                        let i = *i;
                        self.open_lesson(i, false);
                        Effect::Save
                    }
                    Some(Row::Broken(i)) => {
                        self.overlay = Some(Overlay::Problems(*i));
                        Effect::Redraw
                    }
                    _ => Effect::None,
                }
            }
            _ => Effect::None,
        }
    }

    fn first_selectable(&self) -> usize {
        self.rows
            .iter()
            .position(|r| !matches!(r, Row::Track(_)))
            .unwrap_or(0)
    }

    /// Moves the catalogue selection by `delta` selectable rows, stopping at the ends.
    fn move_selection(&mut self, delta: isize) -> Effect {
        let selectable: Vec<usize> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, r)| !matches!(r, Row::Track(_)))
            .map(|(i, _)| i)
            .collect();
        let Some(pos) = selectable.iter().position(|&i| i == self.selected_row) else {
            return Effect::None;
        };
        let new = (pos as isize + delta).clamp(0, selectable.len() as isize - 1) as usize;
        if selectable[new] == self.selected_row {
            return Effect::None;
        }
        self.selected_row = selectable[new];
        Effect::Redraw
    }

    fn select_lesson_row(&mut self, lesson: usize) {
        if let Some(pos) = self.rows.iter().position(|r| *r == Row::Lesson(lesson)) {
            self.selected_row = pos;
        }
    }

    // ----- reader ----------------------------------------------------------------------

    fn area(&self) -> Rect {
        Rect::new(0, 0, self.size.0, self.size.1)
    }

    /// Opens lesson `idx` in the reader; `resume` restores the saved scroll position.
    fn open_lesson(&mut self, idx: usize, resume: bool) {
        let Some(lesson) = self.lessons.lessons.get(idx) else {
            return;
        };
        let id = lesson.id.clone();
        let width = layout::reader_text_width(self.area());
        let lines = render_lesson(lesson, width, &self.theme);
        let saved = self.progress.lessons.get(&id);
        let scroll = match saved {
            Some(p) if resume || p.scroll > 0 => rescale(p.scroll, p.scroll_of, lines.len()),
            _ => 0,
        };
        self.progress.last_lesson = Some(id.clone());
        self.progress.lessons.entry(id).or_default();
        self.screen = Screen::Reader(Reader {
            lesson: idx,
            lines,
            width,
            scroll,
            focus: Focus::Text,
            selected_check: 0,
            hints_shown: 0,
        });
        self.clamp_scroll();
        self.mark_read_if_at_end();
        if let Some(l) = self.lessons.lessons.get(idx).cloned() {
            for e in &l.measured_experiments() {
                self.ensure_latest(e);
            }
        }
    }

    /// Re-renders the reader's text for a new width, keeping the place in the text.
    fn rewrap(&mut self) {
        let width = layout::reader_text_width(self.area());
        if let Screen::Reader(r) = &mut self.screen
            && r.width != width
            && let Some(lesson) = self.lessons.lessons.get(r.lesson)
        {
            let old_len = r.lines.len();
            r.lines = render_lesson(lesson, width, &self.theme);
            r.scroll = rescale(r.scroll, old_len, r.lines.len());
            r.width = width;
        }
        self.clamp_scroll();
    }

    fn viewport_height(&self) -> usize {
        usize::from(layout::reader_text_height(self.area()))
    }

    fn max_scroll(&self) -> usize {
        match &self.screen {
            Screen::Reader(r) => r.lines.len().saturating_sub(self.viewport_height()),
            _ => 0,
        }
    }

    fn clamp_scroll(&mut self) {
        let max = self.max_scroll();
        if let Screen::Reader(r) = &mut self.screen {
            r.scroll = r.scroll.min(max);
        }
    }

    /// Marks the open lesson read once its last line has been on screen. Returns whether
    /// that changed anything.
    fn mark_read_if_at_end(&mut self) -> bool {
        let at_end = match &self.screen {
            Screen::Reader(r) => r.scroll >= self.max_scroll(),
            _ => false,
        };
        if !at_end || self.too_small() {
            return false;
        }
        let Some(lp) = self.open_lesson_progress_mut() else {
            return false;
        };
        let newly = !lp.read;
        lp.read = true;
        newly
    }

    fn lesson_in_reader(&self) -> Option<&Lesson> {
        match &self.screen {
            Screen::Reader(r) => self.lessons.lessons.get(r.lesson),
            Screen::Experiment {
                back: Some(back), ..
            }
            | Screen::Puzzle { back, .. } => self.lessons.lessons.get(back.lesson),
            Screen::Experiment { back: None, .. } => None,
            Screen::Catalogue | Screen::Results => None,
        }
    }

    /// The measured value for a prediction check, from the newest run it is about.
    pub fn measurement_for(&self, check: &crate::lesson::Check) -> Option<f64> {
        self.measured_run(check).map(|(v, _)| v)
    }

    /// The measured value for a prediction check and when its run started (RFC 3339), from
    /// the newest run it is about.
    pub fn measured_run(&self, check: &crate::lesson::Check) -> Option<(f64, String)> {
        let m = check.measure.as_ref()?;
        let records = self.measured_records(check)?;
        let started = Record::run_in(records)?.started_at.clone();
        m.measured(records).map(|v| (v, started))
    }

    /// Why the run a prediction check is compared with may not show the machine's own
    /// behaviour (other work shared its CPUs), from the newest run it is about.
    pub fn measured_disturbance(&self, check: &crate::lesson::Check) -> Option<String> {
        let m = check.measure.as_ref()?;
        m.disturbance(self.measured_records(check)?)
    }

    /// This session's newest run a prediction check is about (its experiment, with the
    /// parameters and backend its measure names, and a value to compare).
    pub fn measured_records(&self, check: &crate::lesson::Check) -> Option<&Vec<Record>> {
        let m = check.measure.as_ref()?;
        self.latest
            .get(&m.experiment)?
            .iter()
            .find(|records| m.measured(records).is_some())
    }

    /// When the learner gave their answer to check `check_id` of `lesson`, in milliseconds
    /// since 1970; `None` when not answered or not known (answers from older files).
    pub fn answered_at(&self, lesson: &Lesson, check_id: &str) -> Option<u64> {
        self.progress
            .lessons
            .get(&lesson.id)?
            .answered_at
            .get(check_id)
            .copied()
            .filter(|&t| t > 0)
    }

    fn open_lesson_progress_mut(&mut self) -> Option<&mut LessonProgress> {
        let id = self.lesson_in_reader()?.id.clone();
        Some(self.progress.lessons.entry(id).or_default())
    }

    /// Copies the reader's scroll position into the progress, for saving.
    pub fn sync_progress(&mut self) {
        let reader = match &self.screen {
            Screen::Reader(r) => Some(r),
            Screen::Experiment {
                back: Some(back), ..
            }
            | Screen::Puzzle { back, .. } => Some(back.as_ref()),
            Screen::Experiment { back: None, .. } | Screen::Catalogue | Screen::Results => None,
        };
        if let Some(r) = reader {
            let (scroll, of) = (r.scroll, r.lines.len());
            if let Some(lp) = self.open_lesson_progress_mut() {
                lp.scroll = scroll;
                lp.scroll_of = of;
            }
        }
    }

    fn scroll_by(&mut self, delta: isize) -> Effect {
        let max = self.max_scroll();
        let Screen::Reader(r) = &mut self.screen else {
            return Effect::None;
        };
        let new = (r.scroll as isize + delta).clamp(0, max as isize) as usize;
        if new == r.scroll {
            return Effect::None;
        }
        r.scroll = new;
        if self.mark_read_if_at_end() {
            Effect::Save
        } else {
            Effect::Redraw
        }
    }

    fn on_reader_key(&mut self, key: KeyEvent) -> Effect {
        let Screen::Reader(r) = &self.screen else {
            return Effect::None;
        };
        let focus = r.focus;
        let page = self.viewport_height().saturating_sub(1).max(1) as isize;
        let check_count = self.lesson_in_reader().map_or(0, |l| l.checks.len());
        let puzzle_count = self.lesson_in_reader().map_or(0, |l| l.puzzles.len());
        let experiments: Vec<String> = self
            .lesson_in_reader()
            .map(Lesson::runnables)
            .unwrap_or_default();
        // The panel lists the checks, then the puzzles, then the experiments.
        let first_experiment = check_count + puzzle_count;
        match key.code {
            KeyCode::Char('r') => {
                // Run the lesson's experiment straight away, with the form as it stands.
                let Some(name) = experiments
                    .iter()
                    .find(|e| crate::lesson::runnable(e))
                    .cloned()
                else {
                    self.set_status("this lesson has no experiment to run", false);
                    return Effect::Redraw;
                };
                match self.open_experiment(&name) {
                    Effect::Redraw => self.on_experiment_key(KeyEvent::from(KeyCode::Char('r'))),
                    other => other,
                }
            }
            KeyCode::Char('s') => Effect::Export,
            KeyCode::Char('x') => {
                let Screen::Reader(r) = &self.screen else {
                    return Effect::None;
                };
                let pick = if r.focus == Focus::Panel && r.selected_check >= first_experiment {
                    experiments.get(r.selected_check - first_experiment)
                } else {
                    experiments.first()
                };
                match pick.cloned() {
                    Some(name) => self.open_experiment(&name),
                    None => {
                        self.set_status("this lesson has no experiment", false);
                        Effect::Redraw
                    }
                }
            }
            KeyCode::Esc | KeyCode::Left => {
                self.sync_progress();
                if let Screen::Reader(r) = &self.screen {
                    let i = r.lesson;
                    self.select_lesson_row(i);
                }
                self.progress.last_lesson = None;
                self.screen = Screen::Catalogue;
                Effect::Save
            }
            KeyCode::Char('p') => {
                if puzzle_count == 0 {
                    self.set_status("this lesson has no puzzles", false);
                    return Effect::Redraw;
                }
                let Screen::Reader(r) = &self.screen else {
                    return Effect::None;
                };
                let selected = r.selected_check;
                let index = if r.focus == Focus::Panel
                    && (check_count..first_experiment).contains(&selected)
                {
                    selected - check_count
                } else {
                    // The first puzzle not solved yet, else the first.
                    self.lesson_in_reader()
                        .and_then(|l| l.puzzles.iter().position(|p| !self.puzzle_solved(l, &p.id)))
                        .unwrap_or(0)
                };
                self.open_puzzle(index)
            }
            KeyCode::Tab | KeyCode::BackTab => {
                if check_count + puzzle_count + experiments.len() == 0 {
                    self.set_status("this lesson has no checks, puzzles or experiments", false);
                    return Effect::Redraw;
                }
                if let Screen::Reader(r) = &mut self.screen {
                    r.focus = match r.focus {
                        Focus::Text => Focus::Panel,
                        Focus::Panel => Focus::Text,
                    };
                }
                Effect::Redraw
            }
            KeyCode::Char('h') => {
                let hints = self.lesson_in_reader().map_or(0, |l| l.hints.len());
                if hints == 0 {
                    self.set_status("this lesson has no hints", false);
                    return Effect::Redraw;
                }
                if let Screen::Reader(r) = &mut self.screen {
                    let i = r.hints_shown % hints;
                    r.hints_shown = i + 1;
                    self.overlay = Some(Overlay::Hint(i));
                }
                Effect::Redraw
            }
            KeyCode::Char('n') => {
                if self.lesson_in_reader().is_some_and(|l| l.notes.is_some()) {
                    self.overlay = Some(Overlay::Notes);
                } else {
                    self.set_status("this lesson has no instructor notes", false);
                }
                Effect::Redraw
            }
            KeyCode::Up | KeyCode::Char('k') if focus == Focus::Panel => self.move_check(-1),
            KeyCode::Down | KeyCode::Char('j') if focus == Focus::Panel => self.move_check(1),
            KeyCode::Enter if focus == Focus::Panel => {
                let Screen::Reader(r) = &self.screen else {
                    return Effect::None;
                };
                let i = r.selected_check;
                if i < check_count {
                    self.open_check(i)
                } else if i < first_experiment {
                    self.open_puzzle(i - check_count)
                } else if let Some(name) = experiments.get(i - first_experiment).cloned() {
                    self.open_experiment(&name)
                } else {
                    Effect::None
                }
            }
            KeyCode::Up | KeyCode::Char('k') => self.scroll_by(-1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll_by(1),
            KeyCode::PageUp => self.scroll_by(-page),
            KeyCode::PageDown | KeyCode::Char(' ') => self.scroll_by(page),
            KeyCode::Home | KeyCode::Char('g') => self.scroll_by(isize::MIN / 2),
            KeyCode::End | KeyCode::Char('G') => self.scroll_by(isize::MAX / 2),
            _ => Effect::None,
        }
    }

    fn move_check(&mut self, delta: isize) -> Effect {
        let count = self.lesson_in_reader().map_or(0, |l| {
            l.checks.len() + l.puzzles.len() + l.runnables().len()
        });
        let Screen::Reader(r) = &mut self.screen else {
            return Effect::None;
        };
        if count == 0 {
            return Effect::None;
        }
        let new = (r.selected_check as isize + delta).clamp(0, count as isize - 1) as usize;
        if new == r.selected_check {
            return Effect::None;
        }
        r.selected_check = new;
        Effect::Redraw
    }

    fn open_check(&mut self, check: usize) -> Effect {
        let Some(lesson) = self.lesson_in_reader() else {
            return Effect::None;
        };
        let Some(c) = lesson.checks.get(check) else {
            return Effect::None;
        };
        let previous = self
            .progress
            .lessons
            .get(&lesson.id)
            .and_then(|p| p.answers.get(&c.id));
        let measure_of = c.measure.as_ref().map(|m| m.experiment.clone());
        let order = c.shown_order(self.progress.learner, &lesson.id);
        let (selected, input) = match (&c.kind, previous) {
            (CheckKind::Choice { choices, .. }, Some(Answer::Choice(t))) => (
                order
                    .iter()
                    .position(|&i| choices.get(i) == Some(t))
                    .unwrap_or(0),
                String::new(),
            ),
            (CheckKind::Numeric { .. }, Some(Answer::Number(n))) => (0, n.to_string()),
            _ => (0, String::new()),
        };
        self.overlay = Some(Overlay::Check(CheckDialog {
            check,
            order,
            selected,
            input,
            error: None,
            result: None,
            note: None,
            wrong: 0,
            then_run: None,
        }));
        if let Some(e) = measure_of {
            self.ensure_latest(&e);
        }
        Effect::Redraw
    }

    // ----- overlays --------------------------------------------------------------------

    fn on_overlay_key(&mut self, key: KeyEvent) -> Effect {
        let Some(overlay) = self.overlay.take() else {
            return Effect::None;
        };
        match overlay {
            Overlay::Check(dialog) => self.on_check_key(dialog, key),
            Overlay::JobScript(js) => self.on_job_script_key(js, key),
            Overlay::ConfirmProgram { command, request } => match key.code {
                KeyCode::Char('y') => {
                    self.progress.approved_programs.insert(command);
                    match &self.screen {
                        Screen::Experiment { name, .. } => {
                            let name = name.clone();
                            self.request_run(&name, request)
                        }
                        _ => Effect::Redraw,
                    }
                }
                KeyCode::Char('q') => {
                    self.sync_progress();
                    Effect::Quit(0)
                }
                KeyCode::Char('n') | KeyCode::Esc => {
                    self.set_status("not run: the lesson's program needs your yes first", false);
                    Effect::Redraw
                }
                _ => {
                    self.overlay = Some(Overlay::ConfirmProgram { command, request });
                    Effect::None
                }
            },
            Overlay::History { runs, mut selected } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    selected = selected.saturating_sub(1);
                    self.overlay = Some(Overlay::History { runs, selected });
                    Effect::Redraw
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    selected = (selected + 1).min(runs.len().saturating_sub(1));
                    self.overlay = Some(Overlay::History { runs, selected });
                    Effect::Redraw
                }
                KeyCode::Enter => {
                    if let Some(run) = runs.get(selected) {
                        match crate::record::store::load(&run.path) {
                            Ok(records) => {
                                if let Screen::Experiment { name, .. } = &self.screen
                                    && let Some(v) = self.experiments.get_mut(name)
                                {
                                    v.compare = Some(Comparison {
                                        label: format!(
                                            "run {}{}",
                                            run.run.run_id,
                                            program_name(&records)
                                                .map(|n| format!(" ({n})"))
                                                .unwrap_or_default()
                                        ),
                                        records,
                                    });
                                }
                            }
                            Err(e) => self.set_status(format!("cannot open that run: {e}"), true),
                        }
                    }
                    Effect::Redraw
                }
                KeyCode::Char('q') => {
                    self.sync_progress();
                    Effect::Quit(0)
                }
                KeyCode::Esc => Effect::Redraw,
                _ => {
                    self.overlay = Some(Overlay::History { runs, selected });
                    Effect::None
                }
            },
            Overlay::Hint(i) => match key.code {
                KeyCode::Char('h') => {
                    self.overlay = None;
                    self.on_reader_key(key)
                }
                KeyCode::Char('q') => Effect::Quit(0),
                KeyCode::Esc | KeyCode::Enter => Effect::Redraw,
                _ => {
                    self.overlay = Some(Overlay::Hint(i));
                    Effect::None
                }
            },
            other => match key.code {
                KeyCode::Char('q') => {
                    self.sync_progress();
                    Effect::Quit(0)
                }
                KeyCode::Esc | KeyCode::Enter => Effect::Redraw,
                KeyCode::Char('?') if other == Overlay::Help => Effect::Redraw,
                _ => {
                    self.overlay = Some(other);
                    Effect::None
                }
            },
        }
    }

    fn on_check_key(&mut self, mut d: CheckDialog, key: KeyEvent) -> Effect {
        let Some(lesson) = self.lesson_in_reader() else {
            return Effect::Redraw;
        };
        let Some(check) = lesson.checks.get(d.check).cloned() else {
            return Effect::Redraw;
        };
        let lesson_id = lesson.id.clone();
        if key.code == KeyCode::Esc {
            return self.close_check(d);
        }
        // `q` quits from every state of the window (a number never contains it).
        if key.code == KeyCode::Char('q') {
            self.sync_progress();
            return Effect::Quit(0);
        }
        if d.result == Some(false) && !d.revealed() {
            // The first wrong answer: its hint is shown; Enter or `r` tries once more.
            match key.code {
                KeyCode::Enter | KeyCode::Char('r') => {
                    d.result = None;
                    d.error = None;
                    d.note = None;
                    d.input.clear();
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::Redraw;
                }
                _ => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
            }
        }
        if d.result.is_some() {
            // The answer is shown: Enter closes, `r` answers again.
            match key.code {
                KeyCode::Enter => return self.close_check(d),
                KeyCode::Char('r') => {
                    // Answer again from an empty input, not from the answer just judged.
                    d.result = None;
                    d.error = None;
                    d.note = None;
                    d.input.clear();
                }
                KeyCode::Char('?') => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
                _ => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
            }
            self.overlay = Some(Overlay::Check(d));
            return Effect::Redraw;
        }
        let answer = match &check.kind {
            CheckKind::Choice { choices, .. } => match key.code {
                KeyCode::Up | KeyCode::Char('k') => {
                    d.selected = d.selected.saturating_sub(1);
                    None
                }
                KeyCode::Down | KeyCode::Char('j') => {
                    d.selected = (d.selected + 1).min(choices.len().saturating_sub(1));
                    None
                }
                KeyCode::Char(c @ '1'..='9') => {
                    let i = (c as usize) - ('1' as usize);
                    match d.order.get(i).and_then(|&k| choices.get(k)) {
                        Some(choice) => {
                            d.selected = i;
                            Some(Answer::Choice(choice.clone()))
                        }
                        None => {
                            d.error = Some(format!("choose 1 to {}", choices.len()));
                            None
                        }
                    }
                }
                KeyCode::Enter => d
                    .order
                    .get(d.selected)
                    .and_then(|&k| choices.get(k))
                    .cloned()
                    .map(Answer::Choice),
                _ => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
            },
            CheckKind::Numeric { .. } => match key.code {
                KeyCode::Char(c)
                    if c.is_ascii_digit()
                        || matches!(c, '.' | '-' | '+' | 'e' | 'E' | '%' | ' ') =>
                {
                    if d.input.chars().count() < 32 {
                        d.input.push(c);
                    }
                    d.error = None;
                    None
                }
                KeyCode::Backspace => {
                    d.input.pop();
                    d.error = None;
                    None
                }
                KeyCode::Enter => match parse_number_answer(&d.input, &check.kind) {
                    Some(v) => Some(Answer::Number(v)),
                    _ if d.input.trim().is_empty() => {
                        d.error = Some("type a number first".to_owned());
                        None
                    }
                    _ => {
                        d.error = Some(format!("`{}` is not a number", d.input.trim()));
                        None
                    }
                },
                _ => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
            },
        };
        let effect = match answer {
            Some(answer) => {
                let right = check.is_correct(&answer);
                d.result = Some(right);
                if !right {
                    d.wrong = d.wrong.saturating_add(1);
                }
                d.error = None;
                d.note = percent_note(&check, &answer, &d.input);
                self.progress
                    .lessons
                    .entry(lesson_id)
                    .or_default()
                    .record_answer(check.id.clone(), answer);
                Effect::Save
            }
            None => Effect::Redraw,
        };
        self.overlay = Some(Overlay::Check(d));
        effect
    }

    /// Starts `request` on experiment `name`'s screen, unless another run is going.
    fn start_run(&mut self, name: &str, request: Box<RunRequest>) -> Effect {
        let Some(view) = self.experiments.get_mut(name) else {
            return Effect::None;
        };
        if let Some((_, other)) = &self.running {
            self.set_status(
                format!("a `{other}` run is still going: cancel it first (c on its screen)"),
                true,
            );
            return Effect::Redraw;
        }
        if let Some(command) = request.params.text("command").filter(|c| !c.is_empty()) {
            self.progress.remember_command(command);
            if let Some(f) = view.fields.iter_mut().find(|f| f.name == "command") {
                f.recent = self.progress.recent_commands.clone();
            }
        }
        let id = self.next_run;
        self.next_run += 1;
        let now = Instant::now();
        view.run = Some(LiveRun {
            id,
            records: Vec::new(),
            state: RunState::Starting,
            started: now,
            now,
            stored: None,
            stderr: Vec::new(),
        });
        self.running = Some((id, name.to_owned()));
        Effect::StartRun { id, request }
    }

    /// Closes a check dialog; a run that waited for this prediction starts now.
    fn close_check(&mut self, d: CheckDialog) -> Effect {
        match (d.then_run, &self.screen) {
            (Some(request), Screen::Experiment { name, .. }) => {
                let name = name.clone();
                self.start_run(&name, request)
            }
            _ => Effect::Redraw,
        }
    }

    /// The first prediction check of the lesson this experiment screen was opened from
    /// that is about a run like `request` (its experiment and the parameter values the
    /// check names) and has no answer yet: asked before that run starts.
    fn unanswered_prediction(&self, name: &str, request: &RunRequest) -> Option<usize> {
        let lesson = self.lesson_in_reader()?;
        let answers = self.progress.lessons.get(&lesson.id).map(|p| &p.answers);
        let params = request.params.to_strings();
        lesson.checks.iter().position(|c| {
            c.measure.as_ref().is_some_and(|m| {
                m.experiment == name
                    && m.params.iter().all(|(k, v)| params.get(k) == Some(v))
                    && m.workers
                        .is_none_or(|w| request.workers.iter().any(|&n| usize::from(n) == w))
            }) && answers.is_none_or(|a| !a.contains_key(&c.id))
        })
    }

    // ----- queries for the views -------------------------------------------------------

    /// How far the learner is in `lesson`.
    pub fn lesson_state(&self, lesson: &Lesson) -> LessonState {
        let Some(p) = self.progress.lessons.get(&lesson.id) else {
            return LessonState::NotStarted;
        };
        if !p.read {
            return LessonState::Started;
        }
        let all_right = lesson
            .checks
            .iter()
            .all(|c| p.answers.get(&c.id).is_some_and(|a| c.is_correct(a)))
            && lesson
                .puzzles
                .iter()
                .all(|z| p.puzzles_solved.contains(&z.id));
        if all_right {
            LessonState::Complete
        } else {
            LessonState::Read
        }
    }

    /// The learner's answer to check `check_id` of `lesson`, if any.
    pub fn answer(&self, lesson: &Lesson, check_id: &str) -> Option<&Answer> {
        self.progress.lessons.get(&lesson.id)?.answers.get(check_id)
    }

    /// The lesson open in the reader.
    pub fn current_lesson(&self) -> Option<&Lesson> {
        self.lesson_in_reader()
    }
}

/// Writes a job script into `dir` as `name`, or as `name` with `-2`, `-3`, … before its
/// extension when that file exists (never replacing one); the script's own mentions of its
/// file name follow. The file appears whole or not at all ([`crate::fsio::write_new`]).
/// Returns the path written.
fn write_job_script(dir: &std::path::Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let stem = name.strip_suffix(".sbatch").unwrap_or(name);
    for n in 1..=99 {
        let candidate = if n == 1 {
            name.to_owned()
        } else {
            format!("{stem}-{n}.sbatch")
        };
        let path = dir.join(&candidate);
        let body = text.replace(name, &candidate);
        match crate::fsio::write_new(&path, body.as_bytes()) {
            Ok(()) => return Ok(path),
            Err(e) if e.source.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    Err(format!(
        "{name} and 98 numbered copies exist in {}: remove some first",
        dir.display()
    ))
}

/// A program run's name as its chart legend has it
/// ([`crate::record::RunRecord::display_name`]) and its backend; `None` for the built-in
/// experiments.
fn program_name(records: &[Record]) -> Option<String> {
    Record::run_in(records)
        .filter(|run| run.experiment == "program")
        .map(|run| format!("{} on {}", run.display_name(), run.backend))
}

/// How a run is named in a chart's legend when it is compared with: a program's name and
/// When a run started (its record's `started_at`, RFC 3339, which sorts as text).
fn run_started(records: &[Record]) -> String {
    Record::run_in(records).map_or_else(String::new, |r| r.started_at.clone())
}

/// backend, else the run id.
fn run_label(records: &[Record]) -> String {
    match (program_name(records), records.first()) {
        (Some(n), _) => n,
        (None, Some(Record::Run(r))) => {
            format!("{} on {} (run {})", r.experiment, r.backend, r.run_id)
        }
        _ => "an earlier run".to_owned(),
    }
}

/// The catalogue's rows: each track's heading and lessons, then files with problems.
fn catalogue_rows(set: &LessonSet) -> Vec<Row> {
    let mut rows = Vec::new();
    let mut track: Option<&str> = None;
    for (i, l) in set.lessons.iter().enumerate() {
        if track != Some(l.track.as_str()) {
            rows.push(Row::Track(l.track.clone()));
            track = Some(l.track.as_str());
        }
        rows.push(Row::Lesson(i));
    }
    if !set.broken.is_empty() {
        rows.push(Row::Track("Files with problems".to_owned()));
        rows.extend((0..set.broken.len()).map(Row::Broken));
    }
    rows
}

/// The reader's text: what the lesson teaches, then the lesson body.
pub(crate) fn render_lesson(lesson: &Lesson, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut md = String::from("**In this lesson you will learn to:**\n\n");
    for o in &lesson.objectives {
        md.push_str("- ");
        md.push_str(o);
        md.push('\n');
    }
    md.push_str("\n---\n\n");
    md.push_str(&lesson.body);
    markdown::render(&md, width, theme)
}

/// Keeps a place in a text when its length changes (rewrapping at another width).
fn rescale(scroll: usize, old_len: usize, new_len: usize) -> usize {
    if old_len == 0 || old_len == new_len {
        scroll
    } else {
        // Line counts are small (thousands); u128 keeps the product exact.
        (scroll as u128 * new_len as u128 / old_len as u128) as usize
    }
}
