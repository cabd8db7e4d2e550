//! The command line, as clap definitions only. `main.rs` dispatches on it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Learn parallel computing and scaling by running real experiments, in the terminal.
///
/// With no command, opens the tutor: a catalogue of lessons, a reader with checks, and
/// (in later lessons) experiments measured on this machine.
#[derive(Debug, Parser)]
#[command(name = "hpc-tutor", version)]
pub struct Cli {
    /// Read lessons from this folder instead of the built-in ones [env: HPC_TUTOR_LESSONS,
    /// when set and not empty].
    #[arg(long, value_name = "DIR", global = true)]
    pub lessons: Option<PathBuf>,

    /// Open the tutor at this lesson (an id from `hpc-tutor lessons list`).
    #[arg(long, value_name = "ID")]
    pub lesson: Option<String>,

    /// Open the tutor on the results files (.jsonl) in DIR, e.g. what batch jobs wrote: the
    /// points of runs of one sweep (a job array's tasks) are merged and plotted together.
    /// Files that cannot be read are listed and left out (exit status 2 when none can be).
    #[arg(long, value_name = "DIR", conflicts_with = "lesson")]
    pub results: Option<PathBuf>,

    /// What to do instead of opening the tutor.
    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// The lesson folder asked for, with where it was asked for (`--lessons` or
    /// `HPC_TUTOR_LESSONS`, which counts only when set and not empty); `None` for the
    /// built-in lessons.
    pub fn lessons_dir(&self) -> Option<(PathBuf, &'static str)> {
        match &self.lessons {
            Some(dir) => Some((dir.clone(), "--lessons")),
            None => std::env::var_os("HPC_TUTOR_LESSONS")
                .filter(|d| !d.is_empty())
                .map(|d| (PathBuf::from(d), "HPC_TUTOR_LESSONS")),
        }
    }

    /// The option that only goes without a command (`--lesson`, `--results`), if one was
    /// given with a command.
    pub fn option_without_its_place(&self) -> Option<&'static str> {
        self.command.as_ref()?;
        if self.lesson.is_some() {
            Some("--lesson")
        } else if self.results.is_some() {
            Some("--results")
        } else {
            None
        }
    }
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
    /// Run a scaling experiment and report what it measures.
    ///
    /// Exit status: 0 ok, 1 the run failed, 2 bad input, 3 deadlock detected, 130 interrupted.
    Run(RunArgs),
    /// List the experiments with their parameters, ranges and defaults.
    Experiments,
    /// Measure hpc-tutor's own kernels: throughput and parallel efficiency.
    Bench(BenchArgs),
    /// Save charts or a lesson card as a PNG image.
    ///
    /// `hpc-tutor export LESSON_ID` makes a card of the lesson: its key takeaways, the main
    /// result and charts of your latest stored run of its experiment(s) and your
    /// predictions next to the measurements. `hpc-tutor export --run RUN_ID|FILE` charts
    /// one run (repeat --run to overlay runs): a run id from the results store, or a
    /// results file such as `hpc-tutor run … --out FILE` writes. Each run gets the chart the
    /// tutor shows it with: scaling over workers, time and bandwidth over message sizes, or
    /// the wait-for graph of a deadlock.
    ///
    /// The image goes to `-o FILE` (or into `-o DIR`), else to `<lesson id>.png` or
    /// `<run id>-<chart>.png` in the current folder. The same input always gives the same
    /// bytes.
    ///
    /// Exit status: 0 written; 1 nothing to export yet (no stored run) or the file could
    /// not be written; 2 bad input (an option value out of range, an unknown lesson or run
    /// id, a results file that cannot be read, reported as `path:line: message`).
    #[command(
        override_usage = "hpc-tutor export LESSON_ID [-o FILE] [--width W] [--height H]\n       \
        hpc-tutor export --run RUN_ID|FILE… [--chart CHART] [-o FILE] [--width W] [--height H]"
    )]
    Export(ExportArgs),
    /// Play a demo for a class: lessons, captions, puzzles, live runs and replays.
    ///
    /// Plays SCRIPT (a TOML file; see assets/demos/README.md), or the built-in demo of
    /// race → deadlock → Amdahl → threads vs MPI. It advances on its own; the presenter's
    /// keys: space or → next, ← previous, p pause/resume, r re-run the step, n speaker
    /// notes, q quit. Run `hpc-tutor demo --notes` in a second terminal to follow the
    /// speaker notes of the current step there.
    ///
    /// A run step replays its `replay_if_unavailable` recording when the experiment
    /// cannot run here (e.g. MPI without mpirun), labelled as a replay.
    ///
    /// Exit status: 0 done; 2 the script has problems (each printed as
    /// `path:line: message`).
    Demo(DemoArgs),
    /// SLURM: the allocation this runs in, and job scripts that reproduce experiments.
    Slurm {
        /// What to do.
        #[command(subcommand)]
        action: SlurmAction,
    },
    /// Work with results files: merge the points of batch jobs into one sweep.
    Results {
        /// What to do.
        #[command(subcommand)]
        action: ResultsAction,
    },
    /// One MPI rank of a run (started by mpirun or srun for `run --backend mpi`).
    #[command(hide = true)]
    MpiWorker(MpiWorkerArgs),
    /// Runs PROGRAM in place of this process, killed as soon as process PARENT is gone
    /// (`hpc-tutor run` starts its MPI launcher this way, so that even a `kill -9` of the
    /// run takes the launcher and, with it, every rank along).
    #[command(hide = true)]
    Tied {
        /// The process whose end kills PROGRAM.
        #[arg(long)]
        parent: i32,
        /// The program and its arguments.
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        program: Vec<String>,
    },
}

