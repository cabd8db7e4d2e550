//! Windows over the screen: help, checks, hints, notes, and a broken file's problems.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout;
use super::truncate;
use crate::lesson::CheckKind;
use crate::tui::app::{App, CheckDialog, Focus, JobScript, Overlay, Screen};
use crate::tui::markdown;
use crate::tui::theme::Theme;

pub(super) fn draw(app: &App, overlay: &Overlay, frame: &mut Frame) {
    let area = frame.area();
    let t = &app.theme;
    match overlay {
        Overlay::Help => {
            let (title, keys) = help_keys(app);
            draw_help(frame, t, title, &keys);
        }
        Overlay::Check(d) => draw_check(app, d, frame),
        Overlay::JobScript(js) => {
            draw_job_script(app, js, frame);
            if js.help {
                draw_help(frame, t, "job script", JOB_SCRIPT_KEYS);
            }
        }
        Overlay::Hint(i) => {
            let Some(lesson) = app.current_lesson() else {
                return;
            };
            let hint = lesson.hints.get(*i).map_or("", String::as_str);
            let width = HINT_WIDTH.min(area.width);
            let lines = hint_lines(hint, lesson.hints.len(), width.saturating_sub(2), t);
            let title = format!(" Hint {} of {} ", i + 1, lesson.hints.len());
            window(
                frame,
                t,
                width,
                area.height.saturating_sub(4),
                &title,
                lines,
            );
        }
        Overlay::Notes => {
            let Some(lesson) = app.current_lesson() else {
                return;
            };
            let notes = lesson.notes.as_deref().unwrap_or_default();
            let width = NOTES_WIDTH.min(area.width);
            let lines = notes_lines(notes, width.saturating_sub(2), t);
            window(
                frame,
                t,
                width,
                area.height.saturating_sub(4),
                " Instructor notes ",
                lines,
            );
        }
        Overlay::ConfirmProgram { command, .. } => {
            let lines = vec![
                Line::raw(" This lesson comes from a folder of lessons, not from hpc-tutor"),
                Line::raw(" itself. It wants to run this program on your machine:"),
                Line::raw(""),
                Line::styled(format!(" {command}"), t.code()),
                Line::raw(""),
                Line::raw(" Run it only if you trust the lesson's author. You are asked once"),
                Line::raw(" for each command."),
                Line::raw(""),
                Line::from(vec![
                    Span::styled(" y", t.key()),
                    Span::styled(" run it   ", t.dim()),
                    Span::styled("n Esc", t.key()),
                    Span::styled(" do not run it", t.dim()),
                ]),
            ];
            window(
                frame,
                t,
                74,
                area.height.saturating_sub(4),
                " Run the lesson's program? ",
                lines,
            );
        }
        Overlay::History { runs, selected } => {
            let mut lines = Vec::with_capacity(runs.len() + 2);
            for (i, r) in runs.iter().enumerate() {
                let status = r
                    .status
                    .map_or("unfinished".to_owned(), |s| format!("{s:?}").to_lowercase());
                let params: Vec<String> = r
                    .run
                    .params
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect();
                let text = format!(
                    " {}  {} on {}  {} point(s), {status}  {}",
                    r.run
                        .started_at
                        .get(..16)
                        .unwrap_or(&r.run.started_at)
                        .replace('T', " "),
                    r.run.backend,
                    r.run.env.host,
                    r.points,
                    params.join(" ")
                );
                lines.push(if i == *selected {
                    Line::styled(text, t.selected())
                } else {
                    Line::raw(text)
                });
            }
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "↑↓ choose · Enter compare on the chart · Esc close",
                t.dim(),
            ));
            window(
                frame,
                t,
                96,
                area.height.saturating_sub(4),
                " Earlier runs ",
                lines,
            );
        }
        Overlay::Problems(i) => {
            let Some(b) = app.lessons.broken.get(*i) else {
                return;
            };
            let mut lines = vec![
                Line::raw(format!("{} cannot be opened:", b.path)),
                Line::raw(""),
            ];
            lines.extend(
                b.diagnostics
                    .iter()
                    .map(|d| Line::styled(d.to_string(), t.bad())),
            );
            lines.push(Line::raw(""));
            lines.push(Line::styled("Esc close", t.dim()));
            window(
                frame,
                t,
                76,
                area.height.saturating_sub(4),
                " Problems in this lesson file ",
                lines,
            );
        }
    }
}

