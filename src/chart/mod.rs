//! The chart model: what the scaling charts show, computed from results records.
//!
//! Nothing here knows about terminals: the same model feeds the TUI chart
//! (the tutor's `view::chart`) and the PNG exporter. It turns the records of one
//! or more runs into [`Series`] of measured points, and computes for a [`Metric`] the
//! plotted values with their error ranges, the ideal line, the fitted model curve, the
//! worker-count ticks of the log2 x axis and a y axis with round tick values.
//!
//! Every value handed out is finite: points whose value cannot be computed (for example the
//! speedup before the 1-worker point exists) are left out rather than passed on as NaN.

pub mod headline;
mod kind;
pub mod sizes;
pub mod waitfor;

use std::collections::BTreeMap;

use crate::record::{FitRecord, Model, Record, RunRecord};

pub use kind::ChartKind;

/// Which quantity the y axis shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Metric {
    /// Kernel time T(N), median with the min–max range of the repetitions.
    Time,
    /// Speedup S(N) = T(1) / T(N) (for weak scaling the scaled speedup N · T(1) / T(N)).
    #[default]
    Speedup,
    /// Parallel efficiency E(N) = S(N) / N.
    Efficiency,
}

impl Metric {
    /// Every metric, in the order [`Metric::next`] cycles through them.
    pub const ALL: [Metric; 3] = [Metric::Time, Metric::Speedup, Metric::Efficiency];

    /// The next metric: time → speedup → efficiency → time.
    pub const fn next(self) -> Self {
        match self {
            Metric::Time => Metric::Speedup,
            Metric::Speedup => Metric::Efficiency,
            Metric::Efficiency => Metric::Time,
        }
    }

    /// The next metric on a chart of message sizes when `sizes` (time and bandwidth: see
    /// [`sizes::SizeMetric`], where speedup stands for bandwidth), else [`Metric::next`].
    pub const fn next_for(self, sizes: bool) -> Self {
        match (sizes, self) {
            (true, Metric::Time) => Metric::Speedup,
            (true, _) => Metric::Time,
            (false, m) => m.next(),
        }
    }

    /// The previous metric, the reverse of [`Metric::next`].
    pub const fn prev(self) -> Self {
        match self {
            Metric::Time => Metric::Efficiency,
            Metric::Speedup => Metric::Time,
            Metric::Efficiency => Metric::Speedup,
        }
    }

    /// Short lower-case name: `time`, `speedup` or `efficiency`.
    pub const fn label(self) -> &'static str {
        match self {
            Metric::Time => "time",
            Metric::Speedup => "speedup",
            Metric::Efficiency => "efficiency",
        }
    }

    /// The unit shown after values, if any: `s` for time, `×` for speedup.
    pub const fn unit(self) -> Option<&'static str> {
        match self {
            Metric::Time => Some("s"),
            Metric::Speedup => Some("×"),
            Metric::Efficiency => None,
        }
    }

    /// The y axis title: `time (s)`, `speedup` or `efficiency`.
    pub const fn axis_title(self) -> &'static str {
        match self {
            Metric::Time => "time (s)",
            Metric::Speedup => "speedup",
            Metric::Efficiency => "efficiency",
        }
    }

    /// A tick label for `value` on an axis with ticks every `step` up to `top`.
    ///
    /// Times use one unit for the whole axis (seconds from 0.5 s up, milliseconds below,
    /// microseconds below 0.5 ms) and as many decimals as the step needs: `0.25 s`,
    /// `1.5 s`, `120 ms`. Speedups read `1.5×`, efficiencies `0.75`. Zero is always `0`.
    pub fn format_tick(self, value: f64, step: f64, top: f64) -> String {
        if value == 0.0 || !value.is_finite() {
            return "0".to_owned();
        }
        match self {
            Metric::Time => {
                let (scale, unit) = time_unit(top);
                let d = decimals(step * scale);
                format!("{:.d$} {unit}", value * scale)
            }
            Metric::Speedup => {
                let d = decimals(step);
                format!("{value:.d$}×")
            }
            Metric::Efficiency => {
                let d = decimals(step).max(2);
                format!("{value:.d$}")
            }
        }
    }

    /// A single value with its unit, for text next to the chart (e.g. `0.26 s`, `1.92×`,
    /// `0.96`), with about three significant digits.
    pub fn format_value(self, value: f64) -> String {
        if !value.is_finite() {
            return "–".to_owned();
        }
        match self {
            Metric::Time => {
                let (scale, unit) = time_unit(value.abs());
                let v = value * scale;
                let d = if v.abs() >= 100.0 {
                    0
                } else if v.abs() >= 10.0 {
                    1
                } else {
                    2
                };
                format!("{v:.d$} {unit}")
            }
            Metric::Speedup => format!("{value:.2}×"),
            Metric::Efficiency => format!("{value:.2}"),
        }
    }
}

/// The scale factor and unit for times up to `top` seconds.
fn time_unit(top: f64) -> (f64, &'static str) {
    if top >= 0.5 {
        (1.0, "s")
    } else if top >= 5e-4 {
        (1e3, "ms")
    } else {
        (1e6, "µs")
    }
}

/// How many decimals print `step` (and its multiples) exactly, at most 6.
fn decimals(step: f64) -> usize {
    if !step.is_finite() || step <= 0.0 {
        return 0;
    }
    for d in 0..6 {
        let scaled = step * 10f64.powi(d as i32);
        if (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0) {
            return d;
        }
    }
    6
}

/// Everything one chart shows: one or more series of measured points.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartModel {
    /// One series per (run, variant), in the order they first appear.
    pub series: Vec<Series>,
    /// CPUs available to the run(s) (the most over all runs); 0 when unknown.
    pub cpus: usize,
    /// Weak scaling (`mode=weak`): the problem grows with N, speedups are scaled speedups.
    pub weak: bool,
    /// Experiment and backend, e.g. `mc-pi · threads`.
    pub title: String,
    /// How the first run ended, once its end record is there: a chart with no points then
    /// says why instead of waiting.
    pub ended: Option<crate::record::Status>,
}

impl ChartModel {
    /// What a chart with no points says: waiting while the run goes, else why it has none.
    pub fn empty_note(&self) -> &'static str {
        use crate::record::Status;
        match self.ended {
            None => "waiting for the first point…",
            Some(Status::Cancelled) => "cancelled before the first point",
            Some(Status::Deadlock) => "deadlocked before the first point",
            Some(Status::Ok) => "no measured points",
            Some(Status::Failed | Status::Timeout) => "the run ended before its first point",
        }
    }
}

/// The measured points of one variant of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label, e.g. `mc-pi · threads` or `imbalance · dynamic`; when several runs are
    /// overlaid it ends in the run's start time, e.g. `mc-pi · threads · 07:15`.
    pub label: String,
    /// The variant the points are of, for experiments that compare variants.
    pub variant: Option<String>,
    /// Measured points, sorted by worker count, at most one per worker count.
    pub points: Vec<SeriesPoint>,
    /// The model fitted to the points, once the run has written one.
    pub fit: Option<FitRecord>,
    /// For a replayed recording (demo mode): where it was replayed from.
    pub replayed: Option<String>,
}

/// One measured point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesPoint {
    /// Worker count N (at least 1).
    pub workers: usize,
    /// Median kernel time in seconds.
    pub median_s: f64,
    /// Fastest repetition in seconds.
    pub min_s: f64,
    /// Slowest repetition in seconds.
    pub max_s: f64,
    /// Speedup as recorded (scaled speedup for weak scaling).
    pub speedup: Option<f64>,
    /// Efficiency as recorded.
    pub efficiency: Option<f64>,
    /// More workers than CPUs available.
    pub oversubscribed: bool,
    /// Other work shared the run's CPUs while this point was measured (see
    /// [`crate::record::PointRecord::disturbance`]): the chart marks it.
    pub disturbed: bool,
}

