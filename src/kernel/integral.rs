//! The trapezoid rule for the integral of f(x) = x² over [a, b] with n intervals.

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
    /// rounding does not drift over 10⁸ steps.
    fn interior_sum(&self, range: std::ops::Range<u64>) -> f64 {
        let h = (self.b - self.a) / self.n as f64;
        let mut acc = [0.0f64; ACC];
        let mut i = range.start;
        while i + ACC as u64 <= range.end {
            // Indices below 2^53 convert to f64 exactly.
            let x0 = self.a + i as f64 * h;
            for (j, a) in acc.iter_mut().enumerate() {
                *a += f(x0 + j as f64 * h);
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

    /// The exact value, (b³ − a³) / 3.
    pub fn exact(&self) -> f64 {
        (self.b.powi(3) - self.a.powi(3)) / 3.0
    }
}

impl Kernel for Integral {
    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        // Interior points are 1..n; the end points are added in `finish`.
        let r = share(self.n.saturating_sub(1), index, tasks);
        let range = r.start + 1..r.end + 1;
        Partial {
            count: 0,
            sum: self.interior_sum(range.clone()),
            units: range.end - range.start,
        }
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
