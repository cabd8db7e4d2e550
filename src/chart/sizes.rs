//! The message-size chart: runs whose points are message sizes rather than worker counts
//! (`pingpong`, and `exchange`'s eager-limit sweep). x is the size on a log2 axis, y the
//! one-way time (or the bandwidth) on a log10 axis; sizes whose launch deadlocked are drawn
//! apart, as crosses along the top.

use crate::kernel::{Output, OutputsExt};
use crate::record::{Model, Record, RunRecord};

/// What the y axis of a size chart shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SizeMetric {
    /// The point's median time: one message's one-way time for pingpong, one exchange for
    /// the eager sweep.
    #[default]
    Time,
    /// Bytes per second: size / time.
    Bandwidth,
}

impl SizeMetric {
    /// What a size chart shows for a worker-chart metric: time for time, bandwidth for
    /// speedup and efficiency (which mean nothing over message sizes).
    pub const fn of(metric: super::Metric) -> Self {
        match metric {
            super::Metric::Time => SizeMetric::Time,
            super::Metric::Speedup | super::Metric::Efficiency => SizeMetric::Bandwidth,
        }
    }

    /// The other one.
    pub const fn next(self) -> Self {
        match self {
            SizeMetric::Time => SizeMetric::Bandwidth,
            SizeMetric::Bandwidth => SizeMetric::Time,
        }
    }

    /// Short lower-case name.
    pub const fn label(self) -> &'static str {
        match self {
            SizeMetric::Time => "time",
            SizeMetric::Bandwidth => "bandwidth",
        }
    }

    /// A value with its unit: `3.2 µs`, `1.5 ms`, `850 MB/s`, `2.1 GB/s`.
    pub fn format(self, v: f64) -> String {
        if !v.is_finite() {
            return "–".to_owned();
        }
        match self {
            SizeMetric::Time => {
                let (scale, unit) = if v >= 1.0 {
                    (1.0, "s")
                } else if v >= 1e-3 {
                    (1e3, "ms")
                } else if v >= 1e-6 {
                    (1e6, "µs")
                } else {
                    (1e9, "ns")
                };
                short(v * scale, unit)
            }
            SizeMetric::Bandwidth => {
                let (scale, unit) = if v >= 1e9 {
                    (1e-9, "GB/s")
                } else if v >= 1e6 {
                    (1e-6, "MB/s")
                } else if v >= 1e3 {
                    (1e-3, "kB/s")
                } else {
                    (1.0, "B/s")
                };
                short(v * scale, unit)
            }
        }
    }
}

fn short(v: f64, unit: &str) -> String {
    if v >= 100.0 {
        format!("{v:.0} {unit}")
    } else if v >= 10.0 {
        format!("{v:.1} {unit}")
    } else {
        format!("{v:.2} {unit}")
    }
}

/// A size in bytes the way people say it: `512 B`, `4 KiB`, `1.5 MiB`.
pub fn format_bytes(b: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < UNITS.len() {
        v /= 1024.0;
        i += 1;
    }
    if (v - v.round()).abs() < 1e-9 {
        format!("{} {}", v.round() as u64, UNITS[i])
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// One measured size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizePoint {
    /// Message size in bytes.
    pub bytes: u64,
    /// Median time in seconds (for a deadlocked size: how long it went without progress).
    pub median_s: f64,
    /// Fastest repetition.
    pub min_s: f64,
    /// Slowest repetition.
    pub max_s: f64,
    /// Whether the size completed; `false`: the launch deadlocked and was stopped.
    pub completed: bool,
    /// Bytes one timed run moves, where it is not the size itself (`stream` passes over
    /// its arrays many times): the bandwidth is these bytes over the time.
    pub moved: Option<f64>,
}

/// The sizes of one run (one variant).
#[derive(Debug, Clone, PartialEq)]
pub struct SizeSeries {
    /// Legend label.
    pub label: String,
    /// Points sorted by size.
    pub points: Vec<SizePoint>,
    /// The latency–bandwidth fit (α in seconds, β in bytes per second), if the run has one.
    pub fit: Option<(f64, f64)>,
    /// For a replayed recording: where it came from.
    pub replayed: Option<String>,
}

/// Everything a size chart shows.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SizeChart {
    /// E.g. `pingpong · mpi`.
    pub title: String,
    /// One series per run (and variant).
    pub series: Vec<SizeSeries>,
    /// What the sizes are, for the x axis: `message size`, or `working set` for runs about
    /// memory.
    pub x_label: &'static str,
    /// Sizes to mark on the x axis with a label: the CPU's caches, for runs about memory.
    pub marks: Vec<(u64, String)>,
}

