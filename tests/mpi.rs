//! Real MPI jobs under OpenMPI's mpirun (installed by tests/run.sh): scaling runs, the
//! exchange orders, the watchdog ending a deadlock, and nothing left behind.
//!
//! Without mpirun these tests fail with a message saying so, never pass silently.
#![cfg(feature = "mpi")]

mod common;

use std::process::Command as Std;
use std::sync::Mutex;

use assert_cmd::Command;
use common::{json_records as records, points};
use hpc_tutor::record::{Model, Record, Status};
use predicates::prelude::*;

/// MPI jobs run one at a time: they would measure each other, and the leftover-process
/// checks would see each other's ranks.
static SERIAL: Mutex<()> = Mutex::new(());

/// A temporary folder of this test process, the runs' TMPDIR: nothing may be left in it
/// (the ranks report their states through the launcher's output, not through files).
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

/// No mpirun or worker rank of this build's binary is left. (Only ours: other checkouts
/// on a shared machine may be running their own MPI tests at the same time. On one node
/// OpenMPI starts no `orted` daemon; mpirun runs the ranks itself.)
fn assert_nothing_left() {
    let exe = env!("CARGO_BIN_EXE_hpc-tutor");
    let escaped: String = exe
        .chars()
        .flat_map(|c| {
            let special = "\\.^$|?*+()[]{}".contains(c);
            special.then_some('\\').into_iter().chain([c])
        })
        .collect();
    for pattern in [
        format!("^mpirun .*{escaped} mpi-worker"),
        format!("^{escaped} mpi-worker"),
    ] {
        let out = Std::new("pgrep")
            .args(["-a", "-f", &pattern])
            .output()
            .expect("pgrep");
        let left = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(left.is_empty(), "left behind ({pattern}): {left}");
    }
    // (OpenMPI keeps its own session folder, `ompi.*`, there.)
    let ours: Vec<_> = std::fs::read_dir(our_tmp())
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("hpc-tutor"))
                })
                .collect()
        })
        .unwrap_or_default();
    assert!(ours.is_empty(), "left in TMPDIR: {ours:?}");
}

/// Whether ranks of this build's binary are running.
fn ranks_running() -> bool {
    let exe = env!("CARGO_BIN_EXE_hpc-tutor");
    Std::new("pgrep")
        .args(["-f", &format!("{exe} mpi-worker")])
        .output()
        .is_ok_and(|o| !o.stdout.is_empty())
}

