//! `hpc-tutor bench`: how fast are our own kernels on this machine?
//!
//! Reports which vector path the kernels chose ([`Path::best`]: AVX-512, AVX2 or the
//! baseline SSE2), the single-thread throughput of mc-pi on that path and on the baseline
//! with their counts (which must be the same), and next to them the course's NumPy kernel
//! (our own Python with the same operations), in alternating rounds; then the trapezoid
//! kernel on both paths and the work unit; the parallel efficiency of `mc-pi` at its
//! default size on 2 workers; and, for `race` at 2 threads, the time per increment of every
//! variant and the updates the unsynchronized one lost. Targets (from the project's issues)
//! are printed next to the measurements; they are benchmarks, not tests. Lost updates are
//! a timing property too: they belong here, not in the tests. The load average is printed
//! at the start and the end: figures taken on a busy machine say little.
//!
//! The efficiency on 2 workers comes from alternating rounds of `hpc-tutor run mc-pi
//! --workers 1,2` (what a learner's run measures), reported as the median over rounds with
//! the range, over all rounds and over the quiet ones (other work at most [`QUIET`] of the
//! CPUs, as each run records it): on a shared machine one run's figure says little. The
//! single-thread rounds say how busy the CPUs were with other work too. Built with the `mpi`
//! feature and with `mpirun` on `PATH` (or `srun` inside an allocation), each round also
//! runs it on MPI ranks, right after the threads: parallel efficiency from kernel times,
//! throughput per rank against a thread's, and the time of 10^8 samples on 2 ranks next to
//! the course's mpi4py version.

use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use crate::backend::threads::Threads;
use crate::cli::{BenchArgs, BenchPart};
use crate::cluster::SystemInfo;
use crate::kernel::amdahl::Amdahl;
use crate::kernel::integral::Integral;
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::race::{self, Race};
use crate::kernel::simd::Path;
use crate::kernel::{Kernel, Outputs, Partial};
use crate::measure::protocol::{Executor, PointSpec};
use crate::measure::stats::median;

/// `println!` through the checked standard output: a line, written out at once; a failed
/// write returns its error from the function.
macro_rules! say {
    ($($arg:tt)*) => {
        crate::stdout::print(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// Rounds of the single-thread comparison: each round measures mc-pi on the chosen path,
/// on the baseline and in NumPy one after the other, so that all see the machine alike.
const PATH_ROUNDS: usize = 5;

/// Rounds of the 2-worker comparison (threads, then MPI ranks when there are any).
const SCALING_ROUNDS: usize = 6;

/// mc-pi on one vector path; keeps the count of its last run.
struct McPiOn {
    kernel: McPi,
    path: Path,
    inside: AtomicU64,
}

impl Kernel for McPiOn {
    fn task(&self, index: usize, tasks: usize, workers: usize) -> Partial {
        self.kernel.task_on(self.path, index, tasks, workers)
    }

    fn finish(&self, serial: f64, partials: &[Partial], workers: usize) -> Outputs {
        let inside = partials.iter().map(|p| p.count).sum();
        self.inside.store(inside, Ordering::Relaxed);
        self.kernel.finish(serial, partials, workers)
    }
}

/// The trapezoid kernel on one vector path.
struct IntegralOn {
    kernel: Integral,
    path: Path,
}

impl Kernel for IntegralOn {
    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        self.kernel.task_on(self.path, index, tasks)
    }

    fn finish(&self, serial: f64, partials: &[Partial], workers: usize) -> Outputs {
        self.kernel.finish(serial, partials, workers)
    }
}

/// `median [min–max]` of `values`, with `digits` decimals.
pub(super) fn spread(values: &[f64], digits: usize) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.digits$} [{lo:.digits$}–{hi:.digits$}]", median(values))
}

/// The 1-, 5- and 15-minute load averages, where Linux tells them.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

