//! The terminal interface: setup and guaranteed restore, the event loop, state and views.
//!
//! One thread owns the terminal and the [`App`]. Key presses, resizes and stop signals
//! arrive as [`Event`]s on one channel; the screen is redrawn only when an update says
//! something changed, so an idle tutor sleeps in `recv` and costs no CPU.

pub mod app;
pub mod experiment;
mod export;
pub mod markdown;
pub mod puzzle;
pub mod results;
pub mod theme;
pub mod view;

use std::io::IsTerminal;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Context;
use ratatui::crossterm::event as ct;

pub use app::{App, Effect, Event, StopSignal};

use crate::backend::child::Runs;
use crate::cluster::SystemInfo;
use crate::lesson::{LessonSet, LessonSource};
use crate::progress::ProgressStore;
use theme::Theme;

/// Reads the results files in `dir` for `--results` and merges them into sweeps; bad input
/// is one message (`path:line: message`) and exit status 2.
pub fn load_results(dir: &std::path::Path) -> Result<Vec<crate::measure::merge::Sweep>, String> {
    Ok(load_result_entries(dir)?
        .into_iter()
        .map(|e| e.sweep)
        .collect())
}

/// Like [`load_results`], each sweep with the run records of its files, newest first.
pub fn load_result_entries(dir: &std::path::Path) -> Result<Vec<results::ResultEntry>, String> {
    read_results_folder(dir).map(|f| f.entries)
}

/// What `--results DIR` found: the sweeps of the files that could be read, and the files
/// that could not.
#[derive(Debug)]
pub struct ResultsFolder {
    /// Each sweep with the run records of its files, newest first.
    pub entries: Vec<results::ResultEntry>,
    /// Why each unreadable file was left out, as `path:line: message`.
    pub skipped: Vec<String>,
}

/// Reads the results files in `dir`: the readable ones merged into sweeps, the others
/// listed. An error (for exit status 2) only when `dir` is no folder, holds no results file,
/// or none of them can be read.
pub fn read_results_folder(dir: &std::path::Path) -> Result<ResultsFolder, String> {
    use crate::measure::merge;
    if !dir.is_dir() {
        return Err(format!("--results: {} is not a folder", dir.display()));
    }
    let files = merge::files(&[dir.to_owned()]).map_err(|e| format!("--results: {e}"))?;
    if files.is_empty() {
        return Err(format!(
            "--results: no results files (.jsonl) in {}",
            dir.display()
        ));
    }
    let loaded = merge::load_each(&files);
    match loaded.skipped.as_slice() {
        [one] if loaded.inputs.is_empty() => return Err(format!("--results: {one}")),
        many if loaded.inputs.is_empty() => {
            return Err(format!(
                "--results: none of the {} results files in {} can be read:\n{}",
                many.len(),
                dir.display(),
                merge::list_skipped(many)
            ));
        }
        _ => {}
    }
    let sweeps = merge::merge(&loaded.inputs);
    Ok(ResultsFolder {
        entries: results::entries(&loaded.inputs, sweeps),
        skipped: loaded.skipped.iter().map(ToString::to_string).collect(),
    })
}

/// Opens the tutor on the results in `dir` (`hpc-tutor --results DIR`). Files that cannot
/// be read are listed on standard error (seen again after the tutor closes) and in the
/// status line.
pub fn run_results(source: LessonSource, dir: &std::path::Path) -> anyhow::Result<ExitCode> {
    let folder = match read_results_folder(dir) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("hpc-tutor: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let warning = match folder.skipped.as_slice() {
        [] => None,
        [one] => Some(format!("skipped a results file: {one}")),
        many => Some(format!(
            "skipped {} results files that cannot be read, e.g. {}; all are listed in the terminal after you quit",
            many.len(),
            many[0]
        )),
    };
    if !folder.skipped.is_empty() {
        eprintln!(
            "hpc-tutor: --results: skipped {} file(s) that cannot be read:",
            folder.skipped.len()
        );
        for s in &folder.skipped {
            eprintln!("  {s}");
        }
    }
    run_with(source, None, Some((dir, folder.entries, warning)))
}

