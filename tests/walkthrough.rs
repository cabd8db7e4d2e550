//! The walk-through: every shipped lesson, the way a learner goes through it.
//!
//! For each lesson of the built-in catalogue (a lesson added later is walked too, without
//! touching this file) the test opens it in the tutor (`App::update`, no terminal) and:
//! - answers each check once, through its dialog, with the lesson's own answer;
//! - plays each puzzle to its goal, one key press a step, on a schedule the puzzle search finds;
//! - opens each experiment from the lesson's panel (`x`), with the lesson's preset, on every
//!   backend it has (MPI under mpirun), presses `r`, and carries the run out exactly as the
//!   tutor's event loop does (`tui::step`): the real `hpc-tutor` binary as a child process,
//!   its records read back as events. Each run must end `ok`, or in the deadlock the lesson
//!   is about, diagnosed with its wait-for cycle. The screen is then drawn at 80x24 and
//!   100x30, and must show the experiment's main result;
//! - opens each program the lesson declares (after its experiments in the panel) on the
//!   "Your program" screen, checks the form the lesson set up (its file, backend, name, and an
//!   interpreter that has the modules it needs), runs it for real and draws it the same way;
//!   a second program of the same lesson keeps the first one's run on the chart to compare,
//!   and the first one keeps the lesson's experiment run (the built-in kernel);
//! - saves the lesson card (`s`) and checks that it is a PNG.
//!
//! Test-only setting: to keep the walk to a few minutes on 2 cores with an unoptimised
//! build, the walk types smaller values into the form (as a learner could) for the
//! parameters listed in [`SMALLER`], at most 2 repetitions and no warm-up. Set
//! `HPC_TUTOR_WALK_FULL=1` to run every lesson's preset exactly as it is instead.

mod common;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::{ch, key};
use hpc_tutor::backend::child::Runs;
use hpc_tutor::cluster::SystemInfo;
use hpc_tutor::experiment::{self, ExperimentInfo};
use hpc_tutor::lesson::{CheckKind, Lesson, LessonSet, LessonSource};
use hpc_tutor::progress::Progress;
use hpc_tutor::record::store::Store;
use hpc_tutor::record::{Record, Status};
use hpc_tutor::tui::Lookups;
use hpc_tutor::tui::app::{Focus, Overlay, Row, Screen};
use hpc_tutor::tui::experiment::RunState;
use hpc_tutor::tui::theme::Theme;
use hpc_tutor::tui::{App, Event, Next};
use ratatui::crossterm::event::KeyCode;

/// Parameters the walk makes smaller, with the value it types: each still shows what its
/// lesson is about (a deadlock still deadlocks, a race still loses updates).
const SMALLER: &[(&str, &str, &str)] = &[
    ("mc-pi", "samples", "2000000"),
    ("integral", "n", "2000000"),
    ("amdahl", "work", "10000000"),
    ("imbalance", "work", "10000000"),
    ("race", "increments", "1000000"),
    ("hybrid", "samples", "2000000"),
    ("stream", "size", "16777216"),
    ("farm", "tasks", "60"),
    ("farm", "right", "20"),
];

/// The longest a run may take before the walk calls it stuck.
const RUN_LIMIT: Duration = Duration::from_secs(180);

struct Walk {
    app: App,
    runs: Runs,
    lookups: Lookups,
    rx: mpsc::Receiver<Event>,
    /// What happened, for the message of a failure.
    log: Vec<String>,
}

impl Walk {
    fn new(set: &LessonSet, home: &Path) -> Self {
        let (tx, rx) = mpsc::channel();
        let store = Store::in_dir(home.join("results"));
        let runs = hpc_tutor::tui::runs_to(tx.clone(), Some(store.clone()))
            .with_program(env!("CARGO_BIN_EXE_hpc-tutor"));
        let lookups = Lookups::new(tx, Some(store.clone()));
        let mut app = App::new(
            set.clone(),
            Progress::default(),
            SystemInfo::detect(),
            Theme::monochrome(),
            (100, 30),
            None,
        )
        .with_store(Some(store));
        app.work_dir = home.to_owned();
        app.exe = env!("CARGO_BIN_EXE_hpc-tutor").to_owned();
        Self {
            app,
            runs,
            lookups,
            rx,
            log: Vec::new(),
        }
    }

