//! The benchmarks of the limits lessons: `stream`'s bandwidth side by side with
//! `likwid-bench`, and the cost of handing out one task in `farm`'s manager distribution.

use std::process::Command;

use super::bench::spread;
use crate::backend::threads::Threads;
use crate::kernel::farm::{Cost, Distribution, Farm, Shape};
use crate::kernel::stream::{Op, Stream};
use crate::kernel::{Output, OutputsExt};
use crate::measure::protocol::{Executor, PointSpec};
use crate::measure::stats::median;

macro_rules! say {
    ($($arg:tt)*) => {
        crate::stdout::print(&format!("{}\n", format_args!($($arg)*)))?
    };
}

/// Bytes per array of the comparison: 64 MB (10⁶), so that the working set of the three
/// arrays, 192 MB, is a whole number of likwid-bench's kB (10³ B) and 12 times the L3
/// cache of the development machine.
const ARRAY_BYTES: u64 = 64_000_000;

/// Alternating rounds of ours and likwid-bench's.
const ROUNDS: usize = 3;

/// Our triad bandwidth on `workers` threads, GB/s: the median of the runs of `seconds`.
fn ours(workers: usize, seconds: f64) -> anyhow::Result<f64> {
    let kernel = Stream::new(Op::Triad, ARRAY_BYTES, false);
    let mut exec = Threads::new();
    exec.setup(&PointSpec::workers(workers))
        .map_err(anyhow::Error::msg)?;
    let (_, out) = exec.run(&kernel, workers)?; // warm-up, and the first touch
    let moved = out.output(Output::BytesMoved).unwrap_or(0.0);
    let start = std::time::Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        times.push(exec.run(&kernel, workers)?.0);
    }
    Ok(moved / median(&times) / 1e9)
}

/// likwid-bench's bandwidth of `test` on `workers` threads of socket 0 with the same
/// working set, each thread allocating its own chunk (`-W`, first touch as ours), GB/s.
fn likwid(test: &str, arrays: u64, workers: usize, seconds: f64) -> Result<f64, String> {
    let kb = ARRAY_BYTES * arrays / 1000;
    let out = Command::new("likwid-bench")
        .args([
            "-t",
            test,
            "-W",
            &format!("S0:{kb}kB:{workers}"),
            "-s",
            &format!("{}", seconds.ceil().max(1.0)),
        ])
        .output()
        .map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("MByte/s:"))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|mb| mb / 1e3)
        .ok_or_else(|| {
            let err = String::from_utf8_lossy(&out.stderr);
            err.lines()
                .rfind(|l| !l.trim().is_empty())
                .unwrap_or("no MByte/s in its output")
                .to_owned()
        })
}

/// `stream` triad against `likwid-bench -t stream_avx` (the same loop, a(i) = b(i)·s +
/// c(i), 24 bytes per element) on 1 and 2 threads, alternating; and `triad_avx` (4 arrays)
/// for reference.
pub fn stream_vs_likwid(cpus: usize, seconds: f64) -> anyhow::Result<()> {
    let have = crate::backend::launch::on_path("likwid-bench");
    let avx = crate::kernel::simd::Path::Avx2.available();
    let (same, four) = if avx {
        ("stream_avx", "triad_avx")
    } else {
        ("stream", "triad")
    };
    for workers in (1..=cpus.min(2)).filter(|n| *n <= cpus) {
        let (mut a, mut b, mut t) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            a.push(ours(workers, seconds)?);
            if have {
                b.push(likwid(same, 3, workers, seconds).map_err(anyhow::Error::msg)?);
                t.push(likwid(four, 4, workers, seconds).map_err(anyhow::Error::msg)?);
            }
        }
        let threads = if workers == 1 { "thread " } else { "threads" };
        if have {
            let (m, ref_m) = (median(&a), median(&b));
            say!(
                "stream     triad {workers} {threads}: {} GB/s, likwid-bench -t {same} {} GB/s: {:+.1} % (target within 10 %); -t {four} (4 arrays) {} GB/s  (192 MB working set, median of {ROUNDS} alternating rounds)",
                spread(&a, 1),
                spread(&b, 1),
                (m / ref_m - 1.0) * 100.0,
                spread(&t, 1),
            );
        } else {
            say!(
                "stream     triad {workers} {threads}: {} GB/s (192 MB working set); likwid-bench not installed (apt-get install likwid) to compare",
                spread(&a, 1),
            );
        }
    }
    Ok(())
}

/// Empty tasks handed out by `farm`'s manager.
const EMPTY_TASKS: u64 = 100_000;

/// What handing out one task costs in `farm`'s manager distribution: empty tasks (no
/// right strings) on 2 threads (a shared counter) and on 2 MPI ranks (a request and an
/// answer per task through rank 0).
pub fn farm_overhead(seconds: f64) -> anyhow::Result<()> {
    let shape = Shape {
        tasks: EMPTY_TASKS,
        right: 0,
        length: 1,
        cost: Cost::Even,
    };
    let farm = Farm::new(shape, Distribution::Manager);
    let mut exec = Threads::new();
    exec.setup(&PointSpec::workers(2))
        .map_err(anyhow::Error::msg)?;
    exec.run(&farm, 2)?;
    let start = std::time::Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || start.elapsed().as_secs_f64() < seconds {
        times.push(exec.run(&farm, 2)?.0 / EMPTY_TASKS as f64 * 1e6);
    }
    say!(
        "farm       manager, 2 threads: {} µs per task (shared counter; {EMPTY_TASKS} empty tasks)",
        spread(&times, 3)
    );
    #[cfg(feature = "mpi")]
    match super::bench::mpi_launcher() {
        Ok(launcher) => {
            let times = mpi_farm(launcher)?;
            let m = median(&times);
            say!(
                "farm       manager, 2 MPI ranks: {} µs per task (a request and an answer through rank 0; {EMPTY_TASKS} empty tasks, 9 runs; target under 20 µs: {})",
                spread(&times, 2),
                if m < 20.0 { "met" } else { "MISSED" }
            );
        }
        Err(why) => say!("farm       manager on MPI ranks skipped: {why}"),
    }
    Ok(())
}

/// Microseconds per empty task of the manager distribution on 2 ranks, per run.
#[cfg(feature = "mpi")]
fn mpi_farm(launcher: crate::backend::launch::Launcher) -> anyhow::Result<Vec<f64>> {
    use crate::backend::launch::{LaunchSpec, MpiExecutor};
    let runs = 10;
    let spec = LaunchSpec {
        launcher,
        experiment: "farm".to_owned(),
        params: vec![
            format!("tasks={EMPTY_TASKS}"),
            "right=0".to_owned(),
            "length=1".to_owned(),
            "cost=even".to_owned(),
            "distribution=manager".to_owned(),
        ],
        variant: Some("manager".to_owned()),
        cpus: crate::cluster::SystemInfo::detect().cpus,
        deadline: std::time::Duration::from_secs(60),
        threads_per_rank: 1,
        size_param: None,
    };
    let mut exec = MpiExecutor::new(spec, runs);
    exec.setup(&PointSpec {
        workers: 2,
        variant: Some("manager"),
        size: None,
    })
    .map_err(anyhow::Error::msg)?;
    let mut times = Vec::new();
    for i in 0..runs {
        let (t, _) = exec.run(&crate::kernel::Remote, 2)?;
        if i > 0 {
            times.push(t / EMPTY_TASKS as f64 * 1e6);
        }
    }
    Ok(times)
}