/// The x axis of message sizes.
pub const MESSAGE_SIZE: &str = "message size";

impl SizeChart {
    /// Whether these runs are about message sizes: some point carries `size_bytes`.
    pub fn applies(runs: &[&[Record]]) -> bool {
        runs.iter().any(|records| {
            records.iter().any(
                |r| matches!(r, Record::Point(p) if p.outputs.output(Output::SizeBytes).is_some()),
            )
        })
    }

    /// The chart of these runs' size points.
    pub fn from_runs(runs: &[&[Record]], replayed: &[Option<String>]) -> SizeChart {
        let mut chart = SizeChart {
            x_label: MESSAGE_SIZE,
            ..SizeChart::default()
        };
        let mut titles: Vec<String> = Vec::new();
        for (i, records) in runs.iter().enumerate() {
            let run: Option<&RunRecord> = records.iter().find_map(|r| match r {
                Record::Run(run) => Some(run),
                _ => None,
            });
            let name = run.map_or_else(
                || "?".to_owned(),
                |r| format!("{} · {}", r.experiment, r.backend),
            );
            let has_sizes = records.iter().any(
                |r| matches!(r, Record::Point(p) if p.outputs.output(Output::SizeBytes).is_some()),
            );
            // A run over workers beside a size sweep has nothing on this chart.
            if has_sizes && !titles.contains(&name) {
                titles.push(name.clone());
            }
            if let Some(run) = run
                && crate::experiment::find(&run.experiment).is_some_and(|e| e.about_memory())
            {
                chart.x_label = "working set, all arrays";
                if chart.marks.is_empty() {
                    chart.marks = run
                        .env
                        .caches
                        .iter()
                        .map(|c| (c.bytes, c.label()))
                        .collect();
                }
            }
            // One series per variant and worker count (a run over several counts, as stream's
            // sweep, has one curve per count).
            let counts = run.map_or(1, |r| r.workers.len());
            let mut by_variant: Vec<((Option<String>, usize), SizeSeries)> = Vec::new();
            for r in *records {
                match r {
                    Record::Point(p) => {
                        let Some(bytes) = p.outputs.output(Output::SizeBytes) else {
                            continue;
                        };
                        let point = SizePoint {
                            bytes: bytes as u64,
                            median_s: p.median_s,
                            min_s: p.min_s,
                            max_s: p.max_s,
                            completed: p.outputs.output(Output::Completed) != Some(0.0)
                                && p.reps > 0,
                            moved: p.outputs.output(Output::BytesMoved),
                        };
                        let key = (p.variant.clone(), p.workers);
                        let idx = match by_variant.iter().position(|(k, _)| *k == key) {
                            Some(i) => i,
                            None => {
                                // The variant and the worker count say it all when the
                                // title names the only run.
                                let mut parts: Vec<String> = Vec::new();
                                if let Some(v) = &p.variant {
                                    parts.push(v.clone());
                                }
                                if counts > 1 {
                                    parts.push(format!(
                                        "{} worker{}",
                                        p.workers,
                                        if p.workers == 1 { "" } else { "s" }
                                    ));
                                }
                                if runs.len() > 1 || parts.is_empty() {
                                    parts.insert(0, name.clone());
                                }
                                // Overlaid runs on one node and across nodes: say which.
                                if runs.len() > 1
                                    && let Some(placement) = run
                                        .and_then(|r| r.params.get("placement"))
                                        .filter(|p| *p != "auto")
                                {
                                    parts.insert(1, placement.clone());
                                }
                                let mut label = parts.join(" · ");
                                if runs.len() > 1
                                    && let Some(run) = run
                                {
                                    label.push_str(" · ");
                                    label.push_str(clock(&run.started_at));
                                }
                                let replay = replayed.get(i).cloned().flatten();
                                if replay.is_some() {
                                    label.push_str(" · replay");
                                }
                                by_variant.push((
                                    key,
                                    SizeSeries {
                                        label,
                                        points: Vec::new(),
                                        fit: None,
                                        replayed: replay,
                                    },
                                ));
                                by_variant.len() - 1
                            }
                        };
                        let points = &mut by_variant[idx].1.points;
                        points.retain(|q| q.bytes != point.bytes);
                        points.push(point);
                    }
                    Record::Fit(f) if f.model == Model::LatencyBandwidth => {
                        if let (Some(a), Some(b)) = (f.latency_s, f.bandwidth_bytes_s)
                            && let Some((_, s)) =
                                by_variant.iter_mut().find(|((v, _), _)| *v == f.variant)
                        {
                            s.fit = Some((a, b));
                        }
                    }
                    _ => {}
                }
            }
            for (_, mut s) in by_variant {
                s.points.sort_by_key(|p| p.bytes);
                chart.series.push(s);
            }
        }
        chart.title = titles.join(" vs ");
        chart
    }

