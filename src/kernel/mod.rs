//! The compute: pure functions of (parameters, task index, task count). No I/O, no timing,
//! no threads — the backend decides where tasks run and measures them.
//!
//! Two kernels are about threads themselves and so keep shared state between their tasks:
//! `race` (a shared counter) and `locks` (two mutexes and a watchdog). They reset it in
//! [`Kernel::prepare`] and report a stall through [`Kernel::diagnosis`].

#[forbid(unsafe_code)]
pub mod amdahl;
#[forbid(unsafe_code)]
pub mod farm;
#[forbid(unsafe_code)]
pub mod imbalance;
#[forbid(unsafe_code)]
pub mod integral;
#[forbid(unsafe_code)]
pub mod locks;
#[forbid(unsafe_code)]
pub mod mc_pi;
#[forbid(unsafe_code)]
pub mod pingpong;
#[forbid(unsafe_code)]
pub mod program;
#[forbid(unsafe_code)]
pub mod race;
#[forbid(unsafe_code)]
pub mod rng;
#[forbid(unsafe_code)]
pub mod stream;
// The one module with `unsafe` code: calls of AVX2/AVX-512 compilations of the hot loops,
// each after detecting that the CPU has the instructions.
#[allow(unsafe_code)]
pub mod simd;

use std::collections::BTreeMap;

use crate::record::DiagnosisRecord;

/// What one task hands back. Tasks are combined in task order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Partial {
    /// A count (e.g. points inside the circle).
    pub count: u64,
    /// A sum (e.g. of function values).
    pub sum: f64,
    /// Work units done, for load-balance accounting.
    pub units: u64,
}

/// Named results of a run, e.g. `estimate` and `abs_error`.
pub type Outputs = BTreeMap<String, f64>;

/// The named outputs kernels and MPI ranks write and other parts read: one definition of
/// each key, so that a writer and its readers cannot disagree on a spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// `size_bytes`.
    SizeBytes,
    /// `completed`.
    Completed,
    /// `bandwidth_mb_s`.
    BandwidthMbS,
    /// `latency_us`.
    LatencyUs,
    /// `round_trips`.
    RoundTrips,
    /// `data_ok`.
    DataOk,
    /// `calls`.
    Calls,
    /// `lost_updates`.
    LostUpdates,
    /// `expected_count`.
    ExpectedCount,
    /// `final_count`.
    FinalCount,
    /// `estimate`.
    Estimate,
    /// `abs_error`.
    AbsError,
    /// `value`.
    Value,
    /// `samples`.
    Samples,
    /// `load_imbalance`.
    LoadImbalance,
    /// `planned_imbalance`.
    PlannedImbalance,
    /// `work_units`.
    WorkUnits,
    /// `checksum`.
    Checksum,
    /// `serial_configured`.
    SerialConfigured,
    /// `backoffs`.
    Backoffs,
    /// `rounds_done`.
    RoundsDone,
    /// `ns_per_increment`.
    NsPerIncrement,
    /// `wall_s`: a program's wall time, from starting it to its exit.
    WallS,
    /// `program_s`: the time a program printed itself (`--time-from`).
    ProgramS,
    /// `cpu_s`: CPU time (user + system) of a program and every process it started.
    CpuS,
    /// `cpus_busy`: `cpu_s / wall_s`, how many CPUs the program kept busy on average.
    CpusBusy,
    /// `array_bytes`: bytes per array (`stream`).
    ArrayBytes,
    /// `working_set_bytes`: bytes of every array together (`stream`).
    WorkingSetBytes,
    /// `bytes_moved`: bytes one run moves, counted as STREAM counts them.
    BytesMoved,
    /// `passes`: passes over the arrays in one run.
    Passes,
    /// `bandwidth_gb_s`: bytes moved per second of the median run, in GB/s (10⁹ B/s).
    BandwidthGbS,
    /// `matches`: pairs of strings similar enough (`farm`).
    Matches,
    /// `tasks_min`: tasks done by the worker that did fewest.
    TasksMin,
    /// `tasks_max`: tasks done by the worker that did most.
    TasksMax,
    /// `manager_busy`: the fraction of its time a manager rank spent handing out tasks.
    ManagerBusy,
}

impl Output {
    /// The key in the records' `outputs`.
    pub const fn key(self) -> &'static str {
        match self {
            Output::SizeBytes => "size_bytes",
            Output::Completed => "completed",
            Output::BandwidthMbS => "bandwidth_mb_s",
            Output::LatencyUs => "latency_us",
            Output::RoundTrips => "round_trips",
            Output::DataOk => "data_ok",
            Output::Calls => "calls",
            Output::LostUpdates => "lost_updates",
            Output::ExpectedCount => "expected_count",
            Output::FinalCount => "final_count",
            Output::Estimate => "estimate",
            Output::AbsError => "abs_error",
            Output::Value => "value",
            Output::Samples => "samples",
            Output::LoadImbalance => "load_imbalance",
            Output::PlannedImbalance => "planned_imbalance",
            Output::WorkUnits => "work_units",
            Output::Checksum => "checksum",
            Output::SerialConfigured => "serial_configured",
            Output::Backoffs => "backoffs",
            Output::RoundsDone => "rounds_done",
            Output::NsPerIncrement => "ns_per_increment",
            Output::WallS => "wall_s",
            Output::ProgramS => "program_s",
            Output::CpuS => "cpu_s",
            Output::CpusBusy => "cpus_busy",
            Output::ArrayBytes => "array_bytes",
            Output::WorkingSetBytes => "working_set_bytes",
            Output::BytesMoved => "bytes_moved",
            Output::Passes => "passes",
            Output::BandwidthGbS => "bandwidth_gb_s",
            Output::Matches => "matches",
            Output::TasksMin => "tasks_min",
            Output::TasksMax => "tasks_max",
            Output::ManagerBusy => "manager_busy",
        }
    }
}

