//! Background runs: `hpc-tutor run … --format json` as a child process in its own process
//! group, read line by line on a thread that reports each record (a [`Report`]) and appends
//! it to the results store as it arrives. The tutor, the demo and tests use it; it knows
//! nothing of them: whoever starts runs says where reports go.
//!
//! Cancel kills the child's whole process group; so does dropping [`Runs`] (quitting the
//! tutor, also after a panic). The child asks the kernel to kill it if the tutor dies
//! (`PR_SET_PDEATHSIG`), so even a `kill -9` of the tutor leaves nothing behind.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;

use crate::record::store::Store;
use crate::record::{EndRecord, Record, Status};

/// What a background run reports.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// A results record, in the order the run wrote them (boxed: records are large).
    Record(Box<Record>),
    /// A line that is not a record (shown as a warning).
    Invalid(String),
    /// The results are being kept in this file.
    Stored(PathBuf),
    /// The results cannot be kept (the run goes on).
    StoreFailed(String),
    /// The run process could not be started.
    SpawnFailed(String),
    /// The run process ended, with its exit status and the last lines of its error output.
    Exited {
        /// Exit status; `None` when killed by a signal.
        code: Option<i32>,
        /// Last lines of standard error.
        stderr: Vec<String>,
    },
}

/// Where a run is.
#[derive(Debug, Clone, PartialEq)]
pub enum RunState {
    /// Started; no record yet.
    Starting,
    /// Records are coming in.
    Running,
    /// The end record arrived (or was written for a killed run).
    Ended(Status),
    /// The process could not be started, or ended with an error.
    Failed(String),
}

impl RunState {
    /// Whether the run is still going.
    pub fn active(&self) -> bool {
        matches!(self, RunState::Starting | RunState::Running)
    }
}

/// What [`fold`] found worth telling beside the new state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Folded {
    /// A warning for the status line (a line that is not a record, results not kept).
    pub warning: Option<String>,
    /// The run's process is gone (it ended, or never started).
    pub exited: bool,
}

/// Applies one [`RunEvent`] to a run as the tutor and the demo keep it: its state, its
/// records, where it is stored and the last lines of its error output. One fold for every
/// face, so that a run ends, fails or is cancelled the same way on each.
pub fn fold(
    ev: RunEvent,
    state: &mut RunState,
    records: &mut Vec<Record>,
    stored: &mut Option<PathBuf>,
    stderr: &mut Vec<String>,
) -> Folded {
    let mut out = Folded::default();
    match ev {
        RunEvent::Record(r) => {
            let r = *r;
            if let Record::End(e) = &r {
                *state = if e.status == Status::Failed {
                    RunState::Failed(e.message.clone().unwrap_or_else(|| "the run failed".into()))
                } else {
                    RunState::Ended(e.status)
                };
            } else if *state == RunState::Starting {
                *state = RunState::Running;
            }
            records.push(r);
        }
        RunEvent::Invalid(line) => {
            out.warning = Some(format!(
                "the run printed a line that is not a record: {line}"
            ));
        }
        RunEvent::Stored(path) => *stored = Some(path),
        RunEvent::StoreFailed(e) => out.warning = Some(format!("results cannot be kept: {e}")),
        RunEvent::SpawnFailed(e) => {
            *state = RunState::Failed(e);
            out.exited = true;
        }
        RunEvent::Exited { code, stderr: tail } => {
            *stderr = tail;
            if state.active() {
                *state = RunState::Failed(format!(
                    "the run process ended (exit status {}) without an end record",
                    code.map_or("none".to_owned(), |c| c.to_string())
                ));
            }
            out.exited = true;
        }
    }
    out
}

/// What [`Runs`] tells whoever started them.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// Something happened to run `id`.
    Run(u64, RunEvent),
    /// A clock tick, once a second while a run goes (for its elapsed and remaining time).
    Tick(Instant),
}

/// Where reports go; `false` when nobody listens any more.
pub type Sink = Arc<dyn Fn(Report) -> bool + Send + Sync>;

