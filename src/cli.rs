//! The command line, as clap definitions only. `main.rs` dispatches on it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Learn parallel computing and scaling by running real experiments, in the terminal.
///
/// With no command, opens the tutor: a catalogue of lessons, a reader with checks, and
/// (in later lessons) experiments measured on this machine.
#[derive(Debug, Parser)]
#[command(name = "hpc-tutor", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Read lessons from this folder instead of the built-in ones.
    #[arg(long, value_name = "DIR", env = "HPC_TUTOR_LESSONS", global = true)]
    pub lessons: Option<PathBuf>,

    /// Open the tutor at this lesson (an id from `hpc-tutor lessons list`).
    #[arg(long, value_name = "ID")]
    pub lesson: Option<String>,

    /// What to do instead of opening the tutor.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Commands that run without the terminal interface.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List or validate lesson files.
    Lessons {
        /// What to do with the lessons.
        #[command(subcommand)]
        action: LessonsAction,
    },
}

/// What `hpc-tutor lessons` does.
#[derive(Debug, Subcommand)]
pub enum LessonsAction {
    /// Print the id, track and title of every lesson, in catalogue order.
    List,
    /// Validate lesson files; print each problem as `path:line:col: message`.
    ///
    /// Exits with status 0 when every file is valid, 1 when there is any problem.
    Check {
        /// Folder of lesson files [default: the `--lessons` folder, else the built-in lessons].
        dir: Option<PathBuf>,
    },
}
