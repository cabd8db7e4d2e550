//! The timing protocol of a sweep: for each variant and worker count, set up the workers
//! (timed separately, as overhead), run warm-ups, then timed repetitions; summarize each
//! point; fit the scaling law to the points that are not oversubscribed; report every step
//! as a [`Record`].
//!
//! The protocol knows nothing of threads or processes: an [`Executor`] runs the kernel. The
//! thread backend is one; tests use a fake one with scripted times.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::fit::{fit_amdahl, fit_gustafson, karp_flatt};
use super::stats::summarize;
use crate::kernel::{Kernel, Outputs};
use crate::record::{
    DiagnosisRecord, EndRecord, FitRecord, Model, PointRecord, Record, RunRecord, SampleRecord,
    Status,
};

/// Why one run of a kernel did not complete.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RunError {
    /// The workers could not run it (no pool, wrong worker count, a worker died…).
    #[error("{0}")]
    Failed(String),
    /// The workers stopped making progress and gave up; the diagnosis says who waited for
    /// whom. The sweep ends with status `deadlock`.
    #[error("deadlock: {}", .0.message)]
    Deadlock(Box<DiagnosisRecord>),
}

/// Runs a kernel on a given number of workers.
pub trait Executor {
    /// Gets `workers` workers ready (e.g. builds a thread pool). Returns the seconds it took.
    fn setup(&mut self, workers: usize) -> Result<f64, String>;
    /// Runs the kernel once on the workers set up last; returns kernel seconds and outputs.
    fn run(&mut self, kernel: &dyn Kernel, workers: usize) -> Result<(f64, Outputs), RunError>;
}

/// A sweep to run.
pub struct Plan<'a> {
    /// The run record (written first).
    pub run: RunRecord,
    /// Variants to compare, each with its kernel; `None` for experiments without variants.
    pub variants: Vec<(Option<String>, Box<dyn Kernel + 'a>)>,
    /// Weak scaling (Gustafson) rather than strong (Amdahl).
    pub weak: bool,
    /// CPUs available: more workers than this is oversubscribed.
    pub cpus: usize,
}

/// Where records go. An error stops the run (e.g. the reader of our output went away).
pub type Sink<'s> = dyn FnMut(&Record) -> std::io::Result<()> + 's;

/// Progress of a sweep, for progress bars.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    /// Runs (warm-ups and repetitions) done.
    pub done: usize,
    /// Runs in the whole sweep.
    pub total: usize,
}

