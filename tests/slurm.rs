//! Real SLURM jobs on the one-node cluster of `tests/slurm/cluster.sh`: the batch scripts of
//! `slurm/` (strong and weak scaling, the array sweep with its dependent merge job), MPI
//! ranks under `srun --mpi=pmix`, the terminal interface in `srun --pty`, the advisor and
//! the job-script generator.
//!
//! Every test is ignored by default: they need the cluster. `tests/run.sh` starts it and
//! runs them with `cargo test --test slurm --features mpi -- --ignored --test-threads=1`;
//! by hand: `bash tests/slurm/cluster.sh up`, then the same command. Run without a cluster,
//! each fails with a message saying so, never passes silently.
//!
//! Jobs run in a temporary folder of their own (`sbatch --chdir`), with the state and
//! results store of the tutor in it too, and are cancelled when a test fails.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::points;
use hpc_tutor::record::{Record, Status};

const NEEDS: &str = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up";

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_hpc-tutor")
}

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A job name unique to this test and test process: jobs are found and cancelled by it.
fn job_name(test: &str) -> String {
    format!("hpct-{test}-{}", std::process::id())
}

/// A test's scratch folder and the jobs it submitted, cancelled on drop (a failed test
/// leaves nothing queued).
struct Scratch {
    dir: tempfile::TempDir,
    name: String,
}

impl Scratch {
    /// Checks that the cluster is up, then makes the folder.
    fn new(test: &str) -> Self {
        cluster_is_up();
        let dir = tempfile::Builder::new()
            .prefix(&format!("hpc-tutor-slurm-{test}-"))
            .tempdir()
            .expect("tempdir");
        Self {
            dir,
            name: job_name(test),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A command with the environment every job of the tests gets: this build's binary
    /// as `HPC_TUTOR` and on `PATH`, the tutor's state in the scratch folder, no SLURM
    /// variables of the environment the tests themselves run in, and the scratch folder as
    /// its working folder.
    fn cmd(&self, program: &str) -> Command {
        let mut c = Command::new(program);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("SLURM_") {
                c.env_remove(k);
            }
        }
        let bin_dir = Path::new(bin()).parent().expect("binary folder");
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin_dir.to_path_buf()];
        paths.extend(std::env::split_paths(&path));
        c.env("PATH", std::env::join_paths(paths).expect("PATH"))
            .env("HPC_TUTOR", bin())
            .env("HPC_TUTOR_STATE_DIR", self.path().join("state"))
            .env("HPC_TUTOR_DATA_DIR", self.path().join("data"))
            .env("NO_COLOR", "1")
            .current_dir(self.path())
            .stdin(Stdio::null());
        c
    }

    /// Every job output (`*.out`) in the folder, for failure messages.
    fn job_outputs(&self) -> String {
        let mut s = String::new();
        for f in files(self.path(), "out") {
            s.push_str(&format!(
                "--- {}\n{}\n",
                f.display(),
                std::fs::read_to_string(&f).unwrap_or_default()
            ));
        }
        s
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = Command::new("scancel")
            .arg(format!("--name={}", self.name))
            .output();
    }
}

/// Panics, with the way to start it, unless the cluster answers and its node is usable.
fn cluster_is_up() {
    let out = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .unwrap_or_else(|e| panic!("sinfo cannot run ({e}): {NEEDS}"));
    let state = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && state.lines().any(
                |s| ["idle", "mixed", "allocated", "completing", "planned"].contains(&s.trim())
            ),
        "the SLURM cluster is not usable (sinfo: {state} {}): {NEEDS}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` to its end, at most `limit`; panics on time-out with what it printed.
fn run(mut cmd: Command, limit: Duration) -> Output {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let o = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let e = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not end within {limit:?}; stderr: {}",
                String::from_utf8_lossy(&e.join().unwrap_or_default())
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Output {
        status,
        stdout: o.join().unwrap_or_default(),
        stderr: e.join().unwrap_or_default(),
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Files ending in `.ext` under `dir`, recursively, sorted.
fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                found.push(p);
            }
        }
    }
    found.sort();
    found
}

fn records_of(text: &str, origin: &str) -> Vec<Record> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| Record::from_line(l).unwrap_or_else(|e| panic!("{origin}: {e}: {l}")))
        .collect()
}

