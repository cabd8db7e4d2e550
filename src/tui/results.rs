//! The results screen (`hpc-tutor --results DIR`): the sweeps measured by batch jobs, merged
//! from their results files, newest first; one of them opened shows its charts.

use std::path::{Path, PathBuf};

use ratatui::crossterm::event::{KeyCode, KeyEvent};

use crate::chart::Metric;
use crate::measure::merge::Sweep;
use crate::record::{Record, RunRecord, Status};

/// One merged sweep with the runs (results files) it was made from.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultEntry {
    /// The merged records (one run record first).
    pub sweep: Sweep,
    /// The run record of each file it came from, in start order.
    pub runs: Vec<RunRecord>,
}

impl ResultEntry {
    /// The sweep's run record.
    pub fn run(&self) -> Option<&RunRecord> {
        match self.sweep.records.first() {
            Some(Record::Run(r)) => Some(r),
            _ => None,
        }
    }

    /// Who measured it: `batch jobs` when a SLURM job wrote any of its files, else
    /// `earlier runs` (files from `hpc-tutor run --out` outside SLURM).
    pub fn origin(&self) -> &'static str {
        if self.runs.iter().any(|r| r.env.slurm_job_id.is_some()) {
            "batch jobs"
        } else {
            "earlier runs"
        }
    }

    /// How many points were measured.
    pub fn points(&self) -> usize {
        self.sweep
            .records
            .iter()
            .filter(|r| matches!(r, Record::Point(_)))
            .count()
    }

    /// How the sweep ended (`None`: no end record, e.g. a job killed at its time limit).
    pub fn status(&self) -> Option<Status> {
        self.sweep.records.iter().rev().find_map(|r| match r {
            Record::End(e) => Some(e.status),
            _ => None,
        })
    }

    /// The end record's message, if any.
    pub fn end_message(&self) -> Option<&str> {
        self.sweep.records.iter().rev().find_map(|r| match r {
            Record::End(e) => e.message.as_deref(),
            _ => None,
        })
    }

    /// The hosts the files were measured on, each once, in start order.
    pub fn hosts(&self) -> Vec<&str> {
        unique(self.runs.iter().map(|r| r.env.host.as_str()))
    }

    /// The SLURM job ids of the files, each once (files measured outside SLURM have none).
    pub fn job_ids(&self) -> Vec<&str> {
        unique(
            self.runs
                .iter()
                .filter_map(|r| r.env.slurm_job_id.as_deref()),
        )
    }

    /// The run ids of the files.
    pub fn run_ids(&self) -> Vec<&str> {
        self.runs.iter().map(|r| r.run_id.as_str()).collect()
    }

    /// The status as a word for the list.
    pub fn status_word(&self) -> String {
        self.status()
            .map_or("unfinished".to_owned(), |s| format!("{s:?}").to_lowercase())
    }
}

/// Each item once, in first-seen order (a set remembers what was seen: no scan of the list
/// for every item).
fn unique<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = std::collections::HashSet::new();
    items.filter(|i| seen.insert(*i)).collect()
}

/// Pairs merged sweeps with the run records of the files each came from, newest first.
pub fn entries(inputs: &[(PathBuf, Vec<Record>)], sweeps: Vec<Sweep>) -> Vec<ResultEntry> {
    // The run record of each file, looked up by path (the first file of a path given
    // twice), not searched for among all files for every source.
    let mut by_path: std::collections::HashMap<&Path, Option<&RunRecord>> =
        std::collections::HashMap::new();
    for (p, records) in inputs {
        by_path.entry(p.as_path()).or_insert(match records.first() {
            Some(Record::Run(r)) => Some(r),
            _ => None,
        });
    }
    let mut out: Vec<ResultEntry> = sweeps
        .into_iter()
        .map(|sweep| {
            let runs = sweep
                .sources
                .iter()
                .filter_map(|src| by_path.get(src.as_path()).copied().flatten().cloned())
                .collect();
            ResultEntry { sweep, runs }
        })
        .collect();
    let started = |e: &ResultEntry| e.run().map_or(String::new(), |r| r.started_at.clone());
    out.sort_by_cached_key(|e| std::cmp::Reverse(started(e)));
    out
}

/// The results screen's state.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultsView {
    /// The folder the files were read from, as given.
    pub dir: PathBuf,
    /// The sweeps, newest first.
    pub entries: Vec<ResultEntry>,
    /// The highlighted sweep.
    pub selected: usize,
    /// Whether the highlighted sweep's charts are shown (else the list).
    pub open: bool,
    /// Which chart is shown.
    pub metric: Metric,
}

/// What a key on the results screen asks the app to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Nothing changed.
    None,
    /// Redraw.
    Redraw,
    /// Leave the list (for the catalogue).
    Leave,
    /// Save the chart as a PNG.
    Export,
}

