//! Scaling models fitted to measured speedups.
//!
//! - Amdahl (strong scaling): 1/S(N) = s + (1 − s)/N. With x = 1/N this is
//!   1/S − x = s · (1 − x), a line through the origin; least squares gives
//!   s = Σ (1 − x)(1/S − x) / Σ (1 − x)².
//! - Gustafson (weak scaling): S(N) = N − s · (N − 1), so N − S = s · (N − 1) and
//!   s = Σ (N − 1)(N − S) / Σ (N − 1)².
//! - Karp–Flatt: e(N) = (1/S − 1/N) / (1 − 1/N), the serial fraction that would explain the
//!   speedup measured at N alone.

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
}
