//! Where a deadlock probe goes next: the eager-limit sweep of `exchange`.
//!
//! Each size is one launch, and a size that deadlocks costs the whole deadline, so the
//! probe tries as few sizes as finding the limit to the byte needs:
//!
//! 1. **The ladder**: the sizes it is given (1, 2, 4, … B), smallest first, until one
//!    deadlocks.
//! 2. **Bisection** between the largest size that completed and the first that deadlocked,
//!    until they are one byte apart: the largest message that completes.
//! 3. **One sample above**: the ladder's largest size, if it is above the first deadlock.
//!    Every size above the first deadlocked one is not waited for: on one transport a
//!    message that needed the rendezvous protocol does so at every larger size too, and the
//!    sample checks that on this run instead of assuming it.
//!
//! If every size of the ladder completes, or the smallest one deadlocks, there is nothing to
//! bisect.

/// The state of one probe. Ask [`Probe::next`] for a size, run it, tell [`Probe::record`]
/// whether it completed, repeat until `next` says `None`.
#[derive(Debug, Clone)]
pub struct Probe {
    ladder: Vec<u64>,
    phase: Phase,
    /// The largest size that completed below `hi`.
    lo: Option<u64>,
    /// The smallest size that deadlocked.
    hi: Option<u64>,
    /// The ladder's size that deadlocked first.
    first_deadlock: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Trying the ladder's size at this index.
    Ladder(usize),
    /// Halving the gap between `lo` and `hi`.
    Bisect,
    /// Trying this size above the first deadlock.
    Sample(u64),
    Done,
}

impl Probe {
    /// A probe over `ladder` (sizes in bytes, increasing).
    pub fn new(mut ladder: Vec<u64>) -> Self {
        ladder.sort_unstable();
        ladder.dedup();
        let phase = if ladder.is_empty() {
            Phase::Done
        } else {
            Phase::Ladder(0)
        };
        Self {
            ladder,
            phase,
            lo: None,
            hi: None,
            first_deadlock: None,
        }
    }

    /// The next size to try, or `None` when the probe is done.
    pub fn next(&self) -> Option<u64> {
        match self.phase {
            Phase::Ladder(i) => self.ladder.get(i).copied(),
            Phase::Bisect => match (self.lo, self.hi) {
                (Some(lo), Some(hi)) => Some(lo + (hi - lo) / 2),
                _ => None,
            },
            Phase::Sample(size) => Some(size),
            Phase::Done => None,
        }
    }

    /// Records how `size` (the one [`Probe::next`] gave) ended.
    pub fn record(&mut self, size: u64, completed: bool) {
        match self.phase {
            Phase::Ladder(i) if completed => {
                self.lo = Some(size);
                self.phase = if i + 1 < self.ladder.len() {
                    Phase::Ladder(i + 1)
                } else {
                    Phase::Done
                };
            }
            Phase::Ladder(_) => {
                self.hi = Some(size);
                self.first_deadlock = Some(size);
                self.phase = self.after_ladder_step();
            }
            Phase::Bisect => {
                if completed {
                    self.lo = Some(size);
                } else {
                    self.hi = Some(size);
                }
                self.phase = self.after_ladder_step();
            }
            Phase::Sample(_) | Phase::Done => self.phase = Phase::Done,
        }
    }

    /// Bisect while the gap is wider than a byte, then sample the ladder's top if it is
    /// above the first deadlock.
    fn after_ladder_step(&self) -> Phase {
        match (self.lo, self.hi, self.first_deadlock, self.ladder.last()) {
            (Some(lo), Some(hi), _, _) if hi > lo + 1 => Phase::Bisect,
            (_, _, Some(first), Some(&top)) if top > first => Phase::Sample(top),
            _ => Phase::Done,
        }
    }

    /// At most how many more sizes the probe tries (for a progress estimate).
    pub fn remaining_at_most(&self) -> usize {
        let bisect = |lo: u64, hi: u64| (64 - (hi - lo).leading_zeros()) as usize;
        match self.phase {
            Phase::Ladder(i) => {
                let left = self.ladder.len() - i;
                // Bisecting a doubling rung takes about log2 of its size.
                let gap = self.ladder.last().map_or(0, |&top| bisect(0, top / 2));
                left + gap + 1
            }
            Phase::Bisect => match (self.lo, self.hi) {
                (Some(lo), Some(hi)) => bisect(lo, hi) + 1,
                _ => 1,
            },
            Phase::Sample(_) => 1,
            Phase::Done => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ladder(max: u64) -> Vec<u64> {
        std::iter::successors(Some(1u64), |s| Some(s * 2))
            .take_while(|&s| s <= max)
            .collect()
    }

    /// Runs a probe against a library whose largest eager message is `limit` bytes (sizes
    /// above it deadlock); returns the sizes tried, in order.
    fn run(max: u64, limit: u64) -> (Vec<u64>, Probe) {
        let mut p = Probe::new(ladder(max));
        let mut tried = Vec::new();
        while let Some(s) = p.next() {
            assert!(tried.len() < 200, "the probe ends");
            tried.push(s);
            p.record(s, s <= limit);
        }
        (tried, p)
    }

    #[test]
    fn the_ladder_stops_at_the_first_deadlock_and_bisects_to_the_byte() {
        let (tried, p) = run(1 << 24, 4040);
        // 1 … 4096 on the ladder, then bisection between 2048 and 4096, then 16 MiB.
        assert_eq!(&tried[..13], &ladder(4096)[..]);
        assert_eq!(tried[13], 3072);
        assert_eq!(tried.last(), Some(&(1 << 24)), "one sample above");
        assert_eq!((p.lo, p.hi), (Some(4040), Some(4041)));
        // 13 rungs + 11 halvings of 2048 + 1 sample: not the 25 rungs of the whole ladder
        // each waiting for its deadline.
        assert_eq!(tried.len(), 13 + 11 + 1);
        let deadlocks = tried.iter().filter(|&&s| s > 4040).count();
        assert!(deadlocks <= 13, "{deadlocks} deadlocks: {tried:?}");
    }

    #[test]
    fn a_deadlock_at_the_top_rung_is_bisected_with_no_sample_above() {
        let (tried, p) = run(8, 4);
        assert_eq!(tried, [1, 2, 4, 8, 6, 5]);
        assert_eq!((p.lo, p.hi), (Some(4), Some(5)));
        assert!(p.next().is_none());
    }

    #[test]
    fn every_size_completing_or_none_completing_ends_without_bisection() {
        let (tried, _) = run(1024, u64::MAX);
        assert_eq!(tried, ladder(1024));
        let (tried, p) = run(1024, 0);
        assert_eq!(tried, [1, 1024], "the smallest deadlocks; one sample above");
        assert_eq!((p.lo, p.hi), (None, Some(1)));
    }

    #[test]
    fn the_estimate_never_undercounts() {
        for limit in [0, 1, 3, 100, 4040, 4096, 65_000, u64::MAX] {
            let mut p = Probe::new(ladder(1 << 20));
            let mut tried = 0;
            while let Some(s) = p.next() {
                let bound = p.remaining_at_most();
                let mut rest = p.clone();
                let mut left = 0;
                while let Some(t) = rest.next() {
                    left += 1;
                    rest.record(t, t <= limit);
                }
                assert!(left <= bound, "limit {limit}: {left} > {bound}");
                p.record(s, s <= limit);
                tried += 1;
            }
            assert!(tried > 0);
        }
    }
}