/// Opens the tutor on the lessons of `source`, at lesson `open` if given.
pub fn run(source: LessonSource, open: Option<String>) -> anyhow::Result<ExitCode> {
    run_with(source, open, None)
}

/// The tutor, opened at lesson `open` or on the results read from a folder.
fn run_with(
    source: LessonSource,
    open: Option<String>,
    results: Option<(&std::path::Path, Vec<results::ResultEntry>, Option<String>)>,
) -> anyhow::Result<ExitCode> {
    let lessons = LessonSet::load(&source)?;
    if let Some(id) = &open
        && lessons.find(id).is_none()
    {
        let known: Vec<&str> = lessons.lessons.iter().map(|l| l.id.as_str()).collect();
        eprintln!(
            "hpc-tutor: --lesson: no lesson with id `{id}` (known: {})",
            known.join(", ")
        );
        return Ok(ExitCode::from(2));
    }
    let store = ProgressStore::default_location();
    let (progress, warning) = match &store {
        Some(s) => {
            let loaded = s.load();
            (loaded.progress, loaded.warning)
        }
        None => (
            Default::default(),
            Some("no home or state directory: progress will not be saved".to_owned()),
        ),
    };

    let store_of_results = crate::record::store::Store::default_location();
    let mut session = Session::open(
        "the tutor needs an interactive terminal; for scripts use `hpc-tutor lessons list` or `hpc-tutor --help`",
        store_of_results.clone(),
    )?;
    let lookups = Lookups::new(session.tx.clone(), store_of_results.clone());

    let size = session
        .terminal
        .size()
        .context("cannot read the terminal size")?;
    let mut app = App::new(
        lessons,
        progress,
        SystemInfo::detect(),
        Theme::from_env(),
        (size.width, size.height),
        open.as_deref(),
    )
    .with_store(store_of_results);
    // Job scripts run this very binary; sinfo is asked about the nodes when one is made.
    if let Some(exe) = std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
    {
        app.exe = exe.display().to_string();
    }
    // Asked once, off the UI thread: `sinfo` can take seconds when the controller is slow.
    app.node_cpus = None;
    let partition = app
        .system
        .allocation
        .as_ref()
        .and_then(|a| a.partition.clone());
    app.io.push(app::Io::NodeCpus(partition));
    let mut warning = warning;
    if let Some((dir, entries, skipped)) = results {
        app.open_results(dir, entries);
        warning = warning.or(skipped);
    }
    if let Some(w) = warning {
        app.set_status(w, true);
    }
    start_io(&mut app, &lookups);

    let Session {
        terminal, rx, runs, ..
    } = &mut session;
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        event_loop(terminal, &mut app, rx, store.as_ref(), runs, &lookups)
    }));
    match outcome {
        Ok(result) => {
            app.sync_progress();
            let unsaved = save(&mut app, store.as_ref());
            // Said on the normal screen, where it stays after the tutor is gone.
            drop(session);
            if let Some(e) = &unsaved {
                eprintln!("hpc-tutor: could not save progress: {e}");
            }
            match result? {
                0 if unsaved.is_some() => Ok(ExitCode::FAILURE),
                code => Ok(ExitCode::from(code)),
            }
        }
        Err(panic) => {
            // The panic hook has restored the terminal and printed the message; keep what the
            // learner did before passing the panic on.
            app.sync_progress();
            if let Some(e) = save(&mut app, store.as_ref()) {
                eprintln!("hpc-tutor: could not save progress: {e}");
            }
            std::panic::resume_unwind(panic)
        }
    }
}

