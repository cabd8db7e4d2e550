//! Shared helpers for the integration tests.
#![allow(dead_code)]

pub mod tmux;

use std::path::PathBuf;

use hpc_tutor::cluster::SystemInfo;
use hpc_tutor::lesson::{LessonSet, LessonSource};
use hpc_tutor::progress::Progress;
use hpc_tutor::tui::App;
use hpc_tutor::tui::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The fixture folder, relative to the package root (cargo runs integration tests there), so
/// paths in messages and snapshots do not depend on where the repository is checked out.
pub fn fixtures(name: &str) -> PathBuf {
    PathBuf::from("tests/fixtures/lessons").join(name)
}

pub fn fixture_set(name: &str) -> LessonSet {
    LessonSet::load(&LessonSource::Directory(fixtures(name))).expect("fixture lessons load")
}

/// Fixed facts so that snapshots do not depend on the machine running the tests.
pub fn test_system() -> SystemInfo {
    SystemInfo {
        host: "node01".into(),
        cpus: 2,
        allocation: Some(hpc_tutor::cluster::Allocation {
            job_id: "4242".into(),
            nodes: Some(1),
            ntasks: Some(1),
            cpus_per_task: Some(2),
            ..Default::default()
        }),
        topology: hpc_tutor::cluster::Topology { cpus: 2, cores: 2 },
    }
}

pub fn app_with(set: LessonSet, progress: Progress, size: (u16, u16), open: Option<&str>) -> App {
    App::new(
        set,
        progress,
        test_system(),
        Theme::monochrome(),
        size,
        open,
    )
}

pub fn valid_app(size: (u16, u16)) -> App {
    app_with(fixture_set("valid"), Progress::default(), size, None)
}

pub fn key(code: KeyCode) -> hpc_tutor::tui::Event {
    hpc_tutor::tui::Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> hpc_tutor::tui::Event {
    key(KeyCode::Char(c))
}

/// Sends a sequence of plain characters as key presses.
pub fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(ch(c));
    }
}

