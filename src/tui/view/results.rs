//! The results screen: the sweeps batch jobs measured (newest first, the highlighted one's
//! details below), or one sweep's charts drawn like a live run's — always labelled as
//! measured by batch jobs.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::truncate;
use crate::chart::ChartModel;
use crate::tui::results::{ResultEntry, ResultsView};
use crate::tui::theme::Theme;

pub(super) fn draw(view: &ResultsView, t: &Theme, frame: &mut Frame) {
    let (main, _) = super::layout::main_and_status(frame.area());
    if view.open
        && let Some(entry) = view.current()
    {
        draw_sweep(view, entry, t, frame, main);
    } else {
        draw_list(view, t, frame, main);
    }
}

/// `2026-11-22 09:38` from an RFC 3339 time.
fn when(started_at: &str) -> String {
    started_at.get(..16).unwrap_or(started_at).replace('T', " ")
}

fn list_of(items: &[&str], none: &str) -> String {
    if items.is_empty() {
        none.to_owned()
    } else {
        items.join(", ")
    }
}

fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{n} files")
    }
}

fn draw_list(view: &ResultsView, t: &Theme, frame: &mut Frame, area: Rect) {
    let detail_height = 9.min(area.height / 2);
    let [list_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail_height)]).areas(area);
    let width = usize::from(list_area.width.saturating_sub(2));
    let wide = width >= 100;
    let mut header = format!(
        " {:<16}  {:<12} {:<7} {:<10} {:>6}  {:<8} {:<10}",
        "started", "experiment", "backend", "workers", "points", "from", "status"
    );
    if wide {
        header.push_str(" hosts · SLURM jobs");
    }
    let mut lines = vec![Line::styled(truncate(&header, width), t.heading(3))];
    let visible = usize::from(list_area.height.saturating_sub(3)).max(1);
    let skip = (view.selected + 1).saturating_sub(visible);
    for (i, e) in view.entries.iter().enumerate().skip(skip).take(visible) {
        let Some(r) = e.run() else {
            continue;
        };
        let workers = r
            .workers
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut text = format!(
            " {:<16}  {:<12} {:<7} {:<10} {:>6}  {:<8} {:<10}",
            when(&r.started_at),
            truncate(&r.experiment, 12),
            truncate(&r.backend, 7),
            truncate(&workers, 10),
            e.points(),
            files(e.sweep.sources.len()),
            e.status_word(),
        );
        if wide {
            text.push_str(&format!(
                " {} · {}",
                list_of(&e.hosts(), "?"),
                list_of(&e.job_ids(), "no job")
            ));
        }
        let text = truncate(&text, width);
        lines.push(if i == view.selected {
            let pad = width.saturating_sub(text.chars().count());
            Line::styled(format!("{text}{}", " ".repeat(pad)), t.selected())
        } else if e.status() == Some(crate::record::Status::Ok) {
            Line::styled(text, t.text())
        } else {
            Line::styled(text, t.warn())
        });
    }
    let title = format!(
        " Results measured earlier · {} · {} sweep{}, newest first ",
        view.dir.display(),
        view.entries.len(),
        if view.entries.len() == 1 { "" } else { "s" }
    );
    let keys = Line::from(vec![
        Span::styled(" Enter", t.key()),
        Span::styled(" charts  ", t.dim()),
        Span::styled("↑↓", t.key()),
        Span::styled(" choose  ", t.dim()),
        Span::styled("Esc", t.key()),
        Span::styled(" lessons  ", t.dim()),
        Span::styled("q", t.key()),
        Span::styled(" quit ", t.dim()),
    ]);
    let block = Block::bordered()
        .title(truncate(
            &title,
            usize::from(list_area.width.saturating_sub(2)),
        ))
        .title_bottom(keys)
        .border_style(t.border(true));
    frame.render_widget(Paragraph::new(lines).block(block), list_area);

    let lines = view
        .current()
        .map(|e| details(view, e, t))
        .unwrap_or_default();
    let block = Block::bordered()
        .title(" this sweep ")
        .border_style(t.border(false));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        detail_area,
    );
}

