//! Lesson cards: one image per lesson with what it teaches and what the learner measured.
//!
//! Top to bottom: a band with the track and the title, the key takeaways (the lesson's
//! objectives), for each of the lesson's experiments the main result of the learner's
//! latest run and its charts — the kind the terminal draws it with ([`ChartKind::of`]):
//! time and speedup over workers, time and bandwidth over message sizes, or the wait-for
//! graph of a run that deadlocked — (or a note that there is no run yet), the learner's
//! predictions next to the measurements, and a footer with the environment of every run
//! shown.

use std::collections::BTreeMap;

use super::canvas::{Align, Canvas, Rect};
use super::chart::{self, MUTED, TEXT, ink};
use super::font::{Font, wrap};
use super::{
    ExportError, check_height, check_width, describe_environment, describe_params, describe_start,
    png, sizes, waitfor,
};
use crate::chart::sizes::{SizeChart, SizeMetric};
use crate::chart::waitfor::WaitFor;
use crate::chart::{ChartKind, ChartModel, Metric};
use crate::lesson::{Answer, Check, Lesson, Quantity};
use crate::record::{Record, RunRecord};

/// What a lesson card shows.
#[derive(Debug, Clone, Copy)]
pub struct LessonCard<'a> {
    /// The lesson.
    pub lesson: &'a Lesson,
    /// The learner's latest run of each of the lesson's experiments and programs that has
    /// one, by entry of [`Lesson::runnables`] (an experiment's name, `program:ID`; records
    /// as in a results file). Entries without a run are shown as not run yet; others are
    /// ignored.
    pub runs: &'a BTreeMap<String, Vec<Record>>,
    /// The learner's answers to the lesson's checks, by check id (from the progress file).
    pub answers: Option<&'a BTreeMap<String, Answer>>,
    /// When each answer was given (milliseconds since 1970, by check id), to say whether a
    /// prediction was made before its run.
    pub answered_at: Option<&'a BTreeMap<String, u64>>,
    /// The newest run each prediction check is about (its experiment with the parameter
    /// values and backend its measure names), by check id, where that is not the run in
    /// [`runs`](Self::runs): a lesson whose chart shows a sweep may predict a single size.
    pub for_checks: Option<&'a BTreeMap<String, Vec<Record>>>,
}

impl LessonCard<'_> {
    /// The lesson's experiments and programs in order, each with the kind of chart its row
    /// draws ([`ChartKind::of`] its run), or `None` when it has no run yet (and so no chart
    /// row).
    pub fn chart_kinds(&self) -> Vec<(String, Option<ChartKind>)> {
        self.lesson
            .runnables()
            .into_iter()
            .map(|name| {
                let kind = self
                    .runs
                    .get(&name)
                    .map(|records| ChartKind::of(&[records.as_slice()]));
                (name, kind)
            })
            .collect()
    }
}

/// The default width of a card.
const DEFAULT_WIDTH: u32 = 1200;
/// Chart row height at the default width, and the least one allowed.
const CHART_ROW: f64 = 430.0;
const MIN_CHART_ROW: f64 = 280.0;
/// The share of a chart row that a wait-for graph takes.
const WAIT_FOR_ROW: f64 = 0.7;

