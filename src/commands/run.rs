//! `hpc-tutor run` and `hpc-tutor experiments`: the headless face of the experiment engine.

use crate::kernel::{Output as Out, OutputsExt};
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::backend::launch::{LaunchSpec, Launcher, MpiExecutor};
use crate::backend::program::{ProgramExecutor, ProgramSpec};
use crate::backend::threads::Threads;
use crate::cli::{Format, LauncherArg, MpiWorkerArgs, RunArgs};
use crate::cluster::SystemInfo;
use crate::experiment::request::sweep_workers;
use crate::experiment::{self, Backend, ExperimentInfo, ParamKind, Params};
use crate::fsio::{StreamError, StreamFile};
use crate::measure::format::short;
pub use crate::measure::format::{
    busy_warning, bytes, latency, latency_bandwidth_text, rate, seconds,
};
use crate::measure::protocol::Executor;
use crate::measure::protocol::{OnDeadlock, Plan, run_plan};
use crate::record::{DiagnosisRecord, Model, PointRecord, Record, RunRecord, Status};

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;

/// `hpc-tutor mpi-worker`: one rank of an MPI run.
pub fn mpi_worker(args: &MpiWorkerArgs) -> ExitCode {
    #[cfg(feature = "mpi")]
    {
        crate::backend::mpi::worker(&crate::backend::mpi::WorkerArgs {
            experiment: args.experiment.clone(),
            params: args.params.clone(),
            variant: args.variant.clone(),
            runs: args.runs,
        })
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = args;
        eprintln!("hpc-tutor mpi-worker: this hpc-tutor was built without the `mpi` feature");
        ExitCode::from(BAD_INPUT)
    }
}

/// A run id from the start time and the process id: sortable and unique per host.
pub fn new_run_id(now: &chrono::DateTime<chrono::Local>) -> String {
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), std::process::id())
}

/// Runs `request` as a child `hpc-tutor run` (the current binary) and returns the records
/// it printed; when it fails, `hpc-tutor run exited with STATUS: ` and the last line of its
/// error output.
pub fn run_child(request: &crate::experiment::RunRequest) -> Result<Vec<Record>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find hpc-tutor: {e}"))?;
    let out = std::process::Command::new(exe)
        .args(request.child_args())
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("cannot start hpc-tutor run: {e}"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("hpc-tutor run exited with {}: {last}", out.status));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| Record::from_line(l).ok())
        .collect())
}

/// Prints one clear line about bad input and returns exit status 2.
fn bad_input(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("hpc-tutor run: {message}");
    Ok(ExitCode::from(BAD_INPUT))
}

