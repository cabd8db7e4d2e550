//! Input files that are not what they should be: a named pipe (FIFO) or a device where a
//! results file, a demo script or a progress file belongs, a runaway line, a folder with one
//! bad file among good ones. Each is one clear message (or a listed file skipped), never a
//! hang, unbounded memory or a panic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

/// Long enough for a slow machine, short enough that a reader blocked on a FIFO fails the
/// test instead of hanging it.
const LIMIT: Duration = Duration::from_secs(20);

fn cmd(data: &Path) -> Command {
    let mut c = Command::cargo_bin("hpc-tutor").expect("binary built");
    c.env_remove("HPC_TUTOR_LESSONS")
        .env("HPC_TUTOR_DATA_DIR", data)
        .env("HPC_TUTOR_STATE_DIR", data)
        .timeout(LIMIT);
    c
}

fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
}

/// A good results file: the first task of the array-job fixture.
fn good_results() -> PathBuf {
    PathBuf::from("tests/fixtures/results/amdahl-array/amdahl-threads-1.jsonl")
}

#[test]
fn a_fifo_or_a_device_as_a_results_file_is_refused_at_once() {
    let data = tempfile::tempdir().expect("tmp");
    let fifo = data.path().join("pipe.jsonl");
    mkfifo(&fifo);
    for path in [fifo.as_path(), Path::new("/dev/zero")] {
        let what = if path == fifo {
            "a named pipe (FIFO), not a regular file"
        } else {
            "a character device, not a regular file"
        };
        cmd(data.path())
            .args(["export", "--run"])
            .arg(path)
            .arg("-o")
            .arg(data.path().join("x.png"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "{}: {what}",
                path.display()
            )));
        cmd(data.path())
            .args(["results", "merge"])
            .arg(path)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(what));
    }
}

#[test]
fn a_line_over_1_mib_is_refused_at_its_line() {
    let data = tempfile::tempdir().expect("tmp");
    let file = data.path().join("long.jsonl");
    let first = std::fs::read_to_string(good_results()).expect("fixture");
    let first = first.lines().next().expect("a line");
    std::fs::write(&file, format!("{first}\n{}\n", "x".repeat(2 << 20))).expect("write");
    cmd(data.path())
        .args(["export", "--run"])
        .arg(&file)
        .arg("-o")
        .arg(data.path().join("x.png"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:2: line longer than 1 MiB: not a results file",
            file.display()
        )));
}

#[test]
fn a_fifo_or_a_device_as_a_demo_script_is_refused_at_once() {
    let data = tempfile::tempdir().expect("tmp");
    let fifo = data.path().join("demo.toml");
    mkfifo(&fifo);
    cmd(data.path())
        .args(["demo", "--check"])
        .arg(&fifo)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{}:1: cannot read the script: a named pipe (FIFO), not a regular file",
            fifo.display()
        )));
    cmd(data.path())
        .args(["demo", "--check", "/dev/zero"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "/dev/zero:1: cannot read the script: a character device, not a regular file",
        ));
    let big = data.path().join("big.toml");
    let file = std::fs::File::create(&big).expect("create");
    file.set_len(17 << 20).expect("sparse file");
    cmd(data.path())
        .args(["demo", "--check"])
        .arg(&big)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "cannot read the script: larger than 16 MiB, the most read for a demo script",
        ));
}

#[test]
fn a_fifo_as_the_progress_file_is_a_warning_not_a_hang() {
    let data = tempfile::tempdir().expect("tmp");
    mkfifo(&data.path().join("progress.json"));
    let store = hpc_tutor::progress::ProgressStore::in_dir(data.path());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(store.load());
    });
    let loaded = rx.recv_timeout(LIMIT).expect("load returns");
    assert_eq!(loaded.progress, Default::default());
    let warning = loaded.warning.expect("a warning");
    assert!(
        warning.contains("a named pipe (FIFO), not a regular file"),
        "{warning}"
    );
}
#[test]
fn a_fifo_among_results_files_is_listed_not_waited_on() {
    let data = tempfile::tempdir().expect("tmp");
    let dir = data.path().join("results");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(good_results(), dir.join("a.jsonl")).expect("copy");
    mkfifo(&dir.join("b.jsonl"));
    let dir2 = dir.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(hpc_tutor::tui::load_results(&dir2));
    });
    let loaded = rx.recv_timeout(LIMIT).expect("load returns");
    assert_eq!(loaded.map(|s| s.len()), Ok(1));
}

/// A folder of results files: a good one, an empty one and one with a bad line.
fn mixed_folder(root: &Path) -> PathBuf {
    let dir = root.join("results");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::copy(good_results(), dir.join("a.jsonl")).expect("copy");
    std::fs::write(dir.join("b.jsonl"), "").expect("empty");
    let text = std::fs::read_to_string(good_results()).expect("fixture");
    let (first, rest) = text.split_once('\n').expect("lines");
    std::fs::write(dir.join("c.jsonl"), format!("{first}\nnot json\n{rest}")).expect("bad");
    dir
}

#[test]
fn results_merge_merges_the_good_files_and_lists_the_bad_ones() {
    let data = tempfile::tempdir().expect("tmp");
    let dir = mixed_folder(data.path());
    let out = cmd(data.path())
        .args(["results", "merge"])
        .arg(&dir)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "hpc-tutor results merge: skipped 2 file(s) that cannot be read:",
        ))
        .stderr(predicate::str::contains(format!(
            "  {}: empty: no records",
            dir.join("b.jsonl").display()
        )))
        .stderr(predicate::str::contains(format!(
            "  {}:2: ",
            dir.join("c.jsonl").display()
        )))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        text,
        std::fs::read_to_string(good_results()).expect("fixture")
    );
    // Only bad files: nothing to merge, each listed, exit 2.
    std::fs::remove_file(dir.join("a.jsonl")).expect("rm");
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&dir)
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains(
            "none of the 2 results files can be read:",
        ))
        .stderr(predicate::str::contains("b.jsonl: empty"));
}

#[test]
fn results_folder_opens_the_good_files_and_lists_the_bad_ones() {
    let data = tempfile::tempdir().expect("tmp");
    let dir = mixed_folder(data.path());
    let folder = hpc_tutor::tui::read_results_folder(&dir).expect("a good file");
    assert_eq!(folder.entries.len(), 1);
    assert_eq!(folder.skipped.len(), 2, "{:?}", folder.skipped);
    assert!(
        folder.skipped[0]
            .ends_with("b.jsonl: empty: no records (a job that ended before its first line?)")
    );
    // Past the files to the terminal check (no terminal here), the bad ones listed.
    cmd(data.path())
        .arg("--results")
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "hpc-tutor: --results: skipped 2 file(s) that cannot be read:",
        ))
        .stderr(predicate::str::contains("needs an interactive terminal"));
    std::fs::remove_file(dir.join("a.jsonl")).expect("rm");
    cmd(data.path())
        .arg("--results")
        .arg(&dir)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("none of the 2 results files in"));
}
