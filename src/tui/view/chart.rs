//! The live scaling chart: time, speedup or efficiency against the worker count, drawn with
//! ratatui's [`Chart`] widget from a [`ChartModel`].
//!
//! What it shows, back to front: a dotted vertical line at N = CPUs, the dotted ideal line,
//! each series' dashed fitted model curve, the min–max error bars, lines between the
//! measured points and the measured points themselves. Oversubscribed points (more workers
//! than CPUs) get a hollow marker in the warning style.
//!
//! The x axis is log2 of the worker count. ratatui has no log axis and spreads its own tick
//! labels evenly but not exactly where the data lands, so the chart maps x = log2(N) itself
//! and writes the tick labels (1, 2, 4, …) and the y tick labels at the very columns and
//! rows the canvas puts the points at. Measured points, error bars and the CPU line use
//! one-character-per-cell markers, so they land exactly on those columns.
//!
//! Series are told apart by colour and marker shape (`•`, `■`, `▲`, `◆`, `▼`, `★`): each
//! series gets its own pair (see [`crate::chart::series_styles`]), and the first six series
//! get six different markers, so that they stay apart under `NO_COLOR` too. The legend
//! shows each entry's marker. A fit that means nothing (s at its bound, or a poor match: see
//! [`crate::chart::fit_rejection`]) is not drawn; the legend says why instead.

use ratatui::buffer::Buffer;
use ratatui::layout::{Alignment, Rect};
use ratatui::style::Style;
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Chart, Clear, Dataset, GraphType, LegendPosition, Widget};

use super::truncate;
use crate::chart::{ChartModel, Metric, fit_label};
use crate::tui::theme::Theme;

/// Marker of the error bars.
const ERROR_BAR: char = '│';
/// The marker of a point measured while other work shared the run's CPUs.
const SHARED: char = '!';
/// Marker of the line at N = CPUs.
const CPU_LINE: char = '┊';
/// Legend samples of the dashed fit and the dotted ideal line.
const FIT_SAMPLE: char = '╌';
const IDEAL_SAMPLE: char = '┈';

/// Dash patterns in Braille dots (about square): (on, period) along the curve.
const IDEAL_DASH: (f64, f64) = (2.0, 4.0);
const FIT_DASH: (f64, f64) = (5.0, 7.0);

/// The chart as a widget: `ChartView::new(&model, Metric::Speedup, &theme)` rendered into
/// an area does the same as [`draw`].
#[derive(Debug, Clone, Copy)]
pub struct ChartView<'a> {
    model: &'a ChartModel,
    metric: Metric,
    theme: &'a Theme,
}

impl<'a> ChartView<'a> {
    /// A chart of `metric` for `model`, drawn with `theme`.
    pub fn new(model: &'a ChartModel, metric: Metric, theme: &'a Theme) -> Self {
        Self {
            model,
            metric,
            theme,
        }
    }
}

impl Widget for ChartView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw(self.model, self.metric, self.theme, area, buf);
    }
}

impl Widget for &ChartView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        draw(self.model, self.metric, self.theme, area, buf);
    }
}