/// Runs an experiment sweep as the command line asks.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    crate::backend::child::die_with_parent_if_asked();
    let request = match args.request() {
        Ok(r) => r,
        Err(e) => return bad_input(e),
    };
    let (info, params) = (request.experiment, &request.params);
    let system = SystemInfo::detect();
    let mpi = request.backend == Backend::Mpi;
    let threads_per_rank = info.threads_per_rank(params);
    let workers = match sweep_workers(info, params, mpi, &request.workers, &system) {
        Ok(w) => w,
        Err(e) => return bad_input(e),
    };
    let program = info.kind == experiment::Kind::Program;
    // A program under mpirun needs no MPI in hpc-tutor itself.
    if mpi && !program && !cfg!(feature = "mpi") {
        return bad_input(
            "this hpc-tutor was built without MPI support: rebuild with `cargo build --release --features mpi` \
             (needs an MPI implementation and libclang; Debian: apt-get install openmpi-bin libopenmpi-dev libclang-dev)",
        );
    }
    // The classic job-script mistakes, each with its fix, before anything is measured.
    for advice in system.advise(&crate::cluster::advice::Request {
        mpi,
        workers: workers.clone(),
        threads_per_rank,
        fixed_workers: info.fixed_workers().is_some(),
    }) {
        eprint!("{}", advice.to_text());
    }
    let format = args
        .format
        .unwrap_or(if args.out.is_none() && io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        });
    // Taken before anything is measured: a second run given the same file is refused at
    // once, and leaves the first one's records alone.
    let mut out = match &args.out {
        Some(path) => match StreamFile::create(path) {
            Ok(f) => Output::File(io::BufWriter::new(f)),
            Err(e @ StreamError::Busy { .. }) => return bad_input(e),
            Err(StreamError::Write(e)) => {
                eprintln!("hpc-tutor run: {e}");
                return Ok(ExitCode::FAILURE);
            }
        },
        None => Output::Stdout(io::stdout().lock()),
    };

    // Other runs on this host see this one, and it sees them, point by point.
    let registration = crate::record::store::data_dir().and_then(|d| {
        crate::measure::contention::Registration::register(&d, &system.host, info.name)
    });
    // The CPU time of MPI ranks and of a program (and what it starts) is the run's own.
    let watch = crate::measure::contention::Watch::new(registration, mpi || program);
    let launcher = match request.launcher {
        Some(LauncherArg::Mpirun) => Launcher::Mpirun,
        Some(LauncherArg::Srun) => Launcher::Srun,
        None => Launcher::default_here(),
    };
    // Ranks started by srun run under slurmstepd, outside this process's tree: their CPU
    // time cannot be told from other work, so none is claimed.
    let watch = if mpi && launcher == Launcher::Srun {
        eprintln!(
            "note: srun runs the ranks under slurmstepd, outside this run's processes: how busy other work kept the CPUs is not measured (other_busy stays empty){}",
            if program {
                ", nor the CPUs the program kept busy"
            } else {
                ""
            }
        );
        watch.without_other_work()
    } else {
        watch
    };
    let others = watch.other_runs();
    if !others.is_empty() {
        let list: Vec<String> = others
            .iter()
            .map(|o| format!("{} (pid {})", o.experiment, o.pid))
            .collect();
        eprintln!(
            "warning: {} other hpc-tutor run(s) on this host share its CPUs: {}; their timings and this one's disturb each other",
            others.len(),
            list.join(", ")
        );
    }
    // How busy our CPUs are before we start: other programs on them skew every timing.
    let mut env = system.environment();
    env.busy_before = crate::cluster::busy_fraction(std::time::Duration::from_millis(250));
    if mpi && info.about_messages() {
        env.mpi = crate::backend::library::MpiLibrary::query();
    }
    if info.about_memory() {
        env.caches = crate::record::CacheLevel::of_this_machine();
    }
    let now = chrono::Local::now();
    let run = RunRecord {
        run_id: new_run_id(&now),
        experiment: info.name.to_owned(),
        backend: request.backend.name().to_owned(),
        params: params.to_strings(),
        workers: workers.clone(),
        reps: request.reps as usize,
        warmup: request.warmup as usize,
        env,
        started_at: now.to_rfc3339(),
        merged_from: Vec::new(),
    };
    let mut variants = Vec::new();
    for v in info.variants(params) {
        let k: Box<dyn crate::kernel::Kernel> = match info.kernel(params, v.as_deref()) {
            Some(k) => k,
            // MPI ranks build their kernel themselves.
            None if mpi => info.remote_kernel(),
            None => anyhow::bail!("experiment `{}` has no kernel for {v:?}", info.name),
        };
        variants.push((v, k));
    }
    let sizes = info.sizes(params);
    let size_param = info.size_param().filter(|_| !sizes.is_empty());
    // Runs of one launch: the ranks go through every size themselves unless each size is
    // its own launch.
    let runs_per_launch = (args.sweep.reps + args.sweep.warmup) as usize
        * if size_param.is_none() {
            sizes.len().max(1)
        } else {
            1
        };
    let run_id = run.run_id.clone();
    let plan = Plan {
        run,
        variants,
        model: info.model(params),
        cpus: system.cpus,
        sizes,
        on_deadlock: if info.probes_deadlocks(params) {
            OnDeadlock::RecordPoint
        } else {
            OnDeadlock::EndRun
        },
        threads_per_rank: mpi.then_some(threads_per_rank),
        watch: Some(watch),
        configured_serial: info.configured_serial_param().and_then(|p| params.float(p)),
    };
    let cancel = Arc::new(AtomicBool::new(false));
    let deadline = std::time::Duration::from_secs_f64(
        request.deadline.unwrap_or(info.default_deadline(params)),
    );
    let mut executor: Box<dyn Executor> = if program {
        let spec = match ProgramSpec::new(params, request.backend, launcher, system.cpus, deadline)
            .and_then(|s| s.preflight().map(|()| s))
        {
            Ok(s) => s,
            Err(e) => return bad_input(e),
        };
        if let Some(&n) = workers.first() {
            eprintln!("each run: {}", spec.shown(n));
        }
        Box::new(ProgramExecutor::new(spec).with_cancel(Arc::clone(&cancel)))
    } else if mpi {
        let exec = MpiExecutor::new(
            LaunchSpec {
                launcher,
                experiment: info.name.to_owned(),
                params: params
                    .to_strings()
                    .into_iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                variant: None,
                cpus: system.cpus,
                deadline,
                threads_per_rank,
                size_param: size_param.map(str::to_owned),
            },
            runs_per_launch,
        )
        .with_cancel(Arc::clone(&cancel));
        if let Err(e) = exec.preflight() {
            return bad_input(e);
        }
        Box::new(exec)
    } else {
        Box::new(Threads::new())
    };

    // The first Ctrl-C, SIGTERM or SIGHUP asks the sweep to stop (MPI ranks at once, a
    // thread repetition when it ends) and still write its end record; a second one ends the
    // process at once (its MPI launcher and ranks die with it: see `hpc-tutor tied`).
    for sig in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(&cancel))?;
        signal_hook::flag::register(sig, Arc::clone(&cancel))?;
    }

    let bar = io::stderr().is_terminal().then(|| {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {msg} [{bar:30}] {pos}/{len} runs, {elapsed} elapsed, ~{eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        b.set_message(info.name);
        b
    });

    let mut report = Report::new(format, info, params);
    // Every run is also kept in the results store (the tutor's history, `export`, and the
    // time estimate of `slurm script`), unless whoever started it stores it itself.
    let mut stored = if args.no_store {
        None
    } else {
        match crate::record::store::Store::default_location().map(|s| s.create(&run_id)) {
            Some(Ok(w)) => Some(w),
            Some(Err(e)) => {
                eprintln!("warning: not kept in the results store: {e}");
                None
            }
            None => None,
        }
    };
    // The first error writing the output: the run ends there, and it is what is reported.
    let mut write_error: Option<io::Error> = None;
    let mut sink = |r: &Record| -> io::Result<()> {
        if let Some(w) = &mut stored
            && let Err(e) = w.append(r)
        {
            // The output still gets every record; only the copy in the store stops.
            eprintln!("warning: the results store stopped keeping this run: {e}");
            stored = None;
        }
        let text = report.render(r);
        if !text.is_empty() {
            let written = match &bar {
                Some(b) if args.out.is_none() => b.suspend(|| out.write_all(text.as_bytes())),
                _ => out.write_all(text.as_bytes()),
            }
            .and_then(|()| out.flush());
            if let Err(e) = written {
                let copy = io::Error::new(e.kind(), e.to_string());
                write_error.get_or_insert(copy);
                return Err(e);
            }
        }
        Ok(())
    };
    let status = run_plan(plan, executor.as_mut(), &mut sink, &cancel, |p| {
        if let Some(b) = &bar {
            b.set_length(p.total as u64);
            b.set_position(p.done as u64);
        }
    });
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    // A file is synced: a write its disk refuses late is caught here, not lost.
    let finished = out.finish();
    if let Some(w) = &stored {
        eprintln!("kept in the results store: {}", w.path().display());
    }
    if let Some(e) = write_error.or(finished.err()) {
        return match &args.out {
            Some(path) => {
                eprintln!("hpc-tutor run: cannot write {}: {e}", path.display());
                Ok(ExitCode::FAILURE)
            }
            // As every command: one message and exit 1, or a quiet 141 for a closed pipe.
            None => Err(crate::stdout::StdoutError(e).into()),
        };
    }
    if let Some(path) = &args.out {
        eprintln!("results written to {}", path.display());
    }
    Ok(ExitCode::from(status.exit_code()))
}