/// Set in a child's environment: the child asks to die with its parent.
pub const PARENT_WATCH_ENV: &str = "HPC_TUTOR_DIE_WITH_PARENT";

/// Called early by `hpc-tutor run`: when started by the tutor, die with it.
pub fn die_with_parent_if_asked() {
    if std::env::var_os(PARENT_WATCH_ENV).is_some() {
        // Best effort: on failure the child still ends when its output pipe closes.
        let _ = nix::sys::prctl::set_pdeathsig(Signal::SIGKILL);
        // If the parent died before the call above, we were re-parented already.
        if nix::unistd::getppid() == Pid::from_raw(1) {
            std::process::exit(130);
        }
    }
}

struct Active {
    id: u64,
    reader: Option<std::thread::JoinHandle<()>>,
    child: Arc<Mutex<Child>>,
    pgid: Pid,
    cancelled: Arc<AtomicBool>,
}

/// The background runs of the tutor (at most one at a time).
pub struct Runs {
    sink: Sink,
    /// The `hpc-tutor` to start; `None`: this very binary.
    program: Option<std::path::PathBuf>,
    store: Option<Store>,
    active: Option<Active>,
}

impl Runs {
    /// Runs report to `sink`; records are kept in `store` when there is one.
    pub fn new(
        sink: impl Fn(Report) -> bool + Send + Sync + 'static,
        store: Option<Store>,
    ) -> Self {
        Self {
            sink: Arc::new(sink),
            program: None,
            store,
            active: None,
        }
    }

    /// Starts `program` instead of this binary: for tests, whose own binary is the test
    /// harness, to run the real `hpc-tutor` exactly as the tutor does.
    pub fn with_program(mut self, program: impl Into<std::path::PathBuf>) -> Self {
        self.program = Some(program.into());
        self
    }