    /// Opens lesson `idx` from the catalogue, as a learner does: back to the catalogue, down
    /// to its row, Enter.
    fn open_lesson(&mut self, set: &LessonSet, idx: usize) {
        if matches!(self.app.screen, Screen::Reader(_)) {
            self.press(KeyCode::Esc);
        }
        assert!(matches!(self.app.screen, Screen::Catalogue));
        self.press(KeyCode::Home);
        for _ in 0..self.app.rows.len() {
            if self.app.rows[self.app.selected_row] == Row::Lesson(idx) {
                break;
            }
            self.press(KeyCode::Down);
        }
        self.press(KeyCode::Enter);
        let Screen::Reader(r) = &self.app.screen else {
            panic!("{}: Enter opens the reader", set.lessons[idx].id)
        };
        assert_eq!(r.lesson, idx, "{} opens", set.lessons[idx].id);
    }

    /// Sends one event through the tutor's own loop step.
    fn send(&mut self, event: Event) -> Next {
        hpc_tutor::tui::step(&mut self.app, event, &mut self.runs, &self.lookups, None)
    }

    fn press(&mut self, code: KeyCode) -> Next {
        self.send(key(code))
    }

    fn reader_panel(&mut self) {
        let Screen::Reader(r) = &self.app.screen else {
            panic!(
                "expected the reader, got {:?}",
                screen_name(&self.app.screen)
            )
        };
        if r.focus != Focus::Panel {
            self.press(KeyCode::Tab);
        }
    }

    /// Selects item `i` of the reader's panel (checks, then puzzles, then experiments).
    fn select(&mut self, i: usize) {
        self.reader_panel();
        for _ in 0..64 {
            self.press(KeyCode::Up);
        }
        for _ in 0..i {
            self.press(KeyCode::Down);
        }
        let Screen::Reader(r) = &self.app.screen else {
            panic!("expected the reader")
        };
        assert_eq!(r.selected_check, i, "panel item {i}");
    }

    fn answer_check(&mut self, lesson: &Lesson, i: usize) {
        let check = &lesson.checks[i];
        self.select(i);
        self.press(KeyCode::Enter);
        assert!(
            matches!(self.app.overlay, Some(Overlay::Check(_))),
            "{}: check {} opens its dialog",
            lesson.id,
            check.id
        );
        match &check.kind {
            CheckKind::Choice { choices, answer } => {
                // Options are shown in the learner's order: the answer's place on screen.
                let Some(Overlay::Check(d)) = &self.app.overlay else {
                    panic!("{}: check {} is open", lesson.id, check.id)
                };
                let n = d
                    .order
                    .iter()
                    .position(|i| i == answer)
                    .expect("the answer is shown");
                assert!(
                    n < 9 && n < choices.len(),
                    "{}: choice {} is reachable by its digit",
                    lesson.id,
                    n + 1
                );
                self.send(ch(char::from(b'1' + n as u8)));
            }
            CheckKind::Numeric { answer, .. } => {
                for c in format!("{answer}").chars() {
                    self.send(ch(c));
                }
                self.press(KeyCode::Enter);
            }
        }
        let Some(Overlay::Check(d)) = &self.app.overlay else {
            panic!(
                "{}: check {} keeps its dialog open with the result",
                lesson.id, check.id
            )
        };
        assert_eq!(
            d.result,
            Some(true),
            "{}: check {}: the lesson's own answer is accepted",
            lesson.id,
            check.id
        );
        self.press(KeyCode::Enter);
        assert!(self.app.overlay.is_none());
    }