/// Where the records go: the `--out` file (under its lock), or standard output.
enum Output {
    File(io::BufWriter<StreamFile>),
    Stdout(io::StdoutLock<'static>),
}

impl Output {
    /// Flushes what is left, and syncs a file.
    fn finish(self) -> io::Result<()> {
        match self {
            Output::File(w) => w
                .into_inner()
                .map_err(io::IntoInnerError::into_error)?
                .finish()
                .map_err(|e| e.source),
            Output::Stdout(mut s) => s.flush(),
        }
    }
}

impl Write for Output {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Output::File(w) => w.write(buf),
            Output::Stdout(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Output::File(w) => w.flush(),
            Output::Stdout(s) => s.flush(),
        }
    }
}

/// How the table of a run is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// One row per worker count (and variant): time, speedup, efficiency, Karp–Flatt.
    Scaling,
    /// One row per message size: one-way latency and bandwidth (pingpong).
    Messages,
    /// One row per message size: completed, or deadlocked (the eager-limit sweep).
    Probe,
    /// One row per worker count and array size: time per run and bandwidth (stream's sweep).
    Memory,
}

/// The machine's data caches in one line (`caches: L1 32 KiB per core, …`), or nothing.
fn cache_line(caches: &[crate::record::CacheLevel]) -> String {
    if caches.is_empty() {
        return String::new();
    }
    let list: Vec<String> = caches
        .iter()
        .map(|c| {
            let shared = if c.shared_by > 1 {
                format!(" shared by {} CPUs", c.shared_by)
            } else {
                " per core".to_owned()
            };
            format!("{}{shared}", c.label())
        })
        .collect();
    format!("caches: {}\n", list.join(", "))
}

/// Turns records into the chosen output format.
struct Report {
    format: Format,
    layout: Layout,
    /// The variant column: its heading and width; `None` without variants.
    variant_column: Option<(&'static str, usize)>,
    /// The first column of scaling tables: its heading and width (`workers`, `ranks`, or
    /// `ranks × threads` for hybrid runs).
    first_column: (&'static str, usize),
    configured_serial: Option<f64>,
    /// Outputs shown first, in this order, because they are what the experiment is about.
    lead_outputs: &'static [Out],
    output_keys: Vec<String>,
    /// CSV: whether the columns `ranks` and `threads` are written (MPI runs).
    csv_ranks: bool,
    /// The diagnosis of the deadlock the next probe row reports.
    diagnosis: Option<DiagnosisRecord>,
    /// Probe: the largest size that completed and the smallest that deadlocked.
    completed: Option<u64>,
    deadlocked: Option<u64>,
    /// The MPI library's configuration, from the run record.
    library: Option<crate::backend::library::MpiLibrary>,
    /// Whether a point so far had its ranks on more than one node.
    across_nodes: bool,
}

impl Report {
    fn new(format: Format, info: &ExperimentInfo, params: &Params) -> Self {
        let variants = info.variants(params);
        let variant_column = variants.iter().any(Option::is_some).then(|| {
            let heading = info.variant_param().unwrap_or("variant");
            let width = variants
                .iter()
                .flatten()
                .map(|v| v.chars().count())
                .chain([heading.len()])
                .max()
                .unwrap_or(0);
            (heading, width)
        });
        let layout = if info.probes_deadlocks(params) {
            Layout::Probe
        } else if !info.sizes(params).is_empty() && info.about_memory() {
            Layout::Memory
        } else if !info.sizes(params).is_empty() {
            Layout::Messages
        } else {
            Layout::Scaling
        };
        Self {
            format,
            layout,
            variant_column,
            first_column: ("workers", 7),
            configured_serial: info.configured_serial_param().and_then(|p| params.float(p)),
            lead_outputs: info.lead_outputs(),
            output_keys: Vec::new(),
            csv_ranks: false,
            diagnosis: None,
            completed: None,
            deadlocked: None,
            library: None,
            across_nodes: false,
        }
    }

    /// The variant column of one row: `value` right-aligned, with its two leading spaces.
    fn variant_cell(&self, value: &str) -> String {
        self.variant_column
            .map(|(_, w)| format!("  {value:>w$}"))
            .unwrap_or_default()
    }

    /// Output names, the experiment's lead outputs first, then the rest alphabetically.
    fn ordered<'k>(&self, keys: impl Iterator<Item = &'k String>) -> Vec<&'k String> {
        let mut keys: Vec<&String> = keys.collect();
        keys.sort_by_key(|k| {
            (
                self.lead_outputs
                    .iter()
                    .position(|l| l.key() == k.as_str())
                    .unwrap_or(usize::MAX),
                k.as_str().to_owned(),
            )
        });
        keys
    }