/// The course's NumPy Monte Carlo π kernel, written anew with the same operations: uniform
/// doubles from NumPy's legacy generator (what `np.random.uniform` uses) stored as float32,
/// the distance from the origin through a square root, compared with 1, summed. It runs
/// 10^6 samples per call (NumPy's fastest size here: 10^8 at once, as the course's script
/// does for one core, is about half as fast) until `argv[1]` seconds have passed, at least
/// 10 calls after one to warm up, and prints the samples, the points inside and the
/// seconds. NumPy's element-wise operations use one thread.
const NUMPY_PI: &str = r#"
import sys, time
import numpy as np

def inside(n, rng):
    x = rng.uniform(0.0, 1.0, n).astype(np.float32)
    y = rng.uniform(0.0, 1.0, n).astype(np.float32)
    return int(np.sum(np.sqrt(x * x + y * y) <= 1.0))

seconds, chunk = float(sys.argv[1]), 1_000_000
rng = np.random.RandomState(42)
inside(chunk, rng)
drawn = hits = 0
start = time.perf_counter()
while drawn < 10 * chunk or time.perf_counter() - start < seconds:
    hits += inside(chunk, rng)
    drawn += chunk
print(drawn, hits, time.perf_counter() - start, np.__version__)
"#;

/// The samples per second of [`NUMPY_PI`] in `python3`, and NumPy's version; an error
/// says why it could not run.
fn numpy_rate(seconds: f64) -> Result<(f64, String), String> {
    let out = std::process::Command::new("python3")
        .args(["-c", NUMPY_PI, &seconds.to_string()])
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start python3: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let fields: Vec<&str> = stdout.split_whitespace().collect();
    match (out.status.success(), fields.as_slice()) {
        (true, [drawn, _, secs, version]) => {
            let drawn: f64 = drawn.parse().map_err(|_| format!("bad output: {stdout}"))?;
            let secs: f64 = secs.parse().map_err(|_| format!("bad output: {stdout}"))?;
            Ok((drawn / secs, (*version).to_owned()))
        }
        _ => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr.lines().rfind(|l| !l.trim().is_empty());
            Err(last.unwrap_or("no output").to_owned())
        }
    }
}

/// Runs `kernel` on `workers` threads: one warm-up, then repetitions until `seconds` have
/// passed (at least 3). Returns each repetition's time and outputs.
fn runs(
    exec: &mut Threads,
    kernel: &dyn Kernel,
    workers: usize,
    seconds: f64,
) -> anyhow::Result<Vec<(f64, Outputs)>> {
    exec.setup(&PointSpec::workers(workers))
        .map_err(anyhow::Error::msg)?;
    exec.run(kernel, workers)?; // warm-up
    let start = Instant::now();
    let mut out = Vec::new();
    while out.len() < 3 || start.elapsed().as_secs_f64() < seconds {
        out.push(exec.run(kernel, workers)?);
    }
    Ok(out)
}

/// The median time of [`runs`].
fn time_it(
    exec: &mut Threads,
    kernel: &dyn Kernel,
    workers: usize,
    seconds: f64,
) -> anyhow::Result<f64> {
    let times: Vec<f64> = runs(exec, kernel, workers, seconds)?
        .into_iter()
        .map(|r| r.0)
        .collect();
    Ok(median(&times))
}

