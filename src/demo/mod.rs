//! Instructor demo mode: `hpc-tutor demo [SCRIPT]` plays a script of steps (lessons,
//! captions, puzzles played by a schedule, live runs, replays of recorded runs, exports) in
//! the terminal, advancing on its own, with presenter keys to step, pause and re-run.
//!
//! - [`script`] holds the TOML script format, parsed and checked with `path:line: message`
//!   errors;
//! - [`player`] holds the player's state, changed only by [`Player::update`] and timed by a
//!   [`clock::Clock`] (tests use a fake one);
//! - [`replay`] plays recorded runs back at the pace they were measured;
//! - [`view`] draws;
//! - [`notes`] keeps the speaker notes file and runs `hpc-tutor demo --notes`.
//!
//! Live runs use the tutor's machinery ([`crate::backend::child`]): a child process per run in
//! its own process group, its records arriving as events on the one channel, killed when
//! the step is left or the demo quits.

pub mod clock;
pub mod notes;
pub mod player;
pub mod replay;
pub mod script;
pub mod view;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Instant;

use anyhow::Context;

pub use clock::{Clock, FakeClock, SystemClock};
pub use player::{Capabilities, Command, Outcome, Player};
pub use script::{Script, ScriptError, ScriptErrors};

use crate::cli::DemoArgs;
use crate::lesson::{LessonSet, LessonSource};
use crate::tui::Event;
use crate::tui::theme::Theme;

/// Exit status for a script with problems.
const BAD_INPUT: u8 = 2;

/// `hpc-tutor demo`: plays, checks or prints a script, or follows a demo's notes.
pub fn command(source: &LessonSource, args: &DemoArgs) -> anyhow::Result<ExitCode> {
    if args.print {
        crate::stdout::print(script::DEFAULT_SCRIPT)?;
        return Ok(ExitCode::SUCCESS);
    }
    let notes_file = args.notes_file.clone().or_else(notes::default_path);
    if args.notes {
        let path = notes_file.context(
            "no place for the notes file: set XDG_RUNTIME_DIR or HPC_TUTOR_STATE_DIR, or give --notes-file",
        )?;
        return notes::follow(&path);
    }
    let lessons = LessonSet::load(source)?;
    let loaded = match &args.script {
        Some(p) => Script::load(p, &lessons),
        None => Script::built_in(&lessons),
    };
    let script = match loaded {
        Ok(s) => s,
        Err(errors) => {
            for e in &errors.0 {
                eprintln!("{e}");
            }
            return Ok(ExitCode::from(BAD_INPUT));
        }
    };
    if args.check {
        crate::stdout::print(&format!(
            "{}: {} steps, ok\n",
            script.name,
            script.steps.len()
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    present(script, lessons, notes_file)
}

/// Plays `script` full screen until the presenter quits.
fn present(
    script: Script,
    lessons: LessonSet,
    notes_file: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let mut session = crate::tui::Session::open(
        "the demo needs an interactive terminal; `--check` validates a script without one",
        crate::record::store::Store::default_location(),
    )?;
    let crate::tui::Session {
        terminal, rx, runs, ..
    } = &mut session;

    let size = terminal.size().context("cannot read the terminal size")?;
    let export_dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let mut player = Player::new(
        script,
        lessons,
        Theme::from_env(),
        (size.width, size.height),
        Capabilities::detect(),
        Box::new(SystemClock::new()),
    )
    .with_export_dir(export_dir);

    let mut published: Option<player::NotesState> = None;
    let result = (|| -> anyhow::Result<u8> {
        let first = player.start();
        if let Some(code) = carry_out(&mut player, first, runs, terminal)? {
            return Ok(code);
        }
        loop {
            publish(&player, notes_file.as_deref(), &mut published);
            let event = match player.deadline() {
                None => rx.recv().ok(),
                Some(at) => {
                    let wait = at.saturating_sub(player.clock_now());
                    match rx.recv_timeout(wait) {
                        Ok(e) => Some(e),
                        Err(RecvTimeoutError::Timeout) => Some(Event::Tick(Instant::now())),
                        Err(RecvTimeoutError::Disconnected) => None,
                    }
                }
            };
            let Some(event) = event else {
                anyhow::bail!("lost the terminal's input");
            };
            if let Event::Run(
                id,
                crate::tui::app::RunEvent::Exited { .. }
                | crate::tui::app::RunEvent::SpawnFailed(_),
            ) = &event
            {
                runs.finished(*id);
            }
            if event == Event::Suspend {
                crate::tui::suspend(terminal)?;
            }
            let out = player.update(event);
            if let Some(code) = carry_out(&mut player, out, runs, terminal)? {
                return Ok(code);
            }
        }
    })();
    if let (Some(path), Some(mut last)) = (notes_file.as_deref(), published) {
        last.ended = true;
        let _ = notes::publish(path, &last);
    }
    Ok(ExitCode::from(result?))
}

fn publish(player: &Player, path: Option<&Path>, last: &mut Option<player::NotesState>) {
    let Some(path) = path else {
        return;
    };
    let state = player.notes_state();
    if last.as_ref() != Some(&state) {
        // Best effort: the notes view is a convenience, the demo goes on without it.
        let _ = notes::publish(path, &state);
        *last = Some(state);
    }
}

/// Does what an update asked for; `Some(status)` to quit.
fn carry_out(
    player: &mut Player,
    out: Outcome,
    runs: &mut crate::backend::child::Runs,
    terminal: &mut ratatui::DefaultTerminal,
) -> anyhow::Result<Option<u8>> {
    let mut redraw = out.redraw;
    for c in out.commands {
        match c {
            Command::StartRun { id, args } => runs.start(id, &args),
            Command::CancelRun(id) => runs.cancel(id),
            Command::Export(step) => {
                let _ = player.export(step);
                redraw = true;
            }
            Command::Quit(code) => return Ok(Some(code)),
        }
    }
    if redraw {
        terminal.draw(|f| view::draw(player, f))?;
    }
    Ok(None)
}