impl Series {
    /// T(1): the median time of the 1-worker point, if measured (finite and positive).
    pub fn t1(&self) -> Option<f64> {
        self.points
            .iter()
            .find(|p| p.workers == 1)
            .map(|p| p.median_s)
            .filter(|t| t.is_finite() && *t > 0.0)
    }

    /// The point measured with `workers` workers, if any.
    pub fn point(&self, workers: usize) -> Option<&SeriesPoint> {
        self.points.iter().find(|p| p.workers == workers)
    }
}

/// A y axis from 0 to `top` with round tick values.
#[derive(Debug, Clone, PartialEq)]
pub struct YAxis {
    /// The upper bound of the axis (the lower bound is 0).
    pub top: f64,
    /// Distance between ticks.
    pub step: f64,
    /// Tick values from 0 upwards at multiples of `step`, 3 to 5 of them, none above
    /// `top` (which need not be a tick).
    pub ticks: Vec<f64>,
}

/// The shape of a series' point markers. The terminal draws each as a character, the PNG
/// as a filled (or, for oversubscribed points, hollow) shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MarkerShape {
    /// `•` / `○`.
    Circle,
    /// `■` / `□`.
    Square,
    /// `▲` / `△`.
    Triangle,
    /// `◆` / `◇`.
    Diamond,
    /// `▼` / `▽`.
    TriangleDown,
    /// `★` / `☆`.
    Star,
}

impl MarkerShape {
    /// Every shape, in the order series take them.
    pub const ALL: [MarkerShape; 6] = [
        MarkerShape::Circle,
        MarkerShape::Square,
        MarkerShape::Triangle,
        MarkerShape::Diamond,
        MarkerShape::TriangleDown,
        MarkerShape::Star,
    ];

    /// The terminal character of a measured point.
    pub const fn glyph(self) -> char {
        match self {
            MarkerShape::Circle => '•',
            MarkerShape::Square => '■',
            MarkerShape::Triangle => '▲',
            MarkerShape::Diamond => '◆',
            MarkerShape::TriangleDown => '▼',
            MarkerShape::Star => '★',
        }
    }

    /// The terminal character of an oversubscribed point: the hollow twin of
    /// [`glyph`](Self::glyph).
    pub const fn hollow_glyph(self) -> char {
        match self {
            MarkerShape::Circle => '○',
            MarkerShape::Square => '□',
            MarkerShape::Triangle => '△',
            MarkerShape::Diamond => '◇',
            MarkerShape::TriangleDown => '▽',
            MarkerShape::Star => '☆',
        }
    }
}

/// How one series is drawn: a colour of the renderer's palette and a marker shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeriesStyle {
    /// Index into the renderer's series palette (below the palette's length).
    pub color: usize,
    /// Shape of the series' point markers (and of its legend sample).
    pub marker: MarkerShape,
}

/// The styles of `count` series drawn with a palette of `colors` colours.
///
/// Series `i` takes colour `i mod colors` and, starting from marker `i mod 6`, the first
/// marker not yet paired with that colour: the first six series get six different
/// markers (which tells them apart without colour too), and no two series share both
/// colour and marker as long as there are pairs left (`colors × 6`); after that the
/// styles repeat from the start. A palette of 0 colours counts as one.
pub fn series_styles(count: usize, colors: usize) -> Vec<SeriesStyle> {
    let colors = colors.max(1);
    let markers = MarkerShape::ALL.len();
    let pairs = colors * markers;
    // used[c * markers + m]: colour c already goes with marker m.
    let mut used = vec![false; pairs];
    let mut out = Vec::with_capacity(count);
    for i in 0..count {
        if i % pairs == 0 {
            used.iter_mut().for_each(|u| *u = false);
        }
        let color = i % colors;
        let marker = (0..markers)
            .map(|k| (i + k) % markers)
            .find(|&m| !used[color * markers + m])
            .unwrap_or(i % markers);
        used[color * markers + marker] = true;
        out.push(SeriesStyle {
            color,
            marker: MarkerShape::ALL[marker],
        });
    }
    out
}

/// A fitted serial fraction this close to 0 or 1 sits at the bound the fit clamps it to:
/// the law could not follow the points and the value says nothing about them.
pub const FIT_BOUND_MARGIN: f64 = 0.001;

/// The least coefficient of determination r² of a fit whose curve is drawn: below it the
/// law explains less than half of how the measured speedups vary.
pub const MIN_FIT_R2: f64 = 0.5;

/// Why a fitted law is not drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FitRejection {
    /// The serial fraction (given) is at a bound of 0..=1, within [`FIT_BOUND_MARGIN`].
    AtBound(f64),
    /// The law does not describe the points: its r² (given) is below [`MIN_FIT_R2`].
    PoorMatch(f64),
    /// The run judged it not meaningful (its record's `meaningful` is false) for a reason
    /// the record alone cannot show: points it was fitted to shared their CPUs (its
    /// `caveat` says which).
    Flagged,
}

/// Whether `fit` means nothing and must not be drawn: its serial fraction clamped at a
/// bound (`s ≤ 0.001` or `s ≥ 0.999`), or a coefficient of determination below
/// [`MIN_FIT_R2`]. Fits without an r² (one point, or speedups that do not vary) are judged
/// by the bounds alone; a latency–bandwidth fit, which has no serial fraction, never.
pub fn fit_rejection(fit: &FitRecord) -> Option<FitRejection> {
    if !fit.model.is_scaling_law() {
        return None;
    }
    let s = fit.serial_fraction;
    if s.is_finite() && (s <= FIT_BOUND_MARGIN || s >= 1.0 - FIT_BOUND_MARGIN) {
        return Some(FitRejection::AtBound(s));
    }
    match fit.r2 {
        Some(r2) if r2.is_finite() && r2 < MIN_FIT_R2 => Some(FitRejection::PoorMatch(r2)),
        // Judged not meaningful when it was fitted: its points shared their CPUs.
        _ if !fit.meaningful => Some(FitRejection::Flagged),
        _ => None,
    }
}

/// What a legend says instead of a fit that is not drawn (see [`fit_rejection`]), e.g.
/// `no Amdahl fit: s at its bound 1.00` or `no Amdahl fit: r²=0.12, does not match the
/// points`; `None` for a fit that is drawn.
pub fn fit_note(fit: &FitRecord) -> Option<String> {
    let reason = fit_rejection(fit)?.reason();
    Some(format!("no {} fit: {reason}", law_name(fit.model)))
}

impl FitRejection {
    /// Why, in a few words: `s at its bound 1.00`, `r²=0.12, does not match the points`.
    pub fn reason(self) -> String {
        match self {
            FitRejection::AtBound(s) => format!("s at its bound {s:.2}"),
            FitRejection::PoorMatch(r2) => format!("r²={r2:.2}, does not match the points"),
            FitRejection::Flagged => "its points shared their CPUs with other work".to_owned(),
        }
    }

    /// Why, shorter still, for small legends: `s=1.00 at bound`, `r²=0.12`.
    pub fn short_reason(self) -> String {
        match self {
            FitRejection::AtBound(s) => format!("s={s:.2} at bound"),
            FitRejection::PoorMatch(r2) => format!("r²={r2:.2}"),
            FitRejection::Flagged => "CPUs shared".to_owned(),
        }
    }
}

/// The fits of a chart that are not drawn, grouped by what the legend says about them.
#[derive(Debug, Clone, PartialEq)]
pub struct FitNote {
    /// What the legend says, e.g. `no Gustafson fit: s at its bound 1.00` (see [`fit_note`]).
    pub text: String,
    /// Why the fit is not drawn (of the first series in the group).
    pub rejection: FitRejection,
    /// The series (indices into [`ChartModel::series`]) this holds for, in order.
    pub series: Vec<usize>,
}

/// `Amdahl`, `Gustafson` or `latency–bandwidth`.
fn law_name(model: Model) -> &'static str {
    match model {
        Model::Amdahl => "Amdahl",
        Model::Gustafson => "Gustafson",
        Model::LatencyBandwidth => "latency–bandwidth",
    }
}

