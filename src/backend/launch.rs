//! Launching MPI worker ranks: `mpirun -np N` outside SLURM, `srun --mpi=pmix -n N` inside an
//! allocation (or as `--launcher` says), each run in its own process group with a deadline.
//!
//! The TUI and `hpc-tutor run` never call MPI themselves: the ranks are `hpc-tutor mpi-worker`
//! processes started by the launcher. Rank 0 reports on its standard output with one JSON
//! [`WorkerLine`] per line; every rank reports the blocking call it is in as a `state` line
//! on its standard output too, which the launcher forwards (from any node), kept for when a
//! deadline passes. The launcher itself runs through `hpc-tutor tied`, so the kernel kills
//! it when `hpc-tutor run` ends in any way; the ranks die with the launcher.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

use crate::kernel::{Kernel, Outputs};
use crate::measure::protocol::{Executor, PointSpec, RunError};
use crate::record::{DiagnosisRecord, WaitRecord};

/// What rank 0 of a worker prints, one JSON object per line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "w", rename_all = "snake_case")]
pub enum WorkerLine {
    /// MPI is initialized on every rank.
    Ready {
        /// Ranks in `MPI_COMM_WORLD`.
        ranks: usize,
        /// The MPI library's version string.
        library: String,
        /// The host each rank runs on, by rank (empty from workers that did not say).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        hosts: Vec<String>,
    },
    /// One run of the kernel: the maximum over ranks of barrier-to-barrier time.
    Run {
        /// Seconds, measured with `MPI_Wtime`.
        seconds: f64,
        /// The kernel's outputs, combined on rank 0.
        outputs: Outputs,
    },
    /// Something failed on a rank.
    Error {
        /// What.
        message: String,
    },
    /// Where a rank is now (e.g. `send to rank 1, 1048576 B, tag 0`): what the watchdog
    /// reads when the ranks stop making progress. Every rank writes these.
    State {
        /// The rank.
        rank: usize,
        /// Its state, in words.
        state: String,
        /// The host it runs on.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
}

/// Which program starts the ranks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Launcher {
    /// OpenMPI's or MPICH's `mpirun`.
    Mpirun,
    /// SLURM's `srun --mpi=pmix`.
    Srun,
}

impl Launcher {
    /// `srun` inside a SLURM allocation, `mpirun` elsewhere.
    pub fn default_here() -> Self {
        if std::env::var_os("SLURM_JOB_ID").is_some() {
            Launcher::Srun
        } else {
            Launcher::Mpirun
        }
    }

    /// The name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Launcher::Mpirun => "mpirun",
            Launcher::Srun => "srun",
        }
    }
}

/// Why ranks could not be launched or did not report.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LaunchError {
    /// The launcher program is not installed or not on `PATH`.
    #[error(
        "`{0}` was not found on PATH: install an MPI implementation (Debian: apt-get install openmpi-bin libopenmpi-dev) or `module load` one on a cluster"
    )]
    NotFound(String),
    /// `srun` outside a SLURM allocation.
    #[error(
        "--launcher srun needs a SLURM allocation (no SLURM_JOB_ID here): use salloc/sbatch, or --launcher mpirun"
    )]
    NoAllocation,
    /// The launcher ended without starting the ranks, or a rank failed.
    #[error("{launcher} failed: {message}")]
    Failed {
        /// Which launcher.
        launcher: String,
        /// What it said (the last lines of its error output).
        message: String,
    },
    /// No report within the deadline.
    #[error("no progress within the deadline of {0:.1} s")]
    Deadline(f64),
    /// The run was cancelled (Ctrl-C, SIGTERM, SIGHUP) while the ranks worked.
    #[error("cancelled")]
    Cancelled,
}

/// Everything needed to start the workers of one point.
#[derive(Debug, Clone)]
pub struct LaunchSpec {
    /// Which launcher.
    pub launcher: Launcher,
    /// The experiment the worker runs.
    pub experiment: String,
    /// Its parameters as `KEY=VALUE`.
    pub params: Vec<String>,
    /// Variant, for experiments that compare variants.
    pub variant: Option<String>,
    /// CPUs available here: more ranks than this needs `--oversubscribe` with mpirun.
    pub cpus: usize,
    /// How long to wait for any report before declaring the ranks stuck. Start-up (until
    /// every rank has initialized MPI) gets at least [`STARTUP_DEADLINE`].
    pub deadline: Duration,
    /// Threads each rank runs (`hybrid`); 1 for plain MPI. Above 1, `mpirun` is told not to
    /// bind each rank to one core (`--bind-to none`), and `srun` gives each rank that many
    /// CPUs (`-c`).
    pub threads_per_rank: usize,
    /// The parameter that carries a point's message size to the ranks, for size sweeps that
    /// launch once per size (`size` for the eager-limit sweep of `exchange`). `None` when
    /// the ranks sweep the sizes themselves in one launch (`pingpong`).
    pub size_param: Option<String>,
}

