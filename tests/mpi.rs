//! Real MPI jobs under OpenMPI's mpirun (installed by tests/run.sh): scaling runs, the
//! exchange orders, the watchdog ending a deadlock, and nothing left behind.
//!
//! Without mpirun these tests fail with a message saying so, never pass silently.
#![cfg(feature = "mpi")]

use std::process::Command as Std;
use std::sync::Mutex;

use assert_cmd::Command;
use hpc_tutor::record::{Record, Status};
use predicates::prelude::*;

/// MPI jobs run one at a time: they would measure each other, and the leftover-process
/// checks would see each other's ranks.
static SERIAL: Mutex<()> = Mutex::new(());

/// A temporary folder of this test process: the launcher makes its side-channel folder in
/// it, and that path is on the command line of `mpirun` and of every rank, so the leftover
/// check finds exactly our processes and not other MPI jobs on the machine.
fn our_tmp() -> &'static std::path::Path {
    static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("hpc-tutor-mpi-test-")
            .tempdir()
            .expect("tempdir")
    })
    .path()
}

fn cmd() -> Command {
    assert!(
        hpc_tutor::backend::launch::on_path("mpirun"),
        "mpirun is needed for the MPI tests: apt-get install openmpi-bin libopenmpi-dev (tests/run.sh installs them)"
    );
    let mut c = Command::cargo_bin("hpc-tutor").expect("binary built");
    c.env_remove("SLURM_JOB_ID").env("TMPDIR", our_tmp());
    c
}

fn records(out: &[u8]) -> Vec<Record> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| Record::from_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// No mpirun, OpenMPI daemon or worker rank is left.
fn assert_nothing_left() {
    for pattern in ["mpirun", "orted", "hpc-tutor mpi-worker"] {
        let out = Std::new("pgrep")
            .args(["-f", pattern])
            .output()
            .expect("pgrep");
        let pids = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(pids.is_empty(), "left behind ({pattern}): {pids}");
    }
}

#[test]
fn mc_pi_on_ranks_reports_speedup_and_the_estimate() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = cmd()
        .args([
            "run",
            "mc-pi",
            "--backend",
            "mpi",
            "--workers",
            "1,2",
            "--reps",
            "2",
            "--param",
            "samples=2000000",
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let recs = records(&out);
    let Some(Record::Run(run)) = recs.first() else {
        panic!("run record")
    };
    assert_eq!(run.backend, "mpi");
    let points: Vec<_> = recs
        .iter()
        .filter_map(|r| {
            if let Record::Point(p) = r {
                Some(p)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(points.len(), 2);
    for p in &points {
        assert!(p.outputs["abs_error"] < 0.01, "{:?}", p.outputs);
        assert!(
            p.setup_s > 0.0,
            "launch and MPI start-up are measured apart"
        );
        assert!(p.speedup.is_some());
    }
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok));
    assert_nothing_left();
}

#[test]
fn the_fixed_exchange_orders_complete() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for order in ["parity", "sendrecv", "nonblocking"] {
        let out = cmd()
            .args([
                "run",
                "exchange",
                "--backend",
                "mpi",
                "--reps",
                "2",
                "--param",
                &format!("order={order}"),
                "--param",
                "size=1048576",
                "--format",
                "json",
            ])
            .assert()
            .code(0)
            .get_output()
            .stdout
            .clone();
        let recs = records(&out);
        let point = recs
            .iter()
            .find_map(|r| {
                if let Record::Point(p) = r {
                    Some(p)
                } else {
                    None
                }
            })
            .expect("a point");
        assert_eq!(
            point.outputs["data_ok"], 1.0,
            "{order}: each rank got the other's data"
        );
        assert_nothing_left();
    }
}

#[test]
fn bad_mpi_input_is_one_clear_line_and_exit_2() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "exchange", "--backend", "mpi", "--workers", "3"],
            "always runs on exactly 2 ranks",
        ),
        (
            &["run", "exchange", "--backend", "threads"],
            "does not run on the `threads` backend",
        ),
        (
            &["run", "mc-pi", "--backend", "mpi", "--workers", "300"],
            "allowed 1 to 256",
        ),
        (
            &[
                "run",
                "exchange",
                "--backend",
                "mpi",
                "--param",
                "order=sideways",
            ],
            "one of send-first, parity, sendrecv, nonblocking",
        ),
        (
            &["run", "exchange", "--backend", "mpi", "--param", "size=0"],
            "parameter `size`",
        ),
        (
            &["run", "mc-pi", "--backend", "mpi", "--deadline", "0"],
            "seconds from 0.1 to 86400",
        ),
    ];
    for (args, message) in cases {
        cmd()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message));
    }
    // srun outside an allocation, when srun exists at all.
    if hpc_tutor::backend::launch::on_path("srun") {
        cmd()
            .args(["run", "mc-pi", "--backend", "mpi", "--launcher", "srun"])
            .assert()
            .code(2)
            .stderr(predicate::str::contains("needs a SLURM allocation"));
    }
    // A launcher that is not installed: an empty PATH hides mpirun.
    cmd()
        .env("PATH", "/nonexistent")
        .args(["run", "mc-pi", "--backend", "mpi", "--workers", "1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("`mpirun` was not found on PATH"));
}

#[test]
fn a_send_first_deadlock_is_caught_diagnosed_and_cleaned_up() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let started = std::time::Instant::now();
    let out = cmd()
        .args([
            "run",
            "exchange",
            "--backend",
            "mpi",
            "--param",
            "order=send-first",
            "--param",
            "size=1048576",
            "--deadline",
            "2",
            "--format",
            "json",
        ])
        .assert()
        .code(3)
        .get_output()
        .stdout
        .clone();
    assert!(
        started.elapsed().as_secs_f64() < 15.0,
        "ended soon after its deadline"
    );
    let recs = records(&out);
    let d = recs
        .iter()
        .find_map(|r| {
            if let Record::Diagnosis(d) = r {
                Some(d)
            } else {
                None
            }
        })
        .expect("a diagnosis");
    assert_eq!(d.cycle.len(), 2, "{d:?}");
    assert!(d.cycle.contains(&"rank 0".to_owned()) && d.cycle.contains(&"rank 1".to_owned()));
    let rank0 = d.waits.iter().find(|w| w.who == "rank 0").expect("rank 0");
    assert_eq!(
        rank0.waits_for.as_deref(),
        Some("send to rank 1, 1048576 B, tag 0")
    );
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Deadlock));
    assert_nothing_left();

    // A small message fits the library's eager buffer: the same order completes.
    cmd()
        .args([
            "run",
            "exchange",
            "--backend",
            "mpi",
            "--reps",
            "1",
            "--param",
            "order=send-first",
            "--param",
            "size=64",
        ])
        .assert()
        .code(0);
    assert_nothing_left();
}
