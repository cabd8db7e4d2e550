//! `hpc-tutor export`: charts of stored runs or results files, and lesson cards, as PNG.
//!
//! Exit status: 0 written; 1 nothing to export yet or the file could not be written;
//! 2 bad input (option values out of range, unknown lesson or run id, unreadable results
//! file).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::chart::Metric;
use crate::cli::{ChartArg, ExportArgs};
use crate::export::{self, Charts, ExportError, LessonCard, Size};
use crate::lesson::{Answer, LessonSet, LessonSource};
use crate::progress::{Progress, ProgressStore};
use crate::record::Record;
use crate::record::store::{self, Store};

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;
/// Exit status when there is nothing to export or writing failed.
const FAILED: u8 = 1;

/// A reason to stop, with the exit status it gives.
struct Stop {
    code: u8,
    message: String,
}

impl Stop {
    fn bad(message: impl std::fmt::Display) -> Stop {
        Stop {
            code: BAD_INPUT,
            message: message.to_string(),
        }
    }

    fn failed(message: impl std::fmt::Display) -> Stop {
        Stop {
            code: FAILED,
            message: message.to_string(),
        }
    }
}

impl From<ExportError> for Stop {
    fn from(e: ExportError) -> Stop {
        match e {
            ExportError::Size { .. }
            | ExportError::CardTooSmall { .. }
            | ExportError::TooSmallForAll { .. } => Stop::bad(e),
            _ => Stop::failed(e),
        }
    }
}

