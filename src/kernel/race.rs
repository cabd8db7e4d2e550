//! Every worker adds 1 to a counter `increments` times, in one of six ways: with lost updates
//! (a separate atomic load and store), with an atomic add, with a mutex, as a reduction, and
//! with per-thread counters either packed in one cache line (false sharing) or each on its own
//! line (padded).
//!
//! The unsynchronized variant loses updates without undefined behaviour: every access is an
//! atomic operation, so there is no data race in Rust's sense, but the load and the store are
//! two steps, and another thread's store can land between them and be overwritten.
//!
//! The workers start counting together: each waits at a start line until all have arrived.
//! A loop of a few million increments lasts about a millisecond, no longer than it can take
//! to wake a sleeping thread, so without the start line one worker could be done before the
//! other began, and nothing would race.

use crate::kernel::Output;
use std::hint::black_box;
use std::sync::atomic::{
    AtomicU64, AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed,
};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use parking_lot::RwLock;

use super::{Kernel, Outputs, Partial};

/// How the workers update the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// One shared counter; each increment is an atomic load, then a separate atomic store of
    /// the value plus one. Updates get lost; nothing is undefined.
    Unsynchronized,
    /// One shared counter, `fetch_add`: one indivisible read-modify-write per increment.
    Atomic,
    /// One shared `u64` behind a `std::sync::Mutex`, locked for every increment.
    Mutex,
    /// Each worker counts in a local variable and adds it to the shared total once, at the end.
    Reduction,
    /// Each worker its own counter (`fetch_add`), but eight counters share one 64-byte cache
    /// line, so the line moves between the cores on every write.
    FalseSharing,
    /// Each worker its own counter (`fetch_add`) on its own 128-byte line: nothing shared.
    Padded,
}

impl Variant {
    /// Every variant, in the order a run compares them.
    pub const ALL: [Variant; 6] = [
        Variant::Unsynchronized,
        Variant::Atomic,
        Variant::Mutex,
        Variant::Reduction,
        Variant::FalseSharing,
        Variant::Padded,
    ];

    /// The names of [`Variant::ALL`], in the same order.
    pub const NAMES: &'static [&'static str] = &[
        "unsynchronized",
        "atomic",
        "mutex",
        "reduction",
        "false-sharing",
        "padded",
    ];

    /// The name used in parameters and records.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Unsynchronized => "unsynchronized",
            Variant::Atomic => "atomic",
            Variant::Mutex => "mutex",
            Variant::Reduction => "reduction",
            Variant::FalseSharing => "false-sharing",
            Variant::Padded => "padded",
        }
    }

    /// The variant called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.name() == name)
    }

    /// Whether every increment is guaranteed to count.
    pub fn synchronized(self) -> bool {
        self != Variant::Unsynchronized
    }
}

/// Increments per worker when not given: about 2–50 ms of counting per run, long enough for
/// the threads to overlap even on a busy machine.
pub const DEFAULT_INCREMENTS: u64 = 5_000_000;

/// Counters per cache line in the false-sharing layout.
pub const PER_LINE: usize = 8;

/// Eight counters in one 64-byte cache line (the line size of current x86 and most Arm
/// cores): neighbouring workers write to the same line.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct PackedLine(pub [AtomicU64; PER_LINE]);

/// One counter alone on a 128-byte line: two 64-byte lines, because some CPUs (Intel's
/// adjacent-line prefetcher, Apple M-series) move lines in pairs.
#[derive(Debug, Default)]
#[repr(align(128))]
pub struct PaddedCounter(pub AtomicU64);

/// The kernel: its parameters and the counters its tasks share.
#[derive(Debug)]
pub struct Race {
    increments: u64,
    variant: Variant,
    /// The shared counter of `unsynchronized`, `atomic` and `reduction`.
    shared: PaddedCounter,
    /// The shared counter of `mutex`.
    locked: Mutex<u64>,
    /// One slot per worker, `PER_LINE` to a line (`false-sharing`); sized by `prepare`.
    packed: RwLock<Vec<PackedLine>>,
    /// One line per worker (`padded`); sized by `prepare`.
    padded: RwLock<Vec<PaddedCounter>>,
    /// Workers at the start line.
    arrived: AtomicUsize,
}