fn read_records(path: &Path) -> Vec<Record> {
    let t = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    records_of(&t, &path.display().to_string())
}

fn ended_ok(recs: &[Record]) -> bool {
    matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Ok)
}

/// `hpc-tutor export --run FILE -o OUT` succeeds and writes a PNG.
fn assert_exports(s: &Scratch, results: &Path) {
    let png = s.path().join(format!(
        "{}.png",
        results.file_stem().expect("stem").to_string_lossy()
    ));
    let mut c = s.cmd(bin());
    c.arg("export")
        .arg("--run")
        .arg(results)
        .arg("-o")
        .arg(&png);
    let out = run(c, Duration::from_secs(60));
    assert!(
        out.status.success(),
        "export of {}: {}",
        results.display(),
        text(&out.stderr)
    );
    assert_png(&png);
}

fn assert_png(png: &Path) {
    let bytes = std::fs::read(png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
    assert!(
        bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{} is a PNG",
        png.display()
    );
}

/// `sbatch --wait` of a script of `slurm/` in the scratch folder; returns the job id after
/// checking that it ended with exit status 0.
fn sbatch_wait(s: &Scratch, script: &str, sbatch_args: &[&str], env: &[(&str, &str)]) -> String {
    let mut c = s.cmd("sbatch");
    c.args(["--wait", "--parsable", "--time=5"])
        .arg(format!("--job-name={}", s.name))
        .arg(format!("--chdir={}", s.path().display()))
        .args(sbatch_args)
        .arg(repo().join("slurm").join(script));
    for (k, v) in env {
        c.env(k, v);
    }
    let out = run(c, Duration::from_secs(240));
    let id = text(&out.stdout)
        .lines()
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert!(
        out.status.success(),
        "sbatch --wait {script}: exit {:?}\n{}\n{}",
        out.status.code(),
        text(&out.stderr),
        s.job_outputs()
    );
    id
}

/// The scaling scripts: a small sweep on 1 and 2 threads whose results chart.
fn scaling_job(test: &str, script: &str, expect_file: &str, mode: &str) {
    let s = Scratch::new(test);
    let started = Instant::now();
    let id = sbatch_wait(
        &s,
        script,
        &[],
        &[("PARAMS", "samples=1e6"), ("REPS", "3"), ("WORKERS", "1,2")],
    );
    eprintln!("{script}: job {id} took {:.1?}", started.elapsed());
    let results = s
        .path()
        .join("results")
        .join(format!("{expect_file}-{id}.jsonl"));
    assert!(
        results.is_file(),
        "{} is written; the folder holds {:?}\n{}",
        results.display(),
        files(s.path(), "jsonl"),
        s.job_outputs()
    );
    let recs = read_records(&results);
    let Some(Record::Run(r)) = recs.first() else {
        panic!("a run record first")
    };
    assert_eq!(r.env.slurm_job_id.as_deref(), Some(id.as_str()));
    assert_eq!(r.env.cpus_available, 2, "the job's 2 CPUs");
    let pts = points(&recs);
    assert_eq!(
        pts.iter().map(|p| p.workers).collect::<Vec<_>>(),
        [1, 2],
        "{results:?}"
    );
    assert!(pts.iter().all(|p| p.reps == 3));
    assert!(ended_ok(&recs));
    let log = std::fs::read_to_string(s.path().join(format!("hpc-tutor-{}-{id}.out", s.name)))
        .unwrap_or_else(|e| panic!("job output: {e}"));
    assert!(log.contains("exit status 0; results: "), "{log}");
    assert_eq!(r.params.get("mode").map(String::as_str), Some(mode));
    assert_exports(&s, &results);
}

#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn strong_scaling_batch_job_writes_results_that_chart() {
    scaling_job("strong", "strong-scaling.sbatch", "mc-pi-threads", "strong");
}

#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn weak_scaling_batch_job_writes_results_that_chart() {
    scaling_job("weak", "weak-scaling.sbatch", "mc-pi-threads-weak", "weak");
}

