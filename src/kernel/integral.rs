//! The trapezoid rule for the integral of f(x) = x² over [a, b] with n intervals.

use super::simd::{self, Path};
use super::{Kernel, Outputs, Partial, share};
use crate::kernel::Output;

/// The kernel's parameters.
#[derive(Debug, Clone)]
pub struct Integral {
    /// Lower bound.
    pub a: f64,
    /// Upper bound.
    pub b: f64,
    /// Number of intervals.
    pub n: u64,
}

fn f(x: f64) -> f64 {
    x * x
}

/// Accumulators summed side by side, so the additions can run in SIMD registers.
const ACC: usize = 8;

impl Integral {
    /// Σ f(a + i·h) for i in `range`, summed in blocks re-anchored from the exact index so
    /// rounding does not drift over 10⁸ steps. Compiled once per vector path by [`simd`];
    /// every path gives the same bits.
    #[inline(always)]
    pub(super) fn interior_sum_with(&self, range: std::ops::Range<u64>) -> f64 {
        let h = (self.b - self.a) / self.n as f64;
        let mut acc = [0.0f64; ACC];
        // j·h, the same products as computing them in the loop; kept in an array, the
        // loop is vectorized on every path (with AVX2, LLVM leaves `j as f64 * h` scalar).
        let mut offset = [0.0f64; ACC];
        for (j, o) in offset.iter_mut().enumerate() {
            *o = j as f64 * h;
        }
        let mut i = range.start;
        while i + ACC as u64 <= range.end {
            // Indices below 2^53 convert to f64 exactly; through i64 (n ≤ 10^11 < 2^63:
            // the same value) it is one instruction, where u64 takes several without AVX-512.
            let x0 = self.a + i as i64 as f64 * h;
            for (a, o) in acc.iter_mut().zip(offset) {
                *a += f(x0 + o);
            }
            i += ACC as u64;
        }
        let mut sum: f64 = acc.iter().sum();
        while i < range.end {
            sum += f(self.a + i as f64 * h);
            i += 1;
        }
        sum
    }

    /// [`Kernel::task`] on the vector path `path` (the kernel itself takes
    /// [`Path::best`]): `hpc-tutor bench` compares the paths with it.
    pub fn task_on(&self, path: Path, index: usize, tasks: usize) -> Partial {
        // Interior points are 1..n; the end points are added in `finish`.
        let r = share(self.n.saturating_sub(1), index, tasks);
        let range = r.start + 1..r.end + 1;
        Partial {
            count: 0,
            sum: simd::interior_sum(path, self, range.clone()),
            units: range.end - range.start,
        }
    }

    /// The exact value, (b³ − a³) / 3.
    pub fn exact(&self) -> f64 {
        (self.b.powi(3) - self.a.powi(3)) / 3.0
    }
}

impl Kernel for Integral {
    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        self.task_on(Path::best(), index, tasks)
    }

    fn finish(&self, _serial: f64, partials: &[Partial], _workers: usize) -> Outputs {
        let h = (self.b - self.a) / self.n as f64;
        let interior: f64 = partials.iter().map(|p| p.sum).sum();
        let value = h * (0.5 * (f(self.a) + f(self.b)) + interior);
        Outputs::from([
            (Output::Value.key().to_owned(), value),
            (
                Output::AbsError.key().to_owned(),
                (value - self.exact()).abs(),
            ),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_trapezoid_error_formula() {
        // For x², the trapezoid error is exactly (b − a)·h²/6.
        let k = Integral {
            a: 0.0,
            b: 100.0,
            n: 100_000,
        };
        for workers in [1, 2, 3, 7] {
            let parts: Vec<Partial> = (0..workers).map(|i| k.task(i, workers, workers)).collect();
            let out = k.finish(0.0, &parts, workers);
            let h: f64 = 100.0 / 100_000.0;
            let expected_error = 100.0 * h * h / 6.0;
            assert!(
                (out["abs_error"] - expected_error).abs() < 1e-6,
                "{workers}: {out:?} vs {expected_error}"
            );
        }
    }
}
