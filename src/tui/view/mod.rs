//! Drawing. Every function here takes the app by shared reference: drawing never changes
//! state.

mod catalogue;
pub mod chart;
mod experiment;
pub mod layout;
mod overlay;
pub mod puzzle;
mod reader;
mod results;
pub mod sizes;

use ratatui::Frame;
use ratatui::layout::Alignment;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::app::{App, MIN_SIZE, Screen};

/// Draws the whole screen.
pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    if area.width < MIN_SIZE.0 || area.height < MIN_SIZE.1 {
        draw_too_small(app, frame);
        return;
    }
    match &app.screen {
        Screen::Catalogue => catalogue::draw(app, frame),
        Screen::Reader(r) => reader::draw(app, r, frame),
        Screen::Experiment { name, .. } => {
            if let Some(v) = app.experiments.get(name) {
                experiment::draw(app, v, frame);
            }
        }
        Screen::Puzzle { view, .. } => {
            let (main, _) = layout::main_and_status(area);
            puzzle::draw(view, &app.theme, main, frame.buffer_mut());
        }
        Screen::Results => {
            if let Some(v) = &app.results {
                results::draw(v, &app.theme, frame);
            }
        }
    }
    draw_status(app, frame);
    if let Some(o) = &app.overlay {
        overlay::draw(app, o, frame);
    }
}

fn draw_too_small(app: &App, frame: &mut Frame) {
    let area = frame.area();
    let t = &app.theme;
    let lines = vec![
        Line::styled(
            format!(
                "terminal too small: need {}x{}, have {}x{}",
                MIN_SIZE.0, MIN_SIZE.1, area.width, area.height
            ),
            t.warn(),
        ),
        Line::styled("enlarge the window, or press q to quit", t.dim()),
    ];
    let top = area.height.saturating_sub(2) / 2;
    let rect = ratatui::layout::Rect {
        y: area.y + top,
        height: area.height - top,
        ..area
    };
    frame.render_widget(
        Paragraph::new(lines)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

fn draw_status(app: &App, frame: &mut Frame) {
    let (_, area) = layout::main_and_status(frame.area());
    let t = &app.theme;
    let s = &app.system;
    // Inside SLURM the allocation says how many CPUs there are (tasks × CPUs per task).
    let mut left = match &s.allocation {
        Some(a) => format!(" {} · {}", s.host, a.summary()),
        None => format!(
            " {} · {} CPU{}",
            s.host,
            s.cpus,
            if s.cpus == 1 { "" } else { "s" }
        ),
    };
    left.push_str(" │ ");
    let right = " ? help  q quit ";
    let used = left.chars().count() + right.chars().count();
    let room = usize::from(area.width).saturating_sub(used);
    let (msg, msg_style) = match &app.status {
        Some(st) => (
            truncate(&st.text, room),
            if st.warning {
                t.status().patch(t.warn())
            } else {
                t.status()
            },
        ),
        None => (String::new(), t.status()),
    };
    let pad = room.saturating_sub(msg.chars().count());
    let line = Line::from(vec![
        Span::styled(left, t.status()),
        Span::styled(msg, msg_style),
        Span::styled(" ".repeat(pad), t.status()),
        Span::styled(right, t.status()),
    ]);
    frame.render_widget(Paragraph::new(line).style(t.status()), area);
}

/// `text` cut to `max` characters, ending in `…` when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut s: String = text.chars().take(max - 1).collect();
    s.push('…');
    s
}
