//! The demo player: which step is on, what is on stage, and when to go on.
//!
//! Like the tutor's `App`, the player changes only in [`Player::update`], which returns an
//! [`Outcome`] for the event loop to carry out (start or kill a run, export, quit); drawing
//! only reads it. Time comes from a [`Clock`], so tests step the player with a fake one.
//!
//! Time inside a demo is *play time*: it stops while autoplay is paused, so a paused demo
//! freezes puzzle ticks, replays and holds alike (a live run goes on: it is real).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::clock::{Clock, PlayTime};
use super::replay::Replay;
use super::script::{Action, ExportKind, Recording, RunStep, Script, Wait};
use crate::chart::Metric;
use crate::lesson::LessonSet;
use crate::record::Record;
use crate::tui::experiment::RunState;
use crate::tui::puzzle::PuzzleView;
use crate::tui::theme::Theme;
use crate::tui::{Event, app::RunEvent};

/// What this machine can run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    /// MPI runs: possible, or why not.
    pub mpi: Result<(), String>,
}

impl Capabilities {
    /// What this build and this machine allow: MPI needs the `mpi` feature and the
    /// launcher (`mpirun`, or `srun` inside a SLURM allocation) on the `PATH`.
    pub fn detect() -> Self {
        use crate::backend::launch::{Launcher, on_path};
        let mpi = if !cfg!(feature = "mpi") {
            Err("this hpc-tutor was built without MPI support".to_owned())
        } else {
            let name = Launcher::default_here().name();
            if on_path(name) {
                Ok(())
            } else {
                Err(format!("`{name}` is not installed here"))
            }
        };
        Self { mpi }
    }

    /// Everything can run (for tests).
    pub fn everything() -> Self {
        Self { mpi: Ok(()) }
    }

    /// Why `step` cannot run here, if it cannot.
    pub fn why_not(&self, step: &RunStep) -> Option<String> {
        let info = crate::experiment::find(&step.experiment)?;
        if !info.runnable() {
            return Some(format!(
                "the `{}` experiment cannot run in this version of hpc-tutor",
                info.name
            ));
        }
        if !crate::experiment::Backend::from_name(&step.backend).is_some_and(|b| info.runs_on(b)) {
            return Some(format!(
                "`{}` does not run on the `{}` backend in this version",
                info.name, step.backend
            ));
        }
        match (&self.mpi, step.backend.as_str()) {
            (Err(e), "mpi") => Some(format!("`{}` on MPI cannot run here: {e}", info.name)),
            _ => None,
        }
    }
}

/// What the event loop must do after an update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outcome {
    /// The screen changed.
    pub redraw: bool,
    /// Things to do, in order.
    pub commands: Vec<Command>,
}

impl Outcome {
    fn redraw() -> Self {
        Self {
            redraw: true,
            commands: Vec::new(),
        }
    }
}

/// Something the event loop does for the player.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start background run `id`: `hpc-tutor` with these arguments.
    StartRun {
        /// The player's id for the run.
        id: u64,
        /// Arguments after the program name.
        args: Vec<String>,
    },
    /// Kill background run `id` and everything it started.
    CancelRun(u64),
    /// Save the PNG of export step `step` (see [`Player::export`]).
    Export(usize),
    /// Restore the terminal and exit with this status.
    Quit(u8),
}

/// A lesson on stage.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonStage {
    /// Index into [`LessonSet::lessons`].
    pub lesson: usize,
    /// The heading the text is scrolled to.
    pub heading: Option<String>,
    /// The text, wrapped for the stage.
    pub lines: Vec<Line<'static>>,
    /// The width `lines` was wrapped for.
    pub width: u16,
    /// First visible line.
    pub scroll: usize,
}

/// A puzzle on stage, played by its schedule.
#[derive(Debug, Clone, PartialEq)]
pub struct PuzzleStage {
    /// The stepper, as a learner would see it.
    pub view: PuzzleView,
    /// Steps of the schedule taken so far.
    pub taken: usize,
}