/// The least time ranks get to start and initialize MPI, whatever the deadline: a short
/// deadline is for stuck communication, not for a slow start on a busy machine.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(30);

/// Whether `program` can be found on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// The launcher's part of a command line starting `ranks` ranks of `threads_per_rank`
/// threads each on `cpus` CPUs (e.g. `mpirun -np 4 --oversubscribe`): the program and its
/// arguments follow it.
pub fn launcher_args(
    launcher: Launcher,
    ranks: usize,
    cpus: usize,
    threads_per_rank: usize,
) -> Vec<String> {
    match launcher {
        Launcher::Mpirun => {
            let mut c = vec!["mpirun".to_owned(), "-np".to_owned(), ranks.to_string()];
            if ranks > cpus {
                c.push("--oversubscribe".to_owned());
            }
            if threads_per_rank > 1 {
                // OpenMPI binds each rank to one core by default: its threads would share it.
                c.extend(["--bind-to".to_owned(), "none".to_owned()]);
            }
            if nix::unistd::geteuid().is_root() {
                c.push("--allow-run-as-root".to_owned());
            }
            c
        }
        Launcher::Srun => {
            let mut c = vec![
                "srun".to_owned(),
                "--mpi=pmix".to_owned(),
                "-n".to_owned(),
                ranks.to_string(),
            ];
            // Always say how many CPUs a rank gets: inside `srun --pty -c 2` the inherited
            // SLURM_CPUS_PER_TASK=2 would otherwise ask for 2 CPUs per rank.
            c.extend(["-c".to_owned(), threads_per_rank.max(1).to_string()]);
            // More ranks (× threads) than the allocation has CPUs: srun would refuse the
            // step; overcommitted, they take turns and the point is labelled oversubscribed.
            if crate::cluster::Allocation::from_env()
                .is_some_and(|a| ranks * threads_per_rank.max(1) > a.total_cpus())
            {
                c.push("--overcommit".to_owned());
            }
            // Inside a job step (an `srun --pty` session) the step already holds the CPUs:
            // the ranks' step must share them, or it waits for them forever.
            if std::env::var_os("SLURM_STEP_ID").is_some() {
                c.push("--overlap".to_owned());
            }
            c
        }
    }
}

/// The command line that starts `ranks` workers doing `runs` runs.
pub fn command_line(spec: &LaunchSpec, ranks: usize, runs: usize, exe: &Path) -> Vec<String> {
    let mut cmd = launcher_args(spec.launcher, ranks, spec.cpus, spec.threads_per_rank);
    let placement = spec
        .params
        .iter()
        .find_map(|p| p.strip_prefix("placement="));
    cmd.extend(placement_args(spec.launcher, placement, ranks));
    cmd.push(exe.display().to_string());
    cmd.extend([
        "mpi-worker".to_owned(),
        spec.experiment.clone(),
        "--runs".to_owned(),
        runs.to_string(),
    ]);
    if let Some(v) = &spec.variant {
        cmd.extend(["--variant".to_owned(), v.clone()]);
    }
    for p in &spec.params {
        cmd.extend(["--param".to_owned(), p.clone()]);
    }
    cmd
}

