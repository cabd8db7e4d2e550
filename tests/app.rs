//! `App::update` without a terminal: navigation, checks, progress, resume, signals.

mod common;

use common::{app_with, ch, fixture_set, key, predicted, typed, valid_app};
use hpc_tutor::lesson::Answer;
use hpc_tutor::progress::Progress;
use hpc_tutor::tui::app::{CheckDialog, Focus, Io, LessonState, Loaded, Overlay, Row, Screen};
use hpc_tutor::tui::{Effect, Event, StopSignal};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

const SIZE: (u16, u16) = (100, 30);

fn reader(app: &hpc_tutor::tui::App) -> &hpc_tutor::tui::app::Reader {
    match &app.screen {
        Screen::Reader(r) => r,
        _ => panic!("expected the reader"),
    }
}

#[test]
fn catalogue_moves_over_lessons_and_skips_track_headings() {
    let mut app = valid_app(SIZE);
    assert_eq!(app.rows[app.selected_row], Row::Lesson(0));
    assert_eq!(app.update(key(KeyCode::Down)), Effect::Redraw);
    assert_eq!(
        app.rows[app.selected_row],
        Row::Lesson(1),
        "skipped the Scaling heading"
    );
    app.update(ch('j'));
    assert_eq!(app.rows[app.selected_row], Row::Lesson(2));
    assert_eq!(
        app.update(ch('j')),
        Effect::None,
        "already at the end: nothing to redraw"
    );
    app.update(key(KeyCode::Home));
    assert_eq!(app.rows[app.selected_row], Row::Lesson(0));
    app.update(key(KeyCode::End));
    assert_eq!(app.rows[app.selected_row], Row::Lesson(2));
    app.update(ch('k'));
    assert_eq!(app.rows[app.selected_row], Row::Lesson(1));
}

#[test]
fn opening_reading_to_the_end_and_going_back() {
    let mut app = valid_app(SIZE);
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Save);
    assert_eq!(reader(&app).scroll, 0);
    assert_eq!(app.progress.last_lesson.as_deref(), Some("alpha"));
    let alpha = app.lessons.lessons[0].clone();
    assert_eq!(app.lesson_state(&alpha), LessonState::Started);

    app.update(key(KeyCode::Down));
    assert_eq!(reader(&app).scroll, 1);
    app.update(key(KeyCode::Up));
    app.update(key(KeyCode::Up));
    assert_eq!(reader(&app).scroll, 0, "never above the top");
    // Reaching the end marks the lesson read, and that is saved at once.
    assert_eq!(app.update(key(KeyCode::End)), Effect::Save);
    assert_eq!(app.lesson_state(&alpha), LessonState::Read);
    let end = reader(&app).scroll;
    assert!(end > 0);
    assert_eq!(
        app.update(key(KeyCode::PageDown)),
        Effect::None,
        "already at the end"
    );
    app.update(key(KeyCode::PageUp));
    assert!(reader(&app).scroll < end);
    app.update(ch('g'));
    assert_eq!(reader(&app).scroll, 0);

    assert_eq!(app.update(key(KeyCode::Esc)), Effect::Save);
    assert_eq!(app.screen, Screen::Catalogue);
    assert_eq!(app.progress.last_lesson, None);
}

#[test]
fn answering_checks_records_answers_and_completes_the_lesson() {
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Tab));
    assert_eq!(reader(&app).focus, Focus::Panel);

    // A wrong choice, then a retry with the right one.
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Check(_))));
    assert_eq!(app.update(ch('1')), Effect::Save);
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("dialog stays open")
    };
    assert_eq!(d.result, Some(false));
    app.update(ch('r'));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("dialog stays open")
    };
    assert_eq!(d.result, Some(true));
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay, None);

    // The numeric check: junk is refused with a message, then a number within tolerance.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "..");
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Redraw);
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("open")
    };
    assert_eq!(d.error.as_deref(), Some("`..` is not a number"));
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    typed(&mut app, "2.3");
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Save);
    app.update(key(KeyCode::Esc));

    let answers = &app.progress.lessons["alpha"].answers;
    assert_eq!(answers["limit"], Answer::Choice("20".into()));
    assert_eq!(answers["s4"], Answer::Number(2.3));
    let alpha = app.lessons.lessons[0].clone();
    assert_eq!(app.lesson_state(&alpha), LessonState::Complete);
}

#[test]
fn reopening_a_check_shows_the_previous_answer() {
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "7");
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Enter));
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("open")
    };
    assert_eq!(d.input, "7");
    assert_eq!(d.result, None);
}

