//! The message-size chart as a picture: time or bandwidth against the message size, both
//! on log axes, for `pingpong` and the eager-limit sweep — the same content as the
//! terminal's size chart (see `crate::chart::sizes`).

use plotters::style::Color;

use super::ExportError;
use super::canvas::{Align, Canvas, Rect, Shape, rgb};
use super::chart::{ink, series_color, styles_for};
use super::font::{Font, ellipsize};
use crate::chart::sizes::{MESSAGE_SIZE, SizeChart, SizeMetric, format_bytes};

/// Draws `chart` for `metric` into `area`, scaled by `u` (1 at 1200 × 800).
pub(crate) fn draw(
    c: &Canvas,
    area: Rect,
    chart: &SizeChart,
    metric: SizeMetric,
    u: f64,
) -> Result<(), ExportError> {
    let heading = Font::bold(21.0 * u);
    let tick = Font::regular(16.0 * u);
    let legend = Font::regular(15.0 * u);
    let text = ink(0x22_22_22);
    let grey = ink(0x88_88_88);
    let grid = ink(0xE4_E4_E4);
    let bad = rgb(0xC0_39_2B).to_rgba();

    let fitted = chart.series.iter().any(|s| s.fit.is_some());
    let (title, formula) = match (metric, fitted) {
        (SizeMetric::Time, true) => ("Time per message", "median; fit T(n) = α + n / β"),
        (SizeMetric::Time, false) => ("Time", "median of the repetitions"),
        (SizeMetric::Bandwidth, _) if chart.x_label != MESSAGE_SIZE => {
            ("Bandwidth", "bytes moved / T")
        }
        (SizeMetric::Bandwidth, _) => ("Bandwidth", "n / T(n)"),
    };
    let mut y = area.y + heading.line_height();
    c.text(title, (area.x, y), heading, text, Align::Left)?;
    c.text(
        formula,
        (area.x + heading.width(title) + 14.0 * u, y),
        Font::regular(16.0 * u),
        grey,
        Align::Left,
    )?;
    if let Some(words) = chart.eager_limit_words() {
        y += tick.line_height() * 1.2;
        let found = format!("{words} (✗: stopped by the watchdog)");
        c.text(
            &ellipsize(&found, tick, area.w),
            (area.x, y),
            tick,
            bad,
            Align::Left,
        )?;
    }

    // Axes: x = log2(size), y = log10(value), ticks evenly spaced in those logs.
    let (ticks, x0, x1) = chart.x_axis(((area.w / (90.0 * u)) as usize).clamp(2, 9));
    let (d0, d1) = chart.y_decades(metric);
    let y_labels: Vec<(i32, String)> = (d0..=d1)
        .map(|d| (d, metric.format(10f64.powi(d))))
        .collect();
    let label_w = y_labels
        .iter()
        .map(|(_, l)| tick.width(l))
        .fold(0.0, f64::max);
    let left = area.x + label_w + 14.0 * u;
    let top = y + 24.0 * u;
    let bottom = area.bottom() - tick.line_height() * 2.6;
    let plot = Rect::new(left, top, area.right() - left - 8.0 * u, bottom - top);
    let px = |bytes: f64| plot.x + (bytes.log2() - x0) / (x1 - x0) * plot.w;
    let py = |v: f64| plot.bottom() - (v.log10() - f64::from(d0)) / f64::from(d1 - d0) * plot.h;

    for (d, label) in &y_labels {
        let yy = py(10f64.powi(*d));
        c.line(&[(plot.x, yy), (plot.right(), yy)], grid, 1.0 * u)?;
        c.text(
            label,
            (plot.x - 8.0 * u, yy + tick.cap_height() / 2.0),
            tick,
            text,
            Align::Right,
        )?;
    }
    for &t in &ticks {
        let xx = px(t as f64);
        c.line(&[(xx, plot.y), (xx, plot.bottom())], grid, 1.0 * u)?;
        c.text(
            &format_bytes(t),
            (xx, plot.bottom() + tick.line_height()),
            tick,
            text,
            Align::Center,
        )?;
    }
    c.stroke_rect(plot, grey, 1.2 * u)?;
    // The caches: a dashed vertical line at each size, labelled at the top.
    for (bytes, label) in &chart.marks {
        let xx = px(*bytes as f64);
        if xx > plot.x && xx < plot.right() {
            c.dashed_line(
                &[(xx, plot.y), (xx, plot.bottom())],
                plot,
                (6.0 * u, 5.0 * u),
                grey,
                1.5 * u,
            )?;
            c.text(
                label,
                (xx + 4.0 * u, plot.y + tick.line_height()),
                tick,
                text,
                Align::Left,
            )?;
        }
    }
    c.text(
        &format!("{} (log2)", chart.x_label),
        (plot.right(), area.bottom() - 4.0 * u),
        tick,
        text,
        Align::Right,
    )?;

    // Data: fit curves, measured lines and markers, deadlocked sizes along the top.
    let mut entries: Vec<(String, plotters::style::RGBAColor, Sample)> = Vec::new();
    let styles = styles_for(chart.series.len());
    for (s, style) in chart.series.iter().zip(styles) {
        let color = series_color(style.color);
        let fit: Vec<(f64, f64)> = chart
            .fit_curve(s, metric)
            .into_iter()
            .map(|(n, v)| (px(n), py(v)))
            .collect();
        c.dashed_line(&fit, plot, (8.0 * u, 6.0 * u), grey, 2.0 * u)?;
        let pts: Vec<(f64, f64)> = chart
            .values(s, metric)
            .into_iter()
            .map(|(b, v, _, _)| (px(b as f64), py(v)))
            .collect();
        c.clipped_line(&pts, plot, color, 2.0 * u)?;
        for &p in &pts {
            c.marker(style.marker, p, 5.0 * u, Some(color), color, 1.5 * u)?;
        }
        entries.push((s.label.clone(), color, Sample::Marker(style.marker)));
        if let Some((a, b)) = s.fit {
            entries.push((
                format!(
                    "fit: α = {}, β = {}",
                    SizeMetric::Time.format(a),
                    SizeMetric::Bandwidth.format(b)
                ),
                grey,
                Sample::Line,
            ));
        }
        let dead = chart.deadlocked(s);
        for b in &dead {
            cross(c, (px(*b as f64), plot.y + 12.0 * u), 6.0 * u, bad)?;
        }
        if !dead.is_empty() {
            entries.push((
                "deadlocked (no message time)".to_owned(),
                bad,
                Sample::Cross,
            ));
        }
    }

    // The legend goes in the lower right: time rises to the right, bandwidth rises and
    // then flattens, so that corner is free in both. Bandwidth over working sets falls to
    // the right instead: there the lower left is free.
    let line_h = legend.line_height() * 1.3;
    let w = entries
        .iter()
        .map(|(t, _, _)| legend.width(t))
        .fold(0.0, f64::max)
        + 40.0 * u;
    let h = line_h * entries.len() as f64 + 10.0 * u;
    let falls = metric == SizeMetric::Bandwidth && chart.x_label != MESSAGE_SIZE;
    let bx = Rect::new(
        if falls {
            plot.x + 10.0 * u
        } else {
            plot.right() - w - 10.0 * u
        },
        plot.bottom() - h - 10.0 * u,
        w,
        h,
    );
    c.fill_rect(bx, rgb(0xFF_FF_FF).to_rgba())?;
    c.stroke_rect(bx, grid, 1.0 * u)?;
    for (k, (label, color, shape)) in entries.iter().enumerate() {
        let yy = bx.y + 5.0 * u + line_h * (k as f64 + 0.75);
        let sx = bx.x + 14.0 * u;
        let mid = (sx, yy - legend.cap_height() / 2.0);
        match shape {
            Sample::Marker(s) => c.marker(*s, mid, 5.0 * u, Some(*color), *color, 1.5 * u)?,
            Sample::Line => c.line(
                &[(mid.0 - 8.0 * u, mid.1), (mid.0 + 8.0 * u, mid.1)],
                *color,
                2.5 * u,
            )?,
            Sample::Cross => cross(c, mid, 5.0 * u, *color)?,
        }
        c.text(label, (bx.x + 30.0 * u, yy), legend, text, Align::Left)?;
    }
    Ok(())
}

/// What a legend line shows before its label.
enum Sample {
    Marker(Shape),
    Line,
    Cross,
}

/// A ✗ of half-size `r` at `p`.
fn cross(
    c: &Canvas,
    (x, y): (f64, f64),
    r: f64,
    color: plotters::style::RGBAColor,
) -> Result<(), ExportError> {
    c.line(&[(x - r, y - r), (x + r, y + r)], color, r * 0.42)?;
    c.line(&[(x - r, y + r), (x + r, y - r)], color, r * 0.42)
}
