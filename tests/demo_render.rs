//! The demo's screens drawn with ratatui's `TestBackend` in monochrome, compared with insta
//! snapshots at 80x24 and 120x40: a caption over a lesson, and a replayed chart with its
//! "replayed from …" label. Lessons come from the test fixtures, so that editing a shipped
//! lesson does not change these snapshots.

use std::time::{Duration, Instant};

use hpc_tutor::demo::script::Base;
use hpc_tutor::demo::{Capabilities, FakeClock, Player, Script};
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::tui::Event;
use hpc_tutor::tui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

const SIZES: [(u16, u16); 2] = [(80, 24), (120, 40)];

fn player(text: &str, size: (u16, u16), caps: Capabilities) -> (Player, FakeClock) {
    let lessons = LessonSet::load(&LessonSource::Directory(
        "tests/fixtures/lessons/valid".into(),
    ))
    .expect("fixture lessons");
    let script = Script::parse(
        text,
        "test.toml",
        &Base::Dir("tests/fixtures/demos/valid".into()),
        &lessons,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let clock = FakeClock::new();
    let p = Player::new(
        script,
        lessons,
        Theme::monochrome(),
        size,
        caps,
        Box::new(clock.clone()),
    );
    (p, clock)
}

fn render(p: &Player) -> String {
    let mut t = Terminal::new(TestBackend::new(p.size.0, p.size.1)).expect("terminal");
    t.draw(|f| hpc_tutor::demo::view::draw(p, f)).expect("draw");
    t.backend().to_string()
}

#[test]
fn caption_over_a_lesson() {
    for (w, h) in SIZES {
        let (mut p, _) = player(
            r#"
title = "Snapshot"

[[step]]
lesson = "alpha"
heading = "A table"

[[step]]
caption = "With 30 % serial work, no number of workers\ngets past 1 / 0.3 = 3.3×"
wait = "key"
"#,
            (w, h),
            Capabilities::everything(),
        );
        p.start();
        p.update(Event::Key(KeyEvent::from(KeyCode::Char(' '))));
        let screen = render(&p);
        assert!(screen.contains("3.3×"), "{screen}");
        insta::assert_snapshot!(format!("demo_caption_{w}x{h}"), screen);
    }
}

#[test]
fn replayed_chart_with_its_label() {
    for (w, h) in SIZES {
        let (mut p, clock) = player(
            r#"
[[step]]
run = "mc-pi"
backend = "mpi"
workers = [1, 2]
params = { samples = 400000000 }
replay_if_unavailable = "mc-pi-mpi.jsonl"
wait = "key"
"#,
            (w, h),
            Capabilities {
                mpi: Err("`mpirun` is not installed here".into()),
            },
        );
        p.start();
        clock.advance(Duration::from_secs(60));
        p.update(Event::Tick(Instant::now()));
        let screen = render(&p);
        assert!(
            screen.contains("replayed from mc-pi-mpi.jsonl, recorded on vm at"),
            "{screen}"
        );
        insta::assert_snapshot!(format!("demo_replay_{w}x{h}"), screen);
    }
}

#[test]
fn speaker_notes_over_the_stage() {
    let (mut p, _) = player(
        r#"
[[step]]
lesson = "alpha"
heading = "A list"
notes = "Ask the room: what values can the counter end with?"
"#,
        (80, 24),
        Capabilities::everything(),
    );
    p.start();
    p.update(Event::Key(KeyEvent::from(KeyCode::Char('n'))));
    let screen = render(&p);
    assert!(screen.contains("Ask the room"), "{screen}");
    insta::assert_snapshot!("demo_notes_80x24", screen);
}

/// Speaker notes are Markdown, shown as the notes viewer and the lesson reader show it:
/// inline code without backticks, a `- ` list as bullets with a hanging indent, and
/// paragraphs reflowed to the window.
#[test]
fn speaker_notes_render_markdown() {
    let (mut p, _) = player(
        r#"
[[step]]
lesson = "alpha"
heading = "A list"
notes = """
`counter += 1` looks like one operation, but the CPU does three: load the value into a
register, add one, store it back. The fixes:

- atomic and mutex serialize every increment: correct, but *slow*;
- a reduction (each worker counts privately, then adds once) is correct and fast.
"""
"#,
        (80, 24),
        Capabilities::everything(),
    );
    p.start();
    p.update(Event::Key(KeyEvent::from(KeyCode::Char('n'))));
    let screen = render(&p);
    assert!(!screen.contains('`'), "no backticks: {screen}");
    assert!(!screen.contains("*slow*"), "no emphasis marks: {screen}");
    assert!(
        screen.contains("│ counter += 1 looks like one operation, but the CPU does three: load"),
        "reflowed: {screen}"
    );
    assert!(
        screen.contains("│ • a reduction (each worker counts privately, then adds once) is"),
        "a bulleted item: {screen}"
    );
    assert!(
        screen.contains("│   correct and fast."),
        "with a hanging indent: {screen}"
    );
    insta::assert_snapshot!("demo_notes_markdown_80x24", screen);
}