/// Runs the benchmarks and prints the figures.
pub fn bench(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    if !(args.seconds.is_finite() && (0.1..=600.0).contains(&args.seconds)) {
        eprintln!(
            "hpc-tutor bench: --seconds must be from 0.1 to 600, not {}",
            args.seconds
        );
        return Ok(ExitCode::from(2));
    }
    let sys = SystemInfo::detect();
    let env = sys.environment();
    say!(
        "hpc-tutor {} bench on {} ({}, {} CPUs available)",
        env.version,
        env.host,
        env.cpu_model,
        env.cpus_available
    );
    if let Some(load) = load_average() {
        say!("load average at the start: {load} (1, 5, 15 min)");
    }
    let part = |p: BenchPart| args.only.is_empty() || args.only.contains(&p);
    let mut exec = Threads::new();
    let mut same = true;
    if part(BenchPart::Kernels) {
        same = kernels(&mut exec, args.seconds)?;
    }
    if part(BenchPart::Scaling) {
        scaling(&mut exec, &sys, args.seconds)?;
    }
    if part(BenchPart::Race) {
        race_costs(&mut exec, args.seconds)?;
    }
    if part(BenchPart::Program) {
        program_harness()?;
    }
    if part(BenchPart::Stream) {
        super::bench_limits::stream_vs_likwid(sys.cpus, args.seconds)?;
    }
    if part(BenchPart::Farm) {
        super::bench_limits::farm_overhead(args.seconds)?;
    }
    if let Some(load) = load_average() {
        say!("load average at the end: {load}");
    }
    Ok(if same {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The single-thread kernels: mc-pi's vector paths against the baseline and NumPy,
/// integral's paths, the work unit. Whether every path gave the same bits.
fn kernels(exec: &mut Threads, seconds: f64) -> anyhow::Result<bool> {
    let mut same = single_thread(exec, seconds)?;

    let integral = Integral {
        a: 0.0,
        b: 100.0,
        n: 100_000_000,
    };
    let mut rates = Vec::new();
    let mut values = Vec::new();
    for path in paths_to_measure() {
        let k = IntegralOn {
            kernel: integral.clone(),
            path,
        };
        let reps = runs(exec, &k, 1, seconds / 2.0)?;
        let times: Vec<f64> = reps.iter().map(|r| r.0).collect();
        rates.push(format!(
            "{:.1} M intervals/s on {}",
            integral.n as f64 / median(&times) / 1e6,
            path.name()
        ));
        values.extend(
            reps.iter()
                .filter_map(|r| r.1.get("value"))
                .map(|v| v.to_bits()),
        );
    }
    let values_agree = values.windows(2).all(|w| w[0] == w[1]);
    same &= values_agree;
    say!(
        "integral   1 thread : {}  ({} intervals; value {})",
        rates.join(", "),
        integral.n,
        if values_agree {
            "the same to the bit on every path"
        } else {
            "DIFFERS between paths: a bug"
        }
    );

    let amdahl = Amdahl {
        serial: 0.0,
        work: 200_000_000,
    };
    let t = time_it(exec, &amdahl, 1, seconds)?;
    say!(
        "work unit  1 thread : {:>8.2} ns per unit   (amdahl and imbalance kernels; no vector path: one chain of dependent steps)",
        t / amdahl.work as f64 * 1e9
    );

    Ok(same)
}

/// The race variants on 2 threads: time per increment, and lost updates.
fn race_costs(exec: &mut Threads, seconds: f64) -> anyhow::Result<()> {
    // The race at 2 threads (even on one CPU: then the threads take turns on it).
    let increments = race::DEFAULT_INCREMENTS;
    let workers = 2;
    let total = increments * workers as u64;
    say!("race       {workers} threads, {increments} increments each:");
    for variant in race::Variant::ALL {
        let k = Race::new(increments, variant);
        let reps = runs(exec, &k, workers, seconds)?;
        let times: Vec<f64> = reps.iter().map(|r| r.0).collect();
        let lost: Vec<f64> = reps
            .iter()
            .map(|r| r.1.get("lost_updates").copied().unwrap_or(0.0))
            .collect();
        let losing = lost.iter().filter(|l| **l > 0.0).count();
        let most = lost.iter().copied().fold(0.0, f64::max);
        let note = match (variant.synchronized(), losing) {
            (true, 0) => format!("lost none in {} runs", reps.len()),
            (true, _) => format!("LOST UPDATES in {losing} of {} runs: a bug", reps.len()),
            (false, _) => format!(
                "lost updates in {losing} of {} runs, median {:.0}, at most {most:.0} ({:.1} %)",
                reps.len(),
                median(&lost),
                100.0 * most / total as f64
            ),
        };
        say!(
            "  {:<14} {:>8.2} ns per increment   {note}",
            variant.name(),
            median(&times) / total as f64 * 1e9
        );
    }
    Ok(())
}

/// Rounds of the program-harness comparison, alternating with hyperfine.
const HARNESS_ROUNDS: usize = 5;
/// Timed runs of the command per round, after [`HARNESS_WARMUP`].
const HARNESS_RUNS: u32 = 40;
const HARNESS_WARMUP: u32 = 5;

/// What `run --exec` adds to a program's own wall time: the median wall time per run of a
/// tiny command through the product (`hpc-tutor run --exec`, one worker) against `hyperfine
/// -N` on the same command, alternating rounds (target: at most 2 ms more).
fn program_harness() -> anyhow::Result<()> {
    let hyperfine = crate::backend::launch::on_path("hyperfine");
    // Debian's python3 when there is one: a pyenv shim on PATH adds ~80 ms of its own,
    // with its own noise.
    let python = if std::path::Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3 -c pass"
    } else {
        "python3 -c pass"
    };
    for command in ["true", python] {
        let first = command.split(' ').next().unwrap_or(command);
        if crate::backend::program::resolve(first).is_err() {
            say!("program    `{command}`: skipped ({first} is not on PATH)");
            continue;
        }
        let (mut ours, mut theirs) = (Vec::new(), Vec::new());
        for _ in 0..HARNESS_ROUNDS {
            match harness_run(command) {
                Ok(t) => ours.push(t),
                Err(e) => {
                    say!("program    `{command}`: hpc-tutor run --exec failed: {e}");
                    break;
                }
            }
            if hyperfine {
                match hyperfine_median(command) {
                    Ok(t) => theirs.push(t),
                    Err(e) => say!("program    `{command}`: hyperfine failed: {e}"),
                }
            }
        }
        if ours.is_empty() {
            continue;
        }
        let ms = |v: &[f64]| format!("{:.3} ms [{}]", median(v) * 1e3, spread_ms(v));
        if theirs.is_empty() {
            say!(
                "program    `{command}`: hpc-tutor run --exec {} per run (median of {HARNESS_ROUNDS} rounds of {HARNESS_RUNS}); hyperfine not installed (apt-get install hyperfine) to compare",
                ms(&ours)
            );
        } else {
            say!(
                "program    `{command}`: hpc-tutor run --exec {} per run, hyperfine -N {}: {:+.3} ms (target ≤ 2 ms; median of {HARNESS_ROUNDS} alternating rounds of {HARNESS_RUNS} runs)",
                ms(&ours),
                ms(&theirs),
                (median(&ours) - median(&theirs)) * 1e3
            );
        }
    }
    Ok(())
}

/// `min–max` of seconds, in milliseconds.
fn spread_ms(v: &[f64]) -> String {
    let (lo, hi) = v.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), &x| {
        (lo.min(x), hi.max(x))
    });
    format!("{:.3}–{:.3}", lo * 1e3, hi * 1e3)
}