/// Runs the plan, sending every record to `sink`. Checks `cancel` between repetitions.
/// Returns how the run ended (also sent as the last record).
pub fn run_plan(
    plan: Plan<'_>,
    exec: &mut dyn Executor,
    sink: &mut Sink<'_>,
    cancel: &AtomicBool,
    mut on_progress: impl FnMut(Progress),
) -> Status {
    let start = Instant::now();
    let workers = plan.run.workers.clone();
    let (reps, warmup) = (plan.run.reps, plan.run.warmup);
    let total = plan.variants.len() * workers.len() * (reps + warmup);
    let mut done = 0;
    let end = |sink: &mut Sink<'_>, status: Status, message: Option<String>| {
        // The end record is best effort: if the sink is gone, nobody can read it anyway.
        let _ = sink(&Record::End(EndRecord {
            status,
            elapsed_s: start.elapsed().as_secs_f64(),
            message,
        }));
        status
    };
    if let Err(e) = sink(&Record::Run(plan.run.clone())) {
        return end(
            sink,
            Status::Failed,
            Some(format!("cannot write results: {e}")),
        );
    }

    for (variant, kernel) in &plan.variants {
        let mut speedups: Vec<(usize, f64)> = Vec::new();
        let mut base: Option<f64> = None;
        for &n in &workers {
            let setup_s = match exec.setup(n) {
                Ok(s) => s,
                Err(e) => return end(sink, Status::Failed, Some(format!("{n} workers: {e}"))),
            };
            let mut times = Vec::with_capacity(reps);
            let mut outputs = Outputs::new();
            for i in 0..warmup + reps {
                if cancel.load(Ordering::Relaxed) {
                    return end(sink, Status::Cancelled, Some("cancelled".to_owned()));
                }
                let (seconds, out) = match exec.run(kernel.as_ref(), n) {
                    Ok(r) => r,
                    Err(RunError::Failed(e)) => {
                        return end(sink, Status::Failed, Some(format!("{n} workers: {e}")));
                    }
                    Err(RunError::Deadlock(mut d)) => {
                        d.workers = n;
                        d.variant = variant.clone();
                        let message = match d.cycle.as_slice() {
                            [] => format!("{n} workers: no progress for {:.1} s", d.stalled_s),
                            [.., last] if d.cycle.len() > 1 => format!(
                                "{n} workers: deadlock, {} and {last} wait for each other",
                                d.cycle[..d.cycle.len() - 1].join(", ")
                            ),
                            one => format!("{n} workers: deadlock, {} waits for itself", one[0]),
                        };
                        // Best effort like the end record: the run ends as a deadlock either way.
                        let _ = sink(&Record::Diagnosis(*d));
                        return end(sink, Status::Deadlock, Some(message));
                    }
                };
                let is_warmup = i < warmup;
                let sample = Record::Sample(SampleRecord {
                    workers: n,
                    variant: variant.clone(),
                    rep: if is_warmup { i } else { i - warmup },
                    warmup: is_warmup,
                    seconds,
                });
                if let Err(e) = sink(&sample) {
                    return end(
                        sink,
                        Status::Failed,
                        Some(format!("cannot write results: {e}")),
                    );
                }
                if !is_warmup {
                    times.push(seconds);
                    outputs = out;
                }
                done += 1;
                on_progress(Progress { done, total });
            }
            let s = summarize(&times);
            if let Some((name, items)) = kernel.ns_per_item(n)
                && items > 0
            {
                outputs.insert(name.to_owned(), s.median / items as f64 * 1e9);
            }
            if n == 1 {
                base = Some(s.median);
            }
            let speedup = base.map(|t1| {
                if plan.weak {
                    n as f64 * t1 / s.median
                } else {
                    t1 / s.median
                }
            });
            // Oversubscribed points measure CPUs being shared, not the program's serial
            // part: they are shown, but the model is fitted to the others.
            if let Some(sp) = speedup
                && n <= plan.cpus
            {
                speedups.push((n, sp));
            }
            let point = Record::Point(PointRecord {
                workers: n,
                variant: variant.clone(),
                reps: s.n,
                median_s: s.median,
                min_s: s.min,
                max_s: s.max,
                ci95_s: s.ci95,
                outliers: s.outlier.iter().filter(|o| **o).count(),
                speedup,
                efficiency: speedup.map(|sp| sp / n as f64),
                karp_flatt: if plan.weak {
                    None
                } else {
                    speedup.and_then(|sp| karp_flatt(sp, n))
                },
                oversubscribed: n > plan.cpus,
                setup_s,
                outputs,
            });
            if let Err(e) = sink(&point) {
                return end(
                    sink,
                    Status::Failed,
                    Some(format!("cannot write results: {e}")),
                );
            }
        }
        let (model, fit) = if plan.weak {
            (Model::Gustafson, fit_gustafson(&speedups))
        } else {
            (Model::Amdahl, fit_amdahl(&speedups))
        };
        if let Some(f) = fit {
            let r = Record::Fit(FitRecord {
                model,
                variant: variant.clone(),
                serial_fraction: f.serial_fraction,
                rmse: f.rmse,
                r2: f.r2,
                points: f.points,
            });
            if let Err(e) = sink(&r) {
                return end(
                    sink,
                    Status::Failed,
                    Some(format!("cannot write results: {e}")),
                );
            }
        }
    }
    end(sink, Status::Ok, None)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::kernel::Partial;
    use crate::record::Environment;

    /// Scripted times: T(N) = t1 · (s + (1 − s)/N), with a fixed jitter pattern.
    pub(crate) struct Fake {
        pub t1: f64,
        pub serial: f64,
        pub calls: usize,
        pub fail_at: Option<usize>,
    }

    impl Executor for Fake {
        fn setup(&mut self, _workers: usize) -> Result<f64, String> {
            Ok(0.001)
        }
        fn run(&mut self, _k: &dyn Kernel, n: usize) -> Result<(f64, Outputs), RunError> {
            self.calls += 1;
            if self.fail_at == Some(self.calls) {
                return Err(RunError::Failed("boom".into()));
            }
            let jitter = [1.0, 1.01, 0.99, 1.02, 0.98][self.calls % 5];
            let t = self.t1 * (self.serial + (1.0 - self.serial) / n as f64) * jitter;
            Ok((t, Outputs::from([("estimate".to_owned(), 3.0)])))
        }
    }

    struct Nothing;
    impl Kernel for Nothing {
        fn task(&self, _: usize, _: usize, _: usize) -> Partial {
            Partial::default()
        }
        fn finish(&self, _: f64, _: &[Partial], _: usize) -> Outputs {
            Outputs::new()
        }
    }

    pub(crate) fn run_record(workers: Vec<usize>, reps: usize, warmup: usize) -> RunRecord {
        RunRecord {
            run_id: "test".into(),
            experiment: "amdahl".into(),
            backend: "fake".into(),
            params: Default::default(),
            workers,
            reps,
            warmup,
            env: Environment {
                host: "h".into(),
                cpu_model: "c".into(),
                cpus_available: 2,
                slurm_job_id: None,
                version: "0".into(),
                git_commit: None,
                busy_before: None,
            },
            started_at: "2026-11-22T00:00:00Z".into(),
        }
    }

    fn collect(
        plan: Plan<'_>,
        exec: &mut dyn Executor,
        cancel: &AtomicBool,
    ) -> (Status, Vec<Record>) {
        let mut out = Vec::new();
        let status = run_plan(
            plan,
            exec,
            &mut |r: &Record| {
                out.push(r.clone());
                Ok(())
            },
            cancel,
            |_| {},
        );
        (status, out)
    }

    #[test]
    fn a_sweep_reports_samples_points_fit_and_end_in_order() {
        let plan = Plan {
            run: run_record(vec![1, 2, 4], 5, 1),
            variants: vec![(None, Box::new(Nothing))],
            weak: false,
            cpus: 2,
        };
        let mut fake = Fake {
            t1: 1.0,
            serial: 0.2,
            calls: 0,
            fail_at: None,
        };
        let (status, recs) = collect(plan, &mut fake, &AtomicBool::new(false));
        assert_eq!(status, Status::Ok);
        assert_eq!(fake.calls, 18, "3 points × (1 warm-up + 5 reps)");
        assert!(matches!(recs[0], Record::Run(_)));
        assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok));
        let points: Vec<&PointRecord> = recs
            .iter()
            .filter_map(|r| {
                if let Record::Point(p) = r {
                    Some(p)
                } else {
                    None
                }
            })
            .collect();
        assert_eq!(points.len(), 3);
        assert_eq!(points[0].speedup, Some(1.0));
        assert!(!points[1].oversubscribed);
        assert!(points[2].oversubscribed, "4 workers on 2 CPUs");
        // With 20 % serial work, S(2) ≈ 1/0.6 = 1.67 and the fit finds s ≈ 0.2.
        let s2 = points[1].speedup.expect("has a base");
        assert!((s2 - 1.0 / 0.6).abs() < 0.05, "{s2}");
        let fit = recs
            .iter()
            .find_map(|r| {
                if let Record::Fit(f) = r {
                    Some(f)
                } else {
                    None
                }
            })
            .expect("a fit");
        assert_eq!(fit.model, Model::Amdahl);
        assert!(
            (fit.serial_fraction - 0.2).abs() < 0.02,
            "{}",
            fit.serial_fraction
        );
        let warmups = recs
            .iter()
            .filter(|r| matches!(r, Record::Sample(s) if s.warmup))
            .count();
        assert_eq!(warmups, 3);
    }

    #[test]
    fn cancel_and_failure_end_the_run_with_their_status() {
        let mk = || Plan {
            run: run_record(vec![1, 2], 3, 0),
            variants: vec![(None, Box::new(Nothing) as Box<dyn Kernel>)],
            weak: false,
            cpus: 2,
        };
        let mut fake = Fake {
            t1: 1.0,
            serial: 0.0,
            calls: 0,
            fail_at: None,
        };
        let (status, recs) = collect(mk(), &mut fake, &AtomicBool::new(true));
        assert_eq!(status, Status::Cancelled);
        assert_eq!(recs.len(), 2, "run and end only");
        let mut failing = Fake {
            fail_at: Some(2),
            ..fake
        };
        let (status, recs) = collect(mk(), &mut failing, &AtomicBool::new(false));
        assert_eq!(status, Status::Failed);
        let Some(Record::End(e)) = recs.last() else {
            panic!("ends")
        };
        assert_eq!(e.message.as_deref(), Some("1 workers: boom"));
    }

    #[test]
    fn weak_scaling_reports_scaled_speedup_and_fits_gustafson() {
        struct Constant;
        impl Executor for Constant {
            fn setup(&mut self, _: usize) -> Result<f64, String> {
                Ok(0.0)
            }
            fn run(&mut self, _: &dyn Kernel, n: usize) -> Result<(f64, Outputs), RunError> {
                // Work grows with N; time grows a little: 1 + 0.1 (N − 1).
                Ok((1.0 + 0.1 * (n as f64 - 1.0), Outputs::new()))
            }
        }
        let plan = Plan {
            run: run_record(vec![1, 2], 3, 0),
            variants: vec![(None, Box::new(Nothing))],
            weak: true,
            cpus: 2,
        };
        let (_, recs) = collect(plan, &mut Constant, &AtomicBool::new(false));
        let p2 = recs
            .iter()
            .find_map(|r| match r {
                Record::Point(p) if p.workers == 2 => Some(p),
                _ => None,
            })
            .expect("point");
        // Scaled speedup 2 · 1.0 / 1.1 = 1.818; Gustafson s = (2 − 1.818)/1 = 0.182.
        assert!((p2.speedup.expect("base") - 2.0 / 1.1).abs() < 1e-9);
        let fit = recs
            .iter()
            .find_map(|r| {
                if let Record::Fit(f) = r {
                    Some(f)
                } else {
                    None
                }
            })
            .expect("fit");
        assert_eq!(fit.model, Model::Gustafson);
        assert!((fit.serial_fraction - (2.0 - 2.0 / 1.1)).abs() < 1e-9);
    }

    #[test]
    fn a_deadlock_writes_the_diagnosis_then_ends_with_status_deadlock() {
        use crate::record::WaitRecord;
        struct Stuck;
        impl Executor for Stuck {
            fn setup(&mut self, _: usize) -> Result<f64, String> {
                Ok(0.0)
            }
            fn run(&mut self, _: &dyn Kernel, _: usize) -> Result<(f64, Outputs), RunError> {
                let w = |who: &str, other: &str, holds: &str, wants: &str| WaitRecord {
                    who: who.into(),
                    holds: vec![holds.into()],
                    waits_for: Some(wants.into()),
                    held_by: Some(other.into()),
                    last_action: None,
                };
                Err(RunError::Deadlock(Box::new(DiagnosisRecord::new(
                    0,
                    3.0,
                    vec![w("t0", "t1", "A", "B"), w("t1", "t0", "B", "A")],
                ))))
            }
        }
        let plan = Plan {
            run: run_record(vec![2], 3, 1),
            variants: vec![(Some("opposite".into()), Box::new(Nothing))],
            weak: false,
            cpus: 2,
        };
        let (status, recs) = collect(plan, &mut Stuck, &AtomicBool::new(false));
        assert_eq!(status, Status::Deadlock);
        assert_eq!(recs.len(), 3, "run, diagnosis, end: {recs:?}");
        let Record::Diagnosis(d) = &recs[1] else {
            panic!("a diagnosis")
        };
        assert_eq!((d.workers, d.variant.as_deref()), (2, Some("opposite")));
        assert_eq!(d.cycle, ["t0", "t1"]);
        let Record::End(e) = &recs[2] else {
            panic!("ends")
        };
        assert_eq!(e.status, Status::Deadlock);
        assert_eq!(
            e.message.as_deref(),
            Some("2 workers: deadlock, t0 and t1 wait for each other")
        );
    }

    #[test]
    fn a_time_per_item_comes_from_the_median() {
        struct Items;
        impl Kernel for Items {
            fn task(&self, _: usize, _: usize, _: usize) -> Partial {
                Partial::default()
            }
            fn finish(&self, _: f64, _: &[Partial], _: usize) -> Outputs {
                Outputs::new()
            }
            fn ns_per_item(&self, workers: usize) -> Option<(&'static str, u64)> {
                Some(("ns_per_thing", 1_000_000 * workers as u64))
            }
        }
        let plan = Plan {
            run: run_record(vec![1, 2], 5, 0),
            variants: vec![(None, Box::new(Items))],
            weak: false,
            cpus: 2,
        };
        let mut fake = Fake {
            t1: 1.0,
            serial: 0.0,
            calls: 0,
            fail_at: None,
        };
        let (_, recs) = collect(plan, &mut fake, &AtomicBool::new(false));
        for r in &recs {
            if let Record::Point(p) = r {
                let want = p.median_s / (1e6 * p.workers as f64) * 1e9;
                assert!((p.outputs["ns_per_thing"] - want).abs() < 1e-9, "{p:?}");
            }
        }
    }
}
