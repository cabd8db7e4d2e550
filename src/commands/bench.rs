//! `hpc-tutor bench`: how fast are our own kernels on this machine?
//!
//! Reports single-thread throughput of each kernel, the parallel efficiency of `mc-pi`
//! at its default size on all available CPUs, and, for `race` at 2 threads, the time per
//! increment of every variant and the updates the unsynchronized one lost. Targets (from
//! the project's issues) are printed next to the measurements; they are benchmarks, not
//! tests. Lost updates are a timing property too: they belong here, not in the tests.
//!
//! Built with the `mpi` feature and with `mpirun` on `PATH` (or `srun` inside an
//! allocation), it also runs mc-pi on 1 and 2 MPI ranks: parallel efficiency from kernel
//! times, throughput per rank against a thread's, and the time of 10^8 samples on 2 ranks
//! next to the course's mpi4py version. Ranks and threads are measured in alternating
//! rounds of `hpc-tutor run mc-pi --workers 1,2` (what a learner's run measures), and
//! reported as the median over rounds with the range: on a shared machine one run's figure
//! says little.

use std::process::ExitCode;
use std::time::Instant;

use crate::backend::threads::Threads;
use crate::cli::BenchArgs;
use crate::cluster::SystemInfo;
use crate::kernel::amdahl::Amdahl;
use crate::kernel::integral::Integral;
use crate::kernel::mc_pi::{McPi, Mode};
use crate::kernel::race::{self, Race};
use crate::kernel::{Kernel, Outputs};
use crate::measure::protocol::{Executor, PointSpec};
use crate::measure::stats::median;

/// `println!` through the checked standard output: a line, written out at once; a failed
/// write returns its error from the function.
macro_rules! say {
    ($($arg:tt)*) => {
        crate::stdout::print(&format!("{}\n", format_args!($($arg)*)))?
    };
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
    let mut exec = Threads::new();

    let samples = 200_000_000;
    let mc = McPi {
        samples,
        mode: Mode::Strong,
        seed: 42,
    };
    let t1 = time_it(&mut exec, &mc, 1, args.seconds)?;
    say!(
        "mc-pi      1 thread : {:>8.1} M samples/s  (median of runs of {samples} samples; target ≥ 500)",
        samples as f64 / t1 / 1e6
    );
    let n = sys.cpus;
    if n > 1 {
        let tn = time_it(&mut exec, &mc, n, args.seconds)?;
        let s = t1 / tn;
        say!(
            "mc-pi      {n} threads: speedup {s:.2}, efficiency {:.3}  (default size; target ≥ 0.90 at 2)",
            s / n as f64
        );
    }

    let integral = Integral {
        a: 0.0,
        b: 100.0,
        n: 100_000_000,
    };
    let t = time_it(&mut exec, &integral, 1, args.seconds)?;
    say!(
        "integral   1 thread : {:>8.1} M intervals/s  ({} intervals in {:.3} s)",
        integral.n as f64 / t / 1e6,
        integral.n,
        t
    );

    let amdahl = Amdahl {
        serial: 0.0,
        work: 200_000_000,
    };
    let t = time_it(&mut exec, &amdahl, 1, args.seconds)?;
    say!(
        "work unit  1 thread : {:>8.2} ns per unit   (amdahl and imbalance kernels)",
        t / amdahl.work as f64 * 1e9
    );

    #[cfg(feature = "mpi")]
    mpi_bench(&sys)?;

    // The race at 2 threads (even on one CPU: then the threads take turns on it).
    let increments = race::DEFAULT_INCREMENTS;
    let workers = 2;
    let total = increments * workers as u64;
    say!("race       {workers} threads, {increments} increments each:");
    for variant in race::Variant::ALL {
        let k = Race::new(increments, variant);
        let reps = runs(&mut exec, &k, workers, args.seconds)?;
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
    Ok(ExitCode::SUCCESS)
}

/// The mpi4py version of the course takes about this long for 10^8 samples on 2 ranks.
#[cfg(feature = "mpi")]
const MPI4PY_1E8_ON_2_RANKS_S: f64 = 1.3;

/// Rounds of the MPI comparison: each round measures threads and ranks one after the other,
/// so that both see the machine in the same state; the figures are medians over rounds.
#[cfg(feature = "mpi")]
const MPI_ROUNDS: usize = 6;

/// `median [min–max]` of `values`, with `digits` decimals.
#[cfg(feature = "mpi")]
fn spread(values: &[f64], digits: usize) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{:.digits$} [{lo:.digits$}–{hi:.digits$}]", median(values))
}

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