/// Columns of the hint window, borders included.
const HINT_WIDTH: u16 = 64;
/// Columns of the instructor notes window, borders included.
const NOTES_WIDTH: u16 = 76;

/// The hint window's text: the hint (one of `count`) rendered as Markdown for `inner`
/// columns, as the reader renders a lesson, then the window's keys.
fn hint_lines(hint: &str, count: usize, inner: u16, t: &Theme) -> Vec<Line<'static>> {
    let keys = if count > 1 {
        "h next hint · Esc close"
    } else {
        "Esc close"
    };
    with_keys(markdown::render(hint, inner, t), keys, t)
}

/// The instructor notes window's text: the notes rendered as Markdown for `inner` columns,
/// as the reader renders a lesson, then the window's keys.
fn notes_lines(notes: &str, inner: u16, t: &Theme) -> Vec<Line<'static>> {
    with_keys(markdown::render(notes, inner, t), "Esc close", t)
}

/// `body`, a blank line, and the window's `keys`, dimmed.
fn with_keys(mut body: Vec<Line<'static>>, keys: &'static str, t: &Theme) -> Vec<Line<'static>> {
    body.push(Line::raw(""));
    body.push(Line::styled(keys, t.dim()));
    body
}

/// Draws a bordered window of `width` columns, as tall as its wrapped content (at most
/// `max_height` rows), centred on the screen.
fn window(
    frame: &mut Frame,
    t: &Theme,
    width: u16,
    max_height: u16,
    title: &str,
    lines: Vec<Line>,
) {
    let area = frame.area();
    let width = width.min(area.width);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    // Word wrapping can need a row more than the character count suggests; one spare row
    // per long line keeps the last line visible.
    let rows: usize = lines
        .iter()
        .map(|l| {
            let w = l.width();
            if w <= inner { 1 } else { w.div_ceil(inner) + 1 }
        })
        .sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX).min(max_height);
    let rect = layout::centered(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(title.to_owned())
        .border_style(t.border(true));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}

