//! The real binary in a real terminal (tmux): the terminal is restored after `q` and after
//! SIGTERM, progress survives SIGTERM, and a restart resumes at the same place.
//!
//! Needs tmux; `tests/run.sh` installs it. Without it these tests fail with a message
//! saying so rather than passing silently.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::tmux::{Tmux, alive, children};

#[test]
fn quit_restores_the_terminal() {
    let t = Tmux::start("quit");
    t.launch_tutor("q");
    t.wait_for("○ new");
    t.keys(&["?"]);
    t.wait_for("Keys: catalogue");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-q").trim(), "0");
    let before = t.wait_for_file("stty-before-q");
    let after = t.wait_for_file("stty-after-q");
    assert_eq!(
        before, after,
        "terminal settings are as before (echo, icanon, …)"
    );
    assert!(
        after.contains(" echo ") && after.contains(" icanon "),
        "{after}"
    );
    // Back on the normal screen: the shell's prompt, not the catalogue.
    let screen = t.wait_for("[tutor-shell]");
    assert!(!screen.contains("Lessons"), "{screen}");
}

/// Job control: `kill -TSTP` hands the terminal back to the shell in its normal mode; `fg`
/// brings the tutor back in raw mode, drawn again, its keys working.
#[test]
fn a_stop_and_fg_give_the_terminal_back_and_take_it_again() {
    let t = Tmux::start("tstp");
    // One command, not launch_tutor's list: bash would go on with the rest of a list when
    // one of its commands stops.
    t.run(&format!("'{}'", env!("CARGO_BIN_EXE_hpc-tutor")));
    t.wait_for("○ new");
    let pid = t.child_pid();
    assert!(!pid.is_empty(), "the tutor runs");
    let status = Command::new("kill")
        .args(["-TSTP", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    t.wait_for("Stopped");
    let d = t.file("stty-stopped");
    t.run(&format!("stty -a > '{}'", d.display()));
    let stopped = t.wait_for_file("stty-stopped");
    assert!(
        stopped.contains(" icanon ") && stopped.contains(" echo "),
        "the shell has its terminal back: {stopped}"
    );
    t.run("fg");
    t.wait_for("○ new");
    t.keys(&["?"]);
    t.wait_for("Keys: catalogue");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    t.wait_for("[tutor-shell]");
    let d = t.file("exit");
    t.run(&format!("echo $? > '{}'", d.display()));
    assert_eq!(t.wait_for_file("exit").trim(), "0");
}

#[test]
fn sigterm_restores_the_terminal_keeps_progress_and_resumes() {
    let t = Tmux::start("term");
    t.launch_tutor("1");
    t.wait_for("○ new");
    t.keys(&["Enter"]);
    t.wait_for("Practice");
    for _ in 0..3 {
        t.keys(&["j"]);
    }
    // Let the three keys be handled before the signal.
    std::thread::sleep(Duration::from_millis(300));
    let pid = t.child_pid();
    assert!(!pid.is_empty(), "the tutor runs");
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(t.wait_for_file("exit-1").trim(), "143", "128 + SIGTERM");
    assert_eq!(
        t.wait_for_file("stty-before-1"),
        t.wait_for_file("stty-after-1")
    );

    let progress = std::fs::read_to_string(t.state_dir().join("progress.json")).expect("saved");
    let v: serde_json::Value = serde_json::from_str(&progress).expect("json");
    assert_eq!(v["last_lesson"], "welcome");
    assert_eq!(v["lessons"]["welcome"]["scroll"], 3);

    // Starting again opens the same lesson.
    t.launch_tutor("2");
    let screen = t.wait_for("Practice");
    assert!(screen.contains("Welcome to hpc-tutor"), "{screen}");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-2").trim(), "0");
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(t.state_dir().join("progress.json")).expect("saved"),
    )
    .expect("json");
    assert_eq!(
        v["lessons"]["welcome"]["scroll"], 3,
        "same place after the restart"
    );
}

#[test]
fn runs_start_cancel_and_quitting_mid_run_leaves_nothing_behind() {
    let t = Tmux::start("runs");
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lessons/runs");
    t.launch_tutor_with("1", &format!("--lessons '{lessons}' --lesson slow"));
    t.wait_for("Practice");
    let tutor = t.child_pid();
    // r in the reader opens the experiment and starts the run.
    t.keys(&["r"]);
    t.wait_for("running: point");
    let kids = children(&tutor);
    assert_eq!(kids.len(), 1, "one run process: {kids:?}");
    let first = kids[0].clone();
    std::fs::read_to_string(format!("/proc/{first}/cmdline"))
        .map(|c| assert!(c.contains("amdahl"), "{c}"))
        .expect("cmdline");

    t.keys(&["c"]);
    t.wait_for("cancelled");
    let start = Instant::now();
    while alive(&first) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the cancelled run is still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(children(&tutor).is_empty());

    // Start again and quit mid-run.
    t.keys(&["r"]);
    t.wait_for("running: point");
    let second = children(&tutor);
    assert_eq!(second.len(), 1);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-1").trim(), "0");
    assert!(!alive(&second[0]), "quitting killed the run");
    assert_eq!(
        t.wait_for_file("stty-before-1"),
        t.wait_for_file("stty-after-1")
    );

    // Both runs are in the store, each ended as cancelled.
    let results = t.state_dir().join("results");
    let mut ends = Vec::new();
    for entry in std::fs::read_dir(&results).expect("results folder") {
        let recs = hpc_tutor::record::store::load(&entry.expect("entry").path()).expect("valid");
        if let Some(hpc_tutor::record::Record::End(e)) = recs.last() {
            ends.push(e.status);
        }
    }
    assert_eq!(ends, [hpc_tutor::record::Status::Cancelled; 2]);
}