/// Where a run's records come from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// A real run in a child process.
    Live {
        /// The player's id of the run.
        id: u64,
        /// Where it is.
        state: RunState,
        /// Clock time it started, and of the latest tick.
        started: Duration,
        /// Clock time of the latest tick.
        now: Duration,
        /// The results file it is kept in.
        stored: Option<PathBuf>,
        /// The last lines of its error output, for failures.
        stderr: Vec<String>,
    },
    /// A recording played back.
    Replay {
        /// The recording and its pacing.
        replay: Replay,
        /// Play time the replay started.
        started: Duration,
        /// `replayed from FILE, recorded on HOST at DATE`.
        label: String,
        /// Why it replaces a live run, when it does.
        reason: Option<String>,
    },
    /// The run cannot happen here and there is no recording to show instead.
    Unavailable(String),
}

/// A run (live or replayed) on stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RunStage {
    /// The experiment.
    pub experiment: String,
    /// The chart shown.
    pub metric: Metric,
    /// The records so far.
    pub records: Vec<Record>,
    /// Where they come from.
    pub source: Source,
}

impl RunStage {
    /// Whether records may still arrive.
    pub fn active(&self) -> bool {
        match &self.source {
            Source::Live { state, .. } => {
                matches!(state, RunState::Starting | RunState::Running)
            }
            Source::Replay { replay, .. } => self.records.len() < replay.records().len(),
            Source::Unavailable(_) => false,
        }
    }
}

/// What a step put on stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Stage {
    /// A lesson's text.
    Lesson(LessonStage),
    /// A puzzle being stepped (boxed: the stepper is large).
    Puzzle(Box<PuzzleStage>),
    /// A run and its chart.
    Run(RunStage),
}

/// What the notes viewer shows: the current step and its notes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NotesState {
    /// The presenter's process id.
    pub presenter: u32,
    /// The script's name.
    pub script: String,
    /// The script's title.
    pub title: Option<String>,
    /// The current step, from 1.
    pub step: usize,
    /// Steps in the script.
    pub steps: usize,
    /// What the step does, in a few words.
    pub what: String,
    /// Its caption.
    pub caption: Option<String>,
    /// Its speaker notes.
    pub notes: Option<String>,
    /// What the next step does.
    pub next: Option<String>,
    /// Autoplay is paused.
    pub paused: bool,
    /// The presenter has quit.
    pub ended: bool,
}

/// The demo player.
pub struct Player {
    /// The script being played.
    pub script: Script,
    /// The lessons its steps show.
    pub lessons: LessonSet,
    /// Colours or not.
    pub theme: Theme,
    /// The terminal size.
    pub size: (u16, u16),
    /// The current step.
    pub current: usize,
    /// The speaker notes are shown over the stage.
    pub show_notes: bool,
    /// Autoplay went past the last step (of a script that does not loop).
    pub ended: bool,
    /// A message for the presenter's bar, and whether it is a warning.
    pub status: Option<(String, bool)>,
    caps: Capabilities,
    clock: Box<dyn Clock>,
    play: PlayTime,
    /// What each step put on stage, kept for going back.
    stages: Vec<Option<Stage>>,
    /// Play time the current step began.
    entered: Duration,
    /// Play time the current step's action finished.
    done: Option<Duration>,
    next_run: u64,
    /// The live run going on: its id and step.
    running: Option<(u64, usize)>,
    export_dir: PathBuf,
}

impl std::fmt::Debug for Player {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Player")
            .field("script", &self.script.name)
            .field("current", &self.current)
            .field("paused", &self.play.paused())
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// The stage area for a terminal of `size`: everything above the presenter's bar.
pub(crate) fn stage_area(size: (u16, u16)) -> Rect {
    Rect::new(0, 0, size.0, size.1.saturating_sub(1))
}

/// Where a lesson's text goes on the stage: inside a border, at most 100 columns, centred.
pub(crate) fn lesson_text_area(stage: Rect) -> Rect {
    let inner_w = stage.width.saturating_sub(4);
    let width = inner_w.min(100);
    Rect {
        x: stage.x + 2 + (inner_w - width) / 2,
        y: stage.y + 1,
        width,
        height: stage.height.saturating_sub(2),
    }
}

/// A line's text without formatting, for finding headings.
fn plain(line: &Line) -> String {
    line.spans
        .iter()
        .map(|s| s.content.as_ref())
        .collect::<String>()
}

fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '*' | '_' | '`'))
        .collect::<String>()
        .trim()
        .to_lowercase()
}