    fn play_puzzle(&mut self, lesson: &Lesson, j: usize) {
        let puzzle = &lesson.puzzles[j];
        self.select(lesson.checks.len() + j);
        self.press(KeyCode::Enter);
        let schedule = hpc_tutor::puzzle::explore(puzzle, 2_000_000)
            .witness
            .unwrap_or_else(|| panic!("{}: puzzle {} has a way to its goal", lesson.id, puzzle.id));
        for t in schedule {
            self.send(ch(char::from(b'1' + t as u8)));
            self.press(KeyCode::Enter);
        }
        let Screen::Puzzle { view, .. } = &self.app.screen else {
            panic!("{}: puzzle {} is on screen", lesson.id, puzzle.id)
        };
        assert!(
            view.solved,
            "{}: puzzle {} reached its goal",
            lesson.id, puzzle.id
        );
        self.press(KeyCode::Esc);
        assert!(matches!(self.app.screen, Screen::Reader(_)));
    }

    /// Sets form field `name` to `value` with the keys a learner would press.
    fn set_field(&mut self, exp: &str, name: &str, value: &str) {
        let view = &self.app.experiments[exp];
        let Some(i) = view.fields.iter().position(|f| f.name == name) else {
            return;
        };
        let choices = !view.fields[i].options.is_empty();
        for _ in 0..view.fields.len() {
            self.press(KeyCode::Up);
        }
        for _ in 0..i {
            self.press(KeyCode::Down);
        }
        if choices {
            for _ in 0..8 {
                if self.app.experiments[exp].fields[i].value == value {
                    break;
                }
                self.press(KeyCode::Right);
            }
        } else {
            self.press(KeyCode::Enter);
            for _ in 0..80 {
                self.press(KeyCode::Backspace);
            }
            for c in value.chars() {
                self.send(ch(c));
            }
            self.press(KeyCode::Enter);
        }
        assert_eq!(
            self.app.experiments[exp].fields[i].value, value,
            "{exp}: field {name}"
        );
    }

    fn shrink(&mut self, info: &ExperimentInfo) {
        if std::env::var_os("HPC_TUTOR_WALK_FULL").is_some() {
            return;
        }
        let number = |w: &Walk, name: &str| {
            w.app.experiments[info.name]
                .fields
                .iter()
                .find(|f| f.name == name)
                .and_then(|f| f.value.trim().parse::<f64>().ok())
        };
        for (exp, param, value) in SMALLER {
            if *exp == info.name
                && number(self, param).is_some_and(|v| v > value.parse::<f64>().unwrap_or(0.0))
            {
                self.set_field(info.name, param, value);
            }
        }
        if number(self, "reps").is_some_and(|r| r > 2.0) {
            self.set_field(info.name, "reps", "2");
        }
        self.set_field(info.name, "warmup", "0");
    }

    /// Presses `r` and carries the run out until it ends.
    fn run(&mut self, lesson: &Lesson, info: &ExperimentInfo, backend: &str) -> Vec<Record> {
        let what = format!("{}: {} on {backend}", lesson.id, info.name);
        let started = Instant::now();
        assert_eq!(
            self.press(KeyCode::Char('r')),
            Next::Redraw,
            "{what}: r starts the run"
        );
        assert!(
            self.app.running.is_some(),
            "{what}: r started nothing: {:?}",
            self.app.experiments[info.name]
                .fields
                .iter()
                .filter_map(|f| f.error.as_ref().map(|e| format!("{}: {e}", f.name)))
                .collect::<Vec<_>>()
        );
        loop {
            let run = self.app.experiments[info.name].run.as_ref().expect("a run");
            if !run.active() && self.app.running.is_none() {
                break;
            }
            assert!(
                started.elapsed() < RUN_LIMIT,
                "{what}: no end after {RUN_LIMIT:?}"
            );
            if let Ok(ev) = self.rx.recv_timeout(Duration::from_millis(500)) {
                self.send(ev);
            }
        }
        let run = self.app.experiments[info.name].run.clone().expect("a run");
        self.log.push(format!(
            "{what}: {:?} in {:.1} s",
            run.state,
            started.elapsed().as_secs_f64()
        ));
        match &run.state {
            RunState::Ended(Status::Ok) => {}
            RunState::Ended(Status::Deadlock) => {
                let diagnosed = run
                    .records
                    .iter()
                    .any(|r| matches!(r, Record::Diagnosis(d) if !d.cycle.is_empty()));
                assert!(diagnosed, "{what}: a deadlock without its wait-for cycle");
            }
            other => panic!("{what}: ended {other:?}; stderr: {}", run.stderr.join("\n")),
        }
        run.records
    }

