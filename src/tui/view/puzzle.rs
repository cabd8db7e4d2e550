//! The puzzle stepper: the goal on top, the threads side by side as columns of code with the
//! next step of each highlighted, the shared state below them, then the status, the last
//! message and the keys.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};
use unicode_width::UnicodeWidthStr;

use super::truncate;
use crate::puzzle::{BlockReason, Goal, Instr, Puzzle, State, Status, ThreadId, Wait};
use crate::tui::puzzle::{PuzzleView, Tone};
use crate::tui::theme::Theme;

/// Most lines the description and the message may take before they are cut.
const MAX_TEXT_LINES: usize = 3;

/// Draws the stepper of `view` into `area` of `buf`.
pub fn draw(view: &PuzzleView, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let t = theme;
    let p = view.puzzle();
    let state = view.session.state();
    let status = view.session.status();
    let width = usize::from(area.width);

    // Header: title, description, goal.
    let mut header: Vec<Line<'static>> = Vec::new();
    let mut title = vec![Span::styled(format!(" Puzzle: {}", p.title), t.heading(2))];
    if view.solved {
        title.push(Span::styled("  ✓ solved", t.good()));
    }
    header.push(Line::from(title));
    for l in wrap(&p.description, width.saturating_sub(2), MAX_TEXT_LINES) {
        header.push(Line::styled(format!(" {l}"), t.text()));
    }
    let goal_lines = wrap(
        &format!("Goal: {}", p.goal_text),
        width.saturating_sub(2),
        2,
    );
    for l in goal_lines {
        header.push(Line::styled(format!(" {l}"), t.key()));
    }

    // Shared state, wrapped into a bordered box.
    let shared = shared_spans(p, state, t);
    let shared_lines = wrap_spans(shared, width.saturating_sub(2));

    // Footer: status, message, keys.
    let mut footer: Vec<Line<'static>> = vec![status_line(view, &status, t, width)];
    if let Some(m) = &view.message {
        let style = match m.tone {
            Tone::Info => t.text(),
            Tone::Good => t.good(),
            Tone::Bad => t.warn(),
            Tone::Hint => t.quote(),
        };
        for l in wrap(&m.text, width.saturating_sub(2), MAX_TEXT_LINES) {
            footer.push(Line::styled(format!(" {l}"), style));
        }
    }
    footer.push(keys_line(t));

    // Columns side by side; their widths do not depend on the height.
    let n = p.threads.len().max(1);
    let columns = Layout::horizontal(vec![Constraint::Ratio(1, n as u32); n])
        .split(Rect { height: 1, ..area });
    let states: Vec<Vec<Line<'static>>> = columns
        .iter()
        .enumerate()
        .take(p.threads.len())
        .map(|(i, col)| {
            thread_state_lines(
                view,
                i,
                &status,
                t,
                usize::from(col.width.saturating_sub(2)),
            )
        })
        .collect();
    let state_height = states.iter().map(Vec::len).max().unwrap_or(0);
    // As tall as the longest fully expanded code needs, if there is room; else what is left.
    let code_rows_max = (0..p.threads.len())
        .map(|i| code_rows(p, state, i, true).len())
        .max()
        .unwrap_or(0);
    let needed = (code_rows_max + 1 + state_height + 2) as u16;
    let fixed = header.len() + shared_lines.len() + 2 + footer.len();
    let room = area.height.saturating_sub(fixed as u16);
    let [head_area, threads_area, shared_area, foot_area, _] = Layout::vertical([
        Constraint::Length(header.len() as u16),
        Constraint::Length(needed.min(room).max(6)),
        Constraint::Length(shared_lines.len() as u16 + 2),
        Constraint::Length(footer.len() as u16),
        Constraint::Min(0),
    ])
    .areas(area);

    Paragraph::new(header).render(head_area, buf);

    for ((i, col), lines) in columns.iter().enumerate().zip(states) {
        let col = Rect {
            y: threads_area.y,
            height: threads_area.height,
            ..*col
        };
        draw_thread(view, i, lines, state_height, t, col, buf);
    }

    Paragraph::new(shared_lines)
        .block(
            Block::bordered()
                .title(" shared ")
                .border_style(t.border(false)),
        )
        .render(shared_area, buf);
    Paragraph::new(footer).render(foot_area, buf);
}

