//! The experiment screen: the form and the run's progress on the left, the live chart on the
//! right, and the measured points below the chart when there is room.

use crate::kernel::{Output, OutputsExt};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::truncate;
use crate::chart::sizes::{SizeChart, SizeMetric};
use crate::chart::waitfor::{self, WaitFor};
use crate::chart::{ChartKind, ChartModel, Metric};
use crate::measure::format::{bytes, latency_bandwidth_text, rate, seconds};
use crate::record::{Model, Record, Status};
use crate::tui::app::App;
use crate::tui::experiment::{ExperimentView, RunState};
use crate::tui::theme::Theme;

pub(super) fn draw(app: &App, view: &ExperimentView, frame: &mut Frame) {
    let t = &app.theme;
    let (main, _) = super::layout::main_and_status(frame.area());
    let form_width = if main.width >= 110 { 40 } else { 32 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(form_width), Constraint::Min(0)]).areas(main);

    draw_form(app, view, frame, left);

    let mut runs: Vec<&[Record]> = Vec::new();
    if let Some(run) = &view.run {
        runs.push(&run.records);
    }
    if let Some(c) = &view.compare {
        runs.push(&c.records);
    }
    // A program before its first run: what `r` will run, in full, where the chart goes.
    if runs.is_empty()
        && let Some(command) = view.command_preview(app.system.cpus)
    {
        let lines = vec![
            Line::styled("r runs, once per repetition of each point:", t.dim()),
            Line::raw(""),
            Line::styled(command, t.code()),
            Line::raw(""),
            Line::styled(
                "(shown for the first worker count: {workers} becomes each count of the sweep)",
                t.dim(),
            ),
        ];
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(" your program "))
                .wrap(Wrap { trim: false }),
            right,
        );
        return;
    }
    // The same decision as `export --run` and the lesson card make.
    let kind = ChartKind::of(&runs);
    if kind == ChartKind::WaitFor
        && let Some(w) = WaitFor::from_runs(&runs)
    {
        draw_wait_for(w.diagnosis, view.info.name, t, frame, right);
        return;
    }
    let advice = view
        .advice_request()
        .map(|r| app.system.advise(&r))
        .unwrap_or_default();
    let measured = view
        .run
        .as_ref()
        .is_some_and(|r| r.records.iter().any(|x| matches!(x, Record::Point(_))));
    let right = if advice.is_empty() {
        right
    } else if measured {
        // Once there are results, the advice shrinks to its problems (b shows the fixes in
        // the job script), so that the result and the points keep their room.
        let lines: Vec<Line> = advice
            .iter()
            .map(|a| Line::styled(format!("⚠ {} (b: the fix)", a.problem), t.warn()))
            .collect();
        let width = usize::from(right.width.saturating_sub(2)).max(1);
        let needed: usize = lines.iter().map(|l| l.width().div_ceil(width)).sum();
        let height = (needed as u16 + 2).min(4);
        let [rest, panel] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(right);
        frame.render_widget(
            Paragraph::new(lines)
                .block(
                    Block::bordered()
                        .title(Span::styled(" ⚠ advice ", t.warn()))
                        .border_style(t.warn()),
                )
                .wrap(Wrap { trim: false }),
            panel,
        );
        rest
    } else {
        let (lines, height) = advice_lines(&advice, t, right);
        let [rest, panel] =
            Layout::vertical([Constraint::Min(0), Constraint::Length(height)]).areas(right);
        let block = Block::bordered()
            .title(Span::styled(" ⚠ advice before you run ", t.warn()))
            .border_style(t.warn());
        frame.render_widget(
            Paragraph::new(lines)
                .block(block)
                .wrap(Wrap { trim: false }),
            panel,
        );
        rest
    };
    let model = ChartModel::from_runs(&runs);
    let sizes = (kind == ChartKind::MessageSizes).then(|| SizeChart::from_runs(&runs, &[]));
    let rows = view
        .run
        .as_ref()
        .map(|r| points(&r.records))
        .unwrap_or_default();
    let headline = view
        .run
        .as_ref()
        .map(|r| crate::chart::headline::headline(&r.records))
        .unwrap_or_default();
    draw_chart_and_points(
        &model,
        sizes.as_ref(),
        view.metric,
        "",
        &Table {
            headline: &headline,
            rows: &rows,
            scroll: view.table_scroll,
        },
        t,
        frame,
        right,
    );
}

