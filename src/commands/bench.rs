//! `hpc-tutor bench`: how fast are our own kernels on this machine?
//!
//! Reports single-thread throughput of each kernel, the parallel efficiency of `mc-pi`
//! at its default size on all available CPUs, and, for `race` at 2 threads, the time per
//! increment of every variant and the updates the unsynchronized one lost. Targets (from
//! the project's issues) are printed next to the measurements; they are benchmarks, not
//! tests. Lost updates are a timing property too: they belong here, not in the tests.

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
    println!(
        "hpc-tutor {} bench on {} ({}, {} CPUs available)",
        env.version, env.host, env.cpu_model, env.cpus_available
    );
    let mut exec = Threads::new();

    let samples = 200_000_000;
    let mc = McPi {
        samples,
        mode: Mode::Strong,
        seed: 42,
    };
    let t1 = time_it(&mut exec, &mc, 1, args.seconds)?;
    println!(
        "mc-pi      1 thread : {:>8.1} M samples/s  (median of runs of {samples} samples; target ≥ 500)",
        samples as f64 / t1 / 1e6
    );
    let n = sys.cpus;
    if n > 1 {
        let tn = time_it(&mut exec, &mc, n, args.seconds)?;
        let s = t1 / tn;
        println!(
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
    println!(
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
    println!(
        "work unit  1 thread : {:>8.2} ns per unit   (amdahl and imbalance kernels)",
        t / amdahl.work as f64 * 1e9
    );

    // The race at 2 threads (even on one CPU: then the threads take turns on it).
    let increments = race::DEFAULT_INCREMENTS;
    let workers = 2;
    let total = increments * workers as u64;
    println!("race       {workers} threads, {increments} increments each:");
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
        println!(
            "  {:<14} {:>8.2} ns per increment   {note}",
            variant.name(),
            median(&times) / total as f64 * 1e9
        );
    }
    Ok(ExitCode::SUCCESS)
}
