//! `hpc-tutor run` through the real process boundary: a tiny sweep, its records, its table,
//! and one clear line with exit status 2 for every kind of bad input.

mod common;

use assert_cmd::Command;
use common::points;
use hpc_tutor::record::{Record, Status};
use predicates::prelude::*;

fn cmd() -> Command {
    Command::cargo_bin("hpc-tutor").expect("binary built")
}

fn records(args: &[&str]) -> Vec<Record> {
    records_with_code(args, 0)
}

/// The records of a run that must exit with `code`.
fn records_with_code(args: &[&str], code: i32) -> Vec<Record> {
    let out = cmd()
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .stdout
        .clone();
    parse(&String::from_utf8(out).expect("utf-8"))
}

/// Records from results text, one JSON line each.
fn parse(text: &str) -> Vec<Record> {
    text.lines()
        .map(|l| Record::from_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn a_tiny_sweep_writes_every_kind_of_record() {
    let recs = records(&[
        "run",
        "mc-pi",
        "--workers",
        "1,2,3",
        "--reps",
        "3",
        "--warmup",
        "1",
        "--param",
        "samples=200000",
        "--format",
        "json",
    ]);
    let Some(Record::Run(run)) = recs.first() else {
        panic!("starts with the run record")
    };
    assert_eq!(run.experiment, "mc-pi");
    assert_eq!(run.workers, [1, 2, 3]);
    assert_eq!(run.params["samples"], "200000");
    assert!(run.env.cpus_available >= 1);
    assert!(!run.env.host.is_empty());
    let samples = recs
        .iter()
        .filter(|r| matches!(r, Record::Sample(_)))
        .count();
    assert_eq!(samples, 3 * (3 + 1));
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
    assert_eq!(points.len(), 3);
    for p in &points {
        assert!(p.min_s <= p.median_s && p.median_s <= p.max_s);
        assert!(p.ci95_s[0] <= p.median_s && p.median_s <= p.ci95_s[1]);
        assert!(p.outputs["abs_error"] < 0.05, "{:?}", p.outputs);
        assert_eq!(p.oversubscribed, p.workers > run.env.cpus_available);
        let s = p.speedup.expect("has T(1)");
        assert!((p.efficiency.expect("has S") - s / p.workers as f64).abs() < 1e-12);
    }
    assert!(recs.iter().any(|r| matches!(r, Record::Fit(_))));
    let Some(Record::End(end)) = recs.last() else {
        panic!("ends with the end record")
    };
    assert_eq!(end.status, Status::Ok);
}

#[test]
fn variants_weak_scaling_and_other_experiments() {
    let recs = records(&[
        "run",
        "imbalance",
        "--workers",
        "1,2",
        "--reps",
        "2",
        "--param",
        "work=200000",
        "--param",
        "tasks=16",
    ]);
    let variants: Vec<_> = recs
        .iter()
        .filter_map(|r| {
            if let Record::Point(p) = r {
                p.variant.clone()
            } else {
                None
            }
        })
        .collect();
    assert_eq!(variants, ["static", "static", "dynamic", "dynamic"]);
    let fits = recs.iter().filter(|r| matches!(r, Record::Fit(_))).count();
    assert_eq!(fits, 2, "one fit per variant");

    let recs = records(&[
        "run",
        "mc-pi",
        "--workers",
        "1,2",
        "--reps",
        "2",
        "--param",
        "mode=weak",
        "--param",
        "samples=100000",
    ]);
    assert!(
        recs.iter()
            .any(|r| matches!(r, Record::Fit(f) if f.model == hpc_tutor::record::Model::Gustafson))
    );

    for (exp, param) in [("integral", "n=100000"), ("amdahl", "work=100000")] {
        let recs = records(&[
            "run",
            exp,
            "--workers",
            "1",
            "--reps",
            "1",
            "--param",
            param,
        ]);
        assert!(
            matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok),
            "{exp}"
        );
    }
}

#[test]
fn table_and_csv_formats() {
    cmd()
        .args([
            "run",
            "amdahl",
            "--workers",
            "1,2",
            "--reps",
            "2",
            "--param",
            "work=100000",
            "--format",
            "table",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("speedup").and(predicate::str::contains("Amdahl fit")))
        .stdout(predicate::str::contains("configured serial = 0.1"));
    let out = cmd()
        .args([
            "run",
            "integral",
            "--workers",
            "1,2",
            "--reps",
            "1",
            "--param",
            "n=1000",
            "--format",
            "csv",
        ])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("workers,variant,reps,median_s"));
    assert!(lines[1].starts_with("1,,1,"));
}

#[test]
fn out_file_gets_json_lines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.jsonl");
    cmd()
        .args([
            "run",
            "mc-pi",
            "--workers",
            "1",
            "--reps",
            "1",
            "--param",
            "samples=1000",
            "--out",
        ])
        .arg(&path)
        .assert()
        .success()
        .stdout("")
        .stderr(predicate::str::contains("results written to"));
    let recs = hpc_tutor::record::store::load(&path).expect("valid results file");
    assert!(matches!(recs.first(), Some(Record::Run(_))));
}

