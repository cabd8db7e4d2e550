//! Scaling models fitted to measured speedups.
//!
//! - Amdahl (strong scaling): 1/S(N) = s + (1 − s)/N. With x = 1/N this is
//!   1/S − x = s · (1 − x), a line through the origin; least squares gives
//!   s = Σ (1 − x)(1/S − x) / Σ (1 − x)².
//! - Gustafson (weak scaling): S(N) = N − s · (N − 1), so N − S = s · (N − 1) and
//!   s = Σ (N − 1)(N − S) / Σ (N − 1)².
//! - Karp–Flatt: e(N) = (1/S − 1/N) / (1 − 1/N), the serial fraction that would explain the
//!   speedup measured at N alone.
//! - Latency–bandwidth (the cost of one message of n bytes): T(n) = α + n/β. A straight
//!   line T = a + b·n fitted by weighted least squares with weights 1/T², i.e. minimizing
//!   the relative errors: message times span six orders of magnitude, and plain least
//!   squares would let the largest messages decide α. Then α = a and β = 1/b.

/// A fitted serial fraction and how well the model then matches the measured speedups.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    /// Serial fraction, clamped to 0..=1.
    pub serial_fraction: f64,
    /// Root-mean-square difference between measured and modelled speedups.
    pub rmse: f64,
    /// Coefficient of determination of the speedups; `None` when they do not vary.
    pub r2: Option<f64>,
    /// Points with N > 1 used.
    pub points: usize,
}

/// Amdahl's speedup for serial fraction `s` on `n` workers.
pub fn amdahl_speedup(s: f64, n: f64) -> f64 {
    1.0 / (s + (1.0 - s) / n)
}

/// Gustafson's scaled speedup for serial fraction `s` on `n` workers.
pub fn gustafson_speedup(s: f64, n: f64) -> f64 {
    n - s * (n - 1.0)
}

/// Karp–Flatt metric for speedup `s` on `n` > 1 workers.
pub fn karp_flatt(speedup: f64, n: usize) -> Option<f64> {
    if n < 2 || !(speedup.is_finite() && speedup > 0.0) {
        return None;
    }
    let n = n as f64;
    Some((1.0 / speedup - 1.0 / n) / (1.0 - 1.0 / n))
}

fn usable(points: &[(usize, f64)]) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter(|(n, s)| *n > 1 && s.is_finite() && *s > 0.0)
        .map(|&(n, s)| (n as f64, s))
        .collect()
}

fn quality(points: &[(f64, f64)], s: f64, model: fn(f64, f64) -> f64) -> (f64, Option<f64>) {
    let k = points.len() as f64;
    let sse: f64 = points
        .iter()
        .map(|&(n, sp)| (sp - model(s, n)).powi(2))
        .sum();
    let mean = points.iter().map(|p| p.1).sum::<f64>() / k;
    let sst: f64 = points.iter().map(|p| (p.1 - mean).powi(2)).sum();
    let r2 = (sst > 1e-12).then(|| 1.0 - sse / sst);
    ((sse / k).sqrt(), r2)
}

/// Fits Amdahl's law to `(workers, speedup)` points; needs at least one point with N > 1.
pub fn fit_amdahl(points: &[(usize, f64)]) -> Option<Fit> {
    let p = usable(points);
    if p.is_empty() {
        return None;
    }
    let (num, den) = p.iter().fold((0.0, 0.0), |(num, den), &(n, s)| {
        let x = 1.0 / n;
        (num + (1.0 - x) * (1.0 / s - x), den + (1.0 - x).powi(2))
    });
    let s = (num / den).clamp(0.0, 1.0);
    let (rmse, r2) = quality(&p, s, amdahl_speedup);
    Some(Fit {
        serial_fraction: s,
        rmse,
        r2,
        points: p.len(),
    })
}

/// Fits Gustafson's law to `(workers, scaled speedup)` points.
pub fn fit_gustafson(points: &[(usize, f64)]) -> Option<Fit> {
    let p = usable(points);
    if p.is_empty() {
        return None;
    }
    let (num, den) = p.iter().fold((0.0, 0.0), |(num, den), &(n, s)| {
        (num + (n - 1.0) * (n - s), den + (n - 1.0).powi(2))
    });
    let s = (num / den).clamp(0.0, 1.0);
    let (rmse, r2) = quality(&p, s, gustafson_speedup);
    Some(Fit {
        serial_fraction: s,
        rmse,
        r2,
        points: p.len(),
    })
}

/// The message-cost model T(n) = α + n/β fitted to measured times.
#[derive(Debug, Clone, PartialEq)]
pub struct LatencyBandwidth {
    /// α, seconds.
    pub latency_s: f64,
    /// β, bytes per second.
    pub bandwidth_bytes_s: f64,
    /// Root-mean-square of the relative differences (T − model) / T.
    pub rel_rmse: f64,
    /// Weighted coefficient of determination; `None` when the times do not vary.
    pub r2: Option<f64>,
    /// Points used.
    pub points: usize,
}