    fn render(&mut self, r: &Record) -> String {
        match self.format {
            Format::Json => format!("{}\n", r.to_line()),
            Format::Table => self.table(r),
            Format::Csv => self.csv(r),
        }
    }

    /// The notes at the end of a row: oversubscribed, outliers, and the outputs, except
    /// those in `skip` and those every experiment leaves out of tables.
    fn notes(&self, p: &PointRecord, skip: &[&str]) -> String {
        let mut notes = Vec::new();
        if let Some(d) = p.disturbance() {
            notes.push(format!("⚠ {d}"));
        }
        if p.oversubscribed {
            notes.push("oversubscribed".to_owned());
        }
        notes.extend(crate::measure::format::nodes_note(&p.hosts));
        if p.outliers > 0 {
            notes.push(format!("{} outlier(s)", p.outliers));
        }
        if p.inner_runs > 1 {
            notes.push(format!("{} runs per sample", p.inner_runs));
        }
        notes.extend(crate::measure::format::program_notes(&p.outputs, p.workers));
        for k in self.ordered(p.outputs.keys()) {
            if skip.contains(&k.as_str())
                || matches!(
                    k.as_str(),
                    "checksum"
                        | "work_units"
                        | "serial_configured"
                        | "samples"
                        | "wall_s"
                        | "program_s"
                        | "cpu_s"
                        | "cpus_busy"
                )
            {
                continue;
            }
            notes.push(format!("{k}={}", short(p.outputs[k])));
        }
        notes.join("  ")
    }