/// The launcher's options that put `ranks` ranks where the `placement` parameter says:
/// `same-node` all on one node (they talk through shared memory), `cross-node` consecutive
/// ranks on different nodes (through the network: rank 0 and rank 1 of a ping-pong never
/// share a node), `auto` (or none) where the launcher puts them.
pub fn placement_args(launcher: Launcher, placement: Option<&str>, ranks: usize) -> Vec<String> {
    let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
    match (launcher, placement) {
        (Launcher::Srun, Some("same-node")) => {
            let mut args: Vec<String> = owned(&["-N", "1"]);
            // `salloc -N 2 -n 2` holds one CPU on each node: two ranks on one node are
            // then more than the allocation has there, which srun refuses unless told.
            // (`SLURM_CPUS_ON_NODE` exists in a step only; an `salloc` shell has
            // `SLURM_JOB_CPUS_PER_NODE`, e.g. `1(x2)`: the first node's count.)
            let on_node = crate::cluster::Allocation::from_env()
                .and_then(|a| a.cpus_on_node)
                .or_else(|| {
                    std::env::var("SLURM_JOB_CPUS_PER_NODE").ok().and_then(|v| {
                        v.split(|c: char| !c.is_ascii_digit())
                            .next()
                            .and_then(|d| d.parse().ok())
                    })
                });
            if on_node.is_some_and(|c| ranks > c) {
                args.push("--overcommit".to_owned());
            }
            args
        }
        (Launcher::Srun, Some("cross-node")) => {
            // As many nodes as ranks, up to the allocation's; ranks dealt out in turn.
            let nodes = crate::cluster::Allocation::from_env()
                .map_or(2, |a| a.node_count())
                .min(ranks)
                .max(1);
            vec![
                "-N".to_owned(),
                nodes.to_string(),
                "--distribution=cyclic".to_owned(),
            ]
        }
        // mpirun fills the slots of one node before the next by default; by node, it
        // deals the ranks out over the nodes it was given (the allocation's, under SLURM).
        (Launcher::Mpirun, Some("same-node")) => owned(&["--map-by", "slot"]),
        (Launcher::Mpirun, Some("cross-node")) => owned(&["--map-by", "node"]),
        _ => Vec::new(),
    }
}

/// Whether `launcher` can be used here: on `PATH`, and `srun` inside an allocation.
pub fn check_launcher(launcher: Launcher) -> Result<(), LaunchError> {
    let name = launcher.name();
    if !on_path(name) {
        return Err(LaunchError::NotFound(name.to_owned()));
    }
    if launcher == Launcher::Srun && std::env::var_os("SLURM_JOB_ID").is_none() {
        return Err(LaunchError::NoAllocation);
    }
    Ok(())
}

/// The command that runs a launcher's command line `argv` tied to this process: `hpc-tutor
/// tied` (`exe`) makes the kernel kill the launcher when this process ends, however it ends
/// (even `kill -9`), and then execs it; the ranks die with the launcher. It gets a process
/// group of its own, so that cancel and the watchdog can stop the launcher, its daemons and
/// every rank at once ([`stop_launch`]); for `srun`, without the session's CPU binding
/// ([`clear_cpu_binding`]).
pub fn tied_launch(exe: &Path, argv: &[String], launcher: Launcher) -> Command {
    let mut cmd = Command::new(exe);
    cmd.args(["tied", "--parent", &std::process::id().to_string(), "--"])
        .args(argv);
    if launcher == Launcher::Srun {
        clear_cpu_binding(&mut cmd);
    }
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    cmd
}

/// Inside `srun --pty` the session's CPU binding (e.g. mask_cpu:0x3) is in the environment,
/// and srun would apply it to a new step, whose CPUs differ: "CPU binding outside of job
/// step allocation". Removed from `cmd`'s environment, srun binds the new step itself.
pub fn clear_cpu_binding(cmd: &mut Command) {
    for var in [
        "SLURM_CPU_BIND",
        "SLURM_CPU_BIND_LIST",
        "SLURM_CPU_BIND_TYPE",
        "SLURM_CPU_BIND_VERBOSE",
    ] {
        cmd.env_remove(var);
    }
}

/// Ranks started by a launcher, reporting line by line.
pub struct Ranks {
    child: Child,
    pgid: Pid,
    lines: Receiver<String>,
    stderr: Arc<Mutex<Vec<String>>>,
    launcher: String,
    /// The last state each rank reported, by rank.
    states: Arc<Mutex<States>>,
    /// When the launcher was started.
    pub started: Instant,
}

