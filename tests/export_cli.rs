//! `hpc-tutor export` through the real process boundary: images written where asked or
//! under their default names, runs found by file or by id, lesson cards, and one clear
//! line with the documented exit status for every kind of bad input.

mod common;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// A scratch folder with an empty results store and progress folder.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `hpc-tutor` run in the scratch folder, with the store and progress kept there.
    fn cmd(&self) -> Command {
        let mut cmd = Command::cargo_bin("hpc-tutor").expect("binary built");
        cmd.current_dir(self.dir.path())
            .env("HPC_TUTOR_DATA_DIR", self.path("data"))
            .env("HPC_TUTOR_STATE_DIR", self.path("state"))
            .env_remove("HPC_TUTOR_LESSONS");
        cmd
    }

    /// Writes the fixed amdahl run as a results file at `path`.
    fn results_file(&self, path: &Path) -> PathBuf {
        let text: String = common::amdahl_records()
            .iter()
            .map(|r| r.to_line() + "\n")
            .collect();
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("folder");
        }
        std::fs::write(path, text).expect("results written");
        path.to_owned()
    }
}

/// Width and height from a PNG's header.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.starts_with(PNG_SIGNATURE), "not a PNG");
    let reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG header");
    (reader.info().width, reader.info().height)
}

#[test]
fn a_results_file_becomes_a_png_where_asked() {
    let s = Scratch::new();
    let file = s.results_file(&s.path("amdahl.jsonl"));
    s.cmd()
        .args(["export", "--run"])
        .arg(&file)
        .args(["-o", "out.png"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("wrote /").and(predicate::str::ends_with("out.png\n")));
    // --chart defaults to all three, side by side.
    assert_eq!(png_size(&s.path("out.png")), (1800, 700));

    // Without -o: `<run id>-<chart>.png` here; one of --width/--height keeps the ratio.
    s.cmd()
        .args([
            "export",
            "--run",
            "amdahl.jsonl",
            "--chart",
            "speedup",
            "--width",
            "600",
        ])
        .assert()
        .success();
    assert_eq!(
        png_size(&s.path("20261122-070000-1-speedup.png")),
        (600, 400)
    );

    // -o naming a folder puts the default name in it.
    std::fs::create_dir(s.path("pics")).expect("folder");
    s.cmd()
        .args(["export", "--run", "amdahl.jsonl", "--chart", "time"])
        .args(["--width", "400", "--height", "300", "-o", "pics"])
        .assert()
        .success();
    assert_eq!(
        png_size(&s.path("pics/20261122-070000-1-time.png")),
        (400, 300)
    );
}

#[test]
fn runs_are_found_in_the_store_by_id() {
    let s = Scratch::new();
    s.results_file(&s.path("data/results/20261122-070000-1.jsonl"));
    s.cmd()
        .args([
            "export",
            "--run",
            "20261122-070000",
            "--chart",
            "efficiency",
        ])
        .args(["--width", "400", "-o", "e.png"])
        .assert()
        .success();
    assert_eq!(png_size(&s.path("e.png")), (400, 300));
    s.cmd()
        .args(["export", "--run", "nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "hpc-tutor export: no run `nope` in the results store (",
        ));
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let s = Scratch::new();
    let file = s.results_file(&s.path("amdahl.jsonl"));
    for (args, message) in [
        (
            vec!["--width", "10"],
            "hpc-tutor export: --width must be from 400 to 4000 pixels, not 10\n",
        ),
        (
            vec!["--height", "4001"],
            "hpc-tutor export: --height must be from 300 to 4000 pixels, not 4001\n",
        ),
    ] {
        s.cmd()
            .args(["export", "--run"])
            .arg(&file)
            .args(&args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(message);
    }
    s.cmd()
        .args(["export", "--run"])
        .arg(&file)
        .args(["--width", "600", "--height", "400"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "hpc-tutor export: 600×400 is too small for all three charts",
        ));
    // A results file with a bad line: its place, as `path:line: message`.
    let bad = s.path("bad.jsonl");
    let first = common::amdahl_records()[0].to_line();
    std::fs::write(&bad, format!("{first}\nnot a record\n{first}\n")).expect("written");
    s.cmd()
        .args(["export", "--run"])
        .arg(&bad)
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(format!(
            "hpc-tutor export: {}:2: ",
            bad.display()
        )));
    s.cmd()
        .args(["export", "--run", "missing.jsonl"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("missing.jsonl"));
    s.cmd()
        .args(["export", "no-such-lesson"])
        .assert()
        .code(2)
        .stderr("hpc-tutor export: no lesson with id `no-such-lesson`; `hpc-tutor lessons list` shows the ids\n");
    // No image was left behind by any of them.
    let pngs = std::fs::read_dir(s.dir.path())
        .expect("lists")
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "png"))
        .count();
    assert_eq!(pngs, 0);
}

#[test]
fn a_lesson_without_a_stored_run_says_how_to_make_one() {
    let s = Scratch::new();
    s.cmd()
        .args(["export", "amdahl"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "hpc-tutor export: no stored run of `amdahl` yet: run `hpc-tutor --lesson amdahl` \
             and press r, or `hpc-tutor run amdahl --out FILE` then `hpc-tutor export --run FILE`\n",
        );
}

#[test]
fn a_lesson_card_from_the_store_and_the_progress_file() {
    let s = Scratch::new();
    s.results_file(&s.path("data/results/20261122-070000-1.jsonl"));
    std::fs::create_dir_all(s.path("state")).expect("state folder");
    std::fs::write(
        s.path("state/progress.json"),
        r#"{"version":1,"lessons":{"beta":{"answers":{"predict":{"number":1.54}}}}}"#,
    )
    .expect("progress written");
    let lessons = std::fs::canonicalize(common::fixtures("valid")).expect("fixture folder");
    s.cmd()
        .args(["export", "beta", "--width", "800", "--lessons"])
        .arg(&lessons)
        .assert()
        .success()
        .stdout(predicate::str::ends_with("beta.png\n"));
    let (w, h) = png_size(&s.path("beta.png"));
    assert_eq!(w, 800);
    assert!(h > 500, "the card has room for its charts: {h}");
    // --chart is for runs; a card too low for its content is refused.
    s.cmd()
        .args(["export", "beta", "--chart", "time", "--lessons"])
        .arg(&lessons)
        .assert()
        .code(2);
    s.cmd()
        .args(["export", "beta", "--height", "300", "--lessons"])
        .arg(&lessons)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("too small for this lesson card"));
}

/// The decoded RGB pixels of a PNG file (the exporter writes 8-bit RGB).
fn png_pixels(path: &Path) -> Vec<[u8; 3]> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("the pixels decode");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect()
}