/// The legend text of a fit: `Amdahl fit s=0.07` or `Gustafson fit s=0.25` (and
/// `latency–bandwidth fit` for the message-cost model, which is not charted).
pub fn fit_label(fit: &FitRecord) -> String {
    if !fit.model.is_scaling_law() {
        return "latency–bandwidth fit".to_owned();
    }
    format!(
        "{} fit s{}",
        law_name(fit.model),
        format_fraction(fit.serial_fraction)
    )
}

/// A serial fraction as `=0.07` (two decimals, three when small), `<0.001` when tiny.
fn format_fraction(s: f64) -> String {
    if !s.is_finite() {
        "=?".to_owned()
    } else if s == 0.0 || s.abs() >= 0.01 {
        format!("={s:.2}")
    } else if s.abs() >= 0.001 {
        format!("={s:.3}")
    } else if s > 0.0 {
        "<0.001".to_owned()
    } else {
        "≈0".to_owned()
    }
}

/// The speedup a fitted law predicts for `n` workers; NaN for a model that is not a
/// scaling law.
pub fn model_speedup(model: Model, serial_fraction: f64, n: f64) -> f64 {
    let s = serial_fraction;
    match model {
        Model::Amdahl => 1.0 / (s + (1.0 - s) / n),
        Model::Gustafson => n - s * (n - 1.0),
        Model::LatencyBandwidth => f64::NAN,
    }
}

/// What one run contributed while its records were read.
struct RunSeries {
    variant: Option<String>,
    points: BTreeMap<usize, SeriesPoint>,
    fit: Option<FitRecord>,
}

impl ChartModel {
    /// Builds the model from the records of one or more runs.
    ///
    /// Each slice is one run: its Run record first, then any mix of Sample, Point, Fit and
    /// End records; a run still going simply has fewer of them. Every (run, variant) with at
    /// least one Point becomes a series; the run's Fit with the same variant attaches to it.
    /// A later Point for the same worker count replaces an earlier one; points with 0
    /// workers are ignored.
    pub fn from_runs(runs: &[&[Record]]) -> ChartModel {
        Self::from_runs_marked(runs, &[])
    }

    /// Like [`ChartModel::from_runs`], with the runs that are replays of a recording
    /// marked: `replayed[i]` names where run `i` was replayed from (`None`: measured now).
    /// Their series keep the note in [`Series::replayed`] and say `replay` in the legend.
    pub fn from_runs_marked(runs: &[&[Record]], replayed: &[Option<String>]) -> ChartModel {
        let mut model = ChartModel::default();
        let run_records: Vec<Option<&RunRecord>> = runs
            .iter()
            .map(|records| {
                records.iter().find_map(|r| match r {
                    Record::Run(run) => Some(run),
                    _ => None,
                })
            })
            .collect();
        let times = run_times(&run_records);

        let mut titles: Vec<String> = Vec::new();
        for (i, records) in runs.iter().enumerate() {
            let run = run_records[i];
            if let Some(run) = run {
                model.cpus = model.cpus.max(run.env.cpus_available);
                let pairs: Vec<String> =
                    run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let weak = crate::experiment::find(&run.experiment).is_some_and(|e| {
                    crate::experiment::Params::parse(e, &pairs).is_ok_and(|p| e.weak_scaling(&p))
                });
                if weak || run.params.get("mode").is_some_and(|m| m == "weak") {
                    model.weak = true;
                }
                let title = format!("{} · {}", run.display_name(), run.backend);
                if !titles.contains(&title) {
                    titles.push(title);
                }
            }
            let experiment = run.map_or_else(|| "?".to_owned(), RunRecord::display_name);
            let backend = run.map_or("?", |r| r.backend.as_str());

            let mut found: Vec<RunSeries> = Vec::new();
            for record in *records {
                match record {
                    Record::Point(p) if p.workers > 0 => {
                        let point = SeriesPoint {
                            workers: p.workers,
                            median_s: p.median_s,
                            min_s: p.min_s,
                            max_s: p.max_s,
                            speedup: p.speedup,
                            efficiency: p.efficiency,
                            oversubscribed: p.oversubscribed,
                            disturbed: p.disturbance().is_some(),
                        };
                        let idx = match found.iter().position(|s| s.variant == p.variant) {
                            Some(idx) => idx,
                            None => {
                                found.push(RunSeries {
                                    variant: p.variant.clone(),
                                    points: BTreeMap::new(),
                                    fit: None,
                                });
                                found.len() - 1
                            }
                        };
                        found[idx].points.insert(p.workers, point);
                    }
                    // Only scaling laws are curves over workers.
                    Record::Fit(f) if f.model.is_scaling_law() => {
                        if let Some(s) = found.iter_mut().find(|s| s.variant == f.variant) {
                            s.fit = Some(f.clone());
                        }
                    }
                    Record::End(e) if i == 0 => model.ended = Some(e.status),
                    _ => {}
                }
            }
            for s in found {
                let mut label =
                    format!("{experiment} · {}", s.variant.as_deref().unwrap_or(backend));
                if let Some(time) = times.get(i) {
                    label.push_str(" · ");
                    label.push_str(time);
                }
                let replay = replayed.get(i).cloned().flatten();
                if replay.is_some() {
                    label.push_str(" · replay");
                }
                // A comparison must carry the warning of a run that was disturbed.
                if runs.len() > 1 && s.points.values().any(|p| p.disturbed) {
                    label.push_str(" · ⚠ CPUs shared");
                }
                model.series.push(Series {
                    label,
                    variant: s.variant,
                    points: s.points.into_values().collect(),
                    fit: s.fit,
                    replayed: replay,
                });
            }
        }
        model.title = titles.join(" vs ");
        if model.weak {
            model.title.push_str(" · weak scaling");
        }
        model
    }

    /// The style of each series, in order, for a palette of `colors` colours: see
    /// [`series_styles`].
    pub fn series_styles(&self, colors: usize) -> Vec<SeriesStyle> {
        series_styles(self.series.len(), colors)
    }

    /// The fits that are not drawn because they mean nothing (see [`fit_rejection`]), one
    /// note per distinct text with every series it holds for, in the order of the series:
    /// a legend says each once, e.g. `no Gustafson fit: s at its bound 1.00` for `mutex`
    /// and `padded`.
    pub fn fit_notes(&self) -> Vec<FitNote> {
        let mut notes: Vec<FitNote> = Vec::new();
        for (i, s) in self.series.iter().enumerate() {
            let Some(fit) = &s.fit else { continue };
            let (Some(rejection), Some(text)) = (fit_rejection(fit), fit_note(fit)) else {
                continue;
            };
            match notes.iter_mut().find(|n| n.text == text) {
                Some(note) => note.series.push(i),
                None => notes.push(FitNote {
                    text,
                    rejection,
                    series: vec![i],
                }),
            }
        }
        notes
    }

    /// Whether there is no measured point at all yet.
    pub fn is_empty(&self) -> bool {
        self.series.iter().all(|s| s.points.is_empty())
    }

