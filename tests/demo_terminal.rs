//! `hpc-tutor demo` in a real terminal (tmux), the way `tests/terminal.rs` drives the tutor:
//! the demo advances on its own, answers space, ←, p and n, a second terminal follows the
//! speaker notes, and `q` kills the run in progress and leaves the terminal as it was.
//!
//! Needs tmux; `tests/run.sh` installs it. Without it these tests fail with a message
//! saying so rather than passing silently.

mod common;

use std::time::{Duration, Instant};

use common::tmux::{Tmux, alive, children};

#[test]
fn the_demo_plays_answers_the_presenter_and_quits_cleanly() {
    let bin = env!("CARGO_BIN_EXE_hpc-tutor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demos/e2e.toml");
    let presenter = Tmux::start("presenter");
    let notes_file = presenter.file("notes.json");
    let d = presenter.dir.path().display();
    presenter.run(&format!(
        "stty -a > {d}/stty-before; '{bin}' demo '{script}' --notes-file '{}'; echo $? > {d}/exit; stty -a > {d}/stty-after",
        notes_file.display()
    ));

    // Autoplay: the first two captions go by on their own (1 s each).
    presenter.wait_for("First caption");
    presenter.wait_for("Second caption");
    let screen = presenter.wait_for("Third caption");
    assert!(screen.contains("3/6"), "{screen}");

    // A second terminal follows the speaker notes.
    let viewer = Tmux::start("notes");
    viewer.run(&format!(
        "'{bin}' demo --notes --notes-file '{}'",
        notes_file.display()
    ));
    viewer.wait_for("Notes of the third step.");
    viewer.wait_for("step 3 of 6");

    // `wait = "key"`: it stays.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(presenter.screen().contains("Third caption"));

    // n shows the notes over the stage, n again hides them.
    presenter.keys(&["n"]);
    presenter.wait_for("Notes of the third step.");
    presenter.keys(&["n"]);

    // Space goes on; p pauses the 2 s wait of the fourth step.
    presenter.keys(&["Space"]);
    presenter.wait_for("Fourth caption");
    presenter.keys(&["p"]);
    presenter.wait_for("paused");
    viewer.wait_for("paused");
    std::thread::sleep(Duration::from_millis(3000));
    let screen = presenter.screen();
    assert!(
        screen.contains("Fourth caption") && !screen.contains("Fifth caption"),
        "paused: {screen}"
    );
    presenter.keys(&["p"]);
    presenter.wait_for("Fifth caption");
    viewer.wait_for("Notes of the fifth step.");

    // ← goes back; autoplay brings the fifth step again after 2 s.
    presenter.keys(&["Left"]);
    presenter.wait_for("Fourth caption");
    presenter.wait_for("Fifth caption");

    // The last step runs an experiment for real.
    presenter.keys(&["Space"]);
    presenter.wait_for("running live");
    let demo = presenter.child_pid();
    assert!(!demo.is_empty(), "the demo runs");
    let runs = children(&demo);
    assert_eq!(runs.len(), 1, "one run process: {runs:?}");

    // q quits: exit status 0, the run is killed, the terminal is as before.
    presenter.keys(&["q"]);
    assert_eq!(presenter.wait_for_file("exit").trim(), "0");
    let start = Instant::now();
    while alive(&runs[0]) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the run is still there after q"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = presenter.wait_for_file("stty-before");
    let after = presenter.wait_for_file("stty-after");
    assert_eq!(before, after, "terminal settings are as before");
    let screen = presenter.wait_for("[tutor-shell]");
    assert!(!screen.contains("Fifth caption"), "{screen}");

    // The notes view says the demo ended, and quits with q.
    viewer.wait_for("the demo has ended");
    viewer.keys(&["q"]);
    viewer.wait_for("[tutor-shell]");
}