/// The line a heading starts on in rendered lesson text.
fn heading_line(lines: &[Line], heading: &str) -> Option<usize> {
    let want = normalize(heading);
    let texts: Vec<String> = lines.iter().map(|l| normalize(&plain(l))).collect();
    texts.iter().position(|t| *t == want).or_else(|| {
        texts
            .iter()
            .position(|t| t.len() >= 3 && want.starts_with(t.as_str()))
    })
}

impl Player {
    /// A player of `script` at its first step (call [`Player::start`] to begin).
    pub fn new(
        script: Script,
        lessons: LessonSet,
        theme: Theme,
        size: (u16, u16),
        caps: Capabilities,
        clock: Box<dyn Clock>,
    ) -> Self {
        let now = clock.now();
        let n = script.steps.len();
        Self {
            script,
            lessons,
            theme,
            size,
            current: 0,
            show_notes: false,
            ended: false,
            status: None,
            caps,
            clock,
            play: PlayTime::running_from(now),
            stages: vec![None; n],
            entered: Duration::ZERO,
            done: None,
            next_run: 1,
            running: None,
            export_dir: PathBuf::from("."),
        }
    }

    /// Exports without an `output` go into `dir` (default: the current folder).
    pub fn with_export_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.export_dir = dir.into();
        self
    }

    /// Enters the first step.
    pub fn start(&mut self) -> Outcome {
        let mut out = Outcome::redraw();
        self.go(0, true, &mut out);
        self.timers(&mut out);
        out
    }

    /// The player's clock, now.
    pub fn clock_now(&self) -> Duration {
        self.clock.now()
    }

    fn play_now(&self) -> Duration {
        self.play.at(self.clock.now())
    }

    /// Whether autoplay is paused.
    pub fn paused(&self) -> bool {
        self.play.paused()
    }

    /// Applies one event.
    pub fn update(&mut self, event: Event) -> Outcome {
        let mut out = Outcome::default();
        match event {
            Event::Key(key) => {
                if key.kind == KeyEventKind::Release {
                    return out;
                }
                if self.status.take().is_some() {
                    out.redraw = true;
                }
                self.on_key(key, &mut out);
            }
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.rewrap();
                out.redraw = true;
            }
            Event::Signal(sig) => {
                self.cancel_running(&mut out);
                out.commands.push(Command::Quit(sig.exit_status()));
            }
            Event::Run(id, ev) => self.on_run_event(id, ev, &mut out),
            // The demo asks for no store look-ups.
            Event::Loaded(_) => {}
            // Back from a stop: draw everything again.
            Event::Suspend => out.redraw = true,
            Event::Tick(_) => {
                // Ticks come only while something is timed (at most a few a second): the
                // countdown or the progress line changes with each.
                out.redraw = true;
                let now = self.clock.now();
                for s in self.stages.iter_mut().flatten() {
                    if let Stage::Run(RunStage {
                        source: Source::Live { now: n, state, .. },
                        ..
                    }) = s
                        && matches!(state, RunState::Starting | RunState::Running)
                    {
                        *n = now;
                        out.redraw = true;
                    }
                }
            }
        }
        self.timers(&mut out);
        out
    }

    fn on_key(&mut self, key: KeyEvent, out: &mut Outcome) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.cancel_running(out);
            out.commands.push(Command::Quit(0));
            return;
        }
        match key.code {
            KeyCode::Char('q') => {
                self.cancel_running(out);
                out.commands.push(Command::Quit(0));
            }
            KeyCode::Char(' ') | KeyCode::Right | KeyCode::PageDown | KeyCode::Enter => {
                self.next(out);
            }
            KeyCode::Left | KeyCode::PageUp | KeyCode::Backspace => {
                if self.current == 0 {
                    self.status = Some(("this is the first step".to_owned(), false));
                } else {
                    self.go(self.current - 1, false, out);
                }
                out.redraw = true;
            }
            KeyCode::Home => {
                self.go(0, false, out);
                out.redraw = true;
            }
            KeyCode::Char('p') => {
                let now = self.clock.now();
                if self.play.paused() {
                    self.play.resume(now);
                } else {
                    self.play.pause(now);
                }
                out.redraw = true;
            }
            KeyCode::Char('r') => {
                self.go(self.current, true, out);
                out.redraw = true;
            }
            KeyCode::Char('n') => {
                self.show_notes = !self.show_notes;
                out.redraw = true;
            }
            KeyCode::Esc if self.show_notes => {
                self.show_notes = false;
                out.redraw = true;
            }
            _ => {}
        }
    }

    /// Goes to the next step (the presenter's space or →).
    fn next(&mut self, out: &mut Outcome) {
        out.redraw = true;
        if self.current + 1 < self.script.steps.len() {
            self.go(self.current + 1, false, out);
        } else if self.script.looped {
            self.restart(out);
        } else {
            self.ended = true;
            self.status = Some(("that was the last step: q quits, ← goes back".into(), false));
        }
    }

    fn restart(&mut self, out: &mut Outcome) {
        self.cancel_running(out);
        self.stages = vec![None; self.script.steps.len()];
        self.go(0, true, out);
    }

    fn cancel_running(&mut self, out: &mut Outcome) {
        if let Some((id, _)) = self.running.take() {
            out.commands.push(Command::CancelRun(id));
        }
    }

    /// Enters step `i`. `fresh`: do it again even if it was done before (`r`); otherwise a
    /// step visited before shows what it showed then.
    fn go(&mut self, i: usize, fresh: bool, out: &mut Outcome) {
        let Some(action) = self.script.steps.get(i).map(|s| s.action.clone()) else {
            return;
        };
        if self.running.is_some_and(|(_, s)| s != i || fresh) {
            self.cancel_running(out);
        }
        self.current = i;
        self.ended = false;
        let now = self.play_now();
        self.entered = now;
        self.done = Some(now);
        // A replay left half-way plays again from its start rather than jumping to its end.
        let cached = !fresh
            && self.stages[i].as_ref().is_some_and(|s| {
                !matches!(s, Stage::Run(r) if r.active() && matches!(r.source, Source::Replay { .. }))
            });
        match action {
            Action::Hold => {}
            Action::Lesson { lesson, heading } => {
                if !cached {
                    self.stages[i] = Some(Stage::Lesson(self.lesson_stage(lesson, heading)));
                }
            }
            Action::Puzzle { lesson, puzzle, .. } => {
                if !cached {
                    let p = self.lessons.lessons[lesson].puzzles[puzzle].clone();
                    self.stages[i] = Some(Stage::Puzzle(Box::new(PuzzleStage {
                        view: PuzzleView::new(p),
                        taken: 0,
                    })));
                    self.done = None;
                }
            }
            Action::Run(run) => {
                if !cached {
                    self.start_run(i, &run, out);
                }
            }
            Action::Replay(r) => {
                if !cached {
                    let source = replay_source(&r.recording, r.speed, now, None);
                    self.stages[i] = Some(Stage::Run(RunStage {
                        experiment: r
                            .recording
                            .run()
                            .map_or_else(String::new, |x| x.experiment.clone()),
                        metric: r.metric,
                        records: Vec::new(),
                        source,
                    }));
                    self.done = None;
                }
            }
            Action::Export { .. } => {
                if !cached {
                    out.commands.push(Command::Export(i));
                }
            }
        }
        // Coming back to the step of the run still going: wait for its end again.
        if let Some(Stage::Run(r)) = &self.stages[i]
            && r.active()
        {
            self.done = None;
        }
        out.redraw = true;
    }

    fn start_run(&mut self, i: usize, run: &RunStep, out: &mut Outcome) {
        let now = self.play_now();
        let stage = match (self.caps.why_not(run), &run.fallback) {
            (Some(why), Some(rec)) => RunStage {
                experiment: run.experiment.clone(),
                metric: run.metric,
                records: Vec::new(),
                source: replay_source(rec, run.speed, now, Some(why)),
            },
            (Some(why), None) => RunStage {
                experiment: run.experiment.clone(),
                metric: run.metric,
                records: Vec::new(),
                source: Source::Unavailable(why),
            },
            (None, _) => {
                let id = self.next_run;
                self.next_run += 1;
                self.running = Some((id, i));
                out.commands.push(Command::StartRun {
                    id,
                    args: run.args.clone(),
                });
                let clock = self.clock.now();
                RunStage {
                    experiment: run.experiment.clone(),
                    metric: run.metric,
                    records: Vec::new(),
                    source: Source::Live {
                        id,
                        state: RunState::Starting,
                        started: clock,
                        now: clock,
                        stored: None,
                        stderr: Vec::new(),
                    },
                }
            }
        };
        if stage.active() {
            self.done = None;
        }
        self.stages[i] = Some(Stage::Run(stage));
    }

    fn lesson_stage(&self, lesson: usize, heading: Option<String>) -> LessonStage {
        let text = lesson_text_area(stage_area(self.size));
        let width = text.width.max(1);
        let lines = self
            .lessons
            .lessons
            .get(lesson)
            .map(|l| crate::tui::app::render_lesson(l, width, &self.theme))
            .unwrap_or_default();
        let scroll = heading
            .as_deref()
            .and_then(|h| heading_line(&lines, h))
            .unwrap_or(0);
        let max = lines.len().saturating_sub(usize::from(text.height));
        LessonStage {
            lesson,
            heading,
            lines,
            width,
            scroll: scroll.min(max),
        }
    }

    fn rewrap(&mut self) {
        let text = lesson_text_area(stage_area(self.size));
        for i in 0..self.stages.len() {
            if let Some(Stage::Lesson(l)) = &self.stages[i]
                && l.width != text.width.max(1)
            {
                let fresh = self.lesson_stage(l.lesson, l.heading.clone());
                self.stages[i] = Some(Stage::Lesson(fresh));
            }
        }
    }

    fn on_run_event(&mut self, id: u64, ev: RunEvent, out: &mut Outcome) {
        let Some(i) = self.stages.iter().position(|s| {
            matches!(s, Some(Stage::Run(RunStage { source: Source::Live { id: x, .. }, .. })) if *x == id)
        }) else {
            return;
        };
        let visible = self.stage_index() == Some(i);
        let now = self.play_now();
        let Some(Stage::Run(stage)) = self.stages[i].as_mut() else {
            return;
        };
        let Source::Live {
            state,
            stored,
            stderr,
            ..
        } = &mut stage.source
        else {
            return;
        };
        let was_active = state.active();
        let folded = crate::backend::child::fold(ev, state, &mut stage.records, stored, stderr);
        if let Some(w) = folded.warning {
            self.status = Some((w, true));
        }
        let ended = was_active && !matches!(state, RunState::Starting | RunState::Running);
        if ended {
            if self.running.is_some_and(|(r, _)| r == id) {
                self.running = None;
            }
            let failed = match state {
                RunState::Failed(m) => Some(m.clone()),
                _ => None,
            };
            let measured = stage.records.iter().any(|r| matches!(r, Record::Point(_)));
            let fallback = match &self.script.steps[i].action {
                Action::Run(r) => r.fallback.as_ref().map(|f| (f, r.speed)),
                _ => None,
            };
            if let (Some(msg), false, Some((rec, speed))) = (failed, measured, fallback) {
                let why = format!("the live run failed: {msg}");
                stage.records.clear();
                stage.source = replay_source(rec, speed, now, Some(why));
            } else if self.current == i {
                self.done = Some(now);
            }
        }
        if visible || ended {
            out.redraw = true;
        }
    }

    /// Carries out what is due: puzzle steps, replayed records, the end of a hold.
    fn timers(&mut self, out: &mut Outcome) {
        // Each pass either stops or enters the next step; a script's steps bound the passes.
        for _ in 0..=self.script.steps.len() {
            let now = self.play_now();
            let i = self.current;
            match (&self.script.steps[i].action, self.stages[i].as_mut()) {
                (Action::Puzzle { schedule, tick, .. }, Some(Stage::Puzzle(p)))
                    if self.done.is_none() =>
                {
                    let elapsed = now.saturating_sub(self.entered);
                    let due = usize::try_from(elapsed.as_nanos() / tick.as_nanos().max(1))
                        .unwrap_or(usize::MAX)
                        .min(schedule.len());
                    while p.taken < due {
                        p.view.selected = schedule[p.taken];
                        p.view.on_key(KeyEvent::from(KeyCode::Enter));
                        p.taken += 1;
                        out.redraw = true;
                    }
                    if p.taken == schedule.len() {
                        self.done = Some(self.entered + tick.saturating_mul(schedule.len() as u32));
                    }
                }
                (_, Some(Stage::Run(r))) => {
                    if let Source::Replay {
                        replay, started, ..
                    } = &r.source
                        && r.records.len() < replay.records().len()
                    {
                        let n = replay.arrived(now.saturating_sub(*started));
                        if n > r.records.len() {
                            r.records = replay.records()[..n].to_vec();
                            out.redraw = true;
                        }
                        if n == replay.records().len() && self.done.is_none() {
                            self.done = Some(*started + replay.length());
                        }
                    }
                }
                _ => {}
            }
            let Some(done) = self.done else {
                return;
            };
            if self.ended || self.play.paused() {
                return;
            }
            match self.script.steps[i].wait {
                Wait::Key => return,
                Wait::For(d) if now >= done + d => {
                    if i + 1 < self.script.steps.len() {
                        self.go(i + 1, false, out);
                    } else if self.script.looped {
                        self.restart(out);
                    } else {
                        self.ended = true;
                        out.redraw = true;
                        return;
                    }
                }
                Wait::For(_) => return,
            }
        }
    }

    /// Play time at which the current step goes on by itself, if it will.
    fn advance_at(&self) -> Option<Duration> {
        match (self.done, self.script.steps.get(self.current)?.wait) {
            (Some(done), Wait::For(d)) if !self.ended => Some(done + d),
            _ => None,
        }
    }

    /// Seconds until autoplay goes on (rounded up), for the presenter's bar.
    pub fn countdown(&self) -> Option<u64> {
        if self.play.paused() {
            return None;
        }
        let left = self.advance_at()?.saturating_sub(self.play_now());
        Some(left.as_secs() + u64::from(left.subsec_nanos() > 0))
    }

    /// Clock time at which the player wants an [`Event::Tick`]; `None` while nothing is
    /// timed (paused, waiting for a key, or a live run, which ticks by itself).
    pub fn deadline(&self) -> Option<Duration> {
        if self.play.paused() || self.ended {
            return None;
        }
        let now = self.play_now();
        let mut next: Option<Duration> = None;
        let mut consider = |t: Duration| next = Some(next.map_or(t, |n: Duration| n.min(t)));
        match (
            &self.script.steps.get(self.current)?.action,
            self.stages.get(self.current).and_then(Option::as_ref),
        ) {
            (Action::Puzzle { schedule, tick, .. }, Some(Stage::Puzzle(p)))
                if p.taken < schedule.len() =>
            {
                consider(self.entered + tick.saturating_mul(p.taken as u32 + 1));
            }
            (_, Some(Stage::Run(r))) => {
                if let Source::Replay {
                    replay, started, ..
                } = &r.source
                    && let Some(at) = replay.arrival(r.records.len())
                {
                    consider(*started + at);
                }
            }
            _ => {}
        }
        if let Some(at) = self.advance_at() {
            consider(at);
            // Redraw the countdown when its whole seconds change.
            let left = at.saturating_sub(now);
            let frac = left.saturating_sub(Duration::from_secs(left.as_secs()));
            if !frac.is_zero() {
                consider(now + frac);
            } else if left >= Duration::from_secs(1) {
                consider(now + Duration::from_secs(1));
            }
        }
        self.play.clock_time_of(next?, self.clock.now())
    }

    /// The index of the step whose stage is shown: the current step's, or the last step
    /// before it that put something on stage.
    pub fn stage_index(&self) -> Option<usize> {
        (0..=self.current.min(self.stages.len().saturating_sub(1)))
            .rev()
            .find(|&j| self.script.steps[j].action.is_stage() && self.stages[j].is_some())
    }

    /// What is on stage.
    pub fn stage(&self) -> Option<&Stage> {
        self.stages.get(self.stage_index()?)?.as_ref()
    }

    /// What step `i` put on stage, if it has been shown.
    pub fn stage_of(&self, i: usize) -> Option<&Stage> {
        self.stages.get(i)?.as_ref()
    }

    /// The run overlaid on the chart of run step `i` (`compare = true`): the records of the
    /// last run or replay shown before it.
    pub fn compared(&self, i: usize) -> Option<&[Record]> {
        let compare = match &self.script.steps.get(i)?.action {
            Action::Run(r) => r.compare,
            Action::Replay(r) => r.compare,
            _ => false,
        };
        if !compare {
            return None;
        }
        (0..i).rev().find_map(|j| match &self.stages[j] {
            Some(Stage::Run(r)) if self.script.steps[j].action.is_run() => {
                Some(r.records.as_slice())
            }
            _ => None,
        })
    }

    /// Saves the PNG of export step `step` and says where in the presenter's bar.
    pub fn export(&mut self, step: usize) -> Result<PathBuf, String> {
        let result = self.render_export(step);
        self.status = Some(match &result {
            Ok(p) => (format!("saved {}", p.display()), false),
            Err(e) => (format!("export: {e}"), true),
        });
        result
    }

    fn render_export(&self, step: usize) -> Result<PathBuf, String> {
        use crate::export::{self, Charts, LessonCard};
        let Some(Action::Export { what, output }) = self.script.steps.get(step).map(|s| &s.action)
        else {
            return Err("not an export step".into());
        };
        let shown_before = |want: fn(&Action) -> bool| {
            (0..step)
                .rev()
                .find(|&j| want(&self.script.steps[j].action) && self.stages[j].is_some())
        };
        let (png, name) = match what {
            ExportKind::Card => {
                let j =
                    shown_before(|a| matches!(a, Action::Lesson { .. } | Action::Puzzle { .. }))
                        .ok_or("no lesson has been shown yet")?;
                let lesson_index = match &self.script.steps[j].action {
                    Action::Lesson { lesson, .. } | Action::Puzzle { lesson, .. } => *lesson,
                    _ => return Err("no lesson has been shown yet".into()),
                };
                let lesson = &self.lessons.lessons[lesson_index];
                let mut runs: BTreeMap<String, Vec<Record>> = BTreeMap::new();
                for (k, s) in self.stages.iter().enumerate().take(step) {
                    if let Some(Stage::Run(r)) = s
                        && self.script.steps[k].action.is_run()
                        && r.records.iter().any(|x| matches!(x, Record::Point(_)))
                    {
                        runs.insert(r.experiment.clone(), r.records.clone());
                    }
                }
                let card = LessonCard {
                    lesson,
                    runs: &runs,
                    answers: None,
                    answered_at: None,
                    for_checks: None,
                };
                let png =
                    export::render_lesson_card(&card, None, None).map_err(|e| e.to_string())?;
                (png, export::lesson_file_name(&lesson.id))
            }
            ExportKind::Chart => {
                let j = shown_before(Action::is_run).ok_or("no run has been shown yet")?;
                let Some(Stage::Run(r)) = &self.stages[j] else {
                    return Err("no run has been shown yet".into());
                };
                let mut runs: Vec<&[Record]> = vec![&r.records];
                if let Some(c) = self.compared(j) {
                    runs.push(c);
                }
                let charts = Charts::One(r.metric);
                let png = export::render_charts(&runs, charts, export::default_size(&runs, charts))
                    .map_err(|e| e.to_string())?;
                (png, export::chart_file_name(&runs, charts))
            }
        };
        let path = match output {
            Some(p) => p.clone(),
            None => self.export_dir.join(name),
        };
        export::write_png(&path, &png).map_err(|e| e.to_string())?;
        Ok(path)
    }

    /// The state the notes viewer shows.
    pub fn notes_state(&self) -> NotesState {
        let step = &self.script.steps[self.current];
        NotesState {
            presenter: std::process::id(),
            script: self.script.name.clone(),
            title: self.script.title.clone(),
            step: self.current + 1,
            steps: self.script.steps.len(),
            what: self.describe(self.current),
            caption: step.caption.clone(),
            notes: step.notes.clone(),
            next: (self.current + 1 < self.script.steps.len())
                .then(|| self.describe(self.current + 1)),
            paused: self.play.paused(),
            ended: false,
        }
    }

    /// What step `i` does, in a few words.
    pub fn describe(&self, i: usize) -> String {
        let Some(step) = self.script.steps.get(i) else {
            return String::new();
        };
        let lesson_id = |l: usize| self.lessons.lessons.get(l).map_or("?", |l| l.id.as_str());
        let what = match &step.action {
            Action::Hold => match (&step.caption, step.wait) {
                (Some(c), _) => format!("caption: {}", c.lines().next().unwrap_or("")),
                (None, Wait::Key) => "wait for a key".to_owned(),
                (None, Wait::For(d)) => format!("wait {} s", d.as_secs_f64()),
            },
            Action::Lesson { lesson, heading } => match heading {
                Some(h) => format!("lesson {} › {h}", lesson_id(*lesson)),
                None => format!("lesson {}", lesson_id(*lesson)),
            },
            Action::Puzzle {
                lesson,
                puzzle,
                schedule,
                ..
            } => {
                let id = self
                    .lessons
                    .lessons
                    .get(*lesson)
                    .and_then(|l| l.puzzles.get(*puzzle))
                    .map_or("?", |p| p.id.as_str());
                format!("puzzle {id}, {} steps", schedule.len())
            }
            Action::Run(r) => format!("run {} on {}", r.experiment, r.backend),
            Action::Replay(r) => format!("replay {}", r.recording.name),
            Action::Export { what, .. } => match what {
                ExportKind::Card => "save the lesson card".to_owned(),
                ExportKind::Chart => "save the chart".to_owned(),
            },
        };
        if step.caption.is_some() && !matches!(step.action, Action::Hold) {
            format!("{what}, with a caption")
        } else {
            what
        }
    }

    /// Where exports go by default.
    pub fn export_dir(&self) -> &Path {
        &self.export_dir
    }
}

/// A replay of `rec` starting at play time `now`, labelled with where it came from.
fn replay_source(rec: &Recording, speed: f64, now: Duration, reason: Option<String>) -> Source {
    Source::Replay {
        replay: Replay::new(rec.records.clone(), speed),
        started: now,
        label: replay_label(rec),
        reason,
    }
}

/// `replayed from FILE, recorded on HOST at DATE`.
pub fn replay_label(rec: &Recording) -> String {
    match rec.run() {
        Some(run) => {
            let date = chrono::DateTime::parse_from_rfc3339(&run.started_at)
                .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_else(|_| run.started_at.clone());
            format!(
                "replayed from {}, recorded on {} at {date}",
                rec.name, run.env.host
            )
        }
        None => format!("replayed from {}", rec.name),
    }
}
