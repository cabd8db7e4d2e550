//! STREAM: how fast the memory system feeds the cores. The triad `a[i] = b[i] + s·c[i]`
//! and the copy `a[i] = b[i]`, on arrays that each worker allocates and first-touches
//! itself ([`Kernel::setup_worker`], outside every timing), so that on a machine with
//! several memory controllers its part lands in the memory next to its core, as the
//! STREAM benchmark does with OpenMP.
//!
//! Bytes are counted as STREAM counts them: triad reads two arrays and writes one, 3 × 8
//! bytes per element; copy 2 × 8 (the extra read a cache makes before a write, the
//! write-allocate, is not counted). One run passes over the arrays as many times as it
//! takes to move at least [`BYTES_PER_RUN`] bytes, so that a run over arrays that fit in
//! the L1 cache still lasts long enough to time.

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use super::simd::{self, Path};
use super::{Kernel, Output, Outputs, OutputsExt, Partial, share};

/// Which loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `a[i] = b[i] + s·c[i]`: 2 reads, 1 write.
    Triad,
    /// `a[i] = b[i]`: 1 read, 1 write.
    Copy,
}

impl Op {
    /// Every op, in the order `op = both` compares them.
    pub const NAMES: &'static [&'static str] = &["triad", "copy"];

    /// The op called `name`.
    pub fn from_name(name: &str) -> Option<Op> {
        match name {
            "triad" => Some(Op::Triad),
            "copy" => Some(Op::Copy),
            _ => None,
        }
    }

    /// Arrays the loop moves (each read or written once per element and pass).
    pub const fn arrays(self) -> u64 {
        match self {
            Op::Triad => 3,
            Op::Copy => 2,
        }
    }
}

/// The least traffic of one run, in bytes (a quarter of a GiB).
pub const BYTES_PER_RUN: u64 = 1 << 28;

/// The triad's scalar.
const SCALAR: f64 = 3.0;

/// The triad loop, inlined into each vector path of [`simd::triad`].
#[inline(always)]
pub(super) fn triad_with(a: &mut [f64], b: &[f64], c: &[f64], s: f64) {
    for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
        *a = b + s * c;
    }
}

/// The copy loop, inlined into each vector path of [`simd::copy`].
#[inline(always)]
pub(super) fn copy_with(a: &mut [f64], b: &[f64]) {
    for (a, b) in a.iter_mut().zip(b) {
        *a = *b;
    }
}

/// One worker's part of the arrays.
#[derive(Default)]
struct Part {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
}

/// The kernel: one task per worker, each over its own part of the arrays.
pub struct Stream {
    op: Op,
    /// Bytes per array when the point has no size of its own.
    array_bytes: u64,
    /// Whether points are sizes (`sweep = on`): they then carry `size_bytes`.
    sweep: bool,
    /// Each worker's part, set up by that worker.
    parts: RwLock<Vec<Mutex<Part>>>,
    /// Bytes per array of the point set up last.
    current: AtomicU64,
}

impl Stream {
    /// A kernel of `op` over arrays of `array_bytes` bytes each (a point's size replaces
    /// it); `sweep`: points are sizes.
    pub fn new(op: Op, array_bytes: u64, sweep: bool) -> Self {
        Self {
            op,
            array_bytes,
            sweep,
            parts: RwLock::new(Vec::new()),
            current: AtomicU64::new(array_bytes),
        }
    }

    /// Passes over the arrays one run makes for arrays of `array_bytes` bytes.
    pub fn passes(&self, array_bytes: u64) -> u64 {
        let per_pass = (array_bytes / 8 * 8 * self.op.arrays()).max(1);
        BYTES_PER_RUN.div_ceil(per_pass).max(1)
    }
}

impl Kernel for Stream {
    fn sets_up_workers(&self) -> bool {
        true
    }

    fn setup_worker(&self, index: usize, workers: usize, size: Option<u64>) {
        let bytes = size.unwrap_or(self.array_bytes);
        self.current.store(bytes, Ordering::Relaxed);
        {
            let mut parts = self.parts.write().unwrap_or_else(|e| e.into_inner());
            if parts.len() != workers {
                parts.clear();
                parts.resize_with(workers, Mutex::default);
            }
        }
        let parts = self.parts.read().unwrap_or_else(|e| e.into_inner());
        let Some(slot) = parts.get(index) else {
            return;
        };
        let mut part = slot.lock().unwrap_or_else(|e| e.into_inner());
        // Give the old arrays back before taking new ones: never twice the memory.
        *part = Part::default();
        // Elements fit in memory (the size is checked against it), hence in usize.
        let mine = share(bytes / 8, index, workers);
        let n = (mine.end - mine.start) as usize;
        // Written here, by this worker: its pages are placed now, near this core (a
        // zeroed allocation would leave them to whoever touches them first).
        let fill = |v: f64| {
            let mut x = Vec::with_capacity(n);
            x.resize(n, v);
            x
        };
        *part = Part {
            a: fill(0.0),
            b: fill(1.0),
            c: fill(2.0),
        };
    }

