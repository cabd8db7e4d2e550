//! The demo player stepped with a fake clock: autoplay, pause, next and previous, re-run,
//! live runs and their fallbacks, replay pacing, puzzles, exports and the notes state.

use std::time::{Duration, Instant};

use hpc_tutor::demo::player::{NotesState, Source, Stage};
use hpc_tutor::demo::script::Base;
use hpc_tutor::demo::{Capabilities, Command, FakeClock, Player, Script};
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::record::{EndRecord, Record, Status};
use hpc_tutor::tui::Event;
use hpc_tutor::tui::app::RunEvent;
use hpc_tutor::tui::experiment::RunState;
use hpc_tutor::tui::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent};

fn lessons() -> LessonSet {
    LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons")
}

fn script(text: &str) -> Script {
    Script::parse(
        text,
        "test.toml",
        &Base::Dir("tests/fixtures/demos/valid".into()),
        &lessons(),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

fn player_with(text: &str, caps: Capabilities) -> (Player, FakeClock) {
    let clock = FakeClock::new();
    let p = Player::new(
        script(text),
        lessons(),
        Theme::monochrome(),
        (100, 30),
        caps,
        Box::new(clock.clone()),
    );
    (p, clock)
}

fn player(text: &str) -> (Player, FakeClock) {
    player_with(text, Capabilities::everything())
}

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::from(code))
}