/// What goes below a chart: the run's main result, and its measured points.
pub(super) struct Table<'a> {
    /// The main result, a line each (see [`crate::chart::headline`]).
    pub headline: &'a [String],
    /// The points.
    pub rows: &'a [Row],
    /// The first row shown; `None` follows the newest.
    pub scroll: Option<usize>,
}

/// The rows of a table of `rows` points that fit in `height` rows of screen.
fn visible_rows(rows: usize, height: u16) -> usize {
    rows.min(usize::from(height.saturating_sub(3)))
}

/// The advisor's panel for `advice`, and its height: each piece's problem and corrected
/// `#SBATCH` lines, with why and the interactive command when there is room (at most
/// about 45 % of `area`'s height).
fn advice_lines(
    advice: &[crate::cluster::advice::Advice],
    t: &Theme,
    area: Rect,
) -> (Vec<Line<'static>>, u16) {
    let inner = usize::from(area.width.saturating_sub(2)).max(1);
    let build = |full: bool| {
        let mut lines = Vec::new();
        for a in advice {
            lines.push(Line::styled(format!("⚠ {}", a.problem), t.warn()));
            if full {
                lines.push(Line::styled(format!("  why: {}", a.why), t.dim()));
            }
            if !a.sbatch.is_empty() {
                lines.push(Line::styled("  fix, in the job script:", t.text()));
                for l in &a.sbatch {
                    lines.push(Line::styled(format!("    {l}"), t.key()));
                }
            }
            if full && let Some(srun) = &a.srun {
                lines.push(Line::styled(format!("  or interactively: {srun}"), t.dim()));
            }
        }
        lines
    };
    // Word wrapping can need a row more than the character count suggests.
    let rows = |lines: &[Line]| -> usize {
        lines
            .iter()
            .map(|l| {
                let w = l.width();
                if w <= inner { 1 } else { w.div_ceil(inner) + 1 }
            })
            .sum::<usize>()
            + 2
    };
    let max = usize::from(area.height) * 45 / 100;
    let full = build(true);
    let (lines, need) = if rows(&full) <= max {
        let n = rows(&full);
        (full, n)
    } else {
        let compact = build(false);
        let n = rows(&compact);
        (compact, n)
    };
    let height = u16::try_from(need.min(max.max(4))).unwrap_or(u16::MAX);
    (lines, height)
}

