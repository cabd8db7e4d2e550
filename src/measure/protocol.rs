//! The timing protocol of a sweep: for each variant and worker count, set up the workers
//! (timed separately, as overhead), run warm-ups, then timed repetitions; summarize each
//! point; fit the scaling law to the points that are not oversubscribed; report every step
//! as a [`Record`].
//!
//! The protocol knows nothing of threads or processes: an [`Executor`] runs the kernel. The
//! thread backend is one; tests use a fake one with scripted times.

use crate::kernel::{Output, OutputsExt};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use super::contention::Watch;
use super::fit::{Fit, fit_amdahl, fit_gustafson, fit_latency_bandwidth, karp_flatt};
use super::probe::Probe;
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

/// One point of a sweep, as the executor sets it up: a worker count, and for some
/// experiments a variant and a message size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointSpec<'a> {
    /// Worker count (threads, or MPI ranks).
    pub workers: usize,
    /// The variant, for experiments that compare variants.
    pub variant: Option<&'a str>,
    /// Message size in bytes, for sweeps over message sizes.
    pub size: Option<u64>,
}

impl PointSpec<'_> {
    /// A point with `workers` workers only: no variant, no message size.
    pub fn workers(workers: usize) -> Self {
        Self {
            workers,
            variant: None,
            size: None,
        }
    }
}

/// Runs a kernel on a given number of workers.
pub trait Executor {
    /// Gets the workers of `point` ready (e.g. builds a thread pool, launches MPI ranks).
    /// Returns the seconds it took.
    fn setup(&mut self, point: &PointSpec<'_>) -> Result<f64, String>;
    /// Runs the kernel once on the workers set up last; returns kernel seconds and outputs.
    fn run(&mut self, kernel: &dyn Kernel, workers: usize) -> Result<(f64, Outputs), RunError>;
    /// Whether a sample may run the kernel several times back to back (see
    /// [`SAMPLE_FLOOR_S`]): not where the workers were started for a fixed number of runs
    /// (MPI ranks).
    fn batches(&self) -> bool {
        true
    }
    /// The host of each worker of the point set up last, by worker (MPI ranks, which may be
    /// on several nodes); empty where all run in this process.
    fn hosts(&self) -> Vec<String> {
        Vec::new()
    }
    /// The last lines of output of what ran last, kept in the end record (a program's);
    /// empty for the built-in kernels.
    fn output_tail(&self) -> Vec<String> {
        Vec::new()
    }
}

/// The shortest sample worth timing, in seconds: a kernel run shorter than this (measured
/// in the warm-up) is run several times back to back in every sample, and the sample's
/// time is the time per run — as criterion and hyperfine do for short benchmarks — so that
/// a scheduler's tick or a cold cache does not decide the figure.
pub const SAMPLE_FLOOR_S: f64 = 0.02;

/// The most kernel runs in one sample.
const MAX_INNER_RUNS: usize = 1000;

/// How many kernel runs a sample needs for a run that took `seconds` to last
/// [`SAMPLE_FLOOR_S`].
fn inner_runs_for(seconds: f64) -> usize {
    if !(seconds.is_finite() && seconds > 0.0) || seconds >= SAMPLE_FLOOR_S {
        return 1;
    }
    ((SAMPLE_FLOOR_S / seconds).ceil() as usize).clamp(1, MAX_INNER_RUNS)
}

/// One sample: `runs` kernel runs back to back; the time per run and the last run's
/// outputs.
fn sample(
    exec: &mut dyn Executor,
    kernel: &dyn Kernel,
    workers: usize,
    runs: usize,
) -> Result<(f64, Outputs), RunError> {
    let mut total = 0.0;
    let mut outputs = Outputs::new();
    for _ in 0..runs.max(1) {
        let (s, o) = exec.run(kernel, workers)?;
        total += s;
        outputs = o;
    }
    Ok((total / runs.max(1) as f64, outputs))
}

/// What a detected deadlock means for the sweep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDeadlock {
    /// The run ends with status `deadlock` (a deadlock is a bug being shown).
    #[default]
    EndRun,
    /// The deadlock is the measurement (the eager-limit sweep of `exchange`): the point is
    /// recorded as not completed and the sweep goes on.
    RecordPoint,
}