    /// The largest worker count measured, at least 1.
    pub fn max_workers(&self) -> usize {
        self.series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.workers))
            .max()
            .unwrap_or(1)
            .max(1)
    }

    /// The plotted values of a series for a metric: `(workers, value, low, high)` per point,
    /// where `low..=high` is the error range.
    ///
    /// * Time: the median with the range `[min, max]`.
    /// * Speedup: the recorded speedup with the range `T1/max .. T1/min` (times N for weak
    ///   scaling, where the speedup is the scaled speedup N · T1 / T(N)); T1 is the 1-worker
    ///   median of the same series. Without a 1-worker point there are no speedups yet.
    /// * Efficiency: the speedup and its range divided by N.
    ///
    /// Speedup and efficiency have no range at N = 1 (low = high = value): the speedup
    /// there is T(1) / T(1), 1 by definition, whatever the spread of the repetitions.
    ///
    /// Points whose value is not finite are left out; a range bound that is not finite
    /// collapses to the value.
    pub fn values(&self, series: &Series, metric: Metric) -> Vec<(usize, f64, f64, f64)> {
        let t1 = series.t1();
        let mut out = Vec::with_capacity(series.points.len());
        for p in &series.points {
            let n = p.workers as f64;
            let v = match metric {
                Metric::Time => Some((p.median_s, p.min_s, p.max_s)),
                Metric::Speedup | Metric::Efficiency => t1.and_then(|t1| {
                    let scale = if self.weak { n * t1 } else { t1 };
                    let s = p.speedup.or_else(|| Some(scale / p.median_s))?;
                    let (lo, hi) = (scale / p.max_s, scale / p.min_s);
                    if metric == Metric::Speedup {
                        Some((s, lo, hi))
                    } else {
                        let e = p.efficiency.unwrap_or(s / n);
                        Some((e, lo / n, hi / n))
                    }
                }),
            };
            let Some((value, lo, hi)) = v else { continue };
            if !value.is_finite() {
                continue;
            }
            // S(1) = T(1) / T(1) is 1 by definition: a range there would mean nothing.
            let (lo, hi) = if p.workers == 1 && metric != Metric::Time {
                (value, value)
            } else {
                (lo, hi)
            };
            let lo = if lo.is_finite() { lo } else { value };
            let hi = if hi.is_finite() { hi } else { value };
            let (lo, hi) = (lo.min(hi).min(value), hi.max(lo).max(value));
            out.push((p.workers, value, lo, hi));
        }
        out
    }

    /// The ideal line for a metric over worker counts 1..=[`max_workers`](Self::max_workers),
    /// as `(workers, y)` points (workers as `f64`), sampled densely enough to be smooth on
    /// a log2 axis.
    ///
    /// Speedup: S = N (for weak scaling the ideal scaled speedup is N as well).
    /// Efficiency: 1. Time: T1 / N for strong scaling, T1 for weak scaling; without a
    /// 1-worker point there is no time ideal and the result is empty.
    pub fn ideal(&self, series: &Series, metric: Metric) -> Vec<(f64, f64)> {
        let max = self.max_workers() as f64;
        let flat = |y: f64| {
            if max > 1.0 {
                vec![(1.0, y), (max, y)]
            } else {
                vec![(1.0, y)]
            }
        };
        match metric {
            Metric::Speedup => geometric(max).into_iter().map(|n| (n, n)).collect(),
            Metric::Efficiency => flat(1.0),
            Metric::Time => match series.t1() {
                None => Vec::new(),
                Some(t1) if self.weak => flat(t1),
                Some(t1) => geometric(max).into_iter().map(|n| (n, t1 / n)).collect(),
            },
        }
    }

    /// The curve of the series' fitted model for a metric, as `(workers, y)` points sampled
    /// at 64 geometrically spaced worker counts between 1 and
    /// [`max_workers`](Self::max_workers); empty without a fit, and for a fit that means
    /// nothing (see [`fit_rejection`]: s at its bound, or a poor match).
    ///
    /// Speedup: Amdahl S(N) = 1 / (s + (1 − s) / N), Gustafson S(N) = N − s (N − 1).
    /// Efficiency: S(N) / N. Time: T1 / S(N) for Amdahl; for Gustafson, whose S is a
    /// scaled speedup, N · T1 / S(N). Time needs the 1-worker point.
    pub fn model_curve(&self, series: &Series, metric: Metric) -> Vec<(f64, f64)> {
        let Some(fit) = &series.fit else {
            return Vec::new();
        };
        if !fit.serial_fraction.is_finite() || fit_rejection(fit).is_some() {
            return Vec::new();
        }
        let t1 = series.t1();
        if metric == Metric::Time && t1.is_none() {
            return Vec::new();
        }
        geometric(self.max_workers() as f64)
            .into_iter()
            .filter_map(|n| {
                let s = model_speedup(fit.model, fit.serial_fraction, n);
                let y = match metric {
                    Metric::Speedup => s,
                    Metric::Efficiency => s / n,
                    Metric::Time => {
                        let t1 = t1.unwrap_or(f64::NAN);
                        match fit.model {
                            Model::Amdahl | Model::LatencyBandwidth => t1 / s,
                            Model::Gustafson => n * t1 / s,
                        }
                    }
                };
                y.is_finite().then_some((n, y))
            })
            .collect()
    }

    /// The worker-count ticks of the log2 x axis: 1, 2, 4, … up to the first power of two
    /// at or above [`max_workers`](Self::max_workers); at least `[1, 2]`.
    pub fn worker_ticks(&self) -> Vec<usize> {
        let max = self.max_workers().max(2);
        let mut ticks = vec![1usize];
        let mut t = 1usize;
        while t < max {
            t = t.saturating_mul(2);
            ticks.push(t);
        }
        ticks
    }

    /// The y axis for a metric, from 0.
    ///
    /// Speedup and efficiency: up to a round value (1, 1.2, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6
    /// or 8 times a power of ten) covering every value, error range and the ideal line up
    /// to [`max_workers`](Self::max_workers). Time: up to 10 % over the largest time
    /// measured (slowest repetitions included). Either way 3–5 ticks at a round step from
    /// 0 up to the top. Without values: 0–1 s, 0–2×, 0–1.
    pub fn y_axis(&self, metric: Metric) -> YAxis {
        // Values beyond this are garbage; capping them keeps every bound finite.
        const CAP: f64 = 1e15;
        let observed = self
            .series
            .iter()
            .flat_map(|s| self.values(s, metric))
            .map(|(_, v, _, hi)| v.max(hi))
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max)
            .min(CAP);
        let top = match metric {
            Metric::Time if observed > 0.0 => observed * 1.1,
            Metric::Time => 1.0,
            Metric::Speedup | Metric::Efficiency => {
                let ideal = match metric {
                    Metric::Speedup if observed > 0.0 => self.max_workers() as f64,
                    Metric::Speedup => 2.0,
                    _ => 1.0,
                };
                nice_ceil(observed.max(ideal).min(CAP))
            }
        };
        let step = tick_step(top);
        let ticks = (0..5)
            .map(|i| i as f64 * step)
            .filter(|v| *v <= top * (1.0 + 1e-9))
            .collect();
        YAxis { top, step, ticks }
    }
}

/// Round values an axis may end at, times a power of ten.
const TOPS: [f64; 11] = [1.0, 1.2, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0];

/// The smallest round value (see [`TOPS`]) at or above `m`.
fn nice_ceil(m: f64) -> f64 {
    let m = if m.is_finite() && m > 0.0 { m } else { 1.0 };
    let target = m * (1.0 - 1e-9);
    let e = m.log10().floor() as i32;
    (e - 1..=e + 1)
        .flat_map(|e| TOPS.iter().map(move |k| k * 10f64.powi(e)))
        .find(|top| *top >= target)
        .unwrap_or(m)
}

/// The nice mantissas tick steps are made of.
const MANTISSAS: [f64; 4] = [1.0, 2.0, 2.5, 5.0];

/// Candidate tick steps around the magnitude of `m`, ascending.
fn candidate_steps(m: f64) -> Vec<f64> {
    let e = m.log10().floor() as i32;
    (e - 2..=e + 1)
        .flat_map(|e| MANTISSAS.iter().map(move |k| k * 10f64.powi(e)))
        .collect()
}

/// The smallest nice step that gives at most 5 ticks (0 included) up to `top`, which then
/// gives at least 3.
fn tick_step(top: f64) -> f64 {
    let top = if top.is_finite() && top > 0.0 {
        top
    } else {
        1.0
    };
    candidate_steps(top)
        .into_iter()
        .find(|step| ((top / step) * (1.0 + 1e-9)).floor() < 5.0)
        .unwrap_or(top / 2.0)
}