/// The chart with its metric tabs, the run's main result below it, and the measured points
/// below that when there is room (at 80x24 too: the chart gives up rows first). `note` is
/// added to the chart's title.
#[allow(clippy::too_many_arguments)]
pub(super) fn draw_chart_and_points(
    model: &ChartModel,
    sizes: Option<&SizeChart>,
    metric: Metric,
    note: &str,
    table: &Table<'_>,
    t: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let rows = table.rows;
    let width = usize::from(area.width.saturating_sub(4)).max(1);
    // On a small screen the chart, the result and the table share the rows: the chart
    // keeps at least 9 (12 on a larger screen), the result at most 2 lines (else 4).
    let small = area.height < 24;
    let chart_min = if small { 9 } else { 12 };
    let headline_rows = table
        .headline
        .iter()
        .map(|l| l.chars().count().div_ceil(width).max(1))
        .sum::<usize>()
        .min(if small { 2 } else { 4 }) as u16;
    let headline_height = if headline_rows > 0 {
        headline_rows + 2
    } else {
        0
    };
    // The table shows 2 to 10 points with its header.
    let room = area.height.saturating_sub(headline_height + chart_min);
    let table_height = if rows.is_empty() || room < 5 {
        0
    } else {
        (rows.len().min(10) as u16 + 3).min(room)
    };
    let [chart_area, headline_area, table_area] = Layout::vertical([
        Constraint::Min(0),
        Constraint::Length(headline_height),
        Constraint::Length(table_height),
    ])
    .areas(area);
    if headline_height > 0 {
        let lines: Vec<Line> = table
            .headline
            .iter()
            .map(|l| Line::styled(format!(" {l}"), t.key()))
            .collect();
        frame.render_widget(
            Paragraph::new(lines)
                .block(
                    Block::bordered()
                        .title(" result ")
                        .border_style(t.border(false)),
                )
                .wrap(Wrap { trim: false }),
            headline_area,
        );
    }
    let show_table = table_height > 0;

    let size_metric = SizeMetric::of(metric);
    let mut title = match sizes {
        // Message sizes: time or bandwidth against the size.
        Some(_) => {
            let tab = |m: SizeMetric| {
                if m == size_metric {
                    Span::styled(format!("[{}]", m.label()), t.key())
                } else {
                    Span::styled(m.label().to_owned(), t.dim())
                }
            };
            vec![
                Span::raw(" "),
                tab(SizeMetric::Time),
                Span::raw(" "),
                tab(SizeMetric::Bandwidth),
            ]
        }
        None => vec![
            Span::raw(" "),
            metric_tab(Metric::Time, metric, t),
            Span::raw(" "),
            metric_tab(Metric::Speedup, metric, t),
            Span::raw(" "),
            metric_tab(Metric::Efficiency, metric, t),
        ],
    };
    let hint = "  v switches ";
    let note = if note.is_empty() {
        String::new()
    } else {
        format!("  {note} ")
    };
    let used: usize = title.iter().map(Span::width).sum::<usize>() + note.chars().count();
    // The note matters more than the hint (the help lists v) when both do not fit.
    if note.is_empty() || used + hint.len() + 2 <= usize::from(chart_area.width) {
        title.push(Span::styled(hint, t.dim()));
    } else {
        title.push(Span::raw(" "));
    }
    if !note.is_empty() {
        title.push(Span::styled(note, t.warn()));
    }
    let block = Block::bordered()
        .title(Line::from(title))
        .border_style(t.border(false));
    let inner = block.inner(chart_area);
    frame.render_widget(block, chart_area);
    match sizes {
        Some(sizes) => super::sizes::draw(sizes, size_metric, t, inner, frame.buffer_mut()),
        None => super::chart::draw(model, metric, t, inner, frame.buffer_mut()),
    }

    if show_table {
        draw_points(rows, table.scroll, t, frame, table_area);
    }
}

/// The wait-for graph of a deadlocked run: who holds what and waits for whom, the cycle, and
/// the fixes to run next.
pub(super) fn draw_wait_for(
    d: &crate::record::DiagnosisRecord,
    experiment: &str,
    t: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let mut lines = vec![
        Line::styled(
            format!(" No progress for {:.1} s. Who waits for whom:", d.stalled_s),
            t.bad(),
        ),
        Line::raw(""),
    ];
    let inner = usize::from(area.width.saturating_sub(4));
    if let Some((a, b)) = waitfor::pair(d) {
        // Two workers waiting for each other: two boxes and two arrows.
        let holds = waitfor::holds;
        let label_a = truncate(
            a.waits_for.as_deref().unwrap_or("?"),
            inner.saturating_sub(30),
        );
        let label_b = truncate(
            b.waits_for.as_deref().unwrap_or("?"),
            inner.saturating_sub(30),
        );
        let gap = label_a.chars().count().max(label_b.chars().count()).max(8) + 4;
        let bw = a
            .who
            .len()
            .max(b.who.len())
            .max(holds(a).len())
            .max(holds(b).len())
            + 2;
        let bx = |s: &str| format!("│{s:^bw$}│");
        let top = format!("┌{}┐", "─".repeat(bw));
        let bottom = format!("└{}┘", "─".repeat(bw));
        lines.push(Line::styled(
            format!("   {top}{}{top}", " ".repeat(gap)),
            t.text(),
        ));
        lines.push(Line::from(vec![
            Span::styled(format!("   {}", bx(&a.who)), t.text()),
            Span::styled(format!(" {:─<w$}▶ ", "", w = gap - 3), t.bad()),
            Span::styled(bx(&b.who), t.text()),
        ]));
        lines.push(Line::from(vec![
            Span::styled(format!("   {}", bx(&holds(a))), t.text()),
            Span::styled(format!(" ◀{:─<w$} ", "", w = gap - 3), t.bad()),
            Span::styled(bx(&holds(b)), t.text()),
        ]));
        lines.push(Line::styled(
            format!("   {bottom}{}{bottom}", " ".repeat(gap)),
            t.text(),
        ));
        lines.push(Line::raw(""));
        lines.push(Line::styled(
            format!("   {} → {}: {label_a}", a.who, b.who),
            t.dim(),
        ));
        lines.push(Line::styled(
            format!("   {} → {}: {label_b}", b.who, a.who),
            t.dim(),
        ));
    } else {
        for w in &d.waits {
            lines.push(Line::styled(format!("   {}", w.describe()), t.text()));
        }
    }
    lines.push(Line::raw(""));
    if let Some(cycle) = waitfor::cycle_sentence(d) {
        lines.push(Line::styled(format!(" {cycle}"), t.bad()));
    }
    if let Some(fixes) = waitfor::fixes(experiment) {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!(" {fixes}"), t.key()));
    }
    let block = Block::bordered()
        .title(" deadlock: wait-for graph ")
        .border_style(t.border(false));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        area,
    );
}

