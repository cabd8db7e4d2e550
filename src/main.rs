//! The `hpc-tutor` binary: parse the command line, dispatch. Everything else is in the library.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use hpc_tutor::cli::{Cli, Command, LessonsAction};
use hpc_tutor::lesson::{LessonSet, LessonSource};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hpc-tutor: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn source(dir: Option<std::path::PathBuf>) -> LessonSource {
    dir.map_or(LessonSource::BuiltIn, LessonSource::Directory)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        None => hpc_tutor::tui::run(source(cli.lessons), cli.lesson),
        Some(Command::Lessons { action }) => match action {
            LessonsAction::List => {
                let set = LessonSet::load(&source(cli.lessons))?;
                let mut out = std::io::stdout().lock();
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
                if !set.broken.is_empty() {
                    eprintln!(
                        "{} lesson file(s) have problems and are not listed; see `hpc-tutor lessons check`",
                        set.broken.len()
                    );
                }
                Ok(ExitCode::SUCCESS)
            }
            LessonsAction::Check { dir } => {
                let set = LessonSet::load(&source(dir.or(cli.lessons)))?;
                let problems = set.diagnostics();
                let mut out = std::io::stdout().lock();
                for d in &problems {
                    writeln!(out, "{d}")?;
                }
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
        },
    }
}
