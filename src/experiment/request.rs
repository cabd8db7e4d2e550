//! One run request: what `hpc-tutor run` parses into, what the tutor's form, the demo,
//! `bench` and `slurm script` build, and the only thing turned into a child's argument list.
//!
//! Validation lives here once: the ranges of workers, repetitions and warm-up runs, the
//! experiment's backends and its parameters. The faces show its messages as they are.

use std::fmt;
use std::ops::RangeInclusive;

use super::{ExperimentInfo, Params};

/// The most MPI ranks `run` starts on its own (a cluster allocation can run more with srun
/// from a job script).
const MAX_RANKS: usize = 256;

/// Worker counts a sweep may ask for.
pub const WORKERS: RangeInclusive<u16> = 1..=1024;
/// Timed repetitions per point.
pub const REPS: RangeInclusive<u32> = 1..=1000;
/// Untimed warm-up runs per point.
pub const WARMUP: RangeInclusive<u32> = 0..=100;
/// Repetitions when none are asked for.
pub const DEFAULT_REPS: u32 = 5;
/// Warm-up runs when none are asked for.
pub const DEFAULT_WARMUP: u32 = 1;

/// Where the workers of a run are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum)]
pub enum Backend {
    /// Threads of one process (a rayon pool of exactly N threads).
    Threads,
    /// N processes that a program starts itself (`multiprocessing`, `concurrent.futures`):
    /// for `run --exec` only.
    Processes,
    /// MPI ranks, started by mpirun or srun.
    Mpi,
}

impl Backend {
    /// The name the command line, the records and the lessons use.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Threads => "threads",
            Backend::Processes => "processes",
            Backend::Mpi => "mpi",
        }
    }

    /// The backend called `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "threads" => Some(Backend::Threads),
            "processes" => Some(Backend::Processes),
            "mpi" => Some(Backend::Mpi),
            _ => None,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Which program starts MPI ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LauncherChoice {
    /// `mpirun -np N`.
    Mpirun,
    /// `srun --mpi=pmix -n N` (inside a SLURM allocation).
    Srun,
}

impl LauncherChoice {
    fn name(self) -> &'static str {
        match self {
            LauncherChoice::Mpirun => "mpirun",
            LauncherChoice::Srun => "srun",
        }
    }
}

/// What is wrong with a request, with the part of it that is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// No experiment of that name.
    #[error("unknown experiment `{name}` (known: {known})")]
    UnknownExperiment {
        /// The name asked for.
        name: String,
        /// The known names, joined.
        known: String,
    },
    /// The experiment does not run on that backend.
    #[error(
        "experiment `{experiment}` does not run on the `{backend}` backend (it runs on {allowed})"
    )]
    Backend {
        /// The experiment.
        experiment: &'static str,
        /// The backend asked for.
        backend: String,
        /// The backends it runs on, joined.
        allowed: String,
    },
    /// A worker list that is empty, out of range or not in increasing order.
    #[error("--workers: {0}")]
    Workers(String),
    /// Repetitions out of range.
    #[error("--reps: `{0}` is not allowed; expected a whole number from 1 to 1000")]
    Reps(String),
    /// Warm-up runs out of range.
    #[error("--warmup: `{0}` is not allowed; expected a whole number from 0 to 100")]
    Warmup(String),
    /// `--deadline` where it does not apply.
    #[error("{0}")]
    Deadline(String),
    /// A parameter that is unknown, malformed, out of range or at odds with another.
    #[error("{message}")]
    Param {
        /// The parameter the message names, when it names one.
        name: Option<String>,
        /// The message.
        message: String,
    },
}

impl RequestError {
    /// The form field the error belongs to: `workers`, `reps`, `warmup`, `backend`, or a
    /// parameter name.
    pub fn field(&self) -> Option<&str> {
        match self {
            RequestError::UnknownExperiment { .. } => None,
            RequestError::Backend { .. } => Some("backend"),
            RequestError::Workers(_) => Some("workers"),
            RequestError::Reps(_) => Some("reps"),
            RequestError::Warmup(_) => Some("warmup"),
            RequestError::Deadline(_) => Some("deadline"),
            RequestError::Param { name, .. } => name.as_deref(),
        }
    }
}