fn metric_tab(m: Metric, current: Metric, t: &Theme) -> Span<'static> {
    if m == current {
        Span::styled(format!("[{}]", m.label()), t.key())
    } else {
        Span::styled(m.label().to_owned(), t.dim())
    }
}

fn draw_form(app: &App, view: &ExperimentView, frame: &mut Frame, area: Rect) {
    let t = &app.theme;
    let width = usize::from(area.width.saturating_sub(2));
    let mut lines = vec![
        Line::styled(view.info.summary.to_owned(), t.dim()),
        Line::raw(""),
    ];
    let name_width = view.fields.iter().map(|f| f.name.len()).max().unwrap_or(6);
    for (i, f) in view.fields.iter().enumerate() {
        let selected = i == view.selected;
        let editing = selected && view.editing.is_some();
        let name_room = width.saturating_sub(name_width + 3);
        let value = if editing {
            // A long value being typed shows its end, where the cursor is.
            let shown = f.value.chars().count() + 1;
            if shown > name_room && name_room > 1 {
                let tail: String = f.value.chars().skip(shown - name_room + 1).collect();
                format!("…{tail}▏")
            } else {
                format!("{}▏", f.value)
            }
        } else if !f.options.is_empty() && selected {
            format!("‹ {} ›", f.value)
        } else {
            f.value.clone()
        };
        let text = truncate(&format!(" {:<name_width$}  {value}", f.name), width);
        let style = if selected { t.selected() } else { t.text() };
        let mut spans = vec![Span::styled(text.clone(), style)];
        if selected {
            let pad = width.saturating_sub(text.chars().count());
            spans.push(Span::styled(" ".repeat(pad), style));
        }
        lines.push(Line::from(spans));
        if let Some(e) = &f.error {
            lines.push(Line::styled(format!("   ⚠ {e}"), t.warn()));
        }
    }
    if let Some(f) = view.fields.get(view.selected) {
        lines.push(Line::styled(format!(" {}", f.help), t.dim()));
        if f.options.is_empty() && f.recent.len() > 1 && view.editing.is_none() {
            lines.push(Line::styled(
                format!(" ← → {} recent commands", f.recent.len()),
                t.dim(),
            ));
        }
    }
    if let Some(n) = &view.notice {
        lines.push(Line::styled(format!(" ⚠ {n}"), t.warn()));
    }
    // Beside a chart (before the first run the chart's place shows it in full).
    if (view.run.is_some() || view.compare.is_some())
        && let Some(c) = view.command_preview(app.system.cpus)
    {
        lines.push(Line::raw(""));
        lines.push(Line::styled(" runs:", t.dim()));
        lines.push(Line::styled(format!(" {c}"), t.code()));
    }
    lines.push(Line::raw(""));
    lines.extend(run_lines(view, t));
    let running = view.run.as_ref().is_some_and(|r| r.active());
    // The "Your program" screen opened from the catalogue goes back there.
    let back = match &app.screen {
        crate::tui::app::Screen::Experiment { back: None, .. } => "catalogue",
        _ => "lesson",
    };
    let keys: Vec<(&str, &str)> = if view.editing.is_some() {
        vec![("Enter", "keep"), ("Esc", "undo")]
    } else if running {
        vec![("c", "cancel"), ("v", "chart"), ("Esc", back)]
    } else {
        vec![
            ("r", "run"),
            ("Enter", "edit"),
            ("v", "chart"),
            ("o", "compare"),
            ("b", "job script"),
            ("Esc", back),
        ]
    };
    let mut spans = vec![Span::raw(" ")];
    for (k, what) in keys {
        spans.push(Span::styled(k, t.key()));
        spans.push(Span::styled(format!(" {what}  "), t.dim()));
    }
    let keys = Line::from(spans);

    let block = Block::bordered()
        .title(format!(
            " {} · {} ",
            if view.info.kind == crate::experiment::Kind::Program {
                "your program"
            } else {
                view.info.name
            },
            view.fields
                .iter()
                .find(|f| f.name == "backend")
                .map_or("threads", |f| f.value.as_str())
        ))
        .border_style(t.border(true));
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // The keys stay at the bottom, whatever the form and the run's lines take above them.
    let key_rows = u16::try_from(keys.width().div_ceil(usize::from(inner.width).max(1)) + 1)
        .unwrap_or(3)
        .min(inner.height / 2);
    let [body, keys_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(key_rows)]).areas(inner);
    frame.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), body);
    frame.render_widget(
        Paragraph::new(vec![Line::raw(""), keys]).wrap(Wrap { trim: false }),
        keys_area,
    );
}