/// The terminal session of a full-screen face (the tutor, the demo): one event channel
/// with signals and input on it, the background runs reporting to it, and the terminal,
/// restored on every way out — return, `?` errors, panics (ratatui's hook) — before the
/// runs are stopped.
pub struct Session {
    _restore: Restore,
    /// The terminal.
    pub terminal: ratatui::DefaultTerminal,
    /// Every event: keys, resizes, signals, runs, look-ups.
    pub rx: mpsc::Receiver<Event>,
    /// Where events are sent (for more senders, e.g. [`Lookups`]).
    pub tx: mpsc::Sender<Event>,
    /// Background runs (kept in `store`); a run still going is killed when the session ends.
    pub runs: Runs,
}

impl Session {
    /// Opens the session, or says `needs` when this is not an interactive terminal.
    pub fn open(needs: &str, store: Option<crate::record::store::Store>) -> anyhow::Result<Self> {
        if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
            anyhow::bail!("{needs}");
        }
        let (tx, rx) = mpsc::channel::<Event>();
        spawn_signal_thread(tx.clone())?;
        let runs = runs_to(tx.clone(), store);
        let terminal = ratatui::try_init().context("cannot set up the terminal")?;
        let restore = Restore;
        spawn_input_thread(tx.clone());
        Ok(Self {
            _restore: restore,
            terminal,
            rx,
            tx,
            runs,
        })
    }
}

/// Job control: hands the terminal back (cooked mode, main screen), stops this process as
/// SIGTSTP would have, and on `fg` (SIGCONT) takes the terminal again — raw mode, the
/// alternate screen, a full redraw. (signal-hook took SIGTSTP's default action away, so
/// the stop is SIGSTOP's.)
pub fn suspend(terminal: &mut ratatui::DefaultTerminal) -> anyhow::Result<()> {
    ratatui::restore();
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGSTOP).context("cannot stop")?;
    // Running again: raw mode, the alternate screen, and a new terminal whose empty
    // buffers make the next draw draw everything (ratatui's `init` would install its panic
    // hook once more on every resume).
    ratatui::crossterm::terminal::enable_raw_mode().context("cannot set up the terminal")?;
    ratatui::crossterm::execute!(
        std::io::stdout(),
        ratatui::crossterm::terminal::EnterAlternateScreen
    )
    .context("cannot set up the terminal")?;
    *terminal = ratatui::Terminal::new(ratatui::prelude::CrosstermBackend::new(std::io::stdout()))
        .context("cannot set up the terminal")?;
    Ok(())
}

/// Restores the terminal when dropped.
pub(crate) struct Restore;

impl Drop for Restore {
    fn drop(&mut self) {
        ratatui::restore();
    }
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    rx: &mpsc::Receiver<Event>,
    store: Option<&ProgressStore>,
    runs: &mut Runs,
    lookups: &Lookups,
) -> anyhow::Result<u8> {
    terminal.draw(|f| view::draw(app, f))?;
    while let Ok(event) = rx.recv() {
        if event == Event::Suspend {
            suspend(terminal)?;
        }
        match step(app, event, runs, lookups, store) {
            Next::Idle => continue,
            Next::Redraw => {}
            Next::Quit(code) => return Ok(code),
        }
        terminal.draw(|f| view::draw(app, f))?;
    }
    // Every sender is gone: input can no longer arrive.
    anyhow::bail!("lost the terminal's input")
}

/// Background runs that report to the tutor's event channel `tx`, kept in `store`.
pub fn runs_to(tx: mpsc::Sender<Event>, store: Option<crate::record::store::Store>) -> Runs {
    Runs::new(move |report| tx.send(Event::from(report)).is_ok(), store)
}

/// Carries out the app's slow work (store look-ups, [`app::Io`]) on worker threads; the
/// answers arrive on the event channel as [`Event::Loaded`].
pub struct Lookups {
    tx: mpsc::Sender<Event>,
    store: Option<crate::record::store::Store>,
}

impl Lookups {
    /// Look-ups in `store`, answered on `tx`.
    pub fn new(tx: mpsc::Sender<Event>, store: Option<crate::record::store::Store>) -> Self {
        Self { tx, store }
    }

