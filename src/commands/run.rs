//! `hpc-tutor run` and `hpc-tutor experiments`: the headless face of the experiment engine.

use std::fs::File;
use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::backend::launch::{LaunchSpec, Launcher, MpiExecutor};
use crate::backend::threads::Threads;
use crate::cli::{Format, LauncherArg, MpiWorkerArgs, RunArgs};
use crate::cluster::SystemInfo;
use crate::experiment::{self, ExperimentInfo, ParamKind, Params};
use crate::measure::protocol::Executor;
use crate::measure::protocol::{Plan, run_plan};
use crate::record::{Model, Record, RunRecord, Status};

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;
/// The most MPI ranks `run` starts on its own (a cluster allocation can run more with srun
/// from a job script).
const MAX_RANKS: usize = 256;

/// `hpc-tutor mpi-worker`: one rank of an MPI run.
pub fn mpi_worker(args: &MpiWorkerArgs) -> ExitCode {
    #[cfg(feature = "mpi")]
    {
        crate::backend::mpi::worker(&crate::backend::mpi::WorkerArgs {
            experiment: args.experiment.clone(),
            params: args.params.clone(),
            variant: args.variant.clone(),
            runs: args.runs,
            side_channel: args.side_channel.clone(),
        })
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = args;
        eprintln!("hpc-tutor mpi-worker: this hpc-tutor was built without the `mpi` feature");
        ExitCode::from(BAD_INPUT)
    }
}

/// The default sweep: 1, 2, 4, … below `cpus`, then `cpus` itself.
pub fn default_workers(cpus: usize) -> Vec<usize> {
    let mut w = Vec::new();
    let mut n = 1;
    while n < cpus {
        w.push(n);
        n *= 2;
    }
    w.push(cpus.max(1));
    w
}

/// A run id from the start time and the process id: sortable and unique per host.
pub fn new_run_id(now: &chrono::DateTime<chrono::Local>) -> String {
    format!("{}-{}", now.format("%Y%m%d-%H%M%S"), std::process::id())
}

/// Prints one clear line about bad input and returns exit status 2.
fn bad_input(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("hpc-tutor run: {message}");
    Ok(ExitCode::from(BAD_INPUT))
}