    /// The plotted values of the completed sizes: `(bytes, value, low, high)`.
    pub fn values(&self, s: &SizeSeries, metric: SizeMetric) -> Vec<(u64, f64, f64, f64)> {
        s.points
            .iter()
            .filter(|p| p.completed && p.median_s > 0.0 && p.min_s > 0.0)
            .map(|p| {
                let b = p.moved.unwrap_or(p.bytes as f64);
                match metric {
                    SizeMetric::Time => (p.bytes, p.median_s, p.min_s, p.max_s),
                    SizeMetric::Bandwidth => (p.bytes, b / p.median_s, b / p.max_s, b / p.min_s),
                }
            })
            .filter(|(_, v, _, _)| v.is_finite() && *v > 0.0)
            .collect()
    }

    /// The sizes whose launch deadlocked.
    pub fn deadlocked(&self, s: &SizeSeries) -> Vec<u64> {
        s.points
            .iter()
            .filter(|p| !p.completed)
            .map(|p| p.bytes)
            .collect()
    }

    /// The largest size that completed and the smallest that deadlocked, over all series.
    pub fn eager_limit(&self) -> Option<(Option<u64>, u64)> {
        let dead = self.series.iter().flat_map(|s| self.deadlocked(s)).min()?;
        let done = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| p.completed && p.bytes < dead))
            .map(|p| p.bytes)
            .max();
        Some((done, dead))
    }

    /// What the sweep found about the eager limit, in words, with exact byte counts: e.g.
    /// `4040 B, to the byte (4041 B deadlocked)`, or `completed up to 2 KiB, deadlocked
    /// from 4 KiB` where the sizes tried leave a gap.
    pub fn eager_limit_words(&self) -> Option<String> {
        let (done, dead) = self.eager_limit()?;
        let b = |n: u64| crate::measure::format::bytes(n as f64);
        Some(match done {
            Some(d) if dead == d + 1 => {
                format!("{}, to the byte ({} deadlocked)", b(d), b(dead))
            }
            Some(d) => format!("completed up to {}, deadlocked from {}", b(d), b(dead)),
            None => format!("deadlocked at every size, from {}", b(dead)),
        })
    }

    /// The fitted T(n) = α + n/β (or its bandwidth n / T(n)) at 48 sizes spread evenly on
    /// the log axis over the measured range; empty without a fit.
    pub fn fit_curve(&self, s: &SizeSeries, metric: SizeMetric) -> Vec<(f64, f64)> {
        let Some((alpha, beta)) = s.fit else {
            return Vec::new();
        };
        let (lo, hi) = self.x_range();
        let (l0, l1) = ((lo as f64).log2(), (hi as f64).log2());
        (0..48)
            .map(|i| 2f64.powf(l0 + (l1 - l0) * f64::from(i) / 47.0))
            .filter_map(|n| {
                let t = alpha + n / beta;
                let y = match metric {
                    SizeMetric::Time => t,
                    SizeMetric::Bandwidth => n / t,
                };
                (y.is_finite() && y > 0.0).then_some((n, y))
            })
            .collect()
    }

    /// The smallest and largest size of any point (1 B to 2 B without points).
    pub fn x_range(&self) -> (u64, u64) {
        let sizes = self
            .series
            .iter()
            .flat_map(|s| s.points.iter().map(|p| p.bytes));
        let lo = sizes.clone().min().unwrap_or(1).max(1);
        let hi = sizes.max().unwrap_or(2).max(lo * 2);
        (lo, hi)
    }

    /// Size ticks: powers of two from the smallest size to the first power at or above the
    /// largest, every 2^k so that there are at most `max_ticks` of them.
    pub fn x_ticks(&self, max_ticks: usize) -> Vec<u64> {
        let (lo, hi) = self.x_range();
        let (l0, l1) = (lo.ilog2(), hi.next_power_of_two().ilog2());
        let span = (l1 - l0).max(1) as usize;
        let step = span.div_ceil(max_ticks.max(2) - 1).max(1);
        let mut out: Vec<u32> = (l0..=l1).step_by(step).collect();
        if let Some(&last) = out.last()
            && last < l1
        {
            // The axis ends at a tick; one closer than half a step to the tick before it
            // takes that tick's place, so that their labels never run into each other.
            if ((l1 - last) as usize) * 2 < step && out.len() > 1 {
                out.pop();
            }
            out.push(l1);
        }
        out.into_iter()
            .map(|e| 1u64.checked_shl(e).unwrap_or(u64::MAX))
            .collect()
    }

    /// The x axis for at most `max_ticks` ticks: the ticks and the log2 bounds they span.
    pub fn x_axis(&self, max_ticks: usize) -> (Vec<u64>, f64, f64) {
        let ticks = self.x_ticks(max_ticks);
        let x0 = ticks.first().map_or(0.0, |&t| (t as f64).log2());
        let x1 = ticks
            .last()
            .map_or(1.0, |&t| (t as f64).log2())
            .max(x0 + 1.0);
        (ticks, x0, x1)
    }

    /// The y range as powers of ten `(low, high)` covering every value, range and fit
    /// point (and the deadlocked sizes' times for the time axis), at least one decade.
    pub fn y_decades(&self, metric: SizeMetric) -> (i32, i32) {
        let mut vals: Vec<f64> = Vec::new();
        for s in &self.series {
            for (_, v, lo, hi) in self.values(s, metric) {
                vals.extend([v, lo, hi]);
            }
            vals.extend(self.fit_curve(s, metric).into_iter().map(|(_, y)| y));
        }
        let vals: Vec<f64> = vals
            .into_iter()
            .filter(|v| v.is_finite() && *v > 0.0)
            .collect();
        let lo = vals.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = vals.iter().copied().fold(0.0, f64::max);
        if !lo.is_finite() || hi <= 0.0 {
            return match metric {
                SizeMetric::Time => (-6, -3),
                SizeMetric::Bandwidth => (6, 9),
            };
        }
        let (a, b) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
        (a, b.max(a + 1))
    }
}