    fn start(&self, io: app::Io) {
        let store = self.store.clone();
        let tx = self.tx.clone();
        let _ = std::thread::Builder::new()
            .name("lookup".into())
            .spawn(move || {
                let _ = tx.send(Event::Loaded(io.run(store.as_ref())));
            });
    }
}

/// Starts the slow work the app has asked for (store look-ups) on worker threads.
pub fn start_io(app: &mut App, lookups: &Lookups) {
    for io in app.take_io() {
        lookups.start(io);
    }
}

/// What the event loop does after [`step`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Nothing changed: wait for the next event.
    Idle,
    /// Draw the screen again.
    Redraw,
    /// Restore the terminal and exit with this status.
    Quit(u8),
}

/// One turn of the event loop, without the drawing: applies `event` to `app` and carries out
/// the effect (save progress, start or cancel a background run, export). The tutor's loop and
/// the walk-through tests (which drive every lesson with real runs, no terminal) share it.
pub fn step(
    app: &mut App,
    event: Event,
    runs: &mut Runs,
    lookups: &Lookups,
    store: Option<&ProgressStore>,
) -> Next {
    if let Event::Run(id, app::RunEvent::Exited { .. } | app::RunEvent::SpawnFailed(_)) = &event {
        runs.finished(*id);
    }
    let effect = app.update(event);
    start_io(app, lookups);
    match effect {
        Effect::None => return Next::Idle,
        Effect::Redraw => {}
        Effect::Save => {
            save(app, store);
        }
        Effect::Quit(code) => return Next::Quit(code),
        Effect::StartRun { id, request } => runs.start(id, &request.child_args()),
        Effect::CancelRun(id) => runs.cancel(id),
        Effect::Export => {
            let dir = app.work_dir.clone();
            match app.export_screen(&dir, None) {
                Ok(path) => app.set_status(format!("saved {}", path.display()), false),
                Err(e) => app.set_status(e.to_string(), true),
            }
        }
    }
    Next::Redraw
}

/// Saves progress; on failure says so in the status line and returns why (naming the file).
fn save(app: &mut App, store: Option<&ProgressStore>) -> Option<String> {
    let e = store?.save(&app.progress).err()?.to_string();
    app.set_status(format!("could not save progress: {e}"), true);
    Some(e)
}

/// Reads keys and resizes on a thread of its own and sends them as events.
pub(crate) fn spawn_input_thread(tx: mpsc::Sender<Event>) {
    std::thread::Builder::new()
        .name("input".into())
        .spawn(move || {
            loop {
                let event = match ct::read() {
                    Ok(ct::Event::Key(k)) => Event::Key(k),
                    Ok(ct::Event::Resize(w, h)) => Event::Resize(w, h),
                    Ok(_) => continue,
                    // A signal (a stop and `fg`) interrupted the wait: the terminal is fine.
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    // The terminal is gone (e.g. the ssh session closed): stop like SIGHUP.
                    Err(_) => Event::Signal(StopSignal::Hangup),
                };
                let stop = matches!(event, Event::Signal(_));
                if tx.send(event).is_err() || stop {
                    break;
                }
            }
        })
        .map(drop)
        .unwrap_or_else(|e| eprintln!("hpc-tutor: cannot start the input thread: {e}"));
}

/// Turns SIGINT, SIGTERM and SIGHUP into events.
pub(crate) fn spawn_signal_thread(tx: mpsc::Sender<Event>) -> anyhow::Result<()> {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGTSTP};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP, SIGTSTP])
        .context("cannot install signal handlers")?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            for sig in signals.forever() {
                let event = match sig {
                    SIGTSTP => Event::Suspend,
                    SIGINT => Event::Signal(StopSignal::Interrupt),
                    SIGHUP => Event::Signal(StopSignal::Hangup),
                    _ => Event::Signal(StopSignal::Terminate),
                };
                if tx.send(event).is_err() {
                    break;
                }
            }
        })
        .context("cannot start the signal thread")?;
    Ok(())
}
