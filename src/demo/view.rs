//! Drawing the demo: the stage (a lesson, a puzzle or a run's chart), the step's caption
//! over it, the speaker notes when asked for, and the presenter's bar at the bottom.
//! Drawing only reads the player.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Widget, Wrap};
use unicode_width::UnicodeWidthStr;

use super::player::{LessonStage, Player, RunStage, Source, Stage, lesson_text_area, stage_area};
use super::script::{Action, Wait};
use crate::chart::ChartModel;
use crate::record::{Record, Status};
use crate::tui::experiment::RunState;
use crate::tui::markdown;
use crate::tui::theme::Theme;
use crate::tui::view::{chart, puzzle, truncate};

/// Draws the whole demo screen.
pub fn draw(player: &Player, frame: &mut Frame) {
    let area = frame.area();
    let buf = frame.buffer_mut();
    draw_into(player, area, buf);
}

/// Draws the demo screen into `area` of `buf` (the same as [`draw`], for tests and exports).
pub fn draw_into(player: &Player, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let stage = stage_area((area.width, area.height));
    let stage = Rect {
        x: area.x,
        y: area.y,
        ..stage
    };
    match (player.stage_index(), player.stage()) {
        (Some(i), Some(Stage::Run(r))) => draw_run(player, i, r, stage, buf),
        (_, Some(Stage::Lesson(l))) => draw_lesson(player, l, stage, buf),
        (_, Some(Stage::Puzzle(p))) => puzzle::draw(&p.view, t, stage, buf),
        _ => {
            if !has_caption(player) {
                draw_title(player, stage, buf);
            }
        }
    }
    if let Some(c) = player
        .script
        .steps
        .get(player.current)
        .and_then(|s| s.caption.as_deref())
    {
        draw_caption(c, t, stage, buf);
    }
    if player.show_notes {
        draw_notes(player, stage, buf);
    }
    let bar = Rect {
        y: area.y + area.height.saturating_sub(1),
        height: area.height.min(1),
        ..area
    };
    draw_bar(player, bar, buf);
}

fn has_caption(player: &Player) -> bool {
    player
        .script
        .steps
        .get(player.current)
        .is_some_and(|s| s.caption.is_some())
}

fn draw_title(player: &Player, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let title = player.script.title.as_deref().unwrap_or("hpc-tutor demo");
    let rect = Rect {
        y: area.y + area.height / 3,
        height: 1.min(area.height),
        ..area
    };
    Line::styled(title.to_owned(), t.heading(1))
        .alignment(Alignment::Center)
        .render(rect, buf);
}

fn draw_lesson(player: &Player, l: &LessonStage, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let title = player
        .lessons
        .lessons
        .get(l.lesson)
        .map_or("", |x| x.title.as_str());
    Block::bordered()
        .title(format!(" {title} "))
        .border_style(t.border(false))
        .render(area, buf);
    let text = lesson_text_area(area);
    let visible: Vec<Line> = l
        .lines
        .iter()
        .skip(l.scroll)
        .take(usize::from(text.height))
        .cloned()
        .collect();
    Paragraph::new(visible).render(text, buf);
}

/// Parameters of a run in one line: `workers 1,2 · reps 3 · serial=0.3 work=1000000`.
fn run_params(records: &[Record]) -> Option<String> {
    let Some(Record::Run(r)) = records.first() else {
        return None;
    };
    let workers: Vec<String> = r.workers.iter().map(ToString::to_string).collect();
    let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    Some(format!(
        "workers {} · reps {} · {}",
        workers.join(","),
        r.reps,
        params.join(" ")
    ))
}