/// Draws the chart of `metric` for `model` into `area` of `buf`.
///
/// The top row holds the y axis title (left) and the model's title (right), the bottom row
/// the x axis title; both are left out when the area is lower than 8 rows. Areas too small
/// for any chart (under about 12x4) get a short note instead. The whole area is cleared
/// first. Never panics, whatever the size or the data.
pub fn draw(model: &ChartModel, metric: Metric, theme: &Theme, area: Rect, buf: &mut Buffer) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    // The chart owns its area: nothing drawn there before may show through.
    Clear.render(area, buf);
    let with_titles = area.height >= 8 && area.width >= 20;
    let chart_area = if with_titles {
        Rect {
            y: area.y + 1,
            height: area.height - 2,
            ..area
        }
    } else {
        area
    };

    let y_axis = model.y_axis(metric);
    let top = if y_axis.top.is_finite() && y_axis.top > 0.0 {
        y_axis.top
    } else {
        1.0
    };
    let y_labels: Vec<(f64, String)> = y_axis
        .ticks
        .iter()
        .filter(|v| v.is_finite() && **v <= top)
        .map(|&v| (v, metric.format_tick(v, y_axis.step, top)))
        .collect();
    let label_width = y_labels
        .iter()
        .map(|(_, l)| Line::from(l.as_str()).width())
        .max()
        .unwrap_or(0);
    let label_width = u16::try_from(label_width).unwrap_or(u16::MAX);

    let Some(graph) = graph_area(chart_area, label_width) else {
        let note = truncate("enlarge to see the chart", usize::from(area.width));
        Line::styled(note, theme.dim())
            .alignment(Alignment::Center)
            .render(Rect { height: 1, ..area }, buf);
        return;
    };

    let ticks = model.worker_ticks();
    let frame = Frame::new(graph, (ticks.len().max(2) - 1) as f64, top);
    let plot = Plot::build(model, metric, theme, &frame);

    // Render once without a legend to see where the data is, then choose the legend
    // (full, compact or none) and the corner where it hides the least.
    let mut scratch = Buffer::empty(buf.area);
    plot.chart(theme, &frame, label_width, &[], None)
        .render(chart_area, &mut scratch);
    let legend = choose_legend(&plot, metric, &frame, &scratch);
    let (entries, position) = match &legend {
        Some((entries, position)) => (entries.as_slice(), Some(*position)),
        None => (&[][..], None),
    };
    plot.chart(theme, &frame, label_width, entries, position)
        .render(chart_area, buf);

    draw_x_labels(&ticks, theme, chart_area, &frame, buf);
    draw_y_labels(&y_labels, theme, chart_area, &frame, buf);

    if with_titles {
        // Without room for a legend, the footer carries a short key instead.
        let key: &[Entry] = if legend.is_some() { &[] } else { &plot.key };
        draw_titles(model, metric, theme, key, area, buf);
    }
    if let Some(note) = plot.note {
        let row = graph.y + graph.height / 2;
        let note = truncate(note, usize::from(graph.width));
        let width = u16::try_from(Line::from(note.as_str()).width()).unwrap_or(graph.width);
        let x = graph.x + graph.width.saturating_sub(width) / 2;
        buf.set_string(x, row, note, theme.dim());
    }
}

/// Where the data is drawn and how data coordinates map onto it.
struct Frame {
    /// The plotting area inside the axes.
    graph: Rect,
    /// The largest x of the data: log2 of the largest worker tick.
    x_max: f64,
    /// The x bounds of the canvas: `[0, x_max]` widened so that N = 1 stands a little off
    /// the y axis and the last tick a little off the right edge.
    x_bounds: [f64; 2],
    /// The y bound.
    top: f64,
}

impl Frame {
    fn new(graph: Rect, x_max: f64, top: f64) -> Frame {
        let cols = f64::from(graph.width.saturating_sub(1)).max(1.0);
        // Columns kept free left of N = 1 and right of the last tick.
        let pad = if graph.width >= 24 { 2.0 } else { 0.0 };
        let span = x_max * cols / (cols - 2.0 * pad);
        let margin = pad * span / cols;
        Frame {
            graph,
            x_max,
            x_bounds: [-margin, x_max + margin],
            top,
        }
    }

    /// The column the canvas puts `x` (log2 of N) at with a one-character-per-cell marker
    /// (the same arithmetic as ratatui's canvas).
    fn column(&self, x: f64) -> u16 {
        let [left, right] = self.x_bounds;
        let cols = f64::from(self.graph.width.saturating_sub(1));
        let dx = ((x - left) * cols / (right - left))
            .round()
            .clamp(0.0, cols);
        self.graph.x + dx as u16
    }

    /// The row the canvas puts `y` at with a one-character-per-cell marker.
    fn row(&self, y: f64) -> u16 {
        let h = f64::from(self.graph.height.saturating_sub(1));
        let dy = (((self.top - y) / self.top) * h).round().clamp(0.0, h);
        self.graph.y + dy as u16
    }
}

/// The plotting area ratatui's `Chart` lays out inside `chart` when the y labels are
/// `label_width` wide and both axes have labels, or `None` when it is too small to plot.
fn graph_area(chart: Rect, label_width: u16) -> Option<Rect> {
    let reserved = label_width.min(chart.width / 3);
    // The y axis sits right after the labels, the plot right after the axis; the x axis
    // and the x labels take the last two rows.
    let x = chart.x + reserved + 1;
    let right = chart.right();
    if chart.height < 4 || x + 4 > right {
        return None;
    }
    Some(Rect::new(x, chart.y, right - x, chart.height - 2))
}

/// One drawn layer of the chart (no legend entry).
struct Layer {
    data: Vec<(f64, f64)>,
    marker: Marker,
    graph_type: GraphType,
    style: Style,
}

/// A legend line and its style.
#[derive(Debug, Clone)]
struct Entry {
    text: String,
    style: Style,
}