/// The state of a job from `scontrol`, `None` once SLURM has forgotten it.
fn job_state(id: &str) -> Option<String> {
    let out = Command::new("scontrol")
        .args(["show", "job", "-o", id])
        .output()
        .ok()?;
    let t = text(&out.stdout);
    t.split_whitespace()
        .find_map(|f| f.strip_prefix("JobState="))
        .map(str::to_owned)
}

#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn array_sweep_then_dependent_merge_gives_one_sweep_and_its_chart() {
    let s = Scratch::new("sweep");
    let started = Instant::now();
    let mut c = s.cmd("bash");
    c.arg(repo().join("slurm/submit-sweep.sh"))
        .args(["--workers", "1,2", "--reps", "2", "--param", "samples=1e6"])
        .args(["--time", "5", "--chdir"])
        .arg(s.path())
        .arg("--")
        .arg(format!("--job-name={}", s.name));
    let out = run(c, Duration::from_secs(30));
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    let field = |key: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .unwrap_or_else(|| panic!("{key:?} in {stdout}"))
            .trim()
            .to_owned()
    };
    let array = field("array job ");
    let merge = field("merge job ");
    let merged = PathBuf::from(field("merged "));
    let chart = PathBuf::from(field("chart "));
    assert_eq!(
        merged,
        s.path().join(format!("results/sweep-{array}.jsonl")),
        "{stdout}"
    );

    // The merge job waits for the array, then runs; SLURM forgets it a few seconds after
    // it ends (MinJobAge), so its last state seen is kept.
    let mut last = String::new();
    let until = Instant::now() + Duration::from_secs(240);
    loop {
        match job_state(&merge) {
            Some(st) => last = st,
            None if !last.is_empty() => break,
            None => {}
        }
        if [
            "COMPLETED",
            "FAILED",
            "CANCELLED",
            "TIMEOUT",
            "OUT_OF_MEMORY",
            "NODE_FAIL",
        ]
        .contains(&last.as_str())
        {
            break;
        }
        assert!(
            Instant::now() < until,
            "merge job {merge} still {last} after 240 s\n{}",
            s.job_outputs()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    eprintln!(
        "array {array} + merge {merge}: {last} after {:.1?}",
        started.elapsed()
    );
    assert_eq!(last, "COMPLETED", "merge job {merge}\n{}", s.job_outputs());

    // One file per array task, one point each.
    let per_task = files(&s.path().join(format!("results/sweep-{array}")), "jsonl");
    assert_eq!(per_task.len(), 2, "{per_task:?}");
    let mut task_points: Vec<usize> = per_task
        .iter()
        .flat_map(|f| {
            let recs = read_records(f);
            assert!(ended_ok(&recs), "{}", f.display());
            points(&recs).iter().map(|p| p.workers).collect::<Vec<_>>()
        })
        .collect();
    task_points.sort_unstable();
    assert_eq!(task_points, [1, 2]);

    // The merged sweep: one run with the points of every task, speedup recomputed.
    let recs = read_records(&merged);
    let runs = recs.iter().filter(|r| matches!(r, Record::Run(_))).count();
    assert_eq!(runs, 1, "one run record in {}", merged.display());
    let pts = points(&recs);
    let mut workers: Vec<usize> = pts.iter().map(|p| p.workers).collect();
    workers.sort_unstable();
    assert_eq!(
        workers, task_points,
        "every task's point is in the merged sweep"
    );
    assert!(
        pts.iter().all(|p| p.speedup.is_some()),
        "speedup over the merged points: {pts:?}"
    );
    assert_png(&chart);
}

/// No worker rank of this build's binary is running (only ours: other checkouts may run
/// their own tests on the machine).
#[cfg(feature = "mpi")]
fn our_ranks() -> String {
    let out = Command::new("pgrep")
        .args(["-a", "-f", &format!("{} mpi-worker", bin())])
        .output()
        .expect("pgrep");
    text(&out.stdout).trim().to_owned()
}

#[cfg(feature = "mpi")]
#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn mpi_ranks_under_srun_pmix_scale_inside_salloc() {
    let s = Scratch::new("mpi");
    let started = Instant::now();
    let mut c = s.cmd("salloc");
    c.args(["-Q", "--ntasks=2", "--cpus-per-task=1", "--time=5"])
        .arg(format!("--job-name={}", s.name))
        .arg(bin())
        .args(["run", "mc-pi", "--backend", "mpi", "--workers", "1,2"])
        .args(["--reps", "2", "--param", "samples=1e6", "--format", "json"]);
    let out = run(c, Duration::from_secs(180));
    eprintln!("mc-pi on 1 and 2 ranks: {:.1?}", started.elapsed());
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    let recs = records_of(&text(&out.stdout), "stdout");
    let Some(Record::Run(r)) = recs.first() else {
        panic!("a run record first")
    };
    assert_eq!(r.backend, "mpi");
    assert!(r.env.slurm_job_id.is_some(), "run inside the allocation");
    let pts = points(&recs);
    assert_eq!(pts.iter().map(|p| p.workers).collect::<Vec<_>>(), [1, 2]);
    for p in &pts {
        assert_eq!(p.ranks, Some(p.workers), "{p:?}");
        assert!(p.outputs["abs_error"] < 0.01, "{:?}", p.outputs);
        // The ranks run under slurmstepd: their CPU time is not the run's to see, so no
        // share of "other work" is claimed (it once flagged every srun point as shared).
        assert_eq!(p.other_busy, None, "{p:?}");
        assert!(p.disturbance().is_none(), "{p:?}");
    }
    assert!(
        text(&out.stderr).contains("srun runs the ranks under slurmstepd"),
        "{}",
        text(&out.stderr)
    );
    assert!(ended_ok(&recs), "{}", text(&out.stderr));
    assert_eq!(our_ranks(), "", "ranks left behind");
}

