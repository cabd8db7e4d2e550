//! Messages between two ranks: the sizes a sweep visits, how many round trips a
//! repetition makes, and the latency and bandwidth of a point.
//!
//! The MPI calls themselves are in the rank-side worker (`backend::mpi`); what is here is
//! pure arithmetic, shared by the ranks and the launching side.

use super::{Kernel, Outputs, Partial};
use crate::kernel::{Output, OutputsExt};

/// Messages up to this size make the full `iterations` round trips per repetition; larger
/// ones make proportionally fewer, so a repetition moves at most about
/// `2 · iterations · FULL_ROUND_TRIPS_UP_TO` bytes.
pub const FULL_ROUND_TRIPS_UP_TO: u64 = 65_536;

/// The message sizes of a sweep: `min`, `2·min`, `4·min`, … while not above `max`
/// (powers of two when `min` is one). `min` of 0 counts as 1.
pub fn sizes(min: u64, max: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut n = min.max(1);
    while n <= max {
        out.push(n);
        match n.checked_mul(2) {
            Some(next) => n = next,
            None => break,
        }
    }
    out
}

/// Round trips of one repetition for messages of `size` bytes: `iterations` up to
/// [`FULL_ROUND_TRIPS_UP_TO`] bytes, then fewer in proportion to the size, at least one.
pub fn round_trips(size: u64, iterations: u64) -> u64 {
    let iterations = iterations.max(1);
    if size <= FULL_ROUND_TRIPS_UP_TO {
        iterations
    } else {
        (iterations.saturating_mul(FULL_ROUND_TRIPS_UP_TO) / size).max(1)
    }
}

/// Stands on the launching side for pingpong's ranks, whose time is one message's
/// one-way time (half a round trip): it adds `latency_us` (the median one-way time in
/// µs) and `bandwidth_mb_s` (`size_bytes` / median, in MB/s of 10^6 bytes) to each
/// point. Running it locally does nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct OneWay;

impl Kernel for OneWay {
    fn task(&self, _index: usize, _tasks: usize, _workers: usize) -> Partial {
        Partial::default()
    }

    fn finish(&self, _serial: f64, _partials: &[Partial], _workers: usize) -> Outputs {
        Outputs::new()
    }

    fn point_outputs(&self, median_s: f64, outputs: &mut Outputs) {
        if !(median_s.is_finite() && median_s > 0.0) {
            return;
        }
        outputs.set_output(Output::LatencyUs, median_s * 1e6);
        if let Some(bytes) = outputs.output(Output::SizeBytes) {
            outputs.set_output(Output::BandwidthMbS, bytes / median_s / 1e6);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_double_up_to_the_largest() {
        assert_eq!(sizes(1, 16), [1, 2, 4, 8, 16]);
        assert_eq!(sizes(3, 20), [3, 6, 12]);
        assert_eq!(sizes(0, 2), [1, 2]);
        assert_eq!(sizes(8, 4), Vec::<u64>::new());
        assert_eq!(sizes(1, 16 << 20).len(), 25, "1 B to 16 MiB");
        assert_eq!(sizes(1 << 62, u64::MAX), [1 << 62, 1 << 63]);
    }

    #[test]
    fn large_messages_make_fewer_round_trips() {
        assert_eq!(round_trips(1, 1000), 1000);
        assert_eq!(round_trips(65_536, 1000), 1000);
        assert_eq!(round_trips(131_072, 1000), 500);
        assert_eq!(round_trips(16 << 20, 1000), 3);
        assert_eq!(round_trips(16 << 20, 1), 1);
        assert_eq!(round_trips(1, 0), 1);
    }

    #[test]
    fn latency_and_bandwidth_come_from_the_median() {
        let mut out = Outputs::from([(Output::SizeBytes.key().to_owned(), 1e6)]);
        // 1 MB in 200 µs: 5000 MB/s.
        OneWay.point_outputs(2e-4, &mut out);
        assert!((out["latency_us"] - 200.0).abs() < 1e-9);
        assert!((out["bandwidth_mb_s"] - 5000.0).abs() < 1e-6);
        let mut none = Outputs::new();
        OneWay.point_outputs(0.0, &mut none);
        assert!(none.is_empty());
    }
}