fn run_lines(view: &ExperimentView, t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    let Some(run) = &view.run else {
        out.push(Line::styled(" No run yet: press r to measure.", t.dim()));
        if let Some(c) = &view.compare {
            out.push(Line::styled(
                format!(" comparing with {}", c.label),
                t.dim(),
            ));
        }
        return out;
    };
    let elapsed = run.now.saturating_duration_since(run.started).as_secs_f64();
    match &run.state {
        RunState::Starting => out.push(Line::styled(" starting…", t.text())),
        RunState::Running => {
            let (done, total) = view.progress().unwrap_or((0, 0));
            let (point, points, rep, reps) = point_progress(&run.records);
            out.push(Line::styled(
                format!(" running: point {point} of {points}, rep {rep} of {reps}"),
                t.text(),
            ));
            let left = if done > 0 && total > done {
                format!(
                    ", ≈ {:.0} s left",
                    elapsed / done as f64 * (total - done) as f64
                )
            } else {
                String::new()
            };
            out.push(Line::styled(
                format!(" {elapsed:.0} s elapsed{left}"),
                t.dim(),
            ));
        }
        RunState::Ended(Status::Ok) => out.push(Line::styled(" ✓ done", t.good())),
        RunState::Ended(Status::Cancelled) => {
            out.push(Line::styled(
                " cancelled; measured points are kept",
                t.warn(),
            ));
        }
        RunState::Ended(Status::Deadlock) => {
            out.push(Line::styled(
                " ✗ deadlock: no progress, the run was stopped",
                t.bad(),
            ));
            for r in &run.records {
                if let Record::Diagnosis(d) = r {
                    out.push(Line::styled(format!("   {}", d.message), t.text()));
                }
            }
        }
        RunState::Ended(s) => out.push(Line::styled(format!(" ended: {s:?}"), t.warn())),
        RunState::Failed(msg) => {
            out.push(Line::styled(format!(" ✗ failed: {msg}"), t.bad()));
            for l in run.stderr.iter().rev().take(4).rev() {
                out.push(Line::styled(format!("   {l}"), t.dim()));
            }
        }
    }
    if let Some(Record::Run(r)) = run.records.first()
        && let Some(w) =
            crate::measure::format::busy_warning(r.env.busy_before, r.env.cpus_available)
    {
        out.push(Line::styled(format!(" ⚠ {w}"), t.warn()));
    }
    if let Some(p) = &run.stored {
        out.push(Line::styled(format!(" kept in {}", p.display()), t.dim()));
    }
    if let Some(c) = &view.compare {
        out.push(Line::styled(
            format!(" comparing with {} (d drops it)", c.label),
            t.dim(),
        ));
    }
    out
}