    fn task(&self, index: usize, _tasks: usize, _workers: usize) -> Partial {
        let parts = self.parts.read().unwrap_or_else(|e| e.into_inner());
        let Some(slot) = parts.get(index) else {
            return Partial::default();
        };
        let mut part = slot.lock().unwrap_or_else(|e| e.into_inner());
        let Part { a, b, c } = &mut *part;
        let passes = self.passes(self.current.load(Ordering::Relaxed));
        let path = Path::best();
        for _ in 0..passes {
            match self.op {
                Op::Triad => simd::triad(path, a, b, c, SCALAR),
                Op::Copy => simd::copy(path, a, b),
            }
            // Each pass must really happen: the compiler may not skip a pass that writes
            // what the one before wrote.
            black_box(&mut *a);
        }
        Partial {
            count: passes,
            sum: a.first().copied().unwrap_or(0.0),
            units: passes * a.len() as u64 * 8 * self.op.arrays(),
        }
    }

    fn finish(&self, _serial: f64, partials: &[Partial], _workers: usize) -> Outputs {
        let bytes = self.current.load(Ordering::Relaxed);
        let moved: u64 = partials.iter().map(|p| p.units).sum();
        let mut out = Outputs::new();
        out.set_output(Output::ArrayBytes, bytes as f64);
        out.set_output(Output::WorkingSetBytes, (bytes * self.op.arrays()) as f64);
        out.set_output(Output::BytesMoved, moved as f64);
        out.set_output(
            Output::Passes,
            partials.iter().map(|p| p.count).max().unwrap_or(0) as f64,
        );
        // Every element of a must be what the loop computes from b and c.
        let expected = match self.op {
            Op::Triad => 1.0 + SCALAR * 2.0,
            Op::Copy => 1.0,
        };
        let ok = partials.iter().all(|p| p.units == 0 || p.sum == expected);
        out.set_output(Output::DataOk, f64::from(u8::from(ok)));
        if self.sweep {
            out.set_output(Output::SizeBytes, (bytes * self.op.arrays()) as f64);
        }
        out
    }

    fn point_outputs(&self, median_s: f64, outputs: &mut Outputs) {
        if let Some(moved) = outputs.output(Output::BytesMoved)
            && median_s.is_finite()
            && median_s > 0.0
        {
            outputs.set_output(Output::BandwidthGbS, moved / median_s / 1e9);
        }
    }
}

/// Memory this machine has available now, in bytes (`MemAvailable` of `/proc/meminfo`);
/// `None` where it cannot be read.
pub fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The sizes of a sweep: bytes per array doubling from 4 KiB (a triad working set of 12
/// KiB, inside any L1 cache) up to `largest`.
pub fn sweep_sizes(largest: u64) -> Vec<u64> {
    super::pingpong::sizes(MIN_ARRAY_BYTES, largest)
}

/// The smallest array, in bytes.
pub const MIN_ARRAY_BYTES: u64 = 4 * 1024;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_worker_computes_its_own_part_and_bytes_are_counted_as_stream_does() {
        let k = Stream::new(Op::Triad, 1 << 20, false);
        for i in 0..3 {
            k.setup_worker(i, 3, None);
        }
        let parts: Vec<Partial> = (0..3).map(|i| k.task(i, 3, 3)).collect();
        let out = k.finish(0.0, &parts, 3);
        assert_eq!(out.output(Output::DataOk), Some(1.0));
        let passes = k.passes(1 << 20);
        assert_eq!(passes, 86, "256 MiB / 3 MiB, rounded up");
        assert_eq!(
            out.output(Output::BytesMoved),
            Some((passes * (1 << 20) * 3) as f64)
        );
        assert_eq!(out.output(Output::WorkingSetBytes), Some(3.0 * 1048576.0));
        assert_eq!(out.output(Output::SizeBytes), None, "not a sweep");
        let mut o = out.clone();
        k.point_outputs(0.5, &mut o);
        let gb = o.output(Output::BandwidthGbS).expect("bandwidth");
        assert!((gb - (passes * 3 * 1048576) as f64 / 0.5 / 1e9).abs() < 1e-9);
    }

    #[test]
    fn a_point_size_replaces_the_default_and_copy_moves_two_arrays() {
        let k = Stream::new(Op::Copy, 1 << 20, true);
        k.setup_worker(0, 1, Some(16384));
        let p = k.task(0, 1, 1);
        let out = k.finish(0.0, &[p], 1);
        assert_eq!(out.output(Output::SizeBytes), Some(32768.0));
        assert_eq!(out.output(Output::DataOk), Some(1.0));
        assert_eq!(p.units, p.count * 16384 * 2);
        assert_eq!(sweep_sizes(1 << 20).len(), 9, "4 KiB to 1 MiB");
    }
}