#[test]
fn answering_again_starts_empty_and_percentages_are_read_as_fractions() {
    // beta's first check: "A speedup of 1.8 on 2 workers is what efficiency?" → 0.9.
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        SIZE,
        Some("beta"),
    );
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "90 %");
    app.update(key(KeyCode::Enter));
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("open")
    };
    assert_eq!(d.result, Some(true), "90 % is 0.9");
    assert_eq!(
        d.note.as_deref(),
        Some("90 % was read as the fraction 0.9.")
    );
    // r answers again, from an empty input.
    app.update(ch('r'));
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("open")
    };
    assert_eq!((d.input.as_str(), d.result), ("", None));
    // 90 without the % is wrong, and the dialog says why.
    typed(&mut app, "90");
    app.update(key(KeyCode::Enter));
    let Some(Overlay::Check(d)) = &app.overlay else {
        panic!("open")
    };
    assert_eq!(d.result, Some(false));
    assert!(
        d.note
            .as_deref()
            .is_some_and(|n| n.contains("asks for a fraction: 90 % is 0.9")),
        "{:?}",
        d.note
    );
}

/// `update` does no I/O: opening a lesson asks for its experiments' recent runs, and `o`
/// for the stored runs to compare with, as requests the event loop carries out off the UI
/// thread; the answers arrive as events.
#[test]
fn store_look_ups_are_requests_answered_by_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = hpc_tutor::record::store::Store::in_dir(dir.path().join("results"));
    let mut w = store.create("r1").expect("create");
    for r in common::amdahl_records() {
        w.append(&r).expect("append");
    }
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        SIZE,
        Some("beta"),
    )
    .with_store(Some(store.clone()));
    let asked = app.take_io();
    assert_eq!(asked, [Io::RecentRuns("amdahl".into())]);
    assert!(app.latest.is_empty(), "nothing read yet");
    app.update(Event::Loaded(asked[0].run(Some(&store))));
    assert_eq!(app.latest["amdahl"].len(), 1);

    app.update(ch('x'));
    assert_eq!(app.update(ch('o')), Effect::Redraw);
    assert!(app.overlay.is_none(), "the window waits for the look-up");
    let asked = app.take_io();
    assert_eq!(asked, [Io::History("amdahl".into())]);
    app.update(Event::Loaded(asked[0].run(Some(&store))));
    assert!(matches!(&app.overlay, Some(Overlay::History { runs, .. }) if runs.len() == 1));
}

#[test]
fn hints_cycle_and_notes_show() {
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    app.update(ch('h'));
    assert_eq!(app.overlay, Some(Overlay::Hint(0)));
    app.update(ch('h'));
    assert_eq!(app.overlay, Some(Overlay::Hint(1)));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay, None);
    app.update(ch('n'));
    assert_eq!(app.overlay, Some(Overlay::Notes));
    app.update(key(KeyCode::Esc));
    // A lesson without hints or notes says so in the status bar.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::End));
    app.update(key(KeyCode::Enter));
    app.update(ch('h'));
    assert_eq!(app.overlay, None);
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("this lesson has no hints")
    );
    // The message goes with the next key.
    app.update(key(KeyCode::Down));
    assert_eq!(app.status, None);
}

#[test]
fn help_opens_and_closes_on_every_screen() {
    let mut app = valid_app(SIZE);
    for _ in 0..2 {
        assert_eq!(app.update(ch('?')), Effect::Redraw);
        assert_eq!(app.overlay, Some(Overlay::Help));
        assert_eq!(app.update(ch('?')), Effect::Redraw);
        assert_eq!(app.overlay, None);
        app.update(ch('?'));
        app.update(key(KeyCode::Esc));
        assert_eq!(app.overlay, None);
        app.update(key(KeyCode::Enter));
    }
    assert!(matches!(app.screen, Screen::Reader(_)));
}

#[test]
fn quitting_saves_the_place_and_resume_restores_it() {
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    for _ in 0..5 {
        app.update(key(KeyCode::Down));
    }
    assert_eq!(app.update(ch('q')), Effect::Quit(0));
    let saved = app.progress.clone();
    assert_eq!(saved.last_lesson.as_deref(), Some("alpha"));
    assert_eq!(saved.lessons["alpha"].scroll, 5);

    let again = app_with(fixture_set("valid"), saved.clone(), SIZE, None);
    assert_eq!(reader(&again).scroll, 5, "same place");
    assert_eq!(again.lessons.lessons[reader(&again).lesson].id, "alpha");

    // At another width the text wraps differently; the place is kept proportionally.
    let wide = app_with(fixture_set("valid"), saved, (160, 30), None);
    assert!(reader(&wide).scroll <= 5);
}