/// Everything the chart draws, computed from the model.
struct Plot {
    layers: Vec<Layer>,
    /// Legend with full labels.
    full: Vec<Entry>,
    /// Legend with short labels and only the essentials, for small areas.
    compact: Vec<Entry>,
    /// The compact legend without the series when there is only one (the title names
    /// it), for the footer when no legend fits.
    key: Vec<Entry>,
    /// Marker characters of measured points, to keep the legend off them.
    markers: Vec<char>,
    /// A note for the middle of an empty chart.
    note: Option<&'static str>,
}

impl Plot {
    fn build(model: &ChartModel, metric: Metric, theme: &Theme, frame: &Frame) -> Plot {
        let mut plot = Plot {
            layers: Vec::new(),
            full: Vec::new(),
            compact: Vec::new(),
            key: Vec::new(),
            markers: Vec::new(),
            note: None,
        };
        let shorts = crate::chart::short_labels(&model.series);
        let many = model.series.len() > 1;
        let styles = model.series_styles(Theme::SERIES_COLORS);
        let style_of = |i: usize| theme.series(styles[i].color);
        let values: Vec<_> = model
            .series
            .iter()
            .map(|s| model.values(s, metric))
            .collect();
        if model.is_empty() {
            plot.note = Some(model.empty_note());
        } else if values.iter().all(Vec::is_empty) {
            plot.note = Some("waiting for the 1-worker point…");
        }

        // The line at N = CPUs, when it falls inside the axis.
        let cpus = model.cpus as f64;
        let cpu_line = model.cpus > 1 && !model.is_empty() && cpus.log2() < frame.x_max;
        if cpu_line {
            let x = cpus.log2();
            let rows = usize::from(frame.graph.height.max(2));
            let data = (0..rows)
                .map(|r| (x, frame.top * r as f64 / (rows - 1) as f64))
                .collect();
            plot.push(
                data,
                Marker::Custom(CPU_LINE),
                GraphType::Scatter,
                theme.warn(),
            );
        }

        // The ideal line: one for speedup and efficiency, one per series for time (T1/N
        // depends on the series' T1).
        let mut has_ideal = false;
        for s in &model.series {
            let ideal = model.ideal(s, metric);
            if ideal.len() >= 2 {
                let data = dashed(&log_x(&ideal), IDEAL_DASH, frame);
                plot.push(data, Marker::Braille, GraphType::Scatter, theme.dim());
                has_ideal = true;
            }
            if metric != Metric::Time && has_ideal {
                break;
            }
        }

        let mut fits = Vec::new();
        for (i, s) in model.series.iter().enumerate() {
            let curve = model.model_curve(s, metric);
            if curve.len() >= 2
                && let Some(fit) = &s.fit
            {
                let data = dashed(&log_x(&curve), FIT_DASH, frame);
                plot.push(data, Marker::Braille, GraphType::Scatter, style_of(i));
                fits.push((i, fit_label(fit)));
            }
        }
        // Fits that mean nothing are not drawn; the legend says why.
        let notes = model.fit_notes();

        let mut hollow = String::new();
        for (i, vals) in values.iter().enumerate() {
            let style = style_of(i);
            for &(n, _, lo, hi) in vals {
                if hi > lo {
                    let x = (n as f64).log2();
                    plot.push(
                        vec![(x, lo), (x, hi)],
                        Marker::Custom(ERROR_BAR),
                        GraphType::Line,
                        style,
                    );
                }
            }
            if vals.len() >= 2 {
                let data = vals
                    .iter()
                    .map(|&(n, v, _, _)| ((n as f64).log2(), v))
                    .collect();
                plot.push(data, Marker::Braille, GraphType::Line, style);
            }
        }
        let mut disturbed = false;
        for (i, (s, vals)) in model.series.iter().zip(&values).enumerate() {
            let glyph = styles[i].marker.glyph();
            let open = styles[i].marker.hollow_glyph();
            let (over, normal): (Vec<_>, Vec<_>) = vals
                .iter()
                .map(|&(n, v, _, _)| (n, ((n as f64).log2(), v)))
                .partition(|(n, _)| s.point(*n).is_some_and(|p| p.oversubscribed));
            // Points measured while other work shared the CPUs: `!`, whatever their series.
            let (shared, normal): (Vec<_>, Vec<_>) = normal
                .into_iter()
                .partition(|(n, _)| s.point(*n).is_some_and(|p| p.disturbed));
            let normal: Vec<_> = normal.into_iter().map(|(_, p)| p).collect();
            let over: Vec<_> = over.into_iter().map(|(_, p)| p).collect();
            if !shared.is_empty() {
                disturbed = true;
                plot.markers.push(SHARED);
                plot.push(
                    shared.into_iter().map(|(_, p)| p).collect(),
                    Marker::Custom(SHARED),
                    GraphType::Scatter,
                    theme.warn(),
                );
            }
            plot.markers.push(glyph);
            plot.push(
                normal,
                Marker::Custom(glyph),
                GraphType::Scatter,
                style_of(i),
            );
            if !over.is_empty() {
                plot.markers.push(open);
                hollow.push(open);
                plot.push(over, Marker::Custom(open), GraphType::Scatter, theme.warn());
            }
            plot.full.push(Entry {
                text: format!("{glyph} {}", s.label),
                style: style_of(i),
            });
            plot.compact.push(Entry {
                text: format!("{glyph} {}", shorts[i]),
                style: style_of(i),
            });
        }

        if disturbed {
            plot.full.push(Entry {
                text: format!("{SHARED} CPUs shared with other work"),
                style: theme.warn(),
            });
            plot.compact.push(Entry {
                text: format!("{SHARED} CPUs shared"),
                style: theme.warn(),
            });
        }
        if !hollow.is_empty() {
            plot.full.push(Entry {
                text: format!("{hollow} oversubscribed (N > CPUs)"),
                style: theme.warn(),
            });
            plot.compact.push(Entry {
                text: format!("{hollow} N > CPUs"),
                style: theme.warn(),
            });
        }
        for (i, label) in fits {
            // `label` is e.g. `Amdahl fit s=0.07`; the compact form keeps `s=0.07`.
            let fraction = label.rsplit(' ').next().unwrap_or_default();
            let (full, compact) = if many {
                (
                    format!("{FIT_SAMPLE} {label} ({})", shorts[i]),
                    format!("{FIT_SAMPLE} {} {fraction}", shorts[i]),
                )
            } else {
                (
                    format!("{FIT_SAMPLE} {label}"),
                    format!("{FIT_SAMPLE} fit {fraction}"),
                )
            };
            plot.full.push(Entry {
                text: full,
                style: style_of(i),
            });
            plot.compact.push(Entry {
                text: compact,
                style: style_of(i),
            });
        }
        for note in notes {
            // No line sample: nothing is drawn for it.
            let short = note.rejection.short_reason();
            let (full, compact) = if many {
                let names = if note.series.len() == model.series.len() {
                    "all series".to_owned()
                } else {
                    let names: Vec<&str> =
                        note.series.iter().map(|&i| shorts[i].as_str()).collect();
                    names.join(", ")
                };
                (
                    format!("  {} ({names})", note.text),
                    format!("  no fit ({short}): {names}"),
                )
            } else {
                (format!("  {}", note.text), format!("  no fit ({short})"))
            };
            plot.full.push(Entry {
                text: full,
                style: theme.dim(),
            });
            plot.compact.push(Entry {
                text: compact,
                style: theme.dim(),
            });
        }
        if has_ideal {
            plot.full.push(Entry {
                text: format!("{IDEAL_SAMPLE} ideal"),
                style: theme.dim(),
            });
        }
        plot.key = if many {
            plot.compact.clone()
        } else {
            plot.compact
                .iter()
                .skip(model.series.len())
                .cloned()
                .collect()
        };
        if cpu_line {
            plot.full.push(Entry {
                text: format!(
                    "{CPU_LINE} {} CPU{}",
                    model.cpus,
                    if model.cpus == 1 { "" } else { "s" }
                ),
                style: theme.warn(),
            });
        }
        plot
    }