impl Ranks {
    /// Starts `ranks` workers for `runs` runs.
    pub fn start(spec: &LaunchSpec, ranks: usize, runs: usize) -> Result<Self, LaunchError> {
        check_launcher(spec.launcher)?;
        let launcher = spec.launcher.name().to_owned();
        let exe = std::env::current_exe().map_err(|e| LaunchError::Failed {
            launcher: launcher.clone(),
            message: format!("cannot find the hpc-tutor binary: {e}"),
        })?;
        let argv = command_line(spec, ranks, runs, &exe);
        let mut cmd = tied_launch(&exe, &argv, spec.launcher);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|e| LaunchError::Failed {
            launcher: launcher.clone(),
            message: e.to_string(),
        })?;
        // A pid fits in i32 on Linux.
        let pgid = Pid::from_raw(child.id() as i32);
        let (tx, rx) = mpsc::channel();
        let states = Arc::new(Mutex::new(std::collections::BTreeMap::new()));
        if let Some(out) = child.stdout.take() {
            let states = Arc::clone(&states);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    // Rank 0's states are kept for the watchdog; the rest is its report.
                    if take_state(line.trim(), &states) {
                        continue;
                    }
                    if tx.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        // The other ranks report their states on standard error (only rank 0 writes to
        // standard output, so that the launcher's forwarding never splits its reports).
        let stderr = match child.stderr.take() {
            Some(err) => {
                let states = Arc::clone(&states);
                keep_tail_with(err, 30, "launcher-stderr", move |line| {
                    take_state(line.trim(), &states)
                })
                .0
            }
            None => Arc::new(Mutex::new(Vec::new())),
        };
        Ok(Self {
            child,
            pgid,
            lines: rx,
            stderr,
            launcher,
            states,
            started,
        })
    }

    /// The next report of rank 0, waiting at most `deadline`; gives up at once (within a
    /// tenth of a second) when `cancel` is set.
    pub fn next(
        &mut self,
        deadline: Duration,
        cancel: Option<&AtomicBool>,
    ) -> Result<WorkerLine, LaunchError> {
        let until = Instant::now() + deadline;
        loop {
            if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
                return Err(LaunchError::Cancelled);
            }
            let left = until.saturating_duration_since(Instant::now());
            let slice = left.min(Duration::from_millis(100));
            match self.lines.recv_timeout(slice) {
                Ok(line) => match serde_json::from_str::<WorkerLine>(&line) {
                    Ok(WorkerLine::Error { message }) => {
                        return Err(LaunchError::Failed {
                            launcher: self.launcher.clone(),
                            message,
                        });
                    }
                    Ok(l) => return Ok(l),
                    // Anything else on stdout (a library's banner) is not ours: skip it.
                    Err(_) => continue,
                },
                Err(RecvTimeoutError::Timeout) if left > slice => continue,
                Err(RecvTimeoutError::Timeout) => {
                    return Err(LaunchError::Deadline(deadline.as_secs_f64()));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    // Give the stderr reader a moment to collect the launcher's last words.
                    std::thread::sleep(Duration::from_millis(50));
                    let tail = self.stderr_tail();
                    // A node of the allocation that went down ends the step: say so first.
                    let node = tail.iter().find_map(|l| {
                        l.split("Node failure on ")
                            .nth(1)
                            .map(|n| n.trim().trim_end_matches('.').to_owned())
                    });
                    return Err(LaunchError::Failed {
                        launcher: self.launcher.clone(),
                        message: format!(
                            "{}the ranks ended without reporting (exit status {}){}",
                            node.map_or(String::new(), |n| format!(
                                "node {n} went down, and SLURM ended the ranks: "
                            )),
                            status
                                .and_then(|s| s.code())
                                .map_or("none".to_owned(), |c| c.to_string()),
                            if tail.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", tail.join(" | "))
                            }
                        ),
                    });
                }
            }
        }
    }

    /// The last lines the launcher and the ranks wrote to standard error.
    pub fn stderr_tail(&self) -> Vec<String> {
        self.stderr
            .lock()
            .map(|t| t.iter().filter(|l| !l.trim().is_empty()).cloned().collect())
            .unwrap_or_default()
    }

    /// What each rank last reported, by rank, with its host when it said.
    pub fn rank_states(&self) -> Vec<RankState> {
        self.states
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Stops the launcher, its daemons and every rank ([`stop_launch`]), and waits for the
    /// launcher.
    pub fn kill(&mut self) {
        stop_launch(self.pgid);
        let _ = self.child.wait();
    }

    /// Waits for the launcher to end after the last report.
    pub fn finish(&mut self, deadline: Duration) -> Result<(), LaunchError> {
        let until = Instant::now() + deadline;
        loop {
            match self.child.try_wait() {
                Ok(Some(s)) if s.success() => return Ok(()),
                Ok(Some(s)) => {
                    return Err(LaunchError::Failed {
                        launcher: self.launcher.clone(),
                        message: format!(
                            "exit status {:?}: {}",
                            s.code(),
                            self.stderr_tail().join(" | ")
                        ),
                    });
                }
                Ok(None) if Instant::now() < until => std::thread::sleep(Duration::from_millis(10)),
                _ => {
                    self.kill();
                    return Err(LaunchError::Deadline(deadline.as_secs_f64()));
                }
            }
        }
    }
}