/// A sweep to measure.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRequest {
    /// The experiment.
    pub experiment: &'static ExperimentInfo,
    /// Where the workers run.
    pub backend: Backend,
    /// The worker counts, in increasing order; empty for the default sweep of the machine
    /// (or allocation) the run lands on.
    pub workers: Vec<u16>,
    /// Timed repetitions per point.
    pub reps: u32,
    /// Untimed warm-up runs per point.
    pub warmup: u32,
    /// Every parameter, given or default.
    pub params: Params,
    /// Which program starts MPI ranks; `None` for the default of the place it runs.
    pub launcher: Option<LauncherChoice>,
    /// Seconds without progress before MPI ranks are declared stuck; `None` for the
    /// experiment's own deadline.
    pub deadline: Option<f64>,
}

impl RunRequest {
    /// The experiment called `name` with its defaults, on its first backend.
    pub fn defaults(name: &str) -> Result<Self, RequestError> {
        Self::check(name, None, &[], DEFAULT_REPS, DEFAULT_WARMUP, &[])
    }

    /// Checks every part of a request, given as the command line and the form have it:
    /// the experiment's name, the backend (`None`: its first one), worker counts, repetitions,
    /// warm-up runs and `KEY=VALUE` parameters. The first problem found is returned.
    pub fn check(
        name: &str,
        backend: Option<Backend>,
        workers: &[u16],
        reps: u32,
        warmup: u32,
        params: &[String],
    ) -> Result<Self, RequestError> {
        let experiment = super::find(name).ok_or_else(|| RequestError::UnknownExperiment {
            name: name.to_owned(),
            known: super::known_names(),
        })?;
        let backend = match backend {
            Some(b) => b,
            None => experiment
                .backends
                .first()
                .copied()
                .unwrap_or(Backend::Threads),
        };
        if !experiment.runs_on(backend) {
            return Err(RequestError::Backend {
                experiment: experiment.name,
                backend: backend.name().to_owned(),
                allowed: experiment.backend_names().join(", "),
            });
        }
        check_workers(workers)?;
        if !REPS.contains(&reps) {
            return Err(RequestError::Reps(reps.to_string()));
        }
        if !WARMUP.contains(&warmup) {
            return Err(RequestError::Warmup(warmup.to_string()));
        }
        let params = Params::parse(experiment, params).map_err(|e| {
            let message = e.to_string();
            let name = experiment
                .params
                .iter()
                .find(|p| message.contains(&format!("`{}`", p.name)))
                .map(|p| p.name.to_owned());
            RequestError::Param { name, message }
        })?;
        let counts: Vec<usize> = workers.iter().map(|&n| usize::from(n)).collect();
        experiment
            .check_workers(&params, backend, &counts)
            .map_err(|e| RequestError::Param {
                name: experiment.variant_param().map(str::to_owned),
                message: e.to_string(),
            })?;
        if backend == Backend::Mpi && params.choice("placement") == Some("cross-node") {
            check_cross_node(
                experiment.name,
                crate::cluster::Allocation::from_env()
                    .as_ref()
                    .map(crate::cluster::Allocation::node_count),
            )?;
        }
        if experiment.kind == super::Kind::Program
            && params.text("command").is_none_or(str::is_empty)
        {
            return Err(RequestError::Param {
                name: Some("command".to_owned()),
                message: "--exec: give the command to measure, e.g. --exec 'python3 my_program.py --workers {workers}'".to_owned(),
            });
        }
        Ok(Self {
            experiment,
            backend,
            workers: workers.to_vec(),
            reps,
            warmup,
            params,
            launcher: None,
            deadline: None,
        })
    }