#[test]
fn bad_input_is_one_clear_line_and_exit_2() {
    let cases: &[(&[&str], &str)] = &[
        (&["run", "warp"], "unknown experiment `warp`"),
        (&["run", "mc-pi", "--workers", "0"], "0 is not in 1..=1024"),
        (
            &["run", "mc-pi", "--workers", "1,two"],
            "invalid value 'two' for '--workers",
        ),
        (&["run", "mc-pi", "--reps", "0"], "0 is not in 1..=1000"),
        (
            &["run", "mc-pi", "--param", "samples=10"],
            "parameter `samples`: `10` is not allowed; expected a whole number from 1000 to 100000000000",
        ),
        (
            &["run", "mc-pi", "--param", "speed=fast"],
            "unknown parameter `speed` for mc-pi (known: samples, mode, seed)",
        ),
        (
            &["run", "mc-pi", "--param", "samples"],
            "expected KEY=VALUE",
        ),
        (
            &["run", "integral", "--param", "a=3", "--param", "b=1"],
            "greater than a = 3",
        ),
        (
            &["run", "mc-pi", "--backend", "cuda"],
            "invalid value 'cuda'",
        ),
        (
            &["run", "locks", "--workers", "3"],
            "experiment `locks` always runs on exactly 2 threads; give --workers 2 or leave it out",
        ),
        (&["run", "locks", "--workers", "1,2"], "exactly 2 threads"),
        (
            &["run", "locks", "--param", "order=backwards"],
            "expected one of opposite, same, backoff",
        ),
        (
            &["run", "locks", "--param", "deadline=0.01"],
            "expected a number from 0.1 to 600",
        ),
        (
            &["run", "race", "--param", "variant=lucky"],
            "expected one of all, unsynchronized, atomic, mutex, reduction, false-sharing, padded",
        ),
        (
            &["run", "race", "--param", "increments=10"],
            "parameter `increments`",
        ),
    ];
    for (args, message) in cases {
        let out = cmd().args(*args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

#[test]
fn experiments_lists_parameters_with_ranges() {
    cmd().arg("experiments").assert().success().stdout(
        predicate::str::contains("samples")
            .and(predicate::str::contains("from 1000 to 100000000000")),
    );
}

#[test]
fn race_synchronized_variants_lose_nothing() {
    let recs = records(&[
        "run",
        "race",
        "--workers",
        "1,2",
        "--reps",
        "2",
        "--warmup",
        "0",
        "--param",
        "increments=20000",
        "--format",
        "json",
    ]);
    let points = points(&recs);
    let variants: Vec<&str> = points.iter().filter_map(|p| p.variant.as_deref()).collect();
    assert_eq!(
        variants,
        [
            "unsynchronized",
            "unsynchronized",
            "atomic",
            "atomic",
            "mutex",
            "mutex",
            "reduction",
            "reduction",
            "false-sharing",
            "false-sharing",
            "padded",
            "padded"
        ]
    );
    for p in points {
        let out = &p.outputs;
        let expected = 20_000.0 * p.workers as f64;
        assert_eq!(out["expected_count"], expected, "{p:?}");
        assert!(out["final_count"] <= expected, "{p:?}");
        assert_eq!(out["lost_updates"], expected - out["final_count"], "{p:?}");
        // Lost updates of the unsynchronized variant depend on timing: the bench shows
        // them; here only the synchronized ones are checked, and they must be exact.
        if p.variant.as_deref() != Some("unsynchronized") {
            assert_eq!(out["lost_updates"], 0.0, "{p:?}");
            assert_eq!(out["final_count"], expected, "{p:?}");
        }
        let ns = out["ns_per_increment"];
        assert!(ns > 0.0 && ns.is_finite(), "{p:?}");
        assert!(
            (ns - p.median_s / expected * 1e9).abs() < 1e-6 * ns,
            "{p:?}"
        );
    }
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok));
}

#[test]
fn race_table_shows_lost_updates_first() {
    cmd()
        .args([
            "run",
            "race",
            "--workers",
            "2",
            "--reps",
            "1",
            "--param",
            "increments=10000",
            "--param",
            "variant=false-sharing",
            "--format",
            "table",
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("workers        variant")
                .and(predicate::str::contains(
                    "false-sharing",
                ))
                .and(predicate::str::is_match(r"  lost_updates=0  ns_per_increment=[0-9.e-]+  expected_count=20000  final_count=20000").expect("regex")),
        );
}

/// Arguments of a small `locks` run; `order` decides between a deadlock and completion.
fn locks_args(order: &str, format: &str) -> Vec<String> {
    [
        "run",
        "locks",
        "--reps",
        "2",
        "--param",
        &format!("order={order}"),
        "--param",
        "hold_ms=20",
        "--param",
        "rounds=3",
        "--param",
        // Short where a deadlock is expected; never reached where none is.
        if order == "opposite" {
            "deadline=0.3"
        } else {
            "deadline=5"
        },
        "--format",
        format,
    ]
    .map(str::to_owned)
    .to_vec()
}

#[test]
fn locks_in_opposite_order_deadlock_with_a_diagnosis_and_exit_3() {
    let args = locks_args("opposite", "json");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let start = std::time::Instant::now();
    let recs = records_with_code(&args, 3);
    let elapsed = start.elapsed().as_secs_f64();
    // 20 ms until both hold a lock, 0.3 s deadline, then a prompt, clean exit.
    assert!(elapsed < 0.3 + 1.5, "took {elapsed} s");
    let Some(Record::Run(run)) = recs.first() else {
        panic!("starts with the run record")
    };
    assert_eq!(run.workers, [2], "locks defaults to exactly 2 threads");
    let Some(Record::Diagnosis(d)) = recs.iter().find(|r| matches!(r, Record::Diagnosis(_))) else {
        panic!("a diagnosis: {recs:?}")
    };
    assert_eq!(d.workers, 2);
    assert_eq!(d.cycle, ["thread 0", "thread 1"]);
    assert!(d.stalled_s >= 0.3, "{}", d.stalled_s);
    assert_eq!(d.waits.len(), 2);
    assert_eq!(d.waits[0].holds, ["A"]);
    assert_eq!(d.waits[0].waits_for.as_deref(), Some("B"));
    assert_eq!(d.waits[0].held_by.as_deref(), Some("thread 1"));
    assert_eq!(d.waits[1].holds, ["B"]);
    assert_eq!(d.waits[1].waits_for.as_deref(), Some("A"));
    assert_eq!(d.waits[1].held_by.as_deref(), Some("thread 0"));
    let Some(Record::End(end)) = recs.last() else {
        panic!("ends with the end record")
    };
    assert_eq!(end.status, Status::Deadlock);
    assert!(!recs.iter().any(|r| matches!(r, Record::Point(_))));

    let args = locks_args("opposite", "table");
    cmd()
        .args(&args)
        .assert()
        .code(3)
        .stdout(predicate::str::contains(
            "deadlock: thread 0 holds A and waits for B (held by thread 1); \
             thread 1 holds B and waits for A (held by thread 0) — a cycle",
        ))
        .stdout(predicate::str::contains(
            "cycle: thread 0 → thread 1 → thread 0",
        ))
        .stdout(predicate::str::contains("run ended: deadlock after"));
}

#[test]
fn locks_in_the_same_order_or_with_back_off_complete() {
    for order in ["same", "backoff"] {
        let mut args = locks_args(order, "json");
        args.extend(["--workers".to_owned(), "2".to_owned()]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let recs = records(&args);
        let points = points(&recs);
        assert_eq!(points.len(), 1, "{order}");
        let p = points[0];
        assert_eq!(p.workers, 2);
        assert_eq!(p.outputs["rounds_done"], 6.0, "{order}: {p:?}");
        assert!(p.outputs.contains_key("backoffs"), "{order}");
        if order == "same" {
            assert_eq!(p.outputs["backoffs"], 0.0);
            // Three rounds each, one thread at a time, each holding A for 20 ms.
            assert!(p.median_s >= 6.0 * 0.020, "{}", p.median_s);
        }
        assert!(!recs.iter().any(|r| matches!(r, Record::Diagnosis(_))));
        assert!(
            matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok),
            "{order}"
        );
    }
}

#[test]
fn runs_are_kept_in_the_results_store_unless_told_not_to() {
    let data = tempfile::tempdir().expect("tmp");
    let store = data.path().join("results");
    let args = [
        "run",
        "amdahl",
        "--workers",
        "1",
        "--reps",
        "1",
        "--warmup",
        "0",
        "-p",
        "work=1000",
        "--format",
        "json",
    ];
    let out = cmd()
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .args(args)
        .assert()
        .success()
        .stderr(predicate::str::contains("kept in the results store:"))
        .get_output()
        .stdout
        .clone();
    let files: Vec<_> = std::fs::read_dir(&store)
        .expect("store made")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(files.len(), 1);
    // The stored file holds exactly the records printed.
    let printed = String::from_utf8(out).expect("utf-8");
    assert_eq!(
        std::fs::read_to_string(&files[0]).expect("stored"),
        printed,
        "the store keeps what was printed"
    );
    cmd()
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .args(args)
        .arg("--no-store")
        .assert()
        .success()
        .stderr(predicate::str::contains("results store").not());
    assert_eq!(std::fs::read_dir(&store).expect("store").count(), 1);
}

/// A tiny mc-pi sweep kept out of the results store, writing to `--out` and then `out`.
fn tiny_run_to(out: &std::path::Path) -> Command {
    let mut c = cmd();
    c.args([
        "run",
        "mc-pi",
        "--workers",
        "1",
        "--reps",
        "1",
        "--warmup",
        "0",
        "--param",
        "samples=1000",
        "--no-store",
        "--out",
    ])
    .arg(out);
    c
}

/// On a full disk the file that failed is named, exit 1, and nothing claims the results
/// were written; the same for standard output.
#[test]
fn a_full_disk_is_named_and_exit_1() {
    tiny_run_to(std::path::Path::new("/dev/full"))
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains(
                "hpc-tutor run: cannot write /dev/full: No space left on device (os error 28)\n",
            )
            .and(predicate::str::contains("results written").not()),
        );
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hpc-tutor"))
        .args([
            "run",
            "mc-pi",
            "--workers",
            "1",
            "--reps",
            "1",
            "--warmup",
            "0",
        ])
        .args(["--param", "samples=1000", "--no-store", "--format", "json"])
        .stdout(full)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "hpc-tutor: cannot write to standard output: No space left on device (os error 28)\n"
        ),
        "{out:?}"
    );
}