/// One round of the MPI comparison: the median kernel times of the 1- and 2-worker points
/// of `hpc-tutor run mc-pi --workers 1,2` on threads, then on MPI ranks.
#[cfg(feature = "mpi")]
struct Round {
    threads: [f64; 2],
    ranks: [f64; 2],
}

/// The 1- and 2-worker median kernel times of `hpc-tutor run mc-pi --backend BACKEND
/// --workers 1,2`: exactly what a learner's run measures (default size, warm-up and
/// repetitions, each MPI point its own launch).
#[cfg(feature = "mpi")]
fn product_run(backend: &str) -> anyhow::Result<[f64; 2]> {
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
    let mut t = [f64::NAN; 2];
    for r in records {
        if let Record::Point(p) = r
            && (1..=2).contains(&p.workers)
        {
            t[p.workers - 1] = p.median_s;
        }
    }
    if t.iter().any(|v| !v.is_finite()) {
        anyhow::bail!(
            "hpc-tutor run mc-pi --backend {backend} --workers 1,2 measured no 1- and 2-worker points"
        );
    }
    Ok(t)
}

/// mc-pi on 1 and 2 MPI ranks against 1 and 2 threads, when a launcher is at hand:
/// [`MPI_ROUNDS`] alternating rounds of the product's own runs, every figure a median over
/// rounds with its range.
#[cfg(feature = "mpi")]
fn mpi_bench(sys: &SystemInfo) -> anyhow::Result<()> {
    use crate::backend::launch::{Launcher, on_path};
    let launcher = Launcher::default_here();
    if !on_path(launcher.name()) {
        say!(
            "mc-pi      MPI: skipped, `{}` is not on PATH",
            launcher.name()
        );
        return Ok(());
    }
    let samples = 200_000_000;
    let mut rounds = Vec::with_capacity(MPI_ROUNDS);
    for _ in 0..MPI_ROUNDS {
        rounds.push(Round {
            threads: product_run("threads")?,
            ranks: product_run("mpi")?,
        });
    }
    let each = |f: &dyn Fn(&Round) -> f64| rounds.iter().map(f).collect::<Vec<f64>>();
    say!(
        "mc-pi      MPI ({}) against threads: {MPI_ROUNDS} rounds, each `hpc-tutor run mc-pi --workers 1,2` on threads, then on ranks (default size, 5 timed runs after a warm-up per point); median over rounds [min–max]",
        launcher.name()
    );
    let per_rank = each(&|r| samples as f64 / r.ranks[0] / 1e6);
    let vs_thread = each(&|r| r.threads[0] / r.ranks[0]);
    say!(
        "  1 rank   : {} M samples/s  ({} × a thread's in the same round)",
        spread(&per_rank, 1),
        spread(&vs_thread, 2)
    );
    let oversubscribed = if sys.cpus < 2 {
        "; OVERSUBSCRIBED: 2 ranks on 1 CPU"
    } else {
        ""
    };
    let mpi_eff = each(&|r| r.ranks[0] / r.ranks[1] / 2.0);
    let thr_eff = each(&|r| r.threads[0] / r.threads[1] / 2.0);
    say!(
        "  2 ranks  : efficiency {}  (2 threads: {}; target ≥ 0.90 at 2, kernel times, default size{oversubscribed})",
        spread(&mpi_eff, 3),
        spread(&thr_eff, 3)
    );
    let per_core = each(&|r| r.threads[1] / r.ranks[1]);
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
    Ok(())
}