fn tick() -> Event {
    Event::Tick(Instant::now())
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// Moves the fake clock on and delivers the tick the event loop would.
fn wait(p: &mut Player, clock: &FakeClock, s: f64) -> Vec<Command> {
    clock.advance(secs(s));
    p.update(tick()).commands
}

const CAPTIONS: &str = r#"
[[step]]
caption = "one"
wait = 2
notes = "First notes."

[[step]]
caption = "two"
wait = 3

[[step]]
caption = "three"
wait = "key"

[[step]]
caption = "four"
wait = 1
"#;

#[test]
fn autoplay_advances_after_each_wait() {
    let (mut p, clock) = player(CAPTIONS);
    p.start();
    assert_eq!(p.current, 0);
    assert_eq!(p.deadline(), Some(secs(1.0)), "a tick for the countdown");
    assert_eq!(p.countdown(), Some(2));
    wait(&mut p, &clock, 1.9);
    assert_eq!(p.current, 0);
    wait(&mut p, &clock, 0.1);
    assert_eq!(p.current, 1, "after 2 s");
    wait(&mut p, &clock, 3.0);
    assert_eq!(p.current, 2);
    // `wait = "key"`: nothing timed, no ticks asked for.
    assert_eq!(p.deadline(), None);
    wait(&mut p, &clock, 100.0);
    assert_eq!(p.current, 2, "stays until a key");
    p.update(key(KeyCode::Char(' ')));
    assert_eq!(p.current, 3);
    wait(&mut p, &clock, 1.0);
    assert!(p.ended, "past the last step");
    assert_eq!(p.current, 3, "the last step stays on screen");
    assert_eq!(p.deadline(), None, "an ended demo is idle");
}

#[test]
fn pause_freezes_autoplay_until_resumed() {
    let (mut p, clock) = player(CAPTIONS);
    p.start();
    wait(&mut p, &clock, 1.5);
    p.update(key(KeyCode::Char('p')));
    assert!(p.paused());
    assert_eq!(p.deadline(), None, "no ticks while paused");
    wait(&mut p, &clock, 60.0);
    assert_eq!(p.current, 0, "paused: no advance");
    p.update(key(KeyCode::Char('p')));
    assert!(!p.paused());
    wait(&mut p, &clock, 0.4);
    assert_eq!(
        p.current, 0,
        "the half second left before the pause is still owed"
    );
    wait(&mut p, &clock, 0.1);
    assert_eq!(p.current, 1);
}

#[test]
fn next_and_previous_by_key() {
    let (mut p, _clock) = player(CAPTIONS);
    p.start();
    p.update(key(KeyCode::Right));
    assert_eq!(p.current, 1);
    p.update(key(KeyCode::Char(' ')));
    assert_eq!(p.current, 2);
    p.update(key(KeyCode::Left));
    assert_eq!(p.current, 1);
    p.update(key(KeyCode::Left));
    p.update(key(KeyCode::Left));
    assert_eq!(p.current, 0);
    assert!(p.status.is_some(), "says it is the first step");
    for _ in 0..5 {
        p.update(key(KeyCode::Char(' ')));
    }
    assert_eq!(p.current, 3);
    assert!(p.ended);
    p.update(key(KeyCode::Left));
    assert!(!p.ended);
    assert_eq!(p.current, 2);
}

#[test]
fn notes_are_shown_and_published() {
    let (mut p, _clock) = player(CAPTIONS);
    p.start();
    p.update(key(KeyCode::Char('n')));
    assert!(p.show_notes);
    let s: NotesState = p.notes_state();
    assert_eq!((s.step, s.steps), (1, 4));
    assert_eq!(s.notes.as_deref(), Some("First notes."));
    assert_eq!(s.caption.as_deref(), Some("one"));
    assert_eq!(s.next.as_deref(), Some("caption: two"));
    p.update(key(KeyCode::Char(' ')));
    assert!(p.show_notes, "stays open for the next step");
    assert_eq!(p.notes_state().notes, None);
    p.update(key(KeyCode::Esc));
    assert!(!p.show_notes);
}

#[test]
fn quitting_kills_the_run() {
    let (mut p, _clock) = player(
        r#"
[[step]]
run = "amdahl"
params = { work = 1000000 }
"#,
    );
    let start = p.start();
    assert!(matches!(
        start.commands.as_slice(),
        [Command::StartRun { id: 1, .. }]
    ));
    let out = p.update(key(KeyCode::Char('q')));
    assert_eq!(out.commands, [Command::CancelRun(1), Command::Quit(0)]);
}

fn end(status: Status) -> Event {
    Event::Run(
        1,
        RunEvent::Record(Box::new(Record::End(EndRecord {
            status,
            elapsed_s: 1.0,
            output: Vec::new(),
            message: None,
        }))),
    )
}

fn recording() -> Vec<Record> {
    hpc_tutor::record::store::load(std::path::Path::new(
        "tests/fixtures/demos/valid/amdahl-small.jsonl",
    ))
    .expect("fixture")
}

const RUN_THEN_CAPTION: &str = r#"
[[step]]
run = "amdahl"
workers = [1, 2]
reps = 2
params = { serial = 0.3, work = 1000000 }
replay_if_unavailable = "amdahl-small.jsonl"
wait = 2

[[step]]
caption = "after"
wait = "key"
"#;

#[test]
fn a_live_run_is_waited_for_then_held() {
    let (mut p, clock) = player(RUN_THEN_CAPTION);
    let out = p.start();
    match out.commands.as_slice() {
        [Command::StartRun { id: 1, args }] => {
            assert_eq!(&args[..2], ["run", "amdahl"]);
            assert!(args.ends_with(&["--format", "json", "--no-store"].map(str::to_owned)));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(p.deadline(), None, "a live run ticks by itself");
    wait(&mut p, &clock, 30.0);
    assert_eq!(p.current, 0, "still running");
    for r in recording().into_iter().take(3) {
        p.update(Event::Run(1, RunEvent::Record(Box::new(r))));
    }
    match p.stage() {
        Some(Stage::Run(r)) => {
            assert_eq!(r.records.len(), 3);
            assert!(matches!(
                r.source,
                Source::Live {
                    state: RunState::Running,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    p.update(end(Status::Ok));
    wait(&mut p, &clock, 1.9);
    assert_eq!(p.current, 0, "held 2 s after the end");
    wait(&mut p, &clock, 0.1);
    assert_eq!(p.current, 1);
    // The run's stage stays under the caption.
    assert!(matches!(p.stage(), Some(Stage::Run(_))));
}

#[test]
fn rerun_cancels_and_starts_again() {
    let (mut p, _clock) = player(RUN_THEN_CAPTION);
    p.start();
    let out = p.update(key(KeyCode::Char('r')));
    assert_eq!(out.commands.len(), 2, "{:?}", out.commands);
    assert_eq!(out.commands[0], Command::CancelRun(1));
    assert!(matches!(out.commands[1], Command::StartRun { id: 2, .. }));
    // Events of the cancelled run no longer change the stage.
    p.update(end(Status::Cancelled));
    match p.stage() {
        Some(Stage::Run(r)) => assert!(r.active(), "run 2 still going"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn leaving_a_run_step_kills_the_run_and_going_back_shows_what_it_had() {
    let (mut p, _clock) = player(RUN_THEN_CAPTION);
    p.start();
    let first = recording().into_iter().next().expect("run record");
    p.update(Event::Run(1, RunEvent::Record(Box::new(first))));
    let out = p.update(key(KeyCode::Char(' ')));
    assert_eq!(out.commands, [Command::CancelRun(1)]);
    assert_eq!(p.current, 1);
    let out = p.update(key(KeyCode::Left));
    assert!(out.commands.is_empty(), "no new run: {:?}", out.commands);
    match p.stage() {
        Some(Stage::Run(r)) => assert_eq!(r.records.len(), 1),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_live_run_falls_back_to_its_recording() {
    let (mut p, clock) = player(RUN_THEN_CAPTION);
    p.start();
    p.update(Event::Run(
        1,
        RunEvent::SpawnFailed("cannot start the run: no such file".into()),
    ));
    match p.stage() {
        Some(Stage::Run(r)) => match &r.source {
            Source::Replay { reason, label, .. } => {
                assert!(
                    reason
                        .as_deref()
                        .is_some_and(|w| w.contains("the live run failed: cannot start")),
                    "{reason:?}"
                );
                assert!(label.starts_with("replayed from amdahl-small.jsonl, recorded on "));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    wait(&mut p, &clock, 1000.0);
    assert_eq!(p.current, 1, "the replay ended and the hold passed");
}

#[test]
fn an_unavailable_mpi_run_replays_its_recording_at_the_recorded_pace() {
    let caps = Capabilities {
        mpi: Err("this hpc-tutor was built without MPI support".into()),
    };
    let (mut p, clock) = player_with(
        &std::fs::read_to_string("tests/fixtures/demos/valid/mpi-fallback.toml").expect("fixture"),
        caps,
    );
    let out = p.start();
    assert!(
        out.commands.is_empty(),
        "nothing started: {:?}",
        out.commands
    );
    let (replay, reason) = match p.stage() {
        Some(Stage::Run(r)) => match &r.source {
            Source::Replay { replay, reason, .. } => (replay.clone(), reason.clone()),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    assert_eq!(
        reason.as_deref(),
        Some("`mc-pi` on MPI cannot run here: this hpc-tutor was built without MPI support")
    );
    // Records arrive when the recording says; the player asks to be woken for each.
    let total = replay.records().len();
    let shown = |p: &Player| match p.stage() {
        Some(Stage::Run(r)) => r.records.len(),
        _ => 0,
    };
    assert_eq!(shown(&p), 1, "the run record at once");
    let mut wakeups = 0;
    while shown(&p) < total {
        let before = shown(&p);
        let at = replay.arrival(before).expect("arrival");
        assert_eq!(p.deadline(), Some(at), "woken when record {before} is due");
        let now = clock_now(&clock);
        if at > now + Duration::from_millis(1) {
            clock.advance(at - now - Duration::from_millis(1));
            p.update(tick());
            assert_eq!(shown(&p), before, "record {before} is not due yet");
        }
        clock.advance(at - clock_now(&clock));
        p.update(tick());
        let after = shown(&p);
        assert!(after > before, "record {before} due at {at:?} has arrived");
        assert!(
            (before..after).all(|i| replay.arrival(i).is_some_and(|t| t <= at)),
            "only records due by {at:?}"
        );
        wakeups += 1;
    }
    let samples = replay
        .records()
        .iter()
        .filter(|r| matches!(r, Record::Sample(_)))
        .count();
    assert_eq!(
        wakeups, samples,
        "one wake-up per sample; points come with them"
    );
    assert_eq!(p.current, 0);
    wait(&mut p, &clock, 1.0);
    assert_eq!(p.current, 1, "held 1 s after the replay");
}

fn clock_now(c: &FakeClock) -> Duration {
    use hpc_tutor::demo::Clock;
    c.now()
}

#[test]
fn replay_speed_and_pause() {
    let (mut p, clock) = player(
        r#"
[[step]]
replay = "amdahl-small.jsonl"
speed = 2
wait = "key"
"#,
    );
    p.start();
    let replay = match p.stage() {
        Some(Stage::Run(r)) => match &r.source {
            Source::Replay { replay, .. } => replay.clone(),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    let first_sample = replay.arrival(1).expect("sample");
    let shown = |p: &Player| match p.stage() {
        Some(Stage::Run(r)) => r.records.len(),
        _ => 0,
    };
    assert_eq!(shown(&p), 1, "the run record at once");
    p.update(key(KeyCode::Char('p')));
    clock.advance(first_sample * 10);
    p.update(tick());
    assert_eq!(shown(&p), 1, "paused replays wait");
    p.update(key(KeyCode::Char('p')));
    clock.advance(first_sample);
    p.update(tick());
    assert_eq!(shown(&p), 2);
    clock.advance(replay.length());
    p.update(tick());
    assert_eq!(shown(&p), replay.records().len());
}

#[test]
fn puzzles_step_by_their_schedule() {
    let (mut p, clock) = player(
        r#"
[[step]]
puzzle = "lost-update"
schedule = ["T1", "T2", "T1", "T1", "T2", "T2"]
tick = 1
wait = 2

[[step]]
caption = "done"
"#,
    );
    p.start();
    let taken = |p: &Player| match p.stage() {
        Some(Stage::Puzzle(z)) => (z.taken, z.view.solved),
        _ => (usize::MAX, false),
    };
    assert_eq!(taken(&p), (0, false));
    assert_eq!(p.deadline(), Some(secs(1.0)));
    wait(&mut p, &clock, 1.0);
    assert_eq!(taken(&p), (1, false));
    wait(&mut p, &clock, 4.5);
    assert_eq!(taken(&p), (5, false));
    wait(&mut p, &clock, 0.5);
    assert_eq!(taken(&p), (6, true), "the lost update: solved");
    wait(&mut p, &clock, 1.9);
    assert_eq!(p.current, 0);
    wait(&mut p, &clock, 0.1);
    assert_eq!(p.current, 1);
    // r on the puzzle starts it over.
    p.update(key(KeyCode::Left));
    p.update(key(KeyCode::Char('r')));
    assert_eq!(taken(&p), (0, false));
}

#[test]
fn exports_write_pngs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = FakeClock::new();
    let text = r#"
[[step]]
lesson = "amdahl"
wait = 0

[[step]]
replay = "amdahl-small.jsonl"
speed = 100
wait = 0

[[step]]
export = "chart"

[[step]]
export = "card"
wait = "key"
"#;
    let mut p = Player::new(
        script(text),
        lessons(),
        Theme::monochrome(),
        (100, 30),
        Capabilities::everything(),
        Box::new(clock.clone()),
    )
    .with_export_dir(dir.path());
    p.start();
    let mut exports = Vec::new();
    for _ in 0..20 {
        clock.advance(secs(1.0));
        for c in p.update(tick()).commands {
            if let Command::Export(i) = c {
                exports.push(p.export(i).expect("exported"));
            }
        }
    }
    assert_eq!(exports.len(), 2, "{exports:?}");
    assert!(
        exports[0]
            .file_name()
            .is_some_and(|n| n.to_string_lossy().ends_with("-speedup.png"))
    );
    assert!(exports[1].ends_with("amdahl.png"));
    for e in &exports {
        let bytes = std::fs::read(e).expect("written");
        assert!(bytes.starts_with(b"\x89PNG"), "{}", e.display());
    }
    assert!(
        p.status
            .as_ref()
            .is_some_and(|(m, _)| m.starts_with("saved "))
    );
}

#[test]
fn a_looping_demo_starts_over() {
    let (mut p, clock) = player(
        r#"
loop = true

[[step]]
caption = "a"
wait = 1

[[step]]
caption = "b"
wait = 1
"#,
    );
    p.start();
    wait(&mut p, &clock, 1.0);
    assert_eq!(p.current, 1);
    wait(&mut p, &clock, 1.0);
    assert_eq!(p.current, 0);
    assert!(!p.ended);
}

#[test]
fn a_replay_left_half_way_plays_again_from_its_start() {
    let (mut p, clock) = player(
        r#"
[[step]]
replay = "amdahl-small.jsonl"
wait = 1

[[step]]
caption = "next"
wait = "key"
"#,
    );
    p.start();
    let shown = |p: &Player| match p.stage_of(0) {
        Some(Stage::Run(r)) => r.records.len(),
        _ => 0,
    };
    let first_sample = match p.stage() {
        Some(Stage::Run(r)) => match &r.source {
            Source::Replay { replay, .. } => replay.arrival(1).expect("a sample"),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    clock.advance(first_sample);
    p.update(tick());
    assert_eq!(shown(&p), 2);
    p.update(key(KeyCode::Char(' ')));
    clock.advance(Duration::from_secs(600));
    p.update(tick());
    assert_eq!(p.current, 1);
    assert_eq!(shown(&p), 2, "left half-way");
    p.update(key(KeyCode::Left));
    assert_eq!(shown(&p), 1, "from the start again");
    assert_eq!(p.current, 0);
    assert!(p.deadline().is_some(), "replaying");
}
