//! One scaling chart drawn into a rectangle of the image: the PNG twin of
//! terminal chart (the tutor's `view::chart`), drawn from the same [`ChartModel`].
//!
//! Back to front: the shaded oversubscribed region (N > CPUs) with its dashed boundary,
//! the grid, the dashed grey ideal line, each series' dashed fitted model curve, the lines
//! between measured points, min–max error bars, the points (hollow when oversubscribed),
//! value labels (single series only) and the legend. The x axis is log2 of the worker count
//! with ticks at the model's [`worker_ticks`](ChartModel::worker_ticks); the y axis runs from
//! 0 to the model's [`y_axis`](ChartModel::y_axis) top with its ticks.
//!
//! The legend goes into the corner of the plot where it covers no point, error bar or
//! label (and the fewest line pixels); when every corner would cover one, it moves under
//! the plot instead.
//!
//! Each series has its own colour and marker shape (see [`crate::chart::series_styles`]),
//! shown in its legend sample. A fit that means nothing (s at its bound, or a poor match:
//! see [`crate::chart::fit_rejection`]) is not drawn; the legend says why instead.

use plotters::style::{Color, RGBAColor};

use super::ExportError;
use super::canvas::{Align, Canvas, Rect, Shape, rgb};
use super::font::{Font, ellipsize, wrap};
use crate::chart::{ChartModel, Metric, SeriesStyle, fit_label, series_styles};

/// Series colours (Okabe–Ito: distinguishable with the common colour-vision deficiencies).
const SERIES: [u32; 6] = [0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7, 0xE69F00, 0x56B4E9];
/// Main text.
pub(crate) const TEXT: u32 = 0x222222;
/// Secondary text: formulas, footers, notes.
pub(crate) const MUTED: u32 = 0x5F5F5F;
/// Grid lines.
const GRID: u32 = 0xE4E4E4;
/// Axis lines and tick marks.
const AXIS: u32 = 0x555555;
/// The ideal line.
const IDEAL: u32 = 0x8A8A8A;
/// The oversubscribed region, its boundary and its label.
const OVER_FILL: u32 = 0xFFF3E3;
const OVER_INK: u32 = 0xA65A00;
/// Legend box.
/// The mark under a point measured while other work shared the run's CPUs, and its ink.
const SHARED_MARK: &str = "!";
const SHARED_INK: u32 = 0xC62828;
const LEGEND_FILL: u32 = 0xFFFFFF;
const LEGEND_EDGE: u32 = 0xBDBDBD;

/// Dash patterns in layout pixels (scaled with the image): (on, off).
const IDEAL_DASH: (f64, f64) = (5.0, 5.0);
const FIT_DASH: (f64, f64) = (11.0, 6.0);
const CPU_DASH: (f64, f64) = (4.0, 4.0);

/// Colour `i` of the series palette (cycling).
pub(crate) fn series_color(i: usize) -> RGBAColor {
    rgb(SERIES[i % SERIES.len()]).to_rgba()
}

/// The colour and marker of each of `count` series drawn with the series palette.
pub(crate) fn styles_for(count: usize) -> Vec<SeriesStyle> {
    series_styles(count, SERIES.len())
}

/// An opaque colour.
pub(crate) fn ink(hex: u32) -> RGBAColor {
    rgb(hex).to_rgba()
}

/// The heading of a chart panel and the formula next to it.
pub(crate) fn heading(metric: Metric, weak: bool) -> (&'static str, &'static str) {
    match metric {
        Metric::Time => ("Time", "median T(N); bars: fastest to slowest run"),
        Metric::Speedup if weak => ("Scaled speedup", "N · T(1) / T(N)"),
        Metric::Speedup => ("Speedup", "S(N) = T(1) / T(N)"),
        Metric::Efficiency => ("Efficiency", "E(N) = S(N) / N"),
    }
}

/// Sizes of the chart's parts, in layout pixels, for a unit `u` (1 at the default size).
#[derive(Debug, Clone, Copy)]
struct Metrics {
    u: f64,
    heading: Font,
    formula: Font,
    tick: Font,
    axis_title: Font,
    legend: Font,
    value: Font,
    note: Font,
}

impl Metrics {
    fn new(u: f64) -> Metrics {
        Metrics {
            u,
            heading: Font::bold(21.0 * u),
            formula: Font::regular(16.0 * u),
            tick: Font::regular(16.0 * u),
            axis_title: Font::regular(16.0 * u),
            legend: Font::regular(15.0 * u),
            value: Font::regular(14.0 * u),
            note: Font::regular(16.0 * u),
        }
    }
}

/// Where data lands: the plot rectangle and the data bounds it shows.
#[derive(Debug, Clone, Copy)]
struct Frame {
    plot: Rect,
    /// log2(N) at the left and right edges.
    x0: f64,
    x1: f64,
    /// log2 of the largest worker tick.
    x_max: f64,
    /// The y value at the top edge (the bottom is 0).
    top: f64,
}

impl Frame {
    /// The x pixel of worker count `n`.
    fn x(&self, n: f64) -> f64 {
        self.plot.x + (n.log2() - self.x0) / (self.x1 - self.x0) * self.plot.w
    }

    /// The y pixel of value `v`.
    fn y(&self, v: f64) -> f64 {
        self.plot.bottom() - v / self.top * self.plot.h
    }
}

/// A legend line's sample.
#[derive(Debug, Clone, Copy)]
enum Sample {
    /// A measured series: a short solid line with the series' marker.
    Series(SeriesStyle),
    /// Oversubscribed points: a hollow marker.
    Hollow(Shape, RGBAColor),
    /// A dashed line: ideal or fit.
    Dashed(RGBAColor, (f64, f64)),
    /// Nothing: a note about something not drawn.
    Blank,
}

