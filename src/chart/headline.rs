//! An experiment run's main result in a line or two: what the learner must see first, above
//! any table — the lost updates of a race, the eager limit of a send/recv sweep, π with its
//! error, the wait-for cycle of a deadlock, the fitted law. The tutor's experiment screen,
//! the demo and the lesson card all show it.
//!
//! It is read from what the run wrote (its outputs, fits and diagnosis), so a recording or
//! a results file gets the same headline as a live run.

use crate::chart::sizes::SizeChart;
use crate::kernel::{Output, OutputsExt};
use crate::measure::format::{count, latency_bandwidth_text, seconds};
use crate::record::{Model, PointRecord, Record};

/// The headline of one run's records: at most a few short lines, most important first;
/// empty while there is nothing measured yet.
pub fn headline(records: &[Record]) -> Vec<String> {
    let mut out = Vec::new();
    let runs = [records];
    // A message-size sweep diagnoses each size that deadlocked: its main result is where
    // that starts (the eager limit below), not the cycle of one of them.
    let sizes = SizeChart::applies(&runs);
    if let Some(d) = records.iter().find_map(|r| match r {
        Record::Diagnosis(d) if !sizes => Some(d),
        _ => None,
    }) {
        out.push(match d.cycle.as_slice() {
            [] => format!("stuck: no progress for {:.1} s", d.stalled_s),
            cycle => format!(
                "deadlock: {} → {} (no progress for {:.1} s)",
                cycle.join(" → "),
                cycle[0],
                d.stalled_s
            ),
        });
    }
    let points: Vec<&PointRecord> = records
        .iter()
        .filter_map(|r| match r {
            Record::Point(p) => Some(p),
            _ => None,
        })
        .collect();
    if points.is_empty() {
        return out;
    }
    if sizes {
        let chart = SizeChart::from_runs(&runs, &[]);
        if let Some(words) = chart.eager_limit_words() {
            out.push(format!("eager limit: {words}"));
            // Next to the limit the library is configured with, where the run knows it.
            let library = Record::run_in(records).and_then(|run| run.env.mpi.as_ref());
            if let (Some(lib), Some((Some(done), _))) = (library, chart.eager_limit())
                && let Some(c) = lib.compare_short(
                    done,
                    crate::measure::format::across_nodes(points.iter().copied()),
                )
            {
                out.push(c);
            }
        }
    }
    out.extend(bandwidth(records, &points));
    let widest = points.iter().map(|p| p.workers).max().unwrap_or(1);
    let at_widest: Vec<&&PointRecord> = points.iter().filter(|p| p.workers == widest).collect();
    if points
        .iter()
        .any(|p| p.outputs.output(Output::LostUpdates).is_some())
    {
        out.push(lost_updates(&at_widest, widest));
    }
    if let Some(p) = at_widest.iter().find(|p| {
        p.outputs.output(Output::Estimate).is_some() || p.outputs.output(Output::Value).is_some()
    }) {
        out.push(estimate(p));
    }
    // A program's run: its speedup and how many CPUs it kept busy come first — a program
    // that keeps one CPU busy on any number of workers (Python threads under the GIL) is
    // the story, whatever a fit says.
    let busy_line = at_widest.first().and_then(|p| {
        let busy = p.outputs.output(Output::CpusBusy)?;
        let speedup = p
            .speedup
            .filter(|_| widest > 1)
            .map(|s| format!("speedup on {widest} workers: {s:.2}× · "))
            .unwrap_or_default();
        Some(format!(
            "{speedup}{busy:.2} CPUs busy on {widest} worker{}",
            if widest == 1 { "" } else { "s" }
        ))
    });
    let program = busy_line.is_some();
    out.extend(busy_line);
    // A fit per variant of many is noise in a headline: the chart's legend has them.
    let fits = records
        .iter()
        .filter(|r| matches!(r, Record::Fit(_)))
        .count();
    for r in records.iter().filter(|_| fits <= 2) {
        if let Record::Fit(f) = r {
            match f.model {
                Model::LatencyBandwidth => {
                    out.push(format!(
                        "latency–bandwidth fit: {}",
                        latency_bandwidth_text(f)
                    ));
                }
                Model::Amdahl | Model::Gustafson => {
                    let law = if f.model == Model::Amdahl {
                        "Amdahl"
                    } else {
                        "Gustafson"
                    };
                    let variant = f
                        .variant
                        .as_deref()
                        .map(|v| format!(" ({v})"))
                        .unwrap_or_default();
                    let configured = records
                        .iter()
                        .find_map(|r| match r {
                            Record::Run(run) => crate::experiment::find(&run.experiment)
                                .and_then(|e| e.configured_serial_param())
                                .and_then(|p| run.params.get(p).cloned()),
                            _ => None,
                        })
                        .map(|c| format!(", configured {c}"))
                        .unwrap_or_default();
                    let clamped = f.serial_fraction <= 1e-3 || f.serial_fraction >= 0.999;
                    if let Some(c) = &f.caveat {
                        // What the run found doubtful about the fit, in its own words.
                        out.push(format!(
                            "{law} fit{variant}: s = {:.3}{configured}: {c}",
                            f.serial_fraction
                        ));
                    } else if clamped {
                        out.push(format!(
                            "{law} fit{variant}: s at its bound {:.2}: the law does not describe these points",
                            f.serial_fraction
                        ));
                    } else {
                        out.push(format!(
                            "{law} fit{variant}: serial fraction s = {:.3}{configured}",
                            f.serial_fraction
                        ));
                    }
                }
            }
        }
    }
    // Then the speedup on the most workers, where it fits on a line (one or two series).
    if !program && (out.is_empty() || at_widest.len() <= 2) {
        // Speedup at the largest worker count, per variant.
        let parts: Vec<String> = at_widest
            .iter()
            .filter_map(|p| {
                let s = p.speedup?;
                Some(match &p.variant {
                    Some(v) => format!("{v} {s:.2}×"),
                    None => format!("{s:.2}×"),
                })
            })
            .collect();
        if widest > 1 && !parts.is_empty() {
            out.push(format!(
                "speedup on {widest} workers: {}",
                parts.join(" · ")
            ));
        } else if let Some(p) = at_widest.first() {
            out.push(format!(
                "{} worker{}: {} (median)",
                widest,
                if widest == 1 { "" } else { "s" },
                seconds(p.median_s)
            ));
        }
    }
    // Points measured while other work shared the CPUs: the numbers above are not the
    // machine's alone.
    let shared: Vec<String> = points
        .iter()
        .filter_map(|p| {
            let what = p.disturbance_detail()?;
            Some(format!("N = {} ({what})", p.workers))
        })
        .collect();
    if !shared.is_empty() {
        out.push(format!(
            "⚠ CPUs shared with other work at {}: times longer, speedups lower than this machine's own",
            shared.join(", ")
        ));
    }
    out
}

