//! PNG export: scaling charts and lesson cards, drawn with plotters from the same
//! [`ChartModel`] the terminal draws.
//!
//! Two kinds of image:
//!
//! * **Charts** ([`render_charts`]): time, speedup or efficiency of one run, or of several
//!   runs overlaid, or all three side by side (stacked when the image is less than 1.5
//!   times as wide as high). Each chart has the log2 worker axis with ticks 1, 2, 4, …, the ideal line, the
//!   fitted Amdahl or Gustafson curve, min–max error bars, oversubscribed points hollow in
//!   a shaded N > CPUs region, a legend that keeps off the data, a title with the run's
//!   parameters and a footer with each run's environment (host, CPU, CPUs, backend, start
//!   time, hpc-tutor version).
//!   Message-size runs (`pingpong`, the eager-limit sweep) get time and bandwidth against
//!   the message size instead, and a run that deadlocked before it measured a point gets
//!   its wait-for graph: the kind is [`ChartKind::of`] the runs, as in the terminal.
//! * **Lesson cards** ([`render_lesson_card`]): a lesson's title and key takeaways, charts
//!   of the learner's latest run of each of its experiments, and each prediction the
//!   learner made next to what was measured.
//!
//! Images are deterministic: the same records (and answers) at the same size always give
//! the same PNG bytes. Nothing of "now" goes in (dates are the runs' own start times), the
//! text is drawn with fonts compiled into the binary (no system fonts, no fontconfig), and
//! the PNG holds only pixels.
//!
//! For the terminal app, the tutor's `App::export_screen` exports what is on screen.

mod canvas;
mod card;
mod chart;
mod font;
mod png;
mod sizes;
mod waitfor;

use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use std::path::Path;

use self::canvas::{Align, Canvas, Rect};
use self::font::{Font, ellipsize, wrap};
use crate::chart::sizes::{SizeChart, SizeMetric};
use crate::chart::waitfor::WaitFor;
use crate::chart::{ChartKind, ChartModel, Metric};
use crate::record::store::Store;
use crate::record::{Record, RunRecord, Status};

pub use card::{LessonCard, render_lesson_card};

/// Why an image could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A width or height outside the allowed range.
    #[error("{what} must be from {} to {} pixels, not {value}", range.start(), range.end())]
    Size {
        /// `--width` or `--height`.
        what: &'static str,
        /// The value given.
        value: u32,
        /// The allowed range.
        range: RangeInclusive<u32>,
    },
    /// A lesson card does not fit the height asked for.
    #[error(
        "a height of {height} pixels is too small for this lesson card at width {width}: it needs at least {needed}"
    )]
    CardTooSmall {
        /// The width of the card.
        width: u32,
        /// The height asked for.
        height: u32,
        /// The least height the content fits in.
        needed: u32,
    },
    /// All three charts do not fit in an image this small.
    #[error(
        "{width}×{height} is too small for all three charts: they need at least 900×400 side by side or 500×900 stacked (or draw one with --chart time|speedup|efficiency)"
    )]
    TooSmallForAll {
        /// The width asked for.
        width: u32,
        /// The height asked for.
        height: u32,
    },
    /// There is nothing to draw, e.g. no run yet; the text says what to do.
    #[error("{0}")]
    Nothing(String),
    /// plotters failed while drawing.
    #[error("drawing the image failed: {0}")]
    Draw(String),
    /// The PNG encoder failed.
    #[error("encoding the PNG failed: {0}")]
    Encode(String),
    /// The embedded font could not be loaded (a broken build).
    #[error("the embedded font could not be loaded")]
    Font,
    /// Writing the file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Which chart(s) an image shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Charts {
    /// One chart of this metric.
    One(Metric),
    /// Time, speedup and efficiency side by side, or stacked when the image is less than
    /// 1.5 times as wide as high.
    All,
}

