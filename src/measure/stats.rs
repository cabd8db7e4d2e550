//! Summary statistics of one point's repetitions.
//!
//! - The median is the point's time: robust to the odd slow repetition.
//! - The 95 % confidence interval of the median is a bootstrap percentile interval: 2,000
//!   resamples with replacement, with a fixed seed so that the same samples always give the
//!   same interval.
//! - Outliers are repetitions whose modified z-score (Iglewicz and Hoaglin: 0.6745 · |x −
//!   median| / MAD) is above 3.5.

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Summary of one point's timed repetitions.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Number of repetitions.
    pub n: usize,
    /// Median.
    pub median: f64,
    /// Minimum.
    pub min: f64,
    /// Maximum.
    pub max: f64,
    /// 95 % bootstrap percentile interval of the median.
    pub ci95: [f64; 2],
    /// Which repetitions are outliers, in input order.
    pub outlier: Vec<bool>,
}

/// Resamples used for the bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Modified z-score above which a repetition is an outlier.
pub const OUTLIER_Z: f64 = 3.5;

/// The median of `values` (NaN-free). Empty input gives NaN.
pub fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Summarizes `samples` (seconds; at least one).
pub fn summarize(samples: &[f64]) -> Summary {
    let n = samples.len();
    let med = median(samples);
    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);

    let deviations: Vec<f64> = samples.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&deviations);
    let outlier = samples
        .iter()
        .map(|x| mad > 0.0 && 0.6745 * (x - med).abs() / mad > OUTLIER_Z)
        .collect();

    let ci95 = if n < 2 {
        [med, med]
    } else {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5eed_c195);
        let mut medians = Vec::with_capacity(BOOTSTRAP_RESAMPLES);
        let mut resample = vec![0.0; n];
        for _ in 0..BOOTSTRAP_RESAMPLES {
            for r in resample.iter_mut() {
                // n is small (repetitions); the modulo bias of 2^64 mod n is negligible.
                *r = samples[(rng.next_u64() % n as u64) as usize];
            }
            medians.push(median(&resample));
        }
        medians.sort_by(f64::total_cmp);
        let lo = medians[(BOOTSTRAP_RESAMPLES as f64 * 0.025) as usize];
        let hi =
            medians[((BOOTSTRAP_RESAMPLES as f64 * 0.975) as usize).min(BOOTSTRAP_RESAMPLES - 1)];
        [lo, hi]
    };
    Summary {
        n,
        median: med,
        min,
        max,
        ci95,
        outlier,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_odd_even_and_order() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn summary_by_hand() {
        // Sorted 0.99 1.0 1.01 1.02 2.0: median 1.01; deviations 0.02 0.01 0 0.01 0.99 → MAD
        // 0.01. z(2.0) = 0.6745 · 0.99 / 0.01 = 66.8 > 3.5: an outlier; z(0.99) = 1.35: not.
        let s = summarize(&[1.0, 0.99, 1.01, 1.02, 2.0]);
        assert_eq!(s.median, 1.01);
        assert_eq!(s.min, 0.99);
        assert_eq!(s.max, 2.0);
        assert_eq!(s.outlier, [false, false, false, false, true]);
        assert!(s.ci95[0] <= s.median && s.median <= s.ci95[1]);
        assert!(s.ci95[0] >= 0.99 && s.ci95[1] <= 2.0);
        // Deterministic: the same samples give the same interval.
        assert_eq!(summarize(&[1.0, 0.99, 1.01, 1.02, 2.0]).ci95, s.ci95);
    }

    #[test]
    fn identical_samples_have_a_zero_width_interval_and_no_outliers() {
        let s = summarize(&[0.5; 4]);
        assert_eq!(s.ci95, [0.5, 0.5]);
        assert!(s.outlier.iter().all(|o| !o));
        let one = summarize(&[0.7]);
        assert_eq!(one.ci95, [0.7, 0.7]);
    }
}