impl ResultsView {
    /// The list of `entries` read from `dir`.
    pub fn new(dir: &Path, entries: Vec<ResultEntry>) -> Self {
        Self {
            dir: dir.to_owned(),
            entries,
            selected: 0,
            open: false,
            metric: Metric::Speedup,
        }
    }

    /// The highlighted sweep.
    pub fn current(&self) -> Option<&ResultEntry> {
        self.entries.get(self.selected)
    }

    /// Handles a key.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if self.open {
            return match key.code {
                KeyCode::Esc | KeyCode::Left => {
                    self.open = false;
                    Action::Redraw
                }
                KeyCode::Char('v') => {
                    let sizes = self.current().is_some_and(|e| {
                        crate::chart::ChartKind::of(&[e.sweep.records.as_slice()])
                            == crate::chart::ChartKind::MessageSizes
                    });
                    self.metric = self.metric.next_for(sizes);
                    Action::Redraw
                }
                KeyCode::Char('s') => Action::Export,
                _ => Action::None,
            };
        }
        let last = self.entries.len().saturating_sub(1);
        let moved = |to: usize, from: usize| {
            if to == from {
                Action::None
            } else {
                Action::Redraw
            }
        };
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => {
                let from = self.selected;
                self.selected = from.saturating_sub(1);
                moved(self.selected, from)
            }
            KeyCode::Down | KeyCode::Char('j') => {
                let from = self.selected;
                self.selected = (from + 1).min(last);
                moved(self.selected, from)
            }
            KeyCode::Home | KeyCode::Char('g') => {
                let from = self.selected;
                self.selected = 0;
                moved(0, from)
            }
            KeyCode::End | KeyCode::Char('G') => {
                let from = self.selected;
                self.selected = last;
                moved(last, from)
            }
            KeyCode::Enter | KeyCode::Right | KeyCode::Char('l') if !self.entries.is_empty() => {
                self.open = true;
                // One worker count has no speedup: show its time.
                if self.current().and_then(ResultEntry::run).is_some_and(|r| {
                    let mut w = r.workers.clone();
                    w.dedup();
                    w.len() < 2
                }) {
                    self.metric = Metric::Time;
                }
                Action::Redraw
            }
            KeyCode::Esc | KeyCode::Left => Action::Leave,
            _ => Action::None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::merge;

    fn fixture() -> Vec<(PathBuf, Vec<Record>)> {
        let files = merge::files(&[PathBuf::from("tests/fixtures/results/amdahl-array")])
            .expect("fixture folder");
        merge::load_all(&files).expect("fixture files")
    }

    #[test]
    fn array_tasks_merge_into_one_entry_with_their_runs() {
        let inputs = fixture();
        let e = entries(&inputs, merge::merge(&inputs));
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].runs.len(), 2);
        assert_eq!(e[0].points(), 2);
        assert_eq!(e[0].hosts(), ["vm"]);
        // A real array job of two tasks, each with its own job id.
        let mut jobs = e[0].job_ids();
        jobs.sort();
        assert_eq!(jobs, ["121", "122"]);
        assert_eq!(e[0].origin(), "batch jobs");
        assert_eq!(e[0].status_word(), "ok");
    }

    #[test]
    fn sweeps_come_newest_first_and_keys_move_and_open() {
        let mut inputs = fixture();
        // A later run with other parameters: a sweep of its own.
        let mut later = inputs[1].clone();
        later.0 = PathBuf::from("later.jsonl");
        if let Some(Record::Run(r)) = later.1.first_mut() {
            r.params.insert("serial".into(), "0.2".into());
            r.started_at = "2030-01-01T00:00:00+00:00".into();
            r.env.slurm_job_id = Some("77".into());
        }
        inputs.push(later);
        let e = entries(&inputs, merge::merge(&inputs));
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].job_ids(), ["77"]);
        assert_eq!(e[0].runs.len(), 1);
        let mut v = ResultsView::new(Path::new("dir"), e);
        let k = |c| KeyEvent::from(c);
        assert_eq!(v.on_key(k(KeyCode::Up)), Action::None);
        assert_eq!(v.on_key(k(KeyCode::Char('j'))), Action::Redraw);
        assert_eq!(v.selected, 1);
        assert_eq!(v.on_key(k(KeyCode::End)), Action::None);
        assert_eq!(v.on_key(k(KeyCode::Enter)), Action::Redraw);
        assert!(v.open);
        assert_eq!(v.metric, Metric::Speedup, "two worker counts: speedup");
        assert_eq!(v.on_key(k(KeyCode::Char('s'))), Action::Export);
        assert_eq!(v.on_key(k(KeyCode::Esc)), Action::Redraw);
        assert!(!v.open);
        // The later sweep has one worker count: its time is shown.
        v.on_key(k(KeyCode::Home));
        v.on_key(k(KeyCode::Enter));
        assert_eq!(v.metric, Metric::Time);
        v.on_key(k(KeyCode::Left));
        assert_eq!(v.on_key(k(KeyCode::Left)), Action::Leave);
    }
}