#[test]
fn signals_and_ctrl_c_quit_with_the_right_status_after_syncing_progress() {
    for (sig, code) in [
        (StopSignal::Terminate, 143),
        (StopSignal::Hangup, 129),
        (StopSignal::Interrupt, 130),
    ] {
        let mut app = valid_app(SIZE);
        app.update(key(KeyCode::Enter));
        app.update(key(KeyCode::Down));
        assert_eq!(app.update(Event::Signal(sig)), Effect::Quit(code));
        assert_eq!(app.progress.lessons["alpha"].scroll, 1);
    }
    let mut app = valid_app(SIZE);
    let ctrl_c = Event::Key(KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL));
    assert_eq!(app.update(ctrl_c), Effect::Quit(0));
}

#[test]
fn open_at_a_lesson_and_too_small_terminal() {
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        SIZE,
        Some("beta"),
    );
    assert_eq!(app.current_lesson().map(|l| l.id.as_str()), Some("beta"));
    assert_eq!(app.update(Event::Resize(60, 20)), Effect::Redraw);
    assert!(app.too_small());
    assert_eq!(
        app.update(key(KeyCode::Down)),
        Effect::None,
        "keys wait for a usable size"
    );
    assert_eq!(app.update(ch('q')), Effect::Quit(0), "but q still quits");
}

#[test]
fn resize_rewraps_and_keeps_scroll_in_range() {
    let mut app = valid_app((80, 24));
    app.update(key(KeyCode::Enter));
    let narrow = reader(&app).lines.len();
    app.update(key(KeyCode::End));
    app.update(Event::Resize(200, 60));
    let r = reader(&app);
    assert!(r.lines.len() < narrow, "wider text takes fewer lines");
    assert!(r.scroll < r.lines.len());
}

#[test]
fn broken_lessons_show_their_problems() {
    let mut app = app_with(fixture_set("invalid"), Progress::default(), SIZE, None);
    assert!(app.status.as_ref().is_some_and(|s| s.warning));
    app.update(key(KeyCode::End));
    assert!(matches!(app.rows[app.selected_row], Row::Broken(_)));
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.overlay, Some(Overlay::Problems(_))));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.overlay, None);
}

fn run_event(id: u64, r: hpc_tutor::record::Record) -> Event {
    Event::Run(id, hpc_tutor::tui::app::RunEvent::Record(Box::new(r)))
}

#[test]
fn experiment_screen_starts_streams_and_ends_a_run() {
    use hpc_tutor::tui::experiment::RunState;
    let mut app = app_with(fixture_set("valid"), predicted(), SIZE, Some("beta"));
    assert_eq!(app.update(ch('x')), Effect::Redraw);
    assert!(matches!(&app.screen, Screen::Experiment { name, .. } if name == "amdahl"));
    // The form starts from the lesson's preset.
    let view = &app.experiments["amdahl"];
    assert_eq!(view.fields[0].value, "1,2");
    assert_eq!(view.fields[1].value, "3");

    let Effect::StartRun { id, request } = app.update(ch('r')) else {
        panic!("starts a run")
    };
    let args = request.child_args();
    assert_eq!(&args[..2], ["run", "amdahl"]);
    assert!(args.ends_with(&["--format", "json", "--no-store"].map(str::to_owned)));
    assert!(args.windows(2).any(|w| w == ["--param", "serial=0.3"]));
    assert_eq!(app.running.as_ref().map(|r| r.0), Some(id));
    // While it runs, r does nothing and c cancels.
    assert_eq!(app.update(ch('r')), Effect::None);
    assert_eq!(app.update(ch('c')), Effect::CancelRun(id));

    let records = common::amdahl_records();
    let mut effects = Vec::new();
    for r in records.iter().cloned() {
        effects.push(app.update(run_event(id, r)));
    }
    assert!(
        effects.iter().all(|e| *e == Effect::Redraw),
        "the visible run redraws"
    );
    app.update(Event::Run(
        id,
        hpc_tutor::tui::app::RunEvent::Exited {
            code: Some(0),
            stderr: vec![],
        },
    ));
    let run = app.experiments["amdahl"].run.as_ref().expect("a run");
    assert_eq!(run.state, RunState::Ended(hpc_tutor::record::Status::Ok));
    assert_eq!(run.records.len(), records.len());
    assert_eq!(app.running, None);
    assert!(app.latest.contains_key("amdahl"), "kept for predictions");

    // Back to the lesson; the prediction check now shows the measurement.
    assert_eq!(app.update(key(KeyCode::Esc)), Effect::Redraw);
    assert!(matches!(app.screen, Screen::Reader(_)));
    let lesson = app.current_lesson().expect("open").clone();
    let predict = lesson
        .checks
        .iter()
        .find(|c| c.id == "predict")
        .expect("check");
    assert_eq!(app.measurement_for(predict), Some(1.47));
}

