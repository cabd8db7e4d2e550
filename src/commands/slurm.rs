//! `hpc-tutor slurm script` and `hpc-tutor slurm info`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

use crate::backend::launch::{Launcher, on_path};
use crate::cli::SlurmScriptArgs;
use crate::cluster::SystemInfo;
use crate::cluster::jobscript::{self, JobSpec, TimeLimit};
use crate::record::Record;
use crate::record::store::Store;

/// Exit status for bad input.
const BAD_INPUT: u8 = 2;

fn bad_input(message: impl std::fmt::Display) -> anyhow::Result<ExitCode> {
    eprintln!("hpc-tutor slurm script: {message}");
    Ok(ExitCode::from(BAD_INPUT))
}

/// Prints (or writes) the job script for an experiment.
pub fn script(args: &SlurmScriptArgs) -> anyhow::Result<ExitCode> {
    let (info, params) = match super::run::experiment_and_params(
        &args.sweep.experiment,
        &args.sweep.params,
        &args.sweep.backend,
    ) {
        Ok(found) => found,
        Err(e) => return bad_input(e),
    };
    let mpi = args.sweep.backend == "mpi";
    let system = SystemInfo::detect();
    let workers = match super::run::sweep_workers(info, &params, mpi, &args.sweep.workers, &system)
    {
        Ok(w) => w,
        Err(e) => return bad_input(e),
    };
    let given_time = match args.time.as_deref().map(jobscript::parse_time) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return bad_input(format_args!("--time: {e}")),
        None => None,
    };
    let threads_per_rank = info.threads_per_rank(&params);
    let (ntasks, cpus_per_task) = JobSpec::resources(mpi, &workers, threads_per_rank);
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map_or_else(|| "hpc-tutor".to_owned(), |p| p.display().to_string());
    let mut made_by = "hpc-tutor".to_owned();
    for a in std::env::args().skip(1) {
        made_by.push(' ');
        made_by.push_str(&jobscript::shell_word(&a));
    }
    let mut spec = JobSpec {
        experiment: info.name.to_owned(),
        mpi,
        workers,
        reps: args.sweep.reps as usize,
        warmup: args.sweep.warmup as usize,
        params: params.to_strings(),
        threads_per_rank,
        nodes: if mpi { usize::from(args.nodes) } else { 1 },
        partition: args
            .partition
            .clone()
            .or_else(|| system.allocation.as_ref().and_then(|a| a.partition.clone())),
        account: args.account.clone(),
        time: TimeLimit {
            seconds: 0,
            basis: String::new(),
        },
        exe,
        ntasks,
        cpus_per_task,
        notes: Vec::new(),
        made_by: format!(
            "{made_by}\n#          (hpc-tutor {} on {}, {})",
            env!("CARGO_PKG_VERSION"),
            system.host,
            chrono::Local::now().format("%Y-%m-%d %H:%M")
        ),
    };
    if !mpi && args.nodes > 1 {
        spec.notes
            .push("threads use one node: --nodes is 1 whatever --nodes said".to_owned());
    }
    if let Some(cpn) = cluster_cpus_per_node(spec.partition.as_deref()) {
        spec.fit_to_nodes(cpn);
    }
    spec.time = match given_time {
        Some(seconds) => TimeLimit {
            seconds,
            basis: "given with --time".to_owned(),
        },
        None => estimate(&spec, info.weak_scaling(&params)),
    };
    for note in &spec.notes {
        eprintln!("note: {note}");
    }
    let text = spec.render();
    match &args.output {
        Some(path) => {
            std::fs::write(path, &text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!(
                "job script written to {}; submit it with: sbatch {}",
                path.display(),
                path.display()
            );
        }
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The most CPUs a node of `partition` (else of the default partition) has, from `sinfo`;
/// `None` where SLURM's client is not installed or says nothing.
pub fn cluster_cpus_per_node(partition: Option<&str>) -> Option<usize> {
    if !on_path("sinfo") {
        return None;
    }
    let mut cmd = Command::new("sinfo");
    cmd.args(["-h", "-N", "-o", "%c"]);
    if let Some(p) = partition {
        cmd.args(["-p", p]);
    }
    let out = cmd.stderr(Stdio::null()).output().ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches('+').parse::<usize>().ok())
        .max()
}

/// The time limit from a measured run: the newest stored run of the same experiment,
/// backend and parameters, else one repetition timed now on the smallest worker count.
fn estimate(spec: &JobSpec, weak: bool) -> TimeLimit {
    let backend = if spec.mpi { "mpi" } else { "threads" };
    let stored = Store::default_location().and_then(|store| {
        store.list().into_iter().find(|r| {
            r.run.experiment == spec.experiment
                && r.run.backend == backend
                && r.run.params == spec.params
                && r.status == Some(crate::record::Status::Ok)
        })
    });
    if let Some(run) = stored
        && let Ok(records) = crate::record::store::load(&run.path)
        && let Some(est) = jobscript::estimate_seconds(&records, spec, weak)
    {
        let limit = jobscript::limit_for(est);
        return TimeLimit {
            seconds: limit,
            basis: format!(
                "{} = 2 × the {:.0} s this sweep takes by run {} on {}, + 2 min",
                jobscript::format_time(limit),
                est,
                run.run.run_id,
                run.run.env.host
            ),
        };
    }
    let smallest = spec.workers.iter().copied().min().unwrap_or(1);
    eprintln!(
        "timing one repetition of {} on {smallest} {} to estimate --time…",
        spec.experiment,
        if spec.mpi { "rank(s)" } else { "thread(s)" }
    );
    match time_one_repetition(spec, smallest) {
        Ok(records) => match jobscript::estimate_seconds(&records, spec, weak) {
            Some(est) => {
                let limit = jobscript::limit_for(est);
                TimeLimit {
                    seconds: limit,
                    basis: format!(
                        "{} = 2 × the {:.0} s the sweep takes at the speed of one repetition on {smallest} worker(s) timed on {} just now, + 2 min",
                        jobscript::format_time(limit),
                        est,
                        SystemInfo::detect().host
                    ),
                }
            }
            None => guess("the timed repetition reported no point"),
        },
        Err(why) => guess(&why),
    }
}

fn guess(why: &str) -> TimeLimit {
    eprintln!(
        "warning: could not time the experiment here ({why}); --time is set to 1 hour, a guess: pass --time"
    );
    TimeLimit {
        seconds: 3600,
        basis: format!(
            "01:00:00 is a GUESS, not an estimate: timing a repetition here failed ({why}); set it with --time"
        ),
    }
}

/// Runs `hpc-tutor run` for one repetition of the `workers` point and returns its records.
fn time_one_repetition(spec: &JobSpec, workers: usize) -> Result<Vec<Record>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    cmd.args([
        "run",
        &spec.experiment,
        "--backend",
        if spec.mpi { "mpi" } else { "threads" },
        "--workers",
        &workers.to_string(),
        "--reps",
        "1",
        "--warmup",
        "0",
        "--format",
        "json",
        "--no-store",
    ]);
    for (k, v) in &spec.params {
        cmd.args(["--param", &format!("{k}={v}")]);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start hpc-tutor run: {e}"))?;
    let records: Vec<Record> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| Record::from_line(l).ok())
        .collect();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("hpc-tutor run exited with {}: {last}", out.status));
    }
    Ok(records)
}

