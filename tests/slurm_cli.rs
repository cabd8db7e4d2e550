//! The SLURM commands without a cluster: `slurm script`, `slurm info`, the advisor in
//! `run` under a SLURM environment as `srun -c 2` sets it, and `results merge` of real runs.
//! (tests/slurm.rs runs the same against a real one-node SLURM.)

mod common;

use std::path::Path;

use assert_cmd::Command;
use hpc_tutor::record::Record;
use predicates::prelude::*;

/// The binary with no SLURM variables from the environment running the tests, and a
/// private, empty results store.
fn cmd(data: &Path) -> Command {
    let mut c = Command::cargo_bin("hpc-tutor").expect("binary built");
    for (k, _) in std::env::vars() {
        if k.starts_with("SLURM_") {
            c.env_remove(k);
        }
    }
    c.env("HPC_TUTOR_DATA_DIR", data);
    c
}

/// What `srun --pty -c 2` sets, as far as hpc-tutor reads it.
fn in_srun_c2(c: &mut Command) -> &mut Command {
    c.envs([
        ("SLURM_JOB_ID", "4242"),
        ("SLURM_JOB_NAME", "bash"),
        ("SLURM_JOB_PARTITION", "debug"),
        ("SLURM_JOB_NUM_NODES", "1"),
        ("SLURM_JOB_NODELIST", "node01"),
        ("SLURM_NTASKS", "1"),
        ("SLURM_CPUS_PER_TASK", "2"),
        ("SLURM_CPUS_ON_NODE", "2"),
        ("SLURM_STEP_ID", "0"),
        ("SLURM_STEP_NUM_TASKS", "1"),
        ("SLURM_PROCID", "0"),
    ])
}

fn stdout(c: &mut Command) -> String {
    String::from_utf8(c.assert().success().get_output().stdout.clone()).expect("utf-8")
}

#[test]
fn eight_threads_in_srun_c_2_get_the_corrected_sbatch_lines() {
    let data = tempfile::tempdir().expect("tmp");
    let mut c = cmd(data.path());
    in_srun_c2(&mut c).args([
        "run",
        "mc-pi",
        "--workers",
        "8",
        "--reps",
        "1",
        "--warmup",
        "0",
        "--param",
        "samples=1e6",
        "--format",
        "json",
    ]);
    c.assert()
        .success()
        .stderr(predicate::str::contains(
            "advice: 8 threads asked for, but this job step gives this program",
        ))
        .stderr(predicate::str::contains("(--cpus-per-task=2)"))
        .stderr(predicate::str::contains("    #SBATCH --ntasks=1\n"))
        .stderr(predicate::str::contains("    #SBATCH --cpus-per-task=8\n"))
        .stderr(predicate::str::contains("srun --pty -n 1 -c 8"));
}

#[test]
fn a_threads_program_started_by_srun_n_4_is_told_so() {
    let data = tempfile::tempdir().expect("tmp");
    let mut c = cmd(data.path());
    in_srun_c2(&mut c)
        .envs([
            ("SLURM_NTASKS", "4"),
            ("SLURM_STEP_NUM_TASKS", "4"),
            ("SLURM_PROCID", "2"),
        ])
        .args([
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
        ]);
    c.assert()
        .success()
        .stderr(predicate::str::contains(
            "srun started this threads-only program 4 times",
        ))
        .stderr(predicate::str::contains("#SBATCH --cpus-per-task=8"));
}

#[test]
fn a_well_sized_run_gets_no_advice() {
    let data = tempfile::tempdir().expect("tmp");
    let mut c = cmd(data.path());
    in_srun_c2(&mut c).args([
        "run",
        "amdahl",
        "--workers",
        "1,2",
        "--reps",
        "1",
        "--warmup",
        "0",
        "-p",
        "work=1000",
        "--format",
        "json",
    ]);
    c.assert()
        .success()
        .stderr(predicate::str::contains("advice").not());
}

#[test]
fn slurm_info_describes_the_allocation() {
    let data = tempfile::tempdir().expect("tmp");
    let mut c = cmd(data.path());
    let text = stdout(in_srun_c2(&mut c).args(["slurm", "info"]));
    for want in [
        "job ",
        "4242",
        "partition",
        "debug",
        "CPUs per task",
        "2 (SLURM_CPUS_PER_TASK)",
        "srun --mpi=pmix -n N",
        "physical cores",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    let outside = stdout(cmd(data.path()).args(["slurm", "info"]));
    assert!(outside.contains("not inside an allocation"), "{outside}");
    assert!(outside.contains("mpirun -np N"), "{outside}");
}

/// The script is valid bash, and shellcheck-clean where shellcheck is installed.
fn check_shell(text: &str) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("job.sbatch");
    std::fs::write(&path, text).expect("write");
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&path)
        .output()
        .expect("bash");
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    match std::process::Command::new("shellcheck").arg(&path).output() {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => eprintln!("NOTE: shellcheck not installed; only `bash -n` checked the script"),
    }
}