#[cfg(feature = "mpi")]
#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn send_first_exchange_under_srun_deadlocks_exit_3_and_leaves_no_step() {
    let s = Scratch::new("deadlock");
    let started = Instant::now();
    // Inside the allocation: the run, then (while the job still lives) its steps and ranks,
    // which must all be gone within a few seconds.
    let inner = r#"
        "$HPC_TUTOR" run exchange --backend mpi --param order=send-first --param size=1048576 --format json > exchange.jsonl
        code=$?
        for _ in $(seq 40); do
            steps="$(squeue -h -s -j "$SLURM_JOB_ID" -o '%i %j')"
            ranks="$(pgrep -a -f "$HPC_TUTOR mpi-worker")"
            [ -z "$steps$ranks" ] && break
            sleep 0.25
        done
        echo "exit=$code"
        echo "steps=$steps"
        echo "ranks=$ranks"
    "#;
    let mut c = s.cmd("salloc");
    c.args(["-Q", "--ntasks=2", "--cpus-per-task=1", "--time=5"])
        .arg(format!("--job-name={}", s.name))
        .args(["bash", "-c", inner]);
    let out = run(c, Duration::from_secs(180));
    let report = text(&out.stdout);
    eprintln!("deadlock diagnosed in {:.1?}", started.elapsed());
    assert!(out.status.success(), "{report}{}", text(&out.stderr));
    assert!(
        report.contains("exit=3\n"),
        "exit 3 for a deadlock: {report}"
    );
    assert!(report.contains("steps=\n"), "no step left: {report}");
    assert!(report.contains("ranks=\n"), "no rank left: {report}");
    let recs = read_records(&s.path().join("exchange.jsonl"));
    assert!(
        recs.iter().any(|r| matches!(r, Record::Diagnosis(_))),
        "the wait-for cycle is reported"
    );
    assert!(matches!(recs.last(), Some(Record::End(e)) if e.status == Status::Deadlock));
    assert_eq!(our_ranks(), "", "ranks left behind");
}

/// Jobs of this test still known to SLURM, pending or running.
fn live_jobs(name: &str) -> String {
    let out = Command::new("squeue")
        .args(["-h", "-n", name, "-o", "%i %T"])
        .output()
        .expect("squeue");
    text(&out.stdout).trim().to_owned()
}