/// `07:15` from an RFC 3339 start time (the whole text if it is not one).
fn clock(started_at: &str) -> &str {
    started_at.get(11..16).unwrap_or(started_at)
}

/// A point of a size sweep, for tests here and in the views.
#[cfg(test)]
pub(crate) fn test_point(bytes: u64, median: f64, completed: bool) -> Record {
    use crate::record::PointRecord;
    use std::collections::BTreeMap;
    Record::Point(PointRecord {
        workers: 2,
        variant: None,
        reps: usize::from(completed) * 3,
        median_s: median,
        min_s: median * 0.9,
        max_s: median * 1.2,
        ci95_s: [median, median],
        outliers: 0,
        speedup: None,
        efficiency: None,
        karp_flatt: None,
        oversubscribed: false,
        setup_s: 0.0,
        outputs: BTreeMap::from([
            (Output::SizeBytes.key().to_owned(), bytes as f64),
            (
                Output::Completed.key().to_owned(),
                if completed { 1.0 } else { 0.0 },
            ),
        ]),
        ranks: Some(2),
        threads: Some(1),
        other_busy: None,
        other_runs: 0,
        inner_runs: 1,
        hosts: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::FitRecord;

    fn point(bytes: u64, median: f64, completed: bool) -> Record {
        test_point(bytes, median, completed)
    }

    #[test]
    fn an_eager_sweep_splits_completed_and_deadlocked_sizes() {
        let records = vec![
            point(1024, 2e-6, true),
            point(4096, 5e-6, true),
            point(8192, 2.0, false),
            point(16384, 2.0, false),
        ];
        assert!(SizeChart::applies(&[&records]));
        let c = SizeChart::from_runs(&[&records], &[]);
        let s = &c.series[0];
        assert_eq!(c.values(s, SizeMetric::Time).len(), 2);
        assert_eq!(c.deadlocked(s), [8192, 16384]);
        assert_eq!(c.eager_limit(), Some((Some(4096), 8192)));
        // Stalled seconds are not a message time: the y axis ignores them.
        assert_eq!(c.y_decades(SizeMetric::Time), (-6, -5));
    }

    #[test]
    fn pingpong_has_a_fit_curve_and_a_bandwidth_view() {
        let mut records = vec![point(1, 1e-6, true), point(1 << 20, 1e-3, true)];
        records.push(Record::Fit(FitRecord {
            model: Model::LatencyBandwidth,
            variant: None,
            serial_fraction: 0.0,
            rmse: 0.0,
            r2: Some(1.0),
            points: 2,
            latency_s: Some(1e-6),
            bandwidth_bytes_s: Some(1e9),
            meaningful: true,
            caveat: None,
        }));
        let c = SizeChart::from_runs(&[&records], &[]);
        let s = &c.series[0];
        assert_eq!(s.fit, Some((1e-6, 1e9)));
        let curve = c.fit_curve(s, SizeMetric::Time);
        assert_eq!(curve.len(), 48);
        assert!((curve[0].0 - 1.0).abs() < 1e-9);
        assert!((curve[47].1 - (1e-6 + 1048576.0 / 1e9)).abs() < 1e-12);
        let bw = c.values(s, SizeMetric::Bandwidth);
        assert!((bw[1].1 - 1048576.0 / 1e-3).abs() < 1e-3);
        assert_eq!(c.x_ticks(6), [1, 16, 256, 4096, 65536, 1048576]);
        // 12 KiB to 768 MiB (stream's sweep): the axis ends at 1 GiB, which takes the place
        // of 512 MiB, one octave before it.
        let mut sweep = c.clone();
        sweep.series[0].points = [12 * 1024u64, 768 << 20]
            .into_iter()
            .map(|bytes| SizePoint {
                bytes,
                median_s: 1.0,
                min_s: 1.0,
                max_s: 1.0,
                completed: true,
                moved: None,
            })
            .collect();
        assert_eq!(
            sweep.x_ticks(6),
            [1 << 13, 1 << 17, 1 << 21, 1 << 25, 1 << 30]
        );
        assert_eq!(c.x_range(), (1, 1 << 20));
    }

    #[test]
    fn runs_without_sizes_are_not_size_charts() {
        let mut p = point(1, 1.0, true);
        if let Record::Point(p) = &mut p {
            p.outputs.clear();
        }
        assert!(!SizeChart::applies(&[&[p]]));
    }

    #[test]
    fn sizes_and_rates_read_like_people_say_them() {
        assert_eq!(format_bytes(1), "1 B");
        assert_eq!(format_bytes(4096), "4 KiB");
        assert_eq!(format_bytes(16 << 20), "16 MiB");
        assert_eq!(format_bytes(1536), "1.5 KiB");
        assert_eq!(SizeMetric::Time.format(3.2e-6), "3.20 µs");
        assert_eq!(SizeMetric::Time.format(0.0015), "1.50 ms");
        assert_eq!(SizeMetric::Bandwidth.format(8.5e8), "850 MB/s");
        assert_eq!(SizeMetric::Bandwidth.format(2.1e9), "2.10 GB/s");
    }
}