/// The records a run printed as JSON Lines (`--format json`) on `out`.
pub fn json_records(out: &[u8]) -> Vec<hpc_tutor::record::Record> {
    String::from_utf8_lossy(out)
        .lines()
        .map(|l| hpc_tutor::record::Record::from_line(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// The point records among `records`, in order.
pub fn points(records: &[hpc_tutor::record::Record]) -> Vec<&hpc_tutor::record::PointRecord> {
    records
        .iter()
        .filter_map(|r| match r {
            hpc_tutor::record::Record::Point(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// The records of a small finished amdahl run, as a child process would send them.
pub fn amdahl_records() -> Vec<hpc_tutor::record::Record> {
    use hpc_tutor::record::*;
    let env = Environment {
        host: "node01".into(),
        cpu_model: "Test CPU".into(),
        cpus_available: 2,
        slurm_job_id: None,
        version: "0.1.0".into(),
        git_commit: None,
        busy_before: None,
        mpi: None,
        caches: Vec::new(),
        hosts: Vec::new(),
    };
    let mut v = vec![Record::Run(RunRecord {
        run_id: "20261122-070000-1".into(),
        experiment: "amdahl".into(),
        backend: "threads".into(),
        params: [
            ("serial".to_owned(), "0.3".to_owned()),
            ("work".to_owned(), "1000000".to_owned()),
        ]
        .into(),
        workers: vec![1, 2, 4],
        reps: 3,
        warmup: 0,
        env,
        started_at: "2026-11-22T07:00:00+00:00".into(),
        merged_from: Vec::new(),
    })];
    for (n, t, s) in [(1usize, 1.0f64, 1.0f64), (2, 0.68, 1.47), (4, 0.70, 1.43)] {
        for rep in 0..3 {
            v.push(Record::Sample(SampleRecord {
                workers: n,
                variant: None,
                rep,
                warmup: false,
                seconds: t,
                inner_runs: 1,
            }));
        }
        v.push(Record::Point(PointRecord {
            workers: n,
            variant: None,
            reps: 3,
            median_s: t,
            min_s: t * 0.98,
            max_s: t * 1.03,
            ci95_s: [t * 0.98, t * 1.03],
            outliers: 0,
            speedup: Some(s),
            efficiency: Some(s / n as f64),
            karp_flatt: None,
            oversubscribed: n > 2,
            setup_s: 0.0001,
            outputs: Default::default(),
            ranks: None,
            threads: None,
            other_busy: None,
            other_runs: 0,
            inner_runs: 1,
            hosts: Vec::new(),
        }));
    }
    v.push(Record::Fit(FitRecord {
        model: Model::Amdahl,
        variant: None,
        serial_fraction: 0.36,
        rmse: 0.02,
        r2: Some(0.98),
        points: 2,
        latency_s: None,
        bandwidth_bytes_s: None,
        meaningful: true,
        caveat: None,
    }));
    v.push(Record::End(EndRecord {
        status: Status::Ok,
        elapsed_s: 9.1,
        output: Vec::new(),
        message: None,
    }));
    v
}

/// A `race` run on 2 CPUs, all six variants at N = 1, 2, 4 (4 oversubscribed), weak
/// scaling, each with a Gustafson fit over N = 2: `mutex` and `false-sharing` clamped at
/// their bound s = 1.00 (the fit cannot follow a slowdown), the others inside the bounds.
pub fn race_records() -> Vec<hpc_tutor::record::Record> {
    use hpc_tutor::record::*;
    let env = Environment {
        host: "node01".into(),
        cpu_model: "Test CPU".into(),
        cpus_available: 2,
        slurm_job_id: None,
        version: "0.1.0".into(),
        git_commit: None,
        busy_before: None,
        mpi: None,
        caches: Vec::new(),
        hosts: Vec::new(),
    };
    let mut v = vec![Record::Run(RunRecord {
        run_id: "20261122-073000-3".into(),
        experiment: "race".into(),
        backend: "threads".into(),
        params: [
            ("increments".to_owned(), "200000".to_owned()),
            ("variant".to_owned(), "all".to_owned()),
        ]
        .into(),
        workers: vec![1, 2, 4],
        reps: 3,
        warmup: 1,
        env,
        started_at: "2026-11-22T07:30:00+00:00".into(),
        merged_from: Vec::new(),
    })];
    // (variant, T(1), T(2), T(4), fitted s = 2 − S(2) clamped to 0..=1)
    let variants = [
        ("unsynchronized", 0.010, 0.013, 0.027, 0.46),
        ("atomic", 0.011, 0.018, 0.036, 0.78),
        ("mutex", 0.012, 0.09, 0.2, 1.0),
        ("reduction", 0.010, 0.0101, 0.021, 0.02),
        ("false-sharing", 0.011, 0.025, 0.05, 1.0),
        ("padded", 0.010, 0.0112, 0.023, 0.21),
    ];
    for (variant, t1, t2, t4, _) in variants {
        for (n, t) in [(1usize, t1), (2, t2), (4, t4)] {
            let s = n as f64 * t1 / t;
            v.push(Record::Point(PointRecord {
                workers: n,
                variant: Some(variant.into()),
                reps: 3,
                median_s: t,
                min_s: t * 0.93,
                max_s: t * 1.12,
                ci95_s: [t * 0.93, t * 1.12],
                outliers: 0,
                speedup: Some(s),
                efficiency: Some(s / n as f64),
                karp_flatt: None,
                oversubscribed: n > 2,
                setup_s: 0.0001,
                outputs: Default::default(),
                ranks: None,
                threads: None,
                other_busy: None,
                other_runs: 0,
                inner_runs: 1,
                hosts: Vec::new(),
            }));
        }
    }
    for (variant, _, _, _, s) in variants {
        v.push(Record::Fit(FitRecord {
            model: Model::Gustafson,
            variant: Some(variant.into()),
            serial_fraction: s,
            rmse: if s >= 1.0 { 0.3 } else { 0.0 },
            r2: None,
            points: 1,
            latency_s: None,
            bandwidth_bytes_s: None,
            meaningful: true,
            caveat: None,
        }));
    }
    v.push(Record::End(EndRecord {
        status: Status::Ok,
        elapsed_s: 1.2,
        output: Vec::new(),
        message: None,
    }));
    v
}

/// The binary under a file size limit of `blocks` blocks (512 bytes under dash, 1024
/// under bash): a write past it fails with EFBIG as one on a full disk fails with ENOSPC,
/// so a test can make writing fail half-way, as root too. (SIGXFSZ, which the kernel also
/// sends, is ignored.) Add the arguments, the folder and the environment to the command.
pub fn with_file_size_limit(blocks: u32) -> std::process::Command {
    let mut c = std::process::Command::new("sh");
    c.args([
        "-c",
        &format!("trap '' XFSZ; ulimit -f {blocks}; exec \"$@\""),
        "sh",
        env!("CARGO_BIN_EXE_hpc-tutor"),
    ]);
    c
}

/// The names in `dir`, sorted.
pub fn names_in(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Whether `path` is a character device (and not a file put in its place).
pub fn is_char_device(path: &str) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_char_device())
}

/// Progress where beta's prediction is answered: its experiment then runs at `r` without
/// asking for it first.
#[allow(dead_code)]
pub fn predicted() -> Progress {
    let mut p = Progress::default();
    p.lessons
        .entry("beta".into())
        .or_default()
        .record_answer("predict".into(), hpc_tutor::lesson::Answer::Number(1.5));
    p
}
