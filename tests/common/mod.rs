//! Shared helpers for the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use hpc_tutor::cluster::SystemInfo;
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::progress::Progress;
use hpc_tutor::tui::App;
use hpc_tutor::tui::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub fn fixtures(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lessons")
        .join(name)
}

pub fn fixture_set(name: &str) -> LessonSet {
    LessonSet::load(&LessonSource::Directory(fixtures(name))).expect("fixture lessons load")
}

/// Fixed facts so that snapshots do not depend on the machine running the tests.
pub fn test_system() -> SystemInfo {
    SystemInfo {
        host: "node01".into(),
        cpus: 2,
        slurm_job: Some("4242".into()),
    }
}

pub fn app_with(set: LessonSet, progress: Progress, size: (u16, u16), open: Option<&str>) -> App {
    App::new(
        set,
        progress,
        test_system(),
        Theme::monochrome(),
        size,
        open,
    )
}

pub fn valid_app(size: (u16, u16)) -> App {
    app_with(fixture_set("valid"), Progress::default(), size, None)
}

pub fn key(code: KeyCode) -> hpc_tutor::tui::Event {
    hpc_tutor::tui::Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> hpc_tutor::tui::Event {
    key(KeyCode::Char(c))
}

/// Sends a sequence of plain characters as key presses.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(ch(c));
    }
}
