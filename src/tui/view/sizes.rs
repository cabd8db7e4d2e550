//! The message-size chart in the terminal: time (or bandwidth) against the message size,
//! both on log axes, for `pingpong` and the eager-limit sweep of `exchange`, drawn with
//! ratatui's [`Chart`] from a [`SizeChart`].
//!
//! Measured sizes are markers (`•` for the first series, each series its own colour and
//! marker) joined by a line, the latency–bandwidth fit is a dotted curve, and
//! sizes whose launch deadlocked are `✗` along the top edge: they have no message time.
//! The axes are log2 of the size and log10 of the value; ticks are evenly spaced in those
//! logs, so ratatui's evenly spread axis labels sit on them.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Chart, Clear, Dataset, GraphType, LegendPosition, Widget};

use super::truncate;
use crate::chart::sizes::{MESSAGE_SIZE, SizeChart, SizeMetric, format_bytes};
use crate::tui::theme::Theme;

/// The marker of a deadlocked size.
const DEADLOCK: char = '✗';

/// Draws `chart` for `metric` into `area`.
pub fn draw(chart: &SizeChart, metric: SizeMetric, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    Clear.render(area, buf);
    if area.height < 6 || area.width < 24 {
        Line::styled(
            truncate("enlarge to see the chart", usize::from(area.width)),
            theme.dim(),
        )
        .alignment(Alignment::Center)
        .render(Rect { height: 1, ..area }, buf);
        return;
    }

    // Title: what is plotted, and for the eager sweep what was found.
    let y_title = match metric {
        SizeMetric::Time => "time (log10)",
        SizeMetric::Bandwidth => "bandwidth (log10)",
    };
    let mut title = chart.title.clone();
    if let Some(words) = chart.eager_limit_words() {
        title = format!("{title} · {words}");
    }
    buf.set_stringn(
        area.x,
        area.y,
        y_title,
        usize::from(area.width),
        theme.text(),
    );
    let used = y_title.chars().count() + 2;
    if usize::from(area.width) > used + 8 {
        Line::styled(
            truncate(&title, usize::from(area.width) - used),
            theme.heading(2),
        )
        .alignment(Alignment::Right)
        .render(
            Rect::new(area.x + used as u16, area.y, area.width - used as u16, 1),
            buf,
        );
    }
    let mut footer = format!("{} (log2)", chart.x_label);
    if !chart.marks.is_empty() {
        let names: Vec<&str> = chart.marks.iter().map(|(_, l)| l.as_str()).collect();
        footer = format!("┊ one core's caches: {} · {footer}", names.join(", "));
    }
    Line::styled(truncate(&footer, usize::from(area.width)), theme.text())
        .alignment(Alignment::Right)
        .render(Rect::new(area.x, area.bottom() - 1, area.width, 1), buf);

    let max_ticks = usize::from(area.width / 10).clamp(2, 8);
    let (ticks, x0, x1) = chart.x_axis(max_ticks);
    let (d0, d1) = chart.y_decades(metric);
    let every = if d1 - d0 > 5 { 2 } else { 1 };
    let d1 = d0 + (d1 - d0 + every - 1) / every * every;
    let y_labels: Vec<String> = (d0..=d1)
        .step_by(every as usize)
        .map(|d| metric.format(10f64.powi(d)))
        .collect();
    let (y0, y1) = (f64::from(d0), f64::from(d1));

    /// Points, how they are drawn, and their style.
    type Layer = (Vec<(f64, f64)>, Marker, GraphType, ratatui::style::Style);
    let mut layers: Vec<Layer> = Vec::new();
    let mut legend: Vec<(String, ratatui::style::Style)> = Vec::new();
    let log = |(x, y): (f64, f64)| (x.log2(), y.log10());
    // The caches: a dotted vertical line at each size, behind the data.
    for (bytes, _) in &chart.marks {
        let lx = (*bytes as f64).log2();
        if lx > x0 && lx < x1 {
            let line: Vec<(f64, f64)> = (0..=16)
                .map(|i| (lx, y0 + (y1 - y0) * f64::from(i) / 16.0))
                .collect();
            layers.push((line, Marker::Custom('┊'), GraphType::Scatter, theme.dim()));
        }
    }
    let styles = crate::chart::series_styles(chart.series.len(), Theme::SERIES_COLORS);
    // Overlaid runs are told apart by what their labels do not share (the title names it).
    let labels: Vec<&str> = chart.series.iter().map(|s| s.label.as_str()).collect();
    let shown = crate::chart::shorten_labels(&labels);
    for ((s, series_style), label) in chart.series.iter().zip(styles).zip(&shown) {
        let style = theme.series(series_style.color);
        let glyph = series_style.marker.glyph();
        let fit: Vec<(f64, f64)> = chart.fit_curve(s, metric).into_iter().map(log).collect();
        if !fit.is_empty() {
            layers.push((fit, Marker::Braille, GraphType::Line, theme.dim()));
        }
        let pts: Vec<(f64, f64)> = chart
            .values(s, metric)
            .into_iter()
            .map(|(b, v, _, _)| log((b as f64, v)))
            .collect();
        if pts.len() > 1 {
            layers.push((pts.clone(), Marker::Braille, GraphType::Line, style));
        }
        if !pts.is_empty() {
            layers.push((pts, Marker::Custom(glyph), GraphType::Scatter, style));
        }
        let dead: Vec<(f64, f64)> = chart
            .deadlocked(s)
            .into_iter()
            .map(|b| ((b as f64).log2(), y1))
            .collect();
        legend.push((format!("{glyph} {label}"), style));
        if let Some((a, b)) = s.fit {
            legend.push((
                format!(
                    "⠒ fit α={} β={}",
                    SizeMetric::Time.format(a),
                    SizeMetric::Bandwidth.format(b)
                ),
                theme.dim(),
            ));
        }
        if !dead.is_empty() {
            layers.push((
                dead,
                Marker::Custom(DEADLOCK),
                GraphType::Scatter,
                theme.bad(),
            ));
            legend.push((format!("{DEADLOCK} deadlocked, stopped"), theme.bad()));
        }
    }
    let label_width = y_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0);
    let mut datasets: Vec<Dataset<'_>> = legend
        .iter()
        .map(|(t, s)| Dataset::default().name(t.as_str()).style(*s))
        .collect();
    datasets.extend(layers.iter().map(|(data, marker, graph, style)| {
        Dataset::default()
            .data(data)
            .marker(*marker)
            .graph_type(*graph)
            .style(*style)
    }));
    let x_labels: Vec<String> = ticks.iter().map(|&t| format_bytes(t)).collect();
    let y_labels: Vec<String> = y_labels
        .into_iter()
        .map(|l| format!("{l:>label_width$}"))
        .collect();
    let chart_widget = Chart::new(datasets)
        .x_axis(
            Axis::default()
                .bounds([x0, x1])
                .labels(x_labels)
                .style(theme.rule()),
        )
        .y_axis(
            Axis::default()
                .bounds([y0, y1])
                .labels(y_labels)
                .style(theme.rule()),
        )
        // Bandwidth over working sets falls to the right: its top left is the data's.
        .legend_position(Some(
            if metric == SizeMetric::Bandwidth && chart.x_label != MESSAGE_SIZE {
                LegendPosition::BottomLeft
            } else {
                LegendPosition::TopLeft
            },
        ))
        // Overlaid runs need their legend to be told apart: it may cover up to 80 % of
        // the height of a short chart.
        .hidden_legend_constraints((
            ratatui::layout::Constraint::Percentage(60),
            ratatui::layout::Constraint::Percentage(80),
        ));
    chart_widget.render(
        Rect {
            y: area.y + 1,
            height: area.height - 2,
            ..area
        },
        buf,
    );
    if chart.series.iter().all(|s| s.points.is_empty()) {
        let note = "waiting for the first size…";
        let row = area.y + area.height / 2;
        let x = area.x + area.width.saturating_sub(note.chars().count() as u16) / 2;
        buf.set_string(x, row, note, theme.dim());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Record;

    #[test]
    fn overlaid_runs_are_told_apart_by_what_differs() {
        let two = [
            "pingpong · mpi · cross-node · 21:17",
            "pingpong · mpi · same-node · 21:11",
        ];
        let shown = crate::chart::shorten_labels(&two);
        assert_eq!(shown[0], "cross-node · 21:17");
        assert_eq!(shown[1], "same-node · 21:11");
        let one = ["pingpong · mpi"];
        assert_eq!(crate::chart::shorten_labels(&one)[0], "pingpong · mpi");
    }

    fn point(bytes: u64, median: f64, completed: bool) -> Record {
        crate::chart::sizes::test_point(bytes, median, completed)
    }

    fn text(buf: &Buffer) -> String {
        let a = buf.area;
        (a.y..a.bottom())
            .map(|y| {
                (a.x..a.right())
                    .map(|x| buf[(x, y)].symbol().to_owned())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn the_eager_sweep_shows_where_send_first_starts_to_deadlock() {
        let records: Vec<Record> = (0..=14)
            .map(|e| {
                let b = 1u64 << e;
                point(b, 2e-6 + b as f64 * 1e-9, b <= 4096)
            })
            .collect();
        let chart = SizeChart::from_runs(&[&records], &[]);
        let area = Rect::new(0, 0, 90, 20);
        let mut buf = Buffer::empty(area);
        draw(
            &chart,
            SizeMetric::Time,
            &Theme::monochrome(),
            area,
            &mut buf,
        );
        let t = text(&buf);
        assert!(
            t.contains("completed up to 4 KiB, deadlocked from 8 KiB"),
            "{t}"
        );
        assert!(t.contains('✗') && t.contains('•'), "{t}");
        assert!(t.contains("1 B") && t.contains("16 KiB"), "{t}");
        assert!(t.contains("message size (log2)"), "{t}");
    }
}