/// 64 worker counts from 1 to `max`, geometrically spaced (just `[1]` when `max` ≤ 1).
fn geometric(max: f64) -> Vec<f64> {
    const SAMPLES: usize = 64;
    if !max.is_finite() || max <= 1.0 {
        return vec![1.0];
    }
    let ln = max.ln();
    (0..SAMPLES)
        .map(|i| {
            if i == SAMPLES - 1 {
                max
            } else {
                (ln * i as f64 / (SAMPLES - 1) as f64).exp()
            }
        })
        .collect()
}

/// Short start times that tell overlaid runs apart, one per run; empty for a single run.
fn run_times(runs: &[Option<&RunRecord>]) -> Vec<String> {
    if runs.len() < 2 {
        return Vec::new();
    }
    let parsed: Vec<Option<chrono::DateTime<chrono::FixedOffset>>> = runs
        .iter()
        .map(|r| r.and_then(|r| chrono::DateTime::parse_from_rfc3339(&r.started_at).ok()))
        .collect();
    let same_day = parsed
        .windows(2)
        .all(|w| matches!((w[0], w[1]), (Some(a), Some(b)) if a.date_naive() == b.date_naive()));
    let mut formats = Vec::new();
    if same_day {
        formats.push("%H:%M");
        formats.push("%H:%M:%S");
    }
    formats.push("%m-%d %H:%M");
    formats.push("%Y-%m-%d %H:%M:%S");
    for f in formats {
        let labels: Vec<String> = parsed
            .iter()
            .enumerate()
            .map(|(i, p)| match p {
                Some(t) => t.format(f).to_string(),
                None => fallback_name(runs[i], i),
            })
            .collect();
        if all_distinct(&labels) {
            return labels;
        }
    }
    let ids: Vec<String> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| fallback_name(*r, i))
        .collect();
    if all_distinct(&ids) {
        ids
    } else {
        (1..=runs.len()).map(|i| format!("run {i}")).collect()
    }
}

/// The run id, or `run N` without a Run record.
fn fallback_name(run: Option<&RunRecord>, index: usize) -> String {
    run.map_or_else(|| format!("run {}", index + 1), |r| r.run_id.clone())
}

fn all_distinct(labels: &[String]) -> bool {
    labels
        .iter()
        .enumerate()
        .all(|(i, l)| !labels[..i].contains(l))
}

/// What tells each series apart from the others: the labels without the leading
/// ` · `-separated parts they all share (the whole label for a single series).
pub fn short_labels(series: &[Series]) -> Vec<String> {
    let labels: Vec<&str> = series.iter().map(|s| s.label.as_str()).collect();
    shorten_labels(&labels)
}