impl Charts {
    /// `time`, `speedup`, `efficiency` or `all`, as in file names and `--chart`.
    pub fn label(self) -> &'static str {
        match self {
            Charts::One(m) => m.label(),
            Charts::All => "all",
        }
    }

    /// The default image size: 1200 × 800 for one chart, 1800 × 700 for all three.
    pub fn default_size(self) -> Size {
        match self {
            Charts::One(_) => Size {
                width: 1200,
                height: 800,
            },
            Charts::All => Size {
                width: 1800,
                height: 700,
            },
        }
    }
}

/// The size of an image in pixels, within [`Size::WIDTHS`] × [`Size::HEIGHTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    width: u32,
    height: u32,
}

impl Size {
    /// Allowed widths.
    pub const WIDTHS: RangeInclusive<u32> = 400..=4000;
    /// Allowed heights.
    pub const HEIGHTS: RangeInclusive<u32> = 300..=4000;

    /// A size, if both are in range.
    pub fn new(width: u32, height: u32) -> Result<Size, ExportError> {
        check_width(width)?;
        check_height(height)?;
        Ok(Size { width, height })
    }

    /// The size from optional `--width` and `--height`: both given are used as they are;
    /// one given keeps the aspect ratio of `default` (clamped to the allowed range); none
    /// gives `default`.
    pub fn resolve(
        width: Option<u32>,
        height: Option<u32>,
        default: Size,
    ) -> Result<Size, ExportError> {
        if let Some(w) = width {
            check_width(w)?;
        }
        if let Some(h) = height {
            check_height(h)?;
        }
        let ratio = f64::from(default.height) / f64::from(default.width);
        let clamp_h =
            |h: f64| (h.round() as u32).clamp(*Self::HEIGHTS.start(), *Self::HEIGHTS.end());
        let clamp_w = |w: f64| (w.round() as u32).clamp(*Self::WIDTHS.start(), *Self::WIDTHS.end());
        let (w, h) = match (width, height) {
            (Some(w), Some(h)) => (w, h),
            (Some(w), None) => (w, clamp_h(f64::from(w) * ratio)),
            (None, Some(h)) => (clamp_w(f64::from(h) / ratio), h),
            (None, None) => (default.width, default.height),
        };
        Size::new(w, h)
    }