fn status_line(view: &PuzzleView, status: &Status, t: &Theme, width: usize) -> Line<'static> {
    let p = view.puzzle();
    let steps = view.session.schedule().len();
    let (text, style) = match status {
        Status::Running => ("Running".to_owned(), t.text()),
        Status::GoalReached => {
            let what = match p.goal {
                Goal::AssertFails => "an assertion failed",
                Goal::Deadlock => "deadlock: no thread can move",
                Goal::BothInCritical => "two threads are in the critical section",
                Goal::Finish => "every thread finished and nothing broke",
            };
            (format!("Goal reached ✓ {what}"), t.good())
        }
        Status::Deadlock => (
            "Deadlock ✗ no thread can move (not the goal)".to_owned(),
            t.bad(),
        ),
        Status::Finished => ("Finished without breaking it".to_owned(), t.warn()),
        Status::Failed(f) => (format!("Failed ✗ {}", f.describe(p)), t.bad()),
    };
    let mut line = format!(" {text}");
    let names: Vec<&str> = view
        .session
        .schedule()
        .iter()
        .map(|&u| p.threads.get(u).map_or("?", |th| th.name.as_str()))
        .collect();
    // The steps taken so far, the latest kept when they do not all fit.
    let label = match steps {
        0 => " · no steps yet".to_owned(),
        1 => " · 1 step: ".to_owned(),
        n => format!(" · {n} steps: "),
    };
    let room = width.saturating_sub(line.width() + label.width() + 1);
    let sep = p.schedule_separator();
    if names.is_empty() {
        line.push_str(&label);
    } else if room >= 8 {
        let all = names.join(sep);
        let shown = if all.width() <= room {
            all
        } else {
            let mut kept: Vec<&str> = Vec::new();
            let mut used = 1;
            for name in names.iter().rev() {
                if used + name.width() + sep.width() > room {
                    break;
                }
                used += name.width() + sep.width();
                kept.push(name);
            }
            kept.reverse();
            format!("…{}", kept.join(sep))
        };
        line.push_str(&label);
        line.push_str(&shown);
    }
    Line::styled(truncate(&line, width), style)
}

fn keys_line(t: &Theme) -> Line<'static> {
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in [
        ("←/→", "thread"),
        ("Enter", "step"),
        ("u", "undo"),
        ("R", "reset"),
        ("h", "hint"),
        ("Esc", "back"),
    ] {
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::styled(format!(" {what}  "), t.dim()));
    }
    Line::from(spans)
}

