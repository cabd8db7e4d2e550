//! Monte Carlo π: points uniform in the unit square; the fraction inside the quarter circle
//! approaches π/4.

use super::rng::{LANES, Lanes, Xoshiro256pp};
use super::simd::{self, Path};
use super::{Kernel, Outputs, Partial, share};
use crate::kernel::Output;

/// Strong scaling splits `samples` over the workers; weak scaling gives each worker `samples`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Fixed total work.
    Strong,
    /// Fixed work per worker.
    Weak,
}

/// The kernel's parameters.
#[derive(Debug, Clone)]
pub struct McPi {
    /// Total samples (strong) or samples per worker (weak).
    pub samples: u64,
    /// Strong or weak scaling.
    pub mode: Mode,
    /// Seed of the random streams; worker `k` uses the seed's stream long-jumped `k` times.
    pub seed: u64,
}

/// Coordinates are 31-bit integers, so x² + y² fits in a u64 and the test is exact
/// integer arithmetic: inside when x² + y² < (2^31)².
const BITS: u32 = 31;
const RADIUS_SQ: u64 = 1 << (2 * BITS);

/// Counts the points inside the quarter circle among `n` points of `rng`'s lanes, on the
/// widest vector instructions this CPU has ([`Path::best`]); every path gives the same count.
pub fn count_inside(rng: &mut Lanes, n: u64) -> u64 {
    simd::count_inside(Path::best(), rng, n)
}

/// The loop of [`count_inside`], inlined into each of [`simd`]'s compilations of it, which
/// choose `G` and `COMPARE` for their registers; every choice gives the same count, and
/// leaves every lane where [`Lanes::next_block`] would.
///
/// The lanes are taken `G` at a time, each group through all its rounds: the sum of the
/// counts is the same in any order, and a group small enough for the registers keeps its
/// state there (AVX2: 8 lanes; 16 would spill to memory on every round).
///
/// `COMPARE` says how a point is tested, with the same answer either way: x² + y² < 2^63,
/// so bit 62 alone says whether it reached (2^31)² = 2^62, and a shift tells it, which
/// suits SSE2 (no 64-bit compare); AVX2 has the compare, which leaves the shift unit to
/// the generator.
#[inline(always)]
pub(super) fn count_inside_with<const G: usize, const COMPARE: bool>(
    rng: &mut Lanes,
    n: u64,
) -> u64 {
    let rounds = n / LANES as u64;
    // The last few points, fewer than a round: the first lanes of one more round.
    let rest = (n % LANES as u64) as usize;
    let mut total = 0;
    for g in 0..LANES / G {
        let mut inside = [0u64; G];
        for _ in 0..rounds {
            let r = rng.next_group::<G>(g);
            for (count, v) in inside.iter_mut().zip(r) {
                let x = v >> (64 - BITS);
                let y = v & ((1 << BITS) - 1);
                let d = x * x + y * y;
                *count += if COMPARE {
                    u64::from(d < RADIUS_SQ)
                } else {
                    1 - (d >> (2 * BITS))
                };
            }
        }
        total += inside.iter().sum::<u64>();
        if rest > 0 {
            let r = rng.next_group::<G>(g);
            for v in r.iter().take(rest.saturating_sub(g * G)) {
                let x = v >> (64 - BITS);
                let y = v & ((1 << BITS) - 1);
                total += u64::from(x * x + y * y < RADIUS_SQ);
            }
        }
    }
    total
}

impl McPi {
    /// Points drawn in total for a run on `workers` workers.
    pub fn total_samples(&self, workers: usize) -> u64 {
        match self.mode {
            Mode::Strong => self.samples,
            Mode::Weak => self.samples.saturating_mul(workers as u64),
        }
    }
}

impl McPi {
    /// [`Kernel::task`] on the vector path `path` (the kernel itself takes
    /// [`Path::best`]): `hpc-tutor bench` compares the paths with it.
    pub fn task_on(&self, path: Path, index: usize, tasks: usize, workers: usize) -> Partial {
        let n = match self.mode {
            Mode::Strong => {
                let r = share(self.samples, index, tasks);
                r.end - r.start
            }
            Mode::Weak => {
                let r = share(self.total_samples(workers), index, tasks);
                r.end - r.start
            }
        };
        let mut rng = Lanes::new(Xoshiro256pp::for_worker(self.seed, index));
        Partial {
            count: simd::count_inside(path, &mut rng, n),
            sum: 0.0,
            units: n,
        }
    }
}

impl Kernel for McPi {
    fn task(&self, index: usize, tasks: usize, workers: usize) -> Partial {
        self.task_on(Path::best(), index, tasks, workers)
    }

    fn finish(&self, _serial: f64, partials: &[Partial], workers: usize) -> Outputs {
        let inside: u64 = partials.iter().map(|p| p.count).sum();
        let total = self.total_samples(workers);
        // Counts below 2^53 convert to f64 exactly.
        let estimate = 4.0 * inside as f64 / total.max(1) as f64;
        Outputs::from([
            (Output::Estimate.key().to_owned(), estimate),
            (
                "abs_error".to_owned(),
                (estimate - std::f64::consts::PI).abs(),
            ),
            (Output::Samples.key().to_owned(), total as f64),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(k: &McPi, workers: usize) -> Outputs {
        let parts: Vec<Partial> = (0..workers).map(|i| k.task(i, workers, workers)).collect();
        k.finish(0.0, &parts, workers)
    }

    #[test]
    fn estimate_is_close_and_reproducible() {
        let k = McPi {
            samples: 2_000_003,
            mode: Mode::Strong,
            seed: 42,
        };
        let a = run(&k, 3);
        let b = run(&k, 3);
        assert_eq!(a, b, "same seed and workers: same numbers");
        // Standard error is sqrt(pi(4-pi)/n) ~ 0.0012; allow 5 standard errors.
        assert!(a["abs_error"] < 0.006, "{a:?}");
        assert_eq!(a["samples"], 2_000_003.0);
        let other_seed = run(
            &McPi {
                seed: 43,
                ..k.clone()
            },
            3,
        );
        assert_ne!(a["estimate"], other_seed["estimate"]);
    }

    #[test]
    fn weak_mode_scales_the_total() {
        let k = McPi {
            samples: 10_000,
            mode: Mode::Weak,
            seed: 1,
        };
        assert_eq!(run(&k, 4)["samples"], 40_000.0);
    }

    #[test]
    fn counting_handles_partial_rounds() {
        let mut a = Lanes::new(Xoshiro256pp::seed_from_u64(5));
        let mut b = Lanes::new(Xoshiro256pp::seed_from_u64(5));
        let full = count_inside(&mut a, 16);
        let part = count_inside(&mut b, 13);
        assert!(part <= full && full - part <= 3);
    }
}