    fn push(&mut self, data: Vec<(f64, f64)>, marker: Marker, graph_type: GraphType, style: Style) {
        if data.is_empty() {
            return;
        }
        // The widget never sees a value that is not finite.
        let data = data
            .into_iter()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        self.layers.push(Layer {
            data,
            marker,
            graph_type,
            style,
        });
    }

    /// The ratatui chart: legend entries first (as datasets without data, so the legend
    /// order is independent of the drawing order), then the layers back to front.
    fn chart<'a>(
        &'a self,
        theme: &Theme,
        frame: &Frame,
        label_width: u16,
        legend: &'a [Entry],
        position: Option<LegendPosition>,
    ) -> Chart<'a> {
        let mut datasets: Vec<Dataset<'a>> = legend
            .iter()
            .map(|e| Dataset::default().name(e.text.as_str()).style(e.style))
            .collect();
        datasets.extend(self.layers.iter().map(|l| {
            Dataset::default()
                .data(&l.data)
                .marker(l.marker)
                .graph_type(l.graph_type)
                .style(l.style)
        }));
        // Tick labels are written afterwards at the exact columns and rows; the axes get
        // blank labels of the right width so that the widget lays the chart out for them.
        let x_axis = Axis::default()
            .bounds(frame.x_bounds)
            .labels(["", ""])
            .style(theme.rule());
        let y_axis = Axis::default()
            .bounds([0.0, frame.top])
            .labels([" ".repeat(usize::from(label_width)), String::new()])
            .style(theme.rule());
        Chart::new(datasets)
            .x_axis(x_axis)
            .y_axis(y_axis)
            .legend_position(position)
            .hidden_legend_constraints((
                ratatui::layout::Constraint::Percentage(100),
                ratatui::layout::Constraint::Percentage(100),
            ))
    }
}