/// One legend line.
#[derive(Debug, Clone)]
struct Entry {
    sample: Sample,
    text: String,
}

/// Everything drawn in the plot, in pixels.
#[derive(Debug, Default)]
struct Geometry {
    /// The colour and marker of each series (the numbers below index it).
    styles: Vec<SeriesStyle>,
    /// Dashed grey ideal lines.
    ideal: Vec<Vec<(f64, f64)>>,
    /// Dashed fitted curves, by series.
    fits: Vec<(usize, Vec<(f64, f64)>)>,
    /// Solid lines through the measured points, by series.
    lines: Vec<(usize, Vec<(f64, f64)>)>,
    /// Error bars: series, x, y of the low and the high end.
    bars: Vec<(usize, f64, f64, f64)>,
    /// Points: series, position, oversubscribed.
    points: Vec<(usize, (f64, f64), bool)>,
    /// Value labels: text, baseline position, alignment and the box they cover.
    labels: Vec<(String, (f64, f64), Align, Rect)>,
    /// Points measured while other work shared the CPUs: a `!` is drawn under each.
    shared: Vec<(f64, f64)>,
    /// The x pixel of N = CPUs, when the oversubscribed region is on the chart.
    cpu_x: Option<f64>,
    /// The label of the oversubscribed region and the box it covers.
    over_label: Option<(String, (f64, f64), Rect)>,
}

/// How a chart is drawn, beyond its data.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Style {
    /// Layout pixels per unit (1 at the default image size).
    pub u: f64,
    /// The runs overlaid had different CPU counts: the shaded region then starts at the
    /// largest (where every run is oversubscribed) and the legend names no count.
    pub mixed_cpus: bool,
    /// Put the legend under the plot in a band this high (at least as high as it needs),
    /// instead of in a free corner of the plot; charts side by side use it to line up.
    pub below: Option<f64>,
}

/// What a chart shows, laid out.
struct Planned {
    frame: Frame,
    geo: Geometry,
    legend: Legend,
    entries: Vec<Entry>,
    y_labels: Vec<(f64, String)>,
    ticks: Vec<usize>,
    m: Metrics,
}

/// Lays the chart out: the legend in a free corner of the plot, else (or when the style
/// asks) in a band under it.
fn plan(area: Rect, model: &ChartModel, metric: Metric, style: Style) -> Planned {
    let m = Metrics::new(style.u);
    let y_axis = model.y_axis(metric);
    let top = if y_axis.top.is_finite() && y_axis.top > 0.0 {
        y_axis.top
    } else {
        1.0
    };
    let y_labels: Vec<(f64, String)> = y_axis
        .ticks
        .iter()
        .filter(|v| v.is_finite() && **v <= top * (1.0 + 1e-9))
        .map(|&v| (v, metric.format_tick(v, y_axis.step, top)))
        .collect();
    let ticks = model.worker_ticks();
    let entries = legend_entries(model, metric, style.mixed_cpus, area.w, &m);

    let below = |height: f64| {
        let frame = layout(area, &m, &y_labels, &ticks, top, height);
        let geo = geometry(model, metric, &frame, &m);
        (frame, geo, Legend::Below)
    };
    let (frame, geo, legend) = if entries.is_empty() {
        let frame = layout(area, &m, &y_labels, &ticks, top, 0.0);
        let geo = geometry(model, metric, &frame, &m);
        (frame, geo, Legend::None)
    } else if let Some(h) = style.below {
        below(h.max(below_legend_height(&entries, area.w, &m)))
    } else {
        let frame = layout(area, &m, &y_labels, &ticks, top, 0.0);
        let geo = geometry(model, metric, &frame, &m);
        match inside_legend(&entries, &frame, &geo, metric, &m) {
            Some(rect) => (frame, geo, Legend::Inside(rect)),
            None => below(below_legend_height(&entries, area.w, &m)),
        }
    };
    Planned {
        frame,
        geo,
        legend,
        entries,
        y_labels,
        ticks,
        m,
    }
}

/// The height of the band under the plot the chart's legend needs if it does not fit in
/// a corner of the plot, else `None`.
pub(crate) fn legend_band(
    area: Rect,
    model: &ChartModel,
    metric: Metric,
    style: Style,
) -> Option<f64> {
    let p = plan(
        area,
        model,
        metric,
        Style {
            below: None,
            ..style
        },
    );
    match p.legend {
        Legend::Below => Some(below_legend_height(&p.entries, area.w, &p.m)),
        Legend::Inside(_) | Legend::None => None,
    }
}

/// The style for charts of `metrics` of one model drawn side by side in `areas` (or
/// stacked): if any of them needs its legend under the plot, all get a band of the same
/// height, so that their plots line up.
pub(crate) fn aligned_style(
    model: &ChartModel,
    metrics: &[Metric],
    areas: &[Rect],
    u: f64,
    mixed_cpus: bool,
) -> Style {
    let style = Style {
        u,
        mixed_cpus,
        below: None,
    };
    let bands: Vec<Option<f64>> = metrics
        .iter()
        .zip(areas)
        .map(|(&metric, &area)| legend_band(area, model, metric, style))
        .collect();
    if bands.iter().all(Option::is_none) {
        return style;
    }
    let m = Metrics::new(u);
    let band = metrics
        .iter()
        .zip(areas)
        .map(|(&metric, area)| {
            let entries = legend_entries(model, metric, mixed_cpus, area.w, &m);
            below_legend_height(&entries, area.w, &m)
        })
        .fold(0.0, f64::max);
    Style {
        below: Some(band),
        ..style
    }
}