/// Fits T(n) = α + n/β to `(bytes, seconds)` points with positive times. Needs at least two
/// distinct sizes, and times that grow with the size (β > 0); `None` otherwise.
pub fn fit_latency_bandwidth(points: &[(f64, f64)]) -> Option<LatencyBandwidth> {
    let p: Vec<(f64, f64)> = points
        .iter()
        .copied()
        .filter(|(n, t)| n.is_finite() && *n >= 0.0 && t.is_finite() && *t > 0.0)
        .collect();
    if p.len() < 2 {
        return None;
    }
    let (mut s, mut sx, mut sy, mut sxx, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &(n, t) in &p {
        let w = 1.0 / (t * t);
        s += w;
        sx += w * n;
        sy += w * t;
        sxx += w * n * n;
        sxy += w * n * t;
    }
    let det = s * sxx - sx * sx;
    // Equal sizes only: no slope to find. Relative to the scale of the sizes.
    if det <= 1e-12 * s * sxx {
        return None;
    }
    let b = (s * sxy - sx * sy) / det;
    let a = (sy - b * sx) / s;
    if !(b.is_finite() && b > 0.0 && a.is_finite()) {
        return None;
    }
    let mean = sy / s;
    let (mut sse, mut sst, mut rel) = (0.0, 0.0, 0.0);
    for &(n, t) in &p {
        let w = 1.0 / (t * t);
        let r = t - (a + b * n);
        sse += w * r * r;
        sst += w * (t - mean).powi(2);
        rel += (r / t).powi(2);
    }
    Some(LatencyBandwidth {
        latency_s: a,
        bandwidth_bytes_s: 1.0 / b,
        rel_rmse: (rel / p.len() as f64).sqrt(),
        // With weights 1/T², both sums are of squared relative differences.
        r2: (sst > 1e-12).then(|| 1.0 - sse / sst),
        points: p.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn amdahl_recovers_an_exact_serial_fraction() {
        let pts: Vec<(usize, f64)> = [1, 2, 4, 8]
            .iter()
            .map(|&n| (n, amdahl_speedup(0.25, n as f64)))
            .collect();
        // By hand: S(2) = 1/(0.25 + 0.375) = 1.6; S(4) = 1/(0.25 + 0.1875) = 2.2857.
        assert!(close(pts[1].1, 1.6));
        assert!(close(pts[2].1, 1.0 / 0.4375));
        let f = fit_amdahl(&pts).expect("fit");
        assert!(close(f.serial_fraction, 0.25));
        assert!(f.rmse < 1e-9);
        assert_eq!(f.points, 3);
        assert!(close(f.r2.expect("varies"), 1.0));
    }

    #[test]
    fn amdahl_least_squares_by_hand() {
        // One point: S(2) = 1.8 → 1/1.8 − 0.5 = s · 0.5 → s = 0.1111…
        let f = fit_amdahl(&[(1, 1.0), (2, 1.8)]).expect("fit");
        assert!(close(f.serial_fraction, (1.0 / 1.8 - 0.5) / 0.5));
        assert!(fit_amdahl(&[(1, 1.0)]).is_none());
        // Superlinear speedup clamps to 0.
        assert_eq!(fit_amdahl(&[(2, 2.5)]).expect("fit").serial_fraction, 0.0);
    }

    #[test]
    fn gustafson_by_hand() {
        // s = 0.25: S(4) = 4 − 0.75 = 3.25; S(2) = 1.75.
        assert!(close(gustafson_speedup(0.25, 4.0), 3.25));
        let f = fit_gustafson(&[(1, 1.0), (2, 1.75), (4, 3.25)]).expect("fit");
        assert!(close(f.serial_fraction, 0.25));
    }

    #[test]
    fn karp_flatt_by_hand() {
        // S(2) = 1.6 → (0.625 − 0.5) / 0.5 = 0.25.
        assert!(close(karp_flatt(1.6, 2).expect("n > 1"), 0.25));
        assert_eq!(karp_flatt(1.0, 1), None);
    }

    #[test]
    fn latency_bandwidth_recovers_alpha_and_beta() {
        // α = 1 µs, β = 1e9 B/s: T(0) = 1 µs, T(1000) = 2 µs, T(1e6) = 1001 µs.
        let alpha = 1e-6;
        let beta = 1e9;
        let pts: Vec<(f64, f64)> = (0..25)
            .map(|k| {
                let n = (1u64 << k) as f64;
                (n, alpha + n / beta)
            })
            .collect();
        let f = fit_latency_bandwidth(&pts).expect("fit");
        assert!((f.latency_s - alpha).abs() < 1e-12, "{f:?}");
        assert!((f.bandwidth_bytes_s - beta).abs() / beta < 1e-9, "{f:?}");
        assert!(f.rel_rmse < 1e-9);
        assert_eq!(f.points, 25);
        assert!(close(f.r2.expect("varies"), 1.0));
        // Times of real messages (µs and ms) still have an R².
        let real = [(1.0, 3e-7), (4096.0, 4.6e-6), (1048576.0, 1.2e-4)];
        assert!(fit_latency_bandwidth(&real).expect("fit").r2.is_some());

        // A 10 % error on the largest message barely moves α: the errors are relative.
        let mut noisy = pts.clone();
        noisy[24].1 *= 1.1;
        let g = fit_latency_bandwidth(&noisy).expect("fit");
        assert!((g.latency_s - alpha).abs() < 0.05 * alpha, "{g:?}");

        // By hand, two points: (0, 1) and (10, 2) → a = 1, b = 0.1 → β = 10.
        let h = fit_latency_bandwidth(&[(0.0, 1.0), (10.0, 2.0)]).expect("fit");
        assert!(close(h.latency_s, 1.0) && close(h.bandwidth_bytes_s, 10.0));

        assert!(fit_latency_bandwidth(&[(8.0, 1.0)]).is_none(), "one point");
        assert!(
            fit_latency_bandwidth(&[(8.0, 1.0), (8.0, 2.0)]).is_none(),
            "one size"
        );
        assert!(
            fit_latency_bandwidth(&[(1.0, 2.0), (100.0, 1.0)]).is_none(),
            "times that fall with the size have no bandwidth"
        );
    }
}
