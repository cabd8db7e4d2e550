//! `hpc-tutor run --exec`: the learner's own program measured on threads, processes and MPI
//! ranks — small shell scripts and the course's Python programs shipped with the lessons —
//! the time pattern, failures, and a deadline that stops a program ignoring SIGTERM with
//! everything it started.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use common::{json_records as records, points};
use hpc_tutor::kernel::{Output, OutputsExt};
use hpc_tutor::record::{Record, RunRecord, Status};
use predicates::prelude::*;

/// Program runs one at a time: they would measure each other.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cmd(data: &Path) -> Command {
    let mut c = Command::cargo_bin("hpc-tutor").expect("binary built");
    c.env_remove("SLURM_JOB_ID")
        .env("HPC_TUTOR_DATA_DIR", data)
        .args(["run", "--format", "json", "--no-store"]);
    c
}

/// An executable script `name` in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).expect("write script");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

fn run_record(r: &[Record]) -> &RunRecord {
    match r.first() {
        Some(Record::Run(run)) => run,
        other => panic!("no run record first: {other:?}"),
    }
}

fn end(r: &[Record]) -> (Status, String, Vec<String>) {
    match r.last() {
        Some(Record::End(e)) => (
            e.status,
            e.message.clone().unwrap_or_default(),
            e.output.clone(),
        ),
        other => panic!("no end record last: {other:?}"),
    }
}

#[test]
fn a_threads_program_gets_its_worker_count_and_both_times_are_kept() {
    let _one = SERIAL.lock();
    let dir = tempfile::tempdir().expect("tempdir");
    // Fails unless the thread-count variables and {workers} agree; prints its own time.
    let s = script(
        dir.path(),
        "threads.sh",
        r#"[ "$OMP_NUM_THREADS" = "$1" ] && [ "$OPENBLAS_NUM_THREADS" = "$1" ] && [ "$HPC_TUTOR_WORKERS" = "$1" ] || { echo "got OMP_NUM_THREADS=$OMP_NUM_THREADS for $1"; exit 4; }
sleep 0.05
echo "compute took 0.0$1 s"
"#,
    );
    let out = cmd(dir.path())
        .args(["--exec", &format!("{} {{workers}}", s.display())])
        .args(["--workers", "1,2", "--reps", "3", "--warmup", "0"])
        .args(["--time-from", r"took ([0-9.]+) s"])
        .assert()
        .success()
        .stderr(predicate::str::contains("each run: OMP_NUM_THREADS=1"))
        .get_output()
        .stdout
        .clone();
    let r = records(&out);
    let run = run_record(&r);
    assert_eq!(
        (run.experiment.as_str(), run.backend.as_str()),
        ("program", "threads")
    );
    assert_eq!(
        run.params["command"],
        format!("{} {{workers}}", s.display())
    );
    assert_eq!(run.params["time_from"], r"took ([0-9.]+) s");
    let p = points(&r);
    assert_eq!(p.len(), 2);
    for (point, own) in p.iter().zip([0.01, 0.02]) {
        // The time is what the program printed; the wall time is the whole process.
        assert_eq!(point.median_s, own, "{point:?}");
        assert_eq!(point.outputs.output(Output::ProgramS), Some(own));
        let wall = point.outputs.output(Output::WallS).expect("wall time");
        assert!((0.05..5.0).contains(&wall), "{wall}");
        assert!(point.outputs.output(Output::CpuS).is_some());
    }
    assert_eq!(p[1].speedup, Some(0.5));
    assert_eq!(end(&r).0, Status::Ok);
    assert_eq!(
        end(&r).2.last().map(String::as_str),
        Some("compute took 0.02 s")
    );
}