/// (point being measured, points, repetition, repetitions) from the records so far.
fn point_progress(records: &[Record]) -> Option<(usize, usize, usize, usize)> {
    let Some(Record::Run(run)) = records.first() else {
        return None;
    };
    let pairs: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let variants = crate::experiment::find(&run.experiment)
        .and_then(|info| {
            Some(
                info.variants(&crate::experiment::Params::parse(info, &pairs).ok()?)
                    .len(),
            )
        })
        .unwrap_or(1)
        .max(1);
    let points = run.workers.len() * variants;
    let done = records
        .iter()
        .filter(|r| matches!(r, Record::Point(_)))
        .count();
    let reps = records
        .iter()
        .rev()
        .take_while(|r| !matches!(r, Record::Point(_) | Record::Run(_)))
        .filter(|r| matches!(r, Record::Sample(s) if !s.warmup))
        .count();
    Some((
        (done + 1).min(points),
        points,
        (reps + 1).min(run.reps),
        run.reps,
    ))
}

/// How the run ended, then why it stopped (a deadlock's wait-for graph), then the fitted
/// law.
fn ending_lines(records: &[Record], t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for r in records {
        if let Record::End(e) = r {
            out.push(match e.status {
                Status::Ok => Line::styled(format!(" ✓ done in {:.1} s", e.elapsed_s), t.good()),
                Status::Deadlock => Line::styled(
                    " ✗ deadlock: no thread can move, the watchdog stopped the run".to_owned(),
                    t.bad(),
                ),
                Status::Cancelled => {
                    Line::styled(" cancelled; measured points are kept".to_owned(), t.warn())
                }
                s => Line::styled(
                    format!(" ✗ {s:?}: {}", e.message.clone().unwrap_or_default()).to_lowercase(),
                    t.bad(),
                ),
            });
        }
    }
    for r in records {
        if let Record::Diagnosis(d) = r {
            for w in &d.waits {
                out.push(Line::styled(format!("   {}", w.describe()), t.text()));
            }
            if !d.cycle.is_empty() {
                let mut cycle = d.cycle.clone();
                cycle.push(d.cycle[0].clone());
                out.push(Line::styled(
                    format!("   a cycle: {}", cycle.join(" → ")),
                    t.warn(),
                ));
            }
        }
    }
    // The run's main result, as the tutor's experiment screen and the lesson card give it.
    for line in crate::chart::headline::headline(records) {
        if line.starts_with("deadlock:") {
            continue; // the cycle is just above
        }
        out.push(Line::styled(format!(" {line}"), t.key()));
    }
    out
}

