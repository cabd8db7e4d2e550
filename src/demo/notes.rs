//! Speaker notes in a second terminal.
//!
//! The presenter writes the current step (its number, what it does, its caption and notes)
//! to a small JSON file whenever it changes, atomically (a temporary file renamed over the
//! old one). `hpc-tutor demo --notes` looks at the file's size and modification time four
//! times a second and reads it only when they change, so following a demo costs next to
//! nothing. The file lives in `$XDG_RUNTIME_DIR/hpc-tutor/` (private to the user, gone at
//! logout), else in the tutor's state folder.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;
use ratatui::Frame;
use ratatui::crossterm::event::{KeyCode, KeyEventKind, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::player::NotesState;
use crate::tui::theme::Theme;
use crate::tui::{Event, markdown};

/// The file name of the shared state.
const FILE_NAME: &str = "demo-notes.json";

/// How often the notes viewer looks at the file.
pub const POLL: Duration = Duration::from_millis(250);

/// Where the presenter publishes the current step by default: `$XDG_RUNTIME_DIR/hpc-tutor/`,
/// else `$HPC_TUTOR_STATE_DIR`, else the tutor's state folder.
pub fn default_path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("hpc-tutor").join(FILE_NAME));
    }
    crate::progress::ProgressStore::default_location()
        .and_then(|s| s.path().parent().map(|d| d.join(FILE_NAME)))
}

/// Writes `state` to `path` atomically: readers see the old file or the new one, never half.
pub fn publish(path: &Path, state: &NotesState) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let json = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    crate::fsio::write(path, &json).map_err(|e| std::io::Error::new(e.source.kind(), e.to_string()))
}

/// Reads the published state; `None` when there is none (no demo yet) or it cannot be read.
pub fn read(path: &Path) -> Option<NotesState> {
    let text = crate::input::read_regular(path, crate::input::MIB, "a notes file").ok()?;
    serde_json::from_slice(&text).ok()
}

/// Follows the demo that publishes to `path`, full screen, until `q`.
pub fn follow(path: &Path) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!("the notes view needs an interactive terminal");
    }
    let (tx, rx) = mpsc::channel::<Event>();
    crate::tui::spawn_signal_thread(tx.clone())?;
    let mut terminal = ratatui::try_init().context("cannot set up the terminal")?;
    let _restore = crate::tui::Restore;
    crate::tui::spawn_input_thread(tx.clone());
    spawn_watcher(path.to_path_buf(), tx);
    let theme = Theme::from_env();
    let mut state = read(path);
    terminal.draw(|f| draw(f, state.as_ref(), path, &theme))?;
    while let Ok(event) = rx.recv() {
        match event {
            Event::Key(k) if k.kind != KeyEventKind::Release => {
                let ctrl_c =
                    k.modifiers.contains(KeyModifiers::CONTROL) && k.code == KeyCode::Char('c');
                if ctrl_c || matches!(k.code, KeyCode::Char('q') | KeyCode::Esc) {
                    return Ok(ExitCode::SUCCESS);
                }
                continue;
            }
            Event::Signal(s) => return Ok(ExitCode::from(s.exit_status())),
            Event::Tick(_) => state = read(path),
            Event::Resize(..) => {}
            _ => continue,
        }
        terminal.draw(|f| draw(f, state.as_ref(), path, &theme))?;
    }
    anyhow::bail!("lost the terminal's input")
}

/// Sends a tick whenever the file at `path` changes (appears, goes, or is rewritten).
fn spawn_watcher(path: PathBuf, tx: mpsc::Sender<Event>) {
    let stamp = |p: &Path| -> Option<(SystemTime, u64)> {
        let m = std::fs::metadata(p).ok()?;
        Some((m.modified().ok()?, m.len()))
    };
    let _ = std::thread::Builder::new()
        .name("notes-watch".into())
        .spawn(move || {
            let mut last = stamp(&path);
            loop {
                std::thread::sleep(POLL);
                let now = stamp(&path);
                if now != last {
                    last = now;
                    if tx.send(Event::Tick(Instant::now())).is_err() {
                        return;
                    }
                }
            }
        });
}

/// Draws the notes view of `state` (`None`: no demo is publishing to `path`).
pub fn draw(frame: &mut Frame, state: Option<&NotesState>, path: &Path, t: &Theme) {
    let area = frame.area();
    let Some(s) = state else {
        let lines = vec![
            Line::styled(" Speaker notes", t.heading(1)),
            Line::raw(""),
            Line::styled(
                " Waiting for a demo: start `hpc-tutor demo` in another terminal.",
                t.text(),
            ),
            Line::styled(format!(" (following {})", path.display()), t.dim()),
            Line::raw(""),
            Line::styled(" q quits", t.dim()),
        ];
        frame.render_widget(Paragraph::new(lines), area);
        return;
    };
    let title = s.title.clone().unwrap_or_else(|| s.script.clone());
    let mut state_text = format!("step {} of {}", s.step, s.steps);
    if s.ended {
        state_text.push_str(" · the demo has ended");
    } else if s.paused {
        state_text.push_str(" · ⏸ paused");
    }
    let block = Block::bordered()
        .title(format!(" Speaker notes · {title} "))
        .title_bottom(Line::from(" q quits ").right_aligned())
        .border_style(t.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let width = inner.width.saturating_sub(2).max(10);
    let mut lines: Vec<Line<'static>> = vec![
        Line::from(vec![
            Span::styled(format!(" {state_text}: "), t.key()),
            Span::styled(s.what.clone(), t.heading(2)),
        ]),
        Line::raw(""),
    ];
    if let Some(c) = &s.caption {
        lines.push(Line::styled(
            format!(" caption: “{}”", c.replace('\n', " ")),
            t.quote(),
        ));
        lines.push(Line::raw(""));
    }
    match &s.notes {
        Some(n) => lines.extend(markdown::render(n, width, t).into_iter().map(|l| {
            let mut spans = vec![Span::raw(" ")];
            spans.extend(l.spans);
            Line::from(spans)
        })),
        None => lines.push(Line::styled(" (no notes for this step)", t.dim())),
    }
    if let Some(n) = &s.next {
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(" next: ", t.dim()),
            Span::styled(n.clone(), t.text()),
        ]));
    }
    let text = Rect {
        x: inner.x,
        width: inner.width,
        ..inner
    };
    frame.render_widget(Paragraph::new(lines), text);
}