    /// Sets the seconds MPI ranks may go without progress (`--deadline`): only for runs on
    /// the MPI backend; a threads run has no ranks to wait for, and says so (naming the
    /// experiment's own `deadline` parameter where it has one, as `locks` does).
    pub fn with_deadline(mut self, deadline: Option<f64>) -> Result<Self, RequestError> {
        let program = self.experiment.kind == super::Kind::Program;
        if deadline.is_some() && self.backend != Backend::Mpi && !program {
            let own = if self.experiment.params.iter().any(|p| p.name == "deadline") {
                format!(
                    "; experiment `{}` has its own `deadline` parameter: --param deadline=SECS",
                    self.experiment.name
                )
            } else {
                String::new()
            };
            return Err(RequestError::Deadline(format!(
                "--deadline applies to MPI runs (--backend mpi), where it is how long ranks may go without progress; this run is on {}{own}",
                self.backend
            )));
        }
        self.deadline = deadline;
        Ok(self)
    }

    /// The `hpc-tutor` arguments of this request: `run EXPERIMENT` and every option, each
    /// once, parameters sorted by name. Faces that read the child's records add
    /// `--format json --no-store` through [`RunRequest::child_args`].
    pub fn to_args(&self) -> Vec<String> {
        let program = self.experiment.kind == super::Kind::Program;
        let mut args = vec!["run".to_owned()];
        if program {
            // `--exec COMMAND`, `--shell`, `--time-from RE`, `--mode M`: as a learner types them.
            let text = |k: &str| self.params.text(k).unwrap_or_default().to_owned();
            args.extend(["--exec".to_owned(), text("command")]);
            if self.params.choice("shell") == Some("on") {
                args.push("--shell".to_owned());
            }
            if !text("time_from").is_empty() {
                args.extend(["--time-from".to_owned(), text("time_from")]);
            }
        } else {
            args.push(self.experiment.name.to_owned());
        }
        args.extend(["--backend".to_owned(), self.backend.name().to_owned()]);
        if !self.workers.is_empty() {
            args.push("--workers".to_owned());
            args.push(join_workers(&self.workers));
        }
        args.extend([
            "--reps".to_owned(),
            self.reps.to_string(),
            "--warmup".to_owned(),
            self.warmup.to_string(),
        ]);
        for (k, v) in self.params.to_strings() {
            if program {
                match k.as_str() {
                    "command" | "shell" | "time_from" => continue,
                    "mode" => {
                        args.extend(["--mode".to_owned(), v]);
                        continue;
                    }
                    "name" if v.is_empty() => continue,
                    _ => {}
                }
            }
            args.push("--param".to_owned());
            args.push(format!("{k}={v}"));
        }
        if let Some(l) = self.launcher {
            args.extend(["--launcher".to_owned(), l.name().to_owned()]);
        }
        if let Some(d) = self.deadline {
            args.extend(["--deadline".to_owned(), d.to_string()]);
        }
        args
    }

    /// The arguments of a child `hpc-tutor run` whose JSON Lines records a face reads as they
    /// come, and which leaves storing them to that face.
    pub fn child_args(&self) -> Vec<String> {
        let mut args = self.to_args();
        args.extend(["--format", "json", "--no-store"].map(str::to_owned));
        args
    }