impl Drop for Ranks {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}

/// The last lines a child writes to `pipe`, kept up to `keep` lines by a reader thread
/// named `name`. Returns the shared lines and the thread, to join once the child has ended.
pub fn keep_tail(
    pipe: impl std::io::Read + Send + 'static,
    keep: usize,
    name: &str,
) -> (Arc<Mutex<Vec<String>>>, Option<std::thread::JoinHandle<()>>) {
    keep_tail_with(pipe, keep, name, |_| false)
}

/// Like [`keep_tail`], but a line for which `take` says yes is taken by it instead of kept.
pub fn keep_tail_with(
    pipe: impl std::io::Read + Send + 'static,
    keep: usize,
    name: &str,
    mut take: impl FnMut(&str) -> bool + Send + 'static,
) -> (Arc<Mutex<Vec<String>>>, Option<std::thread::JoinHandle<()>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let tail = Arc::clone(&lines);
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if take(&line) {
                    continue;
                }
                if let Ok(mut t) = tail.lock() {
                    t.push(line);
                    let n = t.len();
                    if n > keep {
                        t.drain(..n - keep);
                    }
                }
            }
        })
        .ok();
    (lines, thread)
}

/// Stops a launcher started in process group `pgid` (the launcher's pid), its daemons and
/// every rank; does not reap the launcher.
///
/// OpenMPI puts each rank in a process group of its own, so killing the launcher's group is
/// not enough. The launcher gets SIGTERM, so that it can end its job step cleanly (srun
/// cancels the step; its ranks on other nodes go with it). The processes below it here are
/// ranks: they get SIGKILL at once, found through `/proc` before the launcher dies
/// (afterwards they would be orphans), since a stuck rank has nothing to save and mpirun
/// takes more than half a second to pass SIGTERM on to ranks busy in MPI_Send; the launcher
/// then sees them gone and exits, or gets SIGKILL after half a second.
pub fn stop_launch(pgid: Pid) {
    let root = pgid.as_raw();
    let family = descendants(root);
    let _ = killpg(pgid, Signal::SIGTERM);
    for &p in &family {
        let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGKILL);
    }
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until
        && family
            .iter()
            .chain(std::iter::once(&root))
            .any(|&p| alive(p))
    {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = killpg(pgid, Signal::SIGKILL);
}

/// Every process below `root` in the process tree (children, their children, …), from
/// `/proc`.
pub fn descendants(root: i32) -> Vec<i32> {
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.filter_map(Result::ok) {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            // The field after the command name (which may hold spaces) is the state, then
            // the parent pid.
            if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                && let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..])
                && let Some(ppid) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok())
            {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found.remove(0);
    found
}

/// Whether process `pid` exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .map(|i| s[i + 1..].trim_start().starts_with('Z'))
        })
        .is_some_and(|zombie| !zombie)
}

/// Keeps `line` as its rank's latest state when it is a state line (one split by the
/// launcher's forwarding is dropped: the next state replaces it anyway). Says whether the
/// line was a state line, whole or not.
fn take_state(line: &str, states: &Mutex<States>) -> bool {
    if !line.contains("\"w\":\"state\"") {
        return false;
    }
    if let Ok(WorkerLine::State { rank, state, host }) = serde_json::from_str::<WorkerLine>(line)
        && let Ok(mut s) = states.lock()
    {
        s.insert(rank, RankState { rank, state, host });
    }
    true
}

/// The last state of each rank, by rank.
type States = std::collections::BTreeMap<usize, RankState>;