    /// Width in pixels.
    pub fn width(self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(self) -> u32 {
        self.height
    }
}

/// Checks a width against [`Size::WIDTHS`].
pub(crate) fn check_width(width: u32) -> Result<(), ExportError> {
    if Size::WIDTHS.contains(&width) {
        Ok(())
    } else {
        Err(ExportError::Size {
            what: "--width",
            value: width,
            range: Size::WIDTHS,
        })
    }
}

/// Checks a height against [`Size::HEIGHTS`].
pub(crate) fn check_height(height: u32) -> Result<(), ExportError> {
    if Size::HEIGHTS.contains(&height) {
        Ok(())
    } else {
        Err(ExportError::Size {
            what: "--height",
            value: height,
            range: Size::HEIGHTS,
        })
    }
}

/// Draws the chart(s) of one or more runs (each slice one run's records, as
/// [`ChartModel::from_runs`] takes them) and returns the PNG bytes.
///
/// The kind of chart is [`ChartKind::of`] the runs, as in the terminal: scaling charts over
/// the worker count; time and bandwidth over the message size for message-size runs
/// (speedup and efficiency mean nothing there: they draw bandwidth); and for a run that
/// deadlocked before it measured a point, its wait-for graph, one picture whatever
/// `charts` asks for.
///
/// All three charts go side by side when the image is at least 1.5 times as wide as
/// high, else stacked; they need at least 900 × 400 pixels side by side and 500 × 900
/// stacked ([`ExportError::TooSmallForAll`]).
pub fn render_charts(
    runs: &[&[Record]],
    charts: Charts,
    size: Size,
) -> Result<Vec<u8>, ExportError> {
    // Text is measured for the layout before drawing starts.
    font::ensure_registered()?;
    let kind = ChartKind::of(runs);
    let model = ChartModel::from_runs(runs);
    let (w, h) = (f64::from(size.width), f64::from(size.height));
    let side_by_side = w >= h * 1.5;
    if charts == Charts::All && kind != ChartKind::WaitFor {
        let (min_w, min_h) = if side_by_side { (900, 400) } else { (500, 900) };
        if size.width < min_w || size.height < min_h {
            return Err(ExportError::TooSmallForAll {
                width: size.width,
                height: size.height,
            });
        }
    }
    // A wait-for graph is one picture, laid out like one chart.
    let (base_w, base_h) = match charts {
        Charts::One(_) => (1200.0, 800.0),
        Charts::All if kind == ChartKind::WaitFor => (1200.0, 800.0),
        Charts::All if side_by_side => (1800.0, 700.0),
        Charts::All => (1000.0, 1800.0),
    };
    let u = (w / base_w).min(h / base_h).clamp(0.5, 3.0);
    let page = Page::new(u);
    let run_records = run_records(runs);
    let mut cpus: Vec<usize> = run_records
        .iter()
        .flatten()
        .map(|r| r.env.cpus_available)
        .collect();
    cpus.sort_unstable();
    cpus.dedup();
    let mixed_cpus = cpus.len() > 1;
    let footer = footer_lines(runs, &model, &page, w - 2.0 * page.margin);
    png::render(size.width, size.height, |c| {
        let body_top = draw_header(c, &model, &run_records, w, &page)?;
        let body_bottom = draw_footer(c, &footer, w, h, &page)?;
        let body = Rect::new(
            page.margin,
            body_top,
            w - 2.0 * page.margin,
            body_bottom - body_top,
        );
        match kind {
            ChartKind::WaitFor => match WaitFor::from_runs(runs) {
                Some(wait_for) => waitfor::draw(c, body, &wait_for, u, 1.4),
                None => Ok(()),
            },
            ChartKind::MessageSizes => {
                let sizes = SizeChart::from_runs(runs, &[]);
                match charts {
                    Charts::One(metric) => sizes::draw(c, body, &sizes, SizeMetric::of(metric), u),
                    Charts::All => {
                        let gap = 36.0 * u;
                        let areas = if side_by_side {
                            let pw = (body.w - gap) / 2.0;
                            [
                                Rect::new(body.x, body.y, pw, body.h),
                                Rect::new(body.x + pw + gap, body.y, pw, body.h),
                            ]
                        } else {
                            let ph = (body.h - gap) / 2.0;
                            [
                                Rect::new(body.x, body.y, body.w, ph),
                                Rect::new(body.x, body.y + ph + gap, body.w, ph),
                            ]
                        };
                        sizes::draw(c, areas[0], &sizes, SizeMetric::Time, u)?;
                        sizes::draw(c, areas[1], &sizes, SizeMetric::Bandwidth, u)
                    }
                }
            }
            ChartKind::Scaling => match charts {
                Charts::One(metric) => {
                    let style = chart::Style {
                        u,
                        mixed_cpus,
                        below: None,
                    };
                    chart::draw(c, body, &model, metric, style)
                }
                Charts::All => {
                    let gap = 36.0 * u;
                    let areas: Vec<Rect> = (0..3)
                        .map(|i| {
                            let k = f64::from(i);
                            if side_by_side {
                                let pw = (body.w - 2.0 * gap) / 3.0;
                                Rect::new(body.x + k * (pw + gap), body.y, pw, body.h)
                            } else {
                                let ph = (body.h - 2.0 * gap) / 3.0;
                                Rect::new(body.x, body.y + k * (ph + gap), body.w, ph)
                            }
                        })
                        .collect();
                    let style = chart::aligned_style(&model, &Metric::ALL, &areas, u, mixed_cpus);
                    for (metric, area) in Metric::ALL.into_iter().zip(areas) {
                        chart::draw(c, area, &model, metric, style)?;
                    }
                    Ok(())
                }
            },
        }
    })
}

/// The default size of the image of `runs` drawing `charts`: [`Charts::default_size`], but
/// 1200 × 800 for a wait-for graph, which is one picture whatever `charts` asks for.
pub fn default_size(runs: &[&[Record]], charts: Charts) -> Size {
    match ChartKind::of(runs) {
        ChartKind::WaitFor => Charts::One(Metric::Time).default_size(),
        ChartKind::Scaling | ChartKind::MessageSizes => charts.default_size(),
    }
}

/// The records of the newest run of `experiment` in `store` that measured at least one
/// point (else the newest at all), if there is one that can be read: what a lesson card
/// shows as "your latest run".
pub fn latest_stored_run(store: &Store, experiment: &str) -> Option<Vec<Record>> {
    // A lesson's program (`program:ID`) too: the program runs named ID.
    let runs: Vec<_> = store
        .list()
        .into_iter()
        .filter(|r| r.run.is_run_of(experiment))
        .collect();
    let run = runs.iter().find(|r| r.points > 0).or(runs.first())?;
    crate::record::store::load(&run.path).ok()
}

/// For each prediction check of `lesson` whose run is not `runs[entry]` (a check may name
/// parameter values the chart's run does not have), the newest run in `store` it is about,
/// by check id: what [`card::LessonCard::for_checks`] takes.
pub fn stored_runs_for_checks(
    store: &Store,
    lesson: &crate::lesson::Lesson,
    runs: &BTreeMap<String, Vec<Record>>,
) -> BTreeMap<String, Vec<Record>> {
    let mut out = BTreeMap::new();
    let mut listed: Option<Vec<crate::record::store::StoredRun>> = None;
    for check in &lesson.checks {
        let Some(m) = &check.measure else { continue };
        if runs
            .get(&m.runnable())
            .is_some_and(|records| m.measured(records).is_some())
        {
            continue;
        }
        let listed = listed.get_or_insert_with(|| store.list());
        let found = listed
            .iter()
            .filter(|r| r.points > 0 && r.run.is_run_of(&m.runnable()))
            .filter(|r| m.matches(&[Record::Run(r.run.clone())]))
            .find_map(|r| {
                let records = crate::record::store::load(&r.path).ok()?;
                m.measured(&records).is_some().then_some(records)
            });
        if let Some(records) = found {
            out.insert(check.id.clone(), records);
        }
    }
    out
}

/// Writes `png` to `path` safely (see [`crate::fsio::write`]): a file is replaced through a
/// temporary file in the same folder, so that a reader never sees half an image; a link is
/// written through to its target; a device such as `/dev/null` is written directly.
pub fn write_png(path: &Path, png: &[u8]) -> Result<(), ExportError> {
    crate::fsio::write(path, png).map_err(|e| ExportError::Io {
        path: e.path.display().to_string(),
        source: e.source,
    })
}

/// The default file name of a chart image: `<run_id>-<chart>.png`, with the run ids of
/// overlaid runs joined by `-vs-` (`results-<chart>.png` without any run id); the wait-for
/// graph of a deadlocked run is `<run_id>-wait-for.png`.
pub fn chart_file_name(runs: &[&[Record]], charts: Charts) -> String {
    let ids: Vec<String> = run_records(runs)
        .iter()
        .flatten()
        .map(|r| safe_name(&r.run_id))
        .collect();
    let stem = if ids.is_empty() {
        "results".to_owned()
    } else {
        ids.join("-vs-")
    };
    let label = match ChartKind::of(runs) {
        ChartKind::WaitFor => "wait-for",
        ChartKind::Scaling | ChartKind::MessageSizes => charts.label(),
    };
    format!("{stem}-{label}.png")
}

/// The default file name of a lesson card: `<lesson id>.png`.
pub fn lesson_file_name(lesson_id: &str) -> String {
    format!("{}.png", safe_name(lesson_id))
}

/// `name` with everything but ASCII letters, digits, `-`, `_` and `.` replaced by `_`.
fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.is_empty() || s.starts_with('.') {
        format!("_{s}")
    } else {
        s
    }
}