/// Draws the chart of `metric` for `model` into `area`, with its heading.
pub(crate) fn draw(
    c: &Canvas,
    area: Rect,
    model: &ChartModel,
    metric: Metric,
    style: Style,
) -> Result<(), ExportError> {
    let Planned {
        frame,
        geo,
        legend,
        entries,
        y_labels,
        ticks,
        m,
    } = plan(area, model, metric, style);
    draw_heading(c, area, model, metric, &m)?;
    draw_background(c, &frame, &geo)?;
    draw_axes(c, &frame, &y_labels, &ticks, metric, &m)?;
    draw_data(c, &frame, &geo, &m)?;
    draw_note(c, model, metric, &frame, &m)?;
    match legend {
        Legend::Inside(rect) => draw_legend_box(c, rect, &entries, &m)?,
        Legend::Below => draw_legend_below(c, area, style.below.unwrap_or(0.0), &entries, &m)?,
        Legend::None => {}
    }
    Ok(())
}

/// Where the legend went.
enum Legend {
    Inside(Rect),
    Below,
    None,
}

/// The plot rectangle inside `area`, leaving room for the heading, the tick labels, the
/// axis titles and `below` pixels of legend under everything.
fn layout(
    area: Rect,
    m: &Metrics,
    y_labels: &[(f64, String)],
    ticks: &[usize],
    top: f64,
    below: f64,
) -> Frame {
    let u = m.u;
    let label_w = y_labels
        .iter()
        .map(|(_, l)| m.tick.width(l))
        .fold(0.0, f64::max);
    let left = area.x + m.axis_title.size * 1.3 + 8.0 * u + label_w + 10.0 * u;
    // Room right of the last tick for half its label and a value label.
    let right = area.right()
        - 14.0 * u
        - m.tick
            .width(&ticks.last().copied().unwrap_or(1).to_string())
            / 2.0;
    let heading_h = m.heading.size * 1.6;
    let plot_top = area.y + heading_h + 8.0 * u;
    let plot_bottom =
        area.bottom() - below - (m.tick.size * 1.5 + m.axis_title.size * 1.7 + 6.0 * u);
    let plot = Rect::new(left, plot_top, right - left, plot_bottom - plot_top);
    let x_max = (ticks.len().max(2) - 1) as f64;
    let pad = 0.18 + 0.04 * x_max;
    Frame {
        plot,
        x0: -pad,
        x1: x_max + pad,
        x_max,
        top,
    }
}

/// The legend lines: series, oversubscribed, ideal, fits, notes on fits not drawn; lines
/// wider than `width` (sample included) wrapped.
fn legend_entries(
    model: &ChartModel,
    metric: Metric,
    mixed_cpus: bool,
    width: f64,
    m: &Metrics,
) -> Vec<Entry> {
    let mut entries = Vec::new();
    let many = model.series.len() > 1;
    let shorts = crate::chart::short_labels(&model.series);
    let styles = styles_for(model.series.len());
    let mut over: Option<(Shape, RGBAColor)> = None;
    let mut over_count = 0;
    for (i, s) in model.series.iter().enumerate() {
        let vals = model.values(s, metric);
        if vals.is_empty() && !model.is_empty() && !many {
            continue;
        }
        entries.push(Entry {
            sample: Sample::Series(styles[i]),
            text: s.label.clone(),
        });
        if vals
            .iter()
            .any(|&(n, ..)| s.point(n).is_some_and(|p| p.oversubscribed))
        {
            over_count += 1;
            over.get_or_insert((styles[i].marker, series_color(styles[i].color)));
        }
    }
    if model
        .series
        .iter()
        .any(|s| s.points.iter().any(|p| p.disturbed))
    {
        entries.push(Entry {
            sample: Sample::Blank,
            text: format!("red ring {SHARED_MARK}: measured while other work shared the CPUs"),
        });
    }
    if let Some((shape, color)) = over {
        let (shape, color) = if over_count > 1 {
            (Shape::Circle, ink(AXIS))
        } else {
            (shape, color)
        };
        let text = if model.cpus > 0 && !mixed_cpus {
            format!("oversubscribed: N > {} CPUs", model.cpus)
        } else {
            "oversubscribed: N > CPUs of its run".to_owned()
        };
        entries.push(Entry {
            sample: Sample::Hollow(shape, color),
            text,
        });
    }
    let has_ideal = model
        .series
        .iter()
        .any(|s| model.ideal(s, metric).len() >= 2);
    if has_ideal {
        let text = match metric {
            Metric::Speedup => "ideal: S = N",
            Metric::Efficiency => "ideal: E = 1",
            Metric::Time if model.weak => "ideal: T(N) = T(1)",
            Metric::Time => "ideal: T(1) / N",
        };
        entries.push(Entry {
            sample: Sample::Dashed(ink(IDEAL), IDEAL_DASH),
            text: text.to_owned(),
        });
    }
    for (i, s) in model.series.iter().enumerate() {
        if let Some(fit) = &s.fit
            && model.model_curve(s, metric).len() >= 2
        {
            let text = if many {
                format!("{} · {}", fit_label(fit), shorts[i])
            } else {
                fit_label(fit)
            };
            entries.push(Entry {
                sample: Sample::Dashed(series_color(styles[i].color), FIT_DASH),
                text,
            });
        }
    }
    // Fits that mean nothing are not drawn: say why instead of giving their s.
    for note in model.fit_notes() {
        let text = if !many {
            note.text
        } else if note.series.len() == model.series.len() {
            format!("{} · all series", note.text)
        } else {
            let names: Vec<&str> = note.series.iter().map(|&i| shorts[i].as_str()).collect();
            format!("{} · {}", note.text, names.join(", "))
        };
        entries.push(Entry {
            sample: Sample::Blank,
            text,
        });
    }
    wrap_entries(entries, width, m)
}