/// Arguments of `hpc-tutor demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The demo script (TOML) [default: the built-in demo].
    #[arg(value_name = "SCRIPT")]
    pub script: Option<PathBuf>,

    /// Follow a demo playing in another terminal: show the current step's speaker notes.
    #[arg(long, conflicts_with_all = ["check", "print", "script"])]
    pub notes: bool,

    /// Check the script (lessons, puzzles, schedules, experiment parameters, recordings)
    /// and exit: 0 when it is valid, 2 with every problem as `path:line: message`.
    #[arg(long)]
    pub check: bool,

    /// Print the built-in demo script, a starting point for your own.
    #[arg(long, conflicts_with_all = ["script", "check"])]
    pub print: bool,

    /// The file through which the presenter tells `--notes` where the demo is [default:
    /// $XDG_RUNTIME_DIR/hpc-tutor/demo-notes.json, else in the state folder].
    #[arg(long, value_name = "FILE")]
    pub notes_file: Option<PathBuf>,
}

/// Arguments of `hpc-tutor mpi-worker` (internal).
#[derive(Debug, clap::Args)]
pub struct MpiWorkerArgs {
    /// The experiment.
    pub experiment: String,
    /// Runs to do.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
    /// Variant, for experiments that compare variants.
    #[arg(long)]
    pub variant: Option<String>,
    /// Experiment parameters.
    #[arg(long = "param")]
    pub params: Vec<String>,
}

pub use crate::experiment::request::{Backend, LauncherChoice as LauncherArg};

/// How to print results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A table for people (the default on a terminal).
    Table,
    /// JSON Lines records, one per line as they happen (the default otherwise).
    Json,
    /// One CSV row per point, at the end.
    Csv,
}

