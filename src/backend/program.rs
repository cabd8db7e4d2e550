//! Measuring the learner's own program (`hpc-tutor run --exec COMMAND`): each run of a point
//! starts the command once and times it, on threads (the program's own, told how many by the
//! usual environment variables), on processes the program starts itself, or on MPI ranks
//! started by `mpirun`/`srun` around it.
//!
//! A run's time is the wall time of the whole process, start-up included, unless a time
//! pattern (`--time-from`) takes the time the program prints itself; both are recorded, with
//! the CPU time of the program and everything it started (how many CPUs it kept busy).
//!
//! Threads and processes: the program runs in `hpc-tutor run`'s own process group, so a
//! Ctrl-C at the terminal or the tutor stopping the run reaches it too; at its deadline, or
//! when the run is cancelled, the program and every process below it get SIGTERM, then
//! SIGKILL a second later. MPI: the launcher runs tied to this process in a group of its own,
//! and is stopped like the launcher of the built-in experiments' ranks.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;
use nix::unistd::Pid;
use regex::Regex;

use super::launch::{
    Launcher, alive, check_launcher, descendants, launcher_args, stop_launch, tied_launch,
};
use crate::experiment::{Backend, ParamError, Params};
use crate::kernel::{Kernel, Output, Outputs, OutputsExt};
use crate::measure::protocol::{Executor, PointSpec, RunError};

/// What `{workers}` in a command is replaced with: the point's worker count.
pub const PLACEHOLDER: &str = "{workers}";

/// The environment variable every run of a program gets: its worker count.
pub const WORKERS_VAR: &str = "HPC_TUTOR_WORKERS";

/// The variables through which threading libraries learn how many threads to start:
/// OpenMP, rayon, Numba, MKL and OpenBLAS. A threads run sets them to the worker count; a
/// processes or MPI run to 1, so that library threads do not multiply with the processes.
pub const THREAD_VARS: [&str; 5] = [
    "OMP_NUM_THREADS",
    "RAYON_NUM_THREADS",
    "NUMBA_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
];

/// Lines of a program's output kept for messages and the end record.
const TAIL_LINES: usize = 12;

/// How long a program gets between SIGTERM and SIGKILL when it is stopped.
const GRACE: Duration = Duration::from_secs(1);

/// How long to wait, after the program ended, for the rest of its output (a process it left
/// behind may hold the pipe open).
const OUTPUT_WAIT: Duration = Duration::from_secs(2);

/// A parameter error of `name`, which was given as `given`.
fn param_error(name: &str, given: &str, allowed: impl Into<String>) -> ParamError {
    ParamError::Invalid {
        name: name.to_owned(),
        given: given.to_owned(),
        allowed: allowed.into(),
    }
}

/// The syntax of a program run's parameters, checkable on any machine: the command splits
/// into words (quotes closed), and the time pattern is a regular expression with a group.
/// An empty command passes here (a form starts empty); a run asks for one.
pub fn check_params(params: &Params) -> Result<(), ParamError> {
    let command = params.text("command").unwrap_or_default();
    if params.choice("shell") != Some("on") {
        shell_words::split(command).map_err(|_| {
            param_error(
                "command",
                command,
                "words as a shell splits them: a quote is missing its closing partner",
            )
        })?;
    }
    let pattern = params.text("time_from").unwrap_or_default();
    if !pattern.is_empty() {
        time_pattern(pattern)?;
    }
    Ok(())
}

/// The time pattern `text`, compiled; it must have a group around the number.
fn time_pattern(text: &str) -> Result<Regex, ParamError> {
    let re = Regex::new(text).map_err(|e| {
        let why = e.to_string();
        let last = why.lines().last().unwrap_or("").trim().to_owned();
        param_error("time_from", text, format!("a regular expression ({last})"))
    })?;
    if re.captures_len() < 2 {
        return Err(param_error(
            "time_from",
            text,
            "a regular expression with a group around the seconds, e.g. 'Execution time: ([0-9.]+)'",
        ));
    }
    Ok(re)
}