/// `entries` with every line wider than `width` (its sample included) wrapped onto more
/// lines; the lines after the first have no sample.
fn wrap_entries(entries: Vec<Entry>, width: f64, m: &Metrics) -> Vec<Entry> {
    let room = width - (34.0 + 8.0) * m.u;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        if room <= 0.0 || m.legend.width(&e.text) <= room {
            out.push(e);
            continue;
        }
        let lines = wrap(&e.text, m.legend, room);
        if lines.is_empty() {
            out.push(e);
            continue;
        }
        for (k, text) in lines.into_iter().enumerate() {
            let sample = if k == 0 { e.sample } else { Sample::Blank };
            out.push(Entry { sample, text });
        }
    }
    out
}

/// Maps the model onto the frame.
fn geometry(model: &ChartModel, metric: Metric, f: &Frame, m: &Metrics) -> Geometry {
    let u = m.u;
    let mut g = Geometry {
        styles: styles_for(model.series.len()),
        ..Geometry::default()
    };
    let to_px = |pts: &[(f64, f64)]| -> Vec<(f64, f64)> {
        pts.iter()
            .filter(|(n, y)| *n > 0.0 && y.is_finite())
            .map(|&(n, y)| (f.x(n), f.y(y)))
            .collect()
    };

    let cpus = model.cpus as f64;
    if model.cpus >= 1 && !model.is_empty() && cpus.log2() < f.x_max - 1e-9 {
        let x = f.x(cpus);
        g.cpu_x = Some(x);
        let room = f.plot.right() - x - 12.0 * u;
        let full = format!("N > {} CPUs: oversubscribed", model.cpus);
        let text = if m.value.width(&full) <= room {
            full
        } else {
            ellipsize("oversubscribed", m.value, room)
        };
        if !text.is_empty() {
            let pos = (x + 6.0 * u, f.plot.y + m.value.size * 1.1);
            let w = m.value.width(&text);
            let rect = Rect::new(pos.0 - 2.0 * u, f.plot.y, w + 4.0 * u, m.value.size * 1.5);
            g.over_label = Some((text, pos, rect));
        }
    }

    for s in &model.series {
        let ideal = model.ideal(s, metric);
        if ideal.len() >= 2 {
            g.ideal.push(to_px(&ideal));
            // One ideal line for speedup and efficiency; time has one per series (T1/N).
            if metric != Metric::Time {
                break;
            }
        }
    }
    for (i, s) in model.series.iter().enumerate() {
        let curve = model.model_curve(s, metric);
        if curve.len() >= 2 {
            g.fits.push((i, to_px(&curve)));
        }
    }
    let single = model.series.len() == 1;
    let marker_r = 6.5 * u;
    for (i, s) in model.series.iter().enumerate() {
        let vals = model.values(s, metric);
        if vals.len() >= 2 {
            let pts: Vec<(f64, f64)> = vals
                .iter()
                .map(|&(n, v, _, _)| (f.x(n as f64), f.y(v)))
                .collect();
            g.lines.push((i, pts));
        }
        for &(n, v, lo, hi) in &vals {
            let x = f.x(n as f64);
            if hi > lo {
                g.bars.push((i, x, f.y(lo), f.y(hi)));
            }
            let over = s.point(n).is_some_and(|p| p.oversubscribed);
            g.points.push((i, (x, f.y(v)), over));
            if s.point(n).is_some_and(|p| p.disturbed) {
                g.shared.push((x, f.y(v)));
            }
        }
        // Value labels for a single series, when neighbouring points are far enough apart
        // for them not to run into each other.
        let widest = vals
            .iter()
            .map(|&(_, v, _, _)| m.value.width(&metric.format_value(v)))
            .fold(0.0, f64::max);
        let spacing = f.plot.w / (f.x1 - f.x0);
        if single && spacing >= widest + 8.0 * u {
            for &(n, v, _, hi) in &vals {
                let text = metric.format_value(v);
                let x = f.x(n as f64);
                let w = m.value.width(&text);
                // Above the error bar's top, centred; moved left of the right edge.
                let base_y =
                    (f.y(hi).min(f.y(v) - marker_r) - 5.0 * u).max(f.plot.y + m.value.size);
                let cx = x.min(f.plot.right() - w / 2.0 - 2.0 * u);
                let rect = Rect::new(
                    cx - w / 2.0 - 2.0 * u,
                    base_y - m.value.cap_height() - 3.0 * u,
                    w + 4.0 * u,
                    m.value.cap_height() + 6.0 * u,
                );
                g.labels.push((text, (cx, base_y), Align::Center, rect));
            }
        }
    }
    g
}

/// The legend box's size.
fn legend_size(entries: &[Entry], m: &Metrics) -> (f64, f64) {
    let u = m.u;
    let text_w = entries
        .iter()
        .map(|e| m.legend.width(&e.text))
        .fold(0.0, f64::max);
    let w = 12.0 * u + 34.0 * u + 8.0 * u + text_w + 12.0 * u;
    let h = 8.0 * u + entries.len() as f64 * row_height(m) + 6.0 * u;
    (w, h)
}

