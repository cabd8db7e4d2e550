//! The lesson parser and validator on valid and invalid fixtures, and the shipped lessons.

mod common;

use common::{fixture_set, fixtures};
use hpc_tutor::lesson::{CheckKind, LessonSet, LessonSource, parse_lesson};

#[test]
fn shipped_lessons_are_all_valid() {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    let problems: Vec<String> = set.diagnostics().iter().map(|d| d.to_string()).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    for id in [
        "welcome",
        "concurrency-parallelism",
        "race-conditions",
        "lock-deadlock",
        "mpi-deadlock",
        "amdahl",
        "gustafson",
        "monte-carlo-pi",
        "mpi-collectives",
        "slurm-essentials",
        "python-gil",
        "memory-bandwidth",
        "task-farming",
        "ranks-threads",
    ] {
        let l = set
            .find(id)
            .unwrap_or_else(|| panic!("lesson {id} is shipped"));
        assert!(l.checks.len() >= 2, "{id} has at least two checks");
        assert!(!l.objectives.is_empty(), "{id} has objectives");
    }
    assert_eq!(
        set.lessons[0].id, "welcome",
        "the catalogue starts with the welcome"
    );
}

#[test]
fn valid_fixtures_parse_into_the_model() {
    let set = fixture_set("valid");
    assert!(set.broken.is_empty(), "{:?}", set.broken);
    let ids: Vec<&str> = set.lessons.iter().map(|l| l.id.as_str()).collect();
    // Known tracks first in their fixed order, an instructor's own track last.
    assert_eq!(ids, ["alpha", "beta", "gamma"]);
    let alpha = &set.lessons[0];
    assert_eq!(alpha.objectives.len(), 2);
    assert_eq!(alpha.hints.len(), 2);
    assert!(
        alpha
            .notes
            .as_deref()
            .is_some_and(|n| n.contains("Ask the class"))
    );
    assert_eq!(
        alpha.checks[0].kind,
        CheckKind::Choice {
            choices: vec!["5".into(), "20".into(), "95".into(), "Unlimited".into()],
            answer: 1
        }
    );
    assert_eq!(
        alpha.checks[1].kind,
        CheckKind::Numeric {
            answer: 2.29,
            tolerance: 0.05,
            unit: Some("x".into())
        }
    );
    assert!(alpha.body.trim_start().starts_with("# Alpha"));
    assert_eq!(set.lessons[1].experiments, ["amdahl"]);
}

#[test]
fn every_invalid_fixture_gets_one_precise_diagnostic() {
    let set = fixture_set("invalid");
    let dir = fixtures("invalid").display().to_string();
    let got: Vec<String> = set
        .diagnostics()
        .iter()
        .map(|d| d.to_string().replace(&dir, "D"))
        .collect();
    let expected = [
        "D/bad-backend.md:11:11: `stream` does not run on backend `mpi` (it runs on: threads)",
        "D/bad-checks.md:14:10: answer `c` is not among the choices",
        "D/bad-checks.md:19:8: unknown check kind `essay` (known: choice, numeric)",
        "D/bad-program.md:12:8: program `file` `../secret.py` must be a path inside the lessons folder, relative, without `..`",
        "D/bad-toml.md:3:18: invalid basic string, expected `\"`",
        "D/dup-b.md:2:6: duplicate lesson id `twin`, first used at D/dup-a.md:2:6",
        "D/missing-id.md:2:1: missing key `id`",
        "D/truncated.md:1:1: front matter is not closed: no `+++` line after the one opening it (is the file cut short?)",
        "D/unknown-experiment.md:8:26: unknown experiment `warp-drive` (known: mc-pi, integral, amdahl, imbalance, race, locks, exchange, pingpong, collectives, hybrid, stream, farm, program)",
        "D/unknown-key.md:8:1: unknown key `difficulty`, expected one of `id`, `title`, `track`, `order`, `summary`, `objectives`, `experiments`, `hints`, `notes`, `checks`, `presets`, `puzzles`, `programs`",
        "D/wrong-type.md:5:9: invalid type: string \"one\", expected a whole number ≥ 0 (key `order`)",
    ];
    assert_eq!(got, expected);
    // The first of two files with the same id stays usable.
    assert!(set.find("twin").is_some_and(|l| l.title == "Twin A"));
}

#[test]
fn broken_files_keep_what_can_be_read_of_them() {
    let set = fixture_set("invalid");
    let unknown = set
        .broken
        .iter()
        .find(|b| b.path.ends_with("unknown-key.md"))
        .expect("listed");
    assert_eq!(unknown.title, "Unknown key");
    let truncated = set
        .broken
        .iter()
        .find(|b| b.path.ends_with("truncated.md"))
        .expect("listed");
    assert_eq!(
        truncated.title, "truncated",
        "no readable title: the file name"
    );
}

