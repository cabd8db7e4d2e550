//! The wait-for graph of a deadlocked run: who holds what, who waits for whom, the cycle,
//! and the fixes to run next — the texts the terminal's wait-for panel and the exported
//! picture share (see [`crate::chart::ChartKind::WaitFor`]).

use crate::record::{DiagnosisRecord, Record, WaitRecord};

/// The heading of the picture.
pub const HEADING: &str = "Deadlock: who waits for whom";

/// The deadlock that a picture of some runs shows instead of a chart: the diagnosis of the
/// first run when that run measured no point.
///
/// The first run is the one a picture is about (overlaid runs only add series to its
/// chart); a run that measured points keeps its chart even if some of its launches
/// deadlocked (the eager-limit sweep draws those as ✗ on its size chart).
#[derive(Debug, Clone, Copy)]
pub struct WaitFor<'a> {
    /// What the watchdog found.
    pub diagnosis: &'a DiagnosisRecord,
    /// The experiment that deadlocked, from the run's Run record.
    pub experiment: Option<&'a str>,
}

impl<'a> WaitFor<'a> {
    /// The deadlock to draw for `runs` (each slice one run's records), if any.
    pub fn from_runs(runs: &[&'a [Record]]) -> Option<WaitFor<'a>> {
        let records = runs.first()?;
        if records.iter().any(|r| matches!(r, Record::Point(_))) {
            return None;
        }
        let diagnosis = records.iter().find_map(|r| match r {
            Record::Diagnosis(d) => Some(d),
            _ => None,
        })?;
        let experiment = records.iter().find_map(|r| match r {
            Record::Run(run) => Some(run.experiment.as_str()),
            _ => None,
        });
        Some(WaitFor {
            diagnosis,
            experiment,
        })
    }

    /// `No progress for 3.0 s on 2 workers: the watchdog stopped the run.`
    pub fn stalled(&self) -> String {
        let d = self.diagnosis;
        let on = match d.workers {
            0 => String::new(),
            1 => " on 1 worker".to_owned(),
            n => format!(" on {n} workers"),
        };
        format!(
            "No progress for {:.1} s{on}: the watchdog stopped the run.",
            d.stalled_s
        )
    }

    /// The two workers when exactly two wait for each other (drawn as two boxes with an
    /// arrow each way); `None` for any other wait-for graph (drawn a line per worker).
    pub fn pair(&self) -> Option<(&'a WaitRecord, &'a WaitRecord)> {
        pair(self.diagnosis)
    }

    /// The cycle as a sentence: see [`cycle_sentence`].
    pub fn cycle(&self) -> Option<String> {
        cycle_sentence(self.diagnosis)
    }

    /// The fixes to run next: see [`fixes`].
    pub fn fixes(&self) -> Option<&'static str> {
        self.experiment.and_then(fixes)
    }
}

/// The two workers of a diagnosis in which exactly two wait for each other.
pub fn pair(d: &DiagnosisRecord) -> Option<(&WaitRecord, &WaitRecord)> {
    match (d.waits.as_slice(), d.cycle.len()) {
        ([a, b], 2) => Some((a, b)),
        _ => None,
    }
}

/// `holds A`, or nothing when the worker holds nothing.
pub fn holds(w: &WaitRecord) -> String {
    if w.holds.is_empty() {
        String::new()
    } else {
        format!("holds {}", w.holds.join(", "))
    }
}

/// `A cycle: thread 0 → thread 1 → thread 0. Nobody can go on.`; `None` without a cycle.
pub fn cycle_sentence(d: &DiagnosisRecord) -> Option<String> {
    let first = d.cycle.first()?;
    Some(format!(
        "A cycle: {} → {first}. Nobody can go on.",
        d.cycle.join(" → ")
    ))
}

/// The fixes to run next after a deadlock of `experiment`, as one sentence; `None` for an
/// experiment without such advice (see [`crate::experiment::ExperimentInfo::deadlock_fixes`]).
pub fn fixes(experiment: &str) -> Option<&'static str> {
    crate::experiment::find(experiment).and_then(|e| e.deadlock_fixes())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::record::tests::sample_run;

    /// A locks run that deadlocked: its Run record, the diagnosis (thread 0 and thread 1
    /// wait for each other's lock), its end; no point.
    pub(crate) fn deadlocked_run() -> Vec<Record> {
        let mut records = sample_run();
        records.retain(|r| matches!(r, Record::Run(_) | Record::Diagnosis(_) | Record::End(_)));
        if let Some(Record::Run(run)) = records.first_mut() {
            run.experiment = "locks".into();
        }
        records
    }

    #[test]
    fn the_first_run_without_points_shows_its_diagnosis() {
        let dead = deadlocked_run();
        let w = WaitFor::from_runs(&[&dead]).expect("a deadlock to draw");
        assert_eq!(w.experiment, Some("locks"));
        assert_eq!(
            w.stalled(),
            "No progress for 3.0 s on 2 workers: the watchdog stopped the run."
        );
        let (a, b) = w.pair().expect("two waiting for each other");
        assert_eq!((a.who.as_str(), holds(b).as_str()), ("thread 0", "holds B"));
        assert_eq!(
            w.cycle().as_deref(),
            Some("A cycle: thread 0 → thread 1 → thread 0. Nobody can go on.")
        );
        assert!(w.fixes().is_some_and(|f| f.contains("order = same")));
        // Overlaid on a run with points, or behind one: the first run decides.
        let fine = sample_run();
        assert!(WaitFor::from_runs(&[&dead, &fine]).is_some());
        assert!(WaitFor::from_runs(&[&fine, &dead]).is_none());
        assert!(WaitFor::from_runs(&[]).is_none());
        // A run with points keeps its chart even with a diagnosis among its records (the
        // sample run has one).
        assert!(fine.iter().any(|r| matches!(r, Record::Diagnosis(_))));
        assert!(WaitFor::from_runs(&[&fine]).is_none());
    }

    #[test]
    fn fixes_are_known_for_the_deadlock_experiments() {
        assert!(fixes("exchange").is_some_and(|f| f.contains("sendrecv")));
        assert_eq!(fixes("amdahl"), None);
        let mut d = DiagnosisRecord::new(2, 1.0, Vec::new());
        assert_eq!(cycle_sentence(&d), None);
        assert!(pair(&d).is_none());
        d.workers = 1;
        let w = WaitFor {
            diagnosis: &d,
            experiment: None,
        };
        assert_eq!(
            w.stalled(),
            "No progress for 1.0 s on 1 worker: the watchdog stopped the run."
        );
        assert_eq!(w.fixes(), None);
    }
}