#[test]
fn a_crashed_run_is_reported_and_a_bad_form_starts_nothing() {
    use hpc_tutor::tui::app::RunEvent;
    use hpc_tutor::tui::experiment::RunState;
    let mut app = app_with(fixture_set("valid"), predicted(), SIZE, Some("beta"));
    app.update(ch('x'));
    // Make the worker list invalid: nothing starts, the field says why.
    app.update(key(KeyCode::Enter));
    typed(&mut app, ",0");
    app.update(key(KeyCode::Enter));
    assert_eq!(app.update(ch('r')), Effect::Redraw);
    assert!(app.experiments["amdahl"].fields[0].error.is_some());
    assert_eq!(app.running, None);
    // Fix it and run; the process dies without an end record.
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Backspace));
    app.update(key(KeyCode::Enter));
    let Effect::StartRun { id, .. } = app.update(ch('r')) else {
        panic!("starts")
    };
    app.update(run_event(id, common::amdahl_records()[0].clone()));
    app.update(Event::Run(
        id,
        RunEvent::Exited {
            code: Some(101),
            stderr: vec!["thread 'main' panicked".into()],
        },
    ));
    let run = app.experiments["amdahl"].run.as_ref().expect("run");
    assert!(
        matches!(&run.state, RunState::Failed(m) if m.contains("101")),
        "{:?}",
        run.state
    );
    assert_eq!(run.stderr, ["thread 'main' panicked"]);
    assert_eq!(app.running, None);
}

#[test]
fn experiments_from_the_panel_and_chart_switching() {
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        SIZE,
        Some("beta"),
    );
    app.update(key(KeyCode::Tab));
    // Two checks, then the experiment.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    assert!(matches!(app.screen, Screen::Experiment { .. }));
    let before = app.experiments["amdahl"].metric;
    app.update(ch('v'));
    assert_ne!(app.experiments["amdahl"].metric, before);
    // A lesson without experiments says so.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Home));
    app.update(key(KeyCode::Enter));
    app.update(ch('x'));
    assert_eq!(
        app.status.as_ref().map(|s| s.text.as_str()),
        Some("this lesson has no experiment")
    );
}

#[test]
fn r_in_the_reader_runs_the_lessons_experiment() {
    let mut app = app_with(fixture_set("valid"), predicted(), SIZE, Some("beta"));
    let Effect::StartRun { request, .. } = app.update(ch('r')) else {
        panic!("starts a run")
    };
    assert_eq!(request.experiment.name, "amdahl");
    assert!(matches!(app.screen, Screen::Experiment { .. }));
    // A lesson without an experiment says so.
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    assert_eq!(app.update(ch('r')), Effect::Redraw);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.contains("no experiment"))
    );
}

/// Every shipped puzzle is solved with keys only, following the shortest schedule the
/// exhaustive search finds; solved puzzles are kept in progress and survive a restart.
#[test]
fn every_shipped_puzzle_can_be_solved_with_keys_and_stays_solved() {
    use hpc_tutor::lesson::{LessonSet, LessonSource};
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    let with_puzzles: Vec<(String, Vec<hpc_tutor::puzzle::Puzzle>)> = set
        .lessons
        .iter()
        .filter(|l| !l.puzzles.is_empty())
        .map(|l| (l.id.clone(), l.puzzles.clone()))
        .collect();
    assert!(
        with_puzzles.iter().map(|(_, p)| p.len()).sum::<usize>() >= 6,
        "at least six puzzles"
    );
    let mut progress = Progress::default();
    for (lesson, puzzles) in &with_puzzles {
        for (i, puzzle) in puzzles.iter().enumerate() {
            let mut app = app_with(set.clone(), progress.clone(), SIZE, Some(lesson));
            // Select the puzzle in the panel: after the lesson's checks.
            let checks = app.current_lesson().expect("open").checks.len();
            app.update(key(KeyCode::Tab));
            for _ in 0..checks + i {
                app.update(key(KeyCode::Down));
            }
            app.update(key(KeyCode::Enter));
            assert!(matches!(app.screen, Screen::Puzzle { .. }), "{}", puzzle.id);
            let result = hpc_tutor::puzzle::explore(puzzle, 200_000);
            let schedule = result
                .witness
                .unwrap_or_else(|| panic!("{} is solvable", puzzle.id));
            let mut last = Effect::None;
            for thread in schedule {
                let digit = char::from_digit(thread as u32 + 1, 10).expect("thread 1-9");
                app.update(ch(digit));
                last = app.update(key(KeyCode::Enter));
            }
            assert_eq!(
                last,
                Effect::Save,
                "{} is solved by its last step",
                puzzle.id
            );
            app.update(key(KeyCode::Esc));
            app.update(ch('q'));
            progress = app.progress.clone();
            assert!(progress.lessons[lesson].puzzles_solved.contains(&puzzle.id));
        }
    }
    // A restart (a new app from the saved progress) shows them solved.
    let app = app_with(set.clone(), progress, SIZE, None);
    for (lesson, puzzles) in &with_puzzles {
        let l = set.find(lesson).expect("lesson");
        for p in puzzles {
            assert!(app.puzzle_solved(l, &p.id), "{}", p.id);
        }
    }
}