fn problems(text: &str) -> Vec<String> {
    match parse_lesson("x.md", text) {
        Ok(_) => vec![],
        Err(b) => b.diagnostics.iter().map(|d| d.to_string()).collect(),
    }
}

const HEAD: &str = "+++\nid = \"t\"\ntitle = \"T\"\ntrack = \"Scaling\"\norder = 1\nsummary = \"s\"\nobjectives = [\"o\"]\n";

#[test]
fn check_rules_are_enforced_with_positions() {
    let ok = format!("{HEAD}+++\nbody\n");
    assert!(problems(&ok).is_empty());

    let no_front = "# just markdown\n";
    assert_eq!(
        problems(no_front),
        ["x.md:1:1: missing front matter: a lesson file starts with a `+++` line"]
    );

    let numeric_without_tolerance = format!(
        "{HEAD}\n[[checks]]\nid = \"n\"\nkind = \"numeric\"\nquestion = \"q\"\nanswer = 2\nexplanation = \"e\"\n+++\n"
    );
    assert_eq!(
        problems(&numeric_without_tolerance),
        ["x.md:9:1: a `numeric` check needs a `tolerance` (0 for an exact answer)"]
    );

    let choice_with_number = format!(
        "{HEAD}\n[[checks]]\nid = \"c\"\nkind = \"choice\"\nquestion = \"q\"\nchoices = [\"a\", \"a\"]\nanswer = 1\nexplanation = \"e\"\n+++\n"
    );
    assert_eq!(
        problems(&choice_with_number),
        [
            "x.md:13:17: choice `a` is listed twice",
            "x.md:14:10: the answer of a `choice` check is the text of the right choice, not integer",
        ]
    );

    let bad_id = HEAD.replace("id = \"t\"", "id = \"Bad Id\"") + "+++\n";
    assert_eq!(
        problems(&bad_id),
        [
            "x.md:2:6: invalid id `Bad Id`: use lower-case letters, digits and `-`, starting with a letter"
        ]
    );

    let negative_tolerance = format!(
        "{HEAD}\n[[checks]]\nid = \"n\"\nkind = \"numeric\"\nquestion = \"q\"\nanswer = 2\ntolerance = -1.0\nexplanation = \"e\"\n+++\n"
    );
    assert_eq!(
        problems(&negative_tolerance),
        ["x.md:14:13: `tolerance` must be a number ≥ 0, not -1"]
    );
}

#[test]
fn crlf_files_and_a_bom_are_accepted() {
    let text = format!("\u{feff}{HEAD}+++\nbody\n").replace('\n', "\r\n");
    assert!(problems(&text).is_empty(), "{:?}", problems(&text));
}

#[test]
fn presets_and_predictions_are_checked() {
    let base = format!("{}experiments = [\"imbalance\"]\n", HEAD);
    let check = |measure: &str| {
        format!(
            "{base}\n[[checks]]\nid = \"p\"\nkind = \"numeric\"\nquestion = \"q\"\nanswer = 1.3\ntolerance = 0.1\nmeasure = {measure}\nexplanation = \"e\"\n+++\n"
        )
    };
    assert!(
        problems(&check(
            r#"{ experiment = "imbalance", quantity = "speedup", workers = 2, variant = "static" }"#
        ))
        .is_empty()
    );
    assert_eq!(
        problems(&check(
            r#"{ experiment = "imbalance", quantity = "speedup", workers = 2, variant = "statik" }"#
        )),
        ["x.md:16:84: unknown variant `statik` (known: static, dynamic)"]
    );
    assert_eq!(
        problems(&check(
            r#"{ experiment = "imbalance", quantity = "speed", workers = 2 }"#
        )),
        [
            "x.md:16:50: unknown quantity `speed` (known: speedup, efficiency, time, serial_fraction, karp_flatt)"
        ]
    );
    assert_eq!(
        problems(&check(
            r#"{ experiment = "mc-pi", quantity = "speedup", workers = 2 }"#
        )),
        [
            "x.md:16:26: `measure` names experiment `mc-pi`, which is not in this lesson's `experiments`"
        ]
    );
    assert_eq!(
        problems(&check(
            r#"{ experiment = "imbalance", quantity = "speedup" }"#
        )),
        ["x.md:16:50: `measure` of `speedup` needs `workers`"]
    );

    let preset = |body: &str| format!("{base}\n[presets.imbalance]\n{body}\n+++\n");
    assert!(
        problems(&preset(
            "workers = [1, 2]\nreps = 3\nparams = { tasks = 64 }"
        ))
        .is_empty()
    );
    assert_eq!(
        problems(&preset("params = { tasks = 0 }")),
        [
            "x.md:11:20: parameter `tasks`: `0` is not allowed; expected a whole number from 1 to 1000000"
        ]
    );
    assert_eq!(
        problems(&preset("workers = [0]")),
        ["x.md:11:11: `workers` must list worker counts from 1 to 1024"]
    );
    assert_eq!(problems(&preset("speed = 3")).len(), 1);
    let other = format!("{base}\n[presets.amdahl]\nreps = 2\n+++\n");
    assert_eq!(
        problems(&other),
        ["x.md:10:1: preset for `amdahl`, which is not in this lesson's `experiments`"]
    );
}