/// A long MPI run, stopped by `signal` once its ranks compute: within a second neither
/// `mpirun` nor a rank is left, also for `kill -9` of the run, which cleans up nothing
/// itself (the launcher and the ranks die with the process that started them). A run
/// stopped by SIGINT, SIGTERM or SIGHUP still writes its end record, `cancelled`.
#[test]
fn a_stopped_or_killed_run_leaves_no_launcher_and_no_rank() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    assert!(
        hpc_tutor::backend::launch::on_path("mpirun"),
        "mpirun is needed for the MPI tests: apt-get install openmpi-bin libopenmpi-dev (tests/run.sh installs them)"
    );
    for signal in ["KILL", "TERM", "HUP", "INT"] {
        let child = Std::new(env!("CARGO_BIN_EXE_hpc-tutor"))
            .args([
                "run",
                "mc-pi",
                "--backend",
                "mpi",
                "--workers",
                "2",
                "--reps",
                "100",
                "--param",
                "samples=100000000",
                "--format",
                "json",
                "--no-store",
            ])
            .env_remove("SLURM_JOB_ID")
            .env("TMPDIR", our_tmp())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        let started = std::time::Instant::now();
        while !ranks_running() {
            assert!(started.elapsed().as_secs() < 60, "the ranks never started");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        let status = Std::new("kill")
            .args([&format!("-{signal}"), &child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let stopped = std::time::Instant::now();
        let out = child.wait_with_output().expect("ends");
        while ranks_running() && stopped.elapsed().as_secs_f64() < 1.0 {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        assert_nothing_left();
        if signal != "KILL" {
            assert_eq!(out.status.code(), Some(130), "SIG{signal}");
            let recs = records(&out.stdout);
            assert!(
                matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Cancelled),
                "SIG{signal}: ends with a cancelled end record: {:?}",
                recs.last()
            );
        }
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
        (
            &["run", "pingpong", "--backend", "mpi", "--workers", "3"],
            "always runs on exactly 2 ranks",
        ),
        (
            &[
                "run",
                "pingpong",
                "--backend",
                "mpi",
                "-p",
                "min_size=4096",
                "-p",
                "max_size=1024",
            ],
            "parameter `max_size`: `1024` is not allowed; expected a size of at least min_size = 4096 bytes",
        ),
        (
            &["run", "pingpong", "--backend", "mpi", "-p", "max_size=1e9"],
            "expected a whole number from 1 to 67108864",
        ),
        (
            &[
                "run",
                "collectives",
                "--backend",
                "mpi",
                "-p",
                "op=alltoall",
            ],
            "one of all, broadcast, scatter, gather, reduce, allreduce",
        ),
        (
            &["run", "collectives", "--backend", "mpi", "-p", "size=12"],
            "a multiple of 8",
        ),
        (
            &["run", "hybrid", "--backend", "mpi", "-p", "threads=0"],
            "parameter `threads`: `0` is not allowed; expected a whole number from 1 to 256",
        ),
        (
            &["run", "hybrid", "--backend", "threads"],
            "does not run on the `threads` backend",
        ),
    ];
    for (args, message) in cases {
        let out = cmd()
            .args(*args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*message))
            .get_output()
            .stderr
            .clone();
        // The message is the first line (clap adds a pointer to --help after its own).
        let text = String::from_utf8_lossy(&out);
        assert!(
            text.lines().next().is_some_and(|l| l.contains(*message)),
            "{text}"
        );
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

fn run_json(args: &[&str], code: i32) -> Vec<Record> {
    let out = cmd()
        .args(args)
        .args(["--backend", "mpi", "--format", "json"])
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    records(&out)
}

#[test]
fn pingpong_times_grow_with_the_size_and_fit_a_latency_and_a_bandwidth() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let recs = run_json(
        &["run", "pingpong", "--reps", "5", "-p", "max_size=4096"],
        0,
    );
    let pts = points(&recs);
    let sizes: Vec<f64> = pts.iter().map(|p| p.outputs["size_bytes"]).collect();
    assert_eq!(
        sizes,
        (0..13).map(|k| f64::from(1 << k)).collect::<Vec<_>>()
    );
    for p in &pts {
        assert_eq!((p.workers, p.ranks, p.threads), (2, Some(2), Some(1)));
        assert!(p.median_s > 0.0 && p.outputs["latency_us"] > 0.0, "{p:?}");
        assert!(
            (p.outputs["latency_us"] - p.median_s * 1e6).abs() < 1e-9,
            "latency is the median one-way time"
        );
        assert!(p.outputs["bandwidth_mb_s"] > 0.0);
        assert_eq!(p.outputs["round_trips"], 1000.0);
    }
    // Times grow with the size: the three largest messages are slower than the three
    // smallest (single neighbours may swap by noise).
    let t: Vec<f64> = pts.iter().map(|p| p.median_s).collect();
    let small = t[..3].iter().copied().fold(f64::INFINITY, f64::min);
    let large = t[10..].iter().copied().fold(f64::INFINITY, f64::min);
    assert!(large > small, "times by size: {t:?}");
    let fit = recs
        .iter()
        .find_map(|r| match r {
            Record::Fit(f) if f.model == Model::LatencyBandwidth => Some(f),
            _ => None,
        })
        .expect("a latency-bandwidth fit");
    let (alpha, beta) = (fit.latency_s.expect("α"), fit.bandwidth_bytes_s.expect("β"));
    eprintln!(
        "pingpong 1 B..4 KiB: α = {:.3} µs, β = {:.1} MB/s",
        alpha * 1e6,
        beta / 1e6
    );
    assert!(alpha > 0.0 && beta > 0.0, "{fit:?}");
    assert_eq!(fit.points, 13);
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok));
    assert_nothing_left();
}