/// Memory bandwidth (`stream`): over a sweep of sizes, for each worker count of the first
/// variant, the bandwidth where the working set fits each cache and from memory — `triad
/// on 1 worker: 196 GB/s in L1 · 103 in L2 · 76 in L3 · 17.2 from memory`; over workers at
/// one size, from the fewest workers to the most.
fn bandwidth(records: &[Record], points: &[&PointRecord]) -> Vec<String> {
    let gb = |p: &PointRecord| p.outputs.output(Output::BandwidthGbS);
    let with: Vec<&PointRecord> = points.iter().copied().filter(|p| gb(p).is_some()).collect();
    let Some(first) = with.first() else {
        return Vec::new();
    };
    let variant = first.variant.clone();
    let name = variant.as_deref().unwrap_or("bandwidth");
    let of_variant: Vec<&PointRecord> = with
        .iter()
        .copied()
        .filter(|p| p.variant == variant)
        .collect();
    let mut counts: Vec<usize> = of_variant.iter().map(|p| p.workers).collect();
    counts.sort_unstable();
    counts.dedup();
    let workers = |n: usize| format!("{n} worker{}", if n == 1 { "" } else { "s" });
    let rate = short_gb;
    let sized = of_variant
        .iter()
        .any(|p| p.outputs.output(Output::SizeBytes).is_some());
    if !sized {
        let at = |n: usize| {
            of_variant
                .iter()
                .find(|p| p.workers == n)
                .and_then(|p| gb(p))
        };
        return match (counts.first(), counts.last()) {
            (Some(&lo), Some(&hi)) if lo != hi => match (at(lo), at(hi)) {
                (Some(a), Some(b)) => vec![format!(
                    "{name}: {} on {} → {} on {} ({:.2}×)",
                    rate(a),
                    workers(lo),
                    rate(b),
                    workers(hi),
                    b / a
                )],
                _ => Vec::new(),
            },
            (Some(&n), _) => at(n)
                .map(|a| vec![format!("{name}: {} on {}", rate(a), workers(n))])
                .unwrap_or_default(),
            _ => Vec::new(),
        };
    }
    let caches = Record::run_in(records)
        .map(|r| r.env.caches.clone())
        .unwrap_or_default();
    counts
        .iter()
        .filter_map(|&n| {
            let mut by_size: Vec<(f64, f64)> = of_variant
                .iter()
                .filter(|p| p.workers == n)
                .filter_map(|p| Some((p.outputs.output(Output::SizeBytes)?, gb(p)?)))
                .collect();
            by_size.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (&(_, smallest), &(largest_size, largest)) = (by_size.first()?, by_size.last()?);
            let mut parts: Vec<String> = caches
                .iter()
                .filter_map(|c| {
                    // The largest working set that still fits this level.
                    let (_, v) = by_size
                        .iter()
                        .rev()
                        .find(|(size, _)| *size <= c.bytes as f64)?;
                    Some(format!("{} in L{}", rate(*v), c.level))
                })
                .collect();
            let last = caches.last().map_or(0.0, |c| c.bytes as f64);
            if parts.is_empty() {
                parts.push(format!("{} at the smallest size", rate(smallest)));
                parts.push(format!("{} at the largest", rate(largest)));
            } else if largest_size >= 4.0 * last {
                parts.push(format!("{} from memory", rate(largest)));
            }
            Some(format!("{name} on {}: {}", workers(n), parts.join(" · ")))
        })
        .collect()
}

