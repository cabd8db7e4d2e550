//! The tutor's state and its one way of changing: [`App::update`].
//!
//! `update` takes an [`Event`] and returns an [`Effect`] for the event loop to carry out; it
//! never touches the terminal, so every interaction is testable without one. Drawing lives
//! in `view/` and only reads the state.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::markdown;
use super::theme::Theme;
use super::view::layout;
use crate::cluster::SystemInfo;
use crate::lesson::{Answer, CheckKind, Lesson, LessonSet};
use crate::progress::{LessonProgress, Progress};

/// Everything that can happen to the app. Input, signals and (later) background runs all
/// arrive as events on one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A key was pressed.
    Key(KeyEvent),
    /// The terminal now has this size.
    Resize(u16, u16),
    /// The process got a signal asking it to stop.
    Signal(StopSignal),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing changed: do not redraw.
    None,
    /// The screen changed: redraw.
    Redraw,
    /// Progress changed in a way worth keeping now: save it, then redraw.
    Save,
    /// Save progress, restore the terminal and exit with this status.
    Quit(u8),
}

/// Which screen is showing.
#[derive(Debug, Clone, PartialEq)]
pub enum Screen {
    /// Tracks and lessons.
    Catalogue,
    /// One lesson's text, with its panel of checks and experiments.
    Reader(Reader),
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
    /// Selected check in the panel.
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
}

/// The state of the check window.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckDialog {
    /// Index into the lesson's checks.
    pub check: usize,
    /// Highlighted option of a choice check.
    pub selected: usize,
    /// What has been typed for a numeric check.
    pub input: String,
    /// Why the typed text was not accepted.
    pub error: Option<String>,
    /// After an answer: whether it was right.
    pub result: Option<bool>,
}

/// A one-line message in the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
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
    pub status: Option<Status>,
}

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
            app.status = Some(Status {
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
        self.status = Some(Status {
            text: text.into(),
            warning,
        });
    }

    /// Applies one event.
    pub fn update(&mut self, event: Event) -> Effect {
        match event {
            Event::Resize(w, h) => {
                self.size = (w, h);
                self.rewrap();
                Effect::Redraw
            }
            Event::Signal(sig) => {
                self.sync_progress();
                Effect::Quit(sig.exit_status())
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
            Screen::Catalogue => 0,
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
            Screen::Catalogue => false,
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
            Screen::Catalogue => None,
        }
    }

    fn open_lesson_progress_mut(&mut self) -> Option<&mut LessonProgress> {
        let id = self.lesson_in_reader()?.id.clone();
        Some(self.progress.lessons.entry(id).or_default())
    }

    /// Copies the reader's scroll position into the progress, for saving.
    pub fn sync_progress(&mut self) {
        if let Screen::Reader(r) = &self.screen {
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
        match key.code {
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
            KeyCode::Tab | KeyCode::BackTab => {
                if check_count == 0 {
                    self.set_status("this lesson has no checks", false);
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
                self.open_check(r.selected_check)
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
        let count = self.lesson_in_reader().map_or(0, |l| l.checks.len());
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
        let (selected, input) = match (&c.kind, previous) {
            (CheckKind::Choice { choices, .. }, Some(Answer::Choice(t))) => (
                choices.iter().position(|x| x == t).unwrap_or(0),
                String::new(),
            ),
            (CheckKind::Numeric { .. }, Some(Answer::Number(n))) => (0, n.to_string()),
            _ => (0, String::new()),
        };
        self.overlay = Some(Overlay::Check(CheckDialog {
            check,
            selected,
            input,
            error: None,
            result: None,
        }));
        Effect::Redraw
    }

    // ----- overlays --------------------------------------------------------------------

    fn on_overlay_key(&mut self, key: KeyEvent) -> Effect {
        let Some(overlay) = self.overlay.take() else {
            return Effect::None;
        };
        match overlay {
            Overlay::Check(dialog) => self.on_check_key(dialog, key),
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
            return Effect::Redraw;
        }
        if d.result.is_some() {
            // The answer is shown: Enter closes, `r` answers again.
            match key.code {
                KeyCode::Enter => return Effect::Redraw,
                KeyCode::Char('r') => {
                    d.result = None;
                    d.error = None;
                }
                KeyCode::Char('q') => {
                    self.sync_progress();
                    return Effect::Quit(0);
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
                    if i < choices.len() {
                        d.selected = i;
                        Some(Answer::Choice(choices[i].clone()))
                    } else {
                        d.error = Some(format!("choose 1 to {}", choices.len()));
                        None
                    }
                }
                KeyCode::Enter => choices.get(d.selected).cloned().map(Answer::Choice),
                KeyCode::Char('q') => {
                    self.sync_progress();
                    return Effect::Quit(0);
                }
                _ => {
                    self.overlay = Some(Overlay::Check(d));
                    return Effect::None;
                }
            },
            CheckKind::Numeric { .. } => match key.code {
                KeyCode::Char(c)
                    if c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E') =>
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
                KeyCode::Enter => match d.input.trim().parse::<f64>() {
                    Ok(v) if v.is_finite() => Some(Answer::Number(v)),
                    _ if d.input.trim().is_empty() => {
                        d.error = Some("type a number first".to_owned());
                        None
                    }
                    _ => {
                        d.error = Some(format!("`{}` is not a number", d.input.trim()));
                        None
                    }
                },
                KeyCode::Char('q') => {
                    self.sync_progress();
                    return Effect::Quit(0);
                }
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
                d.error = None;
                self.progress
                    .lessons
                    .entry(lesson_id)
                    .or_default()
                    .answers
                    .insert(check.id.clone(), answer);
                Effect::Save
            }
            None => Effect::Redraw,
        };
        self.overlay = Some(Overlay::Check(d));
        effect
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
            .all(|c| p.answers.get(&c.id).is_some_and(|a| c.is_correct(a)));
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