#[test]
fn collectives_time_every_operation_on_one_and_two_ranks() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let recs = run_json(
        &[
            "run",
            "collectives",
            "--workers",
            "1,2",
            "--reps",
            "2",
            "--warmup",
            "0",
            "-p",
            "size=4096",
            "-p",
            "iterations=20",
        ],
        0,
    );
    let pts = points(&recs);
    let seen: Vec<(String, usize)> = pts
        .iter()
        .map(|p| (p.variant.clone().unwrap_or_default(), p.workers))
        .collect();
    let want: Vec<(String, usize)> = ["broadcast", "scatter", "gather", "reduce", "allreduce"]
        .iter()
        .flat_map(|v| [((*v).to_owned(), 1), ((*v).to_owned(), 2)])
        .collect();
    assert_eq!(seen, want);
    for p in &pts {
        assert!(p.median_s > 0.0, "{p:?}");
        assert_eq!(p.outputs["data_ok"], 1.0, "{:?}: wrong data", p.variant);
        assert_eq!((p.ranks, p.threads), (Some(p.workers), Some(1)));
        assert_eq!(p.speedup, None, "no speedup for collectives");
    }
    assert!(!recs.iter().any(|r| matches!(r, Record::Fit(_))));
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok));
    assert_nothing_left();
}

#[test]
fn hybrid_ranks_run_their_threads_and_match_the_thread_backend() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let samples = "samples=2000000";
    let two_by_one = run_json(
        &[
            "run",
            "hybrid",
            "--workers",
            "2",
            "--reps",
            "2",
            "-p",
            "threads=1",
            "-p",
            samples,
        ],
        0,
    );
    let p = points(&two_by_one)[0];
    assert_eq!((p.workers, p.ranks, p.threads), (2, Some(2), Some(1)));
    assert!(!p.oversubscribed && p.outputs["abs_error"] < 0.01, "{p:?}");

    // One rank of two threads draws the same streams as two threads of one process.
    let one_by_two = run_json(
        &[
            "run",
            "hybrid",
            "--workers",
            "1",
            "--reps",
            "1",
            "-p",
            "threads=2",
            "-p",
            samples,
        ],
        0,
    );
    let h = points(&one_by_two)[0];
    assert_eq!((h.ranks, h.threads), (Some(1), Some(2)));
    let threads = cmd()
        .args([
            "run",
            "mc-pi",
            "--workers",
            "2",
            "--reps",
            "1",
            "-p",
            samples,
            "--format",
            "json",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = records(&threads);
    let t = points(&t)[0];
    assert_eq!(h.outputs["estimate"], t.outputs["estimate"]);
    assert_eq!(t.ranks, None, "thread points have no ranks");
    assert_nothing_left();
}

#[test]
fn the_farm_on_ranks_scatters_or_manages_its_tasks_and_matches_the_threads() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let params = ["-p", "tasks=30", "-p", "right=8", "-p", "length=10"];
    let mut args = vec!["run", "farm", "--workers", "1,2", "--reps", "2"];
    args.extend(params);
    let recs = run_json(&args, 0);
    let pts = points(&recs);
    assert_eq!(pts.len(), 6, "3 distributions × 1 and 2 ranks");
    let matches = pts[0].outputs["matches"];
    for p in &pts {
        assert_eq!(p.outputs["matches"], matches, "every task once: {p:?}");
    }
    let two = |v: &str| {
        pts.iter()
            .find(|p| p.workers == 2 && p.variant.as_deref() == Some(v))
            .copied()
            .expect("a 2-rank point")
    };
    // Static: the scatter's halves; manager: rank 0 hands out, rank 1 does all 30.
    assert_eq!(
        (
            two("static").outputs["tasks_min"],
            two("static").outputs["tasks_max"]
        ),
        (15.0, 15.0)
    );
    let m = two("manager");
    assert_eq!(
        (m.outputs["tasks_min"], m.outputs["tasks_max"]),
        (30.0, 30.0)
    );
    let busy = m.outputs["manager_busy"];
    assert!((0.0..1.0).contains(&busy), "the manager's share {busy}");
    // The same strings on threads give the same matches.
    let mut args = vec![
        "run",
        "farm",
        "--workers",
        "2",
        "--reps",
        "1",
        "--format",
        "json",
    ];
    args.extend(params);
    let out = cmd()
        .args(&args)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let t = records(&out);
    assert!(points(&t).iter().all(|p| p.outputs["matches"] == matches));
    assert_nothing_left();
}