/// Runs `hpc-tutor export` with lessons from `source`.
pub fn export(source: &LessonSource, args: &ExportArgs) -> anyhow::Result<ExitCode> {
    let result = if args.run.is_empty() {
        match &args.lesson {
            Some(id) => export_lesson(source, id, args),
            None => Err(Stop::bad("give a LESSON_ID or --run RUN_ID|FILE")),
        }
    } else {
        export_runs(args)
    };
    match result {
        Ok(path) => {
            let shown = std::fs::canonicalize(&path).unwrap_or(path);
            crate::stdout::print(&format!("wrote {}\n", shown.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        Err(stop) => {
            eprintln!("hpc-tutor export: {}", stop.message);
            Ok(ExitCode::from(stop.code))
        }
    }
}

/// `export --run …`: the chart(s) of one run or of several overlaid.
fn export_runs(args: &ExportArgs) -> Result<PathBuf, Stop> {
    let charts = match args.chart.unwrap_or(ChartArg::All) {
        ChartArg::Time => Charts::One(Metric::Time),
        ChartArg::Speedup => Charts::One(Metric::Speedup),
        ChartArg::Efficiency => Charts::One(Metric::Efficiency),
        ChartArg::All => Charts::All,
    };
    // Sizes out of range are refused before any file is read.
    Size::resolve(args.width, args.height, charts.default_size())?;
    let mut loaded: Vec<Vec<Record>> = Vec::with_capacity(args.run.len());
    let mut store: Option<Option<Store>> = None;
    for run in &args.run {
        let store = store.get_or_insert_with(Store::default_location);
        loaded.push(load_run(run, store.as_ref())?);
    }
    let runs: Vec<&[Record]> = loaded.iter().map(Vec::as_slice).collect();
    // A wait-for graph has a default size of its own.
    let size = Size::resolve(args.width, args.height, export::default_size(&runs, charts))?;
    let png = export::render_charts(&runs, charts, size)?;
    let path = output_path(
        args.output.as_deref(),
        &export::chart_file_name(&runs, charts),
    );
    export::write_png(&path, &png)?;
    Ok(path)
}

/// The records of `run`: a results file if it names one (or looks like a path), else a run
/// id (or a unique prefix of one) in the store.
fn load_run(run: &str, store: Option<&Store>) -> Result<Vec<Record>, Stop> {
    let path = Path::new(run);
    let looks_like_path = path.extension().is_some_and(|e| e == "jsonl")
        || run.contains(std::path::MAIN_SEPARATOR)
        || run.contains('/');
    if path.is_file() || looks_like_path {
        return load_file(path);
    }
    let Some(store) = store else {
        return Err(Stop::bad(format!(
            "`{run}` is not a file, and there is no results store to look it up in (no home folder; set HPC_TUTOR_DATA_DIR)"
        )));
    };
    let runs = store.list();
    let exact = runs
        .iter()
        .find(|r| r.run.run_id == run || r.path.file_stem().is_some_and(|s| s == run));
    let found = match exact {
        Some(r) => r,
        None => {
            let matching: Vec<_> = runs
                .iter()
                .filter(|r| r.run.run_id.starts_with(run))
                .collect();
            match matching.as_slice() {
                [one] => *one,
                [] => {
                    return Err(Stop::bad(format!(
                        "no run `{run}` in the results store ({}); give a results file instead: `hpc-tutor export --run FILE`",
                        store.dir().display()
                    )));
                }
                many => {
                    let ids: Vec<&str> =
                        many.iter().take(5).map(|r| r.run.run_id.as_str()).collect();
                    return Err(Stop::bad(format!(
                        "`{run}` matches {} runs ({}{}); give more of the id",
                        many.len(),
                        ids.join(", "),
                        if many.len() > 5 { ", …" } else { "" }
                    )));
                }
            }
        }
    };
    load_file(&found.path)
}

/// Reads a results file; bad lines are reported as `path:line: message`.
fn load_file(path: &Path) -> Result<Vec<Record>, Stop> {
    let records = store::load(path).map_err(Stop::bad)?;
    if records.is_empty() {
        return Err(Stop::bad(format!(
            "{}: no results records in this file",
            path.display()
        )));
    }
    Ok(records)
}

/// `export LESSON_ID`: the lesson card.
fn export_lesson(source: &LessonSource, id: &str, args: &ExportArgs) -> Result<PathBuf, Stop> {
    if args.chart.is_some() {
        return Err(Stop::bad(
            "--chart goes with --run; a lesson card draws each experiment's own charts",
        ));
    }
    if let Some(w) = args.width {
        export::check_width(w)?;
    }
    if let Some(h) = args.height {
        export::check_height(h)?;
    }
    let set = LessonSet::load(source).map_err(Stop::bad)?;
    let Some(lesson) = set.find(id) else {
        return Err(Stop::bad(format!(
            "no lesson with id `{id}`; `hpc-tutor lessons list` shows the ids"
        )));
    };
    let store = Store::default_location();
    let mut runs: BTreeMap<String, Vec<Record>> = BTreeMap::new();
    let entries = lesson.runnables();
    for e in &entries {
        if let Some(records) = store.as_ref().and_then(|s| export::latest_stored_run(s, e)) {
            runs.insert(e.clone(), records);
        }
    }
    let missing: Vec<&str> = entries
        .iter()
        .filter(|e| !runs.contains_key(*e))
        .map(String::as_str)
        .collect();
    if let Some(first) = missing.first() {
        let names: Vec<String> = missing.iter().map(|e| format!("`{e}`")).collect();
        // A lesson's program runs from the lesson (its command is built there).
        let or_by_hand = if first.starts_with("program:") {
            String::new()
        } else {
            format!(", or `hpc-tutor run {first} --out FILE` then `hpc-tutor export --run FILE`")
        };
        let text = format!(
            "no stored run of {} yet: run `hpc-tutor --lesson {}` and press r{or_by_hand}",
            names.join(" or "),
            lesson.id
        );
        if runs.is_empty() {
            return Err(Stop::failed(text));
        }
        eprintln!("hpc-tutor export: note: {text}; the card shows it as not run yet");
    }
    let progress = read_progress();
    let lesson_progress = progress.as_ref().and_then(|p| p.lessons.get(&lesson.id));
    let answers: Option<&BTreeMap<String, Answer>> = lesson_progress.map(|lp| &lp.answers);
    let for_checks = store
        .as_ref()
        .map(|s| export::stored_runs_for_checks(s, lesson, &runs))
        .unwrap_or_default();
    let card = LessonCard {
        lesson,
        runs: &runs,
        answers,
        answered_at: lesson_progress.map(|lp| &lp.answered_at),
        for_checks: Some(&for_checks),
    };
    let png = export::render_lesson_card(&card, args.width, args.height)?;
    let path = output_path(
        args.output.as_deref(),
        &export::lesson_file_name(&lesson.id),
    );
    export::write_png(&path, &png)?;
    Ok(path)
}

/// The learner's progress, read without changing anything (a corrupt file is left where it
/// is, with a note, and the card is made without answers).
fn read_progress() -> Option<Progress> {
    let store = ProgressStore::default_location()?;
    let bytes =
        match crate::input::read_regular(store.path(), 64 * crate::input::MIB, "a progress file") {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                eprintln!(
                    "hpc-tutor export: note: cannot read {}: {e}; the card shows no answers",
                    store.path().display()
                );
                return None;
            }
        };
    match serde_json::from_slice(&bytes) {
        Ok(p) => Some(p),
        Err(e) => {
            eprintln!(
                "hpc-tutor export: note: {} is not a progress file ({e}); the card shows no answers",
                store.path().display()
            );
            None
        }
    }
}

/// Where the image goes: `output` (a file, or a folder to put `default` in), else
/// `default` in the current folder.
fn output_path(output: Option<&Path>, default: &str) -> PathBuf {
    match output {
        Some(p) if p.is_dir() => p.join(default),
        Some(p) => p.to_owned(),
        None => PathBuf::from(default),
    }
}
