//! A task farm over a real kernel, the course's parallel string matching: each of `tasks`
//! left strings (one task each) is compared with every one of `right` right strings by
//! Levenshtein edit distance, and a pair whose ratio `1 − distance / longer length` is at
//! least [`MATCH_RATIO`] counts as a match.
//!
//! How the tasks are handed out is the experiment: `static` (contiguous equal chunks, as a
//! scatter does), `round-robin` (task i to worker i mod n), `manager` (on MPI, rank 0 hands
//! out one task at a time on request; on threads, each worker takes the next task from a
//! shared counter — shared memory needs no manager). With `cost = ramp`, left string i is
//! from 1 to 8 times `length` long, growing with i (data sorted by length), so a task's
//! cost grows with its index and equal chunks are unequal work.
//!
//! The strings are generated from a fixed seed: the same parameters give the same strings
//! and the same number of matches on every backend, distribution and worker count.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use super::rng::Xoshiro256pp;
use super::{Kernel, Output, Outputs, OutputsExt, Partial, share};

/// A pair matches when `1 − distance / longer length` is at least this.
pub const MATCH_RATIO: f64 = 0.7;

/// The longest a ramp makes a left string, in multiples of `length`.
pub const RAMP: u64 = 8;

/// The letters of the strings (DNA's, so that chance similarity is common enough).
const ALPHABET: &[u8] = b"ACGT";

/// How task costs spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    /// Every left string `length` long.
    Even,
    /// Left string i from 1 to [`RAMP`] times `length` long, growing with i.
    Ramp,
}

/// How tasks are handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Contiguous equal chunks.
    Static,
    /// Task i to worker i mod n.
    RoundRobin,
    /// One at a time, on request.
    Manager,
}

impl Distribution {
    /// Every distribution, in the order `distribution = all` compares them.
    pub const NAMES: &'static [&'static str] = &["static", "round-robin", "manager"];

    /// The distribution called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "static" => Some(Self::Static),
            "round-robin" => Some(Self::RoundRobin),
            "manager" => Some(Self::Manager),
            _ => None,
        }
    }
}

/// The sizes of a farm, from its parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// Left strings: one task each.
    pub tasks: u64,
    /// Right strings each task compares with.
    pub right: u64,
    /// Base string length.
    pub length: u64,
    /// How the left strings' lengths spread.
    pub cost: Cost,
}

impl Shape {
    /// Length of left string `i`.
    pub fn left_len(&self, i: u64) -> u64 {
        match self.cost {
            Cost::Even => self.length,
            Cost::Ramp => {
                let span = self.tasks.saturating_sub(1).max(1);
                self.length + self.length * (RAMP - 1) * i / span
            }
        }
    }

    /// Bytes of all strings together.
    pub fn bytes(&self) -> u64 {
        let left: u64 = match self.cost {
            Cost::Even => self.tasks * self.length,
            // The mean of a linear ramp from 1 to RAMP times the length, rounded up.
            Cost::Ramp => self.tasks * self.length * (RAMP + 1).div_ceil(2),
        };
        left + self.right * self.length
    }

    /// Cells of the edit-distance tables of the whole farm (its work, about a nanosecond
    /// each).
    pub fn cells(&self) -> u128 {
        let left: u128 = (0..self.tasks).map(|i| u128::from(self.left_len(i))).sum();
        left * u128::from(self.right) * u128::from(self.length)
    }

    /// Bytes of the buffer of all strings.
    pub fn data_len(&self) -> usize {
        let left: u64 = (0..self.tasks).map(|i| self.left_len(i)).sum();
        // Bounded by `bytes`, which the parameters' check keeps within 1 GiB.
        (left + self.right * self.length) as usize
    }

    /// Where each string lies in the byte buffer: the left strings, then the right ones.
    pub fn layout(&self) -> (Vec<Range<usize>>, Vec<Range<usize>>) {
        let mut at = 0usize;
        let mut take = |len: u64| {
            // Lengths are bounded by the parameters' ranges and the checked total.
            let r = at..at + len as usize;
            at = r.end;
            r
        };
        let left = (0..self.tasks).map(|i| take(self.left_len(i))).collect();
        let right = (0..self.right).map(|_| take(self.length)).collect();
        (left, right)
    }