impl Race {
    /// A race of `increments` per worker, done the `variant` way.
    pub fn new(increments: u64, variant: Variant) -> Self {
        Self {
            increments,
            variant,
            shared: PaddedCounter::default(),
            locked: Mutex::new(0),
            packed: RwLock::new(Vec::new()),
            padded: RwLock::new(Vec::new()),
            arrived: AtomicUsize::new(0),
        }
    }

    /// Waits until `workers` workers have called it since `prepare`. Spins for up to a
    /// millisecond (the others are usually microseconds away, and a thread that gives up its
    /// CPU may not get it back before the others are done), then yields the CPU, so that
    /// workers taking turns on fewer CPUs still get there. Gives up after a second, so that a
    /// backend running the tasks one after the other is slow, never stuck.
    fn start_line(&self, workers: usize) {
        self.arrived.fetch_add(1, AcqRel);
        let start = Instant::now();
        while self.arrived.load(Acquire) < workers {
            let waited = start.elapsed();
            if waited < Duration::from_millis(1) {
                std::hint::spin_loop();
            } else if waited < Duration::from_secs(1) {
                std::thread::yield_now();
            } else {
                return;
            }
        }
    }

    /// Increments per worker.
    pub fn increments(&self) -> u64 {
        self.increments
    }

    /// How the workers update the count.
    pub fn variant(&self) -> Variant {
        self.variant
    }

    /// The count after the tasks of the last run.
    fn counted(&self, workers: usize, partials: &[Partial]) -> u64 {
        match self.variant {
            Variant::Unsynchronized | Variant::Atomic => self.shared.0.load(Relaxed),
            Variant::Mutex => *self.locked.lock().unwrap_or_else(PoisonError::into_inner),
            // The reduction's combining step: the partial sums, added once per worker.
            Variant::Reduction => partials.iter().map(|p| p.count).sum(),
            Variant::FalseSharing => self
                .packed
                .read()
                .iter()
                .flat_map(|line| &line.0)
                .take(workers)
                .map(|c| c.load(Relaxed))
                .sum(),
            Variant::Padded => self
                .padded
                .read()
                .iter()
                .take(workers)
                .map(|c| c.0.load(Relaxed))
                .sum(),
        }
    }
}