    fn table(&mut self, r: &Record) -> String {
        if let Record::Point(p) = r
            && crate::measure::format::across_nodes(std::iter::once(p))
        {
            self.across_nodes = true;
        }
        match r {
            Record::Run(run) => {
                self.library = run.env.mpi.clone();
                let params: Vec<String> =
                    run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
                let job = run
                    .env
                    .slurm_job_id
                    .as_deref()
                    .map(|j| format!(", SLURM job {j}"))
                    .unwrap_or_default();
                let busy = busy_warning(run.env.busy_before, run.env.cpus_available)
                    .map(|w| format!("⚠ {w}\n"))
                    .unwrap_or_default();
                let what = match program_header(run) {
                    Some(lines) => lines,
                    None => params.join(" "),
                };
                let head = format!(
                    "{} on {} · {} ({}, {} CPUs available{job})\n{what}\n",
                    run.experiment,
                    run.backend,
                    run.env.host,
                    run.env.cpu_model,
                    run.env.cpus_available,
                );
                match self.layout {
                    Layout::Messages => format!(
                        "{head}{} repetitions per size after {} warm-up; latency = one-way time (half a round trip), median\n{busy}\n{:>10}  {:>10}  {:>21}  {:>12}\n",
                        run.reps, run.warmup, "size", "latency", "95% CI of median", "bandwidth",
                    ),
                    Layout::Memory => format!(
                        "{head}{} repetitions per point after {} warm-up; time = one run (several passes over the arrays), median; bandwidth counted as STREAM counts it\n{}{busy}\n{:>7}{}  {:>11}  {:>10}  {:>21}  {:>11}\n",
                        run.reps,
                        run.warmup,
                        cache_line(&run.env.caches),
                        "workers",
                        self.variant_cell(self.variant_column.map_or("", |(h, _)| h)),
                        "working set",
                        "time",
                        "95% CI of median",
                        "bandwidth",
                    ),
                    Layout::Probe => format!(
                        "{head}each size is its own launch; a size that makes no progress within the deadline is a deadlock, and its ranks are stopped\n{busy}\n{:>10}  {:<9}  {:>10}\n",
                        "size", "result", "time",
                    ),
                    Layout::Scaling => {
                        if run.backend == "processes" {
                            self.first_column = ("processes", 9);
                        } else if run.backend == "mpi" {
                            let label = experiment::find(&run.experiment)
                                .map_or("ranks", |e| e.mpi_workers_label());
                            self.first_column = (label, label.chars().count().max(7));
                        }
                        let (first, w) = self.first_column;
                        format!(
                            "{head}{} repetitions per point after {} warm-up; times are medians\n{busy}\n{first:>w$}{}  {:>10}  {:>21}  {:>8}  {:>10}  {:>10}\n",
                            run.reps,
                            run.warmup,
                            self.variant_cell(self.variant_column.map_or("", |(h, _)| h)),
                            "time",
                            "95% CI of median",
                            "speedup",
                            "efficiency",
                            "Karp-Flatt",
                        )
                    }
                }
            }
            Record::Point(p) => match self.layout {
                Layout::Messages => self.message_row(p),
                Layout::Memory => self.memory_row(p),
                Layout::Probe => self.probe_row(p),
                Layout::Scaling => {
                    let opt =
                        |v: Option<f64>, d: usize| v.map_or("-".to_owned(), |x| format!("{x:.d$}"));
                    let (_, w) = self.first_column;
                    let first = match (p.ranks, p.threads) {
                        (Some(r), Some(t)) if w > 7 => format!("{r} × {t}"),
                        _ => p.workers.to_string(),
                    };
                    format!(
                        "{first:>w$}{}  {:>10}  {:>21}  {:>8}  {:>10}  {:>10}  {}\n",
                        self.variant_cell(p.variant.as_deref().unwrap_or("")),
                        seconds(p.median_s),
                        format!("[{}, {}]", seconds(p.ci95_s[0]), seconds(p.ci95_s[1])),
                        opt(p.speedup, 2),
                        opt(p.efficiency, 2),
                        opt(p.karp_flatt, 3),
                        self.notes(p, &[]),
                    )
                }
            },
            Record::Fit(f) => {
                let variant = f
                    .variant
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default();
                let r2 = f.r2.map(|r| format!(", R² {r:.3}")).unwrap_or_default();
                let law = match f.model {
                    Model::Amdahl => "Amdahl fit",
                    Model::Gustafson => "Gustafson fit",
                    Model::LatencyBandwidth => {
                        return format!(
                            "\nlatency–bandwidth fit T(n) = α + n/β{variant}: {} (relative rms error {:.1} %{r2}, {} sizes)\n",
                            latency_bandwidth_text(f),
                            f.rmse * 100.0,
                            f.points
                        );
                    }
                };
                let configured = self
                    .configured_serial
                    .map(|s| format!("; configured serial = {s}"))
                    .unwrap_or_default();
                let caveat = f
                    .caveat
                    .as_deref()
                    .map(|c| format!("⚠ {c}\n"))
                    .unwrap_or_default();
                format!(
                    "\n{law}{variant}: serial fraction s = {:.3}{configured} (rms error {:.3}{r2}, {} point(s))\n{caveat}",
                    f.serial_fraction, f.rmse, f.points
                )
            }
            Record::Diagnosis(d) if self.layout == Layout::Probe => {
                // Reported on the row of the size that deadlocked, which comes next.
                self.diagnosis = Some(d.clone());
                String::new()
            }
            Record::Diagnosis(d) => {
                let mut s = format!("\ndeadlock: {}\n", d.message);
                for w in &d.waits {
                    let action = w
                        .last_action
                        .as_deref()
                        .map(|a| format!("; last action: {a}"))
                        .unwrap_or_default();
                    s.push_str(&format!("  {}{action}\n", w.describe()));
                }
                if let Some(first) = d.cycle.first() {
                    s.push_str(&format!("  cycle: {} → {first}\n", d.cycle.join(" → ")));
                }
                let ended = if d.waits.iter().any(|w| w.who.starts_with("rank")) {
                    "the launcher, its daemons and every rank were stopped"
                } else {
                    "every worker gave up what it held and returned"
                };
                s.push_str(&format!(
                    "  no progress for {:.1} s: {ended}\n",
                    d.stalled_s
                ));
                s
            }
            Record::End(e) => match e.status {
                Status::Ok if self.layout == Layout::Probe => {
                    let limit = match (self.completed, self.deadlocked) {
                        (Some(ok), Some(stuck)) if ok < stuck => {
                            let exact = if stuck == ok + 1 {
                                " (to the byte)"
                            } else {
                                ""
                            };
                            let configured = self
                                .library
                                .as_ref()
                                .and_then(|l| l.compare(ok, self.across_nodes))
                                .map(|c| format!("\n{c}"))
                                .unwrap_or_default();
                            format!(
                                "eager limit: {} is the largest message that completed{exact}; from {} on, each send waited for the other rank's receive, which never came{configured}",
                                bytes(ok as f64),
                                bytes(stuck as f64)
                            )
                        }
                        (Some(ok), None) => format!(
                            "every size completed, up to {}: this order never waited for a receive here",
                            bytes(ok as f64)
                        ),
                        _ => e.message.clone().unwrap_or_default(),
                    };
                    format!("\n{limit}\ndone in {:.1} s\n", e.elapsed_s)
                }
                Status::Ok => format!("\ndone in {:.1} s\n", e.elapsed_s),
                other => format!(
                    "\nrun ended: {} after {:.1} s{}\n",
                    format!("{other:?}").to_lowercase(),
                    e.elapsed_s,
                    e.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                ),
            },
            Record::Sample(_) => String::new(),
        }
    }