#[test]
fn every_invalid_puzzle_fixture_gets_one_precise_diagnostic() {
    let set = fixture_set("invalid-puzzles");
    assert!(set.lessons.is_empty(), "every file has a broken puzzle");
    let dir = fixtures("invalid-puzzles").display().to_string();
    let got: Vec<String> = set
        .diagnostics()
        .iter()
        .map(|d| d.to_string().replace(&dir, "D"))
        .collect();
    let expected = [
        "D/bad-capacity.md:14:20: channel `to1` needs a capacity from 0 to 8 messages (0: every send waits for its receive), not 64",
        "D/bad-operand.md:21:12: `counter` is a shared variable, but `add` needs a register here (load the variable into a register first); write `add REGISTER, REGISTER-or-NUMBER`",
        "D/breakable-finish.md:12:8: a `finish` puzzle must not break, but this schedule breaks it: T1 T1 T2 T1 T2 T2",
        "D/duplicate-id.md:34:6: duplicate puzzle id `race` in this lesson",
        "D/missing-goal.md:9:1: missing key `goal`",
        "D/one-thread.md:17:1: a puzzle needs 2 or 3 threads (`[[puzzles.threads]]` tables), not 1",
        "D/unknown-channel.md:27:9: unknown channel `t1` (channels: to1, to0); write `recv REGISTER, CHANNEL`",
        "D/unknown-goal.md:12:8: unknown goal `crash` (known: assert_fails, deadlock, both_in_critical, finish)",
        "D/unknown-instruction.md:20:5: unknown instruction `lod` (known: load, store, set, add, sub, jump_if, jump, lock, unlock, wait, signal, broadcast, down, up, barrier, send, recv, assert, critical_begin, critical_end, enter, leave, nop); to show readable code, write it on its own line and its steps indented below it",
        "D/unknown-label.md:20:17: unknown label `tpo` (labels in this thread: top)",
        "D/unknown-lock.md:21:8: unknown lock `n` (locks: m); write `unlock MUTEX`",
        "D/unknown-variable.md:28:13: unknown shared variable `countr` (shared variables: counter); write `load REGISTER, VARIABLE`",
        "D/unreachable-goal.md:12:8: no interleaving reaches the goal `deadlock` (all 22 reachable states checked)",
    ];
    assert_eq!(got, expected);
}

#[test]
fn shipped_lessons_carry_their_puzzles() {
    let set = LessonSet::load(&LessonSource::BuiltIn).expect("built-in lessons");
    let ids = |lesson: &str| -> Vec<String> {
        set.find(lesson)
            .map(|l| l.puzzles.iter().map(|p| p.id.clone()).collect())
            .unwrap_or_default()
    };
    assert_eq!(
        ids("race-conditions"),
        [
            "lost-update",
            "overdraw",
            "mutex-counter",
            "three-way-loss",
            "half-locked"
        ]
    );
    assert_eq!(
        ids("lock-deadlock"),
        [
            "homemade-lock",
            "lock-order",
            "consumer-holds-lock",
            "lost-wakeup",
            "two-flags",
            "peterson",
            "if-not-while",
            "while-not-if"
        ]
    );
    assert_eq!(
        ids("concurrency-parallelism"),
        ["early-barrier", "write-then-meet"]
    );
    assert_eq!(
        ids("mpi-deadlock"),
        ["send-first-large", "send-first-small", "parity", "odd-ring"]
    );
}

#[test]
fn puzzle_positions_hold_in_crlf_files() {
    let text = std::fs::read_to_string(fixtures("invalid-puzzles").join("unknown-label.md"))
        .expect("fixture")
        .replace('\n', "\r\n");
    assert_eq!(
        problems(&text),
        ["x.md:20:17: unknown label `tpo` (labels in this thread: top)"]
    );
}
