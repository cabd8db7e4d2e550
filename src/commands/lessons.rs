//! `hpc-tutor lessons list|check`.

use std::process::ExitCode;

use crate::stdout::Stdout;

use crate::lesson::{LessonSet, LessonSource};

/// Prints id, track and title of every valid lesson.
pub fn list(source: &LessonSource) -> anyhow::Result<ExitCode> {
    let set = LessonSet::load(source)?;
    let mut out = Stdout::lock();
    let id_w = set
        .lessons
        .iter()
        .map(|l| l.id.len())
        .max()
        .unwrap_or(2)
        .max(2);
    let tr_w = set
        .lessons
        .iter()
        .map(|l| l.track.len())
        .max()
        .unwrap_or(5)
        .max(5);
    writeln!(out, "{:id_w$}  {:tr_w$}  TITLE", "ID", "TRACK")?;
    for l in &set.lessons {
        writeln!(out, "{:id_w$}  {:tr_w$}  {}", l.id, l.track, l.title)?;
    }
    out.flush()?;
    if !set.broken.is_empty() {
        eprintln!(
            "{} lesson file(s) have problems and are not listed; see `hpc-tutor lessons check`",
            set.broken.len()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints every problem as `path:line:col: message`; exit status 1 if there is any.
pub fn check(source: &LessonSource) -> anyhow::Result<ExitCode> {
    let set = LessonSet::load(source)?;
    let problems = set.diagnostics();
    let mut out = Stdout::lock();
    for d in &problems {
        writeln!(out, "{d}")?;
    }
    out.flush()?;
    if problems.is_empty() {
        eprintln!("checked {} lesson file(s): no problems", set.file_count());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "checked {} lesson file(s): {} problem(s) in {} file(s)",
            set.file_count(),
            problems.len(),
            set.broken.len()
        );
        Ok(ExitCode::FAILURE)
    }
}
