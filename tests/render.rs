//! Rendering with ratatui's `TestBackend`, compared with insta snapshots at 80x24 and 120x40.

mod common;

use common::{app_with, ch, fixture_set, key, typed, valid_app};
use hpc_tutor::progress::Progress;
use hpc_tutor::tui::App;
use hpc_tutor::tui::view::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::KeyCode;

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn render(app: &App) -> String {
    let mut terminal =
        Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("test terminal");
    terminal.draw(|f| draw(app, f)).expect("draw");
    terminal.backend().to_string()
}

fn snapshot(name: &str, setup: impl Fn(&mut App)) {
    for (w, h) in SIZES {
        let mut app = valid_app((w, h));
        setup(&mut app);
        insta::assert_snapshot!(format!("{name}_{w}x{h}"), render(&app));
    }
}

#[test]
fn catalogue() {
    snapshot("catalogue", |_| {});
}

#[test]
fn catalogue_with_progress_marks() {
    snapshot("catalogue_progress", |app| {
        // Read alpha to the end and answer both checks right; open beta only.
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::End));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Enter));
        app.update(ch('2'));
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        typed(app, "2.29");
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Esc));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Esc));
    });
}

#[test]
fn reader() {
    snapshot("reader", |app| {
        app.update(key(KeyCode::Enter));
    });
}

#[test]
fn reader_scrolled_with_panel_focus() {
    snapshot("reader_panel", |app| {
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::PageDown));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Down));
    });
}

#[test]
fn choice_check_answered_wrong() {
    snapshot("check_choice_wrong", |app| {
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Enter));
        app.update(ch('3'));
    });
}

#[test]
fn numeric_check_being_typed() {
    snapshot("check_numeric_typing", |app| {
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        typed(app, "2.2");
    });
}

#[test]
fn help_overlays() {
    snapshot("help_catalogue", |app| {
        app.update(ch('?'));
    });
    snapshot("help_reader", |app| {
        app.update(key(KeyCode::Enter));
        app.update(ch('?'));
    });
}

#[test]
fn hint_overlay() {
    snapshot("hint", |app| {
        app.update(key(KeyCode::Enter));
        app.update(ch('h'));
    });
}

#[test]
fn hint_with_markdown() {
    let mut app = valid_app((80, 24));
    app.update(key(KeyCode::Enter));
    app.update(ch('h'));
    app.update(ch('h'));
    let screen = render(&app);
    assert!(
        screen.contains("│Two workers cannot beat a speedup of 2: with s = 0, S(2) = 2  │"),
        "code without backticks, the soft break joined: {screen}"
    );
    assert!(
        screen.contains("│is the best case."),
        "reflowed, emphasis without its marks: {screen}"
    );
    assert!(!screen.contains('`'), "{screen}");
    insta::assert_snapshot!("hint_markdown_80x24", screen);
}

/// The instructor notes of a lesson whose notes have inline code, emphasis and a `- `
/// list: rendered as the lesson text is, reflowed to the window.
#[test]
fn notes_overlay_renders_markdown() {
    let mut app = valid_app((80, 24));
    app.update(key(KeyCode::Enter));
    app.update(ch('n'));
    let screen = render(&app);
    assert!(!screen.contains('`'), "no backticks: {screen}");
    assert!(!screen.contains("*most*"), "no emphasis marks: {screen}");
    assert!(
        screen
            .contains("│• 'More workers always help.' With s = 0.05 the speedup never passes 20,"),
        "a bulleted item: {screen}"
    );
    assert!(
        screen.contains("│  however many workers you add."),
        "with a hanging indent: {screen}"
    );
    insta::assert_snapshot!("notes_80x24", screen);
}

#[test]
fn reader_panel_with_an_experiment() {
    let app = app_with(
        fixture_set("valid"),
        Progress::default(),
        (80, 24),
        Some("beta"),
    );
    let screen = render(&app);
    assert!(screen.contains(" x     open the experiment"), "{screen}");
    insta::assert_snapshot!("reader_experiment_80x24", screen);
}

#[test]
fn too_small() {
    for (w, h) in [(79, 24), (100, 10), (40, 12)] {
        let app = valid_app((w, h));
        insta::assert_snapshot!(format!("too_small_{w}x{h}"), render(&app));
    }
}