fn draw_run(player: &Player, i: usize, r: &RunStage, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let backend = r
        .records
        .first()
        .and_then(|x| match x {
            Record::Run(run) => Some(run.backend.clone()),
            _ => None,
        })
        .or_else(|| match &player.script.steps[i].action {
            Action::Run(s) => Some(s.backend.clone()),
            _ => None,
        })
        .unwrap_or_default();
    let kind = match &r.source {
        Source::Live { .. } => "live",
        Source::Replay { .. } => "replay",
        Source::Unavailable(_) => "not run",
    };
    let block = Block::bordered()
        .title(format!(" {} · {backend} · {kind} ", r.experiment))
        .border_style(t.border(false));
    let inner = block.inner(area);
    block.render(area, buf);
    let width = usize::from(inner.width);

    let mut head: Vec<Line<'static>> = Vec::new();
    if let Some(p) = run_params(&r.records) {
        head.push(Line::styled(truncate(&format!(" {p}"), width), t.dim()));
    }
    match &r.source {
        Source::Live {
            state,
            started,
            now,
            stored,
            stderr,
            ..
        } => {
            let elapsed = now.saturating_sub(*started).as_secs();
            match state {
                RunState::Starting => head.push(Line::styled(" starting…", t.text())),
                RunState::Running => {
                    let (point, points, rep, reps) =
                        point_progress(&r.records).unwrap_or((0, 0, 0, 0));
                    head.push(Line::styled(
                        format!(
                            " running live: point {point} of {points}, rep {rep} of {reps} · {elapsed} s"
                        ),
                        t.text(),
                    ));
                }
                RunState::Failed(m) => {
                    head.push(Line::styled(
                        truncate(&format!(" ✗ failed: {m}"), width),
                        t.bad(),
                    ));
                    if let Some(l) = stderr.last() {
                        head.push(Line::styled(truncate(&format!("   {l}"), width), t.dim()));
                    }
                }
                RunState::Ended(_) => {
                    if let Some(p) = stored {
                        head.push(Line::styled(
                            truncate(&format!(" measured live, kept in {}", p.display()), width),
                            t.dim(),
                        ));
                    }
                }
            }
        }
        Source::Replay { label, reason, .. } => {
            head.push(Line::styled(
                truncate(&format!(" ▶ {label}"), width),
                t.warn(),
            ));
            if let Some(why) = reason {
                let text = format!("instead of a live run: {why}");
                for l in wrap_text(&text, width.saturating_sub(4))
                    .into_iter()
                    .take(2)
                {
                    head.push(Line::styled(format!("   {l}"), t.warn()));
                }
            }
        }
        Source::Unavailable(why) => {
            head.push(Line::styled(
                truncate(&format!(" ✗ cannot run here: {why}"), width),
                t.bad(),
            ));
        }
    }
    let tail = ending_lines(&r.records, t);
    let runs_model = chart_model(player, i, r);
    // A run that ended without a single point (a deadlock) has no chart: its story is
    // the ending, which then gets the room.
    let no_chart = runs_model.is_empty() && !r.active();
    let tail_height = u16::try_from(tail.len())
        .unwrap_or(u16::MAX)
        .min(if no_chart {
            inner.height
        } else {
            inner.height / 3
        });
    let head_height = u16::try_from(head.len()).unwrap_or(u16::MAX);
    let [head_area, chart_area, tail_area] = if no_chart {
        let [h, _, rest] = Layout::vertical([
            Constraint::Length(head_height),
            Constraint::Length(1),
            Constraint::Min(0),
        ])
        .areas(inner);
        [h, Rect::default(), rest]
    } else {
        Layout::vertical([
            Constraint::Length(head_height),
            Constraint::Min(0),
            Constraint::Length(tail_height),
        ])
        .areas(inner)
    };
    Paragraph::new(head).render(head_area, buf);
    Paragraph::new(tail)
        .wrap(Wrap { trim: false })
        .render(tail_area, buf);

    if !no_chart {
        chart::draw(&runs_model, r.metric, t, chart_area, buf);
    }
}

/// The chart of run step `i`: its records, and those of the run it is compared with;
/// replayed runs are marked.
fn chart_model(player: &Player, i: usize, r: &RunStage) -> ChartModel {
    let mut runs: Vec<&[Record]> = vec![&r.records];
    let mut marks = vec![match &r.source {
        Source::Replay { label, .. } => Some(label.clone()),
        _ => None,
    }];
    if let Some(c) = player.compared(i) {
        runs.push(c);
        let earlier = (0..i).rev().find_map(|j| match player.stage_of(j) {
            Some(Stage::Run(e)) if player.script.steps[j].action.is_run() => Some(e),
            _ => None,
        });
        marks.push(earlier.and_then(|e| match &e.source {
            Source::Replay { label, .. } => Some(label.clone()),
            _ => None,
        }));
    }
    ChartModel::from_runs_marked(&runs, &marks)
}