#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn interactive_script_shows_the_job_and_its_cpus_and_quits_cleanly() {
    cluster_is_up();
    let t = common::tmux::Tmux::start("slurm");
    let name = job_name("tui");
    let d = t.dir.path().display();
    t.run(&format!(
        "stty -a > {d}/stty-before; HPC_TUTOR='{}' bash '{}' -c 2 -t 5 -J {name}; echo $? > {d}/exit; stty -a > {d}/stty-after",
        bin(),
        repo().join("slurm/interactive.sh").display()
    ));
    let screen = t.wait_for("SLURM job");
    let id = live_jobs(&name)
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("job {name} in squeue; the screen shows:\n{screen}"))
        .to_owned();
    let screen = t.wait_for(&format!("SLURM job {id}"));
    assert!(screen.contains("2 CPUs"), "{screen}");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit").trim(), "0", "{}", t.screen());
    assert_eq!(
        t.wait_for_file("stty-before"),
        t.wait_for_file("stty-after")
    );
    let until = Instant::now() + Duration::from_secs(15);
    while !live_jobs(&name).is_empty() {
        assert!(Instant::now() < until, "job left: {}", live_jobs(&name));
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("scancel")
        .arg(format!("--name={name}"))
        .output();
}

#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn more_workers_than_the_allocation_has_cpus_prints_the_sbatch_fix() {
    let s = Scratch::new("advice");
    let mut c = s.cmd("srun");
    c.args(["--cpus-per-task=2", "--ntasks=1", "--time=5"])
        .arg(format!("--job-name={}", s.name))
        .arg(bin())
        .args(["run", "mc-pi", "--workers", "8", "--reps", "1"])
        .args(["--param", "samples=1e6", "--format", "json"]);
    let out = run(c, Duration::from_secs(120));
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("#SBATCH --cpus-per-task=8"),
        "the advice names the fix: {stderr}"
    );
}

#[cfg(feature = "mpi")]
#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn generated_job_script_runs_under_sbatch_and_its_results_parse() {
    let s = Scratch::new("script");
    let mut c = s.cmd(bin());
    c.args([
        "slurm",
        "script",
        "mc-pi",
        "--backend",
        "mpi",
        "--workers",
        "1,2,4",
    ])
    .args(["--reps", "2", "--param", "samples=1e6"]);
    let out = run(c, Duration::from_secs(30));
    let script = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(script.starts_with("#!"), "{script}");
    // The node has 2 CPUs (sinfo): the job asks for the 2 tasks that fit, and the
    // 4-rank point is overcommitted and labelled so, not refused.
    assert!(script.contains("#SBATCH --ntasks=2\n"), "{script}");
    assert!(script.contains("--workers 1,2,4 "), "{script}");
    assert!(script.contains("srun --overcommit"), "{script}");
    std::fs::write(s.path().join("job.sbatch"), &script).expect("write script");

    let started = Instant::now();
    let mut c = s.cmd("sbatch");
    c.args(["--wait", "--parsable", "--time=5"])
        .arg(format!("--job-name={}", s.name))
        .arg(format!("--chdir={}", s.path().display()))
        .arg("job.sbatch");
    let out = run(c, Duration::from_secs(240));
    eprintln!("generated script: {:.1?}", started.elapsed());
    assert!(
        out.status.success(),
        "sbatch --wait of:\n{script}\n{}\n{}",
        text(&out.stderr),
        s.job_outputs()
    );
    let results: Vec<PathBuf> = files(s.path(), "jsonl");
    assert!(
        !results.is_empty(),
        "the job wrote results\n{script}\n{}",
        s.job_outputs()
    );
    let found = results.iter().any(|f| {
        let recs = read_records(f);
        let mut w: Vec<usize> = points(&recs).iter().map(|p| p.workers).collect();
        w.sort_unstable();
        let four_oversubscribed = points(&recs)
            .iter()
            .all(|p| p.oversubscribed == (p.workers > 2));
        matches!(recs.first(), Some(Record::Run(r)) if r.backend == "mpi")
            && w == [1, 2, 4]
            && four_oversubscribed
    });
    assert!(
        found,
        "an mpi run on 1, 2 and 4 ranks, only 4 oversubscribed, among {results:?}"
    );
}

