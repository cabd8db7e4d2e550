//! A workload with a tunable serial fraction: `serial`·work on one worker, then the rest
//! split evenly over the workers. Real arithmetic ([`busy_work`]), never sleep.

use super::{Kernel, Outputs, Partial, busy_work, share};
use crate::kernel::Output;

/// The kernel's parameters.
#[derive(Debug, Clone)]
pub struct Amdahl {
    /// Fraction of the work done serially, 0..=1.
    pub serial: f64,
    /// Total work units (about a nanosecond each).
    pub work: u64,
}

impl Amdahl {
    fn serial_units(&self) -> u64 {
        // work ≤ 10^12 and serial ≤ 1: the product is exact enough and fits in u64.
        (self.work as f64 * self.serial).round() as u64
    }
}

impl Kernel for Amdahl {
    fn has_serial_phase(&self) -> bool {
        self.serial_units() > 0
    }

    fn serial(&self) -> f64 {
        (busy_work(self.serial_units(), 0x5eed) & 0xffff) as f64
    }

    fn task(&self, index: usize, tasks: usize, _workers: usize) -> Partial {
        let parallel = self.work - self.serial_units().min(self.work);
        let r = share(parallel, index, tasks);
        let units = r.end - r.start;
        Partial {
            count: busy_work(units, index as u64 + 1) & 0xffff,
            sum: 0.0,
            units,
        }
    }

    fn finish(&self, serial: f64, partials: &[Partial], _workers: usize) -> Outputs {
        let checksum = partials.iter().fold(serial as u64, |a, p| a ^ p.count);
        let units: u64 = partials.iter().map(|p| p.units).sum::<u64>() + self.serial_units();
        Outputs::from([
            (Output::SerialConfigured.key().to_owned(), self.serial),
            (Output::WorkUnits.key().to_owned(), units as f64),
            (Output::Checksum.key().to_owned(), checksum as f64),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_work_is_done_once() {
        let k = Amdahl {
            serial: 0.3,
            work: 1000,
        };
        let parts: Vec<Partial> = (0..4).map(|i| k.task(i, 4, 4)).collect();
        assert_eq!(parts.iter().map(|p| p.units).sum::<u64>(), 700);
        let out = k.finish(k.serial(), &parts, 4);
        assert_eq!(out["work_units"], 1000.0);
    }
}