    /// Starts `hpc-tutor <args>` as run `id`. Failure to start is reported as an event.
    pub fn start(&mut self, id: u64, args: &[String]) {
        self.cancel_active();
        let exe = match self.program.clone().map_or_else(std::env::current_exe, Ok) {
            Ok(e) => e,
            Err(e) => {
                let _ = (self.sink)(Report::Run(
                    id,
                    RunEvent::SpawnFailed(format!("cannot find the hpc-tutor binary: {e}")),
                ));
                return;
            }
        };
        let spawned = Command::new(exe)
            .args(args)
            .env(PARENT_WATCH_ENV, "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                let _ = (self.sink)(Report::Run(
                    id,
                    RunEvent::SpawnFailed(format!("cannot start the run: {e}")),
                ));
                return;
            }
        };
        // Both pipes were requested just above.
        let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
            let _ = child.kill();
            return;
        };
        // A child pid always fits in i32 on Linux.
        let pgid = Pid::from_raw(child.id() as i32);
        let child = Arc::new(Mutex::new(child));
        let cancelled = Arc::new(AtomicBool::new(false));
        let (stderr_tail, err_thread) =
            crate::backend::launch::keep_tail(stderr, 20, &format!("run-{id}-stderr"));

        let tx = Arc::clone(&self.sink);
        let store = self.store.clone();
        let waiter = Arc::clone(&child);
        let was_cancelled = Arc::clone(&cancelled);
        let started = Instant::now();
        let spawned = std::thread::Builder::new()
            .name(format!("run-{id}"))
            .spawn(move || {
                let mut writer = None;
                let mut ended = false;
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    match Record::from_line(&line) {
                        Ok(record) => {
                            if let (Record::Run(r), Some(store)) = (&record, &store) {
                                match store.create(&r.run_id) {
                                    Ok(w) => {
                                        let _ = tx(Report::Run(
                                            id,
                                            RunEvent::Stored(w.path().to_owned()),
                                        ));
                                        writer = Some(w);
                                    }
                                    Err(e) => {
                                        let _ = tx(Report::Run(
                                            id,
                                            RunEvent::StoreFailed(e.to_string()),
                                        ));
                                    }
                                }
                            }
                            if let Some(w) = writer.as_mut()
                                && let Err(e) = w.append(&record)
                            {
                                let _ = tx(Report::Run(id, RunEvent::StoreFailed(e.to_string())));
                                writer = None;
                            }
                            ended |= matches!(record, Record::End(_));
                            // The tutor may be quitting; keep storing what arrives anyway.
                            let _ = tx(Report::Run(id, RunEvent::Record(Box::new(record))));
                        }
                        Err(e) => {
                            let _ = tx(Report::Run(id, RunEvent::Invalid(format!("{e}: {line}"))));
                        }
                    }
                }
                if let Some(t) = err_thread {
                    let _ = t.join();
                }
                let code = waiter
                    .lock()
                    .ok()
                    .and_then(|mut c| c.wait().ok())
                    .and_then(|s| s.code());
                let stderr = stderr_tail.lock().map(|t| t.clone()).unwrap_or_default();
                if !ended {
                    // Killed or crashed before its end record: record how it ended, so the
                    // store says what happened to the partial results.
                    let cancelled = was_cancelled.load(Ordering::SeqCst);
                    let end = Record::End(EndRecord {
                        status: if cancelled {
                            Status::Cancelled
                        } else {
                            Status::Failed
                        },
                        elapsed_s: started.elapsed().as_secs_f64(),
                        output: Vec::new(),
                        message: Some(if cancelled {
                            "cancelled by the user".to_owned()
                        } else {
                            format!(
                                "the run process ended without finishing (exit status {}){}",
                                code.map_or("none: killed by a signal".to_owned(), |c| c
                                    .to_string()),
                                stderr.last().map(|l| format!(": {l}")).unwrap_or_default()
                            )
                        }),
                    });
                    if let Some(w) = writer.as_mut() {
                        let _ = w.append(&end);
                    }
                    let _ = tx(Report::Run(id, RunEvent::Record(Box::new(end))));
                }
                let _ = tx(Report::Run(id, RunEvent::Exited { code, stderr }));
            });
        let Ok(reader) = spawned else {
            let _ = killpg(pgid, Signal::SIGKILL);
            let _ = (self.sink)(Report::Run(
                id,
                RunEvent::SpawnFailed("cannot start a reader thread".to_owned()),
            ));
            return;
        };

        // A clock for the progress line, while the run lasts.
        let tx = Arc::clone(&self.sink);
        let ticking = Arc::clone(&child);
        let _ = std::thread::Builder::new()
            .name(format!("run-{id}-clock"))
            .spawn(move || {
                loop {
                    std::thread::sleep(Duration::from_secs(1));
                    let running = ticking
                        .lock()
                        .ok()
                        .is_some_and(|mut c| matches!(c.try_wait(), Ok(None)));
                    if !running || !tx(Report::Tick(Instant::now())) {
                        return;
                    }
                }
            });

        self.active = Some(Active {
            id,
            reader: Some(reader),
            child,
            pgid,
            cancelled,
        });
    }

    /// Kills run `id`'s whole process group.
    pub fn cancel(&mut self, id: u64) {
        if self.active.as_ref().is_some_and(|a| a.id == id) {
            self.cancel_active();
        }
    }

    fn cancel_active(&mut self) {
        if let Some(a) = self.active.take() {
            a.cancelled.store(true, Ordering::SeqCst);
            // SIGKILL the group: the child and anything it started. The reader thread
            // reaps the child and records the cancellation.
            let _ = killpg(a.pgid, Signal::SIGKILL);
            if let Ok(mut c) = a.child.lock() {
                let _ = c.try_wait();
            }
        }
    }

    /// Forgets a run that has ended by itself.
    pub fn finished(&mut self, id: u64) {
        if self.active.as_ref().is_some_and(|a| a.id == id) {
            self.active = None;
        }
    }
}

impl Drop for Runs {
    fn drop(&mut self) {
        if let Some(mut a) = self.active.take() {
            a.cancelled.store(true, Ordering::SeqCst);
            let _ = killpg(a.pgid, Signal::SIGKILL);
            // Let the reader store the cancellation before the tutor exits: the child is
            // dead, so its output ends at once.
            if let Some(r) = a.reader.take() {
                let _ = r.join();
            }
        }
    }
}