/// Words joined into one shell line, each quoted only when it needs to be
/// ([`shell_word`](crate::cluster::jobscript::shell_word)); `{workers}` counts as safe.
pub fn join_words<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> String {
    use crate::cluster::jobscript::shell_word;
    words
        .into_iter()
        .map(|w| {
            let w = w.as_ref();
            let plain = w.replace(PLACEHOLDER, "N");
            if !plain.is_empty() && shell_word(&plain) == plain {
                w.to_owned()
            } else {
                shell_word(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A program run, ready to start for any worker count.
#[derive(Debug, Clone)]
pub struct ProgramSpec {
    /// The command as given.
    pub command: String,
    /// Its words (for `shell = off`).
    words: Vec<String>,
    /// Run through `sh -c`.
    shell: bool,
    /// The pattern of the time the program prints.
    time_from: Option<Regex>,
    /// Threads, processes or MPI ranks.
    pub backend: Backend,
    /// Which program starts MPI ranks.
    pub launcher: Launcher,
    /// CPUs available here.
    pub cpus: usize,
    /// The longest one run may take.
    pub deadline: Duration,
}

impl ProgramSpec {
    /// The program run that `params` (of the `program` experiment) describe.
    pub fn new(
        params: &Params,
        backend: Backend,
        launcher: Launcher,
        cpus: usize,
        deadline: Duration,
    ) -> Result<Self, String> {
        check_params(params).map_err(|e| e.to_string())?;
        let command = params.text("command").unwrap_or_default().to_owned();
        let shell = params.choice("shell") == Some("on");
        let words = if shell {
            Vec::new()
        } else {
            shell_words::split(&command).map_err(|e| e.to_string())?
        };
        let time_from = match params.text("time_from").unwrap_or_default() {
            "" => None,
            p => Some(time_pattern(p).map_err(|e| e.to_string())?),
        };
        Ok(Self {
            command,
            words,
            shell,
            time_from,
            backend,
            launcher,
            cpus,
            deadline,
        })
    }

    /// The program's own words for `workers` workers: `{workers}` replaced.
    pub fn program_argv(&self, workers: usize) -> Vec<String> {
        let n = workers.to_string();
        if self.shell {
            vec![
                "sh".to_owned(),
                "-c".to_owned(),
                self.command.replace(PLACEHOLDER, &n),
            ]
        } else {
            self.words
                .iter()
                .map(|w| w.replace(PLACEHOLDER, &n))
                .collect()
        }
    }

    /// The whole command line for `workers` workers: for MPI the launcher's part first.
    pub fn argv(&self, workers: usize) -> Vec<String> {
        let mut argv = match self.backend {
            Backend::Mpi => launcher_args(self.launcher, workers, self.cpus, 1),
            Backend::Threads | Backend::Processes => Vec::new(),
        };
        argv.extend(self.program_argv(workers));
        argv
    }

    /// The threads each process of a run on `workers` workers is told to start.
    fn threads(&self, workers: usize) -> usize {
        match self.backend {
            Backend::Threads => workers,
            Backend::Processes | Backend::Mpi => 1,
        }
    }

    /// The environment a run on `workers` workers adds.
    pub fn env(&self, workers: usize) -> Vec<(&'static str, String)> {
        let threads = self.threads(workers);
        THREAD_VARS
            .iter()
            .map(|v| (*v, threads.to_string()))
            .chain([(WORKERS_VAR, workers.to_string())])
            .collect()
    }

    /// The exact command line of a run on `workers` workers as a shell would take it, with
    /// the thread-count variables in front: what is shown before it runs.
    pub fn shown(&self, workers: usize) -> String {
        format!(
            "OMP_NUM_THREADS={} … {}",
            self.threads(workers),
            join_words(self.argv(workers))
        )
    }

    /// Whether the program's time is the one it prints.
    pub fn timed_by_program(&self) -> bool {
        self.time_from.is_some()
    }

    /// Checks what can be checked before the sweep starts: the program exists and may be
    /// run, a processes run tells the program how many processes to start, and the MPI
    /// launcher is there.
    pub fn preflight(&self) -> Result<(), String> {
        if self.command.trim().is_empty() {
            return Err("--exec: the command is empty".to_owned());
        }
        let first = if self.shell {
            "sh".to_owned()
        } else {
            self.words.first().cloned().unwrap_or_default()
        };
        resolve(&first)?;
        if self.backend == Backend::Processes
            && !self.command.contains(PLACEHOLDER)
            && !self.command.contains(WORKERS_VAR)
        {
            return Err(format!(
                "--backend processes: the command has no {PLACEHOLDER}, so the program cannot know how many processes to start; put {PLACEHOLDER} where it takes that number (e.g. --exec 'python3 pool.py --workers {PLACEHOLDER}'), or read ${WORKERS_VAR} with --shell"
            ));
        }
        if self.backend == Backend::Mpi {
            check_launcher(self.launcher).map_err(|e| e.to_string())?;
        }
        Ok(())
    }
}

/// Where program `name` is: a path (with a `/`) as it is, else the first match on `PATH`;
/// it must be a file this user may run.
pub fn resolve(name: &str) -> Result<PathBuf, String> {
    let executable = |p: &Path| {
        p.metadata()
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if name.contains('/') {
        let p = Path::new(name);
        if !p.exists() {
            return Err(format!("--exec: `{name}` does not exist"));
        }
        if !executable(p) {
            return Err(format!(
                "--exec: `{name}` is not an executable file: make it one (chmod +x {name}) or run it through its interpreter (e.g. --exec 'python3 {name}')"
            ));
        }
        return Ok(p.to_path_buf());
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| executable(p))
        })
        .ok_or_else(|| {
            let hint = if name.starts_with("python") {
                " (Debian: apt-get install python3; on a cluster: module load python)"
            } else {
                ""
            };
            format!("--exec: `{name}` was not found on PATH{hint}")
        })
}

/// What one run of the program left: its exit, times and output.
struct Finished {
    status: ExitStatus,
    wall_s: f64,
    cpu_s: Option<f64>,
    /// The first group of the time pattern's first match.
    matched: Option<String>,
    tail: Vec<String>,
}

/// Runs a program once per run of a point. See the module documentation.
pub struct ProgramExecutor {
    spec: ProgramSpec,
    /// Set by a signal: stop the program at once.
    cancel: Option<Arc<AtomicBool>>,
    /// The last lines the last run printed.
    last_output: Vec<String>,
}

impl ProgramExecutor {
    /// An executor of `spec`.
    pub fn new(spec: ProgramSpec) -> Self {
        Self {
            spec,
            cancel: None,
            last_output: Vec::new(),
        }
    }

    /// Stops the program as soon as `cancel` is set.
    pub fn with_cancel(mut self, cancel: Arc<AtomicBool>) -> Self {
        self.cancel = Some(cancel);
        self
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_deref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// Starts the program for `workers` workers and waits for it, within the deadline.
    fn run_once(&mut self, workers: usize) -> Result<Finished, RunError> {
        let mpi = self.spec.backend == Backend::Mpi;
        let argv = self.spec.argv(workers);
        let mut cmd = if mpi {
            // The launcher runs tied to this process, in a group of its own (see
            // `tied_launch`); the ranks die with it.
            let exe = std::env::current_exe()
                .map_err(|e| RunError::Failed(format!("cannot find hpc-tutor: {e}")))?;
            tied_launch(&exe, &argv, self.spec.launcher)
        } else {
            let mut cmd = Command::new(&argv[0]);
            cmd.args(&argv[1..]);
            cmd
        };
        cmd.envs(self.spec.env(workers))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let before = children_cpu_s();
        let start = Instant::now();
        let mut child = cmd.spawn().map_err(|e| {
            RunError::Failed(format!(
                "cannot start `{}`: {e}",
                self.spec.program_argv(workers)[0]
            ))
        })?;
        let pid = child.id() as i32;

        // Both pipes are read line by line: the time pattern's first match, and the tail.
        let matched: Arc<Mutex<Option<String>>> = Arc::new(Mutex::new(None));
        let tail: Arc<Mutex<VecDeque<String>>> = Arc::new(Mutex::new(VecDeque::new()));
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let mut readers = 0;
        let pipes: [Option<Box<dyn std::io::Read + Send>>; 2] = [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
        ];
        for pipe in pipes.into_iter().flatten() {
            let (matched, tail, done) = (Arc::clone(&matched), Arc::clone(&tail), done_tx.clone());
            let pattern = self.spec.time_from.clone();
            let spawned = std::thread::Builder::new()
                .name("program-output".to_owned())
                .spawn(move || {
                    read_lines(pipe, pattern.as_ref(), &matched, &tail);
                    let _ = done.send(());
                });
            if spawned.is_ok() {
                readers += 1;
            }
        }
        drop(done_tx);

        // The waiter takes the end time as soon as the program has ended.
        let (exit_tx, exit_rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("program-wait".to_owned())
            .spawn(move || {
                let status = child.wait();
                let _ = exit_tx.send((status, Instant::now()));
            })
            .map_err(|e| {
                stop_program(pid, mpi);
                RunError::Failed(format!("cannot wait for the program: {e}"))
            })?;

        let tail_now = |tail: &Mutex<VecDeque<String>>| -> Vec<String> {
            tail.lock()
                .map(|t| t.iter().cloned().collect())
                .unwrap_or_default()
        };
        let (status, end) = loop {
            match exit_rx.recv_timeout(Duration::from_millis(100)) {
                Ok((Ok(status), end)) => break (status, end),
                Ok((Err(e), _)) => {
                    return Err(RunError::Failed(format!(
                        "cannot wait for the program: {e}"
                    )));
                }
                Err(RecvTimeoutError::Timeout) => {
                    let late = start.elapsed() > self.spec.deadline;
                    if !late && !self.cancelled() {
                        continue;
                    }
                    stop_program(pid, mpi);
                    // The waiter reaps it.
                    let _ = exit_rx.recv_timeout(GRACE * 3);
                    self.last_output = tail_now(&tail);
                    if !late {
                        return Err(RunError::Failed("cancelled".to_owned()));
                    }
                    return Err(RunError::Failed(format!(
                        "`{}` did not end within the deadline of {:.1} s (--deadline): it and every process it started were stopped{}",
                        self.spec.command,
                        self.spec.deadline.as_secs_f64(),
                        output_note(&self.last_output)
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(RunError::Failed(
                        "lost track of the program (its waiter ended)".to_owned(),
                    ));
                }
            }
        };
        let wall_s = end.duration_since(start).as_secs_f64();
        // Ranks started by srun are slurmstepd's children: their CPU time never reaches us.
        let cpu_s = match (before, children_cpu_s()) {
            (Some(b), Some(a)) if a >= b && !(mpi && self.spec.launcher == Launcher::Srun) => {
                Some(a - b)
            }
            _ => None,
        };
        // The rest of the output, unless something the program left holds the pipes open.
        let until = Instant::now() + OUTPUT_WAIT;
        for _ in 0..readers {
            if done_rx
                .recv_timeout(until.saturating_duration_since(Instant::now()))
                .is_err()
            {
                break;
            }
        }
        if !mpi {
            // Whatever the program left behind in the background is stopped with it.
            for p in descendants(pid) {
                let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGKILL);
            }
        }
        let matched = matched.lock().ok().and_then(|m| m.clone());
        Ok(Finished {
            status,
            wall_s,
            cpu_s,
            matched,
            tail: tail_now(&tail),
        })
    }
}

/// Reads `pipe` line by line (any bytes), keeping the time pattern's first match and the
/// last [`TAIL_LINES`] lines.
fn read_lines(
    pipe: impl std::io::Read,
    pattern: Option<&Regex>,
    matched: &Mutex<Option<String>>,
    tail: &Mutex<VecDeque<String>>,
) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if let Some(re) = pattern
            && let Ok(mut m) = matched.lock()
            && m.is_none()
            && let Some(c) = re.captures(line)
        {
            *m = c.get(1).map(|g| g.as_str().to_owned());
        }
        if let Ok(mut t) = tail.lock() {
            t.push_back(line.to_owned());
            while t.len() > TAIL_LINES {
                t.pop_front();
            }
        }
    }
}

/// `; its last output: a | b`, or nothing when it printed nothing.
fn output_note(tail: &[String]) -> String {
    let lines: Vec<&str> = tail
        .iter()
        .map(|l| l.trim())
        .filter(|l| !l.is_empty())
        .collect();
    let shown = &lines[lines.len().saturating_sub(5)..];
    if shown.is_empty() {
        "; it printed nothing".to_owned()
    } else {
        format!("; its last output: {}", shown.join(" | "))
    }
}

/// What to install when the output says a Python module is missing; when the command runs
/// `python3` from `PATH` (a pyenv or conda one, say) and Debian's `/usr/bin/python3` has the
/// module, that it does.
fn missing_module_hint(tail: &[String], command: &str) -> Option<String> {
    let line = tail
        .iter()
        .find(|l| l.contains("ModuleNotFoundError: No module named"))?;
    let module = line.split('\'').nth(1)?.split('.').next()?;
    let first = command.split_whitespace().next().unwrap_or_default();
    let debian = "/usr/bin/python3";
    let elsewhere = (first == "python3" || first == "python")
        && Path::new(debian).exists()
        && Command::new(debian)
            .args(["-c", &format!("import {module}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
    Some(format!(
        "; the Python module `{module}` is missing for this interpreter: Debian: apt-get install python3-{}; pip: pip install --user {module}; on a cluster: module load a Python that has it{}",
        module.to_lowercase(),
        if elsewhere {
            format!("; {debian} has it: run the command with {debian} instead of {first}")
        } else {
            String::new()
        }
    ))
}

/// The CPU time (user + system) of this process's children that have ended and been
/// waited for, in seconds (`getrusage(RUSAGE_CHILDREN)`).
fn children_cpu_s() -> Option<f64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let u = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    Some(secs(u.user_time()) + secs(u.system_time()))
}

/// Stops program `pid` and everything below it: an MPI launcher as [`stop_launch`] does;
/// otherwise SIGTERM to the program and its descendants, SIGKILL to whatever is still there
/// (looked up again) after [`GRACE`].
fn stop_program(pid: i32, mpi: bool) {
    if mpi {
        stop_launch(Pid::from_raw(pid));
        return;
    }
    let family = |pid: i32| {
        std::iter::once(pid)
            .chain(descendants(pid))
            .collect::<Vec<_>>()
    };
    let first = family(pid);
    for &p in &first {
        let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    let until = Instant::now() + GRACE;
    while Instant::now() < until && first.iter().any(|&p| alive(p)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut rest = family(pid);
    rest.extend(first);
    for p in rest {
        if alive(p) {
            let _ = nix::sys::signal::kill(Pid::from_raw(p), Signal::SIGKILL);
        }
    }
}

impl Executor for ProgramExecutor {
    /// Nothing to set up: each run starts the program, and its start-up is part of it.
    fn setup(&mut self, _point: &PointSpec<'_>) -> Result<f64, String> {
        Ok(0.0)
    }

    /// Each run is one whole program; a batch would hide its start-up.
    fn batches(&self) -> bool {
        false
    }

    fn run(&mut self, _kernel: &dyn Kernel, workers: usize) -> Result<(f64, Outputs), RunError> {
        let done = self.run_once(workers)?;
        self.last_output = done.tail.clone();
        if !done.status.success() {
            let how = match (done.status.code(), done.status.signal()) {
                (Some(c), _) => format!("exited with status {c}"),
                (None, Some(s)) => format!(
                    "was killed by signal {s}{}",
                    Signal::try_from(s)
                        .map(|s| format!(" ({s})"))
                        .unwrap_or_default()
                ),
                (None, None) => "ended abnormally".to_owned(),
            };
            return Err(RunError::Failed(format!(
                "`{}` {how}{}{}",
                self.spec.command,
                output_note(&done.tail),
                missing_module_hint(&done.tail, &self.spec.command).unwrap_or_default()
            )));
        }
        let mut outputs = Outputs::new();
        outputs.set_output(Output::WallS, done.wall_s);
        if let Some(c) = done.cpu_s {
            outputs.set_output(Output::CpuS, c);
        }
        let seconds = match (&self.spec.time_from, done.matched) {
            (None, _) => done.wall_s,
            (Some(re), None) => {
                return Err(RunError::Failed(format!(
                    "the time pattern `{re}` (--time-from) matched no line of the output of `{}`{}",
                    self.spec.command,
                    output_note(&done.tail)
                )));
            }
            (Some(re), Some(text)) => match text.trim().parse::<f64>() {
                Ok(s) if s.is_finite() && s >= 0.0 => s,
                _ => {
                    return Err(RunError::Failed(format!(
                        "the time pattern `{re}` (--time-from) took `{text}` from the output, not a number of seconds"
                    )));
                }
            },
        };
        if self.spec.timed_by_program() {
            outputs.set_output(Output::ProgramS, seconds);
        }
        Ok((seconds, outputs))
    }

    fn output_tail(&self) -> Vec<String> {
        self.last_output.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::experiment::find;

    fn params(pairs: &[&str]) -> Result<Params, ParamError> {
        let e = find("program").expect("registered");
        Params::parse(
            e,
            &pairs.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>(),
        )
    }

    fn spec(pairs: &[&str], backend: Backend) -> ProgramSpec {
        ProgramSpec::new(
            &params(pairs).expect("valid"),
            backend,
            Launcher::Mpirun,
            2,
            Duration::from_secs(5),
        )
        .expect("a spec")
    }

    #[test]
    fn workers_replace_the_placeholder_and_set_the_thread_variables() {
        let s = spec(
            &["command=python3 'my prog.py' --n={workers} {workers}"],
            Backend::Threads,
        );
        assert_eq!(s.argv(4), ["python3", "my prog.py", "--n=4", "4"]);
        let env = s.env(4);
        assert!(env.contains(&("OMP_NUM_THREADS", "4".to_owned())));
        assert!(env.contains(&("OPENBLAS_NUM_THREADS", "4".to_owned())));
        assert!(env.contains(&(WORKERS_VAR, "4".to_owned())));
        assert_eq!(
            s.shown(4),
            "OMP_NUM_THREADS=4 … python3 'my prog.py' --n=4 4"
        );
        let p = spec(&["command=python3 pool.py {workers}"], Backend::Processes);
        assert!(p.env(3).contains(&("OMP_NUM_THREADS", "1".to_owned())));
        assert!(p.env(3).contains(&(WORKERS_VAR, "3".to_owned())));
        let m = spec(&["command=python3 pi.py 100"], Backend::Mpi);
        let argv = m.argv(3);
        assert_eq!(&argv[..3], ["mpirun", "-np", "3"]);
        assert!(argv.contains(&"--oversubscribe".to_owned()), "{argv:?}");
        assert!(argv.ends_with(&["python3".to_owned(), "pi.py".to_owned(), "100".to_owned()]));
        let sh = spec(
            &["command=echo $HPC_TUTOR_WORKERS | cat", "shell=on"],
            Backend::Threads,
        );
        assert_eq!(sh.argv(2), ["sh", "-c", "echo $HPC_TUTOR_WORKERS | cat"]);
    }

    #[test]
    fn bad_commands_and_patterns_are_named() {
        let e = params(&["command=python3 'unclosed"]).expect_err("quote");
        assert!(e.to_string().contains("parameter `command`"), "{e}");
        let e = params(&["command=true", "time_from=time: ([0-9"]).expect_err("regex");
        assert!(e.to_string().contains("parameter `time_from`"), "{e}");
        let e = params(&["command=true", "time_from=time: [0-9.]+"]).expect_err("no group");
        assert!(e.to_string().contains("a group around the seconds"), "{e}");
        assert!(params(&["command=true", "time_from=took ([0-9.]+) s"]).is_ok());

        let missing = spec(
            &["command=no-such-program-here {workers}"],
            Backend::Threads,
        );
        let e = missing.preflight().expect_err("not found");
        assert_eq!(e, "--exec: `no-such-program-here` was not found on PATH");
        let dir = tempfile::tempdir().expect("tempdir");
        let script = dir.path().join("job.sh");
        std::fs::write(&script, "echo hi\n").expect("write");
        let plain = spec(
            &[&format!("command={} {{workers}}", script.display())],
            Backend::Threads,
        );
        let e = plain.preflight().expect_err("not executable");
        assert!(e.contains("is not an executable file"), "{e}");
        let nothing = spec(&["command=./nothing-here"], Backend::Threads);
        assert!(
            nothing
                .preflight()
                .expect_err("missing")
                .contains("does not exist")
        );
        let no_n = spec(&["command=true"], Backend::Processes);
        let e = no_n.preflight().expect_err("no {workers}");
        assert!(e.contains("cannot know how many processes"), "{e}");
        assert!(
            spec(&["command=true {workers}"], Backend::Processes)
                .preflight()
                .is_ok()
        );
    }

    #[test]
    fn a_missing_python_module_says_what_to_install() {
        let tail = vec![
            "Traceback (most recent call last):".to_owned(),
            "ModuleNotFoundError: No module named 'mpi4py'".to_owned(),
        ];
        let hint = missing_module_hint(&tail, "/opt/python3 pi.py").expect("a hint");
        assert!(hint.contains("apt-get install python3-mpi4py"), "{hint}");
        assert!(hint.contains("pip install --user mpi4py"), "{hint}");
        assert_eq!(
            missing_module_hint(&["all fine".to_owned()], "python3"),
            None
        );
    }
}