    /// The strings' bytes: right strings at random; left string i begins as right string
    /// `i mod right` with about one letter in six changed (a likely match when the lengths
    /// are close), and goes on at random to its length.
    pub fn generate(&self) -> Vec<u8> {
        let (left, right) = self.layout();
        let mut data = vec![0u8; self.data_len()];
        let mut rng = Xoshiro256pp::for_worker(0x5eed, 0);
        let letter = |rng: &mut Xoshiro256pp| ALPHABET[(rng.next_u64() >> 62) as usize];
        for r in &right {
            for b in &mut data[r.clone()] {
                *b = letter(&mut rng);
            }
        }
        for (i, l) in left.iter().enumerate() {
            let origin = right.get(i % right.len().max(1)).cloned();
            for (k, at) in l.clone().enumerate() {
                let copied = origin
                    .as_ref()
                    .filter(|o| k < o.len() && !rng.next_u64().is_multiple_of(6))
                    .map(|o| data[o.start + k]);
                data[at] = match copied {
                    Some(b) => b,
                    None => letter(&mut rng),
                };
            }
        }
        data
    }
}

/// Levenshtein distance of `a` and `b`, with one row of the table (`row`, reused).
pub fn levenshtein(a: &[u8], b: &[u8], row: &mut Vec<u32>) -> u32 {
    // The shorter string along the row.
    let (a, b) = if a.len() < b.len() { (b, a) } else { (a, b) };
    row.clear();
    // At most a few thousand letters by the parameters' ranges.
    row.extend(0..=b.len() as u32);
    for (i, &ca) in a.iter().enumerate() {
        let mut diagonal = row[0];
        row[0] = i as u32 + 1;
        for j in 0..b.len() {
            let above = row[j + 1];
            let substitute = diagonal + u32::from(ca != b[j]);
            row[j + 1] = substitute.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The farm: its strings, and how its tasks are handed out.
pub struct Farm {
    /// Its sizes.
    pub shape: Shape,
    /// How tasks are handed out.
    pub distribution: Distribution,
    data: Vec<u8>,
    left: Vec<Range<usize>>,
    right: Vec<Range<usize>>,
    /// The next task to hand out, for self-scheduling threads (`manager` on threads).
    next: AtomicU64,
}

impl Farm {
    /// A farm of `shape`, its strings generated.
    pub fn new(shape: Shape, distribution: Distribution) -> Self {
        let data = shape.generate();
        Self::with_data(shape, distribution, data)
    }

    /// A farm of `shape` over `data` (an MPI rank's copy, filled by a broadcast).
    pub fn with_data(shape: Shape, distribution: Distribution, data: Vec<u8>) -> Self {
        let (left, right) = shape.layout();
        Self {
            shape,
            distribution,
            data,
            left,
            right,
            next: AtomicU64::new(0),
        }
    }

    /// The strings' bytes (to broadcast, or receive into).
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.data
    }

    /// The matches of task `i`: its left string against every right string.
    pub fn run_task(&self, i: u64, row: &mut Vec<u32>) -> u64 {
        let Some(l) = usize::try_from(i).ok().and_then(|i| self.left.get(i)) else {
            return 0;
        };
        let a = &self.data[l.clone()];
        self.right
            .iter()
            .filter(|r| {
                let b = &self.data[(*r).clone()];
                let longer = a.len().max(b.len()).max(1) as f64;
                let d = f64::from(levenshtein(a, b, row));
                1.0 - d / longer >= MATCH_RATIO
            })
            .count() as u64
    }

    /// The tasks worker `index` of `workers` does under a fixed distribution (static or
    /// round-robin).
    pub fn fixed_tasks(&self, index: usize, workers: usize) -> Box<dyn Iterator<Item = u64>> {
        let workers = workers.max(1);
        match self.distribution {
            Distribution::RoundRobin => Box::new((index as u64..self.shape.tasks).step_by(workers)),
            Distribution::Static | Distribution::Manager => {
                Box::new(share(self.shape.tasks, index, workers))
            }
        }
    }
}

impl Kernel for Farm {
    fn prepare(&self, _workers: usize) {
        self.next.store(0, Ordering::Relaxed);
    }

    fn task(&self, index: usize, _tasks: usize, workers: usize) -> Partial {
        let mut row = Vec::new();
        let (mut matches, mut done) = (0, 0);
        if self.distribution == Distribution::Manager {
            loop {
                let i = self.next.fetch_add(1, Ordering::Relaxed);
                if i >= self.shape.tasks {
                    break;
                }
                matches += self.run_task(i, &mut row);
                done += 1;
            }
        } else {
            for i in self.fixed_tasks(index, workers) {
                matches += self.run_task(i, &mut row);
                done += 1;
            }
        }
        Partial {
            count: matches,
            sum: 0.0,
            units: done,
        }
    }

    fn finish(&self, _serial: f64, partials: &[Partial], _workers: usize) -> Outputs {
        let mut out = Outputs::new();
        out.set_output(
            Output::Matches,
            partials.iter().map(|p| p.count).sum::<u64>() as f64,
        );
        let done = partials.iter().map(|p| p.units);
        out.set_output(Output::TasksMin, done.clone().min().unwrap_or(0) as f64);
        out.set_output(Output::TasksMax, done.max().unwrap_or(0) as f64);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levenshtein_counts_edits() {
        let mut row = Vec::new();
        assert_eq!(levenshtein(b"kitten", b"sitting", &mut row), 3);
        assert_eq!(levenshtein(b"", b"abc", &mut row), 3);
        assert_eq!(levenshtein(b"flaw", b"lawn", &mut row), 2);
        assert_eq!(levenshtein(b"same", b"same", &mut row), 0);
    }

    fn shape(cost: Cost) -> Shape {
        Shape {
            tasks: 37,
            right: 11,
            length: 12,
            cost,
        }
    }

    #[test]
    fn every_distribution_does_every_task_once_and_finds_the_same_matches() {
        for cost in [Cost::Even, Cost::Ramp] {
            let mut seen = None;
            for d in Distribution::NAMES {
                let farm = Farm::new(shape(cost), Distribution::from_name(d).expect("known"));
                for workers in 1..5 {
                    farm.prepare(workers);
                    let parts: Vec<Partial> = (0..workers)
                        .map(|i| farm.task(i, workers, workers))
                        .collect();
                    assert_eq!(parts.iter().map(|p| p.units).sum::<u64>(), 37, "{d}");
                    let out = farm.finish(0.0, &parts, workers);
                    let m = out.output(Output::Matches).expect("matches");
                    assert_eq!(*seen.get_or_insert(m), m, "{d} on {workers}");
                }
            }
            // The left strings begin as right ones: some pairs match, not all.
            let m = seen.expect("ran");
            assert!(m > 0.0 && m < 37.0 * 11.0, "{cost:?}: {m}");
        }
    }

    #[test]
    fn a_ramp_makes_later_tasks_longer_and_the_layout_matches_the_bytes() {
        let s = shape(Cost::Ramp);
        assert_eq!(s.left_len(0), 12);
        assert_eq!(s.left_len(36), 12 * RAMP);
        let (left, right) = s.layout();
        assert_eq!(right.last().expect("right").end as u64, {
            let l: u64 = (0..37).map(|i| s.left_len(i)).sum();
            l + 11 * 12
        });
        assert!(s.bytes() >= right.last().expect("right").end as u64);
        assert_eq!(left.len(), 37);
        assert_eq!(Farm::new(s, Distribution::Static).data.len(), right[10].end);
        // Round-robin deals the tasks out in turn.
        let f = Farm::new(s, Distribution::RoundRobin);
        assert_eq!(f.fixed_tasks(1, 3).take(3).collect::<Vec<_>>(), [1, 4, 7]);
    }
}