/// Prints what hpc-tutor knows of the allocation and the CPUs.
pub fn info() -> anyhow::Result<ExitCode> {
    let system = SystemInfo::detect();
    let mut rows: Vec<(String, String)> = vec![
        ("host".into(), system.host.clone()),
        (
            "CPUs usable".into(),
            format!(
                "{} (affinity mask and cgroup quota of this process)",
                system.cpus
            ),
        ),
        (
            "physical cores".into(),
            format!(
                "{} of the {} CPUs in the affinity mask ({} hardware thread(s) per core)",
                system.topology.cores,
                system.topology.cpus,
                system.topology.threads_per_core()
            ),
        ),
    ];
    match &system.allocation {
        Some(a) => rows.extend(a.describe()),
        None => rows.push((
            "SLURM".into(),
            "not inside an allocation (no SLURM_JOB_ID): use srun --pty, salloc or sbatch".into(),
        )),
    }
    let launcher = Launcher::default_here();
    rows.push((
        "MPI launcher".into(),
        format!(
            "{} ({})",
            match launcher {
                Launcher::Srun => "srun --mpi=pmix -n N",
                Launcher::Mpirun => "mpirun -np N",
            },
            if on_path(launcher.name()) {
                "found on PATH"
            } else {
                "NOT on PATH"
            }
        ),
    ));
    if let Some(cpn) = cluster_cpus_per_node(
        system
            .allocation
            .as_ref()
            .and_then(|a| a.partition.as_deref()),
    ) {
        rows.push((
            "cluster".into(),
            format!("nodes of up to {cpn} CPUs (sinfo)"),
        ));
    }
    let width = rows
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0);
    let mut out = std::io::stdout().lock();
    for (k, v) in rows {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `hpc-tutor results merge`.
pub fn merge(paths: &[std::path::PathBuf], output: Option<&Path>) -> anyhow::Result<ExitCode> {
    use crate::record::merge;
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
    let inputs = match merge::load_all(&files) {
        Ok(i) => i,
        Err(e) => return fail(e.to_string()),
    };
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
            std::fs::write(&path, &one)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("merged results written to {}", path.display());
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
            std::fs::write(path, text)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            eprintln!("merged results written to {}", path.display());
        }
        None => std::io::stdout().lock().write_all(text.as_bytes())?,
    }
    Ok(ExitCode::SUCCESS)
}