#[test]
fn the_eager_sweep_finds_the_limit_stops_every_deadlock_and_ends_ok() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let recs = run_json(
        &[
            "run",
            "exchange",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--deadline",
            "1",
            "-p",
            "sweep=on",
            "-p",
            "max_size=1048576",
        ],
        0,
    );
    let pts = points(&recs);
    let outcome: Vec<(u64, bool)> = pts
        .iter()
        .map(|p| {
            (
                p.outputs["size_bytes"] as u64,
                p.outputs["completed"] == 1.0,
            )
        })
        .collect();
    assert_eq!(
        outcome[0],
        (1, true),
        "1 B fits any eager buffer: {outcome:?}"
    );
    let first_deadlock = outcome.iter().position(|o| !o.1).expect("a size deadlocks");
    // The ladder doubles up to its first deadlock …
    for (i, o) in outcome[..=first_deadlock].iter().enumerate() {
        assert_eq!(o.0, 1 << i, "{outcome:?}");
    }
    // … and the largest size that completed is one byte below the smallest that deadlocked.
    let limit = outcome
        .iter()
        .filter(|o| o.1)
        .map(|o| o.0)
        .max()
        .expect("completed");
    let stuck = outcome
        .iter()
        .filter(|o| !o.1)
        .map(|o| o.0)
        .min()
        .expect("deadlocked");
    assert_eq!(stuck, limit + 1, "bisected to the byte: {outcome:?}");
    assert!(
        outcome.iter().all(|&(size, done)| done == (size <= limit)),
        "a clean threshold: {outcome:?}"
    );
    // Sizes above the first deadlock are not each tried: one sample at the top.
    assert_eq!(outcome.last(), Some(&(1 << 20, false)), "{outcome:?}");
    assert!(
        outcome.len() <= first_deadlock + 1 + 12 + 1,
        "{} sizes tried: {outcome:?}",
        outcome.len()
    );
    eprintln!(
        "eager limit measured: largest send-first exchange that completed = {limit} B ({} sizes tried)",
        outcome.len()
    );
    // Open MPI's shared memory: 4096 B including its header, so a little less of payload.
    let Some(Record::Run(run)) = recs.first() else {
        panic!("a run record")
    };
    if let Some((component, configured)) = run.env.mpi.as_ref().and_then(|l| l.shared_memory()) {
        eprintln!("configured: btl_{component}_eager_limit = {configured} B");
        assert!(
            limit < configured && configured - limit < 256,
            "{limit} B against {configured} B"
        );
    }
    for p in pts.iter().filter(|p| p.outputs["completed"] == 0.0) {
        assert_eq!(p.reps, 0, "{p:?}");
    }
    let diagnoses = recs
        .iter()
        .filter(|r| matches!(r, Record::Diagnosis(d) if d.cycle.len() == 2))
        .count();
    assert_eq!(
        diagnoses,
        outcome.iter().filter(|o| !o.1).count(),
        "every deadlocked size is diagnosed as a cycle"
    );
    let Some(Record::End(e)) = recs.last() else {
        panic!("an end record")
    };
    assert_eq!(e.status, Status::Ok);
    assert!(
        e.message.as_deref().is_some_and(|m| m.starts_with(&format!(
            "largest size that completed: {limit} B, to the byte"
        ))),
        "{e:?}"
    );
    assert_nothing_left();
}

/// CPU seconds used by this test process's children that have ended (and theirs), from
/// /proc: `cutime` and `cstime`, in USER_HZ (100 on Linux).
fn children_cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc");
    let after = &stat[stat.rfind(')').expect("comm") + 1..];
    // Fields 16 and 17 are the 14th and 15th after the command name.
    after
        .split_whitespace()
        .skip(13)
        .take(2)
        .map(|v| v.parse::<f64>().expect("ticks") / 100.0)
        .sum()
}

#[test]
fn a_rank_waiting_in_the_timed_section_leaves_its_cpu_free() {
    let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // All the work is rank 0's serial phase: rank 1 waits at its barrier for the whole run.
    let before = children_cpu_s();
    let recs = run_json(
        &[
            "run",
            "amdahl",
            "--workers",
            "2",
            "--reps",
            "3",
            "--param",
            "serial=1",
            "--param",
            "work=500000000",
        ],
        0,
    );
    let cpu = children_cpu_s() - before;
    let kernel: f64 = recs
        .iter()
        .filter_map(|r| match r {
            Record::Sample(s) => Some(s.seconds),
            _ => None,
        })
        .sum();
    assert!(kernel > 1.0, "four runs of about 0.5 s each: {kernel} s");
    // Busy-polling, rank 1 would use as much CPU as rank 0: about twice the kernel time.
    // Asleep, the run costs rank 0's work plus start-up (mpirun, MPI_Init).
    assert!(
        cpu < 1.4 * kernel + 0.6,
        "{cpu:.2} s of CPU for {kernel:.2} s of kernel time on 2 ranks"
    );
    assert_nothing_left();
}