/// Where a rank last said it was.
#[derive(Debug, Clone, PartialEq)]
pub struct RankState {
    /// The rank.
    pub rank: usize,
    /// Its state, in words (`send to rank 1, 1048576 B, tag 0`).
    pub state: String,
    /// The host it runs on, when it said.
    pub host: Option<String>,
}

/// `hpc-tutor tied --parent PID -- PROGRAM…`: becomes PROGRAM, which the kernel kills
/// (SIGKILL) as soon as this process's parent ends — `hpc-tutor run`, which passes its own
/// pid as PID. If the parent is already gone, PROGRAM is not started (exit 137).
pub fn exec_tied(parent: i32, program: &[String]) -> std::process::ExitCode {
    use std::ffi::CString;
    let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
    // The parent may have died before the call above: then nothing would kill us.
    if nix::unistd::getppid() != Pid::from_raw(parent) {
        return std::process::ExitCode::from(137);
    }
    let args: Result<Vec<CString>, _> =
        program.iter().map(|a| CString::new(a.as_bytes())).collect();
    let Ok(args) = args else {
        eprintln!("hpc-tutor tied: an argument contains a NUL byte");
        return std::process::ExitCode::from(2);
    };
    let Some(first) = args.first() else {
        eprintln!("hpc-tutor tied: no program given");
        return std::process::ExitCode::from(2);
    };
    // Only returns on failure.
    let e = nix::unistd::execvp(first, &args).err();
    eprintln!(
        "hpc-tutor tied: cannot start {}: {}",
        program[0],
        e.map_or_else(|| "unknown error".to_owned(), |e| e.to_string())
    );
    std::process::ExitCode::from(127)
}

/// The thread-pool [`Executor`]'s counterpart for MPI: one launch per point, the runs of the
/// point inside it; launch and MPI start-up are the point's set-up time, never kernel time.
///
/// A launch may do the runs of several points: pingpong's ranks go through every message
/// size in one launch. Then `runs` counts the runs of all of them, and the next point with
/// the same ranks and variant continues on the ranks still running (set-up time 0).
pub struct MpiExecutor {
    spec: LaunchSpec,
    /// Runs per launch (warm-ups and repetitions of each point it serves).
    runs: usize,
    ranks: Option<Ranks>,
    /// Ranks and variant of the live launch.
    launched_for: Option<(usize, Option<String>)>,
    left: usize,
    /// Set by a signal: stop waiting for the ranks and stop them.
    cancel: Option<Arc<AtomicBool>>,
    /// The host of each rank of the live launch, by rank, as the ranks said.
    hosts: Vec<String>,
}

impl MpiExecutor {
    /// An executor doing `runs` runs per launch.
    pub fn new(spec: LaunchSpec, runs: usize) -> Self {
        Self {
            spec,
            runs,
            ranks: None,
            launched_for: None,
            left: 0,
            cancel: None,
            hosts: Vec::new(),
        }
    }

    /// Stops waiting for the ranks, and stops them, as soon as `cancel` is set.
    pub fn with_cancel(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.cancel = Some(cancel);
        self
    }

    /// Checks that the launcher can be used at all, before a sweep starts.
    pub fn preflight(&self) -> Result<(), LaunchError> {
        check_launcher(self.spec.launcher)
    }
}

impl Executor for MpiExecutor {
    fn setup(&mut self, point: &PointSpec<'_>) -> Result<f64, String> {
        let workers = point.workers;
        let key = (workers, point.variant.map(str::to_owned));
        if self.ranks.is_some() && self.left > 0 && self.launched_for.as_ref() == Some(&key) {
            // The live launch still owes runs for this point: nothing to set up.
            return Ok(0.0);
        }
        if let Some(mut old) = self.ranks.take() {
            old.kill();
        }
        let mut spec = self.spec.clone();
        spec.variant = key.1.clone();
        if let (Some(param), Some(size)) = (&spec.size_param, point.size) {
            // This point's size replaces the parameter's value (a key is given once).
            let key = format!("{param}=");
            spec.params.retain(|p| !p.starts_with(&key));
            spec.params.push(format!("{key}{size}"));
        }
        let mut ranks = Ranks::start(&spec, workers, self.runs).map_err(|e| e.to_string())?;
        match ranks
            .next(spec.deadline.max(STARTUP_DEADLINE), self.cancel.as_deref())
            .map_err(|e| format!("starting the ranks: {e}"))?
        {
            WorkerLine::Ready {
                ranks: n, hosts, ..
            } if n == workers => {
                self.hosts = hosts;
            }
            WorkerLine::Ready { ranks: n, .. } => {
                return Err(format!(
                    "asked for {workers} ranks, the launcher started {n}"
                ));
            }
            other => return Err(format!("unexpected first report {other:?}")),
        }
        let setup = ranks.started.elapsed().as_secs_f64();
        self.ranks = Some(ranks);
        self.launched_for = Some(key);
        self.left = self.runs;
        Ok(setup)
    }

