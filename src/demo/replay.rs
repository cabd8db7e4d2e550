//! Replaying a recorded run at the pace it was measured.
//!
//! Each record gets an arrival time from the run's own numbers: a point's pool or rank
//! start-up (`setup_s` of its point record) before its first sample, each sample's
//! `seconds` (warm-ups too: they took time as well), a deadlock diagnosis after the
//! `stalled_s` the watchdog waited. Points, fits and the end arrive with the sample before
//! them. Time between repetitions that the record does not know (statistics, process
//! start) is left out, so a replay is a little quicker than the real run was.

use std::collections::HashMap;
use std::time::Duration;

use crate::record::Record;

/// A recording and when each of its records arrives.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    records: Vec<Record>,
    /// Arrival of each record at speed 1, from the start of the replay.
    at: Vec<Duration>,
    speed: f64,
}

fn secs(s: f64) -> Duration {
    if s.is_finite() && s > 0.0 {
        Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)
    } else {
        Duration::ZERO
    }
}

impl Replay {
    /// A replay of `records` at `speed` (1: as recorded; 2: twice as fast). A speed that is
    /// not a positive number counts as 1.
    pub fn new(records: Vec<Record>, speed: f64) -> Self {
        let setup: HashMap<(Option<String>, usize), f64> = records
            .iter()
            .filter_map(|r| match r {
                Record::Point(p) => Some(((p.variant.clone(), p.workers), p.setup_s)),
                _ => None,
            })
            .collect();
        let mut t = Duration::ZERO;
        let mut group: Option<(Option<String>, usize)> = None;
        let at = records
            .iter()
            .map(|r| {
                match r {
                    Record::Sample(s) => {
                        let key = (s.variant.clone(), s.workers);
                        if group.as_ref() != Some(&key) {
                            t += secs(setup.get(&key).copied().unwrap_or(0.0));
                            group = Some(key);
                        }
                        t += secs(s.seconds);
                    }
                    Record::Point(_) => group = None,
                    Record::Diagnosis(d) => t += secs(d.stalled_s),
                    _ => {}
                }
                t
            })
            .collect();
        let speed = if speed.is_finite() && speed > 0.0 {
            speed
        } else {
            1.0
        };
        Self { records, at, speed }
    }

    /// All the records.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// When record `i` arrives, at this replay's speed; `None` past the end.
    pub fn arrival(&self, i: usize) -> Option<Duration> {
        self.at.get(i).map(|t| t.div_f64(self.speed))
    }

    /// How many records have arrived `elapsed` after the start.
    pub fn arrived(&self, elapsed: Duration) -> usize {
        let scaled = elapsed.mul_f64(self.speed);
        self.at.partition_point(|&t| t <= scaled)
    }

    /// How long the whole replay takes.
    pub fn length(&self) -> Duration {
        self.at
            .last()
            .map_or(Duration::ZERO, |t| t.div_f64(self.speed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{EndRecord, PointRecord, SampleRecord, Status};

    fn sample(workers: usize, seconds: f64) -> Record {
        Record::Sample(SampleRecord {
            workers,
            variant: None,
            rep: 0,
            warmup: false,
            seconds,
            inner_runs: 1,
        })
    }

    fn point(workers: usize, setup_s: f64) -> Record {
        Record::Point(PointRecord {
            workers,
            variant: None,
            reps: 2,
            median_s: 1.0,
            min_s: 1.0,
            max_s: 1.0,
            ci95_s: [1.0, 1.0],
            outliers: 0,
            speedup: None,
            efficiency: None,
            karp_flatt: None,
            oversubscribed: false,
            setup_s,
            ranks: None,
            threads: None,
            outputs: Default::default(),
            other_busy: None,
            other_runs: 0,
            inner_runs: 1,
            hosts: Vec::new(),
        })
    }

    #[test]
    fn samples_pace_the_records_and_setup_comes_first() {
        let end = Record::End(EndRecord {
            status: Status::Ok,
            elapsed_s: 9.0,
            output: Vec::new(),
            message: None,
        });
        let r = Replay::new(
            vec![
                sample(1, 1.0),
                sample(1, 1.0),
                point(1, 0.5),
                sample(2, 0.25),
                point(2, 0.0),
                end,
            ],
            1.0,
        );
        let ms = |m| Duration::from_millis(m);
        let at: Vec<Duration> = (0..6).filter_map(|i| r.arrival(i)).collect();
        assert_eq!(
            at,
            [ms(1500), ms(2500), ms(2500), ms(2750), ms(2750), ms(2750)]
        );
        assert_eq!(r.arrived(ms(1499)), 0);
        assert_eq!(r.arrived(ms(1500)), 1);
        assert_eq!(r.arrived(ms(2600)), 3);
        assert_eq!(r.arrived(ms(9000)), 6);
        let fast = Replay::new(r.records().to_vec(), 2.0);
        assert_eq!(fast.length(), ms(1375));
        assert_eq!(fast.arrived(ms(750)), 1);
    }
}
