//! The command line through the real binary, with assert_cmd.

mod common;

use assert_cmd::Command;
use common::fixtures;
use predicates::prelude::*;

fn cmd() -> Command {
    let mut c = Command::cargo_bin("hpc-tutor").expect("binary built");
    c.env_remove("HPC_TUTOR_LESSONS");
    c
}

#[test]
fn lessons_list_prints_the_built_in_catalogue() {
    cmd()
        .args(["lessons", "list"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("ID"))
        .stdout(predicate::str::contains("amdahl"))
        .stdout(predicate::str::contains("Scaling"))
        .stdout(predicate::str::contains("Amdahl's law"));
}

#[test]
fn lessons_check_passes_on_the_shipped_lessons() {
    cmd()
        .args(["lessons", "check"])
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("no problems"));
    cmd()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lessons", "check", "lessons"])
        .assert()
        .success();
}

#[test]
fn lessons_check_reports_every_problem_and_exits_1() {
    let dir = fixtures("invalid");
    let out = cmd()
        .args(["lessons", "check"])
        .arg(&dir)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("11 problem(s) in 10 file(s)"))
        .get_output()
        .stdout
        .clone();
    let out = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 11, "{out}");
    let prefix = dir.display().to_string();
    for line in &lines {
        // path:line:col: message
        let rest = line.strip_prefix(&prefix).expect("starts with the path");
        let mut parts = rest.splitn(4, ':');
        let file = parts.next().expect("file");
        assert!(file.ends_with(".md"), "{line}");
        let l: usize = parts.next().expect("line").parse().expect("line number");
        let c: usize = parts.next().expect("col").parse().expect("column number");
        assert!(l >= 1 && c >= 1);
        assert!(!parts.next().expect("message").trim().is_empty());
    }
}

#[test]
fn lessons_folder_from_flag_or_environment() {
    cmd()
        .args(["lessons", "list", "--lessons"])
        .arg(fixtures("valid"))
        .assert()
        .success()
        .stdout(predicate::str::contains("alpha").and(predicate::str::contains("gamma")));
    cmd()
        .env("HPC_TUTOR_LESSONS", fixtures("valid"))
        .args(["lessons", "check"])
        .assert()
        .success()
        .stderr(predicate::str::contains("checked 3 lesson file(s)"));
    cmd()
        .env("HPC_TUTOR_LESSONS", fixtures("invalid"))
        .args(["lessons", "list"])
        .assert()
        .success()
        .stderr(predicate::str::contains("have problems"));
}