fn draw_check(app: &App, d: &CheckDialog, frame: &mut Frame) {
    let t = &app.theme;
    let Some(lesson) = app.current_lesson() else {
        return;
    };
    let Some(check) = lesson.checks.get(d.check) else {
        return;
    };
    let mut lines = Vec::new();
    if d.then_run.is_some() {
        lines.push(Line::styled(
            "Before the run: what do you predict? Answer, and the run starts when this closes.",
            t.key(),
        ));
        lines.push(Line::raw(""));
    }
    lines.push(Line::styled(
        check.question.clone(),
        t.text().patch(t.heading(3)),
    ));
    lines.push(Line::raw(""));
    match &check.kind {
        CheckKind::Choice { choices, .. } => {
            let shown = d.order.iter().filter_map(|&k| choices.get(k));
            for (i, c) in shown.enumerate() {
                let text = format!(" {}) {c}", i + 1);
                if i == d.selected {
                    lines.push(Line::styled(text, t.selected()));
                } else {
                    lines.push(Line::raw(text));
                }
            }
        }
        CheckKind::Numeric { unit, .. } => {
            let cursor = if d.result.is_none() { "▏" } else { "" };
            let mut spans = vec![
                Span::raw(" Your answer: "),
                Span::styled(format!("{}{cursor}", d.input), t.code()),
            ];
            if let Some(u) = unit {
                spans.push(Span::raw(format!(" {u}")));
            }
            lines.push(Line::from(spans));
        }
    }
    lines.push(Line::raw(""));
    if let Some(e) = &d.error {
        lines.push(Line::styled(e.clone(), t.warn()));
        lines.push(Line::raw(""));
    }
    if let Some(n) = &d.note {
        lines.push(Line::styled(n.clone(), t.key()));
    }
    match d.result {
        Some(true) => {
            lines.push(Line::styled("✓ Right.", t.good()));
            lines.push(Line::raw(check.explanation.clone()));
        }
        Some(false) if !d.revealed() => {
            lines.push(Line::styled("✗ Not quite. One more try.", t.bad()));
            lines.push(Line::raw(first_try_hint(app, check)));
        }
        Some(false) => {
            lines.push(Line::styled(
                format!(
                    "✗ Not quite. The answer is {}.",
                    check.correct_answer_text()
                ),
                t.bad(),
            ));
            lines.push(Line::raw(check.explanation.clone()));
        }
        None => {}
    }
    if let Some(m) = &check.measure
        && d.revealed()
    {
        lines.push(Line::raw(""));
        let what = format!(
            "{}{}{}",
            m.quantity_label(),
            m.workers
                .map(|w| format!(" at {w} workers"))
                .unwrap_or_default(),
            m.variant
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default()
        );
        match app.measured_run(check) {
            Some((measured, started_at)) => {
                lines.push(Line::styled(
                    format!("Measured on this machine: {what} = {}", fmt_measure(measured)),
                    t.key(),
                ));
                if let Some(crate::lesson::Answer::Number(p)) = app.answer(lesson, &check.id) {
                    lines.push(Line::raw(format!(
                        "You predicted {}. {}",
                        fmt_measure(*p),
                        crate::tui::experiment::explain_gap(m.quantity, *p, measured)
                    )));
                    let before = crate::lesson::predicted_before(
                        app.answered_at(lesson, &check.id),
                        &started_at,
                    );
                    if before == Some(false) {
                        lines.push(Line::styled(
                            "⚠ You answered after this run had measured it: a prediction counts when it is made before the run. Predict the next one before you press r.",
                            t.warn(),
                        ));
                    } else if before == Some(true) {
                        lines.push(Line::styled("✓ Predicted before the run.", t.good()));
                    }
                }
                if let Some(d) = app.measured_disturbance(check) {
                    lines.push(Line::styled(
                        format!("⚠ {d}: the measurement shows the sharing as much as the machine; run it again on a quiet machine."),
                        t.warn(),
                    ));
                }
            }
            None if m.params.is_empty() => lines.push(Line::styled(
                format!(
                    "No measurement yet: run the `{}` experiment (x in the lesson) to compare your prediction with the {what}.",
                    m.experiment
                ),
                t.dim(),
            )),
            None => lines.push(Line::styled(
                format!(
                    "No run of `{}` with {} yet: set the form to that (x in the lesson), run it (r), and your prediction is compared with its {what}. Runs with other settings are not.",
                    m.experiment,
                    m.params_text()
                ),
                t.dim(),
            )),
        }
    }
    lines.push(Line::raw(""));
    let keys = match (d.result, &check.kind) {
        (Some(false), _) if !d.revealed() => "Enter try again · Esc close",
        (Some(_), _) if d.then_run.is_some() => "Enter close and run · r answer again",
        (Some(_), _) => "Enter close · r answer again",
        (None, _) if d.then_run.is_some() => "Enter answer · Esc run without a prediction",
        (None, CheckKind::Choice { .. }) => "1-9 answer · ↑↓ move · Enter answer · Esc close",
        (None, CheckKind::Numeric { .. }) => "type a number · Backspace · Enter answer · Esc close",
    };
    lines.push(Line::styled(keys, t.dim()));
    let max_height = frame.area().height.saturating_sub(2);
    let title = format!(" Check {} of {} ", d.check + 1, lesson.checks.len());
    window(frame, t, 72, max_height, &title, lines);
}