/// The median wall time per run of `command` through `hpc-tutor run --exec`, one worker.
fn harness_run(command: &str) -> Result<f64, String> {
    use crate::kernel::{Output, OutputsExt};
    let request = crate::experiment::RunRequest::check(
        "program",
        Some(crate::experiment::Backend::Threads),
        &[1],
        HARNESS_RUNS,
        HARNESS_WARMUP,
        &[format!("command={command}")],
    )
    .map_err(|e| e.to_string())?;
    let records = super::run::run_child(&request)?;
    records
        .iter()
        .find_map(|r| match r {
            crate::record::Record::Point(p) => p.outputs.output(Output::WallS),
            _ => None,
        })
        .ok_or_else(|| "no point".to_owned())
}

/// The median time of `command` by `hyperfine -N` (no shell), with the same runs.
fn hyperfine_median(command: &str) -> Result<f64, String> {
    let json = tempfile::NamedTempFile::new().map_err(|e| e.to_string())?;
    let out = std::process::Command::new("hyperfine")
        .args(["-N", "--style", "none", "--warmup"])
        .arg(HARNESS_WARMUP.to_string())
        .arg("--runs")
        .arg(HARNESS_RUNS.to_string())
        .arg("--export-json")
        .arg(json.path())
        .arg(command)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_owned());
    }
    let text = std::fs::read_to_string(json.path()).map_err(|e| e.to_string())?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    v["results"][0]["median"]
        .as_f64()
        .ok_or_else(|| "no median in hyperfine's JSON".to_owned())
}