#[test]
fn an_mpi_script_asks_a_task_per_rank_and_runs_through_srun() {
    let data = tempfile::tempdir().expect("tmp");
    // No sinfo on PATH: the request is not fitted to a cluster's nodes (tests/slurm.rs
    // checks that against the real one).
    let text = stdout(cmd(data.path()).env("PATH", "/nonexistent").args([
        "slurm",
        "script",
        "mc-pi",
        "--backend",
        "mpi",
        "--workers",
        "1,2,4",
        "--time",
        "00:10:00",
        "--partition",
        "debug",
        "-p",
        "samples=1e7",
    ]));
    for want in [
        "#SBATCH --job-name=hpc-tutor-mc-pi\n",
        "#SBATCH --partition=debug\n",
        "#SBATCH --ntasks=4\n",
        "#SBATCH --cpus-per-task=1\n",
        "#SBATCH --time=00:10:00\n",
        "# --time: given with --time\n",
        "  --backend mpi --launcher srun \\\n",
        "  --workers 1,2,4 --reps 5 --warmup 1 \\\n",
        "  --param samples=10000000 \\\n",
        "--format json --out \"$RESULTS_DIR/mc-pi-mpi-$SLURM_JOB_ID.jsonl\"",
    ] {
        assert!(text.contains(want), "missing {want:?} in\n{text}");
    }
    check_shell(&text);
}

#[test]
fn without_a_stored_run_the_time_comes_from_one_repetition_timed_now() {
    let data = tempfile::tempdir().expect("tmp");
    let out = cmd(data.path())
        .args([
            "slurm",
            "script",
            "amdahl",
            "--workers",
            "1,2",
            "-p",
            "work=100000",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("timing one repetition of amdahl"))
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains("#SBATCH --time=00:05:00\n"), "{text}");
    assert!(text.contains("timed on"), "{text}");
    assert!(text.contains("#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=2\n"));
    check_shell(&text);
}

#[test]
fn a_stored_run_of_the_same_sweep_sets_the_time() {
    let data = tempfile::tempdir().expect("tmp");
    let store = data.path().join("results");
    std::fs::create_dir_all(&store).expect("store");
    let file = store.join("measured.jsonl");
    cmd(data.path())
        .args([
            "run",
            "amdahl",
            "--workers",
            "1,2",
            "--reps",
            "2",
            "--warmup",
            "0",
            "-p",
            "work=100000",
            "--out",
        ])
        .arg(&file)
        .assert()
        .success();
    let run_id = match hpc_tutor::record::store::load(&file)
        .expect("results")
        .first()
    {
        Some(Record::Run(r)) => r.run_id.clone(),
        other => panic!("run record first, got {other:?}"),
    };
    let out = cmd(data.path())
        .args([
            "slurm",
            "script",
            "amdahl",
            "--workers",
            "1,2",
            "-p",
            "work=100000",
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("timing one repetition").not())
        .get_output()
        .clone();
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains(&format!("by run {run_id}")), "{text}");
}

#[test]
fn bad_input_is_one_line_and_status_2() {
    let data = tempfile::tempdir().expect("tmp");
    for (args, says) in [
        (
            vec!["slurm", "script", "mc-pi", "--time", "soon"],
            "--time: `soon` is not a time limit",
        ),
        (vec!["slurm", "script", "nope"], "unknown experiment `nope`"),
        (
            vec!["slurm", "script", "mc-pi", "-p", "samples=-1"],
            "samples",
        ),
        (
            vec![
                "slurm",
                "script",
                "exchange",
                "--backend",
                "mpi",
                "--workers",
                "4",
            ],
            "always runs on exactly 2 ranks",
        ),
        (
            vec!["slurm", "script", "pingpong", "--backend", "threads"],
            "does not run on the `threads` backend",
        ),
        (vec!["slurm", "script", "mc-pi", "--nodes", "0"], "--nodes"),
    ] {
        cmd(data.path())
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
    }
}