/// The Run record of each run, if it has one.
fn run_records<'a>(runs: &[&'a [Record]]) -> Vec<Option<&'a RunRecord>> {
    runs.iter()
        .map(|records| {
            records.iter().find_map(|r| match r {
                Record::Run(run) => Some(run),
                _ => None,
            })
        })
        .collect()
}

/// Page-level sizes for a unit `u`.
#[derive(Debug, Clone, Copy)]
struct Page {
    u: f64,
    margin: f64,
    title: Font,
    subtitle: Font,
    footer: Font,
}

impl Page {
    fn new(u: f64) -> Page {
        Page {
            u,
            margin: 28.0 * u,
            title: Font::bold(27.0 * u),
            subtitle: Font::regular(16.0 * u),
            footer: Font::regular(13.5 * u),
        }
    }
}

/// The run's parameters and sweep: `serial=0.3 · work=1000000 · workers 1, 2, 4 · 3 reps`.
fn describe_params(run: &RunRecord) -> String {
    // Empty texts (a program's unused `name`, `time_from`) say nothing.
    let mut parts: Vec<String> = run
        .params
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if !run.workers.is_empty() {
        let list: Vec<String> = run.workers.iter().map(ToString::to_string).collect();
        parts.push(format!("workers {}", list.join(", ")));
    }
    parts.push(format!(
        "{} rep{} + {} warm-up",
        run.reps,
        if run.reps == 1 { "" } else { "s" },
        run.warmup
    ));
    parts.join(" · ")
}