/// `196 GB/s`, `17.2 GB/s`.
fn short_gb(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} GB/s")
    } else {
        format!("{v:.1} GB/s")
    }
}

/// `lost updates on 2 workers: unsynchronized 48 % (96,153 of 200,000); none with atomic, mutex`
fn lost_updates(points: &[&&PointRecord], workers: usize) -> String {
    let mut lost = Vec::new();
    let mut none = Vec::new();
    for p in points {
        let Some(n) = p.outputs.output(Output::LostUpdates) else {
            continue;
        };
        let expected = p.outputs.output(Output::ExpectedCount).unwrap_or(0.0);
        let name = p.variant.as_deref().unwrap_or("run");
        if n > 0.0 && expected > 0.0 {
            lost.push(format!(
                "{name} {:.0} % ({} of {})",
                100.0 * n / expected,
                count(n),
                count(expected)
            ));
        } else {
            none.push(name);
        }
    }
    match (lost.is_empty(), none.is_empty()) {
        (true, _) => format!(
            "no update lost on {workers} workers this time ({}): the threads barely overlapped; run again, or with more increments",
            none.join(", ")
        ),
        (false, true) => format!("lost updates on {workers} workers: {}", lost.join(" · ")),
        (false, false) => format!(
            "lost updates on {workers} workers: {}; none with {}",
            lost.join(" · "),
            none.join(", ")
        ),
    }
}

