//! The reader: the lesson text on the left, its checks and experiments on the right.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{layout, truncate};
use crate::experiment;
use crate::tui::app::{App, Focus, Reader};

pub(super) fn draw(app: &App, r: &Reader, frame: &mut Frame) {
    let t = &app.theme;
    let Some(lesson) = app.lessons.lessons.get(r.lesson) else {
        return;
    };
    let area = frame.area();
    let (text_area, panel_area) = layout::reader(area);
    let inner = layout::reader_text(area);

    let height = usize::from(inner.height);
    let total = r.lines.len();
    let position = if total <= height {
        "all".to_owned()
    } else {
        format!("{}%", (r.scroll + height).min(total) * 100 / total)
    };
    let block = Block::bordered()
        .title(format!(" {} ", lesson.title))
        .title_bottom(Line::from(format!(" {position} ")).right_aligned())
        .border_style(t.border(r.focus == Focus::Text));
    frame.render_widget(block, text_area);
    let visible: Vec<Line> = r
        .lines
        .iter()
        .skip(r.scroll)
        .take(height)
        .cloned()
        .collect();
    frame.render_widget(Paragraph::new(visible), inner);

    // The panel: checks, then experiments, then the keys that matter here.
    let width = usize::from(panel_area.width.saturating_sub(2));
    let mut lines = vec![Line::styled("Checks", t.heading(3))];
    if lesson.checks.is_empty() {
        lines.push(Line::styled(" none in this lesson", t.dim()));
    }
    for (i, c) in lesson.checks.iter().enumerate() {
        let (m, style) = match app.answer(lesson, &c.id) {
            Some(a) if c.is_correct(a) => ("✓", t.good()),
            Some(_) => ("✗", t.bad()),
            None => ("·", t.dim()),
        };
        let label = truncate(
            &format!("{}. {}", i + 1, c.question),
            width.saturating_sub(4),
        );
        let selected = r.focus == Focus::Panel && i == r.selected_check;
        lines.push(marked_row(m, style, &label, selected, width, t));
    }
    lines.push(Line::raw(""));
    if !lesson.puzzles.is_empty() {
        lines.push(Line::styled("Puzzles", t.heading(3)));
        for (j, z) in lesson.puzzles.iter().enumerate() {
            let solved = app.puzzle_solved(lesson, &z.id);
            let (m, style) = if solved {
                ("✓", t.good())
            } else {
                ("·", t.dim())
            };
            let label = truncate(&z.title, width.saturating_sub(4));
            let selected = r.focus == Focus::Panel && r.selected_check == lesson.checks.len() + j;
            lines.push(marked_row(m, style, &label, selected, width, t));
        }
        lines.push(Line::raw(""));
    }
    let runnables = lesson.runnables();
    if !runnables.is_empty() {
        lines.push(Line::styled("Experiments", t.heading(3)));
        for (j, name) in runnables.iter().enumerate() {
            let program = name
                .strip_prefix("program:")
                .and_then(|id| lesson.programs.iter().find(|g| g.id == id));
            let runnable = crate::lesson::runnable(name);
            let label = match (program, runnable) {
                (Some(g), _) => truncate(&format!(" ▶ {}", g.title), width),
                (None, true) => format!(" ▶ {name}"),
                (None, false) => format!("   {name} (later version)"),
            };
            if r.focus == Focus::Panel
                && r.selected_check == lesson.checks.len() + lesson.puzzles.len() + j
            {
                let pad = width.saturating_sub(label.chars().count());
                lines.push(Line::styled(
                    format!("{label}{}", " ".repeat(pad)),
                    t.selected(),
                ));
            } else {
                lines.push(Line::styled(
                    label,
                    if runnable { t.code() } else { t.dim() },
                ));
            }
            let summary = match program {
                Some(g) => Some(format!("your program · {}", g.backend)),
                None => experiment::find(name).map(|e| e.summary.to_owned()),
            };
            if let Some(summary) = summary {
                lines.push(Line::styled(format!("   {summary}"), t.dim()));
            }
        }
        lines.push(Line::raw(""));
    }
    let key = |k: &'static str, what: &'static str| {
        Line::from(vec![
            Span::styled(format!(" {k:<6}"), t.key()),
            Span::styled(what, t.dim()),
        ])
    };
    if !lesson.checks.is_empty() || !lesson.puzzles.is_empty() || !runnables.is_empty() {
        lines.push(key(
            "Tab",
            if r.focus == Focus::Panel {
                "back to the text"
            } else {
                "go to the panel"
            },
        ));
    }
    if r.focus == Focus::Panel {
        lines.push(key("Enter", "open the selected item"));
    }
    if runnables.iter().any(|e| crate::lesson::runnable(e)) {
        lines.push(key("x", "open the experiment"));
    }
    if !lesson.hints.is_empty() {
        lines.push(key("h", "show a hint"));
    }
    if lesson.notes.is_some() {
        lines.push(key("n", "instructor notes"));
    }
    lines.push(key("Esc", "back to lessons"));
    let panel = Block::bordered()
        .title(" Practice ")
        .border_style(t.border(r.focus == Focus::Panel));
    frame.render_widget(
        Paragraph::new(lines)
            .block(panel)
            .wrap(Wrap { trim: false }),
        panel_area,
    );
}

/// A panel row: a mark (✓ ✗ ·) and a label; the selected row is highlighted across the width.
fn marked_row(
    mark: &'static str,
    style: ratatui::style::Style,
    label: &str,
    selected: bool,
    width: usize,
    t: &crate::tui::theme::Theme,
) -> Line<'static> {
    if selected {
        let text = format!(" {mark} {label}");
        let pad = width.saturating_sub(text.chars().count());
        Line::styled(format!("{text}{}", " ".repeat(pad)), t.selected())
    } else {
        Line::from(vec![
            Span::raw(" "),
            Span::styled(mark, style),
            Span::raw(format!(" {label}")),
        ])
    }
}