/// What sweep to measure: the experiment, where its workers run, how many, how often.
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    /// The experiment (see `hpc-tutor experiments`); leave it out with --exec.
    #[arg(required_unless_present = "exec")]
    pub experiment: Option<String>,

    /// Measure your own program instead: COMMAND is run once per repetition, `{workers}` in
    /// it replaced by the worker count (threads: OMP_NUM_THREADS, RAYON_NUM_THREADS,
    /// NUMBA_NUM_THREADS, MKL_NUM_THREADS, OPENBLAS_NUM_THREADS are set to it; processes and
    /// MPI ranks get 1 each). Split into words like a shell would, but run without one
    /// unless --shell. Its exit status must be 0.
    #[arg(long, value_name = "COMMAND")]
    pub exec: Option<String>,

    /// Run the --exec command through `sh -c` (pipes, redirections, $VARIABLES).
    #[arg(long, requires = "exec")]
    pub shell: bool,

    /// Take the time the program prints itself: the first group of REGEX, in seconds (e.g.
    /// 'Execution time: ([0-9.]+)'); the wall time of the whole process is recorded too
    /// [default: the wall time, start-up included].
    #[arg(long, value_name = "REGEX", requires = "exec")]
    pub time_from: Option<String>,

    /// Strong scaling (the same work on every worker count) or weak (the work grows with
    /// the workers: scaled speedup, Gustafson) — for --exec and mc-pi.
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,

    /// Where the workers run: threads of one process, processes a program starts itself
    /// (--exec only), or MPI ranks [default: threads; mpi for the experiments that run on
    /// MPI ranks only].
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,

    /// Worker counts (threads, processes or MPI ranks) to measure, e.g. 1,2,4 [default: 1, 2,
    /// 4, … up to the CPUs available; for MPI inside a SLURM allocation, to its CPUs].
    #[arg(long, value_name = "N,N,…", value_delimiter = ',', value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub workers: Vec<u16>,

    /// Timed repetitions per point.
    #[arg(long, value_name = "R", default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub reps: u32,

    /// Untimed warm-up runs per point.
    #[arg(long, value_name = "W", default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub warmup: u32,

    /// An experiment parameter, e.g. --param samples=1e8 (repeatable, each parameter once).
    #[arg(long = "param", short = 'p', value_name = "KEY=VALUE")]
    pub params: Vec<String>,
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    /// The same total work on every worker count.
    Strong,
    /// Work per worker fixed: the total grows with the workers.
    Weak,
}

impl SweepArgs {
    /// The run request these arguments ask for, checked once for every face.
    pub fn request(
        &self,
    ) -> Result<crate::experiment::RunRequest, crate::experiment::request::RequestError> {
        use crate::experiment::request::RequestError;
        let mut params = self.params.clone();
        let name = match (&self.exec, self.experiment.as_deref()) {
            (Some(_), Some(other)) if other != "program" => {
                return Err(RequestError::Param {
                    name: None,
                    message: format!(
                        "--exec measures your own program: leave out the experiment name `{other}`"
                    ),
                });
            }
            (Some(command), _) => {
                params.push(format!("command={command}"));
                if self.shell {
                    params.push("shell=on".to_owned());
                }
                if let Some(re) = &self.time_from {
                    params.push(format!("time_from={re}"));
                }
                "program"
            }
            (None, Some(name)) => name,
            // clap asks for one of the two.
            (None, None) => "program",
        };
        if let Some(mode) = self.mode {
            let takes_mode = crate::experiment::find(name)
                .is_some_and(|e| e.params.iter().any(|p| p.name == "mode"));
            if !takes_mode {
                return Err(RequestError::Param {
                    name: Some("mode".to_owned()),
                    message: format!(
                        "--mode applies to --exec and mc-pi runs; `{name}` has no strong or weak mode"
                    ),
                });
            }
            params.push(format!(
                "mode={}",
                match mode {
                    ModeArg::Strong => "strong",
                    ModeArg::Weak => "weak",
                }
            ));
        }
        crate::experiment::RunRequest::check(
            name,
            self.backend,
            &self.workers,
            self.reps,
            self.warmup,
            &params,
        )
    }
}