/// A sweep to run.
pub struct Plan<'a> {
    /// The run record (written first).
    pub run: RunRecord,
    /// Variants to compare, each with its kernel; `None` for experiments without variants.
    pub variants: Vec<(Option<String>, Box<dyn Kernel + 'a>)>,
    /// The law fitted to each variant's points: Amdahl (strong scaling) or Gustafson (weak
    /// scaling, which also makes speedups scaled) over worker counts, latency–bandwidth over
    /// message sizes; `None` fits nothing. Points have a speedup, efficiency and Karp–Flatt
    /// metric only under a scaling law (Amdahl or Gustafson).
    pub model: Option<Model>,
    /// CPUs available: more workers (ranks × threads) than this is oversubscribed.
    pub cpus: usize,
    /// Message sizes in bytes, each its own point for every worker count; empty when only
    /// the workers are swept.
    pub sizes: Vec<u64>,
    /// Whether a deadlock ends the run or is recorded as a point.
    pub on_deadlock: OnDeadlock,
    /// Threads per MPI rank, for runs on MPI ranks (1 for plain MPI): points then record
    /// `ranks` and `threads`. `None` for the thread backend.
    pub threads_per_rank: Option<usize>,
    /// Watches what else used the CPUs during each point (`other_busy`, `other_runs`);
    /// `None` records nothing of it (tests with scripted times).
    pub watch: Option<Watch>,
    /// The serial fraction the run was configured with (`amdahl`'s `serial`), which the
    /// fitted one is judged against.
    pub configured_serial: Option<f64>,
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

/// `2 workers` or `2 workers, 4096 B`, to start messages about a point.
fn point_name(n: usize, size: Option<u64>) -> String {
    let workers = format!("{n} worker{}", if n == 1 { "" } else { "s" });
    match size {
        Some(b) => format!("{workers}, {b} B"),
        None => workers,
    }
}

/// What a deadlock probe found, for the end record: the largest size that completed and
/// the smallest that deadlocked.
fn probe_summary(completed: &[u64], deadlocked: &[u64]) -> String {
    let largest = completed.iter().max();
    let smallest = deadlocked.iter().min();
    match (largest, smallest) {
        (Some(ok), Some(stuck)) if ok < stuck => format!(
            "largest size that completed: {ok} B{}; {stuck} B and larger deadlocked ({} of {} sizes tried)",
            if *stuck == ok + 1 {
                ", to the byte"
            } else {
                ""
            },
            deadlocked.len(),
            completed.len() + deadlocked.len()
        ),
        (Some(ok), Some(stuck)) => format!(
            "largest size that completed: {ok} B; smallest that deadlocked: {stuck} B (not a clean threshold: {} of {} sizes deadlocked)",
            deadlocked.len(),
            completed.len() + deadlocked.len()
        ),
        (Some(ok), None) => format!("every size completed, up to {ok} B"),
        (None, Some(stuck)) => format!("every size deadlocked, from {stuck} B"),
        (None, None) => "no size measured".to_owned(),
    }
}

/// The sizes of one worker count: each of a list in turn, a deadlock probe's choice (see
/// [`Probe`]), or one point without a size.
enum Sizes<'a> {
    Each(std::slice::Iter<'a, u64>),
    Probe(Probe),
    One(bool),
}

impl<'a> Sizes<'a> {
    fn new(sizes: &'a [u64], probing: bool) -> Self {
        if probing {
            Sizes::Probe(Probe::new(sizes.to_vec()))
        } else if sizes.is_empty() {
            Sizes::One(true)
        } else {
            Sizes::Each(sizes.iter())
        }
    }

    /// The next point's size: `Some(None)` for the one point without a size.
    fn next(&mut self) -> Option<Option<u64>> {
        match self {
            Sizes::Each(it) => it.next().map(|&s| Some(s)),
            Sizes::Probe(p) => p.next().map(Some),
            Sizes::One(left) => std::mem::take(left).then_some(None),
        }
    }

    /// How `size` ended, for a probe to choose the next one; returns how many more points
    /// the probe may try before and after learning it, for the progress estimate.
    fn record(&mut self, size: u64, completed: bool) -> Option<(usize, usize)> {
        let Sizes::Probe(p) = self else {
            return None;
        };
        let before = p.remaining_at_most().saturating_sub(1);
        p.record(size, completed);
        Some((before, p.remaining_at_most()))
    }
}

/// Speedup, efficiency and Karp–Flatt of a point against its 1-worker time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scaled {
    /// T(1)/T(N), or the scaled speedup N·T(1)/T(N) for weak scaling.
    pub speedup: f64,
    /// speedup / N.
    pub efficiency: f64,
    /// The Karp–Flatt serial fraction (strong scaling, N > 1).
    pub karp_flatt: Option<f64>,
}

impl Scaled {
    /// The point of `n` workers taking `t` against `t1` on one worker.
    pub fn new(t1: f64, t: f64, n: usize, weak: bool) -> Self {
        let speedup = if weak { n as f64 * t1 / t } else { t1 / t };
        Self {
            speedup,
            efficiency: speedup / n as f64,
            karp_flatt: if weak { None } else { karp_flatt(speedup, n) },
        }
    }
}