    /// The parameters as `KEY=VALUE` pairs, sorted by name.
    pub fn param_pairs(&self) -> Vec<String> {
        self.params
            .to_strings()
            .into_iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect()
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

/// The worker counts of a sweep: as given (checked against experiments with a fixed count
/// and the rank cap), else 1, 2, 4, … up to the CPUs here — or, for MPI inside a SLURM
/// allocation, up to the allocation's CPUs — divided by the threads of a hybrid rank.
pub fn sweep_workers(
    info: &ExperimentInfo,
    params: &Params,
    mpi: bool,
    given: &[u16],
    system: &crate::cluster::SystemInfo,
) -> Result<Vec<usize>, String> {
    let threads_per_rank = info.threads_per_rank(params);
    let workers: Vec<usize> = match (info.fixed_workers(), given.is_empty()) {
        (Some(n), true) => vec![n],
        (None, true) => {
            let cpus = match &system.allocation {
                Some(a) if mpi => a.total_cpus(),
                _ => system.cpus,
            };
            default_workers((cpus / threads_per_rank).max(1))
        }
        (fixed, false) => {
            let given: Vec<usize> = given.iter().map(|&w| usize::from(w)).collect();
            if let Some(n) = fixed
                && given.iter().any(|&w| w != n)
            {
                let unit = if mpi { "ranks" } else { "threads" };
                return Err(format!(
                    "experiment `{}` always runs on exactly {n} {unit}; give --workers {n} or leave it out",
                    info.name
                ));
            }
            given
        }
    };
    if mpi && let Some(&w) = workers.iter().find(|&&w| w > MAX_RANKS) {
        return Err(format!(
            "--workers: {w} MPI ranks is too many here; allowed 1 to {MAX_RANKS}"
        ));
    }
    Ok(workers)
}

/// Worker counts joined by commas, as `--workers` takes them.
pub fn join_workers(workers: &[u16]) -> String {
    workers
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Parses a worker list as typed (`1, 2,4`): numbers in range, each once, increasing.
pub fn parse_workers(text: &str) -> Result<Vec<u16>, RequestError> {
    let list: Vec<u16> = text
        .split(',')
        .map(|w| w.trim().parse::<u16>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            RequestError::Workers(format!(
                "`{}` is not a list of worker counts; expected numbers from 1 to 1024 separated by commas",
                text.trim()
            ))
        })?;
    check_workers(&list)?;
    Ok(list)
}

/// Checks worker counts: each from 1 to 1024, each once, in increasing order (a second
/// 1-worker point would be measured against the first as a speedup).
pub fn check_workers(workers: &[u16]) -> Result<(), RequestError> {
    if let Some(w) = workers.iter().find(|w| !WORKERS.contains(w)) {
        return Err(RequestError::Workers(format!(
            "{w} is not allowed; expected 1 to 1024 workers"
        )));
    }
    if workers.windows(2).any(|p| p[0] >= p[1]) {
        let mut sorted = workers.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        return Err(RequestError::Workers(format!(
            "`{}` is not allowed: give each worker count once, in increasing order (e.g. {})",
            join_workers(workers),
            join_workers(&sorted)
        )));
    }
    Ok(())
}

/// `placement = cross-node` needs ranks on two nodes: a SLURM allocation of two or more
/// (`nodes`: its node count; `None` outside SLURM).
fn check_cross_node(experiment: &str, nodes: Option<usize>) -> Result<(), RequestError> {
    if nodes.is_some_and(|n| n >= 2) {
        return Ok(());
    }
    let here = match nodes {
        None => "this shell is not in a SLURM allocation".to_owned(),
        Some(n) => format!("this allocation has {n} node"),
    };
    Err(RequestError::Param {
        name: Some("placement".to_owned()),
        message: format!(
            "parameter `placement`: cross-node needs ranks on 2 nodes, and {here}; ask for two, then run it inside: `salloc -N 2 --ntasks-per-node=2 hpc-tutor run {experiment} --backend mpi --param placement=cross-node` (or put that line in a script for `sbatch -N 2 --ntasks-per-node=2`); two tasks per node let the same allocation run placement=same-node too"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_node_placement_needs_a_two_node_allocation() {
        let outside = check_cross_node("pingpong", None).expect_err("no allocation");
        let text = outside.to_string();
        assert!(text.contains("not in a SLURM allocation"), "{text}");
        assert!(
            text.contains(
                "salloc -N 2 --ntasks-per-node=2 hpc-tutor run pingpong --backend mpi --param placement=cross-node"
            ),
            "{text}"
        );
        let one = check_cross_node("exchange", Some(1)).expect_err("one node");
        assert!(
            one.to_string().contains("this allocation has 1 node"),
            "{one}"
        );
        assert!(check_cross_node("pingpong", Some(2)).is_ok());
    }

    #[test]
    fn defaults_round_trip_through_the_argument_list() {
        use clap::Parser;
        for e in super::super::EXPERIMENTS.iter().filter(|e| e.runnable()) {
            // A program run needs its command: the rest of it is its defaults.
            let given: &[String] = if e.kind == super::super::Kind::Program {
                &["command=python3 pi.py {workers}".to_owned()]
            } else {
                &[]
            };
            let req = RunRequest::check(e.name, None, &[], DEFAULT_REPS, DEFAULT_WARMUP, given)
                .expect("defaults are valid");
            let args = req.to_args();
            assert_eq!(
                args.iter().filter(|a| *a == "--backend").count(),
                1,
                "{args:?}"
            );
            let cli = crate::cli::Cli::try_parse_from(
                std::iter::once("hpc-tutor".to_owned()).chain(args.iter().cloned()),
            )
            .unwrap_or_else(|err| panic!("{}: {args:?} does not parse: {err}", e.name));
            let Some(crate::cli::Command::Run(run)) = cli.command else {
                panic!("{}: not a run", e.name)
            };
            assert_eq!(run.request().expect("valid"), req, "{}", e.name);
        }
    }

    #[test]
    fn a_program_request_reads_as_typed() {
        let req = RunRequest::check(
            "program",
            Some(Backend::Processes),
            &[1, 2],
            3,
            0,
            &[
                "command=python3 pool.py {workers}".into(),
                "time_from=took ([0-9.]+) s".into(),
                "mode=weak".into(),
            ],
        )
        .expect("valid");
        assert_eq!(
            req.to_args(),
            [
                "run",
                "--exec",
                "python3 pool.py {workers}",
                "--time-from",
                "took ([0-9.]+) s",
                "--backend",
                "processes",
                "--workers",
                "1,2",
                "--reps",
                "3",
                "--warmup",
                "0",
                "--mode",
                "weak"
            ]
        );
        let e = RunRequest::check("program", None, &[], 5, 1, &[]).expect_err("no command");
        assert_eq!(e.field(), Some("command"));
        let e = RunRequest::check("mc-pi", Some(Backend::Processes), &[], 5, 1, &[])
            .expect_err("processes are for programs");
        assert_eq!(e.field(), Some("backend"));
        let with = RunRequest::check("program", None, &[], 5, 1, &["command=true".into()])
            .expect("valid")
            .with_deadline(Some(30.0))
            .expect("any backend of a program takes a deadline");
        assert_eq!(with.deadline, Some(30.0));
    }

    #[test]
    fn bad_parts_name_their_field() {
        let e = RunRequest::check("mc-pi", Some(Backend::Threads), &[2, 1], 5, 1, &[])
            .expect_err("decreasing");
        assert_eq!(e.field(), Some("workers"));
        assert!(e.to_string().contains("increasing order (e.g. 1,2)"), "{e}");
        let e = RunRequest::check("mc-pi", None, &[1, 1], 5, 1, &[]).expect_err("twice");
        assert_eq!(e.field(), Some("workers"));
        let e = RunRequest::check("exchange", Some(Backend::Threads), &[], 5, 1, &[])
            .expect_err("mpi only");
        assert_eq!(e.field(), Some("backend"));
        let e = RunRequest::check("mc-pi", None, &[], 0, 1, &[]).expect_err("reps");
        assert_eq!(e.field(), Some("reps"));
        let e =
            RunRequest::check("mc-pi", None, &[], 5, 1, &["samples=5".into()]).expect_err("range");
        assert_eq!(e.field(), Some("samples"));
        assert_eq!(
            e.to_string(),
            "parameter `samples`: `5` is not allowed; expected a whole number from 1000 to 100000000000"
        );
        assert_eq!(
            RunRequest::check("exchange", None, &[], 5, 1, &[])
                .expect("mpi is its first backend")
                .backend,
            Backend::Mpi
        );
        let e = RunRequest::check(
            "mc-pi",
            None,
            &[],
            5,
            1,
            &["samples=1e6".into(), "samples=2e6".into()],
        )
        .expect_err("twice");
        assert_eq!(e.field(), Some("samples"));
        let threads = RunRequest::defaults("locks").expect("defaults");
        let e = threads.with_deadline(Some(5.0)).expect_err("threads");
        assert_eq!(e.field(), Some("deadline"));
        assert!(
            e.to_string().contains("--deadline applies to MPI runs"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("`locks` has its own `deadline` parameter"),
            "{e}"
        );
        let mpi = RunRequest::defaults("exchange").expect("defaults");
        assert_eq!(
            mpi.with_deadline(Some(5.0)).map(|r| r.deadline),
            Ok(Some(5.0))
        );
        assert!(parse_workers("1, 2,4").is_ok());
        assert!(parse_workers("0").is_err());
        assert!(parse_workers("").is_err());
    }
}