fn measured(data: &Path, workers: &str, out: &Path) {
    cmd(data)
        .args([
            "run",
            "amdahl",
            "--workers",
            workers,
            "--reps",
            "2",
            "--warmup",
            "0",
            "-p",
            "work=2000000",
            "-p",
            "serial=0.2",
            "--out",
        ])
        .arg(out)
        .assert()
        .success();
}

#[test]
fn array_task_results_merge_into_one_sweep_that_export_plots() {
    let data = tempfile::tempdir().expect("tmp");
    let dir = data.path().join("array");
    std::fs::create_dir_all(&dir).expect("dir");
    // Two "array tasks", one point each, measured for real.
    measured(data.path(), "2", &dir.join("amdahl-1.jsonl"));
    measured(data.path(), "1", &dir.join("amdahl-0.jsonl"));
    let merged = data.path().join("merged.jsonl");
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&dir)
        .arg("-o")
        .arg(&merged)
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "amdahl (threads): 2 point(s) from 2 file(s)",
        ));
    let records = hpc_tutor::record::store::load(&merged).expect("merged file reads");
    let runs: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Run(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].workers, [1, 2]);
    assert_eq!(runs[0].merged_from.len(), 2);
    let two = records
        .iter()
        .find_map(|r| match r {
            Record::Point(p) if p.workers == 2 => Some(p),
            _ => None,
        })
        .expect("the 2-worker point");
    assert!(
        two.speedup.is_some(),
        "speedup against the other task's point"
    );
    let png = data.path().join("merged.png");
    cmd(data.path())
        .args(["export", "--run"])
        .arg(&merged)
        .arg("-o")
        .arg(&png)
        .assert()
        .success();
    let bytes = std::fs::read(&png).expect("png written");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
}

#[test]
fn merge_refuses_bad_files_and_mixed_sweeps_to_one_file() {
    let data = tempfile::tempdir().expect("tmp");
    let empty = data.path().join("empty");
    std::fs::create_dir_all(&empty).expect("dir");
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&empty)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no results files (.jsonl)"));

    let good = data.path().join("good.jsonl");
    measured(data.path(), "1", &good);
    let bad = data.path().join("bad.jsonl");
    let mut text = std::fs::read_to_string(&good).expect("read");
    text = text.replacen('\n', "\n{\"v\":1,\"kind\":\"nonsense\"}\n", 1);
    std::fs::write(&bad, text).expect("write");
    // A bad file among good ones is listed and left out; alone, it is bad input.
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&good)
        .arg(&bad)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("  {}:2:", bad.display())));
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:2:", bad.display())));

    let other = data.path().join("other.jsonl");
    cmd(data.path())
        .args([
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
            "--out",
        ])
        .arg(&other)
        .assert()
        .success();
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&good)
        .arg(&other)
        .arg("-o")
        .arg(data.path().join("one.jsonl"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("2 different sweeps"));
    let out_dir = data.path().join("out");
    std::fs::create_dir_all(&out_dir).expect("dir");
    cmd(data.path())
        .args(["results", "merge"])
        .arg(&good)
        .arg(&other)
        .arg("-o")
        .arg(&out_dir)
        .assert()
        .success();
    assert_eq!(std::fs::read_dir(&out_dir).expect("dir").count(), 2);
}