    /// A pingpong row: size, latency with its interval, bandwidth.
    fn message_row(&self, p: &PointRecord) -> String {
        let size = p.outputs.output(Out::SizeBytes).unwrap_or(f64::NAN);
        let bandwidth = p
            .outputs
            .get("bandwidth_mb_s")
            .map_or("-".to_owned(), |&b| rate(b));
        format!(
            "{:>10}  {:>10}  {:>21}  {:>12}  {}\n",
            bytes(size),
            latency(p.median_s),
            format!("[{}, {}]", latency(p.ci95_s[0]), latency(p.ci95_s[1])),
            bandwidth,
            self.notes(
                p,
                &["size_bytes", "latency_us", "bandwidth_mb_s", "completed"]
            ),
        )
    }

    /// A memory sweep row: workers, working set, time per run and bandwidth.
    fn memory_row(&self, p: &PointRecord) -> String {
        let size = p.outputs.output(Out::SizeBytes).unwrap_or(f64::NAN);
        let bandwidth = p
            .outputs
            .output(Out::BandwidthGbS)
            .map_or("-".to_owned(), |g| rate(g * 1e3));
        format!(
            "{:>7}{}  {:>11}  {:>10}  {:>21}  {:>11}  {}\n",
            p.workers,
            self.variant_cell(p.variant.as_deref().unwrap_or("")),
            bytes(size),
            seconds(p.median_s),
            format!("[{}, {}]", seconds(p.ci95_s[0]), seconds(p.ci95_s[1])),
            bandwidth,
            self.notes(
                p,
                &[
                    "size_bytes",
                    "bandwidth_gb_s",
                    "working_set_bytes",
                    "array_bytes",
                    "bytes_moved",
                    "data_ok",
                ]
            ),
        )
    }

    /// An eager-limit sweep row: the size, and whether it completed.
    fn probe_row(&mut self, p: &PointRecord) -> String {
        let size = p.outputs.output(Out::SizeBytes).unwrap_or(f64::NAN);
        let ok = p.outputs.output(Out::Completed).is_some_and(|c| c > 0.0);
        // Sizes are whole numbers of bytes.
        let whole = size as u64;
        if ok {
            self.completed = Some(self.completed.map_or(whole, |c| c.max(whole)));
            format!(
                "{:>10}  {:<9}  {:>10}  {}\n",
                bytes(size),
                "completed",
                seconds(p.median_s),
                self.notes(p, &["size_bytes", "completed"]),
            )
        } else {
            self.deadlocked = Some(self.deadlocked.map_or(whole, |c| c.min(whole)));
            let why = self
                .diagnosis
                .take()
                .map(|d| stuck_ranks(&d))
                .unwrap_or_else(|| "no progress".to_owned());
            format!(
                "{:>10}  {:<9}  {:>10}  {why}; stopped after {:.1} s\n",
                bytes(size),
                "DEADLOCK",
                "-",
                p.median_s,
            )
        }
    }

    fn csv(&mut self, r: &Record) -> String {
        match r {
            Record::Point(p) => {
                let mut s = String::new();
                if self.output_keys.is_empty() {
                    self.output_keys = self
                        .ordered(p.outputs.keys())
                        .into_iter()
                        .cloned()
                        .collect();
                    self.csv_ranks = p.ranks.is_some();
                    s.push_str("workers,variant,reps,median_s,min_s,max_s,ci95_low_s,ci95_high_s,speedup,efficiency,karp_flatt,oversubscribed,outliers,setup_s,other_busy,other_runs");
                    if self.csv_ranks {
                        s.push_str(",ranks,threads");
                    }
                    for k in &self.output_keys {
                        s.push(',');
                        s.push_str(k);
                    }
                    s.push('\n');
                }
                let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
                s.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    p.workers,
                    p.variant.as_deref().unwrap_or(""),
                    p.reps,
                    p.median_s,
                    p.min_s,
                    p.max_s,
                    p.ci95_s[0],
                    p.ci95_s[1],
                    opt(p.speedup),
                    opt(p.efficiency),
                    opt(p.karp_flatt),
                    p.oversubscribed,
                    p.outliers,
                    p.setup_s,
                    opt(p.other_busy),
                    p.other_runs
                ));
                if self.csv_ranks {
                    let n = |v: Option<usize>| v.map_or(String::new(), |x| x.to_string());
                    s.push_str(&format!(",{},{}", n(p.ranks), n(p.threads)));
                }
                for k in &self.output_keys {
                    s.push(',');
                    s.push_str(&p.outputs.get(k).map_or(String::new(), |v| v.to_string()));
                }
                s.push('\n');
                s
            }
            _ => String::new(),
        }
    }
}

/// What a program run ran and how it was timed, for the head of its table; `None` for the
/// built-in experiments.
fn program_header(run: &RunRecord) -> Option<String> {
    if run.experiment != "program" {
        return None;
    }
    let get = |k: &str| run.params.get(k).map(String::as_str).unwrap_or_default();
    let shell = if get("shell") == "on" {
        " (through sh -c)"
    } else {
        ""
    };
    let per_worker = match run.backend.as_str() {
        "threads" => "OMP_NUM_THREADS and the like set to the worker count",
        "processes" => "{workers} = processes to start; OMP_NUM_THREADS and the like set to 1",
        _ => "under the MPI launcher, one rank per worker; OMP_NUM_THREADS and the like set to 1",
    };
    let timing = match get("time_from") {
        "" => "time = wall time of the whole process, start-up included".to_owned(),
        re => format!(
            "time = what the program printed (first group of `{re}`); wall = the whole process, start-up included"
        ),
    };
    let mode = if get("mode") == "weak" {
        "; weak scaling: speedups are scaled"
    } else {
        ""
    };
    Some(format!(
        "command: {}{shell}\nrun once per repetition, {per_worker}; {timing}{mode}",
        get("command")
    ))
}