/// What a learner reads after a first wrong answer: the check's hint, or for a number
/// without one, which side of the answer it fell on. Never the answer itself.
fn first_try_hint(app: &App, check: &crate::lesson::Check) -> String {
    if let Some(h) = &check.hint {
        return format!("Hint: {h}");
    }
    let typed = app.current_lesson().and_then(|l| app.answer(l, &check.id));
    match (&check.kind, typed) {
        (CheckKind::Numeric { answer, .. }, Some(crate::lesson::Answer::Number(v))) => {
            if v > answer {
                "Hint: that is too high.".to_owned()
            } else {
                "Hint: that is too low.".to_owned()
            }
        }
        _ => "Hint: read the part of the lesson this question is about once more.".to_owned(),
    }
}

/// The job-script window: where the time limit came from (plainly a guess when nothing
/// was measured), where `w` writes it, the script scrolled, and the keys.
fn draw_job_script(app: &App, js: &JobScript, frame: &mut Frame) {
    let t = &app.theme;
    let area = frame.area();
    let rect = layout::job_script(area);
    let width = usize::from(rect.width.saturating_sub(2));
    let rows = usize::from(layout::job_script_rows(area, js.header_lines()));
    let mut lines = Vec::new();
    if js.measured {
        lines.push(Line::styled(
            truncate(&format!(" ✓ --time {}", js.basis), width),
            t.good(),
        ));
    } else {
        lines.push(Line::styled(
            truncate(
                " ⚠ --time 1 h is a GUESS: not measured yet; run the sweep (r), then b again",
                width,
            ),
            t.warn(),
        ));
    }
    let target = match &js.written {
        Some(p) => format!(
            " written to {} · submit it with: sbatch {}",
            p.display(),
            p.file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        ),
        None => format!(
            " w writes {} in the current folder (-2, -3… if taken)",
            js.file_name
        ),
    };
    lines.push(Line::styled(truncate(&target, width), t.text()));
    for n in &js.notes {
        lines.push(Line::styled(
            truncate(&format!(" note: {n}"), width),
            t.warn(),
        ));
    }
    lines.push(Line::raw(""));
    let total = js.line_count();
    for l in js.text.lines().skip(js.scroll).take(rows) {
        let shown: String = l.chars().skip(js.hscroll).collect();
        lines.push(Line::styled(
            truncate(&format!(" {shown}"), width),
            t.code(),
        ));
    }
    for _ in total.saturating_sub(js.scroll).min(rows)..rows {
        lines.push(Line::raw(""));
    }
    lines.push(Line::raw(""));
    let shown_to = (js.scroll + rows).min(total);
    lines.push(Line::styled(
        truncate(
            &format!(
                " lines {}–{shown_to} of {total} · ↑↓ PgUp PgDn ←→ scroll · w write · Esc close",
                (js.scroll + 1).min(total)
            ),
            width,
        ),
        t.dim(),
    ));
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(" Job script for this form (sbatch) ")
        .border_style(t.border(true));
    frame.render_widget(Paragraph::new(lines).block(block), rect);
}