#[test]
fn broken_lesson_in_catalogue() {
    for (w, h) in SIZES {
        let mut app = app_with(fixture_set("invalid"), Progress::default(), (w, h), None);
        app.update(key(KeyCode::End));
        insta::assert_snapshot!(format!("broken_{w}x{h}"), render(&app));
    }
}

#[test]
fn experiment_screen_with_a_finished_run() {
    for (w, h) in SIZES {
        let mut app = app_with(
            fixture_set("valid"),
            common::predicted(),
            (w, h),
            Some("beta"),
        );
        app.update(ch('x'));
        let hpc_tutor::tui::Effect::StartRun { id, .. } = app.update(ch('r')) else {
            panic!("starts")
        };
        for r in common::amdahl_records() {
            app.update(hpc_tutor::tui::Event::Run(
                id,
                hpc_tutor::tui::app::RunEvent::Record(Box::new(r)),
            ));
        }
        insta::assert_snapshot!(format!("experiment_done_{w}x{h}"), render(&app));
        app.update(ch('?'));
        insta::assert_snapshot!(format!("help_experiment_{w}x{h}"), render(&app));
    }
}

#[test]
fn experiment_screen_mid_run() {
    for (w, h) in SIZES {
        let mut app = app_with(
            fixture_set("valid"),
            common::predicted(),
            (w, h),
            Some("beta"),
        );
        app.update(ch('x'));
        let hpc_tutor::tui::Effect::StartRun { id, .. } = app.update(ch('r')) else {
            panic!("starts")
        };
        // The run record, the 1-worker point and one repetition at 2 workers.
        for r in common::amdahl_records().into_iter().take(6) {
            app.update(hpc_tutor::tui::Event::Run(
                id,
                hpc_tutor::tui::app::RunEvent::Record(Box::new(r)),
            ));
        }
        insta::assert_snapshot!(format!("experiment_running_{w}x{h}"), render(&app));
    }
}

#[test]
fn prediction_compared_with_the_measurement() {
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        (100, 30),
        Some("beta"),
    );
    app.latest
        .insert("amdahl".into(), vec![common::amdahl_records()]);
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "1.54");
    app.update(key(KeyCode::Enter));
    let screen = render(&app);
    assert!(
        screen.contains("Measured on this machine: speedup at 2 workers = 1.470"),
        "{screen}"
    );
    assert!(screen.contains("You predicted 1.540"), "{screen}");
    insta::assert_snapshot!("prediction_100x30", screen);
}

/// The beta lesson's amdahl screen with the workers field typed as `workers`.
fn amdahl_with_workers(size: (u16, u16), workers: &str) -> App {
    let mut app = app_with(
        fixture_set("valid"),
        common::predicted(),
        size,
        Some("beta"),
    );
    app.update(ch('x'));
    app.update(key(KeyCode::Enter));
    for _ in 0..8 {
        app.update(key(KeyCode::Backspace));
    }
    typed(&mut app, workers);
    app.update(key(KeyCode::Enter));
    app
}

#[test]
fn advice_panel_for_an_oversubscribed_form() {
    for (w, h) in SIZES {
        let app = amdahl_with_workers((w, h), "1,2,8");
        let screen = render(&app);
        assert!(screen.contains("8 threads asked for"), "{screen}");
        assert!(screen.contains("#SBATCH --cpus-per-task=8"), "{screen}");
        insta::assert_snapshot!(format!("advice_{w}x{h}"), screen);
    }
}

#[test]
fn job_script_overlay() {
    for (w, h) in SIZES {
        let mut app = amdahl_with_workers((w, h), "1,2");
        app.update(ch('b'));
        let screen = render(&app);
        assert!(screen.contains("is a GUESS"), "{screen}");
        insta::assert_snapshot!(format!("job_script_guess_{w}x{h}"), screen);
    }
    // Measured on this screen, scrolled to the end.
    let mut app = amdahl_with_workers((120, 40), "1,2");
    let hpc_tutor::tui::Effect::StartRun { id, .. } = app.update(ch('r')) else {
        panic!("starts")
    };
    for r in common::amdahl_records() {
        app.update(hpc_tutor::tui::Event::Run(
            id,
            hpc_tutor::tui::app::RunEvent::Record(Box::new(r)),
        ));
    }
    app.update(ch('b'));
    app.update(key(KeyCode::End));
    let screen = render(&app);
    assert!(screen.contains("✓ --time 00:05:00 = 2 × the"), "{screen}");
    insta::assert_snapshot!("job_script_measured_120x40", screen);
}