// ----- on the cluster: advisor, job scripts, results of batch jobs ---------------------

/// The beta lesson's amdahl screen, with the workers field set to `workers` by keys.
fn amdahl_screen(workers: &str) -> hpc_tutor::tui::App {
    let mut app = app_with(fixture_set("valid"), predicted(), SIZE, Some("beta"));
    app.update(ch('x'));
    app.update(key(KeyCode::Enter));
    for _ in 0..8 {
        app.update(key(KeyCode::Backspace));
    }
    typed(&mut app, workers);
    app.update(key(KeyCode::Enter));
    app
}

fn job_script(app: &hpc_tutor::tui::App) -> &hpc_tutor::tui::app::JobScript {
    match &app.overlay {
        Some(Overlay::JobScript(js)) => js,
        other => panic!("expected the job-script window, got {other:?}"),
    }
}

#[test]
fn the_advisor_follows_the_form() {
    use hpc_tutor::cluster::advice::Kind;
    let mut app = amdahl_screen("1,2,8");
    let advice = |app: &hpc_tutor::tui::App| {
        let req = app.experiments["amdahl"]
            .advice_request()
            .expect("the form reads");
        app.system.advise(&req)
    };
    // Job 4242 gives 1 task × 2 CPUs: 8 threads are oversubscribed.
    let a = advice(&app);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].kind, Kind::ThreadsOversubscribed);
    assert!(
        a[0].sbatch
            .contains(&"#SBATCH --cpus-per-task=8".to_owned())
    );
    // While typing, the advice follows what is typed: 1,2 fits, 1 leaves a CPU idle.
    app.update(key(KeyCode::Enter));
    for _ in 0..2 {
        app.update(key(KeyCode::Backspace));
    }
    assert!(advice(&app).is_empty(), "1,2 fits the job");
    for _ in 0..2 {
        app.update(key(KeyCode::Backspace));
    }
    assert_eq!(app.experiments["amdahl"].fields[0].value, "1");
    assert_eq!(
        advice(&app).iter().map(|a| a.kind).collect::<Vec<_>>(),
        [Kind::IdleCpus]
    );
    // Something that is not a list of workers gives no advice (the field says what is wrong).
    typed(&mut app, ",x");
    assert!(app.experiments["amdahl"].advice_request().is_none());
}