/// Arguments of `hpc-tutor run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The sweep.
    #[command(flatten)]
    pub sweep: SweepArgs,

    /// Which program starts MPI ranks [default: srun inside a SLURM allocation, else mpirun].
    #[arg(long, value_enum)]
    pub launcher: Option<LauncherArg>,

    /// Seconds to wait for any progress of MPI ranks before declaring them stuck; starting
    /// them gets at least 30 s [default: per experiment: 120; 60 collectives, 30 pingpong,
    /// 10 exchange, 1 for exchange's sweep=on]. MPI runs only (`locks` on threads has its
    /// own `--param deadline=SECS`) — and --exec runs on any backend, where it is the
    /// longest one run of the program may take before it and every process it started are
    /// stopped [default: 600].
    #[arg(long, value_name = "SECS", value_parser = parse_deadline)]
    pub deadline: Option<f64>,

    /// Output format [default: table on a terminal, else json].
    #[arg(long, value_enum)]
    pub format: Option<Format>,

    /// Write the output to FILE instead of standard output (json unless --format says otherwise).
    /// The file is locked while the run writes it: a second run given the same FILE is
    /// refused (exit 2).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Do not keep the run in the results store ($HPC_TUTOR_DATA_DIR/results, else
    /// ~/.local/share/hpc-tutor/results), where the tutor, `export` and `slurm script`
    /// find earlier runs.
    #[arg(long)]
    pub no_store: bool,
}

impl RunArgs {
    /// The run request these arguments ask for, launcher and deadline included.
    pub fn request(
        &self,
    ) -> Result<crate::experiment::RunRequest, crate::experiment::request::RequestError> {
        let mut request = self.sweep.request()?.with_deadline(self.deadline)?;
        request.launcher = self.launcher;
        Ok(request)
    }
}

/// Which chart(s) `hpc-tutor export --run` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ChartArg {
    /// Kernel time against workers, with min–max error bars.
    Time,
    /// Speedup T(1)/T(N), with the ideal line and the fitted model.
    Speedup,
    /// Efficiency S(N)/N.
    Efficiency,
    /// The three side by side, or stacked when --width is less than 1.5 × --height
    /// (at least 900×400 side by side, 500×900 stacked).
    All,
}

/// Arguments of `hpc-tutor export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The lesson to make a card of (an id from `hpc-tutor lessons list`).
    #[arg(
        value_name = "LESSON_ID",
        required_unless_present = "run",
        conflicts_with = "run"
    )]
    pub lesson: Option<String>,

    /// A run to chart: a run id from the results store (a unique prefix will do) or a
    /// results file (.jsonl). Repeat to overlay runs on the same charts.
    #[arg(long, value_name = "RUN_ID|FILE")]
    pub run: Vec<String>,

    /// Which chart(s) to draw for --run [default: all]. Message-size runs draw time and
    /// bandwidth (speedup and efficiency give bandwidth); a run that deadlocked before it
    /// measured anything draws its wait-for graph, one picture whatever --chart says. A
    /// lesson card draws each experiment's own charts.
    #[arg(long, value_enum)]
    pub chart: Option<ChartArg>,

    /// Where to write the PNG: a file, or an existing folder to put the default name in.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Image width in pixels, 400 to 4000 [default: 1200 for a card or one chart, 1800 for
    /// all three].
    #[arg(long, value_name = "W")]
    pub width: Option<u32>,

    /// Image height in pixels, 300 to 4000 [default: 800 for one chart, 700 for all three;
    /// a card is as tall as its content].
    #[arg(long, value_name = "H")]
    pub height: Option<u32>,
}

/// Arguments of `hpc-tutor bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Seconds to spend on each measurement (longer is steadier).
    #[arg(long, value_name = "S", default_value_t = 2.0)]
    pub seconds: f64,
    /// Run only these benchmarks (repeat, or separate with commas); all by default.
    #[arg(long, value_name = "PART", value_delimiter = ',')]
    pub only: Vec<BenchPart>,
}