/// A run's start time as `2026-11-22 07:15 +01:00` (as recorded if it is not RFC 3339).
fn describe_start(run: &RunRecord) -> String {
    chrono::DateTime::parse_from_rfc3339(&run.started_at)
        .map(|t| t.format("%Y-%m-%d %H:%M %:z").to_string())
        .unwrap_or_else(|_| run.started_at.clone())
}

/// Where and when a run was measured, in one line.
fn describe_environment(run: &RunRecord, records: &[Record]) -> String {
    let env = &run.env;
    let mut parts = vec![format!("run {}", run.run_id), format!("host {}", env.host)];
    if !env.cpu_model.is_empty() && env.cpu_model != "unknown" {
        parts.push(env.cpu_model.clone());
    }
    parts.push(format!(
        "{} CPU{} available",
        env.cpus_available,
        if env.cpus_available == 1 { "" } else { "s" }
    ));
    if let Some(job) = &env.slurm_job_id {
        parts.push(format!("SLURM job {job}"));
    }
    parts.push(format!("backend {}", run.backend));
    parts.push(format!("started {}", describe_start(run)));
    let version = match &env.git_commit {
        Some(c) if !c.is_empty() => format!("hpc-tutor {} ({c})", env.version),
        _ => format!("hpc-tutor {}", env.version),
    };
    parts.push(version);
    let status = records.iter().rev().find_map(|r| match r {
        Record::End(e) => Some(e.status),
        _ => None,
    });
    match status {
        Some(Status::Ok) => {}
        Some(Status::Failed) => parts.push("the run failed".to_owned()),
        Some(Status::Cancelled) => parts.push("cancelled before the end".to_owned()),
        Some(Status::Timeout) => parts.push("stopped by its deadline".to_owned()),
        Some(Status::Deadlock) => parts.push("stopped: deadlock".to_owned()),
        None => parts.push("incomplete (no end record)".to_owned()),
    }
    parts.join(" · ")
}

/// The footer: one entry per run (wrapped to `width`) with its environment, and its
/// parameters when they differ between runs; overlaid runs start with the tag the legend
/// gives them (their start time, e.g. `07:15:`).
fn footer_lines(runs: &[&[Record]], model: &ChartModel, page: &Page, width: f64) -> Vec<String> {
    let records = run_records(runs);
    let present: Vec<(usize, &RunRecord)> = records
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.map(|r| (i, r)))
        .collect();
    let same_params = present
        .windows(2)
        .all(|w| describe_params(w[0].1) == describe_params(w[1].1));
    let tags = run_tags(runs, model);
    let mut lines = Vec::new();
    for (i, run) in &present {
        let mut text = describe_environment(run, runs[*i]);
        if let Some(tag) = &tags[*i] {
            text = format!("{tag}: {text}");
        }
        if !same_params {
            text = format!("{text} · {}", describe_params(run));
        }
        lines.extend(wrap(&text, page.footer, width));
        // A picture travels without the terminal's warnings: say it on the picture.
        if let Some(w) =
            crate::measure::format::busy_warning(run.env.busy_before, run.env.cpus_available)
        {
            lines.extend(wrap(&format!("⚠ {w}"), page.footer, width));
        }
    }
    if present.is_empty() {
        lines.push(
            "no run record: where and when these results were measured is unknown".to_owned(),
        );
    }
    lines
}

