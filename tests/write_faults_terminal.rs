//! The tutor in a real terminal (tmux) when its files cannot be written: a job script that
//! cannot be written whole leaves no file, and quitting with progress that cannot be saved
//! says so, naming the file, on the restored terminal.
//!
//! Needs tmux; `tests/run.sh` installs it. Without it these tests fail with a message
//! saying so rather than passing silently.

mod common;

use common::tmux::Tmux;

#[test]
fn a_job_script_that_cannot_be_written_whole_leaves_no_file() {
    let t = Tmux::start("jobscript-limit");
    let work = t.file("work");
    std::fs::create_dir_all(&work).expect("work folder");
    let lessons = std::fs::canonicalize(common::fixtures("valid")).expect("fixture folder");
    // A file size limit of 512 bytes under dash: the script is longer, so writing it fails
    // half-way as on a full disk (SIGXFSZ ignored: the write fails with EFBIG instead).
    t.run(&format!(
        "cd '{}'; sh -c \"trap '' XFSZ; ulimit -f 1; exec '{}' --lessons '{}' --lesson beta\"; echo $? > {}",
        work.display(),
        env!("CARGO_BIN_EXE_hpc-tutor"),
        lessons.display(),
        t.file("exit-js").display()
    ));
    t.wait_for("Practice");
    t.keys(&["x"]);
    t.keys(&["Enter"]);
    for _ in 0..8 {
        t.keys(&["BSpace"]);
    }
    t.keys(&["-l", "1,2"]);
    t.keys(&["Enter"]);
    t.keys(&["b"]);
    t.wait_for("sbatch");
    t.keys(&["w"]);
    // The status line says which file (cut to the terminal's width).
    let screen = t.wait_for("cannot write");
    assert!(
        screen.contains("work/amdahl-threads.sbatch: File"),
        "{screen}"
    );
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-js").trim(), "0");
    assert_eq!(
        common::names_in(&work),
        Vec::<String>::new(),
        "no cut-off script, no temporary file"
    );
}

#[test]
fn quitting_when_progress_cannot_be_saved_says_so_on_the_restored_terminal() {
    let t = Tmux::start("save-fails");
    // A state folder under a file cannot be made, for root too.
    std::fs::write(t.file("plain-file"), "not a folder").expect("file");
    let state = t.file("plain-file").join("state");
    t.run(&format!(
        "HPC_TUTOR_STATE_DIR='{}' '{}'; echo $? > {}",
        state.display(),
        env!("CARGO_BIN_EXE_hpc-tutor"),
        t.file("exit-q").display()
    ));
    t.wait_for("○ new");
    t.keys(&["q"]);
    assert_eq!(
        t.wait_for_file("exit-q").trim(),
        "1",
        "exit 1: progress was lost"
    );
    let screen = t.wait_for("[tutor-shell]");
    let expected = format!(
        "hpc-tutor: could not save progress: cannot write {}",
        state.join("progress.json").display()
    );
    // The line may wrap at the terminal's 100 columns.
    let joined: String = screen.lines().collect();
    assert!(joined.contains(&expected), "{screen}");
    assert!(
        !screen.contains("Lessons"),
        "on the normal screen: {screen}"
    );
}
