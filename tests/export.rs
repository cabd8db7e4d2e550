//! PNG export from fixed records: golden images, determinism, and "export what is on
//! screen" from the terminal app.
//!
//! The golden PNGs under `tests/fixtures/golden/` are compared byte for byte. When a change
//! to the drawing is intended, look at the new image (the failing test says where it is),
//! then refresh the goldens with `UPDATE_GOLDEN=1 cargo test --test export` and commit them.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hpc_tutor::chart::{ChartKind, Metric};
use hpc_tutor::export::{self, Charts, LessonCard, Size};
use hpc_tutor::lesson::Answer;
use hpc_tutor::progress::Progress;
use hpc_tutor::record::{Record, RunRecord};
use hpc_tutor::tui::app::Screen;

use common::{amdahl_records, app_with, ch, fixture_set, key, race_records};
use ratatui::crossterm::event::KeyCode;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Compares `png` with the golden file `name`, or writes it when `UPDATE_GOLDEN` is set.
fn assert_golden(name: &str, png: &[u8]) {
    let path = Path::new("tests/fixtures/golden").join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all("tests/fixtures/golden").expect("golden folder");
        std::fs::write(&path, png).expect("golden written");
        return;
    }
    let expected = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDEN=1 cargo test --test export",
            path.display()
        )
    });
    if expected != png {
        let actual = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
        std::fs::write(&actual, png).expect("actual written");
        panic!(
            "{name} is not the golden image ({} bytes, expected {}). The new rendering is at {}: \
             look at both; if the change is intended, run UPDATE_GOLDEN=1 cargo test --test \
             export and commit tests/fixtures/golden/{name}",
            png.len(),
            expected.len(),
            actual.display()
        );
    }
}

/// Width and height of a PNG, decoding it fully (so a broken stream fails here).
fn dimensions(png: &[u8]) -> (u32, u32) {
    assert!(png.starts_with(PNG_SIGNATURE));
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("the pixels decode");
    (info.width, info.height)
}

/// A second amdahl run an hour later on a 4-CPU node, measured to N = 8, for overlays.
fn later_run() -> Vec<Record> {
    let mut records = amdahl_records();
    for r in &mut records {
        match r {
            Record::Run(run) => {
                let RunRecord {
                    run_id,
                    env,
                    started_at,
                    workers,
                    ..
                } = run;
                *run_id = "20261122-080000-2".into();
                *started_at = "2026-11-22T08:00:00+00:00".into();
                env.cpus_available = 4;
                env.host = "node02".into();
                *workers = vec![1, 2, 4, 8];
            }
            Record::Point(p) => {
                let s = [(1, 1.0), (2, 1.6), (4, 2.2), (8, 2.5)]
                    .iter()
                    .find(|(n, _)| *n == p.workers)
                    .map_or(1.0, |(_, s)| *s);
                p.median_s = 1.0 / s;
                p.min_s = p.median_s * 0.95;
                p.max_s = p.median_s * 1.08;
                p.speedup = Some(s);
                p.efficiency = Some(s / p.workers as f64);
                p.oversubscribed = p.workers > 4;
            }
            Record::Fit(f) => f.serial_fraction = 0.2,
            _ => {}
        }
    }
    // The N = 8 point.
    let mut eight = records
        .iter()
        .find_map(|r| match r {
            Record::Point(p) if p.workers == 4 => Some(p.clone()),
            _ => None,
        })
        .expect("an N = 4 point");
    eight.workers = 8;
    eight.median_s = 0.4;
    eight.min_s = 0.38;
    eight.max_s = 0.45;
    eight.speedup = Some(2.5);
    eight.efficiency = Some(2.5 / 8.0);
    eight.oversubscribed = true;
    let fit_at = records
        .iter()
        .position(|r| matches!(r, Record::Fit(_)))
        .expect("a fit");
    records.insert(fit_at, Record::Point(eight));
    records
}

#[test]
fn speedup_chart_matches_the_golden_image() {
    let records = amdahl_records();
    let size = Size::new(1200, 800).expect("size");
    let png =
        export::render_charts(&[&records], Charts::One(Metric::Speedup), size).expect("renders");
    assert_eq!(dimensions(&png), (1200, 800));
    assert_golden("amdahl-speedup.png", &png);
}