/// Draws a lesson card and returns the PNG bytes.
///
/// `width` defaults to 1200 pixels. Without `height` the card is as tall as its content;
/// with it, the charts grow or shrink to fill it, and a height too small for the text and
/// charts of at least 280 pixels (at width 1200, scaled with the width) is refused with
/// [`ExportError::CardTooSmall`]. Sizes outside the ranges of [`super::Size`] are refused
/// with [`ExportError::Size`].
pub fn render_lesson_card(
    card: &LessonCard,
    width: Option<u32>,
    height: Option<u32>,
) -> Result<Vec<u8>, ExportError> {
    let width = width.unwrap_or(DEFAULT_WIDTH);
    check_width(width)?;
    if let Some(h) = height {
        check_height(h)?;
    }
    super::font::ensure_registered()?;
    let plan = Plan::new(card, f64::from(width));
    let u = plan.u;
    // Chart rows, counted by their share of a full row.
    let rows: f64 = plan.experiments.iter().map(|e| e.row).sum();
    let fixed = plan.fixed_height();
    let (height, chart_row) = match height {
        None => {
            let h = fixed + rows * CHART_ROW * u;
            let h =
                (h.ceil() as u32).clamp(*super::Size::HEIGHTS.start(), *super::Size::HEIGHTS.end());
            let row = if rows == 0.0 {
                0.0
            } else {
                ((f64::from(h) - fixed) / rows).max(MIN_CHART_ROW * u)
            };
            (h, row)
        }
        Some(h) => {
            let needed = fixed + rows * MIN_CHART_ROW * u;
            if f64::from(h) < needed.ceil() {
                return Err(ExportError::CardTooSmall {
                    width,
                    height: h,
                    needed: needed.ceil() as u32,
                });
            }
            let row = if rows == 0.0 {
                0.0
            } else {
                (f64::from(h) - fixed) / rows
            };
            (h, row)
        }
    };
    png::render(width, height, |c| {
        plan.draw(c, f64::from(height), chart_row)
    })
}

/// One experiment's block.
struct ExperimentBlock<'a> {
    heading: String,
    /// The run's main result, wrapped.
    headline: Vec<String>,
    detail: Vec<String>,
    records: Option<&'a [Record]>,
    /// The height of its chart row, as a share of a full chart row: 1 for charts, less for
    /// a wait-for graph (a few lines and two boxes), 0 without a run.
    row: f64,
}

/// At most this many lines of a run's main result go on the card.
const HEADLINE_LINES: usize = 4;

/// One prediction line.
struct Prediction {
    main: String,
    question: Vec<String>,
}

/// The card laid out for a width, before the height is known.
struct Plan<'a> {
    u: f64,
    width: f64,
    margin: f64,
    meta: String,
    title: Vec<String>,
    takeaways: Vec<Vec<String>>,
    experiments: Vec<ExperimentBlock<'a>>,
    predictions: Vec<Prediction>,
    footer: Vec<String>,
    fonts: Fonts,
}

#[derive(Debug, Clone, Copy)]
struct Fonts {
    meta: Font,
    title: Font,
    heading: Font,
    body: Font,
    headline: Font,
    detail: Font,
    prediction: Font,
    question: Font,
    footer: Font,
}