/// [`short_labels`] of any labels: each without the leading ` · `-separated parts all of
/// them share, keeping at least its last part (the whole label when there is only one).
pub fn shorten_labels(labels: &[&str]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = labels.iter().map(|l| l.split(" · ").collect()).collect();
    let shortest = parts.iter().map(Vec::len).min().unwrap_or(0);
    let common = if labels.len() < 2 {
        0
    } else {
        (0..shortest.saturating_sub(1))
            .take_while(|&k| parts.iter().all(|p| p[k] == parts[0][k]))
            .count()
    };
    parts.iter().map(|p| p[common..].join(" · ")).collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::{Environment, PointRecord, RunRecord};

    fn run(experiment: &str, params: &[(&str, &str)], cpus: usize, started: &str) -> Record {
        Record::Run(RunRecord {
            run_id: format!("{experiment}-{started}"),
            experiment: experiment.into(),
            backend: "threads".into(),
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            workers: vec![1, 2, 4],
            reps: 5,
            warmup: 1,
            env: Environment {
                host: "node01".into(),
                cpu_model: "Test CPU".into(),
                cpus_available: cpus,
                slurm_job_id: None,
                version: "0.1.0".into(),
                git_commit: None,
                busy_before: None,
                mpi: None,
                caches: Vec::new(),
                hosts: Vec::new(),
            },
            started_at: started.into(),
            merged_from: Vec::new(),
        })
    }

    fn point(workers: usize, variant: Option<&str>, median: f64, min: f64, max: f64) -> Record {
        point_with(workers, variant, median, min, max, None, workers > 2)
    }

    fn point_with(
        workers: usize,
        variant: Option<&str>,
        median: f64,
        min: f64,
        max: f64,
        speedup: Option<f64>,
        oversubscribed: bool,
    ) -> Record {
        Record::Point(PointRecord {
            workers,
            variant: variant.map(str::to_owned),
            reps: 5,
            median_s: median,
            min_s: min,
            max_s: max,
            ci95_s: [min, max],
            outliers: 0,
            speedup,
            efficiency: speedup.map(|s| s / workers as f64),
            karp_flatt: None,
            oversubscribed,
            setup_s: 0.0,
            outputs: BTreeMap::new(),
            ranks: None,
            threads: None,
            other_busy: None,
            other_runs: 0,
            inner_runs: 1,
            hosts: Vec::new(),
        })
    }

    fn fit(model: Model, variant: Option<&str>, s: f64) -> Record {
        Record::Fit(FitRecord {
            model,
            variant: variant.map(str::to_owned),
            serial_fraction: s,
            rmse: 0.01,
            r2: Some(0.99),
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        })
    }

    const T0: &str = "2026-11-22T07:15:02+00:00";

    /// mc-pi strong scaling: T1 = 1.0 (0.9–1.2), T2 = 0.5 (0.45–0.6), T4 = 0.4 (0.36–0.5).
    fn strong() -> Vec<Record> {
        vec![
            run("mc-pi", &[("samples", "1000")], 2, T0),
            point_with(1, None, 1.0, 0.9, 1.2, Some(1.0), false),
            point_with(2, None, 0.5, 0.45, 0.6, Some(2.0), false),
            point_with(4, None, 0.4, 0.36, 0.5, Some(2.5), true),
            fit(Model::Amdahl, None, 0.25),
        ]
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    #[test]
    fn builds_one_series_per_run_and_variant() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        assert_eq!(m.series.len(), 1);
        assert_eq!(m.cpus, 2);
        assert!(!m.weak);
        assert_eq!(m.title, "mc-pi · threads");
        let s = &m.series[0];
        assert_eq!(s.label, "mc-pi · threads");
        assert_eq!(s.variant, None);
        assert_eq!(
            s.points.iter().map(|p| p.workers).collect::<Vec<_>>(),
            [1, 2, 4]
        );
        assert!(s.points[2].oversubscribed);
        assert_eq!(s.fit.as_ref().map(|f| f.serial_fraction), Some(0.25));
        assert!(s.replayed.is_none());
    }

    #[test]
    fn variants_get_their_own_series_and_fit() {
        let records = vec![
            run("imbalance", &[], 4, T0),
            point(2, Some("static"), 0.6, 0.6, 0.6),
            point(1, Some("static"), 1.0, 1.0, 1.0),
            point(1, Some("dynamic"), 1.0, 1.0, 1.0),
            fit(Model::Amdahl, Some("dynamic"), 0.1),
            // Sample and End records are ignored.
            Record::Sample(crate::record::SampleRecord {
                workers: 1,
                variant: None,
                rep: 0,
                warmup: false,
                seconds: 1.0,
                inner_runs: 1,
            }),
        ];
        let m = ChartModel::from_runs(&[&records]);
        let labels: Vec<&str> = m.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["imbalance · static", "imbalance · dynamic"]);
        // Sorted by workers even though they arrived out of order.
        assert_eq!(m.series[0].points[0].workers, 1);
        assert!(m.series[0].fit.is_none(), "no fit yet for static");
        assert_eq!(
            m.series[1].fit.as_ref().map(|f| f.serial_fraction),
            Some(0.1)
        );
    }

    #[test]
    fn points_that_shared_their_cpus_are_marked_and_a_comparison_says_so() {
        let a = strong();
        let mut b = strong();
        b[0] = run("mc-pi", &[], 8, "2026-11-22T08:02:40+00:00");
        for r in &mut b {
            if let Record::Point(p) = r
                && p.workers == 2
            {
                p.other_busy = Some(0.43);
            }
        }
        let m = ChartModel::from_runs(&[&a, &b]);
        let shared: Vec<Vec<usize>> = m
            .series
            .iter()
            .map(|s| {
                s.points
                    .iter()
                    .filter(|p| p.disturbed)
                    .map(|p| p.workers)
                    .collect()
            })
            .collect();
        assert_eq!(shared, [vec![], vec![2]]);
        assert_eq!(m.series[0].label, "mc-pi · threads · 07:15");
        assert_eq!(m.series[1].label, "mc-pi · threads · 08:02 · ⚠ CPUs shared");
        // Alone, the marks say it; the label stays short.
        let m = ChartModel::from_runs(&[&b]);
        assert_eq!(m.series[0].label, "mc-pi · threads");
    }

    #[test]
    fn overlaid_runs_are_labelled_with_their_start_time() {
        let a = strong();
        let mut b = strong();
        b[0] = run("mc-pi", &[], 8, "2026-11-22T08:02:40+00:00");
        let m = ChartModel::from_runs(&[&a, &b]);
        let labels: Vec<&str> = m.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            ["mc-pi · threads · 07:15", "mc-pi · threads · 08:02"]
        );
        assert_eq!(m.cpus, 8);
        assert_eq!(m.title, "mc-pi · threads");

        // Same minute: seconds tell them apart; different days: the date does.
        b[0] = run("mc-pi", &[], 2, "2026-11-22T07:15:40+00:00");
        let m = ChartModel::from_runs(&[&a, &b]);
        assert!(
            m.series[1].label.ends_with("07:15:40"),
            "{}",
            m.series[1].label
        );
        b[0] = run("mc-pi", &[], 2, "2026-11-23T07:15:02+00:00");
        let m = ChartModel::from_runs(&[&a, &b]);
        assert!(
            m.series[1].label.ends_with("11-23 07:15"),
            "{}",
            m.series[1].label
        );
    }

    #[test]
    fn incomplete_and_odd_runs_do_not_break_the_model() {
        // Only the Run record.
        let records = vec![run("mc-pi", &[], 2, T0)];
        let m = ChartModel::from_runs(&[&records]);
        assert!(m.is_empty());
        assert_eq!(m.worker_ticks(), [1, 2]);
        assert_eq!(m.max_workers(), 1);
        // No runs at all.
        let m = ChartModel::from_runs(&[]);
        assert!(m.is_empty());
        assert_eq!(m.cpus, 0);
        // No Run record, a 0-worker point, a repeated point (the later one wins).
        let records = vec![
            point(0, None, 1.0, 1.0, 1.0),
            point(1, None, 2.0, 2.0, 2.0),
            point(1, None, 1.0, 1.0, 1.0),
        ];
        let m = ChartModel::from_runs(&[&records]);
        assert_eq!(m.series.len(), 1);
        assert_eq!(m.series[0].label, "? · ?");
        assert_eq!(m.series[0].points.len(), 1);
        assert_eq!(m.series[0].t1(), Some(1.0));
    }

    #[test]
    fn time_values_are_medians_with_min_max() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        let v = m.values(&m.series[0], Metric::Time);
        assert_eq!(
            v,
            [(1, 1.0, 0.9, 1.2), (2, 0.5, 0.45, 0.6), (4, 0.4, 0.36, 0.5)]
        );
    }

    #[test]
    fn speedup_and_efficiency_ranges_come_from_t1_over_min_max() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        let v = m.values(&m.series[0], Metric::Speedup);
        // N=2: speedup 2.0, range 1.0/0.6 .. 1.0/0.45.
        let (n, s, lo, hi) = v[1];
        assert_eq!(n, 2);
        assert!(close(s, 2.0) && close(lo, 1.0 / 0.6) && close(hi, 1.0 / 0.45));
        // N=1: 1.0 without a range (T(1)/T(1) is 1 by definition).
        assert_eq!(v[0], (1, 1.0, 1.0, 1.0));
        let e = m.values(&m.series[0], Metric::Efficiency);
        // N=4: efficiency 2.5/4, range (1/0.5)/4 .. (1/0.36)/4.
        let (n, ef, lo, hi) = e[2];
        assert_eq!(n, 4);
        assert!(close(ef, 0.625) && close(lo, 0.5) && close(hi, 1.0 / 0.36 / 4.0));
    }

    #[test]
    fn speedup_without_a_one_worker_point_has_no_values() {
        let records = vec![
            run("mc-pi", &[], 2, T0),
            point_with(2, None, 0.5, 0.4, 0.6, None, false),
        ];
        let m = ChartModel::from_runs(&[&records]);
        assert!(m.values(&m.series[0], Metric::Speedup).is_empty());
        assert!(m.values(&m.series[0], Metric::Efficiency).is_empty());
        assert_eq!(m.values(&m.series[0], Metric::Time).len(), 1);
        assert!(m.ideal(&m.series[0], Metric::Time).is_empty());
    }

    #[test]
    fn a_missing_recorded_speedup_is_computed_and_nan_is_dropped() {
        let records = vec![
            run("mc-pi", &[], 2, T0),
            point_with(1, None, 1.0, 1.0, 1.0, None, false),
            point_with(2, None, 0.5, 0.0, 0.5, None, false),
            point_with(4, None, f64::NAN, f64::NAN, f64::NAN, None, false),
        ];
        let m = ChartModel::from_runs(&[&records]);
        let v = m.values(&m.series[0], Metric::Speedup);
        assert_eq!(v.len(), 2, "{v:?}");
        // min 0 s would give an infinite upper bound: it collapses to the value.
        assert_eq!(v[1], (2, 2.0, 2.0, 2.0));
        let e = m.values(&m.series[0], Metric::Efficiency);
        assert_eq!(e[1], (2, 1.0, 1.0, 1.0));
        assert_eq!(m.values(&m.series[0], Metric::Time).len(), 2);
    }

    #[test]
    fn weak_scaling_ranges_are_scaled() {
        let records = vec![
            run("mc-pi", &[("mode", "weak")], 2, T0),
            point_with(1, None, 1.0, 1.0, 1.0, Some(1.0), false),
            point_with(2, None, 1.25, 1.0, 1.6, Some(1.6), false),
        ];
        let m = ChartModel::from_runs(&[&records]);
        assert!(m.weak);
        assert_eq!(m.title, "mc-pi · threads · weak scaling");
        let v = m.values(&m.series[0], Metric::Speedup);
        assert_eq!(v[1], (2, 1.6, 2.0 / 1.6, 2.0));
    }

    #[test]
    fn ideal_lines() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        let s = &m.series[0];
        let sp = m.ideal(s, Metric::Speedup);
        assert_eq!(sp.first(), Some(&(1.0, 1.0)));
        assert_eq!(sp.last(), Some(&(4.0, 4.0)));
        assert!(sp.iter().all(|(x, y)| x == y));
        assert_eq!(m.ideal(s, Metric::Efficiency), [(1.0, 1.0), (4.0, 1.0)]);
        let t = m.ideal(s, Metric::Time);
        assert_eq!(t.first(), Some(&(1.0, 1.0)));
        assert_eq!(t.last(), Some(&(4.0, 0.25)));
        let weak = ChartModel {
            weak: true,
            ..m.clone()
        };
        assert_eq!(weak.ideal(s, Metric::Time), [(1.0, 1.0), (4.0, 1.0)]);
        assert_eq!(weak.ideal(s, Metric::Speedup).last(), Some(&(4.0, 4.0)));
    }

    #[test]
    fn laws() {
        assert!(close(model_speedup(Model::Amdahl, 0.25, 2.0), 1.6));
        assert!(close(model_speedup(Model::Gustafson, 0.25, 4.0), 3.25));
        assert!(close(model_speedup(Model::Amdahl, 0.0, 8.0), 8.0));
        assert!(close(model_speedup(Model::Amdahl, 1.0, 8.0), 1.0));
        assert!(close(model_speedup(Model::Gustafson, 0.0, 8.0), 8.0));
    }

    #[test]
    fn model_curves() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        let s = &m.series[0];
        let c = m.model_curve(s, Metric::Speedup);
        assert_eq!(c.len(), 64);
        assert_eq!(c[0], (1.0, 1.0));
        let (n, y) = c[63];
        // Amdahl s=0.25 at N=4: 1 / (0.25 + 0.75/4) = 16/7.
        assert!(close(n, 4.0) && close(y, 16.0 / 7.0));
        // Geometric spacing: N=2 is sample 31.5; ratios between samples are equal.
        assert!(close(c[1].0 / c[0].0, c[2].0 / c[1].0));
        assert!(c.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 < w[1].1));
        let e = m.model_curve(s, Metric::Efficiency);
        assert!(close(e[63].1, 16.0 / 7.0 / 4.0));
        let t = m.model_curve(s, Metric::Time);
        assert!(close(t[63].1, 7.0 / 16.0));

        // Gustafson: S(4) = 3.25 and the time stays T1 · N / S.
        let mut g = s.clone();
        g.fit = Some(FitRecord {
            model: Model::Gustafson,
            variant: None,
            serial_fraction: 0.25,
            rmse: 0.0,
            r2: None,
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        });
        assert!(close(m.model_curve(&g, Metric::Speedup)[63].1, 3.25));
        assert!(close(m.model_curve(&g, Metric::Time)[63].1, 4.0 / 3.25));

        // No fit yet, or a fit that is not a number: no curve.
        g.fit = None;
        assert!(m.model_curve(&g, Metric::Speedup).is_empty());
        g.fit = Some(FitRecord {
            model: Model::Amdahl,
            variant: None,
            serial_fraction: f64::NAN,
            rmse: 0.0,
            r2: None,
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        });
        assert!(m.model_curve(&g, Metric::Speedup).is_empty());
    }

    #[test]
    fn worker_ticks_are_powers_of_two_covering_all_points() {
        let ticks_for = |max: usize| {
            let records = vec![
                run("mc-pi", &[], 2, T0),
                point(1, None, 1.0, 1.0, 1.0),
                point(max, None, 1.0, 1.0, 1.0),
            ];
            ChartModel::from_runs(&[&records]).worker_ticks()
        };
        assert_eq!(ticks_for(6), [1, 2, 4, 8]);
        assert_eq!(ticks_for(4), [1, 2, 4]);
        assert_eq!(ticks_for(1), [1, 2]);
        assert_eq!(ticks_for(2), [1, 2]);
        assert_eq!(ticks_for(64), [1, 2, 4, 8, 16, 32, 64]);
        assert_eq!(ChartModel::default().worker_ticks(), [1, 2]);
    }

    #[test]
    fn y_axes_are_round() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        // Speedup: the ideal reaches 4 at N=4 and the largest upper bound is 1/0.36 = 2.78.
        let y = m.y_axis(Metric::Speedup);
        assert_eq!(y.top, 4.0);
        assert_eq!(y.ticks, [0.0, 1.0, 2.0, 3.0, 4.0]);
        // Efficiency: the N=2 upper bound (1/0.45)/2 = 1.11 is above the ideal 1.
        let y = m.y_axis(Metric::Efficiency);
        assert_eq!(y.top, 1.2);
        assert_eq!(y.ticks, [0.0, 0.25, 0.5, 0.75, 1.0]);
        // Time: 10 % over the slowest repetition (1.2 s); a 0.25 s step would give 6
        // ticks, too many: 0.5 s gives 3.
        let y = m.y_axis(Metric::Time);
        assert!(close(y.top, 1.32));
        assert_eq!(y.ticks, [0.0, 0.5, 1.0]);
    }

    #[test]
    fn nice_numbers() {
        assert_eq!(nice_ceil(4.0), 4.0);
        assert_eq!(nice_ceil(1.0), 1.0);
        assert_eq!(nice_ceil(1.03), 1.2);
        assert_eq!(nice_ceil(6.5), 8.0);
        assert_eq!(nice_ceil(64.0), 80.0);
        assert_eq!(nice_ceil(0.0), 1.0);
        assert_eq!(tick_step(4.0), 1.0);
        assert_eq!(tick_step(8.0), 2.0);
        assert_eq!(tick_step(1.2), 0.25);
        for m in [0.003, 0.07, 0.9, 1.1, 3.3, 17.0, 64.0, 1234.0] {
            let top = nice_ceil(m);
            assert!(top >= m && top < 1.34 * m, "{m}: {top}");
            let step = tick_step(m);
            let count = ((m / step) * (1.0 + 1e-9)).floor() as usize + 1;
            assert!((3..=5).contains(&count), "{m}: step {step} gives {count}");
        }
    }

    #[test]
    fn tick_labels() {
        assert_eq!(Metric::Time.format_tick(0.25, 0.25, 1.32), "0.25 s");
        assert_eq!(Metric::Time.format_tick(1.0, 0.5, 1.6), "1.0 s");
        assert_eq!(Metric::Time.format_tick(0.12, 0.04, 0.2), "120 ms");
        assert_eq!(Metric::Time.format_tick(0.0, 0.04, 0.2), "0");
        assert_eq!(Metric::Time.format_tick(2.5e-4, 2.5e-4, 4e-4), "250 µs");
        assert_eq!(Metric::Speedup.format_tick(1.5, 0.5, 2.0), "1.5×");
        assert_eq!(Metric::Speedup.format_tick(4.0, 1.0, 4.0), "4×");
        assert_eq!(Metric::Efficiency.format_tick(0.5, 0.5, 1.5), "0.50");
        assert_eq!(Metric::Efficiency.format_tick(0.25, 0.25, 1.0), "0.25");
        assert_eq!(Metric::Time.format_value(0.0123), "12.3 ms");
        assert_eq!(Metric::Speedup.format_value(1.917), "1.92×");
        assert_eq!(Metric::Efficiency.format_value(f64::NAN), "–");
    }

    #[test]
    fn fit_labels() {
        let f = |model, s| FitRecord {
            model,
            variant: None,
            serial_fraction: s,
            rmse: 0.0,
            r2: None,
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        };
        assert_eq!(fit_label(&f(Model::Amdahl, 0.07)), "Amdahl fit s=0.07");
        assert_eq!(
            fit_label(&f(Model::LatencyBandwidth, 0.0)),
            "latency–bandwidth fit"
        );
        assert_eq!(
            fit_label(&f(Model::Gustafson, 0.25)),
            "Gustafson fit s=0.25"
        );
        assert_eq!(fit_label(&f(Model::Amdahl, 0.004)), "Amdahl fit s=0.004");
        assert_eq!(fit_label(&f(Model::Amdahl, 0.0001)), "Amdahl fit s<0.001");
        assert_eq!(fit_label(&f(Model::Amdahl, 0.0)), "Amdahl fit s=0.00");
    }

    /// [`race`] with a Gustafson fit per variant: s at its bound 1.00 for `mutex`, 0.2 for
    /// the others (one point with N > 1: no r²).
    pub(crate) fn race_with_fits() -> Vec<Record> {
        let mut records = race();
        for v in [
            "unsynchronized",
            "atomic",
            "mutex",
            "reduction",
            "false-sharing",
            "padded",
        ] {
            let s = if v == "mutex" { 1.0 } else { 0.2 };
            records.push(Record::Fit(FitRecord {
                model: Model::Gustafson,
                variant: Some(v.to_owned()),
                serial_fraction: s,
                rmse: 0.1,
                r2: None,
                points: 1,
                latency_s: None,
                bandwidth_bytes_s: None,
                meaningful: true,
                caveat: None,
            }));
        }
        records
    }

    /// race's six variants, weak scaling on 2 CPUs, N = 1 and 2.
    pub(crate) fn race() -> Vec<Record> {
        let mut records = vec![run("race", &[], 2, T0)];
        for v in [
            "unsynchronized",
            "atomic",
            "mutex",
            "reduction",
            "false-sharing",
            "padded",
        ] {
            records.push(point_with(1, Some(v), 1.0, 0.9, 1.2, Some(1.0), false));
            records.push(point_with(2, Some(v), 1.5, 1.4, 1.7, Some(1.33), false));
        }
        records
    }

    #[test]
    fn every_series_gets_its_own_colour_and_marker() {
        let records = race();
        let m = ChartModel::from_runs(&[&records]);
        assert_eq!(m.series.len(), 6);
        // Four colours (the terminal), six colours (the PNG), one (no colour at all).
        for colors in [4, 6, 1] {
            let styles = m.series_styles(colors);
            assert_eq!(styles.len(), 6);
            for (i, a) in styles.iter().enumerate() {
                assert_eq!(a.color, i % colors, "colours cycle");
                for b in &styles[..i] {
                    assert_ne!(a, b, "{colors} colours: {styles:?}");
                }
            }
        }
        // Up to six series every marker differs, so that they stay apart without colour.
        let markers: Vec<MarkerShape> = m.series_styles(4).iter().map(|s| s.marker).collect();
        assert_eq!(markers, MarkerShape::ALL);
        // Series that had a style keep it: the first four as before.
        let first = series_styles(4, 4);
        assert_eq!(
            first.iter().map(|s| s.marker).collect::<Vec<_>>(),
            MarkerShape::ALL[..4]
        );
        // More series than colours: markers cycle so that every pair is unique as long as
        // there are pairs left (4 colours × 6 markers = 24), and the styles then repeat.
        for colors in [1, 4, 6] {
            let pairs = colors * MarkerShape::ALL.len();
            let styles = series_styles(pairs + 3, colors);
            for (i, a) in styles[..pairs].iter().enumerate() {
                assert!(!styles[..i].contains(a), "{colors}: {i} {a:?}");
            }
            assert_eq!(styles[pairs..], styles[..3]);
        }
        assert!(series_styles(0, 4).is_empty());
        assert_eq!(series_styles(2, 0).len(), 2, "no palette is one colour");
    }

    fn fit_of(model: Model, s: f64, rmse: f64, r2: Option<f64>) -> FitRecord {
        FitRecord {
            model,
            variant: None,
            serial_fraction: s,
            rmse,
            r2,
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        }
    }

    #[test]
    fn fits_at_their_bounds_or_off_the_points_are_not_drawn() {
        let records = strong();
        let m = ChartModel::from_runs(&[&records]);
        let mut s = m.series[0].clone();
        let drawn = m.model_curve(&s, Metric::Speedup);
        assert_eq!(drawn.len(), 64, "a meaningful fit is drawn as before");
        assert_eq!(fit_rejection(s.fit.as_ref().expect("a fit")), None);

        // Clamped at a bound: Gustafson s = 1.00 (race mutex), Amdahl s = 1.000
        // (imbalance static), and s = 0 at the other end.
        for (model, fraction, note) in [
            (
                Model::Gustafson,
                1.0,
                "no Gustafson fit: s at its bound 1.00",
            ),
            (Model::Amdahl, 0.9995, "no Amdahl fit: s at its bound 1.00"),
            (Model::Amdahl, 0.0, "no Amdahl fit: s at its bound 0.00"),
            (Model::Amdahl, 0.0008, "no Amdahl fit: s at its bound 0.00"),
        ] {
            let fit = fit_of(model, fraction, 0.3, None);
            assert_eq!(
                fit_rejection(&fit),
                Some(FitRejection::AtBound(fraction)),
                "{fraction}"
            );
            assert_eq!(fit_note(&fit).as_deref(), Some(note));
            s.fit = Some(fit);
            for metric in Metric::ALL {
                assert!(
                    m.model_curve(&s, metric).is_empty(),
                    "{fraction} {metric:?}"
                );
            }
        }

        // Inside the bounds but not describing the points: a low r².
        let fit = fit_of(Model::Amdahl, 0.3, 0.4, Some(0.12));
        assert_eq!(fit_rejection(&fit), Some(FitRejection::PoorMatch(0.12)));
        assert_eq!(
            fit_note(&fit).as_deref(),
            Some("no Amdahl fit: r²=0.12, does not match the points")
        );
        s.fit = Some(fit);
        assert!(m.model_curve(&s, Metric::Speedup).is_empty());

        // Kept exactly as before: inside the bounds with a good r², or without an r² (one
        // point, or speedups that do not vary): then only the bounds decide.
        for fit in [
            fit_of(Model::Amdahl, 0.002, 0.01, Some(0.97)),
            fit_of(Model::Gustafson, 0.998, 0.0, None),
            fit_of(Model::Amdahl, 0.25, 0.0, None),
            fit_of(Model::Amdahl, 0.25, 0.05, Some(MIN_FIT_R2)),
        ] {
            assert_eq!(fit_rejection(&fit), None, "{fit:?}");
            assert_eq!(fit_note(&fit), None);
            s.fit = Some(fit);
            assert_eq!(m.model_curve(&s, Metric::Speedup).len(), 64);
        }
        // A latency–bandwidth fit has no serial fraction to judge.
        assert_eq!(
            fit_rejection(&fit_of(Model::LatencyBandwidth, 0.0, 0.1, None)),
            None
        );
    }

    #[test]
    fn fit_notes_name_each_reason_once() {
        let mut records = race_with_fits();
        records.push(Record::Fit(FitRecord {
            model: Model::Gustafson,
            variant: Some("padded".into()),
            serial_fraction: 0.9996,
            rmse: 0.1,
            r2: None,
            points: 1,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        }));
        records.push(Record::Fit(FitRecord {
            model: Model::Gustafson,
            variant: Some("atomic".into()),
            serial_fraction: 0.3,
            rmse: 0.4,
            r2: Some(0.2),
            points: 3,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        }));
        let m = ChartModel::from_runs(&[&records]);
        let notes = m.fit_notes();
        let got: Vec<(&str, &[usize])> = notes
            .iter()
            .map(|n| (n.text.as_str(), n.series.as_slice()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "no Gustafson fit: r²=0.20, does not match the points",
                    &[1][..]
                ),
                ("no Gustafson fit: s at its bound 1.00", &[2, 5][..]),
            ]
        );
        assert_eq!(notes[1].rejection, FitRejection::AtBound(1.0));
        let records = strong();
        assert!(ChartModel::from_runs(&[&records]).fit_notes().is_empty());
    }

    #[test]
    fn speedup_and_efficiency_have_no_error_range_at_one_worker() {
        for records in [strong(), race()] {
            let m = ChartModel::from_runs(&[&records]);
            let s = &m.series[0];
            for metric in [Metric::Speedup, Metric::Efficiency] {
                let (n, v, lo, hi) = m.values(s, metric)[0];
                assert_eq!(n, 1);
                assert_eq!((lo, hi), (v, v), "{metric:?}: T(1)/T(1) is 1 by definition");
                // Other worker counts keep their range.
                let (_, v, lo, hi) = m.values(s, metric)[1];
                assert!(lo < v && v < hi, "{metric:?}");
            }
            // Time keeps its min–max bar at every N.
            let (_, v, lo, hi) = m.values(s, Metric::Time)[0];
            assert!(lo < v && v < hi);
        }
    }

    #[test]
    fn metrics_cycle() {
        for m in Metric::ALL {
            assert_eq!(m.next().prev(), m);
            assert_eq!(m.next().next().next(), m);
        }
        assert_eq!(Metric::Time.axis_title(), "time (s)");
        assert_eq!(Metric::Speedup.unit(), Some("×"));
    }
}
