//! Checking a demo script and reading a folder of results files take time in proportion to
//! their input: four times the steps or files may take about four times as long, not
//! sixteen. (How long exactly belongs in benchmarks; these compare a run with one of a
//! quarter the size on the same machine, so they hold in debug and release builds alike.)

use std::path::PathBuf;
use std::time::{Duration, Instant};

use hpc_tutor::demo::Script;
use hpc_tutor::demo::script::Base;
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::measure::merge;
use hpc_tutor::record::Record;

/// One measurement at a time: the tests of this file must not time each other.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The shortest of three runs of `f`: the least disturbed by other work on the machine.
fn fastest(mut f: impl FnMut()) -> Duration {
    let _alone = ALONE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    (0..3)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Linear work grows 4× from `small` to `large` (4× the input); quadratic work 16×. The
/// bound leaves room for noise and for caches that fit the small input only.
fn assert_linear(what: &str, small: Duration, large: Duration) {
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-6);
    eprintln!("{what}: {small:?} for n, {large:?} for 4n: {ratio:.1}×");
    assert!(
        ratio < 9.0,
        "{what}: 4× the input took {ratio:.1}× as long ({small:?} → {large:?}): not linear"
    );
}

/// A script of `n` steps: captions, lessons at a heading, puzzles and replays, each kind
/// many times (as a long kiosk loop has them).
fn script(n: usize) -> String {
    let kinds = [
        "[[step]]\ncaption = \"a caption\\non two lines\"\nwait = 1\n",
        "[[step]]\nlesson = \"race-conditions\"\nheading = \"One line, three steps\"\nwait = 1\n",
        "[[step]]\npuzzle = \"lost-update\"\nschedule = [\"T1\", \"T2\", \"T1\", \"T1\", \"T2\", \"T2\"]\ntick = 0.1\n",
        "[[step]]\nreplay = \"assets/recordings/amdahl.jsonl\"\nspeed = 10\n",
    ];
    let mut text = String::from("title = \"long\"\nloop = true\n\n");
    for i in 0..n {
        text.push_str(kinds[i % kinds.len()]);
        text.push('\n');
    }
    text
}

#[test]
fn checking_a_demo_script_is_linear_in_its_steps() {
    let lessons = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    let (small, large) = (script(2_500), script(10_000));
    let check = |text: &str, n: usize| {
        let s = Script::parse(text, "long.toml", &Base::BuiltIn, &lessons).expect("valid");
        assert_eq!(s.steps.len(), n);
        // Lines are still right at the end of a long script.
        assert_eq!(s.steps[n - 1].line, text.lines().count() - 3);
    };
    let t_small = fastest(|| check(&small, 2_500));
    let t_large = fastest(|| check(&large, 10_000));
    assert_linear("demo --check", t_small, t_large);
}

/// `n` results files as the tasks of job arrays write them: half of one sweep, each task a
/// point of its own worker count, and half each a sweep of its own (other parameters).
fn results_files(n: usize) -> Vec<(PathBuf, Vec<Record>)> {
    let dir = PathBuf::from("tests/fixtures/results/amdahl-array");
    let task = merge::load_all(&merge::files(&[dir]).expect("fixture folder"))
        .expect("fixture files")
        .remove(0)
        .1;
    (0..n)
        .map(|i| {
            let mut records = task.clone();
            let same_sweep = i % 2 == 0;
            let workers = if same_sweep { i / 2 + 1 } else { 1 };
            for r in &mut records {
                match r {
                    Record::Run(run) => {
                        run.run_id = format!("task-{i}");
                        run.started_at = format!("2026-11-22T10:00:00.{i:06}+00:00");
                        run.env.slurm_job_id = Some(format!("{}", 1000 + i));
                        run.workers = vec![workers];
                        if !same_sweep {
                            run.params
                                .insert("work".into(), format!("{}", 1_000_000 + i));
                        }
                    }
                    Record::Sample(s) => s.workers = workers,
                    Record::Point(p) => p.workers = workers,
                    _ => {}
                }
            }
            (PathBuf::from(format!("results/task-{i:05}.jsonl")), records)
        })
        .collect()
}

#[test]
fn merging_a_folder_of_results_is_linear_in_its_files() {
    let (small, large) = (results_files(2_000), results_files(8_000));
    let merged = |inputs: &[(PathBuf, Vec<Record>)]| {
        let entries = hpc_tutor::tui::results::entries(inputs, merge::merge(inputs));
        // One sweep of the array tasks, and one for each file of other parameters.
        assert_eq!(entries.len(), inputs.len() / 2 + 1);
        let array = entries
            .iter()
            .find(|e| e.runs.len() > 1)
            .expect("the array's sweep");
        assert_eq!(array.points(), inputs.len() / 2);
        assert_eq!(array.job_ids().len(), inputs.len() / 2);
    };
    let t_small = fastest(|| merged(&small));
    let t_large = fastest(|| merged(&large));
    assert_linear("--results", t_small, t_large);
}