/// The chosen path, then the baseline if that is another.
fn paths_to_measure() -> Vec<Path> {
    let best = Path::best();
    if best == Path::Baseline {
        vec![best]
    } else {
        vec![best, Path::Baseline]
    }
}

/// mc-pi on one thread: the chosen vector path, the baseline and the course's NumPy kernel
/// in [`PATH_ROUNDS`] alternating rounds, and whether the paths counted the same points.
fn single_thread(exec: &mut Threads, seconds: f64) -> anyhow::Result<bool> {
    let best = Path::best();
    let lacking: Vec<&str> = Path::ALL
        .into_iter()
        .filter(|p| !p.available())
        .map(Path::name)
        .collect();
    let lacking = if lacking.is_empty() {
        String::new()
    } else {
        format!("; not on this CPU: {}", lacking.join(", "))
    };
    if best == Path::Baseline {
        say!("mc-pi kernel: {} (the baseline{lacking})", best.name());
    } else {
        say!(
            "mc-pi kernel: {} (baseline {} also measured{lacking})",
            best.name(),
            Path::Baseline.name()
        );
    }
    let samples = 200_000_000;
    let kernels: Vec<McPiOn> = paths_to_measure()
        .into_iter()
        .map(|path| McPiOn {
            kernel: McPi {
                samples,
                mode: Mode::Strong,
                seed: 42,
            },
            path,
            inside: AtomicU64::new(0),
        })
        .collect();
    // Half of `--seconds` per path and round: several runs each, for a steadier median.
    let each = seconds / 2.0;
    let mut rates = vec![Vec::new(); kernels.len()];
    let mut numpy = Vec::new();
    let mut numpy_error = None;
    let mut numpy_version = String::new();
    let mut watch = crate::measure::contention::Watch::new(None, true);
    let mut other = Vec::new();
    for _ in 0..PATH_ROUNDS {
        let round = watch.begin();
        for (k, r) in kernels.iter().zip(&mut rates) {
            r.push(samples as f64 / time_it(exec, k, 1, each)? / 1e6);
        }
        if numpy_error.is_none() {
            match numpy_rate(each) {
                Ok((rate, version)) => {
                    numpy.push(rate / 1e6);
                    numpy_version = version;
                }
                Err(e) => numpy_error = Some(e),
            }
        }
        if let (Some(busy), _) = watch.end(&round) {
            other.push(busy * 100.0);
        }
    }
    say!(
        "mc-pi      1 thread : {} M samples/s on {}  (median [min–max] of {PATH_ROUNDS} alternating rounds of {samples} samples; target ≥ 1500)",
        spread(&rates[0], 1),
        best.name()
    );
    if let [chosen, baseline] = rates.as_slice() {
        let x: Vec<f64> = chosen.iter().zip(baseline).map(|(c, b)| c / b).collect();
        say!(
            "                      {} M samples/s on {}: {} is {}× as fast",
            spread(baseline, 1),
            Path::Baseline.name(),
            best.name(),
            spread(&x, 2)
        );
    }
    let counts: Vec<u64> = kernels
        .iter()
        .map(|k| k.inside.load(Ordering::Relaxed))
        .collect();
    let agree = counts.windows(2).all(|w| w[0] == w[1]);
    let names: Vec<&str> = kernels.iter().map(|k| k.path.name()).collect();
    if agree {
        say!(
            "           counts   : {} of {samples} inside on {}: the same",
            counts[0],
            names.join(" and ")
        );
    } else {
        say!(
            "           counts   : DIFFER: {counts:?} inside on {}: a bug",
            names.join(", ")
        );
    }
    if !other.is_empty() {
        say!(
            "           other work: {} % of the CPUs during the rounds (this process's own work not counted)",
            spread(&other, 0)
        );
    }
    match numpy_error {
        None => {
            let ratio: Vec<f64> = rates[0].iter().zip(&numpy).map(|(c, n)| c / n).collect();
            say!(
                "mc-pi      NumPy    : {} M samples/s (the course's kernel, python3, NumPy {numpy_version}, 10^6 samples a call, in the same rounds): {} is {}× as fast (target ≥ 30×)",
                spread(&numpy, 1),
                best.name(),
                spread(&ratio, 0)
            );
        }
        Some(e) => say!(
            "mc-pi      NumPy    : skipped, the course's kernel did not run in python3 ({e}); install NumPy (pip install numpy, or apt-get install python3-numpy) to compare"
        ),
    }
    Ok(agree)
}