fn row_height(m: &Metrics) -> f64 {
    m.legend.size * 1.45
}

/// The corner of the plot where the legend hides nothing, if there is one.
fn inside_legend(
    entries: &[Entry],
    f: &Frame,
    g: &Geometry,
    metric: Metric,
    m: &Metrics,
) -> Option<Rect> {
    if entries.is_empty() {
        return None;
    }
    let (w, h) = legend_size(entries, m);
    if w > f.plot.w * 0.62 || h > f.plot.h * 0.62 {
        return None;
    }
    let gap = 8.0 * m.u;
    let p = f.plot;
    let corners = |name: Corner| match name {
        Corner::TopLeft => Rect::new(p.x + gap, p.y + gap, w, h),
        Corner::TopRight => Rect::new(p.right() - gap - w, p.y + gap, w, h),
        Corner::BottomLeft => Rect::new(p.x + gap, p.bottom() - gap - h, w, h),
        Corner::BottomRight => Rect::new(p.right() - gap - w, p.bottom() - gap - h, w, h),
    };
    let preference = match metric {
        Metric::Speedup => [
            Corner::TopLeft,
            Corner::BottomRight,
            Corner::TopRight,
            Corner::BottomLeft,
        ],
        Metric::Efficiency => [
            Corner::BottomLeft,
            Corner::BottomRight,
            Corner::TopRight,
            Corner::TopLeft,
        ],
        Metric::Time => [
            Corner::TopRight,
            Corner::BottomLeft,
            Corner::BottomRight,
            Corner::TopLeft,
        ],
    };
    let r = 6.5 * m.u + 3.0 * m.u;
    let hard: Vec<Rect> = g
        .points
        .iter()
        .map(|&(_, (x, y), _)| Rect::new(x - r, y - r, 2.0 * r, 2.0 * r))
        .chain(
            g.bars
                .iter()
                .map(|&(_, x, lo, hi)| Rect::new(x - 5.0 * m.u, hi, 10.0 * m.u, lo - hi)),
        )
        .chain(g.labels.iter().map(|l| l.3))
        .chain(g.over_label.iter().map(|l| l.2))
        .collect();
    let soft: Vec<(f64, f64)> = g
        .ideal
        .iter()
        .chain(g.fits.iter().map(|(_, p)| p))
        .chain(g.lines.iter().map(|(_, p)| p))
        .flat_map(|line| sample_along(line, 4.0 * m.u))
        .chain(
            g.cpu_x
                .iter()
                .flat_map(|&x| sample_along(&[(x, f.plot.y), (x, f.plot.bottom())], 4.0 * m.u)),
        )
        .collect();
    preference
        .iter()
        .enumerate()
        .map(|(rank, &corner)| {
            let rect = corners(corner);
            let hidden = hard.iter().filter(|h| h.intersects(&rect)).count();
            let crossed = soft.iter().filter(|p| rect.contains(**p)).count();
            (hidden, crossed, rank, rect)
        })
        .min_by(|a, b| (a.0, a.1, a.2).cmp(&(b.0, b.1, b.2)))
        .filter(|best| best.0 == 0)
        .map(|best| best.3)
}

#[derive(Debug, Clone, Copy)]
enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
}