/// The tutor's step in `interactive.sh -n 2` lets the `srun --mpi=pmix` of its MPI runs
/// start ranks on the job's CPUs, each bound to a core of its own.
#[cfg(feature = "mpi")]
#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn interactive_script_with_mpi_tasks_runs_ranks_inside_the_session() {
    cluster_is_up();
    let t = common::tmux::Tmux::start("slurm-mpi");
    let name = job_name("tui-mpi");
    let d = t.dir.path().display();
    t.run(&format!(
        "HPC_TUTOR='{}' bash '{}' -n 2 -t 5 -J {name} -- run mc-pi --backend mpi --workers 1,2 --reps 2 --param samples=1e6 --format json --out {d}/mpi.jsonl; echo $? > {d}/exit",
        bin(),
        repo().join("slurm/interactive.sh").display()
    ));
    assert_eq!(t.wait_for_file("exit").trim(), "0", "{}", t.screen());
    let recs = read_records(&t.file("mpi.jsonl"));
    let Some(Record::Run(r)) = recs.first() else {
        panic!("a run record first")
    };
    assert!(r.env.slurm_job_id.is_some());
    let pts = points(&recs);
    assert_eq!(pts.iter().map(|p| p.workers).collect::<Vec<_>>(), [1, 2]);
    assert!(
        pts.iter().all(|p| !p.oversubscribed),
        "2 ranks on the job's 2 CPUs: {pts:?}"
    );
    assert!(ended_ok(&recs));
    assert_eq!(our_ranks(), "", "ranks left behind");
    let _ = Command::new("scancel")
        .arg(format!("--name={name}"))
        .output();
}

/// `slurm script --exec`: the learner's own program as a batch job, on processes it starts
/// itself and as ranks under `srun`; its results parse with both times.
#[test]
#[ignore = "needs the one-node SLURM cluster: tests/slurm/cluster.sh up"]
fn program_job_scripts_run_under_sbatch_on_processes_and_srun_ranks() {
    let s = Scratch::new("program");
    // Rank 0 (or the only process) prints its own time; every copy checks its thread count.
    std::fs::write(
        s.path().join("work.sh"),
        "[ \"$OMP_NUM_THREADS\" = 1 ] || exit 5\nsleep 0.05\n[ \"${SLURM_PROCID:-0}\" = 0 ] && echo \"took 0.05 s on $1\"\nexit 0\n",
    )
    .expect("write the program");
    for (backend, workers) in [("processes", "1,2"), ("mpi", "1,2")] {
        let mut c = s.cmd(bin());
        c.args(["slurm", "script", "--exec", "sh work.sh {workers}"])
            .args(["--backend", backend, "--workers", workers, "--reps", "2"])
            .args(["--time-from", "took ([0-9.]+) s", "--time", "5"]);
        let out = run(c, Duration::from_secs(30));
        let script = text(&out.stdout);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            script.contains("run --exec 'sh work.sh {workers}' \\\n"),
            "{script}"
        );
        let file = format!("{backend}.sbatch");
        std::fs::write(s.path().join(&file), &script).expect("write script");
        let mut c = s.cmd("sbatch");
        c.args(["--wait", "--parsable", "--time=5"])
            .arg(format!("--job-name={}", s.name))
            .arg(format!("--chdir={}", s.path().display()))
            .arg(&file);
        let out = run(c, Duration::from_secs(240));
        assert!(
            out.status.success(),
            "sbatch --wait of:\n{script}\n{}\n{}",
            text(&out.stderr),
            s.job_outputs()
        );
        let found = files(s.path(), "jsonl").into_iter().find_map(|f| {
            let recs = read_records(&f);
            matches!(recs.first(), Some(Record::Run(r)) if r.backend == backend && r.experiment == "program")
                .then_some(recs)
        });
        let recs = found.unwrap_or_else(|| {
            panic!(
                "a {backend} program run among the results\n{}",
                s.job_outputs()
            )
        });
        let Some(Record::Run(r)) = recs.first() else {
            panic!("a run record first")
        };
        assert!(r.env.slurm_job_id.is_some(), "{r:?}");
        let pts = points(&recs);
        assert_eq!(pts.iter().map(|p| p.workers).collect::<Vec<_>>(), [1, 2]);
        assert!(
            pts.iter()
                .all(|p| p.median_s == 0.05 && p.outputs.get("wall_s").is_some_and(|w| *w >= 0.05)),
            "{pts:?}"
        );
        assert!(ended_ok(&recs), "{backend}: {recs:?}");
    }
}