/// The tag the legend ends each run's series labels with (`07:15`, `run 2`, …) when
/// several runs are overlaid; `None` for a single run or a run without points.
///
/// [`ChartModel::from_runs`] makes the series run by run, one per variant with points, and
/// ends their labels with the run's tag; counting the series of each run finds them.
fn run_tags(runs: &[&[Record]], model: &ChartModel) -> Vec<Option<String>> {
    if runs.len() < 2 {
        return vec![None; runs.len()];
    }
    let mut next = 0;
    runs.iter()
        .map(|records| {
            let mut variants: Vec<Option<&str>> = Vec::new();
            for r in records.iter() {
                if let Record::Point(p) = r
                    && p.workers > 0
                    && !variants.contains(&p.variant.as_deref())
                {
                    variants.push(p.variant.as_deref());
                }
            }
            let first = model.series.get(next);
            next += variants.len();
            if variants.is_empty() {
                return None;
            }
            first
                .and_then(|s| s.label.rsplit(" · ").next())
                .map(str::to_owned)
        })
        .collect()
}

/// Draws the page title and the parameters line; returns where the body starts.
fn draw_header(
    c: &Canvas,
    model: &ChartModel,
    runs: &[Option<&RunRecord>],
    width: f64,
    page: &Page,
) -> Result<f64, ExportError> {
    let u = page.u;
    let max = width - 2.0 * page.margin;
    let title = if model.title.is_empty() {
        "results".to_owned()
    } else {
        model.title.clone()
    };
    let title = ellipsize(&title, page.title, max);
    let base = page.margin + page.title.cap_height();
    c.text(
        &title,
        (page.margin, base),
        page.title,
        chart::ink(chart::TEXT),
        Align::Left,
    )?;
    let present: Vec<&RunRecord> = runs.iter().flatten().copied().collect();
    let params: Vec<String> = present.iter().map(|r| describe_params(r)).collect();
    let subtitle = match params.first() {
        Some(first) if params.iter().all(|p| p == first) => first.clone(),
        Some(_) => format!(
            "{} runs with different parameters: see below",
            present.len()
        ),
        None => String::new(),
    };
    let sub_base = base + page.subtitle.size * 1.6;
    let subtitle = ellipsize(&subtitle, page.subtitle, max);
    c.text(
        &subtitle,
        (page.margin, sub_base),
        page.subtitle,
        chart::ink(chart::MUTED),
        Align::Left,
    )?;
    Ok(sub_base + 22.0 * u)
}