impl Kernel for Race {
    fn prepare(&self, workers: usize) {
        self.arrived.store(0, Relaxed);
        self.shared.0.store(0, Relaxed);
        *self.locked.lock().unwrap_or_else(PoisonError::into_inner) = 0;
        let mut packed = self.packed.write();
        packed.clear();
        packed.resize_with(workers.div_ceil(PER_LINE), PackedLine::default);
        let mut padded = self.padded.write();
        padded.clear();
        padded.resize_with(workers, PaddedCounter::default);
    }

    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        let n = self.increments;
        let mut local = 0u64;
        self.start_line(tasks);
        match self.variant {
            Variant::Unsynchronized => {
                let c = &self.shared.0;
                for _ in 0..n {
                    // Two steps: another thread's store between them is overwritten.
                    let v = c.load(Relaxed);
                    // black_box keeps the steps apart: the compiler would otherwise fuse
                    // them into one x86 `inc` on memory, which still loses updates between
                    // cores but cannot be interrupted halfway, so threads taking turns on
                    // one CPU would lose none.
                    c.store(black_box(v) + 1, Relaxed);
                }
            }
            Variant::Atomic => {
                let c = &self.shared.0;
                for _ in 0..n {
                    c.fetch_add(1, Relaxed);
                }
            }
            Variant::Mutex => {
                for _ in 0..n {
                    *self.locked.lock().unwrap_or_else(PoisonError::into_inner) += 1;
                }
            }
            Variant::Reduction => {
                for _ in 0..n {
                    // black_box keeps each step a real addition (of a 1 the compiler cannot
                    // see): without it the loop would become `local = n`.
                    local += black_box(1);
                }
            }
            Variant::FalseSharing => {
                let lines = self.packed.read();
                if let Some(c) = lines
                    .get(index / PER_LINE)
                    .map(|line| &line.0[index % PER_LINE])
                {
                    // Only this worker touches this slot, but the neighbours' adds keep
                    // taking the line away. The same operation as `padded`: only the layout
                    // differs.
                    for _ in 0..n {
                        c.fetch_add(1, Relaxed);
                    }
                }
            }
            Variant::Padded => {
                let counters = self.padded.read();
                if let Some(c) = counters.get(index).map(|c| &c.0) {
                    for _ in 0..n {
                        c.fetch_add(1, Relaxed);
                    }
                }
            }
        }
        Partial {
            count: local,
            sum: 0.0,
            units: n,
        }
    }

    fn finish(&self, _serial: f64, partials: &[Partial], workers: usize) -> Outputs {
        let counted = self.counted(workers, partials);
        let expected = self.increments.saturating_mul(partials.len() as u64);
        // Counts are below 2^53 by the parameter's range, so they convert to f64 exactly.
        Outputs::from([
            (Output::FinalCount.key().to_owned(), counted as f64),
            (Output::ExpectedCount.key().to_owned(), expected as f64),
            (
                Output::LostUpdates.key().to_owned(),
                expected.saturating_sub(counted) as f64,
            ),
        ])
    }

    fn ns_per_item(&self, workers: usize) -> Option<(&'static str, u64)> {
        Some((
            Output::NsPerIncrement.key(),
            self.increments.saturating_mul(workers as u64),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the kernel's tasks on `workers` real threads at once, as the backend does.
    fn run(k: &Race, workers: usize) -> Outputs {
        k.prepare(workers);
        let partials: Vec<Partial> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..workers)
                .map(|i| s.spawn(move || k.task(i, workers, workers)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("task ends"))
                .collect()
        });
        k.finish(0.0, &partials, workers)
    }

    #[test]
    fn the_layouts_are_what_they_claim() {
        assert_eq!(std::mem::align_of::<PackedLine>(), 64);
        assert_eq!(
            std::mem::size_of::<PackedLine>(),
            64,
            "eight counters, one line"
        );
        assert_eq!(std::mem::align_of::<PaddedCounter>(), 128);
        assert_eq!(std::mem::size_of::<PaddedCounter>(), 128);
        let k = Race::new(1, Variant::Padded);
        k.prepare(3);
        let counters = k.padded.read();
        for pair in counters.windows(2) {
            let (a, b) = (
                &pair[0].0 as *const _ as usize,
                &pair[1].0 as *const _ as usize,
            );
            assert_eq!(b - a, 128);
            assert_eq!(a % 128, 0);
        }
        drop(counters);
        let k = Race::new(1, Variant::FalseSharing);
        k.prepare(9);
        assert_eq!(k.packed.read().len(), 2, "nine workers need two lines");
    }

    #[test]
    fn synchronized_variants_lose_nothing_on_any_worker_count() {
        for v in Variant::ALL.into_iter().filter(|v| v.synchronized()) {
            let k = Race::new(20_000, v);
            for workers in [1, 2, 3, 4, 9] {
                // Twice, so that a run that forgets to reset would double its count.
                for _ in 0..2 {
                    let out = run(&k, workers);
                    let expected = 20_000.0 * workers as f64;
                    assert_eq!(out["expected_count"], expected, "{v:?}");
                    assert_eq!(out["final_count"], expected, "{v:?} on {workers}");
                    assert_eq!(out["lost_updates"], 0.0, "{v:?} on {workers}");
                }
            }
        }
    }

    #[test]
    fn unsynchronized_never_counts_more_than_it_did() {
        let k = Race::new(50_000, Variant::Unsynchronized);
        for workers in [1, 2, 4] {
            let out = run(&k, workers);
            assert!(out["final_count"] <= out["expected_count"], "{out:?}");
            assert_eq!(
                out["final_count"] + out["lost_updates"],
                out["expected_count"]
            );
        }
        // Alone, nothing can get in between.
        assert_eq!(run(&k, 1)["lost_updates"], 0.0);
    }

    #[test]
    fn names_round_trip_and_time_is_per_increment() {
        let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
        assert_eq!(names, Variant::NAMES);
        for v in Variant::ALL {
            assert_eq!(Variant::from_name(v.name()), Some(v));
        }
        assert_eq!(Variant::from_name("all"), None);
        let k = Race::new(1000, Variant::Atomic);
        assert_eq!(k.ns_per_item(4), Some(("ns_per_increment", 4000)));
    }
}
