//! `hpc-tutor --results DIR` in a real terminal (tmux): two array-task files of one sweep,
//! measured by real runs, show as one merged sweep with both points; `q` restores the
//! terminal. Bad folders are refused before the terminal is touched.
//!
//! Needs tmux; `tests/run.sh` installs it.

mod common;

use common::tmux::Tmux;

#[test]
fn results_screen_shows_the_merged_sweep_and_q_restores_the_terminal() {
    let t = Tmux::start("results");
    let dir = std::fs::canonicalize("tests/fixtures/results/amdahl-array").expect("fixture");
    t.launch_tutor_with("r", &format!("--results '{}'", dir.display()));
    let list = t.wait_for("Results measured earlier");
    // One sweep of amdahl on threads, workers 1 and 2, from both files.
    assert!(list.contains("amdahl"), "{list}");
    assert!(list.contains("1,2"), "{list}");
    assert!(list.contains("2 files"), "{list}");
    assert!(
        list.contains("20261122-101036-25722") && list.contains("20261122-101033-25670"),
        "both run ids: {list}"
    );
    t.keys(&["Enter"]);
    let chart = t.wait_for("from batch jobs");
    assert!(chart.contains("Measured by batch jobs"), "{chart}");
    assert!(chart.contains("merged 2 runs"), "{chart}");
    // The time chart shows both measured points (the x axis has 1 and 2 workers).
    t.keys(&["v", "v"]);
    let time = t.wait_for("[time]");
    assert!(time.contains("amdahl · threads · batch"), "{time}");
    t.keys(&["Escape"]);
    t.wait_for("Enter charts");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-r").trim(), "0");
    assert_eq!(
        t.wait_for_file("stty-before-r"),
        t.wait_for_file("stty-after-r"),
        "terminal settings are as before"
    );
    let screen = t.wait_for("[tutor-shell]");
    assert!(!screen.contains("Results measured"), "{screen}");
}

#[test]
fn a_missing_results_folder_is_bad_input_before_the_terminal_is_touched() {
    let t = Tmux::start("results-bad");
    let missing = t.file("no-such-folder");
    t.launch_tutor_with(
        "b",
        &format!(
            "--results '{}' 2> {}",
            missing.display(),
            t.file("err").display()
        ),
    );
    assert_eq!(t.wait_for_file("exit-b").trim(), "2");
    let err = t.wait_for_file("err");
    assert!(err.contains("is not a folder"), "{err}");
    assert_eq!(
        t.wait_for_file("stty-before-b"),
        t.wait_for_file("stty-after-b")
    );
}