/// The legend to show and where: the full one if it fits and hides no measured point,
/// else the compact one, else none. The corner is the one hiding the least data.
fn choose_legend(
    plot: &Plot,
    metric: Metric,
    frame: &Frame,
    scratch: &Buffer,
) -> Option<(Vec<Entry>, LegendPosition)> {
    use LegendPosition::{BottomLeft, BottomRight, TopLeft, TopRight};
    let preference = match metric {
        Metric::Speedup => [TopLeft, BottomRight, TopRight, BottomLeft],
        Metric::Efficiency => [BottomLeft, BottomRight, TopRight, TopLeft],
        Metric::Time => [TopRight, BottomLeft, BottomRight, TopLeft],
    };
    let g = frame.graph;
    for entries in [&plot.full, &plot.compact] {
        if entries.is_empty() {
            continue;
        }
        let width = entries
            .iter()
            .map(|e| Line::from(e.text.as_str()).width())
            .max()
            .unwrap_or(0)
            + 2;
        let height = entries.len() + 2;
        let (Ok(width), Ok(height)) = (u16::try_from(width), u16::try_from(height)) else {
            continue;
        };
        // Not more than about 40 % of the plot, and never on a measured point.
        if width > g.width
            || height > g.height
            || u32::from(width) * u32::from(height) * 5
                > u32::from(g.width) * u32::from(g.height) * 2
        {
            continue;
        }
        let best = preference
            .iter()
            .enumerate()
            .map(|(rank, &pos)| {
                let rect = match pos {
                    TopLeft => Rect::new(g.x, g.y, width, height),
                    TopRight => Rect::new(g.right() - width, g.y, width, height),
                    BottomLeft => Rect::new(g.x, g.bottom() - height, width, height),
                    _ => Rect::new(g.right() - width, g.bottom() - height, width, height),
                };
                let (markers, ink) = hidden(scratch, rect, &plot.markers);
                (markers, ink, rank, pos)
            })
            .min_by_key(|&(markers, ink, rank, _)| (markers, ink, rank));
        if let Some((0, _, _, pos)) = best {
            // ratatui does not clear the legend box: pad every entry to the full width so
            // that no line of the plot shows through.
            let inner = usize::from(width - 2);
            let padded = entries
                .iter()
                .map(|e| {
                    let w = Line::from(e.text.as_str()).width();
                    Entry {
                        text: format!("{}{}", e.text, " ".repeat(inner.saturating_sub(w))),
                        style: e.style,
                    }
                })
                .collect();
            return Some((padded, pos));
        }
    }
    None
}

/// How many measured-point markers and how many drawn cells `rect` would cover.
fn hidden(buf: &Buffer, rect: Rect, markers: &[char]) -> (usize, usize) {
    let rect = rect.intersection(buf.area);
    let mut counts = (0, 0);
    for y in rect.top()..rect.bottom() {
        for x in rect.left()..rect.right() {
            let Some(cell) = buf.cell((x, y)) else {
                continue;
            };
            let symbol = cell.symbol();
            if symbol.chars().any(|c| markers.contains(&c)) {
                counts.0 += 1;
            }
            if symbol != " " {
                counts.1 += 1;
            }
        }
    }
    counts
}

/// Writes the worker-count tick labels under the x axis, each centred on the column of its
/// points, leaving out labels that would touch their left neighbour (the last label is
/// kept in preference to the one before it).
fn draw_x_labels(ticks: &[usize], theme: &Theme, chart: Rect, frame: &Frame, buf: &mut Buffer) {
    let row = chart.bottom() - 1;
    let spans: Vec<(u16, u16, String)> = ticks
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let text = n.to_string();
            let width = u16::try_from(text.len()).unwrap_or(1);
            let col = frame.column(i as f64);
            let start = col
                .saturating_sub((width - 1) / 2)
                .max(chart.x)
                .min(chart.right().saturating_sub(width));
            (start, width, text)
        })
        .collect();
    let mut placed: Vec<usize> = Vec::new();
    for (i, (start, _, _)) in spans.iter().enumerate() {
        let fits = |j: usize| spans[j].0 + spans[j].1 < *start;
        match placed.last() {
            None => placed.push(i),
            Some(&j) if fits(j) => placed.push(i),
            Some(&j) if i == spans.len() - 1 && j != 0 => {
                placed.pop();
                if placed.last().is_none_or(|&k| fits(k)) {
                    placed.push(i);
                }
            }
            Some(_) => {}
        }
    }
    for i in placed {
        let (start, width, text) = &spans[i];
        buf.set_stringn(*start, row, text, usize::from(*width), theme.text());
    }
}

