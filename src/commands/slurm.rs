//! `hpc-tutor slurm script` and `hpc-tutor slurm info`.

use std::process::ExitCode;

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
    let request = match args.sweep.request() {
        Ok(r) => r,
        Err(e) => return bad_input(e),
    };
    let (info, params) = (request.experiment, &request.params);
    let mpi = request.backend == crate::experiment::Backend::Mpi;
    let system = SystemInfo::detect();
    let workers = match crate::experiment::request::sweep_workers(
        info,
        params,
        mpi,
        &request.workers,
        &system,
    ) {
        Ok(w) => w,
        Err(e) => return bad_input(e),
    };
    // Values that land in #SBATCH lines: names SLURM allows, nothing a shell would read.
    for check in [
        args.account.as_deref().map(jobscript::check_account),
        args.partition.as_deref().map(jobscript::check_partition),
    ]
    .into_iter()
    .flatten()
    {
        if let Err(e) = check {
            return bad_input(e);
        }
    }
    let given_time = match args.time.as_deref().map(jobscript::parse_time) {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => return bad_input(format_args!("--time: {e}")),
        None => None,
    };
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map_or_else(|| "hpc-tutor".to_owned(), |p| p.display().to_string());
    let mut made_by = "hpc-tutor".to_owned();
    for a in std::env::args_os().skip(1) {
        made_by.push(' ');
        made_by.push_str(&jobscript::shell_word(&a.to_string_lossy()));
    }
    let mut spec = JobSpec::new(
        info.name,
        request.backend,
        workers,
        (request.reps as usize, request.warmup as usize),
        params.to_strings(),
        info.threads_per_rank(params),
        &system,
        &exe,
        format!(
            "{made_by}\n#          (hpc-tutor {} on {}, {})",
            env!("CARGO_PKG_VERSION"),
            system.host,
            chrono::Local::now().format("%Y-%m-%d %H:%M")
        ),
    );
    if mpi {
        spec.nodes = usize::from(args.nodes);
    }
    if let Some(p) = &args.partition {
        spec.partition = Some(p.clone());
    }
    spec.account = args.account.clone();
    if !mpi && args.nodes > 1 {
        spec.notes
            .push("threads use one node: --nodes is 1 whatever --nodes said".to_owned());
    }
    if let Some(cpn) = crate::cluster::slurm::cluster_cpus_per_node(spec.partition.as_deref()) {
        spec.fit_to_nodes(cpn);
    }
    spec.time = match given_time {
        Some(seconds) => TimeLimit {
            seconds,
            basis: "given with --time".to_owned(),
        },
        None => estimate(&spec, info.weak_scaling(params)),
    };
    for note in &spec.notes {
        eprintln!("note: {note}");
    }
    let text = spec.render();
    match &args.output {
        Some(path) => {
            if let Err(e) = crate::fsio::write(path, text.as_bytes()) {
                eprintln!("hpc-tutor slurm script: {e}");
                return Ok(ExitCode::FAILURE);
            }
            eprintln!(
                "job script written to {}; submit it with: sbatch {}",
                path.display(),
                path.display()
            );
        }
        None => crate::stdout::print(&text)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// The time limit from a measured run: the newest stored run of the same experiment,
/// backend and parameters, else one repetition timed now on the smallest worker count.
fn estimate(spec: &JobSpec, weak: bool) -> TimeLimit {
    let stored = Store::default_location().and_then(|store| {
        store.latest_of_sweep(
            &spec.experiment,
            spec.backend(),
            &spec.params,
            &spec.workers,
        )
    });
    if let Some((run, records)) = stored
        && let Some(est) = jobscript::estimate_seconds(&records, spec, weak)
    {
        return TimeLimit::estimated(
            est,
            &format!(
                "this sweep takes by run {} on {}{}",
                run.run.run_id,
                run.run.env.host,
                jobscript::extrapolated(&run.run.workers, &spec.workers)
            ),
        );
    }
    let smallest = spec.workers.iter().copied().min().unwrap_or(1);
    eprintln!(
        "timing one repetition of {} on {smallest} {} to estimate --time…",
        spec.experiment,
        if spec.mpi() { "rank(s)" } else { "thread(s)" }
    );
    match time_one_repetition(spec, smallest) {
        Ok(records) => match jobscript::estimate_seconds(&records, spec, weak) {
            Some(est) => TimeLimit::estimated(
                est,
                &format!(
                    "the sweep takes at the speed of one repetition on {smallest} worker(s) timed on {} just now",
                    SystemInfo::detect().host
                ),
            ),
            None => guess("the timed repetition reported no point"),
        },
        Err(why) => guess(&why),
    }
}

fn guess(why: &str) -> TimeLimit {
    eprintln!(
        "warning: could not time the experiment here ({why}); --time is set to 1 hour, a guess: pass --time"
    );
    TimeLimit::guess(&format!(
        "timing a repetition here failed ({why}); set it with --time"
    ))
}

/// Runs `hpc-tutor run` for one repetition of the `workers` point and returns its records.
fn time_one_repetition(spec: &JobSpec, workers: usize) -> Result<Vec<Record>, String> {
    let pairs: Vec<String> = spec
        .params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    let workers = u16::try_from(workers).map_err(|_| format!("{workers} workers is too many"))?;
    let request = crate::experiment::RunRequest::check(
        &spec.experiment,
        crate::experiment::Backend::from_name(spec.backend()),
        &[workers],
        1,
        0,
        &pairs,
    )
    .map_err(|e| e.to_string())?;
    super::run::run_child(&request)
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
    if let Some(cpn) = crate::cluster::slurm::cluster_cpus_per_node(
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
    let mut out = crate::stdout::Stdout::lock();
    for (k, v) in rows {
        writeln!(out, "{k:<width$}  {v}")?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