#[test]
fn all_three_charts_of_two_overlaid_runs_match_the_golden_image() {
    let a = amdahl_records();
    let b = later_run();
    let size = Size::new(1500, 600).expect("size");
    let png = export::render_charts(&[&a, &b], Charts::All, size).expect("renders");
    assert_eq!(dimensions(&png), (1500, 600));
    assert_golden("amdahl-overlay-all.png", &png);
    assert_eq!(
        export::chart_file_name(&[&a, &b], Charts::All),
        "20261122-070000-1-vs-20261122-080000-2-all.png"
    );
}

#[test]
fn six_race_variants_match_the_golden_image() {
    // Six colours and six marker shapes; no curve for the fits clamped at s = 1.00 (the
    // legend says so instead); no error bar at N = 1 on speedup and efficiency.
    let records = race_records();
    let size = Size::new(1800, 700).expect("size");
    let png = export::render_charts(&[&records], Charts::All, size).expect("renders");
    assert_eq!(dimensions(&png), (1800, 700));
    assert_golden("race-all.png", &png);
}

#[test]
fn lesson_card_matches_the_golden_image() {
    let set = fixture_set("valid");
    let lesson = set.find("beta").expect("fixture lesson");
    let runs: BTreeMap<String, Vec<Record>> = [("amdahl".to_owned(), amdahl_records())].into();
    let answers: BTreeMap<String, Answer> = [
        ("predict".to_owned(), Answer::Number(1.54)),
        ("eff".to_owned(), Answer::Number(0.9)),
    ]
    .into();
    let card = LessonCard {
        lesson,
        runs: &runs,
        answers: Some(&answers),
        answered_at: None,
        for_checks: None,
    };
    let png = export::render_lesson_card(&card, Some(900), None).expect("renders");
    let (w, h) = dimensions(&png);
    assert_eq!(w, 900);
    assert!((600..1200).contains(&h), "height {h}");
    assert_golden("beta-card.png", &png);
}

#[test]
fn the_same_input_gives_the_same_bytes_in_any_thread() {
    let records = amdahl_records();
    let size = Size::new(600, 400).expect("size");
    let render = || {
        export::render_charts(&[&records], Charts::One(Metric::Efficiency), size).expect("renders")
    };
    let first = render();
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(render);
        let b = s.spawn(render);
        (a.join().expect("thread a"), b.join().expect("thread b"))
    });
    assert!(first == a && a == b, "renderings differ");
    // And a different metric is a different picture.
    let time =
        export::render_charts(&[&records], Charts::One(Metric::Time), size).expect("renders");
    assert_ne!(first, time);
}

/// A temporary folder for the test's images, under cargo's target folder.
fn out_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("output folder");
    dir
}

#[test]
fn the_app_exports_what_is_on_screen() {
    let dir = out_dir("export-screen");
    let mut app = app_with(
        fixture_set("valid"),
        Progress::default(),
        (100, 30),
        Some("beta"),
    );
    // The reader: the lesson card, without runs yet.
    let card = app.export_screen(&dir, None).expect("card exported");
    assert_eq!(card, dir.join("beta.png"));
    assert!(
        std::fs::read(&card)
            .expect("written")
            .starts_with(PNG_SIGNATURE)
    );

    // The experiment screen: nothing before a run, then the chart on screen.
    app.update(ch('x'));
    assert!(matches!(app.screen, Screen::Experiment { .. }));
    let err = app.export_screen(&dir, None).expect_err("nothing yet");
    assert!(err.to_string().contains("press r"), "{err}");
    // beta's prediction is asked first; Esc runs without it.
    app.update(ch('r'));
    let hpc_tutor::tui::Effect::StartRun { id, .. } =
        app.update(hpc_tutor::tui::Event::Key(KeyCode::Esc.into()))
    else {
        panic!("starts a run")
    };
    for r in amdahl_records() {
        app.update(hpc_tutor::tui::Event::Run(
            id,
            hpc_tutor::tui::app::RunEvent::Record(Box::new(r)),
        ));
    }
    app.update(ch('v')); // speedup -> efficiency
    let chart = app.export_screen(&dir, None).expect("chart exported");
    assert_eq!(chart, dir.join("20261122-070000-1-efficiency.png"));
    let all = app
        .export_screen(&dir, Some(Charts::All))
        .expect("all exported");
    assert_eq!(
        dimensions(&std::fs::read(&all).expect("written")),
        (1800, 700)
    );

    // The catalogue has nothing to export.
    app.update(key(KeyCode::Esc));
    app.update(key(KeyCode::Esc));
    assert!(matches!(app.screen, Screen::Catalogue));
    assert!(app.export_screen(&dir, None).is_err());
}

