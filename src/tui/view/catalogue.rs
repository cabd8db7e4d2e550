//! The catalogue: tracks and their lessons with progress marks, and the selected lesson.

use ratatui::Frame;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{layout, truncate};
use crate::experiment;
use crate::tui::app::{App, LessonState, Row};
use crate::tui::theme::Theme;

/// The mark drawn before a lesson, and what it means (for the legend and the details).
pub(crate) fn mark(state: LessonState) -> (&'static str, &'static str) {
    match state {
        LessonState::NotStarted => ("○", "not started"),
        LessonState::Started => ("◔", "started"),
        LessonState::Read => ("◑", "read"),
        LessonState::Complete => ("●", "read, all checks right"),
    }
}

fn mark_style(state: LessonState, t: &Theme) -> ratatui::style::Style {
    match state {
        LessonState::Complete => t.good(),
        LessonState::NotStarted => t.dim(),
        _ => t.text(),
    }
}

pub(super) fn draw(app: &App, frame: &mut Frame) {
    let (list_area, detail_area) = layout::catalogue(frame.area());
    let t = &app.theme;

    let height = usize::from(list_area.height.saturating_sub(2));
    let offset = (app.selected_row + 1).saturating_sub(height);
    let inner_width = usize::from(list_area.width.saturating_sub(2));
    let mut lines = Vec::with_capacity(height);
    for (i, row) in app.rows.iter().enumerate().skip(offset).take(height) {
        let selected = i == app.selected_row;
        let line = match row {
            Row::Track(name) => Line::styled(truncate(name, inner_width), t.heading(2)),
            Row::Lesson(idx) => {
                let lesson = &app.lessons.lessons[*idx];
                let state = app.lesson_state(lesson);
                let (m, _) = mark(state);
                let title = truncate(&lesson.title, inner_width.saturating_sub(5));
                let text = format!(" {m} {title}");
                if selected {
                    let pad = inner_width.saturating_sub(text.chars().count());
                    Line::styled(format!("{text}{}", " ".repeat(pad)), t.selected())
                } else {
                    Line::from(vec![
                        Span::raw(" "),
                        Span::styled(m, mark_style(state, t)),
                        Span::raw(format!(" {title}")),
                    ])
                }
            }
            Row::Broken(idx) => {
                let b = &app.lessons.broken[*idx];
                let label = truncate(&b.title, inner_width.saturating_sub(5));
                let text = format!(" ✗ {label}");
                if selected {
                    let pad = inner_width.saturating_sub(text.chars().count());
                    Line::styled(format!("{text}{}", " ".repeat(pad)), t.selected())
                } else {
                    Line::from(vec![
                        Span::styled(" ✗", t.bad()),
                        Span::raw(format!(" {label}")),
                    ])
                }
            }
        };
        lines.push(line);
    }
    let legend = Line::from(vec![
        Span::styled(" ○ new ◔ started ◑ read ", t.dim()),
        Span::styled("●", t.good()),
        Span::styled(" done ", t.dim()),
    ]);
    let block = Block::bordered()
        .title(" Lessons ")
        .title_bottom(legend)
        .border_style(t.border(true));
    frame.render_widget(Paragraph::new(lines).block(block), list_area);

    let detail = Block::bordered()
        .title(" About this lesson ")
        .border_style(t.border(false));
    let text = match app.rows.get(app.selected_row) {
        Some(Row::Lesson(i)) => lesson_details(app, *i),
        Some(Row::Broken(i)) => broken_details(app, *i),
        _ => vec![Line::raw("No lessons found.")],
    };
    frame.render_widget(
        Paragraph::new(text)
            .block(detail)
            .wrap(Wrap { trim: false }),
        detail_area,
    );
}

fn lesson_details(app: &App, idx: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let l = &app.lessons.lessons[idx];
    let state = app.lesson_state(l);
    let mut out = vec![
        Line::styled(
            l.title.clone(),
            t.heading(1).remove_modifier(Modifier::UNDERLINED),
        ),
        Line::styled(format!("{} · lesson {}", l.track, l.order), t.dim()),
        Line::raw(""),
        Line::raw(l.summary.clone()),
        Line::raw(""),
        Line::styled("You will learn to", t.heading(3)),
    ];
    out.extend(
        l.objectives
            .iter()
            .map(|o| Line::from(vec![Span::styled(" • ", t.rule()), Span::raw(o.clone())])),
    );
    out.push(Line::raw(""));
    if !l.experiments.is_empty() {
        out.push(Line::styled("Experiments", t.heading(3)));
        for name in &l.experiments {
            let summary = experiment::find(name).map_or("", |e| e.summary);
            out.push(Line::from(vec![
                Span::styled(format!(" {name}"), t.code()),
                Span::styled(format!("  {summary}"), t.dim()),
            ]));
        }
        out.push(Line::raw(""));
    }
    let right = l
        .checks
        .iter()
        .filter(|c| app.answer(l, &c.id).is_some_and(|a| c.is_correct(a)))
        .count();
    let (m, meaning) = mark(state);
    out.push(Line::from(vec![
        Span::styled("Progress  ", t.heading(3)),
        Span::styled(m, mark_style(state, t)),
        Span::raw(format!(" {meaning}")),
    ]));
    if !l.checks.is_empty() {
        out.push(Line::raw(format!(
            "          {right} of {} checks answered right",
            l.checks.len()
        )));
    }
    out.push(Line::raw(""));
    out.push(Line::from(vec![
        Span::styled("Enter", t.key()),
        Span::styled(" open the lesson   ", t.dim()),
        Span::styled("p", t.key()),
        Span::styled(" your program", t.dim()),
    ]));
    out
}

fn broken_details(app: &App, idx: usize) -> Vec<Line<'static>> {
    let t = &app.theme;
    let b = &app.lessons.broken[idx];
    let mut out = vec![
        Line::styled(format!("✗ {}", b.title), t.bad()),
        Line::styled(b.path.clone(), t.dim()),
        Line::raw(""),
        Line::raw("This lesson file has problems and cannot be opened:"),
        Line::raw(""),
    ];
    out.extend(
        b.diagnostics
            .iter()
            .map(|d| Line::styled(d.to_string(), t.bad().remove_modifier(Modifier::BOLD))),
    );
    out.push(Line::raw(""));
    out.push(Line::styled(
        "Fix the file, then check it with `hpc-tutor lessons check DIR`.",
        t.dim(),
    ));
    out
}
