//! "Export what is on screen" for the terminal app: the experiment screen's chart of the
//! live run (and the run it is compared with), or the reader's lesson card.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::app::{App, Screen};
use crate::export::{self, Charts, ExportError, LessonCard};
use crate::record::Record;

impl App {
    /// Writes a PNG of what is on screen into `dir` and returns its path.
    ///
    /// * Experiment screen: the chart(s) of the run started there and of the run it is
    ///   compared with, overlaid; `charts` chooses which (`None`: the metric on screen),
    ///   at the default size; the file is named like `hpc-tutor export --run` names it,
    ///   `<run_id>-<chart>.png`. A run still going is drawn as far as it got.
    /// * Reader: the lesson card (`charts` is ignored), `<lesson id>.png`, with the latest
    ///   run of each of the lesson's experiments (this session's, else the store's) and the
    ///   learner's answers.
    /// * Results screen with a sweep open: its chart, named like the experiment screen's.
    /// * Catalogue: nothing to export ([`ExportError::Nothing`], with a hint).
    ///
    /// An existing file of the same name is replaced. Rendering takes a few tens of
    /// milliseconds in a release build; call it from the event loop as an effect.
    pub fn export_screen(
        &self,
        dir: &Path,
        charts: Option<Charts>,
    ) -> Result<PathBuf, ExportError> {
        match &self.screen {
            Screen::Catalogue => Err(ExportError::Nothing(
                "open a lesson or an experiment to export it".to_owned(),
            )),
            Screen::Experiment { name, .. } => {
                let view = self.experiments.get(name).ok_or_else(|| {
                    ExportError::Nothing(format!("experiment `{name}` is not open"))
                })?;
                let mut runs: Vec<&[Record]> = Vec::new();
                if let Some(run) = &view.run
                    && !run.records.is_empty()
                {
                    runs.push(&run.records);
                }
                if let Some(c) = &view.compare {
                    runs.push(&c.records);
                }
                if runs.is_empty() {
                    return Err(ExportError::Nothing(
                        "nothing measured yet: press r to run the experiment, then export"
                            .to_owned(),
                    ));
                }
                let charts = charts.unwrap_or(Charts::One(view.metric));
                let png =
                    export::render_charts(&runs, charts, export::default_size(&runs, charts))?;
                let path = dir.join(export::chart_file_name(&runs, charts));
                export::write_png(&path, &png)?;
                Ok(path)
            }
            Screen::Results => {
                let Some(entry) = self
                    .results
                    .as_ref()
                    .filter(|v| v.open)
                    .and_then(|v| v.current().map(|e| (e, v.metric)))
                else {
                    return Err(ExportError::Nothing(
                        "open a sweep (Enter) to export its chart".to_owned(),
                    ));
                };
                let (entry, metric) = entry;
                let runs: Vec<&[Record]> = vec![&entry.sweep.records];
                let charts = charts.unwrap_or(Charts::One(metric));
                let png =
                    export::render_charts(&runs, charts, export::default_size(&runs, charts))?;
                let path = dir.join(export::chart_file_name(&runs, charts));
                export::write_png(&path, &png)?;
                Ok(path)
            }
            Screen::Reader(_) | Screen::Puzzle { .. } => {
                let Some(lesson) = self.current_lesson() else {
                    return Err(ExportError::Nothing("no lesson is open".to_owned()));
                };
                let mut runs: BTreeMap<String, Vec<Record>> = BTreeMap::new();
                for e in &lesson.runnables() {
                    // This session's newest run of it, else the store's.
                    let newest = match e.strip_prefix("program:") {
                        Some(_) => self.latest.get("program").and_then(|runs| {
                            runs.iter()
                                .find(|r| Record::run_in(r).is_some_and(|run| run.is_run_of(e)))
                        }),
                        None => self.newest_run(e),
                    };
                    if let Some(records) = newest {
                        runs.insert(e.clone(), records.clone());
                    } else if let Some(store) = &self.store
                        && let Some(records) = export::latest_stored_run(store, e)
                    {
                        runs.insert(e.clone(), records);
                    }
                }
                // Each prediction's own run: this session's newest it is about, else the
                // store's.
                let mut for_checks: BTreeMap<String, Vec<Record>> = lesson
                    .checks
                    .iter()
                    .filter_map(|c| Some((c.id.clone(), self.measured_records(c)?.clone())))
                    .collect();
                if let Some(store) = &self.store {
                    for (id, records) in export::stored_runs_for_checks(store, lesson, &runs) {
                        for_checks.entry(id).or_insert(records);
                    }
                }
                let card = LessonCard {
                    lesson,
                    runs: &runs,
                    answers: self.progress.lessons.get(&lesson.id).map(|p| &p.answers),
                    answered_at: self
                        .progress
                        .lessons
                        .get(&lesson.id)
                        .map(|p| &p.answered_at),
                    for_checks: Some(&for_checks),
                };
                let png = export::render_lesson_card(&card, None, None)?;
                let path = dir.join(export::lesson_file_name(&lesson.id));
                export::write_png(&path, &png)?;
                Ok(path)
            }
        }
    }
}