/// The fitted laws among `records`, a line each.
pub(super) fn fit_lines(records: &[Record], t: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for r in records {
        if let Record::Fit(f) = r {
            let law = match f.model {
                Model::Amdahl => "Amdahl",
                Model::Gustafson => "Gustafson",
                Model::LatencyBandwidth => {
                    out.push(Line::from(vec![
                        Span::styled(" latency–bandwidth fit: ", t.text()),
                        Span::styled(latency_bandwidth_text(f), t.key()),
                    ]));
                    continue;
                }
            };
            let variant = f
                .variant
                .as_deref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default();
            let configured = records.iter().find_map(|r| match r {
                Record::Run(run) => crate::experiment::find(&run.experiment)
                    .and_then(|e| e.configured_serial_param())
                    .and_then(|p| run.params.get(p).cloned()),
                _ => None,
            });
            out.push(Line::from(vec![
                Span::styled(format!(" {law} fit{variant}: "), t.text()),
                Span::styled(format!("s = {:.3}", f.serial_fraction), t.key()),
                Span::styled(
                    configured
                        .map(|c| format!(" (configured {c})"))
                        .unwrap_or_default(),
                    t.dim(),
                ),
            ]));
        }
    }
    out
}

/// (current point, points, current repetition, repetitions) from the records so far.
fn point_progress(records: &[Record]) -> (usize, usize, usize, usize) {
    let Some(Record::Run(run)) = records.first() else {
        return (0, 0, 0, 0);
    };
    let pairs: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    // Points per worker count: one per variant, times one per message size.
    let per_workers = crate::experiment::find(&run.experiment)
        .and_then(|info| {
            let params = crate::experiment::Params::parse(info, &pairs).ok()?;
            Some(info.variants(&params).len().max(1) * info.sizes(&params).len().max(1))
        })
        .unwrap_or(1)
        .max(1);
    let points = run.workers.len() * per_workers;
    let done_points = records
        .iter()
        .filter(|r| matches!(r, Record::Point(_)))
        .count();
    let reps_done = records
        .iter()
        .rev()
        .take_while(|r| !matches!(r, Record::Point(_) | Record::Run(_)))
        .filter(|r| matches!(r, Record::Sample(s) if !s.warmup))
        .count();
    (
        (done_points + 1).min(points),
        points,
        (reps_done + 1).min(run.reps),
        run.reps,
    )
}

/// One line of the measured points' table.
pub(super) struct Row {
    workers: usize,
    variant: Option<String>,
    time: f64,
    speedup: Option<f64>,
    efficiency: Option<f64>,
    oversubscribed: bool,
    /// Other work shared the CPUs while it was measured.
    disturbance: Option<String>,
    note: String,
}

/// The table rows of the points among `records`.
pub(super) fn points(records: &[Record]) -> Vec<Row> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Point(p) => Some(Row {
                workers: p.workers,
                variant: p.variant.clone(),
                time: p.median_s,
                speedup: p.speedup,
                efficiency: p.efficiency,
                oversubscribed: p.oversubscribed,
                disturbance: p.disturbance(),
                note: match crate::measure::format::nodes_note(&p.hosts) {
                    Some(nodes) => format!("{}  {nodes}", note(&p.outputs, p.workers)),
                    None => note(&p.outputs, p.workers),
                },
            }),
            _ => None,
        })
        .collect()
}