#[test]
fn a_slurm_controller_that_does_not_answer_costs_at_most_a_moment() {
    use std::os::unix::fs::PermissionsExt;
    let data = tempfile::tempdir().expect("tmp");
    let bin = data.path().join("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    // sinfo with its controller down retries for about 9 s before it gives up.
    let sinfo = bin.join("sinfo");
    std::fs::write(&sinfo, "#!/bin/sh\nsleep 20\n").expect("fake sinfo");
    std::fs::set_permissions(&sinfo, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let started = std::time::Instant::now();
    let text = stdout(
        cmd(data.path())
            .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
            .args(["slurm", "info"]),
    );
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(6), "took {took:?}");
    assert!(!text.contains("nodes of up to"), "{text}");
}

/// `results merge -o` and `slurm script -o` write through fsio: a device is written
/// through and stays a device, a full one is one line with exit 1, and a write that fails
/// half-way keeps the old file whole with no temporary file beside it.
#[test]
fn merge_and_script_outputs_are_written_safely() {
    let data = tempfile::tempdir().expect("tmp");
    let fixture = std::fs::canonicalize("tests/fixtures/results/amdahl-array").expect("fixture");
    let merge = |out: &str| {
        let mut c = cmd(data.path());
        c.args(["results", "merge"]).arg(&fixture).args(["-o", out]);
        c
    };
    let script = |out: &str| {
        let mut c = cmd(data.path());
        c.args(["slurm", "script", "mc-pi", "-o", out]);
        c
    };
    for (mut c, name) in [
        (merge("/dev/null"), "merge"),
        (script("/dev/null"), "script"),
    ] {
        c.assert().success();
        assert!(common::is_char_device("/dev/null"), "after {name}");
    }
    merge("/dev/full").assert().code(1).stderr(predicate::str::ends_with(
        "hpc-tutor results merge: cannot write /dev/full: No space left on device (os error 28)\n",
    ));
    script("/dev/full").assert().code(1).stderr(predicate::str::ends_with(
        "hpc-tutor slurm script: cannot write /dev/full: No space left on device (os error 28)\n",
    ));
    assert!(common::is_char_device("/dev/full"));

    // Both outputs are over 1 KiB: past a 2-block limit under any shell.
    let dir = data.path().join("out");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("merged.jsonl"), "old results\n").expect("old");
    std::fs::write(dir.join("job.sbatch"), "old script\n").expect("old");
    let out = common::with_file_size_limit(1)
        .args(["results", "merge"])
        .arg(&fixture)
        .args(["-o", "merged.jsonl"])
        .current_dir(&dir)
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with(
            "hpc-tutor results merge: cannot write merged.jsonl: File too large (os error 27)\n"
        ),
        "{out:?}"
    );
    let out = common::with_file_size_limit(1)
        .args(["slurm", "script", "mc-pi", "-o", "job.sbatch"])
        .current_dir(&dir)
        .env("HPC_TUTOR_DATA_DIR", data.path())
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).ends_with(
            "hpc-tutor slurm script: cannot write job.sbatch: File too large (os error 27)\n"
        ),
        "{out:?}"
    );
    assert_eq!(common::names_in(&dir), ["job.sbatch", "merged.jsonl"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("merged.jsonl")).expect("read"),
        "old results\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("job.sbatch")).expect("read"),
        "old script\n"
    );
}

/// Every value that lands in an #SBATCH line is a name SLURM allows: anything else is
/// refused with exit 2 naming the option, and nothing is written.
#[test]
fn account_partition_and_time_that_are_not_slurm_values_are_refused() {
    let data = tempfile::tempdir().expect("tmp");
    let out = data.path().join("job.sbatch");
    for (option, value, says) in [
        (
            "--account",
            "x\nrm -rf ~",
            "--account: `x\\nrm -rf ~` is not allowed",
        ),
        ("--account", "a b", "--account: `a b` is not allowed"),
        ("--account", "$(id)", "letters, digits, `_`, `-` and `.`"),
        (
            "--partition",
            "debug;reboot",
            "--partition: `debug;reboot` is not allowed",
        ),
        ("--partition", "short,", "separated by commas"),
        (
            "--time",
            "10\nrm -rf ~",
            "--time: `10\\nrm -rf ~` is not a time limit",
        ),
        ("--time", "99999999999999999-00", "is not a time limit"),
    ] {
        cmd(data.path())
            .env("PATH", "/nonexistent")
            .args(["slurm", "script", "mc-pi", option, value, "-o"])
            .arg(&out)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(says))
            .stderr(predicate::str::contains("\nrm").not());
        assert!(!out.exists(), "{option} {value:?}: nothing written");
    }
    // Names as SLURM has them, and a list of partitions, are kept as given.
    let text = stdout(cmd(data.path()).env("PATH", "/nonexistent").args([
        "slurm",
        "script",
        "mc-pi",
        "--account",
        "proj_1.a-b",
        "--partition",
        "short,long",
        "--time",
        "10",
    ]));
    assert!(text.contains("#SBATCH --account=proj_1.a-b\n"), "{text}");
    assert!(text.contains("#SBATCH --partition=short,long\n"), "{text}");
    check_shell(&text);
}

/// The command line is copied into the script's header: an argument with a newline stays
/// on its comment line.
#[test]
fn the_command_line_in_the_header_stays_a_comment() {
    let data = tempfile::tempdir().expect("tmp");
    let out = data.path().join("odd\nname.sbatch");
    cmd(data.path())
        .env("PATH", "/nonexistent")
        .args(["slurm", "script", "mc-pi", "--time", "10", "-o"])
        .arg(&out)
        .assert()
        .success();
    let text = std::fs::read_to_string(&out).expect("written");
    assert!(
        text.contains("-o $'") && text.contains("odd\\nname.sbatch'"),
        "{text}"
    );
    assert!(
        text.lines().all(|l| !l.starts_with("name.sbatch")),
        "{text}"
    );
    check_shell(&text);
}