    fn walk_experiment(&mut self, lesson: &Lesson, k: usize) {
        let name = &lesson.experiments[k];
        let info = experiment::find(name).expect("lessons check knows it");
        if !info.runnable() {
            return;
        }
        self.select(lesson.checks.len() + lesson.puzzles.len() + k);
        self.send(ch('x'));
        assert!(
            matches!(&self.app.screen, Screen::Experiment { name: n, .. } if n == name),
            "{}: x opens {name}",
            lesson.id
        );
        // The form starts from this lesson's preset, whatever an earlier lesson left.
        let form = &self.app.experiments[name.as_str()];
        let value = |field: &str| form.value(field).unwrap_or_default().to_owned();
        let preset = lesson.presets.get(name);
        let defaults = hpc_tutor::experiment::RunRequest::defaults(name).expect("defaults");
        let want_reps = preset.and_then(|p| p.reps).unwrap_or(defaults.reps);
        assert_eq!(
            value("reps"),
            want_reps.to_string(),
            "{}: {name}: reps",
            lesson.id
        );
        assert_eq!(
            value("backend"),
            preset
                .and_then(|p| p.backend)
                .unwrap_or(info.backends[0])
                .name(),
            "{}: {name}: backend",
            lesson.id
        );
        if let Some(w) = preset.and_then(|p| p.workers.as_ref()) {
            let list: Vec<String> = w.iter().map(ToString::to_string).collect();
            assert_eq!(
                value("workers"),
                list.join(","),
                "{}: {name}: workers",
                lesson.id
            );
        }
        for (k, v) in defaults.params.to_strings() {
            let want = preset
                .and_then(|p| {
                    p.params
                        .iter()
                        .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                })
                .map_or(v, str::to_owned);
            let got = value(&k);
            assert!(
                got == want || got.parse::<f64>().ok() == want.parse::<f64>().ok(),
                "{}: {name}: parameter {k} is {got}, the lesson's preset says {want}",
                lesson.id
            );
        }
        for backend in info.backend_names() {
            if backend == "mpi" && !cfg!(feature = "mpi") {
                eprintln!(
                    "SKIPPED: {}: {name} on MPI ranks (this test was built without the mpi feature; tests/run.sh builds with it)",
                    lesson.id
                );
                continue;
            }
            self.set_field(name, "backend", backend);
            self.shrink(info);
            let records = self.run(lesson, info, backend);
            let deadlocked = records
                .iter()
                .any(|r| matches!(r, Record::End(e) if e.status == Status::Deadlock));
            assert!(
                deadlocked || records.iter().any(|r| matches!(r, Record::Point(_))),
                "{}: {name} on {backend} measured no point",
                lesson.id
            );
            let headline = hpc_tutor::chart::headline::headline(&records);
            assert!(
                !headline.is_empty(),
                "{}: {name} on {backend}: a main result",
                lesson.id
            );
            for size in [(80, 24), (100, 30)] {
                let screen = draw(&mut self.app, size);
                // The main result is on screen without scrolling: its first words, or for a
                // deadlock its cycle in the wait-for graph.
                let start: String = headline[0].chars().take(14).collect();
                assert!(
                    screen.contains(&start) || (deadlocked && screen.contains("A cycle:")),
                    "{}: {name} on {backend} at {size:?}: the main result `{}` is not on screen\n{screen}",
                    lesson.id,
                    headline[0]
                );
                assert!(
                    deadlocked || screen.contains("measured points"),
                    "{}: {name} on {backend} at {size:?}: the points table is on screen\n{screen}",
                    lesson.id
                );
                assert!(
                    screen.contains("Esc") && (screen.contains("r run") || screen.contains("r ")),
                    "{}: {name} at {size:?}: the key hints are on screen\n{screen}",
                    lesson.id
                );
                assert!(
                    deadlocked || !screen.contains("waiting for the first point"),
                    "{}: {name} at {size:?}: the chart shows the measured points\n{screen}",
                    lesson.id
                );
            }
        }
        self.press(KeyCode::Esc);
        assert!(matches!(self.app.screen, Screen::Reader(_)));
    }