fn fmt_measure(v: f64) -> String {
    if v.abs() >= 100.0 || v == 0.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// The keys of the screen below the help window: what the help overlay lists.
/// The keys of the job-script window.
pub(crate) const JOB_SCRIPT_KEYS: &[(&str, &str)] = &[
    ("↑ ↓  k j", "scroll the script"),
    ("PgUp PgDn", "scroll a page"),
    ("← →  h l", "scroll long lines sideways"),
    ("g G", "top / bottom"),
    (
        "w",
        "write the script to the current folder (never over a file)",
    ),
    ("Esc", "close the window"),
    ("q", "quit the tutor"),
];

/// The help window: a key and what it does, a line each.
fn draw_help(frame: &mut Frame, t: &Theme, title: &str, keys: &[(&str, &str)]) {
    let mut lines = Vec::with_capacity(keys.len() + 2);
    for (k, what) in keys {
        lines.push(Line::from(vec![
            Span::styled(format!(" {k:<16}"), t.key()),
            Span::raw(what.to_string()),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::styled(" Esc or ? closes this help", t.dim()));
    let height = frame.area().height;
    window(frame, t, 74, height, &format!(" Keys: {title} "), lines);
}

pub(crate) fn help_keys(app: &App) -> (&'static str, Vec<(&'static str, &'static str)>) {
    let common = [
        ("?", "this help"),
        ("q, Ctrl-C", "quit (progress is saved)"),
    ];
    match &app.screen {
        Screen::Catalogue => {
            let mut keys = vec![
                ("↑ ↓  k j", "move between lessons"),
                ("PgUp PgDn", "move a page"),
                ("Home End  g G", "first / last lesson"),
                (
                    "Enter → l",
                    "open the lesson (or show a broken file's problems)",
                ),
            ];
            keys.push(("p", "your program: measure how any command scales"));
            if app.results.is_some() {
                keys.push(("R", "back to the results of batch jobs"));
            }
            keys.extend(common);
            ("catalogue", keys)
        }
        Screen::Reader(r) => {
            let mut keys = if r.focus == Focus::Panel {
                vec![
                    ("↑ ↓  k j", "choose a check"),
                    ("Enter", "answer the selected check"),
                    ("Tab", "back to the text"),
                ]
            } else {
                vec![
                    ("↑ ↓  k j", "scroll a line"),
                    ("PgUp PgDn Space", "scroll a page"),
                    ("Home End  g G", "top / end of the lesson"),
                    ("Tab", "go to the checks panel"),
                ]
            };
            keys.extend([
                ("x", "open the lesson's experiment (or the selected one)"),
                ("p", "play the lesson's next puzzle (or the selected one)"),
                ("s", "save the lesson card as a PNG in the current folder"),
                ("r", "run the lesson's experiment now"),
                ("h", "show a hint (again: the next one)"),
                ("n", "instructor notes"),
                ("Esc ←", "back to the catalogue"),
            ]);
            keys.extend(common);
            ("reader", keys)
        }
        Screen::Puzzle { .. } => {
            let mut keys: Vec<(&'static str, &'static str)> = crate::tui::puzzle::KEYS.to_vec();
            keys.extend(common);
            ("puzzle", keys)
        }
        Screen::Experiment { name, .. } => {
            let editing = app
                .experiments
                .get(name)
                .is_some_and(|v| v.editing.is_some());
            let mut keys = if editing {
                vec![
                    ("type", "change the value"),
                    ("Backspace", "delete a character"),
                    ("Enter", "keep the value"),
                    ("Esc", "undo the change"),
                ]
            } else {
                vec![
                    ("↑ ↓  k j", "choose a field"),
                    ("Enter e", "edit the field (choices: next option)"),
                    ("← →", "previous / next option of a choice"),
                    ("r", "run the experiment with these settings"),
                    ("c", "cancel the run in progress"),
                    ("v", "chart: time → speedup → efficiency"),
                    ("PgUp PgDn", "scroll the measured points"),
                    ("o", "compare with an earlier run"),
                    ("s", "save the chart as a PNG in the current folder"),
                    ("d", "drop the compared run"),
                    ("b", "job script (sbatch) for this form; w in it writes it"),
                    ("Esc", "back to the lesson (a run keeps going)"),
                ]
            };
            keys.extend(common);
            ("experiment", keys)
        }
        Screen::Results => {
            let open = app.results.as_ref().is_some_and(|r| r.open);
            let mut keys = if open {
                vec![
                    ("v", "chart: time → speedup → efficiency"),
                    ("s", "save the chart as a PNG in the current folder"),
                    ("Esc ←", "back to the list"),
                ]
            } else {
                vec![
                    ("↑ ↓  k j", "choose a sweep"),
                    ("Home End  g G", "newest / oldest"),
                    ("Enter → l", "show the sweep's charts"),
                    ("Esc ←", "to the lessons (R there comes back)"),
                ]
            };
            keys.extend(common);
            ("results", keys)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Modifier;
    use unicode_width::UnicodeWidthStr;

    /// The text of each line, without styles.
    fn plain(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    /// The first span whose text is `text`, give or take spaces around it.
    fn span<'a>(lines: &'a [Line<'static>], text: &str) -> &'a Span<'static> {
        lines
            .iter()
            .flat_map(|l| &l.spans)
            .find(|s| s.content.trim() == text)
            .unwrap_or_else(|| panic!("no span {text:?} in {:?}", plain(lines)))
    }

    const NOTES: &str = "\
Ask the class what they expect before revealing anything. Then write
`S(N) = 1 / (s + (1 - s)/N)` on the board: *most* people overestimate the limit.

Common mistakes:
- 'More workers always help.' With `s = 0.05` the speedup never passes 20, however many
  workers you add.
- 'The serial part is the slow code.' It is the part no worker can share.
";

    #[test]
    fn notes_are_markdown_reflowed_to_the_window() {
        let t = Theme::monochrome();
        let lines = notes_lines(NOTES, 40, &t);
        assert_eq!(
            plain(&lines),
            [
                "Ask the class what they expect before",
                "revealing anything. Then write S(N) = 1",
                "/ (s + (1 - s)/N) on the board: most",
                "people overestimate the limit.",
                "",
                "Common mistakes:",
                "",
                "• 'More workers always help.' With s =",
                "  0.05 the speedup never passes 20,",
                "  however many workers you add.",
                "• 'The serial part is the slow code.' It",
                "  is the part no worker can share.",
                "",
                "Esc close",
            ]
        );
        for line in &lines {
            assert!(line.width() <= 40, "{line:?}");
        }
    }

    #[test]
    fn inline_code_and_emphasis_are_styled_without_their_marks() {
        let t = Theme::colored();
        let lines = notes_lines("Use `mpirun -n 4` for *four* **ranks**.", 60, &t);
        assert_eq!(plain(&lines)[0], "Use mpirun -n 4 for four ranks.");
        assert_eq!(span(&lines, "mpirun -n 4").style, t.code());
        assert!(
            span(&lines, "four")
                .style
                .add_modifier
                .contains(Modifier::ITALIC)
        );
        assert!(
            span(&lines, "ranks")
                .style
                .add_modifier
                .contains(Modifier::BOLD)
        );
        assert!(!plain(&lines).concat().contains(['`', '*']));
    }

    #[test]
    fn hints_are_markdown_too() {
        let t = Theme::colored();
        let hint = "`counter += 1` is three steps:\n- load\n- add\n- store, and a thread can be \
                    interrupted between any two of them";
        let lines = hint_lines(hint, 2, 30, &t);
        assert_eq!(
            plain(&lines),
            [
                "counter += 1 is three steps:",
                "",
                "• load",
                "• add",
                "• store, and a thread can be",
                "  interrupted between any two",
                "  of them",
                "",
                "h next hint · Esc close",
            ]
        );
        assert_eq!(span(&lines, "counter += 1").style, t.code());
        assert_eq!(span(&lines, "•").style, t.rule());
        assert_eq!(
            plain(&hint_lines("Just one.", 1, 30, &t)),
            ["Just one.", "", "Esc close"]
        );
    }

    #[test]
    fn window_text_fits_narrow_windows() {
        let t = Theme::colored();
        for inner in [1, 10, 25, 62, 74] {
            for line in notes_lines(NOTES, inner, &t)
                .iter()
                .chain(&hint_lines(NOTES, 1, inner, &t))
            {
                let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
                // The keys line is the window's own and is wrapped by the window.
                if text.ends_with("Esc close") {
                    continue;
                }
                assert!(text.width() <= usize::from(inner), "{inner}: {text:?}");
            }
        }
    }
}