/// Where a sweep comes from: files, run ids, hosts, jobs, and how it ended.
fn details(view: &ResultsView, e: &ResultEntry, t: &Theme) -> Vec<Line<'static>> {
    let Some(r) = e.run() else {
        return Vec::new();
    };
    let params: Vec<String> = r.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mut lines = vec![
        Line::from(vec![
            Span::styled(format!(" {} on {}", r.experiment, r.backend), t.key()),
            Span::styled(format!(" · {}", params.join(" ")), t.text()),
        ]),
        Line::styled(
            format!(
                " measured by {}, not live: from {} in {}, run ids {}",
                e.origin(),
                files(e.sweep.sources.len()),
                view.dir.display(),
                e.run_ids().join(", ")
            ),
            t.warn(),
        ),
        Line::styled(
            format!(
                " hosts {} · SLURM jobs {} · {} CPUs · started {}",
                list_of(&e.hosts(), "?"),
                list_of(&e.job_ids(), "none (measured outside SLURM)"),
                r.env.cpus_available,
                when(&r.started_at)
            ),
            t.text(),
        ),
        Line::styled(
            format!(
                " {}{}",
                e.status_word(),
                e.end_message()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
            if e.status() == Some(crate::record::Status::Ok) {
                t.good()
            } else {
                t.warn()
            },
        ),
    ];
    for note in &e.sweep.replaced {
        lines.push(Line::styled(
            format!(" measured twice, the later kept: {note}"),
            t.dim(),
        ));
    }
    lines
}

fn draw_sweep(view: &ResultsView, e: &ResultEntry, t: &Theme, frame: &mut Frame, area: Rect) {
    let form_width = if area.width >= 110 { 40 } else { 32 };
    let [left, right] =
        Layout::horizontal([Constraint::Length(form_width), Constraint::Min(0)]).areas(area);
    let Some(r) = e.run() else {
        return;
    };
    let ok_style = if e.status() == Some(crate::record::Status::Ok) {
        t.good()
    } else {
        t.warn()
    };
    let mut lines = vec![
        Line::styled(format!(" Measured by {},", e.origin()), t.warn()),
        Line::styled(" not a live run:", t.warn()),
        Line::styled(
            format!(
                " from {} in {}",
                files(e.sweep.sources.len()),
                view.dir.display()
            ),
            t.text(),
        ),
        Line::styled(format!(" run ids {}", e.run_ids().join(", ")), t.dim()),
        Line::styled(
            format!(
                " hosts {} · SLURM jobs {}",
                list_of(&e.hosts(), "?"),
                list_of(&e.job_ids(), "none")
            ),
            t.text(),
        ),
        Line::styled(format!(" started {}", when(&r.started_at)), t.text()),
    ];
    lines.extend(super::experiment::fit_lines(&e.sweep.records, t));
    lines.push(Line::styled(
        format!(
            " {}{}",
            e.status_word(),
            e.end_message()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        ),
        ok_style,
    ));
    lines.push(Line::raw(""));
    for (k, v) in &r.params {
        lines.push(Line::styled(format!(" {k} = {v}"), t.text()));
    }
    lines.push(Line::styled(
        format!(
            " workers {} · reps {} · warmup {}",
            r.workers
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(","),
            r.reps,
            r.warmup
        ),
        t.text(),
    ));
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" v", t.key()),
        Span::styled(" chart  ", t.dim()),
        Span::styled("s", t.key()),
        Span::styled(" PNG  ", t.dim()),
        Span::styled("Esc", t.key()),
        Span::styled(" list", t.dim()),
    ]));
    if let Some(w) = crate::measure::format::busy_warning(r.env.busy_before, r.env.cpus_available) {
        lines.push(Line::raw(""));
        lines.push(Line::styled(format!(" ⚠ {w}"), t.warn()));
    }
    let block = Block::bordered()
        .title(format!(" results · {} · {} ", r.experiment, r.backend))
        .border_style(t.border(true));
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        left,
    );

    let runs: [&[crate::record::Record]; 1] = [&e.sweep.records];
    let kind = crate::chart::ChartKind::of(&runs);
    if kind == crate::chart::ChartKind::WaitFor
        && let Some(w) = crate::chart::waitfor::WaitFor::from_runs(&runs)
    {
        super::experiment::draw_wait_for(w.diagnosis, &r.experiment, t, frame, right);
        return;
    }
    let mut model = ChartModel::from_runs(&runs);
    for s in &mut model.series {
        s.label.push_str(if e.origin() == "batch jobs" {
            " · batch"
        } else {
            " · earlier"
        });
    }
    let rows = super::experiment::points(&e.sweep.records);
    let sizes = (kind == crate::chart::ChartKind::MessageSizes)
        .then(|| crate::chart::sizes::SizeChart::from_runs(&runs, &[]));
    super::experiment::draw_chart_and_points(
        &model,
        sizes.as_ref(),
        view.metric,
        &format!("from {}", e.origin()),
        &super::experiment::Table {
            headline: &crate::chart::headline::headline(&e.sweep.records),
            rows: &rows,
            scroll: None,
        },
        t,
        frame,
        right,
    );
}