/// Two runs given the same `--out` cannot interleave their records: while one holds the
/// file's lock, another is refused with exit 2 and leaves the file alone.
#[test]
fn a_second_run_on_the_same_out_file_is_refused() {
    use nix::fcntl::{Flock, FlockArg};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, "the first run's records\n").expect("write");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .expect("open");
    let lock = Flock::lock(file, FlockArg::LockExclusiveNonblock).expect("the first run's lock");
    tiny_run_to(&path)
        .assert()
        .code(2)
        .stdout("")
        .stderr(format!(
            "hpc-tutor run: {} is being written by another hpc-tutor (it holds the file's lock): \
             wait for it to end or give another file\n",
            path.display()
        ));
    assert_eq!(
        std::fs::read_to_string(&path).expect("read"),
        "the first run's records\n"
    );
    drop(lock);
    tiny_run_to(&path).assert().success();
    let recs = hpc_tutor::record::store::load(&path).expect("valid results file");
    assert!(matches!(recs.first(), Some(Record::Run(_))));
}

/// A parameter given twice, and `--deadline` on threads (where there are no ranks to wait
/// for), are refused with exit status 2 naming what is wrong; nothing runs.
#[test]
fn a_repeated_parameter_and_a_deadline_on_threads_are_refused() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "mc-pi", "-p", "samples=1e6", "-p", "samples=2e6"],
            "hpc-tutor run: parameter `samples` is given twice (`samples=1e6`, then `samples=2e6`); give it once\n",
        ),
        (
            &["run", "mc-pi", "-p", "mode=weak", "--param", "mode=weak"],
            "parameter `mode` is given twice",
        ),
        (
            &[
                "run",
                "mc-pi",
                "--deadline",
                "5",
                "-p",
                "samples=1000",
                "--reps",
                "1",
            ],
            "hpc-tutor run: --deadline applies to MPI runs (--backend mpi), where it is how long ranks may go without progress; this run is on threads\n",
        ),
        (
            &[
                "run",
                "locks",
                "--deadline",
                "5",
                "-p",
                "order=same",
                "--reps",
                "1",
            ],
            "; experiment `locks` has its own `deadline` parameter: --param deadline=SECS\n",
        ),
    ];
    for (args, message) in cases {
        let out = cmd().args(*args).assert().code(2).get_output().clone();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
}