    /// The ranks were started for a fixed number of runs, and time each run themselves.
    fn batches(&self) -> bool {
        false
    }

    fn hosts(&self) -> Vec<String> {
        self.hosts.clone()
    }

    fn run(&mut self, _kernel: &dyn Kernel, workers: usize) -> Result<(f64, Outputs), RunError> {
        let Some(ranks) = self.ranks.as_mut() else {
            return Err(RunError::Failed("no ranks started".to_owned()));
        };
        let line = match ranks.next(self.spec.deadline, self.cancel.as_deref()) {
            Ok(l) => l,
            Err(LaunchError::Deadline(secs)) => {
                // Read where every rank is stuck before killing them all.
                let states = ranks.rank_states();
                ranks.kill();
                self.ranks = None;
                let diagnosis = diagnose(workers, secs, &states);
                return Err(if diagnosis.cycle.is_empty() {
                    RunError::Failed(format!(
                        "no progress within the deadline of {secs:.1} s ({}); all ranks were stopped",
                        diagnosis.message
                    ))
                } else {
                    RunError::Deadlock(Box::new(diagnosis))
                });
            }
            Err(e) => {
                ranks.kill();
                self.ranks = None;
                return Err(RunError::Failed(e.to_string()));
            }
        };
        self.left = self.left.saturating_sub(1);
        let result = match line {
            WorkerLine::Run { seconds, outputs } => Ok((seconds, outputs)),
            other => Err(RunError::Failed(format!("unexpected report {other:?}"))),
        };
        if self.left == 0
            && let Some(mut r) = self.ranks.take()
        {
            r.finish(self.spec.deadline)
                .map_err(|e| RunError::Failed(e.to_string()))?;
        }
        result
    }
}

