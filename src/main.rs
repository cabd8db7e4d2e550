//! The `hpc-tutor` binary: parse the command line, dispatch. Everything else is in the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use hpc_tutor::cli::{Cli, Command, LessonsAction, ResultsAction, SlurmAction};
use hpc_tutor::commands;
use hpc_tutor::lesson::LessonSource;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return usage(&e),
    };
    if let Some(option) = cli.option_without_its_place() {
        use clap::CommandFactory;
        return usage(&Cli::command().error(
            clap::error::ErrorKind::ArgumentConflict,
            format!("{option} opens the tutor: it cannot be used with a command"),
        ));
    }
    // The lesson folder, and where it was given (`--lessons`, HPC_TUTOR_LESSONS) for
    // messages about it.
    let (lessons, mut origin_of_lessons) = cli
        .lessons_dir()
        .map_or((None, None), |(dir, origin)| (Some(dir), Some(origin)));
    let source = |dir: Option<std::path::PathBuf>| {
        dir.map_or(LessonSource::BuiltIn, LessonSource::Directory)
    };
    let result = match cli.command {
        None => match cli.results {
            Some(dir) => hpc_tutor::tui::run_results(source(lessons), &dir),
            None => hpc_tutor::tui::run(source(lessons), cli.lesson),
        },
        Some(Command::Lessons { action }) => match action {
            LessonsAction::List => commands::lessons::list(&source(lessons)),
            LessonsAction::Check { dir } => {
                if dir.is_some() {
                    origin_of_lessons = None;
                }
                commands::lessons::check(&source(dir.or(lessons)))
            }
        },
        Some(Command::Run(args)) => commands::run::run(&args),
        Some(Command::Experiments) => commands::run::list_experiments(),
        Some(Command::Bench(args)) => commands::bench::bench(&args),
        Some(Command::Slurm { action }) => match action {
            SlurmAction::Script(args) => commands::slurm::script(&args),
            SlurmAction::Info => commands::slurm::info(),
        },
        Some(Command::Results { action }) => match action {
            ResultsAction::Merge { paths, output } => {
                commands::results::merge(&paths, output.as_deref())
            }
        },
        Some(Command::MpiWorker(args)) => return commands::run::mpi_worker(&args),
        Some(Command::Tied { parent, program }) => {
            return hpc_tutor::backend::launch::exec_tied(parent, &program);
        }
        Some(Command::Export(args)) => commands::export::export(&source(lessons), &args),
        Some(Command::Demo(args)) => hpc_tutor::demo::command(&source(lessons), &args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            // A lesson folder that cannot be used is bad input, said once.
            if let Some(load) = e.downcast_ref::<hpc_tutor::lesson::LoadError>() {
                match origin_of_lessons {
                    Some(origin) => eprintln!("hpc-tutor: {origin}: {load}"),
                    None => eprintln!("hpc-tutor: {load}"),
                }
                return ExitCode::from(2);
            }
            match hpc_tutor::stdout::StdoutError::find(&e) {
                // The reader of the output went away (`| head`): stop quietly, as SIGPIPE
                // would.
                Some(s) if s.is_broken_pipe() => ExitCode::from(hpc_tutor::stdout::BROKEN_PIPE),
                _ => {
                    eprintln!("hpc-tutor: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

/// Prints clap's help, version or usage error and returns its exit status (0 for help and
/// version, 2 for usage errors) — or, when the help cannot be written to standard output,
/// what any other command's output failure gives.
fn usage(e: &clap::Error) -> ExitCode {
    let code = ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    match e.print() {
        Ok(()) => code,
        Err(io) if !e.use_stderr() => {
            let failed = hpc_tutor::stdout::StdoutError(io);
            if failed.is_broken_pipe() {
                ExitCode::from(hpc_tutor::stdout::BROKEN_PIPE)
            } else {
                eprintln!("hpc-tutor: {failed}");
                ExitCode::FAILURE
            }
        }
        Err(_) => code,
    }
}