/// The mpi4py version of the course takes about this long for 10^8 samples on 2 ranks.
#[cfg(feature = "mpi")]
const MPI4PY_1E8_ON_2_RANKS_S: f64 = 1.3;

/// Median kernel time of mc-pi on `ranks` MPI ranks: one launch, one warm-up, then `reps`
/// timed runs.
#[cfg(feature = "mpi")]
fn mpi_time(
    launcher: crate::backend::launch::Launcher,
    cpus: usize,
    samples: u64,
    ranks: usize,
    reps: usize,
) -> anyhow::Result<f64> {
    use crate::backend::launch::{LaunchSpec, MpiExecutor};
    let spec = LaunchSpec {
        launcher,
        experiment: "mc-pi".to_owned(),
        params: vec![format!("samples={samples}")],
        variant: None,
        cpus,
        deadline: std::time::Duration::from_secs(120),
        threads_per_rank: 1,
        size_param: None,
    };
    let mut exec = MpiExecutor::new(spec, reps + 1);
    exec.setup(&PointSpec::workers(ranks))
        .map_err(anyhow::Error::msg)?;
    let mut times = Vec::with_capacity(reps);
    for i in 0..=reps {
        let (t, _) = exec.run(&crate::kernel::Remote, ranks)?;
        if i > 0 {
            times.push(t);
        }
    }
    Ok(median(&times))
}

/// The 1- and 2-worker points of one `hpc-tutor run mc-pi --workers 1,2`.
#[derive(Debug, Clone, Copy)]
struct Pair {
    /// Median kernel times of the 1- and 2-worker points.
    t: [f64; 2],
    /// The larger share of the CPUs that other work used during the two points (the run's
    /// own processes subtracted; 1 when another `hpc-tutor run` went on; NaN when the run
    /// could not tell).
    other: f64,
}

impl Pair {
    /// Parallel efficiency on 2 workers.
    fn efficiency(&self) -> f64 {
        self.t[0] / self.t[1] / 2.0
    }
}

/// One round of the 2-worker comparison: `hpc-tutor run mc-pi --workers 1,2` on threads,
/// then on MPI ranks (when there are any).
struct Round {
    threads: Pair,
    /// Read by the MPI lines only: always `None` in a build without MPI.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    ranks: Option<Pair>,
}

/// Other work at most this share of the CPUs during both points of a run: a quiet round.
const QUIET: f64 = 0.05;

/// The 1- and 2-worker points of `hpc-tutor run mc-pi --backend BACKEND --workers 1,2`:
/// exactly what a learner's run measures (default size, warm-up and repetitions, each MPI
/// point its own launch), with the contention the run recorded.
fn product_run(backend: &str) -> anyhow::Result<Pair> {
    use crate::record::Record;
    let request = crate::experiment::RunRequest::check(
        "mc-pi",
        crate::experiment::Backend::from_name(backend),
        &[1, 2],
        crate::experiment::request::DEFAULT_REPS,
        crate::experiment::request::DEFAULT_WARMUP,
        &[],
    )
    .map_err(anyhow::Error::msg)?;
    let records = super::run::run_child(&request).map_err(anyhow::Error::msg)?;
    let mut pair = Pair {
        t: [f64::NAN; 2],
        other: 0.0,
    };
    for r in records {
        if let Record::Point(p) = r
            && (1..=2).contains(&p.workers)
        {
            pair.t[p.workers - 1] = p.median_s;
            let other = match (p.other_runs, p.other_busy) {
                (0, Some(busy)) => busy,
                (0, None) => f64::NAN,
                _ => 1.0,
            };
            pair.other = if other.is_nan() || pair.other.is_nan() {
                f64::NAN
            } else {
                pair.other.max(other)
            };
        }
    }
    if pair.t.iter().any(|v| !v.is_finite()) {
        anyhow::bail!(
            "hpc-tutor run mc-pi --backend {backend} --workers 1,2 measured no 1- and 2-worker points"
        );
    }
    Ok(pair)
}

