//! Demo scripts: the built-in one and the valid fixtures load; every invalid fixture is
//! refused with the `path:line: message` its first line announces (`# error: LINE: TEXT`).

use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use hpc_tutor::chart::Metric;
use hpc_tutor::demo::script::{Action, ExportKind, Wait};
use hpc_tutor::demo::{Script, ScriptError};
use hpc_tutor::lesson::{LessonSet, LessonSource};

fn lessons() -> LessonSet {
    LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons")
}

fn fixture(kind: &str, name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/demos").join(kind).join(name)
}

#[test]
fn the_built_in_demo_is_valid_and_tells_the_core_story() {
    let s = Script::built_in(&lessons()).expect("valid");
    let runs: Vec<(&str, &str, bool)> = s
        .steps
        .iter()
        .filter_map(|st| match &st.action {
            Action::Run(r) => Some((
                r.experiment.as_str(),
                r.backend.as_str(),
                r.fallback.is_some(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(
        runs,
        [
            ("race", "threads", true),
            ("locks", "threads", true),
            ("locks", "threads", true),
            ("amdahl", "threads", true),
            ("mc-pi", "threads", true),
            ("mc-pi", "mpi", true),
            ("stream", "threads", true),
            ("farm", "mpi", true),
        ]
    );
    let puzzles = s
        .steps
        .iter()
        .filter(|st| matches!(st.action, Action::Puzzle { .. }))
        .count();
    assert_eq!(puzzles, 2);
    assert!(
        s.steps
            .iter()
            .all(|st| st.notes.is_some() || st.caption.is_some()),
        "every step has notes or is a caption"
    );
    assert_eq!(s.steps.last().map(|st| st.wait), Some(Wait::Key));
}

#[test]
fn every_kind_of_step_is_read() {
    let s = Script::load(&fixture("valid", "every-step.toml"), &lessons()).expect("valid");
    assert_eq!(s.title.as_deref(), Some("Every step"));
    assert_eq!(s.steps.len(), 8);
    assert_eq!(s.steps[0].caption.as_deref(), Some("Hello"));
    assert_eq!(s.steps[0].notes.as_deref(), Some("Say hello."));
    assert_eq!(s.steps[0].wait, Wait::For(Duration::from_secs(2)));
    assert_eq!(s.steps[0].line, 4);
    match &s.steps[2].action {
        Action::Puzzle { schedule, tick, .. } => {
            assert_eq!(schedule, &[0, 1, 0, 0, 1, 1], "names, numbers, any case");
            assert_eq!(*tick, Duration::from_millis(500));
        }
        other => panic!("{other:?}"),
    }
    match &s.steps[3].action {
        Action::Run(r) => {
            assert_eq!(
                r.args,
                [
                    "run",
                    "amdahl",
                    "--backend",
                    "threads",
                    "--workers",
                    "1,2",
                    "--reps",
                    "2",
                    "--warmup",
                    "0",
                    "--param",
                    "serial=0.3",
                    "--param",
                    "work=1000000",
                    "--format",
                    "json",
                    "--no-store",
                ]
            );
            let fb = r.fallback.as_ref().expect("fallback read");
            assert_eq!(fb.name, "amdahl-small.jsonl");
            assert_eq!(fb.run().map(|x| x.experiment.as_str()), Some("amdahl"));
        }
        other => panic!("{other:?}"),
    }
    match &s.steps[4].action {
        Action::Replay(r) => {
            assert_eq!(r.speed, 2.0);
            assert!(r.compare);
            assert_eq!(r.metric, Metric::Time);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        s.steps[5].action,
        Action::Export {
            what: ExportKind::Chart,
            output: None
        }
    ));
    assert_eq!(s.steps[7].wait, Wait::Key);
}

#[test]
fn shipped_recordings_are_found_from_any_script() {
    let s = Script::load(&fixture("valid", "mpi-fallback.toml"), &lessons()).expect("valid");
    match &s.steps[0].action {
        Action::Run(r) => {
            let fb = r.fallback.as_ref().expect("shipped recording");
            let run = fb.run().expect("run record");
            assert_eq!(run.backend, "mpi");
            assert_eq!(run.experiment, "mc-pi");
        }
        other => panic!("{other:?}"),
    }
}

/// The `# error: LINE: TEXT` line at the top of an invalid fixture.
fn expectation(path: &Path) -> (usize, String) {
    let text = std::fs::read_to_string(path).expect("fixture");
    let first = text.lines().next().unwrap_or_default();
    let rest = first.strip_prefix("# error: ").unwrap_or_else(|| {
        panic!(
            "{}: first line must be `# error: LINE: TEXT`",
            path.display()
        )
    });
    let (line, message) = rest
        .split_once(": ")
        .unwrap_or((rest.trim_end_matches(':'), ""));
    (
        line.trim().parse().expect("line number"),
        message.to_owned(),
    )
}

#[test]
fn invalid_scripts_say_where_and_what() {
    let lessons = lessons();
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir("tests/fixtures/demos/invalid")
        .expect("fixtures")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        let (line, message) = expectation(&path);
        let errors = Script::load(&path, &lessons)
            .map(|_| ())
            .expect_err(&format!("{} must be refused", path.display()));
        let name = path.display().to_string();
        let found = errors.0.iter().any(|e: &ScriptError| {
            e.path == name && e.line == line && e.message.contains(&message)
        });
        if !found {
            wrong.push(format!(
                "{name}: expected `{name}:{line}: …{message}…`, got:\n{errors}"
            ));
        }
        assert!(
            errors.to_string().starts_with(&format!("{name}:")),
            "{errors}"
        );
        checked += 1;
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= 20, "only {checked} invalid fixtures");
}

#[test]
fn demo_check_reports_problems_with_exit_status_2() {
    Command::cargo_bin("hpc-tutor")
        .expect("binary")
        .args([
            "demo",
            "--check",
            "tests/fixtures/demos/invalid/bad-param.toml",
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::starts_with(
            "tests/fixtures/demos/invalid/bad-param.toml:6: run `amdahl`: parameter `serial`",
        ));
    Command::cargo_bin("hpc-tutor")
        .expect("binary")
        .args(["demo", "--check"])
        .assert()
        .success()
        .stdout(predicates::str::contains("assets/demos/default.toml"));
    Command::cargo_bin("hpc-tutor")
        .expect("binary")
        .args(["demo", "--print"])
        .assert()
        .success()
        .stdout(predicates::str::contains("[[step]]"));
}