    /// Opens the lesson's program `j` from the panel, checks the form it sets up, runs it and
    /// draws the result.
    fn walk_program(&mut self, lesson: &Lesson, j: usize) {
        let program = &lesson.programs[j];
        let what = format!("{}: program {}", lesson.id, program.id);
        let previous = self.app.experiments.get("program").and_then(|v| {
            v.run
                .as_ref()
                .filter(|r| !r.active())
                .map(|r| r.records.clone())
        });
        self.select(lesson.checks.len() + lesson.puzzles.len() + lesson.experiments.len() + j);
        self.send(ch('x'));
        assert!(
            matches!(&self.app.screen, Screen::Experiment { name, .. } if name == "program"),
            "{what}: x opens the Your program screen"
        );
        let form = &self.app.experiments["program"];
        let value = |field: &str| form.value(field).unwrap_or_default().to_owned();
        assert_eq!(value("name"), program.id, "{what}: name");
        assert_eq!(value("backend"), program.backend.name(), "{what}: backend");
        let file_name = Path::new(&program.file)
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        assert!(
            value("command").contains(&file_name),
            "{what}: the command runs {file_name}: {}",
            value("command")
        );
        assert_eq!(
            form.notice, None,
            "{what}: an interpreter with the modules it needs (tests/run.sh installs python3-numpy and python3-mpi4py)"
        );
        // The lesson's previous program run, else its experiments' run (the built-in kernel
        // beside the Python one), stays on the chart to compare with.
        let carried = form.compare.is_some();
        if (j > 0 && previous.is_some()) || !lesson.experiments.is_empty() {
            assert!(
                carried,
                "{what}: an earlier run of the lesson stays on the chart"
            );
        }
        let info = experiment::find("program").expect("registered");
        if std::env::var_os("HPC_TUTOR_WALK_FULL").is_none() {
            self.set_field("program", "reps", "2");
            self.set_field("program", "warmup", "0");
        }
        let records = self.run(lesson, info, program.backend.name());
        assert!(
            records.iter().any(|r| matches!(r, Record::Point(_))),
            "{what}: measured no point"
        );
        let headline = hpc_tutor::chart::headline::headline(&records);
        for size in [(80, 24), (100, 30)] {
            let screen = draw(&mut self.app, size);
            let start: String = headline[0].chars().take(14).collect();
            assert!(
                screen.contains(&start) && screen.contains("measured points"),
                "{what} at {size:?}: the main result and the points are on screen\n{screen}"
            );
            assert!(
                screen.contains(&program.id),
                "{what} at {size:?}: the chart names the program\n{screen}"
            );
            assert!(
                screen.contains("CPUs busy"),
                "{what} at {size:?}: how many CPUs it kept busy\n{screen}"
            );
        }
        self.press(KeyCode::Esc);
        assert!(matches!(self.app.screen, Screen::Reader(_)));
    }