/// Words of `text` wrapped to `width` columns; explicit line breaks are kept.
fn wrap_text(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut out = Vec::new();
    for para in text.lines() {
        let mut line = String::new();
        for word in para.split_whitespace() {
            let needed = if line.is_empty() {
                word.width()
            } else {
                line.width() + 1 + word.width()
            };
            if needed > width && !line.is_empty() {
                out.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        out.push(line);
    }
    out
}

/// A big centred box with bold reverse-video text, readable from the back of a room.
fn draw_caption(text: &str, t: &Theme, area: Rect, buf: &mut Buffer) {
    if area.width < 10 || area.height < 5 {
        return;
    }
    let max_w = area.width.saturating_sub(4);
    let widest = text.lines().map(UnicodeWidthStr::width).max().unwrap_or(0);
    let want = u16::try_from(widest + 8).unwrap_or(u16::MAX);
    let box_w = want.max(area.width * 3 / 5).min(max_w);
    let lines = wrap_text(text, usize::from(box_w.saturating_sub(8)));
    let box_h = (u16::try_from(lines.len()).unwrap_or(u16::MAX) + 4).min(area.height);
    let rect = crate::tui::view::layout::centered(area, box_w, box_h);
    Clear.render(rect, buf);
    let style = t.caption();
    let block = Block::bordered()
        .border_type(BorderType::Thick)
        .style(style)
        .border_style(style);
    let inner = block.inner(rect);
    block.render(rect, buf);
    let mut body: Vec<Line> = vec![Line::raw("")];
    body.extend(lines.into_iter().map(|l| Line::styled(l, style)));
    Paragraph::new(body)
        .style(style)
        .alignment(Alignment::Center)
        .render(inner, buf);
}

fn draw_notes(player: &Player, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let step = &player.script.steps[player.current];
    let text = step
        .notes
        .as_deref()
        .unwrap_or("No speaker notes for this step.");
    let width = area.width.saturating_sub(8).max(20);
    // Markdown, as the lesson reader and `hpc-tutor demo --notes` show it, with a column of
    // margin on either side.
    let lines = markdown::render(text, width.saturating_sub(4), t);
    let height = (u16::try_from(lines.len()).unwrap_or(u16::MAX) + 2)
        .min(area.height / 2)
        .max(3);
    let rect = Rect {
        x: area.x + (area.width.saturating_sub(width)) / 2,
        y: area.y + area.height.saturating_sub(height + 1),
        width: width.min(area.width),
        height: height.min(area.height),
    };
    Clear.render(rect, buf);
    let block = Block::bordered()
        .title(format!(
            " notes · step {} of {} · n closes ",
            player.current + 1,
            player.script.steps.len()
        ))
        .border_style(t.border(true));
    Paragraph::new(
        lines
            .into_iter()
            .map(|l| {
                let mut spans = vec![Span::raw(" ")];
                spans.extend(l.spans);
                Line::from(spans)
            })
            .collect::<Vec<_>>(),
    )
    .block(block)
    .render(rect, buf);
}

fn draw_bar(player: &Player, area: Rect, buf: &mut Buffer) {
    let t = &player.theme;
    let n = player.script.steps.len();
    let step = &player.script.steps[player.current];
    let playing = match player.stage_of(player.current) {
        Some(Stage::Run(r)) => r.active(),
        Some(Stage::Puzzle(p)) => {
            matches!(&step.action, Action::Puzzle { schedule, .. } if p.taken < schedule.len())
        }
        _ => false,
    };
    let state = if player.ended {
        "■ end of the demo".to_owned()
    } else if player.paused() {
        "⏸ paused".to_owned()
    } else if playing {
        "▶ playing".to_owned()
    } else {
        match (step.wait, player.countdown()) {
            (Wait::Key, _) => "⏎ space goes on".to_owned(),
            (_, Some(s)) => format!("▶ next in {s} s"),
            _ => "▶".to_owned(),
        }
    };
    let head = format!(" {}/{n} · {state} · ", player.current + 1);
    let width = usize::from(area.width);
    let full_keys = " space/→ next  ← back  p pause  r re-run  n notes  q quit ";
    let keys = if head.width() + full_keys.width() + 12 <= width {
        full_keys
    } else {
        " n notes  q quit "
    };
    let room = width.saturating_sub(head.width() + keys.width());
    let (middle, style) = match &player.status {
        Some((m, true)) => (truncate(m, room), t.status().patch(t.warn())),
        Some((m, false)) => (truncate(m, room), t.status()),
        None => (truncate(&player.describe(player.current), room), t.status()),
    };
    let head = truncate(&head, width);
    let pad = width.saturating_sub(head.width() + middle.width() + keys.width());
    let line = Line::from(vec![
        Span::styled(head, t.status()),
        Span::styled(middle, style),
        Span::styled(" ".repeat(pad), t.status()),
        Span::styled(keys, t.status()),
    ]);
    Paragraph::new(line).style(t.status()).render(area, buf);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_keeps_words_and_breaks() {
        assert_eq!(
            wrap_text("one two three\nfour", 8),
            ["one two", "three", "four"]
        );
    }
}