/// Pixels of the red the wait-for graph draws its arrows and cycle in (#C0392B).
fn red_pixels(path: &Path) -> usize {
    png_pixels(path)
        .iter()
        .filter(|[r, g, b]| r.abs_diff(0xC0) < 12 && g.abs_diff(0x39) < 12 && b.abs_diff(0x2B) < 12)
        .count()
}

/// A real `locks` run that deadlocked (exit status 3): `hpc-tutor run locks --workers 2
/// -p order=opposite -p hold_ms=20 -p rounds=10 -p deadline=3 --out FILE`.
const LOCKS_DEADLOCK: &str = "tests/fixtures/results/locks-deadlock.jsonl";

#[test]
fn a_deadlocked_run_exports_its_wait_for_graph_whatever_the_chart() {
    let s = Scratch::new();
    let file = std::fs::canonicalize(LOCKS_DEADLOCK).expect("fixture");
    s.cmd()
        .args(["export", "--run"])
        .arg(&file)
        .assert()
        .success()
        .stdout(predicate::str::ends_with(
            "20261204-115555-23700-wait-for.png\n",
        ));
    let graph = s.path("20261204-115555-23700-wait-for.png");
    assert_eq!(
        png_size(&graph),
        (1200, 800),
        "one picture, not three charts"
    );
    let bytes = std::fs::read(&graph).expect("written");
    // One picture whatever --chart asks for.
    for chart in ["time", "speedup", "efficiency", "all"] {
        let out = s.path(&format!("{chart}.png"));
        s.cmd()
            .args(["export", "--run"])
            .arg(&file)
            .args(["--chart", chart, "-o"])
            .arg(&out)
            .assert()
            .success();
        assert_eq!(
            std::fs::read(&out).expect("written"),
            bytes,
            "--chart {chart}"
        );
    }
    // The same run without its diagnosis has nothing to draw but empty charts; the graph
    // is something else, drawn in the deadlock's red (arrows, the stall, the cycle).
    let text = std::fs::read_to_string(&file).expect("fixture");
    let blind: String = text
        .lines()
        .filter(|l| !l.contains(r#""kind":"diagnosis""#))
        .map(|l| format!("{l}\n"))
        .collect();
    let blind_file = s.path("blind.jsonl");
    std::fs::write(&blind_file, blind).expect("written");
    s.cmd()
        .args(["export", "--run"])
        .arg(&blind_file)
        .args(["--chart", "time", "-o", "empty.png"])
        .assert()
        .success();
    let empty = s.path("empty.png");
    assert_ne!(std::fs::read(&empty).expect("written"), bytes);
    assert_eq!(red_pixels(&empty), 0, "empty charts have no red");
    let red = red_pixels(&graph);
    assert!(
        red > 2_000,
        "the wait-for graph is drawn in red: {red} pixels"
    );
    // A size out of range is still refused, before anything is drawn.
    s.cmd()
        .args(["export", "--run"])
        .arg(&file)
        .args(["--width", "10"])
        .assert()
        .code(2);
}

#[test]
fn a_lesson_card_draws_each_run_with_its_own_chart() {
    let s = Scratch::new();
    // A real eager-limit sweep (`hpc-tutor run exchange -p sweep=on -p max_size=1048576
    // --reps 1 --warmup 0 --deadline 1`) and the locks deadlock, in the store.
    std::fs::create_dir_all(s.path("data/results")).expect("store");
    for (fixture, id) in [
        (
            "tests/fixtures/results/exchange-eager-sweep.jsonl",
            "sweep.jsonl",
        ),
        (LOCKS_DEADLOCK, "locks.jsonl"),
    ] {
        std::fs::copy(fixture, s.path(&format!("data/results/{id}"))).expect("copied");
    }
    for lesson in ["mpi-deadlock", "lock-deadlock"] {
        s.cmd()
            .args(["export", lesson])
            .assert()
            .success()
            .stdout(predicate::str::ends_with(format!("{lesson}.png\n")));
        assert_eq!(png_size(&s.path(&format!("{lesson}.png"))).0, 1200);
    }
    // The deadlock's card shows its graph, in red; the sweep's its ✗ (red as well).
    assert!(red_pixels(&s.path("lock-deadlock.png")) > 1_000);
    assert!(red_pixels(&s.path("mpi-deadlock.png")) > 100);
}

/// A device is written through, never replaced: `/dev/null` takes the image, `/dev/full`
/// refuses it (ENOSPC) with one line and exit 1, and both stay character devices.
#[test]
fn devices_are_written_through_never_replaced() {
    let s = Scratch::new();
    let file = s.results_file(&s.path("amdahl.jsonl"));
    s.cmd()
        .args(["export", "--chart", "time", "--run"])
        .arg(&file)
        .args(["-o", "/dev/null"])
        .assert()
        .success()
        .stdout("wrote /dev/null\n");
    assert!(
        common::is_char_device("/dev/null"),
        "/dev/null is still a device"
    );
    s.cmd()
        .args(["export", "--chart", "time", "--run"])
        .arg(&file)
        .args(["-o", "/dev/full"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(
            "hpc-tutor export: cannot write /dev/full: No space left on device (os error 28)\n",
        );
    assert!(
        common::is_char_device("/dev/full"),
        "/dev/full is still a device"
    );
    assert_eq!(common::names_in(s.dir.path()), ["amdahl.jsonl"]);
}

/// `-o LINK` writes the file the link points to; the link stays a link.
#[test]
fn a_link_is_written_through_and_stays_a_link() {
    let s = Scratch::new();
    let file = s.results_file(&s.path("amdahl.jsonl"));
    std::fs::create_dir(s.path("charts")).expect("folder");
    std::fs::write(s.path("charts/real.png"), "old").expect("old file");
    std::os::unix::fs::symlink("charts/real.png", s.path("latest.png")).expect("link");
    s.cmd()
        .args(["export", "--chart", "time", "--run"])
        .arg(&file)
        .args(["-o", "latest.png"])
        .assert()
        .success()
        .stdout(predicate::str::ends_with("charts/real.png\n"));
    let meta = std::fs::symlink_metadata(s.path("latest.png")).expect("meta");
    assert!(meta.file_type().is_symlink(), "still a link");
    assert_eq!(png_size(&s.path("charts/real.png")), (1200, 800));
    assert_eq!(common::names_in(&s.path("charts")), ["real.png"]);
}

/// A write that fails half-way (here: over the file size limit, as a full disk would)
/// leaves neither a temporary file nor a cut-off image behind, and says which file.
#[test]
fn a_failed_write_leaves_nothing_behind() {
    let s = Scratch::new();
    let file = s.results_file(&s.path("amdahl.jsonl"));
    let out = common::with_file_size_limit(4)
        .args(["export", "--chart", "time", "--run"])
        .arg(&file)
        .args(["-o", "out.png"])
        .current_dir(s.dir.path())
        .env("HPC_TUTOR_DATA_DIR", s.path("data"))
        .env("HPC_TUTOR_STATE_DIR", s.path("state"))
        .output()
        .expect("sh runs");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "hpc-tutor export: cannot write out.png: File too large (os error 27)\n"
    );
    assert_eq!(common::names_in(s.dir.path()), ["amdahl.jsonl"]);
}