/// Who waits for whom, from the ranks' last reported states: a rank blocked in a call that
/// names a peer (`send to rank 1, …`, `recv from rank 0, …`) waits for that peer.
pub fn diagnose(workers: usize, stalled_s: f64, states: &[RankState]) -> DiagnosisRecord {
    let waits = states
        .iter()
        .filter(|s| s.state != "done")
        .map(|RankState { rank, state, host }| {
            let peer = state
                .split("rank ")
                .nth(1)
                .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                .filter(|d| !d.is_empty())
                .map(|d| format!("rank {d}"));
            let blocking = ["send", "recv", "isend", "sendrecv", "barrier", "reduce"]
                .iter()
                .any(|w| state.starts_with(w));
            WaitRecord {
                who: format!("rank {rank}"),
                holds: Vec::new(),
                waits_for: blocking.then(|| state.clone()),
                held_by: if blocking { peer } else { None },
                last_action: Some(state.clone()),
                host: host.clone(),
            }
        })
        .collect();
    DiagnosisRecord::new(workers, stalled_s, waits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(launcher: Launcher) -> LaunchSpec {
        LaunchSpec {
            launcher,
            experiment: "mc-pi".into(),
            params: vec!["samples=1000".into()],
            variant: None,
            cpus: 2,
            deadline: Duration::from_secs(5),
            threads_per_rank: 1,
            size_param: None,
        }
    }

    #[test]
    fn mpirun_command_lines_oversubscribe_only_beyond_the_cpus() {
        let exe = Path::new("/bin/hpc-tutor");
        let two = command_line(&spec(Launcher::Mpirun), 2, 6, exe);
        assert_eq!(&two[..3], ["mpirun", "-np", "2"]);
        assert!(!two.contains(&"--oversubscribe".to_owned()));
        assert!(two.ends_with(&["--param".to_owned(), "samples=1000".to_owned()]));
        let four = command_line(&spec(Launcher::Mpirun), 4, 6, exe);
        assert!(four.contains(&"--oversubscribe".to_owned()));
        let srun = command_line(&spec(Launcher::Srun), 4, 6, exe);
        assert_eq!(&srun[..4], ["srun", "--mpi=pmix", "-n", "4"]);
        assert!(!two.contains(&"--bind-to".to_owned()));
        assert!(srun.windows(2).any(|w| w == ["-c", "1"]), "{srun:?}");
    }

    #[test]
    fn ranks_with_threads_are_not_bound_to_one_core() {
        let exe = Path::new("/bin/hpc-tutor");
        let hybrid = LaunchSpec {
            threads_per_rank: 2,
            ..spec(Launcher::Mpirun)
        };
        let m = command_line(&hybrid, 2, 6, exe);
        assert!(m.windows(2).any(|w| w == ["--bind-to", "none"]), "{m:?}");
        assert!(
            !m.contains(&"--oversubscribe".to_owned()),
            "2 ranks fit 2 CPUs"
        );
        let s = command_line(
            &LaunchSpec {
                launcher: Launcher::Srun,
                ..hybrid
            },
            2,
            6,
            exe,
        );
        assert!(s.windows(2).any(|w| w == ["-c", "2"]), "{s:?}");
    }

    #[test]
    fn placement_puts_ranks_on_one_node_or_deals_them_out() {
        assert_eq!(
            placement_args(Launcher::Srun, Some("same-node"), 2),
            ["-N", "1"]
        );
        let cross = placement_args(Launcher::Srun, Some("cross-node"), 2);
        assert_eq!(cross[0], "-N");
        assert!(
            cross.contains(&"--distribution=cyclic".to_owned()),
            "{cross:?}"
        );
        assert_eq!(
            placement_args(Launcher::Mpirun, Some("cross-node"), 2),
            ["--map-by", "node"]
        );
        assert!(placement_args(Launcher::Srun, Some("auto"), 2).is_empty());
        assert!(placement_args(Launcher::Mpirun, None, 2).is_empty());
    }

    #[test]
    fn worker_lines_round_trip() {
        let l = WorkerLine::Run {
            seconds: 0.5,
            outputs: Outputs::from([("estimate".to_owned(), 3.0)]),
        };
        let text = serde_json::to_string(&l).expect("json");
        assert!(text.starts_with("{\"w\":\"run\""), "{text}");
        assert_eq!(serde_json::from_str::<WorkerLine>(&text).expect("back"), l);
    }

    #[test]
    fn two_ranks_sending_to_each_other_are_a_cycle() {
        let st = |rank: usize, state: &str, host: Option<&str>| RankState {
            rank,
            state: state.to_owned(),
            host: host.map(str::to_owned),
        };
        let d = diagnose(
            2,
            10.0,
            &[
                st(0, "send to rank 1, 1048576 B, tag 0", Some("node1")),
                st(1, "send to rank 0, 1048576 B, tag 0", Some("node2")),
            ],
        );
        assert_eq!(d.cycle, ["rank 0", "rank 1"]);
        assert_eq!(d.waits[0].held_by.as_deref(), Some("rank 1"));
        // Each rank with its host: the ranks may be on different nodes.
        assert!(
            d.message.contains(
                "rank 0 on node1 waits for send to rank 1, 1048576 B, tag 0 (held by rank 1); \
                 rank 1 on node2 waits for send to rank 0"
            ),
            "{}",
            d.message
        );
        let none = diagnose(2, 10.0, &[st(0, "computing", None), st(1, "done", None)]);
        assert!(none.cycle.is_empty());
        assert!(
            none.message.starts_with("rank 0 holds nothing"),
            "{}",
            none.message
        );
    }

    #[test]
    fn states_are_worker_lines_of_their_own() {
        let l = WorkerLine::State {
            rank: 1,
            state: "send to rank 0, 4 B, tag 0".to_owned(),
            host: Some("node2".to_owned()),
        };
        let text = serde_json::to_string(&l).expect("json");
        assert_eq!(serde_json::from_str::<WorkerLine>(&text).expect("back"), l);
    }

    #[test]
    fn srun_outside_an_allocation_is_refused() {
        if std::env::var_os("SLURM_JOB_ID").is_some() || !on_path("srun") {
            return; // only meaningful outside an allocation with srun installed
        }
        let e = Ranks::start(&spec(Launcher::Srun), 2, 1)
            .err()
            .expect("refused");
        assert_eq!(e, LaunchError::NoAllocation);
    }
}