/// The records of a results file under `tests/fixtures/results/`: real runs.
fn results_fixture(name: &str) -> Vec<Record> {
    hpc_tutor::record::store::load(&Path::new("tests/fixtures/results").join(name))
        .expect("fixture results load")
}

#[test]
fn a_deadlocked_run_is_drawn_as_its_wait_for_graph() {
    // A real `locks` run with order = opposite: the watchdog's diagnosis and no point.
    let records = results_fixture("locks-deadlock.jsonl");
    let runs: [&[Record]; 1] = [&records];
    assert_eq!(ChartKind::of(&runs), ChartKind::WaitFor);
    let size = export::default_size(&runs, Charts::All);
    assert_eq!((size.width(), size.height()), (1200, 800));
    let png = export::render_charts(&runs, Charts::All, size).expect("renders");
    assert_eq!(dimensions(&png), (1200, 800));
    // Any chart asked for gives the same picture, even in an image too small for three.
    let one = export::render_charts(&runs, Charts::One(Metric::Speedup), size).expect("renders");
    assert_eq!(png, one);
    let small = Size::new(500, 400).expect("size");
    assert!(export::render_charts(&runs, Charts::All, small).is_ok());
    assert_eq!(
        export::chart_file_name(&runs, Charts::All),
        "20261204-115555-23700-wait-for.png"
    );
    assert_golden("locks-wait-for.png", &png);
}

/// The built-in lesson `id`.
fn built_in(id: &str) -> hpc_tutor::lesson::Lesson {
    let set = hpc_tutor::lesson::LessonSet::load(&hpc_tutor::lesson::LessonSource::BuiltIn)
        .expect("built-in lessons load");
    set.find(id).expect("a built-in lesson").clone()
}

#[test]
fn a_lesson_card_draws_each_run_the_way_export_run_does() {
    // The eager-limit sweep of mpi-deadlock: time and bandwidth over message sizes, not a
    // scaling chart over its one worker count.
    let lesson = built_in("mpi-deadlock");
    let sweep = results_fixture("exchange-eager-sweep.jsonl");
    assert_eq!(ChartKind::of(&[&sweep]), ChartKind::MessageSizes);
    let runs: BTreeMap<String, Vec<Record>> = [("exchange".to_owned(), sweep)].into();
    let card = LessonCard {
        lesson: &lesson,
        runs: &runs,
        answers: None,
        answered_at: None,
        for_checks: None,
    };
    assert_eq!(
        card.chart_kinds(),
        [("exchange".to_owned(), Some(ChartKind::MessageSizes))]
    );
    let png = export::render_lesson_card(&card, None, None).expect("renders");
    assert_eq!(dimensions(&png).0, 1200);

    // The locks deadlock of lock-deadlock: its wait-for graph, in a lower row.
    let lesson = built_in("lock-deadlock");
    let dead: BTreeMap<String, Vec<Record>> =
        [("locks".to_owned(), results_fixture("locks-deadlock.jsonl"))].into();
    let card = LessonCard {
        lesson: &lesson,
        runs: &dead,
        answers: None,
        answered_at: None,
        for_checks: None,
    };
    assert_eq!(
        card.chart_kinds(),
        [("locks".to_owned(), Some(ChartKind::WaitFor))]
    );
    let graph = export::render_lesson_card(&card, None, None).expect("renders");
    // Without a run: no chart row.
    let none = BTreeMap::new();
    let card = LessonCard {
        lesson: &lesson,
        runs: &none,
        answers: None,
        answered_at: None,
        for_checks: None,
    };
    assert_eq!(card.chart_kinds(), [("locks".to_owned(), None)]);
    let empty = export::render_lesson_card(&card, None, None).expect("renders");
    assert!(dimensions(&graph).1 > dimensions(&empty).1 + 200);
}