#[test]
fn a_processes_program_gets_one_thread_per_process_and_must_take_the_count() {
    let _one = SERIAL.lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(
        dir.path(),
        "pool.sh",
        r#"[ "$OMP_NUM_THREADS" = 1 ] && [ "$HPC_TUTOR_WORKERS" = "$2" ] || exit 5
i=0; while [ $i -lt "$2" ]; do sleep 0.02 & i=$((i+1)); done; wait
"#,
    );
    let out = cmd(dir.path())
        .args(["--exec", &format!("{} --workers {{workers}}", s.display())])
        .args([
            "--backend",
            "processes",
            "--workers",
            "1,2,3",
            "--reps",
            "2",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let r = records(&out);
    let p = points(&r);
    assert_eq!(p.iter().map(|p| p.workers).collect::<Vec<_>>(), [1, 2, 3]);
    // Without a time pattern the time is the wall time, and nothing else is claimed.
    for point in &p {
        assert_eq!(point.outputs.output(Output::WallS), Some(point.median_s));
        assert_eq!(point.outputs.output(Output::ProgramS), None);
    }
    assert!(p[2].oversubscribed, "3 processes on 2 CPUs are labelled");

    cmd(dir.path())
        .args(["--exec", &s.display().to_string(), "--backend", "processes"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "the command has no {workers}, so the program cannot know how many processes to start",
        ));
}

#[test]
fn failures_end_the_run_with_the_reason_and_the_output() {
    let _one = SERIAL.lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(
        dir.path(),
        "fail.sh",
        "echo first line\n[ \"$1\" = 2 ] && { echo 'broke on two' >&2; exit 3; }\necho 'fine, took 0.1 s'\n",
    );
    let out = cmd(dir.path())
        .args(["--exec", &format!("{} {{workers}}", s.display())])
        .args(["--workers", "1,2", "--reps", "1", "--warmup", "0"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let r = records(&out);
    assert_eq!(
        points(&r).len(),
        1,
        "the point measured before the failure is kept"
    );
    let (status, message, output) = end(&r);
    assert_eq!(status, Status::Failed);
    assert!(message.contains("exited with status 3"), "{message}");
    assert!(message.contains("broke on two"), "{message}");
    assert!(output.contains(&"broke on two".to_owned()), "{output:?}");

    // A time pattern that never matches.
    let out = cmd(dir.path())
        .args(["--exec", &format!("{} 1", s.display())])
        .args(["--workers", "1", "--reps", "1", "--warmup", "0"])
        .args(["--time-from", r"Execution time: ([0-9.]+)"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let (_, message, _) = end(&records(&out));
    assert!(
        message.contains("matched no line of the output") && message.contains("fine, took 0.1 s"),
        "{message}"
    );
}

#[test]
fn bad_commands_and_patterns_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("plain.sh");
    std::fs::write(&plain, "echo hi\n").expect("write");
    let cases: [(&[&str], &str); 6] = [
        (
            &["--exec", "no-such-program-xyz"],
            "`no-such-program-xyz` was not found on PATH",
        ),
        (&["--exec", ""], "give the command to measure"),
        (&["--exec", "./missing.sh"], "`./missing.sh` does not exist"),
        (
            &["--exec", "true", "--time-from", "took ([0-9"],
            "parameter `time_from`",
        ),
        (&["--exec", "echo 'unclosed"], "parameter `command`"),
        (
            &["mc-pi", "--exec", "true"],
            "leave out the experiment name `mc-pi`",
        ),
    ];
    for (args, message) in cases {
        cmd(dir.path())
            .args(args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(message));
    }
    cmd(dir.path())
        .args(["--exec", &plain.display().to_string()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not an executable file"));
}

/// Processes whose command line mentions `marker`, other than this test's own.
fn running_with(marker: &str) -> Vec<String> {
    let out = std::process::Command::new("pgrep")
        .args(["-fa", marker])
        .output()
        .expect("pgrep (procps) is needed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.contains("pgrep"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_program_ignoring_sigterm_is_killed_at_the_deadline_with_what_it_started() {
    let _one = SERIAL.lock();
    let dir = tempfile::tempdir().expect("tempdir");
    let s = script(
        dir.path(),
        "stubborn.sh",
        "trap '' TERM\n(trap '' TERM; sleep 60) &\necho started\nsleep 60\n",
    );
    let started = std::time::Instant::now();
    let out = cmd(dir.path())
        .args(["--exec", &s.display().to_string()])
        .args([
            "--workers",
            "1",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--deadline",
            "1",
        ])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(started.elapsed().as_secs_f64() < 10.0);
    let (status, message, _) = end(&records(&out));
    assert_eq!(status, Status::Failed);
    assert!(
        message.contains("did not end within the deadline of 1.0 s")
            && message.contains("every process it started were stopped")
            && message.contains("started"),
        "{message}"
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    let marker = dir.path().display().to_string();
    assert_eq!(running_with(&marker), Vec::<String>::new());
    assert!(
        running_with("sleep 60")
            .iter()
            .all(|l| !l.contains(&marker))
    );
}

#[cfg(feature = "mpi")]
mod mpi {
    use super::*;

    fn mpirun_here() {
        assert!(
            hpc_tutor::backend::launch::on_path("mpirun"),
            "mpirun is needed: apt-get install openmpi-bin (tests/run.sh installs it)"
        );
    }

    #[test]
    fn a_program_runs_as_mpi_ranks_under_mpirun() {
        mpirun_here();
        let _one = SERIAL.lock();
        let dir = tempfile::tempdir().expect("tempdir");
        // Every rank checks its environment; rank 0 prints the time.
        let s = script(
            dir.path(),
            "rank.sh",
            r#"[ "$OMP_NUM_THREADS" = 1 ] || exit 6
[ "${OMPI_COMM_WORLD_SIZE:-0}" = "$1" ] || { echo "size ${OMPI_COMM_WORLD_SIZE:-none}, expected $1"; exit 7; }
[ "$OMPI_COMM_WORLD_RANK" = 0 ] && echo "Execution time: 0.25 s"
exit 0
"#,
        );
        let out = cmd(dir.path())
            .args(["--exec", &format!("{} {{workers}}", s.display())])
            .args([
                "--backend",
                "mpi",
                "--workers",
                "1,2",
                "--reps",
                "2",
                "--warmup",
                "0",
            ])
            .args(["--time-from", r"Execution time: ([0-9.]+)"])
            .assert()
            .success()
            .get_output()
            .stdout
            .clone();
        let r = records(&out);
        assert_eq!(run_record(&r).backend, "mpi");
        let p = points(&r);
        assert_eq!(p.len(), 2);
        assert!(p.iter().all(|p| p.median_s == 0.25));
    }

    #[test]
    fn a_stuck_mpi_program_is_stopped_at_the_deadline_with_every_rank() {
        mpirun_here();
        let _one = SERIAL.lock();
        let dir = tempfile::tempdir().expect("tempdir");
        let s = script(dir.path(), "stuck.sh", "trap '' TERM\nsleep 60\n");
        let out = cmd(dir.path())
            .args(["--exec", &s.display().to_string()])
            .args([
                "--backend",
                "mpi",
                "--workers",
                "2",
                "--reps",
                "1",
                "--warmup",
                "0",
            ])
            .args(["--deadline", "2"])
            .assert()
            .code(1)
            .get_output()
            .stdout
            .clone();
        let (_, message, _) = end(&records(&out));
        assert!(
            message.contains("did not end within the deadline"),
            "{message}"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
        assert_eq!(
            running_with(&dir.path().display().to_string()),
            Vec::<String>::new()
        );
    }
}