/// Runs an experiment sweep as the command line asks.
pub fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    crate::tui::runs::die_with_parent_if_asked();
    let Some(info) = experiment::find(&args.experiment) else {
        return bad_input(format_args!(
            "unknown experiment `{}` (known: {})",
            args.experiment,
            experiment::known_names()
        ));
    };
    let params = match Params::parse(info, &args.params) {
        Ok(p) => p,
        Err(e) => return bad_input(e),
    };
    if !info.backends.contains(&args.backend.as_str()) {
        return bad_input(format_args!(
            "experiment `{}` does not run on the `{}` backend in this version",
            info.name, args.backend
        ));
    }
    let system = SystemInfo::detect();
    let mpi = args.backend == "mpi";
    let workers: Vec<usize> = match (info.fixed_workers(), args.workers.is_empty()) {
        (Some(n), true) => vec![n],
        (None, true) => default_workers(system.cpus),
        (fixed, false) => {
            let given: Vec<usize> = args.workers.iter().map(|&w| usize::from(w)).collect();
            if let Some(n) = fixed
                && given.iter().any(|&w| w != n)
            {
                let unit = if mpi { "ranks" } else { "threads" };
                return bad_input(format_args!(
                    "experiment `{}` always runs on exactly {n} {unit}; give --workers {n} or leave it out",
                    info.name
                ));
            }
            given
        }
    };
    if mpi {
        if let Some(&w) = workers.iter().find(|&&w| w > MAX_RANKS) {
            return bad_input(format_args!(
                "--workers: {w} MPI ranks is too many here; allowed 1 to {MAX_RANKS}"
            ));
        }
        if !cfg!(feature = "mpi") {
            return bad_input(
                "this hpc-tutor was built without MPI support: rebuild with `cargo build --release --features mpi` \
                 (needs an MPI implementation and libclang; Debian: apt-get install openmpi-bin libopenmpi-dev libclang-dev)",
            );
        }
    }
    let format = args
        .format
        .unwrap_or(if args.out.is_none() && io::stdout().is_terminal() {
            Format::Table
        } else {
            Format::Json
        });
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => {
            Box::new(io::BufWriter::new(File::create(path).map_err(|e| {
                anyhow::anyhow!("cannot create {}: {e}", path.display())
            })?))
        }
        None => Box::new(io::stdout().lock()),
    };

    // How busy our CPUs are before we start: other programs on them skew every timing.
    let mut env = system.environment();
    env.busy_before = crate::cluster::busy_fraction(std::time::Duration::from_millis(250));
    let now = chrono::Local::now();
    let run = RunRecord {
        run_id: new_run_id(&now),
        experiment: info.name.to_owned(),
        backend: args.backend.clone(),
        params: params.to_strings(),
        workers: workers.clone(),
        reps: args.reps as usize,
        warmup: args.warmup as usize,
        env,
        started_at: now.to_rfc3339(),
    };
    let weak = info.weak_scaling(&params);
    let mut variants = Vec::new();
    for v in info.variants(&params) {
        let k: Box<dyn crate::kernel::Kernel> = match info.kernel(&params, v.as_deref()) {
            Some(k) => k,
            // MPI ranks build their kernel themselves.
            None if mpi => Box::new(crate::kernel::Remote),
            None => anyhow::bail!("experiment `{}` has no kernel for {v:?}", info.name),
        };
        variants.push((v, k));
    }
    let plan = Plan {
        run,
        variants,
        weak,
        cpus: system.cpus,
    };
    let mut executor: Box<dyn Executor> = if mpi {
        let launcher = match args.launcher {
            Some(LauncherArg::Mpirun) => Launcher::Mpirun,
            Some(LauncherArg::Srun) => Launcher::Srun,
            None => Launcher::default_here(),
        };
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
                deadline: std::time::Duration::from_secs_f64(
                    args.deadline.unwrap_or(info.default_deadline()),
                ),
            },
            (args.reps + args.warmup) as usize,
        );
        if let Err(e) = exec.preflight() {
            return bad_input(e);
        }
        Box::new(exec)
    } else {
        Box::new(Threads::new())
    };

    // The first Ctrl-C or SIGTERM asks the sweep to stop after the current repetition and
    // still write its end record; a second one ends the process at once.
    let cancel = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
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

    let mut report = Report::new(format, info, &params);
    let mut sink = |r: &Record| -> io::Result<()> {
        let text = report.render(r);
        if !text.is_empty() {
            match &bar {
                Some(b) if args.out.is_none() => b.suspend(|| out.write_all(text.as_bytes())),
                _ => out.write_all(text.as_bytes()),
            }?;
            out.flush()?;
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
    if let Some(path) = &args.out {
        eprintln!("results written to {}", path.display());
    }
    Ok(ExitCode::from(status.exit_code()))
}

/// Turns records into the chosen output format.
struct Report {
    format: Format,
    /// The variant column: its heading and width; `None` without variants.
    variant_column: Option<(&'static str, usize)>,
    configured_serial: Option<f64>,
    /// Outputs shown first, in this order, because they are what the experiment is about.
    lead_outputs: &'static [&'static str],
    output_keys: Vec<String>,
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
        Self {
            format,
            variant_column,
            configured_serial: (info.name == "amdahl")
                .then(|| params.float("serial"))
                .flatten(),
            lead_outputs: match info.name {
                "race" => &["lost_updates", "ns_per_increment"],
                "locks" => &["backoffs"],
                _ => &[],
            },
            output_keys: Vec::new(),
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
                    .position(|l| l == k)
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

    fn table(&mut self, r: &Record) -> String {
        match r {
            Record::Run(run) => {
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
                format!(
                    "{} on {} · {} ({}, {} CPUs available{job})\n{}\n{} repetitions per point after {} warm-up; times are medians\n{busy}\n{:>7}{}  {:>10}  {:>21}  {:>8}  {:>10}  {:>10}\n",
                    run.experiment,
                    run.backend,
                    run.env.host,
                    run.env.cpu_model,
                    run.env.cpus_available,
                    params.join(" "),
                    run.reps,
                    run.warmup,
                    "workers",
                    self.variant_cell(self.variant_column.map_or("", |(h, _)| h)),
                    "time",
                    "95% CI of median",
                    "speedup",
                    "efficiency",
                    "Karp-Flatt",
                )
            }
            Record::Point(p) => {
                let opt =
                    |v: Option<f64>, d: usize| v.map_or("-".to_owned(), |x| format!("{x:.d$}"));
                let mut notes = Vec::new();
                if p.oversubscribed {
                    notes.push("oversubscribed".to_owned());
                }
                if p.outliers > 0 {
                    notes.push(format!("{} outlier(s)", p.outliers));
                }
                for k in self.ordered(p.outputs.keys()) {
                    if matches!(
                        k.as_str(),
                        "checksum" | "work_units" | "serial_configured" | "samples"
                    ) {
                        continue;
                    }
                    notes.push(format!("{k}={}", short(p.outputs[k])));
                }
                format!(
                    "{:>7}{}  {:>10}  {:>21}  {:>8}  {:>10}  {:>10}  {}\n",
                    p.workers,
                    self.variant_cell(p.variant.as_deref().unwrap_or("")),
                    seconds(p.median_s),
                    format!("[{}, {}]", seconds(p.ci95_s[0]), seconds(p.ci95_s[1])),
                    opt(p.speedup, 2),
                    opt(p.efficiency, 2),
                    opt(p.karp_flatt, 3),
                    notes.join("  "),
                )
            }
            Record::Fit(f) => {
                let law = match f.model {
                    Model::Amdahl => "Amdahl fit",
                    Model::Gustafson => "Gustafson fit",
                };
                let variant = f
                    .variant
                    .as_deref()
                    .map(|v| format!(" ({v})"))
                    .unwrap_or_default();
                let configured = self
                    .configured_serial
                    .map(|s| format!("; configured serial = {s}"))
                    .unwrap_or_default();
                let r2 = f.r2.map(|r| format!(", R² {r:.3}")).unwrap_or_default();
                format!(
                    "\n{law}{variant}: serial fraction s = {:.3}{configured} (rms error {:.3}{r2}, {} point(s))\n",
                    f.serial_fraction, f.rmse, f.points
                )
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
                Status::Ok => format!("\ndone in {:.1} s\n", e.elapsed_s),
                other => format!(
                    "\nrun ended: {:?} after {:.1} s{}\n",
                    other,
                    e.elapsed_s,
                    e.message
                        .as_deref()
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default()
                )
                .to_lowercase(),
            },
            Record::Sample(_) => String::new(),
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
                    s.push_str("workers,variant,reps,median_s,min_s,max_s,ci95_low_s,ci95_high_s,speedup,efficiency,karp_flatt,oversubscribed,outliers,setup_s");
                    for k in &self.output_keys {
                        s.push(',');
                        s.push_str(k);
                    }
                    s.push('\n');
                }
                let opt = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
                s.push_str(&format!(
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
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
                    p.setup_s
                ));
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

/// A warning when the CPUs were busy before the run (more than a quarter used by others).
pub fn busy_warning(busy: Option<f64>, cpus: usize) -> Option<String> {
    let b = busy?;
    (b > 0.25).then(|| {
        format!(
            "the {cpus} CPU(s) this run may use were {:.0} % busy with other programs just before it started: \
             they compete with the run, so times are longer and speedups lower than the hardware allows",
            b * 100.0
        )
    })
}

/// Seconds with a unit that keeps 3–4 significant digits.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// A number in few characters: whole numbers (counts) in full, others with 5 significant
/// decimals or in scientific notation.
fn short(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else if v != 0.0 && (v.abs() < 1e-3 || v.abs() >= 1e6) {
        format!("{v:.3e}")
    } else {
        format!("{v:.5}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    }
}

/// Prints every experiment with its parameters.
pub fn list_experiments() -> anyhow::Result<ExitCode> {
    let mut out = io::stdout().lock();
    for e in experiment::EXPERIMENTS {
        let state = if e.runnable() {
            format!("backends: {}", e.backends.join(", "))
        } else {
            "not runnable in this version".to_owned()
        };
        writeln!(out, "{}  —  {} ({state})", e.name, e.summary)?;
        for p in e.params {
            let kind = match p.kind {
                ParamKind::Int { .. } => "int",
                ParamKind::Float { .. } => "number",
                ParamKind::Choice { .. } => "choice",
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
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_workers_follow_the_cpus() {
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
            text.starts_with("workers,variant,reps,median_s,min_s,max_s,ci95_low_s,ci95_high_s,speedup,efficiency,karp_flatt,oversubscribed,outliers,setup_s,lost_updates,ns_per_increment,expected_count,final_count\n"),
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
    fn seconds_pick_a_readable_unit() {
        assert_eq!(seconds(1.5), "1.500 s");
        assert_eq!(seconds(0.0123), "12.30 ms");
        assert_eq!(seconds(0.000_012_3), "12.3 µs");
    }
}
