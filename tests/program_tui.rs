//! The "Your program" screen in the tutor (`App::update`, no terminal): opened from the
//! catalogue with `p`, its recent commands, and a lesson's own program — which, for a lesson
//! loaded from a folder, runs only once the learner has seen its command and said yes.

mod common;

use common::{app_with, ch, fixture_set, key, typed};
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::progress::Progress;
use hpc_tutor::tui::app::{Effect, Overlay, Screen};
use ratatui::crossterm::event::KeyCode;

const SIZE: (u16, u16) = (100, 30);

fn field<'a>(app: &'a hpc_tutor::tui::App, name: &str) -> &'a str {
    app.experiments["program"].value(name).unwrap_or_default()
}

#[test]
fn p_opens_your_program_from_the_catalogue_and_remembers_its_commands() {
    let mut app = app_with(fixture_set("valid"), Progress::default(), SIZE, None);
    assert!(matches!(app.screen, Screen::Catalogue));
    assert_eq!(app.update(ch('p')), Effect::Redraw);
    assert!(
        matches!(&app.screen, Screen::Experiment { name, back: None } if name == "program"),
        "{:?}",
        app.screen
    );
    // The command field is selected and empty: r marks it instead of running nothing.
    assert_eq!(app.update(ch('r')), Effect::Redraw);
    assert!(app.running.is_none());
    let view = &app.experiments["program"];
    assert!(
        view.fields[view.selected]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("give the command")),
        "{:?}",
        view.fields[view.selected]
    );

    app.update(key(KeyCode::Enter));
    typed(&mut app, "python3 pool.py --workers {workers}");
    app.update(key(KeyCode::Enter));
    let Effect::StartRun { request, .. } = app.update(ch('r')) else {
        panic!("r starts the run")
    };
    let args = request.child_args();
    assert_eq!(
        &args[..4],
        [
            "run",
            "--exec",
            "python3 pool.py --workers {workers}",
            "--backend"
        ]
    );
    assert_eq!(
        app.progress.recent_commands,
        ["python3 pool.py --workers {workers}"]
    );
    // The exact command line, before and while it runs.
    let preview = app.experiments["program"]
        .command_preview(2)
        .expect("a preview");
    assert!(
        preview.ends_with("python3 pool.py --workers 1"),
        "{preview}"
    );

    // Back to the catalogue; a new session brings the command back with ← →.
    app.update(ch('c'));
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.screen, Screen::Catalogue));
    let mut progress = app.progress.clone();
    progress.remember_command("./a.out {workers}");
    let mut app = app_with(fixture_set("valid"), progress, SIZE, None);
    app.update(ch('p'));
    assert_eq!(field(&app, "command"), "./a.out {workers}");
    app.update(key(KeyCode::Right));
    assert_eq!(
        field(&app, "command"),
        "python3 pool.py --workers {workers}"
    );
    app.update(key(KeyCode::Right));
    assert_eq!(field(&app, "command"), "./a.out {workers}");
}

fn folder_app(progress: Progress) -> hpc_tutor::tui::App {
    let set = LessonSet::load(&LessonSource::Directory(
        "tests/fixtures/lessons/programs".into(),
    ))
    .expect("the fixture loads");
    assert!(set.broken.is_empty(), "{:?}", set.broken);
    app_with(set, progress, SIZE, Some("hello"))
}

/// Opens the lesson's program from its panel (the check, then the program) and presses r.
fn open_and_run(app: &mut hpc_tutor::tui::App) -> Effect {
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    assert_eq!(app.update(ch('x')), Effect::Redraw);
    assert!(matches!(&app.screen, Screen::Experiment { name, back: Some(_) } if name == "program"));
    app.update(ch('r'))
}

#[test]
fn a_folder_lessons_program_runs_once_the_learner_says_yes() {
    let mut app = folder_app(common::predicted());
    let effect = open_and_run(&mut app);
    // The form is the lesson's: its file, interpreter, backend and name.
    let command = field(&app, "command").to_owned();
    assert!(
        command.starts_with("sh ")
            && command.contains("tests/fixtures/lessons/programs/programs/hello.sh"),
        "{command}"
    );
    assert_eq!(field(&app, "backend"), "processes");
    assert_eq!(field(&app, "name"), "hello");
    // Not run: the learner is shown the command first.
    assert_eq!(effect, Effect::Redraw);
    assert!(app.running.is_none());
    let Some(Overlay::ConfirmProgram { command: shown, .. }) = &app.overlay else {
        panic!("asks first: {:?}", app.overlay)
    };
    assert_eq!(*shown, command);
    // No: nothing runs, and it is asked again next time.
    app.update(ch('n'));
    assert!(app.overlay.is_none() && app.running.is_none());
    app.update(ch('r'));
    assert!(matches!(app.overlay, Some(Overlay::ConfirmProgram { .. })));
    // Yes: the prediction comes first (the lesson's check is about this program), then
    // the run.
    let effect = app.update(ch('y'));
    assert!(app.progress.approved_programs.contains(&command));
    let started = match effect {
        Effect::StartRun { request, .. } => Some(request),
        _ => None,
    };
    let request = match started {
        Some(r) => r,
        None => {
            assert!(
                matches!(app.overlay, Some(Overlay::Check(_))),
                "the prediction is asked: {:?}",
                app.overlay
            );
            typed(&mut app, "1");
            app.update(key(KeyCode::Enter));
            let Effect::StartRun { request, .. } = app.update(key(KeyCode::Esc)) else {
                panic!("the run starts once the prediction closes")
            };
            request
        }
    };
    assert_eq!(request.params.text("name"), Some("hello"));

    // Asked once: a new session with the same progress runs at once.
    let mut again = folder_app(app.progress.clone());
    let effect = open_and_run(&mut again);
    assert!(
        matches!(effect, Effect::StartRun { .. })
            || matches!(again.overlay, Some(Overlay::Check(_))),
        "{effect:?} {:?}",
        again.overlay
    );
    assert!(!matches!(
        again.overlay,
        Some(Overlay::ConfirmProgram { .. })
    ));
}

#[test]
fn built_in_lesson_programs_never_ask() {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built in");
    let gil = set
        .lessons
        .iter()
        .find(|l| l.id == "python-gil")
        .expect("the GIL lesson")
        .clone();
    assert!(gil.programs.len() >= 2);
    // The built-in program is written to the data folder to run (tests/run.sh points
    // HPC_TUTOR_DATA_DIR at a folder of the test run's own).
    let mut app = app_with(set, common::predicted(), SIZE, Some("python-gil"));
    let panel = gil.checks.len() + gil.puzzles.len() + gil.experiments.len();
    app.update(key(KeyCode::Tab));
    for _ in 0..panel {
        app.update(key(KeyCode::Down));
    }
    assert_eq!(app.update(ch('x')), Effect::Redraw);
    assert_eq!(field(&app, "name"), gil.programs[0].id);
    let effect = app.update(ch('r'));
    assert!(!matches!(app.overlay, Some(Overlay::ConfirmProgram { .. })));
    assert!(
        matches!(effect, Effect::StartRun { .. }) || matches!(app.overlay, Some(Overlay::Check(_))),
        "{effect:?}"
    );
}