fn results_app(size: (u16, u16)) -> App {
    let dir = std::path::Path::new("tests/fixtures/results/amdahl-array");
    let entries = hpc_tutor::tui::load_result_entries(dir).expect("fixture results load");
    let mut app = valid_app(size);
    app.open_results(dir, entries);
    app
}

#[test]
fn results_list_and_chart() {
    for (w, h) in SIZES {
        let mut app = results_app((w, h));
        let list = render(&app);
        assert!(list.contains("Results measured earlier"), "{list}");
        insta::assert_snapshot!(format!("results_list_{w}x{h}"), list);
        app.update(key(KeyCode::Enter));
        let chart = render(&app);
        assert!(chart.contains("Measured by batch jobs"), "{chart}");
        assert!(
            chart.contains("from batch jobs ─"),
            "the chart says so too: {chart}"
        );
        assert!(chart.contains("from 2 files in"), "{chart}");
        insta::assert_snapshot!(format!("results_chart_{w}x{h}"), chart);
        app.update(ch('?'));
        insta::assert_snapshot!(format!("help_results_{w}x{h}"), render(&app));
    }
}

/// The experiment screen of the built-in lesson `lesson` after a run that wrote the records
/// of the results file `fixture` (under `tests/fixtures/results/`), with the choice fields
/// `choices` (name, times Right) set in the form first, as the run was made.
fn experiment_after(
    lesson: &str,
    fixture: &str,
    choices: &[(&str, usize)],
    size: (u16, u16),
) -> String {
    let set = hpc_tutor::lesson::LessonSet::load(&hpc_tutor::lesson::LessonSource::BuiltIn)
        .expect("built-in lessons");
    let mut app = app_with(set, Progress::default(), size, Some(lesson));
    app.update(ch('x'));
    for (name, right) in choices {
        let hpc_tutor::tui::app::Screen::Experiment {
            name: experiment, ..
        } = &app.screen
        else {
            panic!("the experiment screen")
        };
        let view = &app.experiments[experiment.as_str()];
        let at = view
            .fields
            .iter()
            .position(|f| f.name == *name)
            .expect("a field of that name");
        let from = view.selected;
        for _ in from..at {
            app.update(key(KeyCode::Down));
        }
        for _ in 0..*right {
            app.update(key(KeyCode::Right));
        }
    }
    let hpc_tutor::tui::Effect::StartRun { id, .. } = app.update(ch('r')) else {
        panic!("starts")
    };
    let path = std::path::Path::new("tests/fixtures/results").join(fixture);
    for r in hpc_tutor::record::store::load(&path).expect("fixture loads") {
        app.update(hpc_tutor::tui::Event::Run(
            id,
            hpc_tutor::tui::app::RunEvent::Record(Box::new(r)),
        ));
    }
    render(&app)
}

#[test]
fn a_deadlocked_run_shows_its_wait_for_graph() {
    for (w, h) in SIZES {
        let screen = experiment_after("lock-deadlock", "locks-deadlock.jsonl", &[], (w, h));
        insta::assert_snapshot!(format!("experiment_deadlock_{w}x{h}"), screen);
    }
}

#[test]
fn an_eager_sweep_shows_its_size_chart() {
    // Its deadlocked sizes have diagnoses, but the run measured points: the size chart,
    // with the deadlocked sizes as ✗, as `export --run` and the lesson card draw it.
    for (w, h) in SIZES {
        let screen = experiment_after(
            "mpi-deadlock",
            "exchange-eager-sweep.jsonl",
            &[("sweep", 1)],
            (w, h),
        );
        insta::assert_snapshot!(format!("experiment_eager_sweep_{w}x{h}"), screen);
    }
}