#[test]
fn b_shows_the_job_script_with_a_guessed_time_until_the_sweep_is_measured() {
    let mut app = amdahl_screen("1,2");
    assert_eq!(app.update(ch('b')), Effect::Redraw);
    let js = job_script(&app);
    assert!(!js.measured);
    assert!(js.basis.contains("GUESS"), "{}", js.basis);
    assert_eq!(js.file_name, "amdahl-threads.sbatch");
    for line in [
        "#SBATCH --ntasks=1\n",
        "#SBATCH --cpus-per-task=2\n",
        "#SBATCH --time=01:00:00\n",
        "# --time: 01:00:00 is a GUESS",
        "  --workers 1,2 --reps 3 --warmup 1 \\\n",
        "  --param serial=0.3 \\\n",
        "  --param work=1000000 \\\n",
        "HPC_TUTOR=\"${HPC_TUTOR:-hpc-tutor}\"",
    ] {
        assert!(js.text.contains(line), "missing {line:?} in\n{}", js.text);
    }
    // Scrolling stays within the script; Esc closes.
    assert_eq!(app.update(key(KeyCode::Up)), Effect::None, "at the top");
    assert_eq!(app.update(ch('j')), Effect::Redraw);
    assert_eq!(job_script(&app).scroll, 1);
    app.update(key(KeyCode::End));
    let end = job_script(&app).scroll;
    assert!(end > 1);
    assert_eq!(
        app.update(key(KeyCode::PageDown)),
        Effect::None,
        "at the end"
    );
    app.update(ch('g'));
    assert_eq!(job_script(&app).scroll, 0);
    // ? shows the window's keys over it; any key goes back to the script.
    assert_eq!(app.update(ch('?')), Effect::Redraw);
    assert!(job_script(&app).help);
    assert_eq!(app.update(key(KeyCode::Esc)), Effect::Redraw);
    assert!(!job_script(&app).help, "back to the script, still open");
    // Long lines scroll sideways, and back.
    assert_eq!(app.update(key(KeyCode::Left)), Effect::None);
    assert_eq!(app.update(key(KeyCode::Right)), Effect::Redraw);
    assert_eq!(job_script(&app).hscroll, 8);
    app.update(key(KeyCode::Left));
    assert_eq!(job_script(&app).hscroll, 0);
    assert_eq!(app.update(key(KeyCode::Esc)), Effect::Redraw);
    assert_eq!(app.overlay, None);
    assert!(matches!(app.screen, Screen::Experiment { .. }));

    // After a run of this sweep on this screen, the time comes from it.
    let Effect::StartRun { id, .. } = app.update(ch('r')) else {
        panic!("starts")
    };
    for r in common::amdahl_records() {
        app.update(run_event(id, r));
    }
    app.update(ch('b'));
    let js = job_script(&app);
    assert!(js.measured, "{}", js.basis);
    assert!(
        js.basis
            .contains("by run 20261122-070000-1 made on this screen (node01)"),
        "{}",
        js.basis
    );
    assert!(js.text.contains("#SBATCH --time=00:05:00\n"), "{}", js.text);
    app.update(key(KeyCode::Esc));

    // Other parameters than the measured run: a guess again, never the other run's time.
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Down));
    app.update(key(KeyCode::Enter));
    typed(&mut app, "5");
    app.update(key(KeyCode::Enter));
    app.update(ch('b'));
    let js = job_script(&app);
    assert!(js.text.contains("--param serial=0.35"), "{}", js.text);
    assert!(!js.measured);
}

#[test]
fn w_writes_the_job_script_without_replacing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut app = amdahl_screen("1,2");
    app.work_dir = dir.path().to_owned();
    app.update(ch('b'));
    assert_eq!(app.update(ch('w')), Effect::Redraw);
    let first = dir.path().join("amdahl-threads.sbatch");
    let text = std::fs::read_to_string(&first).expect("written");
    assert_eq!(text, job_script(&app).text);
    assert_eq!(job_script(&app).written.as_deref(), Some(first.as_path()));
    let status = app.status.clone().expect("says where");
    assert_eq!(
        status.text,
        format!("job script written to {}", first.display())
    );
    // Again in the same window: already written.
    app.update(ch('w'));
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.text.starts_with("already written to")),
        "{:?}",
        app.status
    );
    // A new window writes a numbered copy, which names itself.
    app.update(key(KeyCode::Esc));
    app.update(ch('b'));
    app.update(ch('w'));
    let second = dir.path().join("amdahl-threads-2.sbatch");
    let text2 = std::fs::read_to_string(&second).expect("numbered copy");
    assert!(
        text2.contains("# Submit:  sbatch amdahl-threads-2.sbatch\n"),
        "{text2}"
    );
    assert_eq!(std::fs::read_to_string(&first).expect("kept"), text);
    // A folder that cannot be written to is a warning, not a crash.
    app.update(key(KeyCode::Esc));
    app.work_dir = dir.path().join("missing");
    app.update(ch('b'));
    app.update(ch('w'));
    assert!(
        app.status.as_ref().is_some_and(|s| s.warning),
        "{:?}",
        app.status
    );
    assert!(job_script(&app).written.is_none());
}

#[test]
fn a_bad_form_makes_no_job_script() {
    let mut app = amdahl_screen("0");
    assert_eq!(app.update(ch('b')), Effect::Redraw);
    assert_eq!(app.overlay, None);
    assert!(
        app.status
            .as_ref()
            .is_some_and(|s| s.warning && s.text.contains("fix the marked fields")),
        "{:?}",
        app.status
    );
    assert!(app.experiments["amdahl"].fields[0].error.is_some());
}

fn results_app() -> hpc_tutor::tui::App {
    let dir = std::path::Path::new("tests/fixtures/results/amdahl-array");
    let entries = hpc_tutor::tui::load_result_entries(dir).expect("fixture results load");
    let mut app = valid_app(SIZE);
    app.open_results(dir, entries);
    app
}