impl<'a> Plan<'a> {
    fn new(card: &LessonCard<'a>, width: f64) -> Plan<'a> {
        let u = (width / f64::from(DEFAULT_WIDTH)).clamp(0.4, 3.5);
        let fonts = Fonts {
            meta: Font::regular(16.0 * u),
            title: Font::bold(36.0 * u),
            heading: Font::bold(23.0 * u),
            body: Font::regular(18.0 * u),
            headline: Font::regular(17.5 * u),
            detail: Font::regular(15.5 * u),
            prediction: Font::regular(19.0 * u),
            question: Font::regular(15.0 * u),
            footer: Font::regular(13.5 * u),
        };
        let margin = 44.0 * u;
        let inner = width - 2.0 * margin;
        let lesson = card.lesson;

        let mut meta = format!("{} · lesson {}", lesson.track, lesson.order);
        if !lesson.checks.is_empty()
            && let Some(answers) = card.answers
        {
            let right = lesson
                .checks
                .iter()
                .filter(|c| answers.get(&c.id).is_some_and(|a| c.is_correct(a)))
                .count();
            meta.push_str(&format!(
                " · {right} of {} checks answered correctly",
                lesson.checks.len()
            ));
        }
        let title = wrap(&lesson.title, fonts.title, inner);
        let bullet_indent = 26.0 * u;
        let takeaways = lesson
            .objectives
            .iter()
            .map(|o| wrap(o, fonts.body, inner - bullet_indent))
            .collect();

        let mut experiments = Vec::new();
        let mut footer = Vec::new();
        for entry in lesson.runnables() {
            let records = card.runs.get(&entry).map(Vec::as_slice);
            let name = lesson.runnable_title(&entry);
            let run = records.and_then(run_record);
            let (heading, detail) = match (records, run) {
                (Some(_), Some(run)) => (
                    format!("Your latest run: {name}"),
                    wrap(
                        &format!(
                            "{} · started {} on {}",
                            describe_params(run),
                            describe_start(run),
                            run.env.host
                        ),
                        fonts.detail,
                        inner,
                    ),
                ),
                (Some(_), None) => (format!("Your latest run: {name}"), Vec::new()),
                (None, _) => (
                    if entry.starts_with("program:") {
                        format!("Program: {name}")
                    } else {
                        format!("Experiment: {name}")
                    },
                    wrap(
                        "Not run yet. Open it from the lesson in hpc-tutor (x in the lesson's panel) and press r; the card then shows your measurements.",
                        fonts.detail,
                        inner,
                    ),
                ),
            };
            let headline = records
                .map(crate::chart::headline::headline)
                .unwrap_or_default()
                .iter()
                .flat_map(|l| wrap(l, fonts.headline, inner))
                .take(HEADLINE_LINES)
                .collect();
            if let (Some(records), Some(run)) = (records, run) {
                footer.extend(wrap(
                    &describe_environment(run, records),
                    fonts.footer,
                    inner,
                ));
            }
            let row = match records.map(|r| ChartKind::of(&[r])) {
                None => 0.0,
                Some(ChartKind::WaitFor) => WAIT_FOR_ROW,
                Some(ChartKind::Scaling | ChartKind::MessageSizes) => 1.0,
            };
            experiments.push(ExperimentBlock {
                heading,
                headline,
                detail,
                records,
                row,
            });
        }
        // The runs predictions are compared with that no chart shows.
        let mut shown: Vec<&str> = card
            .runs
            .values()
            .filter_map(|r| run_record(r))
            .map(|r| r.run_id.as_str())
            .collect();
        for records in card.for_checks.into_iter().flat_map(|m| m.values()) {
            if let Some(run) = run_record(records)
                && !shown.contains(&run.run_id.as_str())
            {
                shown.push(&run.run_id);
                let text = format!(
                    "{} (compared with a prediction)",
                    describe_environment(run, records)
                );
                footer.extend(wrap(&text, fonts.footer, inner));
            }
        }
        if lesson.runnables().is_empty() {
            footer.push("This lesson has no experiment to measure.".to_owned());
        }
        footer.push(format!("hpc-tutor lesson card · lesson {}", lesson.id));

        let predictions = lesson
            .checks
            .iter()
            .filter_map(|check| prediction(check, card))
            .map(|(main, question)| Prediction {
                main,
                question: wrap(&question, fonts.question, inner)
                    .into_iter()
                    .take(2)
                    .collect(),
            })
            .collect();

        Plan {
            u,
            width,
            margin,
            meta,
            title,
            takeaways,
            experiments,
            predictions,
            footer,
            fonts,
        }
    }

    fn band_height(&self) -> f64 {
        let f = &self.fonts;
        30.0 * self.u
            + f.meta.size * 1.6
            + self.title.len() as f64 * f.title.size * 1.2
            + 22.0 * self.u
    }

    fn heading_height(&self) -> f64 {
        self.fonts.heading.size * 1.7
    }

    fn takeaways_height(&self) -> f64 {
        let lines: usize = self.takeaways.iter().map(Vec::len).sum();
        self.heading_height()
            + lines as f64 * self.fonts.body.line_height() * 1.1
            + self.takeaways.len() as f64 * 8.0 * self.u
    }

    fn experiment_text_height(&self, e: &ExperimentBlock) -> f64 {
        self.heading_height()
            + e.headline.len() as f64 * self.fonts.headline.line_height()
            + if e.headline.is_empty() {
                0.0
            } else {
                6.0 * self.u
            }
            + e.detail.len() as f64 * self.fonts.detail.line_height()
            + 10.0 * self.u
    }

    fn predictions_height(&self) -> f64 {
        if self.predictions.is_empty() {
            return 0.0;
        }
        let f = &self.fonts;
        self.heading_height()
            + self
                .predictions
                .iter()
                .map(|p| {
                    f.prediction.size * 1.5
                        + p.question.len() as f64 * f.question.line_height()
                        + 12.0 * self.u
                })
                .sum::<f64>()
            + self.section_gap()
    }

    fn footer_height(&self) -> f64 {
        18.0 * self.u
            + self.footer.len() as f64 * self.fonts.footer.line_height()
            + self.margin * 0.6
    }

    fn section_gap(&self) -> f64 {
        26.0 * self.u
    }

    /// Everything but the chart rows.
    fn fixed_height(&self) -> f64 {
        self.band_height()
            + self.section_gap()
            + self.takeaways_height()
            + self.section_gap()
            + self
                .experiments
                .iter()
                .map(|e| self.experiment_text_height(e) + self.section_gap())
                .sum::<f64>()
            + self.predictions_height()
            + self.footer_height()
    }

    fn draw(&self, c: &Canvas, height: f64, chart_row: f64) -> Result<(), ExportError> {
        let u = self.u;
        let f = &self.fonts;
        let x = self.margin;
        let inner = self.width - 2.0 * self.margin;

        // The band.
        let band = Rect::new(0.0, 0.0, self.width, self.band_height());
        c.fill_rect(band, ink(0x1F3A56))?;
        let mut y = 30.0 * u + f.meta.cap_height();
        c.text(&self.meta, (x, y), f.meta, ink(0xB7CDE3), Align::Left)?;
        y += f.meta.size * 0.6 + f.title.size * 0.95;
        for line in &self.title {
            c.text(line, (x, y), f.title, ink(0xFFFFFF), Align::Left)?;
            y += f.title.size * 1.2;
        }
        let mut y = band.bottom() + self.section_gap();

        // Key takeaways.
        y = self.heading(c, "Key takeaways", y)?;
        for bullet in &self.takeaways {
            for (k, line) in bullet.iter().enumerate() {
                let base = y + f.body.cap_height();
                if k == 0 {
                    c.text("•", (x + 6.0 * u, base), f.body, ink(0x2F6FA7), Align::Left)?;
                }
                c.text(line, (x + 26.0 * u, base), f.body, ink(TEXT), Align::Left)?;
                y += f.body.line_height() * 1.1;
            }
            y += 8.0 * u;
        }
        y += self.section_gap();

        // Experiments.
        for e in &self.experiments {
            y = self.heading(c, &e.heading, y)?;
            // The main result first, then where and how it was measured.
            for line in &e.headline {
                c.text(
                    line,
                    (x, y + f.headline.cap_height()),
                    f.headline,
                    ink(0x1F3A56),
                    Align::Left,
                )?;
                y += f.headline.line_height();
            }
            if !e.headline.is_empty() {
                y += 6.0 * u;
            }
            for line in &e.detail {
                c.text(
                    line,
                    (x, y + f.detail.cap_height()),
                    f.detail,
                    ink(MUTED),
                    Align::Left,
                )?;
                y += f.detail.line_height();
            }
            y += 10.0 * u;
            if let Some(records) = e.records {
                let h = chart_row * e.row;
                draw_row(c, records, Rect::new(x, y, inner, h), u)?;
                y += h;
            }
            y += self.section_gap();
        }

        // Predictions.
        if !self.predictions.is_empty() {
            y = self.heading(c, "Your predictions", y)?;
            for p in &self.predictions {
                let base = y + f.prediction.cap_height() + 2.0 * u;
                c.text(&p.main, (x, base), f.prediction, ink(TEXT), Align::Left)?;
                y += f.prediction.size * 1.5;
                for line in &p.question {
                    c.text(
                        line,
                        (x, y + f.question.cap_height()),
                        f.question,
                        ink(MUTED),
                        Align::Left,
                    )?;
                    y += f.question.line_height();
                }
                y += 12.0 * u;
            }
        }

        // Footer, at the bottom.
        let line_h = f.footer.line_height();
        let first = height - self.margin * 0.6 - (self.footer.len() as f64 - 1.0).max(0.0) * line_h;
        let rule = first - f.footer.size - 6.0 * u;
        c.line(&[(x, rule), (self.width - x, rule)], ink(0xDDDDDD), 1.0 * u)?;
        for (k, line) in self.footer.iter().enumerate() {
            c.text(
                line,
                (x, first + k as f64 * line_h),
                f.footer,
                ink(MUTED),
                Align::Left,
            )?;
        }
        Ok(())
    }

    /// A section heading at `y`; returns the y under it.
    fn heading(&self, c: &Canvas, text: &str, y: f64) -> Result<f64, ExportError> {
        let f = self.fonts.heading;
        c.text(
            text,
            (self.margin, y + f.cap_height()),
            f,
            ink(TEXT),
            Align::Left,
        )?;
        Ok(y + self.heading_height())
    }
}

/// The chart row of one experiment's run, the kind [`ChartKind::of`] gives it: time and
/// speedup over workers, time and bandwidth over message sizes (side by side), or the
/// wait-for graph of a deadlock across the row.
fn draw_row(c: &Canvas, records: &[Record], row: Rect, u: f64) -> Result<(), ExportError> {
    let runs = [records];
    let gap = 40.0 * u;
    let w = (row.w - gap) / 2.0;
    let halves = [0.0, 1.0].map(|k| Rect::new(row.x + k * (w + gap), row.y, w, row.h));
    match ChartKind::of(&runs) {
        ChartKind::WaitFor => match WaitFor::from_runs(&runs) {
            Some(wait_for) => waitfor::draw(c, row, &wait_for, u * 0.9, 1.0),
            None => Ok(()),
        },
        ChartKind::MessageSizes => {
            let chart = SizeChart::from_runs(&runs, &[]);
            let metrics = [SizeMetric::Time, SizeMetric::Bandwidth];
            for (metric, area) in metrics.into_iter().zip(halves) {
                sizes::draw(c, area, &chart, metric, u * 0.9)?;
            }
            Ok(())
        }
        ChartKind::Scaling => {
            let model = ChartModel::from_runs(&runs);
            let metrics = [Metric::Time, Metric::Speedup];
            let style = chart::aligned_style(&model, &metrics, &halves, u * 0.9, false);
            for (metric, area) in metrics.into_iter().zip(halves) {
                chart::draw(c, area, &model, metric, style)?;
            }
            Ok(())
        }
    }
}

/// The Run record of a run's records.
fn run_record(records: &[Record]) -> Option<&RunRecord> {
    records.iter().find_map(|r| match r {
        Record::Run(run) => Some(run),
        _ => None,
    })
}

/// For a prediction check (one with `measure`): the line comparing the learner's answer
/// with the measurement, e.g. `You predicted S(2) = 1.54× · measured 1.47× (4.5 % lower)`,
/// and the question.
fn prediction(check: &Check, card: &LessonCard) -> Option<(String, String)> {
    let m = check.measure.as_ref()?;
    let symbol = match m.quantity {
        Quantity::Speedup => format!("S({})", m.workers.unwrap_or(0)),
        Quantity::Efficiency => format!("E({})", m.workers.unwrap_or(0)),
        Quantity::Time => format!("T({})", m.workers.unwrap_or(0)),
        Quantity::SerialFraction => "s".to_owned(),
        Quantity::KarpFlatt => format!("e({})", m.workers.unwrap_or(0)),
    };
    let symbol = match &m.variant {
        Some(v) => format!("{symbol} [{v}]"),
        None => symbol,
    };
    let predicted = match card.answers.and_then(|a| a.get(&check.id)) {
        Some(Answer::Number(v)) if v.is_finite() => Some(*v),
        _ => None,
    };
    let run = card
        .for_checks
        .and_then(|runs| runs.get(&check.id))
        .or_else(|| card.runs.get(&m.runnable()));
    let measured = run
        .and_then(|records| m.measured(records))
        .filter(|v| v.is_finite());
    // Whether the prediction was made before the run it is compared with.
    let before = run
        .and_then(|records| Record::run_in(records))
        .and_then(|r| {
            crate::lesson::predicted_before(
                card.answered_at.and_then(|a| a.get(&check.id)).copied(),
                &r.started_at,
            )
        });
    let show = |v: f64, as_typed: bool| match m.quantity {
        Quantity::Speedup if as_typed => format!("{v}×"),
        Quantity::Speedup => Metric::Speedup.format_value(v),
        Quantity::Time => Metric::Time.format_value(v),
        Quantity::Efficiency | Quantity::SerialFraction | Quantity::KarpFlatt if as_typed => {
            format!("{v}")
        }
        Quantity::Efficiency => format!("{v:.2}"),
        Quantity::SerialFraction | Quantity::KarpFlatt => format!("{v:.3}"),
    };
    let main = match (predicted, measured) {
        (Some(p), Some(v)) => {
            let mut s = format!(
                "You predicted {symbol} = {} · measured {}",
                show(p, true),
                show(v, false)
            );
            if p.abs() > 1e-12 {
                let rel = (v - p) / p.abs() * 100.0;
                if rel.abs() >= 0.05 {
                    let dir = if rel < 0.0 { "lower" } else { "higher" };
                    s.push_str(&format!(" ({:.1} % {dir})", rel.abs()));
                }
            }
            match before {
                Some(true) => s.push_str(" · predicted before the run"),
                Some(false) => s.push_str(" · answered after the run"),
                None => {}
            }
            if run.is_some_and(|r| m.disturbance(r).is_some()) {
                s.push_str(" · ⚠ CPUs shared with other work");
            }
            s
        }
        (Some(p), None) => format!(
            "You predicted {symbol} = {} · not measured yet",
            show(p, true)
        ),
        (None, Some(v)) => format!("{symbol}: no prediction yet · measured {}", show(v, false)),
        (None, None) => format!("{symbol}: no prediction yet · not measured yet"),
    };
    Some((main, check.question.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::{CheckKind, Measure};

    fn check(id: &str, quantity: Quantity, workers: Option<usize>) -> Check {
        Check {
            id: id.into(),
            question: "What do you predict?".into(),
            kind: CheckKind::Numeric {
                answer: 1.54,
                tolerance: 0.1,
                unit: None,
            },
            explanation: String::new(),
            hint: None,
            measure: Some(Measure {
                experiment: "amdahl".into(),
                quantity,
                workers,
                variant: None,
                backend: None,
                params: Default::default(),
            }),
        }
    }

    fn lesson(checks: Vec<Check>) -> Lesson {
        Lesson {
            id: "amdahl".into(),
            title: "Amdahl".into(),
            track: "Scaling".into(),
            order: 1,
            summary: String::new(),
            objectives: vec!["Measure speedup".into()],
            experiments: vec!["amdahl".into()],
            hints: Vec::new(),
            notes: None,
            checks,
            presets: BTreeMap::new(),
            puzzles: Vec::new(),
            programs: Vec::new(),
            body: String::new(),
            path: "amdahl.md".into(),
        }
    }

    /// A run with S(2) = 1.47 and E(2) = 0.735.
    fn runs() -> BTreeMap<String, Vec<Record>> {
        let mut records = crate::record::tests::sample_run();
        // A prediction is compared only with a run of its own experiment.
        if let Some(Record::Run(r)) = records.get_mut(0) {
            r.experiment = "amdahl".to_owned();
        }
        if let Some(Record::Point(p)) = records.get_mut(2) {
            p.variant = None;
            p.speedup = Some(1.47);
            p.efficiency = Some(0.735);
        }
        [("amdahl".to_owned(), records)].into()
    }

    #[test]
    fn predictions_sit_next_to_measurements() {
        let l = lesson(vec![
            check("s2", Quantity::Speedup, Some(2)),
            check("e2", Quantity::Efficiency, Some(2)),
            check("t8", Quantity::Time, Some(8)),
        ]);
        let runs = runs();
        let answers: BTreeMap<String, Answer> = [
            ("s2".to_owned(), Answer::Number(1.54)),
            ("t8".to_owned(), Answer::Number(0.5)),
        ]
        .into();
        let card = LessonCard {
            lesson: &l,
            runs: &runs,
            answers: Some(&answers),
            answered_at: None,
            for_checks: None,
        };
        let lines: Vec<String> = l
            .checks
            .iter()
            .filter_map(|c| prediction(c, &card))
            .map(|(main, _)| main)
            .collect();
        assert_eq!(
            lines,
            [
                "You predicted S(2) = 1.54× · measured 1.47× (4.5 % lower)",
                "E(2): no prediction yet · measured 0.73",
                "You predicted T(8) = 0.50 s · not measured yet",
            ]
        );
        // Without any run or answers.
        let empty = BTreeMap::new();
        let card = LessonCard {
            lesson: &l,
            runs: &empty,
            answers: None,
            answered_at: None,
            for_checks: None,
        };
        let (main, question) = prediction(&l.checks[0], &card).expect("a prediction");
        assert_eq!(main, "S(2): no prediction yet · not measured yet");
        assert_eq!(question, "What do you predict?");
        // A check's own run (found by its parameters) counts where the chart's run is
        // another one, or missing.
        let own: BTreeMap<String, Vec<Record>> = [("s2".to_owned(), runs["amdahl"].clone())].into();
        let card = LessonCard {
            lesson: &l,
            runs: &empty,
            answers: Some(&answers),
            answered_at: None,
            for_checks: Some(&own),
        };
        let (main, _) = prediction(&l.checks[0], &card).expect("a prediction");
        assert_eq!(
            main,
            "You predicted S(2) = 1.54× · measured 1.47× (4.5 % lower)"
        );
    }

    #[test]
    fn a_prediction_says_whether_it_was_made_before_its_run() {
        let l = lesson(vec![check("s2", Quantity::Speedup, Some(2))]);
        let runs = runs();
        let answers: BTreeMap<String, Answer> = [("s2".to_owned(), Answer::Number(1.54))].into();
        // The run started at 2026-11-22T07:00:00Z = 1 795 330 800 000 ms.
        let started_ms = 1_795_330_800_000;
        let line = |at: u64| {
            let answered_at: BTreeMap<String, u64> = [("s2".to_owned(), at)].into();
            let card = LessonCard {
                lesson: &l,
                runs: &runs,
                answers: Some(&answers),
                answered_at: Some(&answered_at),
                for_checks: None,
            };
            prediction(&l.checks[0], &card).expect("a prediction").0
        };
        assert!(line(started_ms - 60_000).ends_with(" · predicted before the run"));
        assert!(line(started_ms + 60_000).ends_with(" · answered after the run"));
        assert!(
            !line(0).contains(" the run"),
            "unknown for answers without a time"
        );
    }

    #[test]
    fn a_card_grows_with_its_content_and_refuses_a_height_too_small() {
        let l = lesson(vec![check("s2", Quantity::Speedup, Some(2))]);
        let runs = runs();
        let card = LessonCard {
            lesson: &l,
            runs: &runs,
            answers: None,
            answered_at: None,
            for_checks: None,
        };
        let err = render_lesson_card(&card, Some(600), Some(300)).expect_err("too small");
        assert!(
            matches!(err, ExportError::CardTooSmall { width: 600, height: 300, needed } if needed > 300),
            "{err}"
        );
        assert!(matches!(
            render_lesson_card(&card, Some(100), None),
            Err(ExportError::Size {
                what: "--width",
                ..
            })
        ));
    }
}