/// One row of a thread's code column.
struct Row {
    text: String,
    kind: RowKind,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowKind {
    /// Readable code, not holding the next step.
    Line,
    /// Readable code whose steps include the next one.
    CurrentLine,
    /// A step that is not next.
    Step,
    /// The next step.
    Next,
    /// A label alone.
    Label,
    /// The thread has finished.
    Done,
}

/// The rows of thread `i`'s code; `expand_all` shows the steps of every line, else only of the
/// line holding the next step.
fn code_rows(p: &Puzzle, state: &State, i: ThreadId, expand_all: bool) -> Vec<Row> {
    let thread = &p.threads[i];
    let pc = state.threads[i].pc;
    let mut rows = Vec::new();
    for line in &thread.lines {
        let current = line.steps.contains(&pc);
        if line.steps.is_empty() {
            rows.push(Row {
                text: format!("  {}", line.text),
                kind: RowKind::Label,
            });
        } else if !line.expanded {
            rows.push(Row {
                text: format!("{}{}", if current { "▶ " } else { "  " }, line.text),
                kind: if current {
                    RowKind::Next
                } else {
                    RowKind::Line
                },
            });
        } else {
            rows.push(Row {
                text: format!("{}{}", if current { "› " } else { "  " }, line.text),
                kind: if current {
                    RowKind::CurrentLine
                } else {
                    RowKind::Line
                },
            });
            if expand_all || current {
                for s in line.steps.clone() {
                    let next = s == pc;
                    rows.push(Row {
                        text: format!(
                            "  {}{}",
                            if next { "▶ " } else { "  " },
                            thread.steps[s].text
                        ),
                        kind: if next { RowKind::Next } else { RowKind::Step },
                    });
                }
            }
        }
    }
    if pc >= thread.steps.len() {
        rows.push(Row {
            text: "✓ done".to_owned(),
            kind: RowKind::Done,
        });
    }
    rows
}

/// Thread `i`'s own state, shown below its code: registers, then what it is doing.
fn thread_state_lines(
    view: &PuzzleView,
    i: ThreadId,
    status: &Status,
    t: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let p = view.puzzle();
    let state = view.session.state();
    let mut lines: Vec<Line<'static>> = Vec::new();
    let regs: Vec<String> = p.threads[i]
        .registers
        .iter()
        .zip(&state.threads[i].regs)
        .map(|(r, v)| format!("{r} = {v}"))
        .collect();
    if !regs.is_empty() {
        lines.push(Line::styled(
            truncate(&format!(" {}", regs.join("  ")), width),
            t.text(),
        ));
    } else if p.threads.iter().any(|th| !th.registers.is_empty()) {
        // Keep the state lines of every column on the same rows.
        lines.push(Line::styled(truncate(" no registers", width), t.dim()));
    }
    if state.threads[i].in_critical {
        lines.push(Line::styled(
            truncate(" ● in the critical section", width),
            t.warn(),
        ));
    }
    let (what, style) = match state.can_run(p, i) {
        Err(b) if b.reason == BlockReason::Finished => ("finished".to_owned(), t.good()),
        Err(b) => (format!("blocked: {}", b.describe(p)), t.bad()),
        Ok(()) if status.is_over() => ("stopped".to_owned(), t.dim()),
        Ok(()) => match state.threads[i].wait {
            Wait::Woken => ("woken: can take its lock back".to_owned(), t.dim()),
            Wait::Barrier { .. } => ("barrier open: can leave".to_owned(), t.dim()),
            Wait::Matched => {
                let call = match p.threads[i]
                    .steps
                    .get(state.threads[i].pc)
                    .map(|s| &s.instr)
                {
                    Some(Instr::Send { .. }) => "message received: send can return",
                    _ => "message arrived: recv can return",
                };
                (call.to_owned(), t.dim())
            }
            _ => ("ready".to_owned(), t.dim()),
        },
    };
    for l in wrap(&what, width.saturating_sub(1), 3) {
        lines.push(Line::styled(format!(" {l}"), style));
    }
    lines
}

/// Draws thread `i`'s column: its code above, `state_lines` in the bottom `state_height`
/// rows (the same for every column, so that registers line up).
fn draw_thread(
    view: &PuzzleView,
    i: ThreadId,
    state_lines: Vec<Line<'static>>,
    state_height: usize,
    t: &Theme,
    area: Rect,
    buf: &mut Buffer,
) {
    let p = view.puzzle();
    let state = view.session.state();
    let selected = i == view.selected;
    let name = &p.threads[i].name;
    let title = if selected {
        Span::styled(format!(" ▶ {name} "), t.selected())
    } else {
        Span::styled(format!(" {name} "), t.border(false))
    };
    let block = Block::bordered()
        .title(title)
        .border_style(t.border(selected));
    let inner = block.inner(area);
    block.render(area, buf);
    let width = usize::from(inner.width);
    if width == 0 || inner.height == 0 {
        return;
    }
    let mut bottom = state_lines;
    bottom.resize(state_height.max(bottom.len()), Line::raw(""));

    let code_height = usize::from(inner.height).saturating_sub(bottom.len() + 1);
    let mut rows = code_rows(p, state, i, true);
    if rows.len() > code_height {
        rows = code_rows(p, state, i, false);
    }
    // Keep the next step in view: scroll so it sits a third of the way down.
    let focus = rows
        .iter()
        .position(|r| matches!(r.kind, RowKind::Next | RowKind::Done))
        .unwrap_or(0);
    let start = if rows.len() > code_height {
        focus
            .saturating_sub(code_height / 3)
            .min(rows.len() - code_height)
    } else {
        0
    };
    let mut lines: Vec<Line<'static>> = rows
        .iter()
        .skip(start)
        .take(code_height)
        .map(|r| {
            let text = truncate(&r.text, width);
            let style = match r.kind {
                RowKind::Line => t.text(),
                RowKind::CurrentLine => t.text().add_modifier(ratatui::style::Modifier::BOLD),
                RowKind::Step | RowKind::Label => t.dim(),
                RowKind::Next if selected => t.selected(),
                RowKind::Next => t.key(),
                RowKind::Done => t.good(),
            };
            if r.kind == RowKind::Next && selected {
                let pad = width.saturating_sub(text.width());
                Line::from(vec![
                    Span::styled(text, style),
                    Span::styled(" ".repeat(pad), style),
                ])
            } else {
                Line::styled(text, style)
            }
        })
        .collect();
    while lines.len() < usize::from(inner.height).saturating_sub(bottom.len()) {
        lines.push(Line::raw(""));
    }
    lines.extend(bottom);
    Paragraph::new(lines).render(inner, buf);
}

/// The shared state as spans: variables, then locks, semaphores, barriers, conditions,
/// channels (buffered messages, capacity, waiting sends and receives) and the final check. Items are separated by runs of spaces, where wrapping may break.
fn shared_spans(p: &Puzzle, state: &State, t: &Theme) -> Vec<(String, Style)> {
    let thread = |u: ThreadId| p.threads.get(u).map_or("?", |th| th.name.as_str());
    let mut items: Vec<(String, Style)> = Vec::new();
    for (v, value) in p.vars.iter().zip(&state.vars) {
        items.push((format!("{} = {value}", v.name), t.code()));
    }
    for (m, owner) in p.locks.iter().zip(&state.lock_owners) {
        match owner {
            Some(o) => items.push((format!("lock {m}: held by {}", thread(*o)), t.warn())),
            None => items.push((format!("lock {m}: free"), t.text())),
        }
    }
    for (s, count) in p.semaphores.iter().zip(&state.semaphores) {
        items.push((format!("semaphore {} = {count}", s.name), t.code()));
    }
    for (b, bs) in p.barriers.iter().zip(&state.barriers) {
        items.push((
            format!(
                "barrier {}: {} of {} arrived",
                b.name, bs.arrived, b.parties
            ),
            t.text(),
        ));
    }
    for (c, waiters) in p.conditions.iter().zip(&state.waiters) {
        let who: Vec<&str> = waiters.iter().map(|&w| thread(w)).collect();
        let text = if who.is_empty() {
            format!("condition {}: nobody waiting", c.name)
        } else {
            format!("condition {}: {} waiting", c.name, who.join(", "))
        };
        items.push((text, t.text()));
    }
    for (c, cs) in p.channels.iter().zip(&state.channels) {
        let mut text = if c.capacity == 0 {
            format!("channel {}: no buffer", c.name)
        } else if cs.buffer.is_empty() {
            format!("channel {}: empty (0 of {})", c.name, c.capacity)
        } else {
            let messages: Vec<String> = cs.buffer.iter().map(i64::to_string).collect();
            format!(
                "channel {}: holds {} ({} of {})",
                c.name,
                messages.join(", "),
                cs.buffer.len(),
                c.capacity
            )
        };
        for (s, v) in &cs.senders {
            text.push_str(&format!(" · {} waits to send {v}", thread(*s)));
        }
        for r in &cs.receivers {
            text.push_str(&format!(" · {} waits to recv", thread(*r)));
        }
        let busy = !cs.senders.is_empty() || !cs.receivers.is_empty();
        items.push((text, if busy { t.warn() } else { t.code() }));
    }
    if let Some(fa) = &p.final_assert {
        items.push((format!("at the end: assert {}", fa.text), t.dim()));
    }
    if items.is_empty() {
        items.push(("nothing shared".to_owned(), t.dim()));
    }
    items
}

/// Lays out `items` on lines of `width`, three spaces apart, never splitting an item (an item
/// longer than a line is cut).
fn wrap_spans(items: Vec<(String, Style)>, width: usize) -> Vec<Line<'static>> {
    let mut lines: Vec<Line<'static>> = Vec::new();
    let mut current: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (text, style) in items {
        let text = truncate(&text, width.saturating_sub(1));
        let w = text.width();
        let sep = if current.is_empty() { 1 } else { 3 };
        if !current.is_empty() && used + sep + w > width {
            lines.push(Line::from(std::mem::take(&mut current)));
            used = 0;
        }
        let sep = if current.is_empty() { 1 } else { 3 };
        current.push(Span::raw(" ".repeat(sep)));
        current.push(Span::styled(text, style));
        used += sep + w;
    }
    if !current.is_empty() {
        lines.push(Line::from(current));
    }
    lines
}

/// Greedy word wrap of `text` to `width` columns, at most `max` lines (the last cut with `…`).
fn wrap(text: &str, width: usize, max: usize) -> Vec<String> {
    let width = width.max(1);
    let max = max.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if line.is_empty() {
            line = word.to_owned();
        } else if line.width() + 1 + word.width() <= width {
            line.push(' ');
            line.push_str(word);
        } else {
            lines.push(std::mem::take(&mut line));
            line = word.to_owned();
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max {
        let rest = lines[max - 1..].join(" ");
        lines.truncate(max - 1);
        lines.push(truncate(&rest, width));
    }
    lines.into_iter().map(|l| truncate(&l, width)).collect()
}

#[cfg(test)]
mod tests {
    use super::wrap;

    #[test]
    fn wrap_breaks_at_spaces_and_cuts_after_max_lines() {
        assert_eq!(wrap("aa bb cc dd", 5, 3), ["aa bb", "cc dd"]);
        assert_eq!(wrap("aa bb cc dd ee ff", 5, 2), ["aa bb", "cc d…"]);
        assert_eq!(wrap("", 5, 2), Vec::<String>::new());
        assert_eq!(wrap("abcdefgh", 4, 2), ["abc…"]);
    }
}