/// The efficiency line of `pairs`: over all rounds, then over the quiet ones, and how busy
/// the CPUs were with other work.
fn efficiency_line(pairs: &[Pair]) -> String {
    let all: Vec<f64> = pairs.iter().map(Pair::efficiency).collect();
    let quiet: Vec<f64> = pairs
        .iter()
        .filter(|p| p.other <= QUIET)
        .map(Pair::efficiency)
        .collect();
    let other: Vec<f64> = pairs
        .iter()
        .map(|p| p.other * 100.0)
        .filter(|o| o.is_finite())
        .collect();
    let quiet = if quiet.is_empty() {
        "no round was quiet".to_owned()
    } else {
        format!(
            "{} in the {} quiet round{}",
            spread(&quiet, 3),
            quiet.len(),
            if quiet.len() == 1 { "" } else { "s" }
        )
    };
    let other = if other.is_empty() {
        String::new()
    } else {
        format!("; other work {} % of the CPUs", spread(&other, 0))
    };
    format!("{} in all {}, {quiet}{other}", spread(&all, 3), pairs.len())
}

/// Pairs of [`paired_efficiency`].
const PAIRS: usize = 30;

/// mc-pi at its default size on 1 thread, then at once on 2, `pairs` times, each on a pool
/// of its own built beforehand: the efficiency of each pair. On a virtual machine whose
/// speed drifts from second to second (its host's other guests), the two runs of a pair,
/// a tenth of a second apart, see nearly the same machine.
fn paired_efficiency(pairs: usize) -> anyhow::Result<Vec<f64>> {
    let mc = McPi {
        samples: 200_000_000,
        mode: Mode::Strong,
        seed: 42,
    };
    let mut one = Threads::new();
    let mut two = Threads::new();
    one.setup(&PointSpec::workers(1))
        .map_err(anyhow::Error::msg)?;
    two.setup(&PointSpec::workers(2))
        .map_err(anyhow::Error::msg)?;
    one.run(&mc, 1)?; // warm-up
    two.run(&mc, 2)?;
    let mut out = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        let (t1, _) = one.run(&mc, 1)?;
        let (t2, _) = two.run(&mc, 2)?;
        out.push(t1 / t2 / 2.0);
    }
    Ok(out)
}

/// The launcher for MPI ranks, when this build has MPI and the launcher is on `PATH`;
/// otherwise why not, as a line to print.
#[cfg(feature = "mpi")]
pub(super) fn mpi_launcher() -> Result<crate::backend::launch::Launcher, String> {
    use crate::backend::launch::{Launcher, on_path};
    let launcher = Launcher::default_here();
    if on_path(launcher.name()) {
        Ok(launcher)
    } else {
        Err(format!("`{}` is not on PATH", launcher.name()))
    }
}