/// Writes the y tick labels right-aligned left of the y axis, each on the row of its value.
fn draw_y_labels(
    labels: &[(f64, String)],
    theme: &Theme,
    chart: Rect,
    frame: &Frame,
    buf: &mut Buffer,
) {
    let width = frame.graph.x.saturating_sub(chart.x + 1);
    if width == 0 {
        return;
    }
    // Zero and the highest tick first, so that when rows are scarce the ends are labelled.
    let order = labels
        .first()
        .into_iter()
        .chain(labels.last())
        .chain(labels.iter().skip(1).take(labels.len().saturating_sub(2)));
    let mut used: Vec<u16> = Vec::new();
    for (value, text) in order {
        let row = frame.row(*value);
        if used.contains(&row) {
            continue;
        }
        used.push(row);
        let text = truncate(text, usize::from(width));
        Line::styled(text, theme.text())
            .alignment(Alignment::Right)
            .render(Rect::new(chart.x, row, width, 1), buf);
    }
}

/// The y axis title and the chart title on the top row, the x axis title on the bottom row
/// with as many entries of `key` left of it as fit.
fn draw_titles(
    model: &ChartModel,
    metric: Metric,
    theme: &Theme,
    key: &[Entry],
    area: Rect,
    buf: &mut Buffer,
) {
    let y_title = metric.axis_title();
    let y_width = u16::try_from(y_title.chars().count()).unwrap_or(area.width);
    buf.set_stringn(
        area.x,
        area.y,
        y_title,
        usize::from(area.width),
        theme.text(),
    );
    let room = usize::from(area.width.saturating_sub(y_width + 2));
    if room >= 8 && !model.title.is_empty() {
        let title = truncate(&model.title, room);
        Line::styled(title, theme.heading(2))
            .alignment(Alignment::Right)
            .render(
                Rect::new(area.x + y_width + 2, area.y, area.width - y_width - 2, 1),
                buf,
            );
    }
    let x_title = truncate("workers (log2)", usize::from(area.width));
    let row = area.bottom() - 1;
    Line::styled(x_title.as_str(), theme.text())
        .alignment(Alignment::Right)
        .render(Rect::new(area.x, row, area.width, 1), buf);

    let room = usize::from(area.width).saturating_sub(x_title.chars().count() + 2);
    let mut x = area.x;
    let mut used = 0;
    for entry in key {
        let width = Line::from(entry.text.as_str()).width();
        let gap = if used == 0 { 0 } else { 2 };
        if used + gap + width > room {
            break;
        }
        x += gap as u16;
        buf.set_stringn(x, row, &entry.text, width, entry.style);
        x += width as u16;
        used += gap + width;
    }
}

/// `(N, y)` points with x mapped to log2(N).
fn log_x(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|(n, _)| *n > 0.0)
        .map(|&(n, y)| (n.log2(), y))
        .collect()
}