/// A part of `hpc-tutor bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPart {
    /// Single-thread kernels: mc-pi's and integral's vector paths, the work unit.
    Kernels,
    /// mc-pi on 2 workers, threads and MPI ranks.
    Scaling,
    /// The race variants' cost per increment.
    Race,
    /// The overhead of `run --exec` against hyperfine.
    Program,
    /// stream's triad bandwidth against likwid-bench.
    Stream,
    /// farm's cost per task handed out by a manager.
    Farm,
}

/// What `hpc-tutor slurm` does.
#[derive(Debug, Subcommand)]
pub enum SlurmAction {
    /// Print the sbatch script that runs EXPERIMENT on a cluster as `hpc-tutor run` would.
    ///
    /// Tasks and CPUs per task follow the sweep (threads: one task with a CPU per thread;
    /// MPI: a task per rank). The time limit is estimated from your latest stored run of
    /// the same experiment and parameters, else from one repetition timed now on one
    /// worker; `--time` sets it instead. The job writes its results as JSON Lines to
    /// results/ next to its output, ready for `hpc-tutor --results results`.
    ///
    /// Exit status: 0 printed; 2 bad input.
    Script(Box<SlurmScriptArgs>),
    /// Show the SLURM allocation this shell is in (job, nodes, tasks, CPUs per task,
    /// memory), the CPUs and cores this process may use, and how MPI would be launched.
    Info,
}

/// Arguments of `hpc-tutor slurm script`.
#[derive(Debug, clap::Args)]
pub struct SlurmScriptArgs {
    /// The sweep the job runs.
    #[command(flatten)]
    pub sweep: SweepArgs,

    /// Nodes to ask for (MPI ranks spread over them; threads always use one).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub nodes: u16,

    /// The partition (queue) [default: the current job's, inside an allocation].
    #[arg(long, value_name = "NAME")]
    pub partition: Option<String>,

    /// The account to charge.
    #[arg(long, value_name = "NAME")]
    pub account: Option<String>,

    /// The time limit (MM, HH:MM:SS or D-HH:MM:SS) instead of the estimate.
    #[arg(long, value_name = "TIME")]
    pub time: Option<String>,

    /// Write the script to FILE instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// What `hpc-tutor results` does.
#[derive(Debug, Subcommand)]
pub enum ResultsAction {
    /// Merge results files into one sweep per experiment, backend and parameters.
    ///
    /// Reads .jsonl files, and folders of them (e.g. what the tasks of a job array wrote,
    /// one point each). Points of the same sweep are put together in worker order and
    /// speedup, efficiency, Karp–Flatt and the fitted model are computed again against the
    /// merged 1-worker point. The merged run names the runs it came from.
    ///
    /// A file that cannot be read (empty, a bad line, not a regular file) is listed as
    /// `path:line: message` and left out.
    ///
    /// Exit status: 0 written; 2 bad input (no file can be read, or nothing to merge).
    Merge {
        /// Results files or folders of them.
        #[arg(required = true, value_name = "PATH")]
        paths: Vec<PathBuf>,
        /// Where to write the merged results: a file, or an existing folder to write one
        /// file per sweep in (needed when the inputs hold several sweeps) [default:
        /// standard output].
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// What `hpc-tutor lessons` does.
#[derive(Debug, Subcommand)]
pub enum LessonsAction {
    /// Print the id, track and title of every lesson, in catalogue order.
    List,
    /// Validate lesson files; print each problem as `path:line:col: message` (`path:
    /// message` for a file that cannot be read at all, e.g. a broken symlink).
    ///
    /// Exits with status 0 when every file is valid, 1 when there is any problem, 2 when
    /// the folder cannot be read or holds no lesson files.
    Check {
        /// Folder of lesson files [default: the `--lessons` folder, else the built-in lessons].
        dir: Option<PathBuf>,
    },
}

fn parse_deadline(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && (0.1..=86_400.0).contains(&v) => Ok(v),
        _ => Err(format!(
            "`{text}` is not allowed; expected seconds from 0.1 to 86400"
        )),
    }
}