#[test]
fn results_of_an_array_job_are_one_sweep_with_both_points() {
    use hpc_tutor::chart::Metric;
    let mut app = results_app();
    assert_eq!(app.screen, Screen::Results);
    let view = app.results.as_ref().expect("results");
    assert_eq!(view.entries.len(), 1, "two array tasks, one sweep");
    let e = &view.entries[0];
    assert_eq!(e.points(), 2);
    assert_eq!(e.sweep.sources.len(), 2);
    assert_eq!(e.run_ids().len(), 2);
    assert_eq!(e.run().map(|r| r.workers.clone()), Some(vec![1, 2]));
    assert_eq!(e.status(), Some(hpc_tutor::record::Status::Ok));

    // Enter shows the charts; v switches them; s exports; Esc goes back to the list.
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Redraw);
    assert!(app.results.as_ref().is_some_and(|r| r.open));
    assert_eq!(
        app.results.as_ref().map(|r| r.metric),
        Some(Metric::Speedup)
    );
    app.update(ch('v'));
    assert_eq!(
        app.results.as_ref().map(|r| r.metric),
        Some(Metric::Efficiency)
    );
    assert_eq!(app.update(ch('s')), Effect::Export);
    let dir = tempfile::tempdir().expect("tempdir");
    let png = app.export_screen(dir.path(), None).expect("exports");
    assert!(png.exists() && png.extension().is_some_and(|e| e == "png"));
    app.update(ch('?'));
    assert_eq!(app.overlay, Some(Overlay::Help));
    app.update(key(KeyCode::Esc));
    assert_eq!(app.update(key(KeyCode::Left)), Effect::Redraw);
    assert!(app.results.as_ref().is_some_and(|r| !r.open));
    // The list has one sweep: moving does nothing.
    assert_eq!(app.update(key(KeyCode::Down)), Effect::None);
    // Esc on the list: the lessons; R comes back.
    app.update(key(KeyCode::Esc));
    assert_eq!(app.screen, Screen::Catalogue);
    assert_eq!(app.update(ch('R')), Effect::Redraw);
    assert_eq!(app.screen, Screen::Results);
    assert_eq!(app.update(ch('q')), Effect::Quit(0));
}

#[test]
fn bad_results_folders_are_one_message() {
    use hpc_tutor::tui::load_results;
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing-here");
    let e = load_results(&missing).expect_err("missing");
    assert!(e.contains("is not a folder"), "{e}");
    let empty = load_results(dir.path()).expect_err("no files");
    assert!(empty.contains("no results files (.jsonl)"), "{empty}");
    let file = dir.path().join("a.jsonl");
    // A bad line in the middle (a cut last line is a job killed while writing: skipped).
    let fixture =
        std::fs::read_to_string("tests/fixtures/results/amdahl-array/amdahl-threads-1.jsonl")
            .expect("fixture");
    let (first, rest) = fixture.split_once('\n').expect("lines");
    std::fs::write(&file, format!("{first}\n{{\"kind\": 1}}\n{rest}")).expect("write");
    assert!(load_results(&file).is_err(), "a file is not a folder");
    let bad = load_results(dir.path()).expect_err("bad line");
    assert!(bad.contains("a.jsonl:2:"), "{bad}");
}

fn dialog(app: &hpc_tutor::tui::App) -> &CheckDialog {
    match &app.overlay {
        Some(Overlay::Check(d)) => d,
        other => panic!("a check dialog, not {other:?}"),
    }
}

/// The order of the options is the learner's: stable for one learner, different between
/// learners, and the digit keys answer by the order shown.
#[test]
fn choices_are_shown_in_the_learners_own_order() {
    let open = |learner: u64| {
        let mut app = app_with(
            fixture_set("valid"),
            Progress {
                learner,
                ..Progress::default()
            },
            SIZE,
            Some("alpha"),
        );
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Enter));
        app
    };
    let orders: std::collections::BTreeSet<Vec<usize>> =
        (0..12).map(|l| dialog(&open(l)).order.clone()).collect();
    assert!(
        orders.len() > 3,
        "learners see different orders: {orders:?}"
    );
    let mut app = open(5);
    let order = dialog(&app).order.clone();
    let alpha = app.lessons.lessons[0].clone();
    assert_eq!(order, alpha.checks[0].shown_order(5, "alpha"));
    // alpha's options are 5, 20, 95, Unlimited; 20 (index 1) is right.
    let right = order.iter().position(|&i| i == 1).expect("shown");
    app.update(ch(char::from(b'1' + right as u8)));
    assert_eq!(dialog(&app).result, Some(true));
    assert_eq!(
        app.progress.lessons["alpha"].answers["limit"],
        Answer::Choice("20".into())
    );
    app.update(key(KeyCode::Enter));
    // Reopened: the same order, the answer highlighted where it is shown.
    app.update(key(KeyCode::Enter));
    assert_eq!(dialog(&app).order, order);
    assert_eq!(dialog(&app).selected, right);
}

