//! Tasks of uneven cost — task i costs (i + 1) units of a ramp — scheduled statically
//! (each worker one contiguous share of the tasks) or dynamically (every task on its own,
//! idle workers steal).

use super::{Kernel, Outputs, Partial, busy_work};
use crate::kernel::{Output, OutputsExt};

/// How tasks are handed to workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// Equal contiguous chunks of tasks, one per worker: the last chunk holds the costliest tasks.
    Static,
    /// One task at a time, taken by whichever worker is free (work stealing).
    Dynamic,
}

impl Schedule {
    /// The name used in parameters and records.
    pub fn name(self) -> &'static str {
        match self {
            Schedule::Static => "static",
            Schedule::Dynamic => "dynamic",
        }
    }
}

/// The kernel's parameters.
#[derive(Debug, Clone)]
pub struct Imbalance {
    /// Number of tasks.
    pub tasks: u64,
    /// Total work units over all tasks.
    pub work: u64,
    /// Static or dynamic.
    pub schedule: Schedule,
}

impl Imbalance {
    /// Cost of task `i`, so that all tasks add up to about `work`: proportional to i + 1.
    fn cost(&self, i: u64) -> u64 {
        let n = self.tasks.max(1);
        // Σ (i+1) for i < n is n(n+1)/2.
        let per_step = self.work as f64 / (n as f64 * (n as f64 + 1.0) / 2.0);
        ((i + 1) as f64 * per_step).round() as u64
    }

    fn run_tasks(&self, range: std::ops::Range<u64>) -> Partial {
        let mut p = Partial::default();
        for i in range {
            let units = self.cost(i);
            p.count ^= busy_work(units, i + 1) & 0xffff;
            p.units += units;
        }
        p
    }
}

impl Kernel for Imbalance {
    fn tasks(&self, workers: usize) -> usize {
        match self.schedule {
            Schedule::Static => workers,
            // Tasks beyond usize are not a concern: tasks ≤ 10^6 by the parameter's range.
            Schedule::Dynamic => self.tasks as usize,
        }
    }

    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        match self.schedule {
            Schedule::Static => self.run_tasks(super::share(self.tasks, index, tasks)),
            Schedule::Dynamic => self.run_tasks(index as u64..index as u64 + 1),
        }
    }

    fn finish(&self, _serial: f64, partials: &[Partial], workers: usize) -> Outputs {
        let units: u64 = partials.iter().map(|p| p.units).sum();
        let mut out = Outputs::from([(Output::WorkUnits.key().to_owned(), units as f64)]);
        if self.schedule == Schedule::Static && workers > 0 {
            // The planned imbalance: the heaviest share over the average share.
            let max = partials.iter().map(|p| p.units).max().unwrap_or(0) as f64;
            let mean = units as f64 / workers as f64;
            if mean > 0.0 {
                out.set_output(Output::PlannedImbalance, max / mean);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_shares_are_uneven_and_dynamic_covers_every_task() {
        let k = Imbalance {
            tasks: 100,
            work: 1_000_000,
            schedule: Schedule::Static,
        };
        let parts: Vec<Partial> = (0..2).map(|i| k.task(i, 2, 2)).collect();
        let out = k.finish(0.0, &parts, 2);
        // Two halves of a ramp: 1275 vs 3775 steps of 5050 → 0.75 / 0.5 = 1.5.
        assert!((out["planned_imbalance"] - 1.495).abs() < 0.01, "{out:?}");

        let d = Imbalance {
            schedule: Schedule::Dynamic,
            ..k
        };
        let n = d.tasks(2);
        assert_eq!(n, 100);
        let parts: Vec<Partial> = (0..n).map(|i| d.task(i, n, 2)).collect();
        let total: u64 = parts.iter().map(|p| p.units).sum();
        assert!((total as i64 - 1_000_000).abs() < 100);
    }
}