/// The outputs worth a glance: the message size and what happened to it first (pingpong,
/// the eager-limit sweep), then the results of the computation.
fn note(outputs: &std::collections::BTreeMap<String, f64>, workers: usize) -> String {
    let mut parts = crate::measure::format::program_notes(outputs, workers);
    if let Some(b) = outputs.output(Output::SizeBytes) {
        parts.push(bytes(b));
    }
    if outputs.output(Output::Completed) == Some(0.0) {
        parts.push("DEADLOCK".to_owned());
    }
    if let Some(r) = outputs.output(Output::BandwidthMbS) {
        parts.push(rate(r));
    }
    if let Some(g) = outputs.output(Output::BandwidthGbS) {
        parts.push(rate(g * 1e3));
        if outputs.output(Output::SizeBytes).is_none()
            && let Some(w) = outputs.output(Output::WorkingSetBytes)
        {
            parts.push(format!("working set {}", bytes(w)));
        }
    }
    if outputs.output(Output::DataOk) == Some(0.0) {
        parts.push("WRONG DATA".to_owned());
    }
    // The outputs that tell the story first: lost updates, then the computed value, then
    // how a farm's tasks were shared.
    let first = [
        Output::LostUpdates,
        Output::Estimate,
        Output::Value,
        Output::AbsError,
        Output::TasksMin,
        Output::TasksMax,
        Output::LoadImbalance,
        Output::ManagerBusy,
    ];
    let rank = |k: &str| {
        first
            .iter()
            .position(|o| o.key() == k)
            .unwrap_or(first.len())
    };
    // Internal bookkeeping, and what is shown above.
    let hidden = [
        Output::Checksum,
        Output::WorkUnits,
        Output::SerialConfigured,
        Output::Samples,
        Output::SizeBytes,
        Output::Completed,
        Output::BandwidthMbS,
        Output::WallS,
        Output::ProgramS,
        Output::CpuS,
        Output::CpusBusy,
        Output::BandwidthGbS,
        Output::WorkingSetBytes,
        Output::ArrayBytes,
        Output::BytesMoved,
        Output::Passes,
        Output::DataOk,
    ];
    let mut rest: Vec<(&String, &f64)> = outputs.iter().collect();
    rest.sort_by_key(|(k, _)| rank(k));
    parts.extend(
        rest.into_iter()
            .filter(|(k, _)| !hidden.iter().any(|o| o.key() == k.as_str()))
            // Counts in full (`5,000,000`), other values in a few digits.
            .map(|(k, v)| format!("{k} {}", crate::measure::format::value(*v))),
    );
    parts.join("  ")
}

fn draw_points(rows: &[Row], scroll: Option<usize>, t: &Theme, frame: &mut Frame, area: Rect) {
    // The variant column only where there are variants, as wide as the longest.
    let vw = rows
        .iter()
        .filter_map(|r| r.variant.as_deref().map(|v| v.chars().count()))
        .max()
        .map_or(0, |w| w.max(7) + 1);
    let variant_head = if vw > 0 { "variant" } else { "" };
    let mut lines = vec![Line::styled(
        format!(
            " {:>7}{variant_head:>vw$} {:>11} {:>8} {:>10}  notes",
            "workers", "time", "speedup", "efficiency"
        ),
        t.heading(3),
    )];
    let shown = visible_rows(rows.len(), area.height);
    let last_start = rows.len().saturating_sub(shown);
    let skip = scroll.map_or(last_start, |s| s.min(last_start));
    for r in rows.iter().skip(skip).take(shown) {
        let opt = |v: Option<f64>| v.map_or("-".to_owned(), |x| format!("{x:.2}"));
        let mut note = r.note.clone();
        if r.oversubscribed {
            note = format!("oversubscribed  {note}");
        }
        if let Some(d) = &r.disturbance {
            // After the size and its outcome (the sweeps' first facts), before nothing else.
            note = format!("{note}  ⚠ {d}");
        }
        lines.push(Line::styled(
            format!(
                " {:>7}{:>vw$} {:>11} {:>8} {:>10}  {note}",
                r.workers,
                r.variant.as_deref().unwrap_or(""),
                seconds(r.time),
                opt(r.speedup),
                opt(r.efficiency),
            ),
            if r.oversubscribed || r.disturbance.is_some() {
                t.warn()
            } else {
                t.text()
            },
        ));
    }
    let title = if shown < rows.len() {
        format!(
            " measured points (medians) {}–{} of {} · PgUp/PgDn scroll ",
            skip + 1,
            skip + shown,
            rows.len()
        )
    } else {
        " measured points (medians) ".to_owned()
    };
    let block = Block::bordered().title(title).border_style(t.border(false));
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