/// Points along the polyline that draw it dashed with Braille dots: `on` dots drawn, then
/// `period − on` left out, measured along the curve on the screen.
fn dashed(points: &[(f64, f64)], (on, period): (f64, f64), frame: &Frame) -> Vec<(f64, f64)> {
    // Braille has 2 x 4 dots per cell; dots are about square on screen.
    let sx = (f64::from(frame.graph.width) * 2.0 - 1.0).max(1.0)
        / (frame.x_bounds[1] - frame.x_bounds[0]);
    let sy = (f64::from(frame.graph.height) * 4.0 - 1.0).max(1.0) / frame.top;
    let mut out = Vec::new();
    let mut walked = 0.0;
    for w in points.windows(2) {
        let ((x1, y1), (x2, y2)) = (w[0], w[1]);
        // Only the part that can be on screen matters; this also bounds the work.
        let (y1c, y2c) = (y1.clamp(0.0, frame.top), y2.clamp(0.0, frame.top));
        let len = ((x2 - x1) * sx).hypot((y2c - y1c) * sy);
        if !len.is_finite() {
            continue;
        }
        let steps = (len * 2.0).ceil().min(10_000.0) as usize;
        for j in 0..steps {
            let t = j as f64 / steps as f64;
            if (walked + t * len) % period < on {
                out.push((x1 + t * (x2 - x1), y1 + t * (y2 - y1)));
            }
        }
        walked += len;
    }
    if let Some(&last) = points.last()
        && walked % period < on
    {
        out.push(last);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{Series, SeriesPoint};
    use crate::record::{FitRecord, Model};

    fn series(label: &str) -> Series {
        Series {
            label: label.into(),
            variant: None,
            points: Vec::new(),
            fit: None,
            replayed: None,
        }
    }

    /// race's six variants on 2 CPUs, N = 1 and 2, each with a Gustafson fit: s at its
    /// bound 1.00 for `mutex`, 0.2 for the others.
    fn race_model() -> ChartModel {
        let variants = [
            "unsynchronized",
            "atomic",
            "mutex",
            "reduction",
            "false-sharing",
            "padded",
        ];
        ChartModel {
            series: variants
                .iter()
                .map(|v| Series {
                    label: format!("race · {v}"),
                    variant: Some((*v).to_owned()),
                    points: [(1, 1.0, 0.9, 1.2), (2, 1.2, 1.1, 1.4)]
                        .iter()
                        .map(|&(workers, median_s, min_s, max_s)| SeriesPoint {
                            workers,
                            median_s,
                            min_s,
                            max_s,
                            speedup: Some(workers as f64 / median_s),
                            efficiency: Some(1.0 / median_s),
                            oversubscribed: false,
                            disturbed: false,
                        })
                        .collect(),
                    fit: Some(FitRecord {
                        model: Model::Gustafson,
                        variant: Some((*v).to_owned()),
                        serial_fraction: if *v == "mutex" { 1.0 } else { 0.2 },
                        rmse: 0.1,
                        r2: None,
                        points: 1,
                        latency_s: None,
                        bandwidth_bytes_s: None,
                        meaningful: true,
                        caveat: None,
                    }),
                    replayed: None,
                })
                .collect(),
            cpus: 2,
            weak: true,
            title: "race · threads · weak scaling".into(),
            ended: None,
        }
    }

    fn build(model: &ChartModel, metric: Metric, theme: &Theme) -> Plot {
        let frame = Frame::new(Rect::new(8, 1, 100, 30), 1.0, 4.0);
        Plot::build(model, metric, theme, &frame)
    }

    #[test]
    fn every_series_has_its_own_colour_and_marker_in_plot_and_legend() {
        let model = race_model();
        for theme in [Theme::colored(), Theme::monochrome()] {
            let plot = build(&model, Metric::Speedup, &theme);
            let entries: Vec<(char, Style)> = plot.full[..6]
                .iter()
                .map(|e| (e.text.chars().next().unwrap_or(' '), e.style))
                .collect();
            for (i, e) in entries.iter().enumerate() {
                assert!(!entries[..i].contains(e), "{:?}: {entries:?}", theme.color);
            }
            // The legend's marker is the one drawn: every series' marker is a layer of
            // points in the series' style.
            for (glyph, style) in &entries {
                assert!(plot.markers.contains(glyph));
                assert!(
                    plot.layers
                        .iter()
                        .any(|l| l.marker == Marker::Custom(*glyph) && l.style == *style),
                    "{glyph}"
                );
            }
            // Without colour the markers alone tell the six apart.
            let glyphs: Vec<char> = entries.iter().map(|e| e.0).collect();
            assert_eq!(glyphs, ['•', '■', '▲', '◆', '▼', '★']);
        }
    }

    #[test]
    fn a_fit_at_its_bound_gets_a_note_instead_of_a_curve() {
        let model = race_model();
        let plot = build(&model, Metric::Speedup, &Theme::monochrome());
        let texts: Vec<&str> = plot.full.iter().map(|e| e.text.trim_end()).collect();
        assert!(
            texts.contains(&"  no Gustafson fit: s at its bound 1.00 (mutex)"),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"╌ Gustafson fit s=0.20 (atomic)"),
            "{texts:?}"
        );
        assert!(!texts.iter().any(|t| t.contains("fit s=1.00")), "{texts:?}");
        let compact: Vec<&str> = plot.compact.iter().map(|e| e.text.as_str()).collect();
        assert!(
            compact.contains(&"  no fit (s=1.00 at bound): mutex"),
            "{compact:?}"
        );
        // A note for every series says so instead of naming them all.
        let mut all = race_model();
        for s in &mut all.series {
            if let Some(f) = &mut s.fit {
                f.serial_fraction = 1.0;
            }
        }
        let plot = build(&all, Metric::Speedup, &Theme::monochrome());
        let texts: Vec<&str> = plot.full.iter().map(|e| e.text.trim_end()).collect();
        assert!(
            texts.contains(&"  no Gustafson fit: s at its bound 1.00 (all series)"),
            "{texts:?}"
        );
        let compact: Vec<&str> = plot.compact.iter().map(|e| e.text.as_str()).collect();
        assert!(
            compact.contains(&"  no fit (s=1.00 at bound): all series"),
            "{compact:?}"
        );
        let plot = build(&model, Metric::Speedup, &Theme::monochrome());
        // Five dashed curves, not six.
        let dashed = plot
            .layers
            .iter()
            .filter(|l| l.marker == Marker::Braille && l.graph_type == GraphType::Scatter)
            .count();
        // (plus the ideal line)
        assert_eq!(dashed, 5 + 1);
    }

    #[test]
    fn no_error_bar_on_speedup_or_efficiency_at_one_worker() {
        let model = race_model();
        let bars_at_one = |metric| {
            build(&model, metric, &Theme::monochrome())
                .layers
                .iter()
                .filter(|l| l.marker == Marker::Custom(ERROR_BAR))
                .filter(|l| l.data.iter().all(|(x, _)| *x == 0.0))
                .count()
        };
        assert_eq!(bars_at_one(Metric::Speedup), 0);
        assert_eq!(bars_at_one(Metric::Efficiency), 0);
        assert_eq!(bars_at_one(Metric::Time), 6, "time keeps its bars at N = 1");
    }

    #[test]
    fn short_labels_drop_the_shared_prefix() {
        let s = [series("imbalance · static"), series("imbalance · dynamic")];
        assert_eq!(crate::chart::short_labels(&s), ["static", "dynamic"]);
        let s = [
            series("mc-pi · threads · 07:15"),
            series("mc-pi · threads · 08:02"),
        ];
        assert_eq!(crate::chart::short_labels(&s), ["07:15", "08:02"]);
        let s = [series("mc-pi · threads")];
        assert_eq!(crate::chart::short_labels(&s), ["mc-pi · threads"]);
        let s = [series("a"), series("a")];
        assert_eq!(crate::chart::short_labels(&s), ["a", "a"]);
    }

    #[test]
    fn dashes_alternate_along_the_curve() {
        let frame = Frame {
            graph: Rect::new(0, 0, 50, 10),
            x_max: 99.0,
            x_bounds: [0.0, 99.0],
            top: 1.0,
        };
        // A horizontal line 99 x units = 99 dots long.
        let pts = dashed(&[(0.0, 0.5), (99.0, 0.5)], (2.0, 4.0), &frame);
        assert!(!pts.is_empty());
        assert!(pts.iter().all(|(x, _)| x.rem_euclid(4.0) < 2.0 + 1e-9));
        assert!(pts.iter().any(|(x, _)| *x > 90.0));
    }

    #[test]
    fn graph_area_matches_the_widget_layout() {
        assert_eq!(
            graph_area(Rect::new(0, 0, 80, 22), 5),
            Some(Rect::new(6, 0, 74, 20))
        );
        // Labels take at most a third of the width.
        assert_eq!(
            graph_area(Rect::new(0, 0, 30, 10), 20),
            Some(Rect::new(11, 0, 19, 8))
        );
        assert_eq!(graph_area(Rect::new(0, 0, 5, 10), 5), None);
        assert_eq!(graph_area(Rect::new(0, 0, 80, 3), 5), None);

        // And it is where ratatui really draws: the axes' corner is just left of and
        // below the plotting area.
        let plot = Plot {
            layers: Vec::new(),
            full: Vec::new(),
            compact: Vec::new(),
            key: Vec::new(),
            markers: Vec::new(),
            note: None,
        };
        for (w, h, label) in [
            (80, 22, 5),
            (40, 10, 6),
            (30, 10, 20),
            (12, 4, 2),
            (200, 58, 7),
        ] {
            let area = Rect::new(3, 2, w, h);
            let graph = graph_area(area, label).expect("room for a graph");
            let frame = Frame::new(graph, 2.0, 1.0);
            let mut buf = Buffer::empty(Rect::new(0, 0, w + 6, h + 4));
            plot.chart(&Theme::monochrome(), &frame, label, &[], None)
                .render(area, &mut buf);
            let corner = buf.cell((graph.x - 1, graph.bottom())).map(|c| c.symbol());
            assert_eq!(corner, Some("└"), "{w}x{h} label {label}: {graph:?}");
            let axis = buf.cell((graph.x - 1, graph.y)).map(|c| c.symbol());
            assert_eq!(axis, Some("│"));
            let end = buf
                .cell((graph.right() - 1, graph.bottom()))
                .map(|c| c.symbol());
            assert_eq!(end, Some("─"));
        }
    }
}