/// The fit record of one variant's points: Amdahl or Gustafson over `speedups` (workers,
/// speedup; oversubscribed points left out by the caller), latency–bandwidth over
/// `messages` (bytes, seconds). `None` when the model needs more points than there are.
pub fn fit_record(
    model: Option<Model>,
    variant: Option<String>,
    speedups: &[(usize, f64)],
    messages: &[(f64, f64)],
) -> Option<FitRecord> {
    let fit = match model {
        Some(model @ Model::Amdahl) => fit_amdahl(speedups).map(|f| (model, f, None)),
        Some(model @ Model::Gustafson) => fit_gustafson(speedups).map(|f| (model, f, None)),
        Some(model @ Model::LatencyBandwidth) => fit_latency_bandwidth(messages).map(|f| {
            let as_fit = Fit {
                serial_fraction: 0.0,
                rmse: f.rel_rmse,
                r2: f.r2,
                points: f.points,
            };
            (model, as_fit, Some((f.latency_s, f.bandwidth_bytes_s)))
        }),
        None => None,
    };
    fit.map(|(model, f, message_cost)| FitRecord {
        model,
        variant,
        serial_fraction: f.serial_fraction,
        rmse: f.rmse,
        r2: f.r2,
        points: f.points,
        latency_s: message_cost.map(|m| m.0),
        bandwidth_bytes_s: message_cost.map(|m| m.1),
        meaningful: true,
        caveat: None,
    })
}

/// Judges a scaling-law fit against the points of its variant (`all`; it was fitted to
/// those with a speedup, N > 1 and not oversubscribed) and the serial fraction the run was
/// configured with: sets `meaningful` and `caveat`.
///
/// Not meaningful: a point it was fitted to shared its CPUs (other work above
/// [`DISTURBED`](super::contention::DISTURBED), or another `hpc-tutor run`), s at a bound
/// of 0..=1, or r² below [`MIN_FIT_R2`](crate::chart::MIN_FIT_R2). Meaningful but doubted: a
/// fitted s more than [`CONFIGURED_GAP`] from the configured one, with its likely cause.
pub fn judge_fit(fit: &mut FitRecord, all: &[PointRecord], configured: Option<f64>) {
    if !fit.model.is_scaling_law() {
        return;
    }
    let shared: Vec<String> = all
        .iter()
        .filter(|p| p.workers > 1 && !p.oversubscribed && p.speedup.is_some())
        .filter_map(|p| p.disturbance().map(|d| format!("N = {} {d}", p.workers)))
        .collect();
    let s = fit.serial_fraction;
    let bound = crate::chart::FIT_BOUND_MARGIN;
    let why_not = if !shared.is_empty() {
        Some(format!(
            "not meaningful: {}; the fit measures the sharing, not the program",
            shared.join("; ")
        ))
    } else if s.is_finite() && (s <= bound || s >= 1.0 - bound) {
        Some(format!(
            "not meaningful: s at its bound {s:.2}: the law does not describe these points"
        ))
    } else {
        fit.r2
            .filter(|r2| r2.is_finite() && *r2 < crate::chart::MIN_FIT_R2)
            .map(|r2| format!("not meaningful: r² = {r2:.2}: the law does not match the points"))
    };
    fit.meaningful = why_not.is_none();
    let gap = configured
        .filter(|c| s.is_finite() && (s - c).abs() > CONFIGURED_GAP)
        .map(|c| {
            let cause = if all.iter().any(|p| p.disturbance().is_some()) {
                "other work shared the CPUs during the run"
            } else if all.iter().any(|p| p.oversubscribed) {
                "more workers than CPUs (oversubscribed points)"
            } else if all.iter().any(|p| p.reps > 0 && p.median_s < SHORT_REPETITION_S) {
                "too little work per repetition: start-up and synchronisation count as serial"
            } else if s > c {
                "overheads the configured serial part does not include (synchronisation, memory bandwidth, a busy machine)"
            } else {
                "timing noise, or work that shrank with more workers (caches)"
            };
            format!("fitted s = {s:.3} is {:.3} from the configured {c}: likely cause: {cause}", (s - c).abs())
        });
    fit.caveat = match (why_not, gap) {
        (Some(w), Some(g)) => Some(format!("{w}; {g}")),
        (w, g) => w.or(g),
    };
}

/// How far a fitted serial fraction may be from the configured one before the fit is
/// doubted.
pub const CONFIGURED_GAP: f64 = 0.1;

/// A repetition shorter than this is mostly start-up and synchronisation.
const SHORT_REPETITION_S: f64 = 0.01;