/// Points every `step` pixels along a polyline.
fn sample_along(line: &[(f64, f64)], step: f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for w in line.windows(2) {
        let (a, b) = (w[0], w[1]);
        let len = (b.0 - a.0).hypot(b.1 - a.1);
        let n = (len / step).ceil().clamp(1.0, 10_000.0) as usize;
        for k in 0..n {
            let t = k as f64 / n as f64;
            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    }
    out.extend(line.last());
    out
}

/// The heading (metric name, formula) at the top of the area.
fn draw_heading(
    c: &Canvas,
    area: Rect,
    model: &ChartModel,
    metric: Metric,
    m: &Metrics,
) -> Result<(), ExportError> {
    let (name, formula) = heading(metric, model.weak);
    let baseline = area.y + m.heading.size * 1.05;
    c.text(name, (area.x, baseline), m.heading, ink(TEXT), Align::Left)?;
    let x = area.x + m.heading.width(name) + 12.0 * m.u;
    let room = area.right() - x;
    let formula = ellipsize(formula, m.formula, room);
    c.text(&formula, (x, baseline), m.formula, ink(MUTED), Align::Left)
}

/// The plot background, the oversubscribed region and the grid.
fn draw_background(c: &Canvas, f: &Frame, g: &Geometry) -> Result<(), ExportError> {
    let p = f.plot;
    c.fill_rect(p, ink(0xFFFFFF))?;
    if let Some(x) = g.cpu_x {
        c.fill_rect(Rect::new(x, p.y, p.right() - x, p.h), ink(OVER_FILL))?;
    }
    Ok(())
}

/// Grid, axes, tick marks, tick labels and axis titles.
fn draw_axes(
    c: &Canvas,
    f: &Frame,
    y_labels: &[(f64, String)],
    ticks: &[usize],
    metric: Metric,
    m: &Metrics,
) -> Result<(), ExportError> {
    let u = m.u;
    let p = f.plot;
    let grid = ink(GRID);
    for (v, _) in y_labels {
        let y = f.y(*v);
        c.line(&[(p.x, y), (p.right(), y)], grid, 1.0 * u)?;
    }
    for &n in ticks {
        let x = f.x(n as f64);
        c.line(&[(x, p.y), (x, p.bottom())], grid, 1.0 * u)?;
    }
    let axis = ink(AXIS);
    c.line(
        &[(p.x, p.y), (p.x, p.bottom()), (p.right(), p.bottom())],
        axis,
        1.5 * u,
    )?;
    let tick_len = 5.0 * u;
    let text = ink(TEXT);
    for (v, label) in y_labels {
        let y = f.y(*v);
        c.line(&[(p.x - tick_len, y), (p.x, y)], axis, 1.5 * u)?;
        c.text(
            label,
            (p.x - tick_len - 5.0 * u, y + m.tick.cap_height() / 2.0),
            m.tick,
            text,
            Align::Right,
        )?;
    }
    // x tick labels, skipping any that would touch the one before (the last one is kept in
    // preference to its neighbour).
    let spans: Vec<(f64, f64, String)> = ticks
        .iter()
        .map(|n| {
            let t = n.to_string();
            let w = m.tick.width(&t);
            (f.x(*n as f64), w, t)
        })
        .collect();
    let gap = 8.0 * u;
    let mut shown: Vec<usize> = Vec::new();
    for i in 0..spans.len() {
        let fits = |j: usize| spans[j].0 + spans[j].1 / 2.0 + gap <= spans[i].0 - spans[i].1 / 2.0;
        match shown.last() {
            None => shown.push(i),
            Some(&j) if fits(j) => shown.push(i),
            Some(&j) if i == spans.len() - 1 && j != 0 => {
                shown.pop();
                if shown.last().is_none_or(|&k| fits(k)) {
                    shown.push(i);
                }
            }
            Some(_) => {}
        }
    }
    let label_base = p.bottom() + tick_len + 4.0 * u + m.tick.cap_height();
    for (i, (x, _, t)) in spans.iter().enumerate() {
        c.line(
            &[(*x, p.bottom()), (*x, p.bottom() + tick_len)],
            axis,
            1.5 * u,
        )?;
        if shown.contains(&i) {
            c.text(t, (*x, label_base), m.tick, text, Align::Center)?;
        }
    }
    let x_title_base = label_base + m.tick.size * 0.45 + m.axis_title.size * 1.15;
    c.text(
        "workers N (log₂ scale)",
        (p.x + p.w / 2.0, x_title_base),
        m.axis_title,
        text,
        Align::Center,
    )?;
    let y_title_x = p.x
        - tick_len
        - 5.0 * u
        - y_labels
            .iter()
            .map(|(_, l)| m.tick.width(l))
            .fold(0.0, f64::max)
        - 10.0 * u;
    // The tick labels carry the unit (s, ms or µs; ×), so the title is just the quantity.
    c.text_up(
        metric.label(),
        (y_title_x, p.y + p.h / 2.0),
        m.axis_title,
        text,
    )
}

/// The oversubscribed boundary, ideal lines, fits, lines, error bars, points and labels.
fn draw_data(c: &Canvas, f: &Frame, g: &Geometry, m: &Metrics) -> Result<(), ExportError> {
    let u = m.u;
    let p = f.plot;
    // Everything is cut to the plot: curves may run above the y axis' top.
    let clip = p;
    if let Some(x) = g.cpu_x {
        let dash = (CPU_DASH.0 * u, CPU_DASH.1 * u);
        c.dashed_line(
            &[(x, p.bottom()), (x, p.y)],
            clip,
            dash,
            ink(OVER_INK),
            1.5 * u,
        )?;
    }
    if let Some((text, pos, _)) = &g.over_label {
        c.text(text, *pos, m.value, ink(OVER_INK), Align::Left)?;
    }
    for line in &g.ideal {
        let dash = (IDEAL_DASH.0 * u, IDEAL_DASH.1 * u);
        c.dashed_line(line, clip, dash, ink(IDEAL), 2.0 * u)?;
    }
    let color_of = |i: usize| series_color(g.styles.get(i).map_or(i, |s| s.color));
    for (i, line) in &g.fits {
        let dash = (FIT_DASH.0 * u, FIT_DASH.1 * u);
        c.dashed_line(line, clip, dash, color_of(*i), 2.5 * u)?;
    }
    for (i, line) in &g.lines {
        c.clipped_line(line, clip, color_of(*i).mix(0.85), 2.5 * u)?;
    }
    let cap = 5.0 * u;
    for &(i, x, lo, hi) in &g.bars {
        let color = color_of(i);
        c.clipped_line(&[(x, lo), (x, hi)], clip, color, 1.5 * u)?;
        for y in [lo, hi] {
            if y >= p.y && y <= p.bottom() {
                c.line(&[(x - cap, y), (x + cap, y)], color, 1.5 * u)?;
            }
        }
    }
    let r = 6.5 * u;
    // Points measured while other work shared the CPUs: a red ring, under the point.
    for &pos in &g.shared {
        c.marker(Shape::Circle, pos, r * 1.9, None, ink(SHARED_INK), 2.0 * u)?;
    }
    for &(i, pos, over) in &g.points {
        if !p.inset(-r).contains(pos) {
            continue;
        }
        let color = color_of(i);
        let fill = (!over).then_some(color);
        let shape = g.styles.get(i).map_or(Shape::Circle, |s| s.marker);
        c.marker(shape, pos, r, fill, color, 2.5 * u)?;
    }
    for (text, pos, align, rect) in &g.labels {
        // A light halo keeps the label readable over lines.
        c.fill_rect(*rect, ink(0xFFFFFF).mix(0.75))?;
        c.text(text, *pos, m.value, ink(TEXT), *align)?;
    }
    for &(x, y) in &g.shared {
        // A `!` right of the point's red ring (drawn before the points), clear of the
        // error bar.
        let ring = r * 1.9;
        let base = y + m.value.cap_height() / 2.0;
        c.text(
            SHARED_MARK,
            (x + ring + 3.0 * u, base),
            m.value,
            ink(SHARED_INK),
            Align::Left,
        )?;
    }
    Ok(())
}

/// A note in the middle of a chart with nothing to show.
fn draw_note(
    c: &Canvas,
    model: &ChartModel,
    metric: Metric,
    f: &Frame,
    m: &Metrics,
) -> Result<(), ExportError> {
    let note = if model.is_empty() {
        model.empty_note().to_owned()
    } else if model
        .series
        .iter()
        .all(|s| model.values(s, metric).is_empty())
    {
        format!("no 1-worker point yet: {} needs T(1)", metric.label())
    } else {
        return Ok(());
    };
    let p = f.plot;
    let u = m.u;
    let note = ellipsize(&note, m.note, p.w - 16.0 * u);
    let w = m.note.width(&note);
    let base = p.y + p.h / 2.0;
    let halo = Rect::new(
        p.x + (p.w - w) / 2.0 - 8.0 * u,
        base - m.note.cap_height() - 6.0 * u,
        w + 16.0 * u,
        m.note.cap_height() + 12.0 * u,
    );
    c.fill_rect(halo, ink(0xFFFFFF).mix(0.85))?;
    c.text(
        &note,
        (p.x + p.w / 2.0, base),
        m.note,
        ink(MUTED),
        Align::Center,
    )
}

/// Draws a legend line's sample centred vertically on `y`, from `x`, `w` wide.
fn draw_sample(
    c: &Canvas,
    sample: Sample,
    x: f64,
    y: f64,
    w: f64,
    m: &Metrics,
) -> Result<(), ExportError> {
    let u = m.u;
    let line = [(x, y), (x + w, y)];
    let clip = Rect::new(x - 1.0, y - 20.0 * u, w + 2.0, 40.0 * u);
    match sample {
        Sample::Series(style) => {
            let color = series_color(style.color);
            c.line(&line, color.mix(0.85), 2.5 * u)?;
            c.marker(
                style.marker,
                (x + w / 2.0, y),
                6.0 * u,
                Some(color),
                color,
                2.5 * u,
            )
        }
        Sample::Hollow(shape, color) => {
            c.marker(shape, (x + w / 2.0, y), 6.0 * u, None, color, 2.5 * u)
        }
        Sample::Dashed(color, (on, off)) => {
            let width = if on > IDEAL_DASH.0 { 2.5 } else { 2.0 };
            c.dashed_line(&line, clip, (on * u, off * u), color, width * u)
        }
        Sample::Blank => Ok(()),
    }
}

/// The legend in a box at `rect`.
fn draw_legend_box(
    c: &Canvas,
    rect: Rect,
    entries: &[Entry],
    m: &Metrics,
) -> Result<(), ExportError> {
    let u = m.u;
    c.fill_rect(rect, ink(LEGEND_FILL))?;
    c.stroke_rect(rect, ink(LEGEND_EDGE), 1.0 * u)?;
    let row = row_height(m);
    for (k, e) in entries.iter().enumerate() {
        let cy = rect.y + 8.0 * u + row * (k as f64 + 0.5);
        draw_sample(c, e.sample, rect.x + 12.0 * u, cy, 34.0 * u, m)?;
        c.text(
            &e.text,
            (
                rect.x + 12.0 * u + 34.0 * u + 8.0 * u,
                cy + m.legend.cap_height() / 2.0,
            ),
            m.legend,
            ink(TEXT),
            Align::Left,
        )?;
    }
    Ok(())
}

/// Entries laid out in rows of `width`: (row, x offset) of each.
fn flow(entries: &[Entry], width: f64, m: &Metrics) -> Vec<(usize, f64)> {
    let u = m.u;
    let mut out = Vec::with_capacity(entries.len());
    let (mut row, mut x) = (0usize, 0.0f64);
    for e in entries {
        let w = 34.0 * u + 8.0 * u + m.legend.width(&e.text);
        if x > 0.0 && x + w > width {
            row += 1;
            x = 0.0;
        }
        out.push((row, x));
        x += w + 22.0 * u;
    }
    out
}

/// How much height the legend takes under the plot when `width` wide.
fn below_legend_height(entries: &[Entry], width: f64, m: &Metrics) -> f64 {
    let rows = flow(entries, width, m).last().map_or(0, |(row, _)| row + 1);
    rows as f64 * row_height(m) + 6.0 * m.u
}

/// The legend under the plot, at the top of the band of height `band` (or the height it
/// needs, if more) at the bottom of `area`.
fn draw_legend_below(
    c: &Canvas,
    area: Rect,
    band: f64,
    entries: &[Entry],
    m: &Metrics,
) -> Result<(), ExportError> {
    let u = m.u;
    let h = band.max(below_legend_height(entries, area.w, m));
    let top = area.bottom() - h + 6.0 * u;
    let row = row_height(m);
    for (e, (r, x)) in entries.iter().zip(flow(entries, area.w, m)) {
        let cy = top + row * (r as f64 + 0.5);
        let x = area.x + x;
        draw_sample(c, e.sample, x, cy, 34.0 * u, m)?;
        c.text(
            &e.text,
            (x + 42.0 * u, cy + m.legend.cap_height() / 2.0),
            m.legend,
            ink(TEXT),
            Align::Left,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::tests::race_with_fits;
    use crate::record::Record;

    fn planned(model: &ChartModel, metric: Metric) -> Planned {
        let font = super::super::font::ensure_registered();
        assert!(font.is_ok(), "{font:?}");
        let style = Style {
            u: 1.0,
            mixed_cpus: false,
            below: None,
        };
        plan(Rect::new(0.0, 0.0, 1200.0, 800.0), model, metric, style)
    }

    #[test]
    fn six_series_have_six_colours_and_six_shapes() {
        let records = race_with_fits();
        let model = ChartModel::from_runs(&[&records]);
        let p = planned(&model, Metric::Speedup);
        let samples: Vec<SeriesStyle> = p
            .entries
            .iter()
            .filter_map(|e| match e.sample {
                Sample::Series(style) => Some(style),
                _ => None,
            })
            .collect();
        assert_eq!(samples.len(), 6);
        for (i, a) in samples.iter().enumerate() {
            for b in &samples[..i] {
                assert_ne!(a.color, b.color);
                assert_ne!(a.marker, b.marker);
            }
        }
        // Each series' points are drawn in the style its legend entry shows.
        assert_eq!(p.geo.styles, samples);
        for i in 0..6 {
            assert_eq!(p.geo.points.iter().filter(|pt| pt.0 == i).count(), 2);
        }
        // With more series than colours, no two share colour and shape.
        let styles = styles_for(19);
        for (i, a) in styles.iter().enumerate() {
            assert!(!styles[..i].contains(a), "{i}: {styles:?}");
        }
    }

    #[test]
    fn a_fit_at_its_bound_is_not_drawn_and_the_legend_says_why() {
        let records = race_with_fits();
        let model = ChartModel::from_runs(&[&records]);
        for metric in Metric::ALL {
            let p = planned(&model, metric);
            assert_eq!(p.geo.fits.len(), 5, "{metric:?}: not mutex's");
            assert!(p.geo.fits.iter().all(|(i, _)| *i != 2));
            let texts: Vec<&str> = p.entries.iter().map(|e| e.text.as_str()).collect();
            assert!(
                texts.contains(&"no Gustafson fit: s at its bound 1.00 · mutex"),
                "{texts:?}"
            );
            assert!(
                texts.contains(&"Gustafson fit s=0.20 · atomic"),
                "{texts:?}"
            );
            assert!(!texts.iter().any(|t| t.contains("s=1.00")), "{texts:?}");
        }
    }

    #[test]
    fn a_long_note_is_wrapped_to_the_width_of_the_chart() {
        // Every variant clamped at s = 1.00, as on a busy 2-CPU machine; one clamped at
        // 0.00 besides.
        let mut records = race_with_fits();
        for r in &mut records {
            if let Record::Fit(f) = r {
                f.serial_fraction = if f.variant.as_deref() == Some("atomic") {
                    0.0
                } else {
                    1.0
                };
            }
        }
        let model = ChartModel::from_runs(&[&records]);
        let area = Rect::new(0.0, 0.0, 600.0, 700.0);
        let style = Style {
            u: 1.0,
            mixed_cpus: false,
            below: None,
        };
        let font = super::super::font::ensure_registered();
        assert!(font.is_ok(), "{font:?}");
        let p = plan(area, &model, Metric::Speedup, style);
        let texts: Vec<&str> = p.entries.iter().map(|e| e.text.as_str()).collect();
        let at_one = "no Gustafson fit: s at its bound 1.00 · unsynchronized, mutex, reduction, \
                      false-sharing, padded";
        let at_zero = "no Gustafson fit: s at its bound 0.00 · atomic";
        assert!(texts.contains(&at_zero), "{texts:?}");
        // Too wide for one line: continued on the next, without a sample.
        let first = texts
            .iter()
            .position(|t| t.starts_with("no Gustafson fit: s at its bound 1.00 · "));
        let Some(first) = first else {
            panic!("{texts:?}")
        };
        let next = &p.entries[first + 1];
        assert!(matches!(next.sample, Sample::Blank), "{texts:?}");
        assert_eq!(format!("{} {}", texts[first], texts[first + 1]), at_one);
        for (e, (_, x)) in p.entries.iter().zip(flow(&p.entries, area.w, &p.m)) {
            let right = x + 42.0 + p.m.legend.width(&e.text);
            assert!(right <= area.w, "{} ends at {right}", e.text);
        }
        // A note for every series says so instead of naming them all.
        for r in &mut records {
            if let Record::Fit(f) = r {
                f.serial_fraction = 1.0;
            }
        }
        let model = ChartModel::from_runs(&[&records]);
        let p = plan(area, &model, Metric::Speedup, style);
        let texts: Vec<&str> = p.entries.iter().map(|e| e.text.as_str()).collect();
        assert!(
            texts.contains(&"no Gustafson fit: s at its bound 1.00 · all series"),
            "{texts:?}"
        );
    }

    #[test]
    fn speedup_and_efficiency_have_no_error_bar_at_one_worker() {
        let records = race_with_fits();
        let model = ChartModel::from_runs(&[&records]);
        for (metric, at_one) in [
            (Metric::Speedup, 0),
            (Metric::Efficiency, 0),
            (Metric::Time, 6),
        ] {
            let p = planned(&model, metric);
            let x1 = p.frame.x(1.0);
            let bars = p.geo.bars.iter().filter(|b| (b.1 - x1).abs() < 1e-9);
            assert_eq!(bars.count(), at_one, "{metric:?}");
            let x2 = p.frame.x(2.0);
            let bars = p.geo.bars.iter().filter(|b| (b.1 - x2).abs() < 1e-9);
            assert_eq!(bars.count(), 6, "{metric:?} keeps its bars at N = 2");
        }
    }
}