#[test]
fn missing_or_empty_lesson_folder_is_one_clear_error() {
    let empty = tempfile::tempdir().expect("tempdir");
    cmd()
        .args(["lessons", "check"])
        .arg(empty.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no lesson files"));
    cmd()
        .args(["lessons", "check", "/nonexistent/lessons"])
        .assert()
        .code(2)
        .stderr(
            "hpc-tutor: cannot read lesson folder /nonexistent/lessons: No such file or directory (os error 2)\n",
        );
}

/// `--lessons` (or HPC_TUTOR_LESSONS) on a folder that is not there: one message naming
/// where the folder was given, exit status 2, whatever the command.
#[test]
fn a_missing_lessons_folder_is_bad_input_said_once() {
    let said = "cannot read lesson folder /nope: No such file or directory (os error 2)\n";
    for args in [
        vec!["--lessons", "/nope"],
        vec!["--lessons", "/nope", "lessons", "list"],
        vec!["lessons", "list", "--lessons", "/nope"],
        vec!["--lessons", "/nope", "lessons", "check"],
        vec!["--lessons", "/nope", "demo", "--check"],
    ] {
        cmd()
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(format!("hpc-tutor: --lessons: {said}"));
    }
    cmd()
        .env("HPC_TUTOR_LESSONS", "/nope")
        .args(["lessons", "list"])
        .assert()
        .code(2)
        .stderr(format!("hpc-tutor: HPC_TUTOR_LESSONS: {said}"));
    // Set but empty is as unset: the built-in lessons.
    cmd()
        .env("HPC_TUTOR_LESSONS", "")
        .args(["lessons", "list"])
        .assert()
        .success()
        .stdout(predicate::str::contains("amdahl"));
    // --lesson and --results open the tutor: not with a command.
    cmd()
        .args(["--lesson", "amdahl", "lessons", "list"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--lesson opens the tutor: it cannot be used with a command",
        ));
}

/// A lesson file that cannot be read is a problem of its own, `path: message`, not a file
/// passed over in silence.
#[test]
fn broken_and_looping_symlinks_are_reported() {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in std::fs::read_dir(fixtures("valid")).expect("fixtures") {
        let f = f.expect("entry").path();
        std::fs::copy(&f, dir.path().join(f.file_name().expect("name"))).expect("copy");
    }
    std::os::unix::fs::symlink("gone.md", dir.path().join("dangling.md")).expect("symlink");
    std::os::unix::fs::symlink("loop.md", dir.path().join("loop.md")).expect("symlink");
    let shown = dir.path().display().to_string();
    cmd()
        .args(["lessons", "check"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(format!(
            "{shown}/dangling.md: broken symlink: gone.md does not exist\n\
             {shown}/loop.md: broken symlink: a loop of links\n"
        ))
        .stderr(predicate::str::contains("2 problem(s) in 2 file(s)"));
}

#[test]
fn usage_errors_exit_2() {
    cmd().arg("--bogus").assert().code(2);
    cmd().args(["lessons", "frobnicate"]).assert().code(2);
    cmd()
        .args(["--lesson", "no-such-lesson"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "no lesson with id `no-such-lesson`",
        ));
}

#[test]
fn help_and_version() {
    cmd()
        .arg("--version")
        .assert()
        .success()
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
    for args in [
        vec!["--help"],
        vec!["lessons", "--help"],
        vec!["lessons", "check", "--help"],
    ] {
        cmd()
            .args(&args)
            .assert()
            .success()
            .stdout(predicate::str::contains("Usage"));
    }
}

#[test]
fn the_tutor_without_a_terminal_says_so() {
    cmd()
        .assert()
        .code(1)
        .stderr(predicate::str::contains("needs an interactive terminal"));
}

/// The binary with standard output going to `out`, e.g. /dev/full or a pipe nobody reads.
fn run_into(args: &[&str], out: std::process::Stdio) -> std::process::Output {
    use assert_cmd::cargo::CommandCargoExt;
    // A data folder of its own: runs of other tests at the same time are not on its CPUs'
    // list of active runs (they would rightly be warned about on stderr).
    let data = tempfile::tempdir().expect("tempdir");
    std::process::Command::cargo_bin("hpc-tutor")
        .expect("binary built")
        .env_remove("HPC_TUTOR_LESSONS")
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(out)
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("runs")
}

const PRINTING: [&[&str]; 7] = [
    &["demo", "--print"],
    &["demo", "--check"],
    &["experiments"],
    &["lessons", "list"],
    &["slurm", "info"],
    &["--help"],
    &[
        "run",
        "mc-pi",
        "-p",
        "samples=1000",
        "--workers",
        "1",
        "--reps",
        "1",
        "--warmup",
        "0",
        "--no-store",
    ],
];

/// A full disk under standard output is one message and exit status 1, never a panic.
#[test]
fn output_that_cannot_be_written_is_one_message_and_status_1() {
    if !std::path::Path::new("/dev/full").exists() {
        eprintln!("NOTE: no /dev/full here; skipped");
        return;
    }
    for args in PRINTING {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .expect("/dev/full");
        let out = run_into(args, full.into());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(
            stderr.contains("hpc-tutor: cannot write to standard output: No space left on device"),
            "{args:?}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: one message: {stderr}");
    }
}

/// A reader that went away (`| head -1`) stops the output quietly with 141, as SIGPIPE
/// would.
#[test]
fn a_closed_pipe_stops_quietly_with_status_141() {
    for args in PRINTING {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = run_into(args, writer.into());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(141), "{args:?}: {stderr}");
        assert_eq!(stderr, "", "{args:?}");
    }
}