/// Draws the footer lines at the bottom; returns where the body must end.
fn draw_footer(
    c: &Canvas,
    lines: &[String],
    width: f64,
    height: f64,
    page: &Page,
) -> Result<f64, ExportError> {
    let u = page.u;
    let line_h = page.footer.line_height();
    let first = height - page.margin * 0.75 - (lines.len() as f64 - 1.0).max(0.0) * line_h;
    let rule_y = first - page.footer.size - 6.0 * u;
    c.line(
        &[(page.margin, rule_y), (width - page.margin, rule_y)],
        chart::ink(0xDDDDDD),
        1.0 * u,
    )?;
    for (k, line) in lines.iter().enumerate() {
        c.text(
            line,
            (page.margin, first + k as f64 * line_h),
            page.footer,
            chart::ink(chart::MUTED),
            Align::Left,
        )?;
    }
    Ok(rule_y - 14.0 * u)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::sample_run;

    #[test]
    fn a_prediction_finds_its_own_run_in_the_store_when_the_newest_is_another() {
        use crate::lesson::{Check, CheckKind, Lesson, Measure, Quantity};
        let dir = tempfile::tempdir().expect("a temporary folder");
        let store = Store::in_dir(dir.path());
        // An older run with sweep = off (S(2) = 1.92) and a newer sweep.
        let write = |id: &str, started: &str, sweep: &str| -> Vec<Record> {
            let mut records = sample_run();
            if let Some(Record::Run(r)) = records.get_mut(0) {
                r.run_id = id.into();
                r.started_at = started.into();
                r.params.insert("sweep".into(), sweep.into());
            }
            if let Some(Record::Point(p)) = records.get_mut(2) {
                p.variant = None;
            }
            let mut w = store.create(id).expect("a results file");
            for r in &records {
                w.append(r).expect("written");
            }
            records
        };
        write("off", "2026-11-22T07:00:00+00:00", "off");
        let sweep = write("on", "2026-11-22T08:00:00+00:00", "on");
        let measure = |sweep: &str| Measure {
            experiment: "mc-pi".into(),
            quantity: Quantity::Speedup,
            workers: Some(2),
            variant: None,
            backend: None,
            params: [("sweep".to_owned(), sweep.to_owned())].into(),
        };
        let check = |id: &str, sweep: &str| Check {
            id: id.into(),
            question: "?".into(),
            kind: CheckKind::Numeric {
                answer: 1.9,
                tolerance: 0.1,
                unit: None,
            },
            explanation: String::new(),
            hint: None,
            measure: Some(measure(sweep)),
        };
        let lesson = Lesson {
            id: "l".into(),
            title: "L".into(),
            track: "T".into(),
            order: 1,
            summary: String::new(),
            objectives: Vec::new(),
            experiments: vec!["mc-pi".into()],
            hints: Vec::new(),
            notes: None,
            checks: vec![check("off", "off"), check("on", "on"), check("none", "x")],
            presets: BTreeMap::new(),
            puzzles: Vec::new(),
            programs: Vec::new(),
            body: String::new(),
            path: "l.md".into(),
        };
        let runs: BTreeMap<String, Vec<Record>> = [("mc-pi".to_owned(), sweep)].into();
        let found = stored_runs_for_checks(&store, &lesson, &runs);
        // The check about the chart's run needs nothing more; the one about sweep = off
        // gets the older run; nothing fits the third.
        assert_eq!(found.keys().collect::<Vec<_>>(), ["off"]);
        let Some(Record::Run(r)) = found["off"].first() else {
            panic!("a run record first")
        };
        assert_eq!(r.run_id, "off");
    }

    #[test]
    fn sizes_are_checked_and_one_side_keeps_the_aspect_ratio() {
        let err = Size::new(399, 500).expect_err("too narrow");
        assert_eq!(
            err.to_string(),
            "--width must be from 400 to 4000 pixels, not 399"
        );
        assert!(Size::new(400, 4001).is_err());
        assert_eq!(
            Size::new(4000, 300).map(|s| (s.width(), s.height())).ok(),
            Some((4000, 300))
        );
        let one = Charts::One(Metric::Speedup).default_size();
        let all = Charts::All.default_size();
        let r = |w, h, d| Size::resolve(w, h, d).map(|s| (s.width(), s.height())).ok();
        assert_eq!(r(None, None, one), Some((1200, 800)));
        assert_eq!(r(Some(600), None, one), Some((600, 400)));
        assert_eq!(r(None, Some(300), all), Some((771, 300)));
        // The other side is clamped into its range.
        assert_eq!(r(Some(400), None, all), Some((400, 300)));
        assert_eq!(r(Some(900), Some(1600), all), Some((900, 1600)));
        assert!(Size::resolve(Some(10), None, one).is_err());
        assert!(Size::resolve(None, Some(5000), one).is_err());
    }

    #[test]
    fn default_file_names() {
        let run = sample_run();
        assert_eq!(
            chart_file_name(&[&run], Charts::One(Metric::Speedup)),
            "r1-speedup.png"
        );
        assert_eq!(
            chart_file_name(&[&run, &run], Charts::All),
            "r1-vs-r1-all.png"
        );
        assert_eq!(chart_file_name(&[], Charts::All), "results-all.png");
        assert_eq!(lesson_file_name("amdahl"), "amdahl.png");
        assert_eq!(lesson_file_name("../x y"), "_.._x_y.png");
    }

    #[test]
    fn the_environment_line_says_where_when_and_how_it_ended() {
        let run = sample_run();
        let Some(Record::Run(r)) = run.first() else {
            panic!("a run record first")
        };
        let line = describe_environment(r, &run);
        assert_eq!(
            line,
            "run r1 · host node01 · Test CPU · 2 CPUs available · backend threads · started 2026-11-22 07:00 +00:00 · hpc-tutor 0.1.0 (abc1234)"
        );
        let cut = &run[..2];
        assert!(describe_environment(r, cut).ends_with("incomplete (no end record)"));
        assert_eq!(
            describe_params(r),
            "samples=1000 · workers 1, 2 · 3 reps + 1 warm-up"
        );
    }

    #[test]
    fn all_three_charts_need_room() {
        let run = sample_run();
        let small = Size::new(800, 500).expect("size");
        assert!(matches!(
            render_charts(&[&run], Charts::All, small),
            Err(ExportError::TooSmallForAll {
                width: 800,
                height: 500
            })
        ));
        let one = render_charts(&[&run], Charts::One(Metric::Time), small).expect("one fits");
        assert!(one.starts_with(b"\x89PNG"));
    }

    #[test]
    fn overlaid_runs_are_tagged_like_their_legend_entries() {
        let a = sample_run();
        let mut b = sample_run();
        if let Some(Record::Run(r)) = b.first_mut() {
            r.started_at = "2026-11-22T08:30:00+00:00".into();
        }
        let mut only_run = vec![a[0].clone()];
        if let Some(Record::Run(r)) = only_run.first_mut() {
            r.started_at = "2026-11-22T09:00:00+00:00".into();
        }
        let runs: [&[Record]; 3] = [&a, &b, &only_run];
        let model = ChartModel::from_runs(&runs);
        assert_eq!(
            run_tags(&runs, &model),
            [Some("07:00".to_owned()), Some("08:30".to_owned()), None]
        );
        assert_eq!(run_tags(&[&a], &model), [None]);
        let page = Page::new(1.0);
        let lines = footer_lines(&runs, &model, &page, 10_000.0);
        assert!(
            lines[0].starts_with("07:00: run r1 · host node01"),
            "{lines:?}"
        );
        assert!(lines[1].starts_with("08:30: run r1"), "{lines:?}");
    }

    #[test]
    fn a_run_on_busy_cpus_says_so_on_the_picture() {
        let font = font::ensure_registered();
        assert!(font.is_ok(), "{font:?}");
        let mut run = sample_run();
        let runs: [&[Record]; 1] = [&run];
        let model = ChartModel::from_runs(&runs);
        let page = Page::new(1.0);
        let quiet = footer_lines(&runs, &model, &page, 10_000.0);
        assert!(!quiet.iter().any(|l| l.contains("busy")), "{quiet:?}");
        if let Some(Record::Run(r)) = run.first_mut() {
            r.env.busy_before = Some(0.9);
        }
        let runs: [&[Record]; 1] = [&run];
        let busy = footer_lines(&runs, &model, &page, 10_000.0);
        assert!(
            busy.iter()
                .any(|l| l.starts_with("⚠ ") && l.contains("90 % busy with other programs")),
            "{busy:?}"
        );
    }

    #[test]
    fn png_files_are_replaced_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.png");
        write_png(&path, b"one").expect("writes");
        write_png(&path, b"two").expect("replaces");
        assert_eq!(std::fs::read(&path).expect("reads"), b"two");
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .expect("lists")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
        let err = write_png(&dir.path().join("no/such/dir/x.png"), b"x").expect_err("fails");
        assert!(err.to_string().starts_with("cannot write "), "{err}");
    }
}