/// Runs the plan, sending every record to `sink`. Checks `cancel` between repetitions.
/// Returns how the run ended (also sent as the last record).
pub fn run_plan(
    mut plan: Plan<'_>,
    exec: &mut dyn Executor,
    sink: &mut Sink<'_>,
    cancel: &AtomicBool,
    mut on_progress: impl FnMut(Progress),
) -> Status {
    let start = Instant::now();
    let workers = plan.run.workers.clone();
    let (reps, warmup) = (plan.run.reps, plan.run.warmup);
    let weak = plan.model == Some(Model::Gustafson);
    let probing = plan.on_deadlock == OnDeadlock::RecordPoint && !plan.sizes.is_empty();
    let threads = plan.threads_per_rank;
    let points_per_count = if probing {
        Probe::new(plan.sizes.clone()).remaining_at_most()
    } else {
        plan.sizes.len().max(1)
    };
    // For a probe, an upper bound that shrinks to the truth as sizes are tried.
    let mut total = plan.variants.len() * workers.len() * points_per_count * (reps + warmup);
    let mut done = 0;
    // Deadlock probes: the sizes that completed and those that deadlocked.
    let (mut completed, mut deadlocked): (Vec<u64>, Vec<u64>) = (Vec::new(), Vec::new());
    let end =
        |sink: &mut Sink<'_>, exec: &dyn Executor, status: Status, message: Option<String>| {
            // The end record is best effort: if the sink is gone, nobody can read it anyway.
            let _ = sink(&Record::End(EndRecord {
                status,
                elapsed_s: start.elapsed().as_secs_f64(),
                output: exec.output_tail(),
                message,
            }));
            status
        };
    let write_failed = |e: std::io::Error| Some(format!("cannot write results: {e}"));
    if let Err(e) = sink(&Record::Run(plan.run.clone())) {
        return end(sink, &*exec, Status::Failed, write_failed(e));
    }

    for (variant, kernel) in &plan.variants {
        // This variant's points, for judging its fit.
        let mut points: Vec<PointRecord> = Vec::new();
        let mut speedups: Vec<(usize, f64)> = Vec::new();
        let mut messages: Vec<(f64, f64)> = Vec::new();
        // The 1-worker time of each size, the base of the speedups.
        let mut base: Vec<(Option<u64>, f64)> = Vec::new();
        for &n in &workers {
            let mut sizes = Sizes::new(&plan.sizes, probing);
            while let Some(size) = sizes.next() {
                let spec = PointSpec {
                    workers: n,
                    variant: variant.as_deref(),
                    size,
                };
                let setup_s = match exec.setup(&spec) {
                    Ok(s) => s,
                    Err(_) if cancel.load(Ordering::Relaxed) => {
                        return end(
                            sink,
                            &*exec,
                            Status::Cancelled,
                            Some("cancelled".to_owned()),
                        );
                    }
                    Err(e) => {
                        return end(
                            sink,
                            &*exec,
                            Status::Failed,
                            Some(format!("{}: {e}", point_name(n, size))),
                        );
                    }
                };
                let oversubscribed = n * threads.unwrap_or(1) > plan.cpus;
                let watching = plan.watch.as_mut().map(Watch::begin);
                let mut times = Vec::with_capacity(reps);
                let mut outputs = Outputs::new();
                let mut stuck: Option<f64> = None;
                // Kernel runs per timed sample, set by the last warm-up.
                let mut inner = 1;
                // The repetitions' values of the outputs that stand as their median.
                let mut per_rep: Vec<(Output, Vec<f64>)> = kernel
                    .median_outputs()
                    .iter()
                    .map(|&o| (o, Vec::with_capacity(reps)))
                    .collect();
                for i in 0..warmup + reps {
                    if cancel.load(Ordering::Relaxed) {
                        return end(
                            sink,
                            &*exec,
                            Status::Cancelled,
                            Some("cancelled".to_owned()),
                        );
                    }
                    let runs = if i < warmup { 1 } else { inner };
                    let (seconds, out) = match sample(exec, kernel.as_ref(), n, runs) {
                        Ok(r) => r,
                        // Stopped because the run was cancelled: that is how it ended.
                        Err(RunError::Failed(_)) if cancel.load(Ordering::Relaxed) => {
                            return end(
                                sink,
                                &*exec,
                                Status::Cancelled,
                                Some("cancelled".to_owned()),
                            );
                        }
                        Err(RunError::Failed(e)) => {
                            return end(
                                sink,
                                &*exec,
                                Status::Failed,
                                Some(format!("{}: {e}", point_name(n, size))),
                            );
                        }
                        Err(RunError::Deadlock(mut d)) => {
                            d.workers = n;
                            d.variant = variant.clone();
                            let who = point_name(n, size);
                            // Each with its host where the ranks said (several nodes).
                            let named: Vec<String> = d
                                .cycle
                                .iter()
                                .map(|c| {
                                    match d
                                        .waits
                                        .iter()
                                        .find(|w| &w.who == c)
                                        .and_then(|w| w.host.as_ref())
                                    {
                                        Some(h) => format!("{c} on {h}"),
                                        None => c.clone(),
                                    }
                                })
                                .collect();
                            let message = match named.as_slice() {
                                [] => format!("{who}: no progress for {:.1} s", d.stalled_s),
                                [.., last] if named.len() > 1 => format!(
                                    "{who}: deadlock, {} and {last} wait for each other",
                                    named[..named.len() - 1].join(", ")
                                ),
                                one => format!("{who}: deadlock, {} waits for itself", one[0]),
                            };
                            let stalled = d.stalled_s;
                            if plan.on_deadlock == OnDeadlock::EndRun {
                                // Best effort like the end record: the run ends as a
                                // deadlock either way.
                                let _ = sink(&Record::Diagnosis(*d));
                                return end(sink, &*exec, Status::Deadlock, Some(message));
                            }
                            if let Err(e) = sink(&Record::Diagnosis(*d)) {
                                return end(sink, &*exec, Status::Failed, write_failed(e));
                            }
                            // The rest of this point's runs will not happen.
                            total -= warmup + reps - i - 1;
                            done += 1;
                            on_progress(Progress { done, total });
                            stuck = Some(stalled);
                            break;
                        }
                    };
                    let is_warmup = i < warmup;
                    if i + 1 == warmup && exec.batches() {
                        inner = inner_runs_for(seconds);
                    }
                    let record = Record::Sample(SampleRecord {
                        workers: n,
                        variant: variant.clone(),
                        rep: if is_warmup { i } else { i - warmup },
                        warmup: is_warmup,
                        seconds,
                        inner_runs: runs,
                    });
                    if let Err(e) = sink(&record) {
                        return end(sink, &*exec, Status::Failed, write_failed(e));
                    }
                    if !is_warmup {
                        times.push(seconds);
                        for (o, values) in &mut per_rep {
                            values.extend(out.output(*o));
                        }
                        outputs = out;
                    }
                    done += 1;
                    on_progress(Progress { done, total });
                }
                let (other_busy, other_runs) = match (&mut plan.watch, &watching) {
                    (Some(w), Some(p)) => w.end(p),
                    _ => (None, 0),
                };
                let point = if let Some(stalled) = stuck {
                    if let Some(b) = size {
                        deadlocked.push(b);
                        outputs.set_output(Output::SizeBytes, b as f64);
                    }
                    outputs.set_output(Output::Completed, 0.0);
                    // No timed repetition completed: the times are how long the workers
                    // went without progress before they were stopped.
                    PointRecord {
                        workers: n,
                        variant: variant.clone(),
                        reps: 0,
                        median_s: stalled,
                        min_s: stalled,
                        max_s: stalled,
                        ci95_s: [stalled, stalled],
                        outliers: 0,
                        speedup: None,
                        efficiency: None,
                        karp_flatt: None,
                        oversubscribed,
                        setup_s,
                        outputs,
                        ranks: threads.map(|_| n),
                        threads,
                        other_busy,
                        other_runs,
                        inner_runs: 1,
                        hosts: exec.hosts(),
                    }
                } else {
                    let s = summarize(&times);
                    for (o, values) in &per_rep {
                        if !values.is_empty() {
                            outputs.set_output(*o, super::stats::median(values));
                        }
                    }
                    if let Some((name, items)) = kernel.ns_per_item(n)
                        && items > 0
                    {
                        outputs.insert(name.to_owned(), s.median / items as f64 * 1e9);
                    }
                    kernel.point_outputs(s.median, &mut outputs);
                    if plan.on_deadlock == OnDeadlock::RecordPoint {
                        if let Some(b) = size {
                            completed.push(b);
                        }
                        outputs.set_output(Output::Completed, 1.0);
                    }
                    if let Some(b) = size {
                        messages.push((b as f64, s.median));
                    }
                    if n == 1 && plan.model.is_some_and(Model::is_scaling_law) {
                        base.push((size, s.median));
                    }
                    let scaled = base
                        .iter()
                        .find(|(b, _)| *b == size)
                        .map(|&(_, t1)| Scaled::new(t1, s.median, n, weak));
                    let speedup = scaled.map(|x| x.speedup);
                    // Oversubscribed points measure CPUs being shared, not the program's
                    // serial part: they are shown, but the model is fitted to the others.
                    if let Some(sp) = speedup
                        && !oversubscribed
                    {
                        speedups.push((n, sp));
                    }
                    PointRecord {
                        workers: n,
                        variant: variant.clone(),
                        reps: s.n,
                        median_s: s.median,
                        min_s: s.min,
                        max_s: s.max,
                        ci95_s: s.ci95,
                        outliers: s.outlier.iter().filter(|o| **o).count(),
                        speedup,
                        efficiency: scaled.map(|x| x.efficiency),
                        karp_flatt: scaled.and_then(|x| x.karp_flatt),
                        oversubscribed,
                        setup_s,
                        outputs,
                        ranks: threads.map(|_| n),
                        threads,
                        other_busy,
                        other_runs,
                        inner_runs: inner,
                        hosts: exec.hosts(),
                    }
                };
                if let Some(b) = size
                    && let Some((before, after)) = sizes.record(b, stuck.is_none())
                {
                    // The probe now knows better how many sizes are left.
                    total =
                        (total + after * (reps + warmup)).saturating_sub(before * (reps + warmup));
                    on_progress(Progress { done, total });
                }
                let sent = sink(&Record::Point(point.clone()));
                points.push(point);
                if let Err(e) = sent {
                    return end(sink, &*exec, Status::Failed, write_failed(e));
                }
            }
        }
        if let Some(mut r) = fit_record(plan.model, variant.clone(), &speedups, &messages) {
            judge_fit(&mut r, &points, plan.configured_serial);
            let r = Record::Fit(r);
            if let Err(e) = sink(&r) {
                return end(sink, &*exec, Status::Failed, write_failed(e));
            }
        }
    }
    let summary = probing.then(|| probe_summary(&completed, &deadlocked));
    end(sink, &*exec, Status::Ok, summary)
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
        fn setup(&mut self, _point: &PointSpec<'_>) -> Result<f64, String> {
            Ok(0.001)
        }
        fn run(&mut self, _k: &dyn Kernel, n: usize) -> Result<(f64, Outputs), RunError> {
            self.calls += 1;
            if self.fail_at == Some(self.calls) {
                return Err(RunError::Failed("boom".into()));
            }
            let jitter = [1.0, 1.01, 0.99, 1.02, 0.98][self.calls % 5];
            let t = self.t1 * (self.serial + (1.0 - self.serial) / n as f64) * jitter;
            Ok((t, Outputs::from([(Output::Estimate.key().to_owned(), 3.0)])))
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
                mpi: None,
                caches: Vec::new(),
                hosts: Vec::new(),
            },
            started_at: "2026-11-22T00:00:00Z".into(),
            merged_from: Vec::new(),
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
            model: Some(Model::Amdahl),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
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
            model: Some(Model::Amdahl),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
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
        assert_eq!(e.message.as_deref(), Some("1 worker: boom"));
    }

    #[test]
    fn weak_scaling_reports_scaled_speedup_and_fits_gustafson() {
        struct Constant;
        impl Executor for Constant {
            fn setup(&mut self, _: &PointSpec<'_>) -> Result<f64, String> {
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
            model: Some(Model::Gustafson),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
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
            fn setup(&mut self, _: &PointSpec<'_>) -> Result<f64, String> {
                Ok(0.0)
            }
            fn run(&mut self, _: &dyn Kernel, _: usize) -> Result<(f64, Outputs), RunError> {
                let w = |who: &str, other: &str, holds: &str, wants: &str| WaitRecord {
                    who: who.into(),
                    holds: vec![holds.into()],
                    waits_for: Some(wants.into()),
                    held_by: Some(other.into()),
                    last_action: None,
                    host: None,
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
            model: Some(Model::Amdahl),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
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
            model: Some(Model::Amdahl),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
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

    /// Messages: T(n) = 1 µs + n / (1 GB/s); sizes above `stuck_from` deadlock. Records
    /// every point it was set up for.
    struct Wire {
        size: Option<u64>,
        stuck_from: u64,
        seen: Vec<(usize, Option<String>, Option<u64>)>,
    }

    impl Executor for Wire {
        fn setup(&mut self, p: &PointSpec<'_>) -> Result<f64, String> {
            self.size = p.size;
            self.seen
                .push((p.workers, p.variant.map(str::to_owned), p.size));
            Ok(0.5)
        }
        fn run(&mut self, _: &dyn Kernel, n: usize) -> Result<(f64, Outputs), RunError> {
            let b = self.size.unwrap_or(0);
            if b >= self.stuck_from {
                let w = |who: &str, other: &str| crate::record::WaitRecord {
                    who: who.into(),
                    holds: vec![],
                    waits_for: Some(format!("send to {other}, {b} B, tag 0")),
                    held_by: Some(other.into()),
                    last_action: None,
                    host: None,
                };
                return Err(RunError::Deadlock(Box::new(DiagnosisRecord::new(
                    n,
                    2.0,
                    vec![w("rank 0", "rank 1"), w("rank 1", "rank 0")],
                ))));
            }
            Ok((
                1e-6 + b as f64 / 1e9,
                Outputs::from([(Output::SizeBytes.key().to_owned(), b as f64)]),
            ))
        }
    }

    #[test]
    fn a_size_sweep_has_a_point_per_size_and_fits_latency_and_bandwidth() {
        let plan = Plan {
            run: run_record(vec![2], 3, 1),
            variants: vec![(None, Box::new(crate::kernel::pingpong::OneWay))],
            model: Some(Model::LatencyBandwidth),
            cpus: 2,
            sizes: vec![1, 1024, 1 << 20],
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: Some(1),
            watch: None,
            configured_serial: None,
        };
        let mut wire = Wire {
            size: None,
            stuck_from: u64::MAX,
            seen: Vec::new(),
        };
        let (status, recs) = collect(plan, &mut wire, &AtomicBool::new(false));
        assert_eq!(status, Status::Ok);
        assert_eq!(
            wire.seen,
            [
                (2, None, Some(1)),
                (2, None, Some(1024)),
                (2, None, Some(1 << 20))
            ]
        );
        let points: Vec<&PointRecord> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some(p),
                _ => None,
            })
            .collect();
        assert_eq!(points.len(), 3);
        for p in &points {
            assert_eq!((p.workers, p.ranks, p.threads), (2, Some(2), Some(1)));
            assert_eq!(p.speedup, None, "no scaling law, no speedup");
            let b = p.outputs["size_bytes"];
            assert!((p.outputs["latency_us"] - (1.0 + b / 1e3)).abs() < 1e-9);
            assert!(p.outputs["bandwidth_mb_s"] > 0.0);
        }
        let Some(Record::Fit(f)) = recs.iter().find(|r| matches!(r, Record::Fit(_))) else {
            panic!("a fit")
        };
        assert_eq!(f.model, Model::LatencyBandwidth);
        assert!((f.latency_s.expect("α") - 1e-6).abs() < 1e-12, "{f:?}");
        assert!((f.bandwidth_bytes_s.expect("β") / 1e9 - 1.0).abs() < 1e-9);
        assert!(matches!(recs.last(), Some(Record::End(e)) if e.message.is_none()));
    }

    #[test]
    fn a_deadlock_probe_records_each_deadlocked_size_and_ends_ok() {
        let plan = Plan {
            run: run_record(vec![2], 2, 1),
            variants: vec![(None, Box::new(Nothing))],
            model: None,
            cpus: 2,
            sizes: vec![1, 2, 4, 8],
            on_deadlock: OnDeadlock::RecordPoint,
            threads_per_rank: Some(1),
            watch: None,
            configured_serial: None,
        };
        let mut wire = Wire {
            size: None,
            stuck_from: 4,
            seen: Vec::new(),
        };
        let mut progress = Progress { done: 0, total: 0 };
        let mut recs = Vec::new();
        let status = run_plan(
            plan,
            &mut wire,
            &mut |r: &Record| {
                recs.push(r.clone());
                Ok(())
            },
            &AtomicBool::new(false),
            |p| progress = p,
        );
        assert_eq!(status, Status::Ok, "a deadlock is what a probe measures");
        // The ladder to the first deadlock, the bisection between 2 and 4, one sample above.
        assert_eq!(wire.seen.len(), 5, "{:?}", wire.seen);
        assert_eq!((progress.done, progress.total), (11, 11));
        let done: Vec<(f64, f64, usize)> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some((p.outputs["size_bytes"], p.outputs["completed"], p.reps)),
                _ => None,
            })
            .collect();
        assert_eq!(
            done,
            [
                (1.0, 1.0, 2),
                (2.0, 1.0, 2),
                (4.0, 0.0, 0),
                (3.0, 1.0, 2),
                (8.0, 0.0, 0)
            ]
        );
        let diagnoses = recs
            .iter()
            .filter(|r| matches!(r, Record::Diagnosis(d) if d.cycle.len() == 2))
            .count();
        assert_eq!(diagnoses, 2, "one diagnosis per deadlocked size");
        assert!(!recs.iter().any(|r| matches!(r, Record::Fit(_))));
        let Some(Record::End(e)) = recs.last() else {
            panic!("ends")
        };
        assert_eq!(
            e.message.as_deref(),
            Some(
                "largest size that completed: 3 B, to the byte; 4 B and larger deadlocked (2 of 5 sizes tried)"
            )
        );
    }

    fn point_at(workers: usize, median_s: f64, other_busy: Option<f64>) -> PointRecord {
        PointRecord {
            workers,
            variant: None,
            reps: 5,
            median_s,
            min_s: median_s,
            max_s: median_s,
            ci95_s: [median_s, median_s],
            outliers: 0,
            speedup: Some(1.0),
            efficiency: Some(1.0),
            karp_flatt: None,
            oversubscribed: false,
            setup_s: 0.0,
            outputs: Outputs::new(),
            ranks: None,
            threads: None,
            other_busy,
            other_runs: 0,
            inner_runs: 1,
            hosts: Vec::new(),
        }
    }

    fn amdahl_fit(s: f64, r2: Option<f64>) -> FitRecord {
        FitRecord {
            model: Model::Amdahl,
            variant: None,
            serial_fraction: s,
            rmse: 0.01,
            r2,
            points: 1,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        }
    }

    #[test]
    fn a_fit_to_points_that_shared_their_cpus_means_nothing_and_says_why() {
        let (p1, p2) = (point_at(1, 1.0, Some(0.02)), point_at(2, 0.9, Some(0.43)));
        let mut f = amdahl_fit(0.8, None);
        judge_fit(&mut f, &[p1.clone(), p2.clone()], Some(0.3));
        assert!(!f.meaningful);
        let c = f.caveat.expect("a caveat");
        assert!(
            c.contains("N = 2 shared its CPUs: 43 % busy with other work"),
            "{c}"
        );
        assert!(
            c.contains("0.500 from the configured 0.3: likely cause: other work shared the CPUs"),
            "{c}"
        );
    }

    #[test]
    fn fits_at_a_bound_off_the_points_or_far_from_the_configured_s_are_flagged() {
        let (p1, p2) = (point_at(1, 1.0, Some(0.0)), point_at(2, 0.6, Some(0.0)));
        let mut f = amdahl_fit(1.0, None);
        judge_fit(&mut f, &[p1.clone(), p2.clone()], None);
        assert!(!f.meaningful);
        assert!(f.caveat.expect("why").contains("s at its bound 1.00"));
        let mut f = amdahl_fit(0.3, Some(0.1));
        judge_fit(&mut f, &[p1.clone(), p2.clone()], None);
        assert!(!f.meaningful && f.caveat.expect("why").contains("r² = 0.10"));
        // Meaningful, but far from what was configured: with repetitions of 2 ms, the
        // likely cause is too little work.
        let (q1, q2) = (point_at(1, 0.002, None), point_at(2, 0.0015, None));
        let mut f = amdahl_fit(0.45, Some(0.9));
        judge_fit(&mut f, &[q1.clone(), q2.clone()], Some(0.3));
        assert!(f.meaningful);
        assert!(
            f.caveat
                .expect("doubt")
                .contains("too little work per repetition")
        );
        // Close to the configured one, undisturbed: nothing to say.
        let mut f = amdahl_fit(0.32, Some(0.9));
        judge_fit(&mut f, &[p1.clone(), p2.clone()], Some(0.3));
        assert!(f.meaningful && f.caveat.is_none());
    }

    #[test]
    fn short_kernel_runs_are_batched_to_a_sample_of_the_floor() {
        assert_eq!(inner_runs_for(0.5), 1);
        assert_eq!(inner_runs_for(0.001), 20);
        assert_eq!(inner_runs_for(1e-9), MAX_INNER_RUNS);
        assert_eq!(inner_runs_for(0.0), 1, "no time measured: one run");
        let plan = Plan {
            run: run_record(vec![1, 2], 3, 1),
            variants: vec![(None, Box::new(Nothing))],
            model: Some(Model::Amdahl),
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: None,
            watch: None,
            configured_serial: None,
            cpus: 2,
        };
        // 1 ms per run on one worker (with a jitter of 2 %).
        let mut fake = Fake {
            t1: 0.001,
            serial: 0.2,
            calls: 0,
            fail_at: None,
        };
        let (status, recs) = collect(plan, &mut fake, &AtomicBool::new(false));
        assert_eq!(status, Status::Ok);
        let samples: Vec<&SampleRecord> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Sample(s) => Some(s),
                _ => None,
            })
            .collect();
        // The warm-up runs once and decides: ceil(20 ms / ~1 ms) runs per timed sample.
        assert!(
            samples
                .iter()
                .filter(|s| s.warmup)
                .all(|s| s.inner_runs == 1)
        );
        let timed: Vec<(usize, usize)> = samples
            .iter()
            .filter(|s| !s.warmup)
            .map(|s| (s.workers, s.inner_runs))
            .collect();
        // 1 ms on one worker: 20 runs; 0.6 ms on two: 34.
        assert!(
            timed.iter().all(|&(n, k)| match n {
                1 => (19..=21).contains(&k),
                _ => (32..=36).contains(&k),
            }),
            "{timed:?}"
        );
        // Times stay per kernel run.
        assert!(samples.iter().all(|s| s.seconds < 0.0011), "{samples:?}");
        let total_inner: usize = timed.iter().map(|t| t.1).sum();
        assert_eq!(fake.calls, 2 + total_inner, "warm-ups plus every inner run");
        let points: Vec<usize> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some(p.inner_runs),
                _ => None,
            })
            .collect();
        assert!(points.iter().all(|&k| k > 1), "{points:?}");
    }

    #[test]
    fn probe_summaries_say_what_was_found() {
        assert_eq!(
            probe_summary(&[1, 2], &[]),
            "every size completed, up to 2 B"
        );
        assert_eq!(
            probe_summary(&[], &[1, 2]),
            "every size deadlocked, from 1 B"
        );
        assert!(probe_summary(&[1, 8], &[4]).contains("not a clean threshold"));
    }

    #[test]
    fn variants_reach_the_executor_and_ranks_times_threads_oversubscribe() {
        let plan = Plan {
            run: run_record(vec![1, 2], 1, 0),
            variants: vec![
                (Some("gather".into()), Box::new(Nothing) as Box<dyn Kernel>),
                (Some("reduce".into()), Box::new(Nothing)),
            ],
            model: Some(Model::Amdahl),
            cpus: 2,
            sizes: Vec::new(),
            on_deadlock: OnDeadlock::EndRun,
            threads_per_rank: Some(2),
            watch: None,
            configured_serial: None,
        };
        let mut wire = Wire {
            size: None,
            stuck_from: u64::MAX,
            seen: Vec::new(),
        };
        let (_, recs) = collect(plan, &mut wire, &AtomicBool::new(false));
        assert_eq!(
            wire.seen,
            [
                (1, Some("gather".into()), None),
                (2, Some("gather".into()), None),
                (1, Some("reduce".into()), None),
                (2, Some("reduce".into()), None)
            ]
        );
        let over: Vec<(usize, bool)> = recs
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some((p.workers, p.oversubscribed)),
                _ => None,
            })
            .collect();
        // 2 ranks × 2 threads on 2 CPUs.
        assert_eq!(over, [(1, false), (2, true), (1, false), (2, true)]);
    }
}