    /// A prediction is compared only with a run of the settings it asks about: after the
    /// walk's runs with the lesson's preset it has a measurement exactly when such a run was
    /// made; otherwise the walk sets the form to those settings, runs it, and then it has one.
    fn compare_prediction(&mut self, lesson: &Lesson, check: &hpc_tutor::lesson::Check) {
        let Some(m) = &check.measure else { return };
        let matching_run = self
            .app
            .latest
            .get(&m.experiment)
            .is_some_and(|runs| runs.iter().any(|r| m.matches(r)));
        assert_eq!(
            self.app.measurement_for(check).is_some(),
            matching_run,
            "{}: check {}: measured exactly when a run with {} exists",
            lesson.id,
            check.id,
            m.params_text()
        );
        if matching_run {
            return;
        }
        assert_ne!(
            m.experiment, "program",
            "{}: check {}: the walk ran the lesson's program",
            lesson.id, check.id
        );
        let k = lesson
            .experiments
            .iter()
            .position(|e| *e == m.experiment)
            .expect("in the lesson");
        let info = experiment::find(&m.experiment).expect("known");
        self.select(lesson.checks.len() + lesson.puzzles.len() + k);
        self.send(ch('x'));
        for (name, value) in &m.params {
            self.set_field(info.name, name, value);
        }
        self.shrink(info);
        let backend = m.backend.as_deref().unwrap_or(info.backends[0].name());
        if backend == "mpi" && !cfg!(feature = "mpi") {
            eprintln!(
                "SKIPPED: {}: check {}: a prediction about MPI ranks (this test was built without the mpi feature)",
                lesson.id, check.id
            );
            return;
        }
        self.set_field(info.name, "backend", backend);
        self.run(lesson, info, backend);
        self.press(KeyCode::Esc);
        assert!(
            self.app.measurement_for(check).is_some(),
            "{}: check {}: a run with {} gives it a measurement",
            lesson.id,
            check.id,
            m.params_text()
        );
    }

    fn export_card(&mut self, lesson: &Lesson) -> PathBuf {
        self.press(KeyCode::Char('s'));
        let status = self.app.status.clone().expect("export says what it did");
        assert!(
            !status.warning && status.text.starts_with("saved "),
            "{}: card: {}",
            lesson.id,
            status.text
        );
        let path = PathBuf::from(status.text.trim_start_matches("saved "));
        let bytes = std::fs::read(&path).expect("the card was written");
        assert!(
            bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
            "{}: a PNG",
            lesson.id
        );
        path
    }
}

fn screen_name(s: &Screen) -> &'static str {
    match s {
        Screen::Catalogue => "catalogue",
        Screen::Reader(_) => "reader",
        Screen::Puzzle { .. } => "puzzle",
        Screen::Experiment { .. } => "experiment",
        Screen::Results => "results",
    }
}

/// Draws the app on a test terminal of `size` and returns the screen's text.
fn draw(app: &mut App, size: (u16, u16)) -> String {
    let before = app.size;
    app.update(Event::Resize(size.0, size.1));
    let mut terminal = ratatui::Terminal::new(ratatui::backend::TestBackend::new(size.0, size.1))
        .expect("terminal");
    terminal
        .draw(|f| hpc_tutor::tui::view::draw(app, f))
        .expect("draws");
    app.update(Event::Resize(before.0, before.1));
    let buffer = terminal.backend().buffer().clone();
    let mut text = String::new();
    for y in 0..buffer.area.height {
        for x in 0..buffer.area.width {
            text.push_str(buffer[(x, y)].symbol());
        }
        text.push('\n');
    }
    text
}

#[test]
fn every_lesson_works_end_to_end_from_the_tutor() {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons load");
    assert!(set.broken.is_empty(), "no broken built-in lesson");
    assert!(set.lessons.len() >= 10);
    let home = tempfile::tempdir().expect("temp dir");
    // One tutor for the whole walk, as one learner's session: what one lesson leaves behind
    // (forms, runs in the store) is there when the next opens.
    let mut walk = Walk::new(&set, home.path());
    for (idx, lesson) in set.lessons.iter().enumerate() {
        walk.open_lesson(&set, idx);
        for i in 0..lesson.checks.len() {
            walk.answer_check(lesson, i);
        }
        for j in 0..lesson.puzzles.len() {
            walk.play_puzzle(lesson, j);
        }
        for k in 0..lesson.experiments.len() {
            walk.walk_experiment(lesson, k);
        }
        for j in 0..lesson.programs.len() {
            walk.walk_program(lesson, j);
        }
        for check in &lesson.checks {
            walk.compare_prediction(lesson, check);
        }
        walk.export_card(lesson);
    }
    eprintln!("{}", walk.log.join("\n"));
}