/// `rank 0 and rank 1 wait for each other, both in send`: who is stuck, from a diagnosis.
fn stuck_ranks(d: &DiagnosisRecord) -> String {
    // The call of each waiter: the words before ` to rank`, ` from rank`, ` with rank`.
    let mut calls: Vec<&str> = d
        .waits
        .iter()
        .filter_map(|w| w.waits_for.as_deref())
        .map(|c| c.split(" rank ").next().unwrap_or(c))
        .map(|c| {
            c.trim_end_matches(" to")
                .trim_end_matches(" from")
                .trim_end_matches(" with")
        })
        .collect();
    calls.sort_unstable();
    calls.dedup();
    let how = match (calls.as_slice(), d.waits.len()) {
        ([], _) => String::new(),
        ([one], 2) => format!(", both in {one}"),
        ([one], _) => format!(", all in {one}"),
        (many, _) => format!(", in {}", many.join(" and ")),
    };
    match d.cycle.as_slice() {
        [] => format!("no progress, no cycle found{how}"),
        [one] => format!("{one} waits for itself{how}"),
        [a, b] => format!("{a} and {b} wait for each other{how}"),
        many => format!("{} wait in a cycle{how}", many.join(", ")),
    }
}

/// Prints every experiment with its parameters.
pub fn list_experiments() -> anyhow::Result<ExitCode> {
    let mut out = crate::stdout::Stdout::lock();
    for e in experiment::EXPERIMENTS {
        let state = if e.runnable() {
            format!("backends: {}", e.backend_names().join(", "))
        } else {
            "not runnable in this version".to_owned()
        };
        writeln!(out, "{}  —  {} ({state})", e.name, e.summary)?;
        for p in e.params {
            let kind = match p.kind {
                ParamKind::Int { .. } => "int",
                ParamKind::Float { .. } => "number",
                ParamKind::Choice { .. } => "choice",
                ParamKind::Text { .. } => "text",
            };
            writeln!(
                out,
                "    {:<10} {:<6} default {:<11} {}; {}",
                p.name,
                kind,
                p.default_text(),
                p.help,
                p.allowed()
            )?;
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_workers_follow_the_cpus() {
        use crate::experiment::request::default_workers;
        assert_eq!(default_workers(1), [1]);
        assert_eq!(default_workers(2), [1, 2]);
        assert_eq!(default_workers(6), [1, 2, 4, 6]);
        assert_eq!(default_workers(8), [1, 2, 4, 8]);
    }

    #[test]
    fn busy_warning_only_above_a_quarter() {
        assert!(busy_warning(Some(0.1), 2).is_none());
        assert!(busy_warning(None, 2).is_none());
        let w = busy_warning(Some(0.98), 2).expect("warns");
        assert!(w.contains("98 % busy"), "{w}");
    }

    #[test]
    fn short_numbers_keep_counts_whole() {
        assert_eq!(short(4_000_000.0), "4000000");
        assert_eq!(short(0.0), "0");
        assert_eq!(short(3.25), "3.25");
        assert_eq!(short(1.234_567e7 + 0.5), "1.235e7");
        assert_eq!(short(0.000_12), "1.200e-4");
    }

    #[test]
    fn race_tables_lead_with_lost_updates_and_a_wide_variant_column() {
        let race = experiment::find("race").expect("registered");
        let params = Params::parse(race, &[]).expect("defaults");
        let mut report = Report::new(Format::Table, race, &params);
        let mut records = crate::record::tests::sample_run();
        let Record::Point(p) = &mut records[2] else {
            panic!("a point")
        };
        p.variant = Some("unsynchronized".into());
        p.outputs = [
            ("expected_count", 4e6),
            ("final_count", 2_345_678.0),
            ("lost_updates", 1_654_322.0),
            ("ns_per_increment", 4.5),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
        let header = report.table(&records[0]);
        assert!(header.contains("workers         variant"), "{header}");
        let row = report.table(&records[2]);
        assert!(
            row.contains(
                "unsynchronized   260.00 ms  [250.00 ms, 300.00 ms]      1.92        0.96       0.040  \
                 lost_updates=1654322  ns_per_increment=4.5  expected_count=4000000  final_count=2345678"
            ),
            "{row}"
        );
        let mut csv = Report::new(Format::Csv, race, &params);
        let text = csv.csv(&records[2]);
        assert!(
            text.starts_with("workers,variant,reps,median_s,min_s,max_s,ci95_low_s,ci95_high_s,speedup,efficiency,karp_flatt,oversubscribed,outliers,setup_s,other_busy,other_runs,lost_updates,ns_per_increment,expected_count,final_count\n"),
            "{text}"
        );
    }

    #[test]
    fn a_deadlock_reads_as_sentences() {
        let locks = experiment::find("locks").expect("registered");
        let params = Params::parse(locks, &[]).expect("defaults");
        let mut report = Report::new(Format::Table, locks, &params);
        let d = crate::record::tests::sample_run()
            .into_iter()
            .find(|r| matches!(r, Record::Diagnosis(_)))
            .expect("a diagnosis");
        let text = report.table(&d);
        assert_eq!(
            text,
            "\ndeadlock: thread 0 holds A and waits for B (held by thread 1); thread 1 holds B and waits for A (held by thread 0) — a cycle\n\
             \x20 thread 0 holds A and waits for B (held by thread 1); last action: lock B\n\
             \x20 thread 1 holds B and waits for A (held by thread 0); last action: lock A\n\
             \x20 cycle: thread 0 → thread 1 → thread 0\n\
             \x20 no progress for 3.0 s: every worker gave up what it held and returned\n"
        );
    }

    #[test]
    fn pingpong_tables_have_a_row_per_size_and_the_fit() {
        let info = experiment::find("pingpong").expect("registered");
        let params = Params::parse(info, &[]).expect("defaults");
        let mut report = Report::new(Format::Table, info, &params);
        let mut records = crate::record::tests::sample_run();
        let Record::Run(run) = &mut records[0] else {
            panic!("a run")
        };
        run.experiment = "pingpong".into();
        run.backend = "mpi".into();
        let header = report.table(&records[0]);
        assert!(
            header.ends_with("      size     latency       95% CI of median     bandwidth\n"),
            "{header}"
        );
        let Record::Point(p) = &mut records[2] else {
            panic!("a point")
        };
        p.median_s = 2e-4;
        p.ci95_s = [1.9e-4, 2.1e-4];
        p.outputs = [
            ("size_bytes", 1_048_576.0),
            ("round_trips", 62.0),
            ("latency_us", 200.0),
            ("bandwidth_mb_s", 5242.88),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .into();
        assert_eq!(
            report.table(&records[2]),
            "     1 MiB    200.0 µs   [190.0 µs, 210.0 µs]     5.24 GB/s  round_trips=62\n"
        );
        let fit = records
            .iter()
            .find(|r| matches!(r, Record::Fit(f) if f.model == Model::LatencyBandwidth))
            .expect("a latency-bandwidth fit");
        assert_eq!(
            report.table(fit),
            "\nlatency–bandwidth fit T(n) = α + n/β: α = 0.40 µs, β = 5.00 GB/s (relative rms error 5.0 %, R² 0.999, 25 sizes)\n"
        );
    }

    #[test]
    fn eager_sweep_tables_say_which_sizes_deadlocked() {
        let info = experiment::find("exchange").expect("registered");
        let params = Params::parse(info, &["sweep=on".into()]).expect("valid");
        let mut report = Report::new(Format::Table, info, &params);
        let records = crate::record::tests::sample_run();
        let Record::Point(base) = &records[2] else {
            panic!("a point")
        };
        let row = |report: &mut Report, size: f64, completed: f64, median: f64| {
            let mut p = base.clone();
            p.median_s = median;
            p.outputs = [("size_bytes", size), ("completed", completed)]
                .map(|(k, v)| (k.to_owned(), v))
                .into();
            report.table(&Record::Point(p))
        };
        assert_eq!(
            row(&mut report, 2048.0, 1.0, 1.5e-5),
            "     2 KiB  completed     15.0 µs  \n"
        );
        let mut d = DiagnosisRecord::new(
            2,
            2.0,
            ["rank 0", "rank 1"]
                .iter()
                .zip(["rank 1", "rank 0"])
                .map(|(who, other)| crate::record::WaitRecord {
                    who: (*who).into(),
                    holds: vec![],
                    waits_for: Some(format!("send to {other}, 4096 B, tag 0")),
                    held_by: Some(other.into()),
                    last_action: None,
                    host: None,
                })
                .collect(),
        );
        d.variant = None;
        assert_eq!(report.table(&Record::Diagnosis(d)), "");
        assert_eq!(
            row(&mut report, 4096.0, 0.0, 2.0),
            "     4 KiB  DEADLOCK            -  rank 0 and rank 1 wait for each other, both in send; stopped after 2.0 s\n"
        );
        let end = Record::End(crate::record::EndRecord {
            status: Status::Ok,
            elapsed_s: 30.0,
            output: Vec::new(),
            message: Some("largest size that completed: 2048 B".into()),
        });
        assert_eq!(
            report.table(&end),
            "\neager limit: 2 KiB is the largest message that completed; from 4 KiB on, each send waited for the other rank's receive, which never came\ndone in 30.0 s\n"
        );
    }

    #[test]
    fn sizes_and_rates_read_like_people_say_them() {
        assert_eq!(bytes(1.0), "1 B");
        assert_eq!(bytes(1536.0), "1536 B");
        assert_eq!(bytes(4096.0), "4 KiB");
        assert_eq!(bytes(16.0 * 1024.0 * 1024.0), "16 MiB");
        assert_eq!(rate(812.46), "812.5 MB/s");
        assert_eq!(rate(5123.0), "5.12 GB/s");
        assert_eq!(rate(0.25), "250.0 kB/s");
        assert_eq!(latency(2.7e-7), "0.27 µs");
        assert_eq!(latency(1.5e-5), "15.0 µs");
    }

    #[test]
    fn seconds_pick_a_readable_unit() {
        assert_eq!(seconds(1.5), "1.500 s");
        assert_eq!(seconds(0.0123), "12.30 ms");
        assert_eq!(seconds(0.000_012_3), "12.3 µs");
    }
}
