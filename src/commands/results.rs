//! `hpc-tutor results merge`: the points of batch jobs (e.g. a job array's tasks) put
//! together into one sweep per experiment, backend and parameters.

use std::path::Path;
use std::process::ExitCode;

use crate::record::Record;

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;
/// Exit status when the output could not be written.
const FAILED: u8 = 1;

/// Writes `text` to `path` safely ([`crate::fsio::write`]); on failure says so in one line
/// and gives the exit status.
fn write_out(path: &Path, text: &str) -> Result<(), ExitCode> {
    crate::fsio::write(path, text.as_bytes()).map_err(|e| {
        eprintln!("hpc-tutor results merge: {e}");
        ExitCode::from(FAILED)
    })?;
    eprintln!("merged results written to {}", path.display());
    Ok(())
}

/// `hpc-tutor results merge`.
pub fn merge(paths: &[std::path::PathBuf], output: Option<&Path>) -> anyhow::Result<ExitCode> {
    use crate::measure::merge;
    let fail = |m: String| {
        eprintln!("hpc-tutor results merge: {m}");
        Ok(ExitCode::from(BAD_INPUT))
    };
    let files = match merge::files(paths) {
        Ok(f) => f,
        Err(e) => return fail(e.to_string()),
    };
    if files.is_empty() {
        return fail(format!(
            "no results files (.jsonl) in {}",
            paths
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    // Files that cannot be read are listed and left out; only when none can be read is
    // there nothing to merge.
    let loaded = merge::load_each(&files);
    match loaded.skipped.as_slice() {
        [one] if loaded.inputs.is_empty() => return fail(one.to_string()),
        many if loaded.inputs.is_empty() => {
            return fail(format!(
                "none of the {} results files can be read:\n{}",
                many.len(),
                merge::list_skipped(many)
            ));
        }
        [] => {}
        many => eprintln!(
            "hpc-tutor results merge: skipped {} file(s) that cannot be read:\n{}",
            many.len(),
            merge::list_skipped(many)
        ),
    }
    let inputs = loaded.inputs;
    let sweeps = merge::merge(&inputs);
    let to_dir = output.is_some_and(Path::is_dir);
    if sweeps.len() > 1 && !to_dir {
        return fail(format!(
            "{} different sweeps (experiment, backend or parameters differ) in these files: give -o an existing folder to write one file for each",
            sweeps.len()
        ));
    }
    let mut text = String::new();
    for s in &sweeps {
        let mut one = String::new();
        for r in &s.records {
            one.push_str(&r.to_line());
            one.push('\n');
        }
        if let (true, Some(dir), Some(Record::Run(r))) = (to_dir, output, s.records.first()) {
            let path = dir.join(format!("{}.jsonl", r.run_id));
            if let Err(code) = write_out(&path, &one) {
                return Ok(code);
            }
        }
        text.push_str(&one);
        for note in &s.replaced {
            eprintln!("note: measured twice, the later one kept: {note}");
        }
        if let Some(Record::Run(r)) = s.records.first() {
            let points = s
                .records
                .iter()
                .filter(|r| matches!(r, Record::Point(_)))
                .count();
            eprintln!(
                "{} ({}): {} point(s) from {} file(s)",
                r.experiment,
                r.backend,
                points,
                s.sources.len()
            );
        }
    }
    match output {
        Some(_) if to_dir => {}
        Some(path) => {
            if let Err(code) = write_out(path, &text) {
                return Ok(code);
            }
        }
        None => crate::stdout::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}