/// Reading and writing [`Output`]s of an [`Outputs`] map (a point's `outputs`).
pub trait OutputsExt {
    /// The value of `o`, if the point has it.
    fn output(&self, o: Output) -> Option<f64>;
    /// Sets `o` to `v`.
    fn set_output(&mut self, o: Output, v: f64);
}

impl OutputsExt for Outputs {
    fn output(&self, o: Output) -> Option<f64> {
        self.get(o.key()).copied()
    }

    fn set_output(&mut self, o: Output, v: f64) {
        self.insert(o.key().to_owned(), v);
    }
}

/// A parallel computation split into tasks.
pub trait Kernel: Send + Sync {
    /// The serial phase, run on one worker before the parallel phase (Amdahl's serial part).
    /// Returns a value that depends on all its work so that nothing is optimized away.
    fn serial(&self) -> f64 {
        0.0
    }

    /// Whether [`Kernel::serial`] does any work (the other workers then wait for it).
    fn has_serial_phase(&self) -> bool {
        false
    }

    /// How many tasks the parallel phase has for `workers` workers. `workers` tasks means
    /// one contiguous share per worker (static scheduling); more tasks let idle workers
    /// steal work (dynamic scheduling).
    fn tasks(&self, workers: usize) -> usize {
        workers
    }

    /// Runs task `index` of `tasks`, for a run on `workers` workers.
    fn task(&self, index: usize, tasks: usize, workers: usize) -> Partial;

    /// Combines the serial result and the tasks' results into the outputs.
    fn finish(&self, serial: f64, partials: &[Partial], workers: usize) -> Outputs;

    /// Resets state shared by the tasks (e.g. a shared counter back to 0) for a run on
    /// `workers` workers. Backends call it before every run, outside the timed section.
    /// Kernels whose tasks share nothing keep the default, which does nothing.
    fn prepare(&self, _workers: usize) {}

    /// Once per point, before its first run and outside every timing, on each worker
    /// thread (`index` of `workers`, the thread that runs task `index` of a kernel with one
    /// task per worker): e.g. allocating and first-touching that worker's part of the data,
    /// so that its pages are placed near the worker's core. `size` is the point's size, for
    /// kernels swept over sizes. The default does nothing.
    fn setup_worker(&self, _index: usize, _workers: usize, _size: Option<u64>) {}

    /// Whether [`Kernel::setup_worker`] does anything (the backend then calls it).
    fn sets_up_workers(&self) -> bool {
        false
    }

    /// After a run: why its tasks gave up, when they stopped making progress (a deadlock),
    /// as the wait-for state. `None` (the default) means the run completed.
    fn diagnosis(&self) -> Option<DiagnosisRecord> {
        None
    }

    /// A time per item to report: its output name and the items a run on `workers` workers
    /// processes, e.g. `("ns_per_increment", 4_000_000)`. The timing protocol adds
    /// `name = median kernel time / items · 1e9` to each point's outputs. `None` (the
    /// default) adds nothing.
    fn ns_per_item(&self, _workers: usize) -> Option<(&'static str, u64)> {
        None
    }

    /// Outputs that differ from run to run and stand for the point as their median over its
    /// timed repetitions (e.g. a program's wall time next to the time it printed), instead
    /// of the last repetition's value. The default: none.
    fn median_outputs(&self) -> &'static [Output] {
        &[]
    }

    /// Adds outputs computed from a point's median kernel time to the point's outputs
    /// (which hold the last repetition's outputs), e.g. pingpong's latency and bandwidth.
    /// The default adds nothing.
    fn point_outputs(&self, _median_s: f64, _outputs: &mut Outputs) {}
}

/// Stands for a kernel that runs elsewhere: MPI ranks build their own kernel from the
/// experiment's parameters, so the launching process holds this placeholder. Running it
/// locally does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Remote;

impl Kernel for Remote {
    fn task(&self, _index: usize, _tasks: usize, _workers: usize) -> Partial {
        Partial::default()
    }

    fn finish(&self, _serial: f64, _partials: &[Partial], _workers: usize) -> Outputs {
        Outputs::new()
    }
}

/// The half-open range of items `0..total` that share `index` of `parts` gets: contiguous,
/// sizes differing by at most one.
pub fn share(total: u64, index: usize, parts: usize) -> std::ops::Range<u64> {
    let parts = parts.max(1) as u64;
    let index = (index as u64).min(parts);
    let base = total / parts;
    let extra = total % parts;
    let start = index * base + index.min(extra);
    let len = base + u64::from(index < extra);
    start..(start + len).min(total)
}

/// A chain of integer arithmetic that the compiler cannot shorten: `units` xorshift steps.
/// About one nanosecond per unit on current CPUs; used as "real work" by `amdahl` and
/// `imbalance` (never sleep: a sleeping thread leaves its CPU free and measures nothing).
#[inline(never)]
pub fn busy_work(units: u64, seed: u64) -> u64 {
    let mut x = seed | 1;
    for i in 0..units {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_add(i);
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_everything_once() {
        for total in [0u64, 1, 7, 100, 1001] {
            for parts in 1..9 {
                let mut next = 0;
                for i in 0..parts {
                    let r = share(total, i, parts);
                    assert_eq!(r.start, next);
                    assert!(r.end - r.start <= total / parts as u64 + 1);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn busy_work_depends_on_its_length() {
        assert_ne!(busy_work(1000, 1), busy_work(1001, 1));
    }
}