/// A first wrong answer gets a hint and one more try; the answer is shown only after the
/// second.
#[test]
fn a_wrong_answer_gets_one_more_try_before_the_answer() {
    let mut app = valid_app(SIZE);
    app.update(key(KeyCode::Enter));
    app.update(key(KeyCode::Tab));
    app.update(key(KeyCode::Enter));
    let order = dialog(&app).order.clone();
    let wrong = char::from(b'1' + order.iter().position(|&i| i != 1).expect("a wrong one") as u8);
    assert_eq!(app.update(ch(wrong)), Effect::Save);
    let d = dialog(&app);
    assert_eq!((d.result, d.wrong, d.revealed()), (Some(false), 1, false));
    // Enter tries again, from nothing selected as answered.
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Redraw);
    assert_eq!(dialog(&app).result, None);
    app.update(ch(wrong));
    let d = dialog(&app);
    assert_eq!((d.result, d.wrong, d.revealed()), (Some(false), 2, true));
    // Now Enter closes.
    app.update(key(KeyCode::Enter));
    assert_eq!(app.overlay, None);
}

/// `r` on an experiment whose prediction the learner has not made asks for it first; the
/// run starts when the dialog closes, answered (Enter) or not (Esc).
#[test]
fn r_asks_for_the_prediction_first_and_runs_when_it_closes() {
    let beta = || {
        let mut app = app_with(
            fixture_set("valid"),
            Progress::default(),
            SIZE,
            Some("beta"),
        );
        app.update(ch('x'));
        app
    };
    let mut app = beta();
    assert_eq!(app.update(ch('r')), Effect::Redraw);
    let d = dialog(&app);
    assert_eq!(d.check, 1, "beta's prediction");
    assert!(d.then_run.is_some());
    assert_eq!(app.running, None, "nothing runs before the prediction");
    typed(&mut app, "1.5");
    assert_eq!(app.update(key(KeyCode::Enter)), Effect::Save);
    let Effect::StartRun { request, .. } = app.update(key(KeyCode::Enter)) else {
        panic!("the run starts when the dialog closes")
    };
    assert_eq!(request.experiment.name, "amdahl");
    assert_eq!(
        app.progress.lessons["beta"].answers["predict"],
        Answer::Number(1.5)
    );

    let mut app = beta();
    app.update(ch('r'));
    assert!(
        matches!(app.update(key(KeyCode::Esc)), Effect::StartRun { .. }),
        "Esc runs without a prediction"
    );
    assert!(
        !app.progress.lessons.contains_key("beta")
            || !app.progress.lessons["beta"].answers.contains_key("predict")
    );
    // r in the reader goes through the same question.
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        SIZE,
        Some("beta"),
    );
    assert_eq!(app.update(ch('r')), Effect::Redraw);
    assert!(dialog(&app).then_run.is_some());
}

/// A prediction answered after the run it is compared with says so.
#[test]
fn a_prediction_made_after_its_run_is_marked() {
    let text = |run_started: &str| {
        let mut app = app_with(
            fixture_set("valid"),
            Progress::default(),
            (100, 40),
            Some("beta"),
        );
        let mut records = common::amdahl_records();
        if let hpc_tutor::record::Record::Run(r) = &mut records[0] {
            r.started_at = run_started.to_owned();
        }
        app.update(Event::Loaded(Loaded::RecentRuns {
            experiment: "amdahl".into(),
            runs: vec![records],
        }));
        app.update(key(KeyCode::Tab));
        app.update(key(KeyCode::Down));
        app.update(key(KeyCode::Enter));
        typed(&mut app, "1.54");
        app.update(key(KeyCode::Enter));
        assert!(dialog(&app).revealed());
        let mut terminal =
            ratatui::Terminal::new(ratatui::backend::TestBackend::new(100, 40)).expect("terminal");
        terminal
            .draw(|f| hpc_tutor::tui::view::draw(&app, f))
            .expect("draw");
        terminal.backend().to_string()
    };
    let after = text("2026-11-22T07:00:00+00:00");
    assert!(after.contains("You answered after this run"), "{after}");
    let before = text("2999-01-01T00:00:00+00:00");
    assert!(before.contains("Predicted before the run"), "{before}");
}