/// mc-pi's parallel efficiency at its default size: on all CPUs in this process when there
/// are more than 2, then on 2 threads and 2 MPI ranks in [`SCALING_ROUNDS`] alternating
/// rounds of the product's own runs, every figure a median over rounds with its range.
fn scaling(exec: &mut Threads, sys: &SystemInfo, seconds: f64) -> anyhow::Result<()> {
    let samples = 200_000_000;
    let n = sys.cpus;
    if n > 2 {
        let mc = McPi {
            samples,
            mode: Mode::Strong,
            seed: 42,
        };
        let t1 = time_it(exec, &mc, 1, seconds)?;
        let tn = time_it(exec, &mc, n, seconds)?;
        let s = t1 / tn;
        say!(
            "mc-pi      {n} threads: speedup {s:.2}, efficiency {:.3}  (default size, in this process)",
            s / n as f64
        );
    }
    #[cfg(feature = "mpi")]
    let launcher = mpi_launcher();
    #[cfg(not(feature = "mpi"))]
    let launcher: Result<(), String> =
        Err("this build has no MPI (cargo build --features mpi)".to_owned());
    let mut rounds = Vec::with_capacity(SCALING_ROUNDS);
    for _ in 0..SCALING_ROUNDS {
        rounds.push(Round {
            threads: product_run("threads")?,
            ranks: match launcher {
                Ok(_) => Some(product_run("mpi")?),
                Err(_) => None,
            },
        });
    }
    match &launcher {
        Ok(_) => say!(
            "mc-pi      2 workers: {SCALING_ROUNDS} rounds, each `hpc-tutor run mc-pi --workers 1,2` on threads, then on MPI ranks (default size, 5 timed runs after a warm-up per point); median over rounds [min–max]; a round is quiet when other work took at most {:.0} % of the CPUs during both points (as the run records it)",
            QUIET * 100.0
        ),
        Err(why) => say!(
            "mc-pi      2 workers: {SCALING_ROUNDS} rounds of `hpc-tutor run mc-pi --workers 1,2` on threads (default size, 5 timed runs after a warm-up per point); median over rounds [min–max]; a round is quiet when other work took at most {:.0} % of the CPUs during both points (as the run records it); MPI skipped: {why}",
            QUIET * 100.0
        ),
    }
    let oversubscribed = if n < 2 {
        "; OVERSUBSCRIBED: 2 workers on 1 CPU"
    } else {
        ""
    };
    let threads: Vec<Pair> = rounds.iter().map(|r| r.threads).collect();
    say!(
        "  2 threads: efficiency {}  (target ≥ 0.95 at 2 on a quiet machine, kernel times{oversubscribed})",
        efficiency_line(&threads)
    );
    let mut watch = crate::measure::contention::Watch::new(None, false);
    let during = watch.begin();
    let paired = paired_efficiency(PAIRS)?;
    let other = match watch.end(&during) {
        (Some(busy), _) => format!("; other work {:.0} % of the CPUs", busy * 100.0),
        (None, _) => String::new(),
    };
    say!(
        "  2 threads: efficiency {} in {PAIRS} back-to-back pairs of a 1- and a 2-thread run in this process{other}{oversubscribed} (a drift of the machine's speed between the two points cancels out)",
        spread(&paired, 3)
    );
    #[cfg(feature = "mpi")]
    if let Ok(launcher) = launcher {
        let each = |f: &dyn Fn(&Round) -> f64| rounds.iter().map(f).collect::<Vec<f64>>();
        let ranks = |r: &Round| r.ranks.map_or([f64::NAN; 2], |p| p.t);
        let per_rank = each(&|r| samples as f64 / ranks(r)[0] / 1e6);
        let vs_thread = each(&|r| r.threads.t[0] / ranks(r)[0]);
        say!(
            "  1 rank   : {} M samples/s  ({} × a thread's in the same round)",
            spread(&per_rank, 1),
            spread(&vs_thread, 2)
        );
        let pairs: Vec<Pair> = rounds.iter().filter_map(|r| r.ranks).collect();
        say!(
            "  2 ranks  : efficiency {}  (target ≥ 0.95 at 2 on a quiet machine, kernel times{oversubscribed})",
            efficiency_line(&pairs)
        );
        let per_core = each(&|r| r.threads.t[1] / ranks(r)[1]);
        say!(
            "  2 ranks  : throughput per core {} × 2 threads' in the same round (target within 10 %)",
            spread(&per_core, 2)
        );
        let small = 100_000_000;
        let t = mpi_time(launcher, sys.cpus, small, 2, 9)?;
        say!(
            "mc-pi      2 ranks  : {small} samples in {:.4} s  (course's mpi4py ≈ {MPI4PY_1E8_ON_2_RANKS_S} s: {:.0}× faster; target ≥ 10×)",
            t,
            MPI4PY_1E8_ON_2_RANKS_S / t
        );
    }
    #[cfg(not(feature = "mpi"))]
    let _ = (launcher, samples);
    Ok(())
}