/// Two runs at the same time on one host see each other: each records, point by point,
/// that another hpc-tutor run shared the host, and says so; a run alone records nothing
/// of the kind. Every point says how busy other work kept its CPUs.
#[test]
fn runs_at_the_same_time_see_each_other() {
    let data = tempfile::tempdir().expect("tempdir");
    let long = |out: &std::path::Path| {
        let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("hpc-tutor"));
        c.env("HPC_TUTOR_DATA_DIR", data.path())
            .args([
                "run",
                "amdahl",
                "--workers",
                "1",
                "--reps",
                "4",
                "--warmup",
                "0",
            ])
            .args(["--param", "work=100000000", "--no-store", "--out"])
            .arg(out)
            .stderr(std::process::Stdio::piped());
        c
    };
    let (a_out, b_out) = (data.path().join("a.jsonl"), data.path().join("b.jsonl"));
    let a = long(&a_out).spawn().expect("first run");
    // The second starts once the first has registered.
    let active = data.path().join("active");
    let started = std::time::Instant::now();
    while std::fs::read_dir(&active).map_or(0, |d| d.count()) == 0 {
        assert!(started.elapsed().as_secs() < 20, "the first run registers");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let b = long(&b_out).output().expect("second run");
    let a = a.wait_with_output().expect("first run ends");
    assert!(a.status.success() && b.status.success());
    let b_err = String::from_utf8_lossy(&b.stderr);
    assert!(
        b_err.contains("other hpc-tutor run(s) on this host share its CPUs: amdahl"),
        "{b_err}"
    );
    for out in [&a_out, &b_out] {
        let text = std::fs::read_to_string(out).expect("records");
        let recs = parse(&text);
        let shared = points(&recs).iter().filter(|p| p.other_runs >= 1).count();
        assert!(
            shared >= 1,
            "{}: a point saw the other run: {text}",
            out.display()
        );
        assert!(
            points(&recs).iter().all(|p| p.other_busy.is_some()),
            "{text}"
        );
        assert!(
            points(&recs).iter().any(|p| p.disturbance().is_some()),
            "the point is flagged: {text}"
        );
    }
    for e in std::fs::read_dir(&active).expect("active") {
        let text = std::fs::read_to_string(e.expect("entry").path()).expect("entry");
        assert!(
            text.contains("\"ended_ms\""),
            "both runs marked their end: {text}"
        );
    }
    // Alone, nothing is said of other runs.
    let alone = cmd()
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .args([
            "run",
            "mc-pi",
            "--workers",
            "1",
            "--reps",
            "1",
            "--warmup",
            "0",
            "--no-store",
        ])
        .args(["--param", "samples=1000000"])
        .assert()
        .success();
    let recs = parse(&String::from_utf8_lossy(&alone.get_output().stdout));
    assert!(points(&recs).iter().all(|p| p.other_runs == 0));
}
