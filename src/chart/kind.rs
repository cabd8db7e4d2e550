//! Which chart a run gets: the one decision that the terminal's experiment screen, `hpc-tutor
//! export --run` and the lesson card all follow, so that the same run is drawn the same way
//! everywhere.

use super::sizes::SizeChart;
use super::waitfor::WaitFor;
use crate::record::Record;

/// The kind of chart for one or more runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// Time, speedup and efficiency against the worker count ([`super::ChartModel`]).
    Scaling,
    /// Time and bandwidth against the message size: `pingpong` and `exchange`'s eager-limit
    /// sweep ([`SizeChart`]).
    MessageSizes,
    /// The wait-for graph of a run that deadlocked before it measured any point
    /// ([`WaitFor`]): there is nothing to plot, but who waits for whom.
    WaitFor,
}

impl ChartKind {
    /// The chart for `runs` (each slice one run's records, as [`super::ChartModel::from_runs`]
    /// takes them): [`ChartKind::WaitFor`] when the first run has a diagnosis and no
    /// measured point ([`WaitFor::from_runs`]), [`ChartKind::MessageSizes`] when
    /// [`SizeChart::applies`], else [`ChartKind::Scaling`] (also for no runs at all).
    pub fn of(runs: &[&[Record]]) -> ChartKind {
        if WaitFor::from_runs(runs).is_some() {
            ChartKind::WaitFor
        } else if SizeChart::applies(runs) {
            ChartKind::MessageSizes
        } else {
            ChartKind::Scaling
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::waitfor::tests::deadlocked_run;
    use crate::record::tests::sample_run;
    use crate::record::{DiagnosisRecord, PointRecord};

    /// The sample run's point as a message-size point of `bytes`, completed or deadlocked.
    fn size_point(bytes: f64, completed: bool) -> Record {
        let p = sample_run()
            .into_iter()
            .find_map(|r| match r {
                Record::Point(p) => Some(p),
                _ => None,
            })
            .expect("the sample run has a point");
        Record::Point(PointRecord {
            reps: if completed { p.reps } else { 0 },
            outputs: [
                (crate::kernel::Output::SizeBytes.key().to_owned(), bytes),
                (
                    crate::kernel::Output::Completed.key().to_owned(),
                    f64::from(u8::from(completed)),
                ),
            ]
            .into(),
            ..p
        })
    }

    #[test]
    fn a_run_over_workers_gets_the_scaling_chart() {
        let run = sample_run();
        assert_eq!(ChartKind::of(&[&run]), ChartKind::Scaling);
        // Nothing yet, or only the Run record of a run just started.
        assert_eq!(ChartKind::of(&[]), ChartKind::Scaling);
        assert_eq!(ChartKind::of(&[&run[..1]]), ChartKind::Scaling);
    }

    #[test]
    fn an_eager_sweep_gets_the_size_charts_even_with_its_diagnoses() {
        // The sweep records a point per size, and a diagnosis per size that deadlocked.
        let mut sweep: Vec<Record> = sample_run()
            .into_iter()
            .filter(|r| matches!(r, Record::Run(_) | Record::End(_)))
            .collect();
        let end = sweep.pop().expect("an end record");
        sweep.push(size_point(1.0, true));
        sweep.push(size_point(4096.0, true));
        sweep.push(Record::Diagnosis(DiagnosisRecord::new(2, 1.0, Vec::new())));
        sweep.push(size_point(65536.0, false));
        sweep.push(end);
        assert_eq!(ChartKind::of(&[&sweep]), ChartKind::MessageSizes);
        // Even when every size deadlocked: the ✗ along the top say so.
        let all_dead: Vec<Record> = sweep
            .iter()
            .filter(|r| !matches!(r, Record::Point(p) if p.reps > 0))
            .cloned()
            .collect();
        assert_eq!(ChartKind::of(&[&all_dead]), ChartKind::MessageSizes);
        // Overlaid on a run over workers, the sizes still decide.
        let run = sample_run();
        assert_eq!(ChartKind::of(&[&run, &sweep]), ChartKind::MessageSizes);
    }

    #[test]
    fn a_run_that_deadlocked_before_any_point_gets_its_wait_for_graph() {
        let dead = deadlocked_run();
        assert_eq!(ChartKind::of(&[&dead]), ChartKind::WaitFor);
        // It is the first run that decides: behind a run with points it adds nothing.
        let run = sample_run();
        assert_eq!(ChartKind::of(&[&dead, &run]), ChartKind::WaitFor);
        assert_eq!(ChartKind::of(&[&run, &dead]), ChartKind::Scaling);
        // Without its diagnosis (an old file, a cut run) there is no graph to draw.
        let blind: Vec<Record> = dead
            .iter()
            .filter(|r| !matches!(r, Record::Diagnosis(_)))
            .cloned()
            .collect();
        assert_eq!(ChartKind::of(&[&blind]), ChartKind::Scaling);
    }
}