/// `π ≈ 3.14159 ± 0.00012 (off by 5.8e-6)`: the estimate with its statistical error where
/// the sample count gives one, and how far it is from the exact value.
fn estimate(p: &PointRecord) -> String {
    let (value, name) = match (
        p.outputs.output(Output::Estimate),
        p.outputs.output(Output::Value),
    ) {
        (Some(v), _) => (v, "π ≈"),
        (None, Some(v)) => (v, "value ="),
        (None, None) => return String::new(),
    };
    let sigma = p
        .outputs
        .output(Output::Samples)
        .filter(|_| name == "π ≈")
        .filter(|&n| n > 0.0)
        .map(|n| {
            // A sample lands in the quarter circle with probability π/4: the estimate
            // 4·hits/n has standard error 4·√(p(1-p)/n).
            let q = std::f64::consts::FRAC_PI_4;
            4.0 * (q * (1.0 - q) / n).sqrt()
        });
    let mut text = match sigma {
        Some(s) => format!("{name} {value:.6} ± {s:.1e} (1σ)"),
        None => format!("{name} {value:.6}"),
    };
    if let Some(e) = p.outputs.output(Output::AbsError) {
        text.push_str(&format!(", off by {e:.1e}"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::DiagnosisRecord;

    fn point(workers: usize, variant: Option<&str>, outputs: &[(&str, f64)]) -> Record {
        let mut records = crate::record::tests::sample_run();
        let Some(Record::Point(mut p)) = records.drain(..).find(|r| matches!(r, Record::Point(_)))
        else {
            panic!("the sample run has points")
        };
        p.workers = workers;
        p.variant = variant.map(str::to_owned);
        p.outputs = outputs.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect();
        Record::Point(p)
    }

    #[test]
    fn race_shows_its_lost_updates_first() {
        let records = vec![
            point(
                2,
                Some("unsynchronized"),
                &[
                    ("expected_count", 200_000.0),
                    ("final_count", 104_000.0),
                    ("lost_updates", 96_000.0),
                ],
            ),
            point(
                2,
                Some("atomic"),
                &[
                    ("expected_count", 200_000.0),
                    ("final_count", 200_000.0),
                    ("lost_updates", 0.0),
                ],
            ),
        ];
        assert_eq!(
            headline(&records)[0],
            "lost updates on 2 workers: unsynchronized 48 % (96,000 of 200,000); none with atomic"
        );
    }

    #[test]
    fn pi_comes_with_its_error_and_a_deadlock_with_its_cycle() {
        let records = vec![point(
            2,
            None,
            &[
                ("estimate", 3.1425),
                ("abs_error", 2.6e-6),
                ("samples", 2e8),
            ],
        )];
        assert!(
            headline(&records)[0].starts_with("π ≈ 3.142500 ± 1.2e-4 (1σ), off by 2.6e-6"),
            "{:?}",
            headline(&records)
        );
        let records = vec![Record::Diagnosis(DiagnosisRecord {
            workers: 2,
            variant: None,
            stalled_s: 3.0,
            waits: Vec::new(),
            cycle: vec!["thread 0".into(), "thread 1".into()],
            message: String::new(),
        })];
        assert_eq!(
            headline(&records),
            ["deadlock: thread 0 → thread 1 → thread 0 (no progress for 3.0 s)"]
        );
    }

    #[test]
    fn an_eager_sweep_leads_with_its_limit_not_one_size_s_deadlock() {
        let size = |bytes: f64, completed: f64| {
            let Record::Point(mut p) = point(2, None, &[]) else {
                panic!("a point")
            };
            p.outputs = [
                (Output::SizeBytes.key().to_owned(), bytes),
                (Output::Completed.key().to_owned(), completed),
            ]
            .into();
            Record::Point(p)
        };
        let records = vec![
            size(2048.0, 1.0),
            Record::Diagnosis(DiagnosisRecord {
                workers: 2,
                variant: None,
                stalled_s: 1.0,
                waits: Vec::new(),
                cycle: vec!["rank 0".into(), "rank 1".into()],
                message: String::new(),
            }),
            size(4096.0, 0.0),
        ];
        let lines = headline(&records);
        assert!(
            lines[0] == "eager limit: completed up to 2 KiB, deadlocked from 4 KiB",
            "{lines:?}"
        );
        assert!(
            !lines.iter().any(|l| l.starts_with("deadlock")),
            "{lines:?}"
        );
    }
}
