//! `hpc-tutor demo` in a real terminal (tmux), the way `tests/terminal.rs` drives the tutor:
//! the demo advances on its own, answers space, ←, p and n, a second terminal follows the
//! speaker notes, and `q` kills the run in progress and leaves the terminal as it was.
//!
//! Needs tmux; `tests/run.sh` installs it. Without it these tests fail with a message
//! saying so rather than passing silently.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
    dir: tempfile::TempDir,
}

impl Tmux {
    fn start(name: &str) -> Self {
        let found = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            found,
            "tmux is needed for the terminal tests: `apt-get install tmux` (tests/run.sh installs it)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let socket = format!("hpc-tutor-demo-{name}-{}", std::process::id());
        let t = Self { socket, dir };
        let rc = format!(
            "export PS1='[demo-shell]' HPC_TUTOR_STATE_DIR='{0}' HPC_TUTOR_DATA_DIR='{0}' XDG_RUNTIME_DIR='{0}'; unset HPC_TUTOR_LESSONS NO_COLOR",
            t.dir.path().join("state").display(),
        );
        std::fs::write(t.dir.path().join("rc"), rc).expect("rc");
        let rc_path = t.dir.path().join("rc");
        t.tmux(&[
            "new-session",
            "-d",
            "-x",
            "100",
            "-y",
            "30",
            "-s",
            "t",
            "bash",
            "--noprofile",
            "--rcfile",
            &rc_path.display().to_string(),
        ]);
        t.wait_for("[demo-shell]");
        t
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    fn run(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"])
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for {text:?}; the screen shows:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn wait_for_file(&self, name: &str) -> String {
        let start = Instant::now();
        loop {
            if let Ok(s) = std::fs::read_to_string(self.file(name))
                && s.ends_with('\n')
            {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "waited 20 s for {name}; the screen shows:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The pid of the program running in the shell (the shell's only child).
    fn child_pid(&self) -> String {
        let shell = self.tmux(&["list-panes", "-t", "t", "-F", "#{pane_pid}"]);
        children(shell.trim()).join(" ")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

fn children(pid: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-P", pid])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

fn alive(pid: &str) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn the_demo_plays_answers_the_presenter_and_quits_cleanly() {
    let bin = env!("CARGO_BIN_EXE_hpc-tutor");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/demos/e2e.toml");
    let presenter = Tmux::start("presenter");
    let notes_file = presenter.file("notes.json");
    let d = presenter.dir.path().display();
    presenter.run(&format!(
        "stty -a > {d}/stty-before; '{bin}' demo '{script}' --notes-file '{}'; echo $? > {d}/exit; stty -a > {d}/stty-after",
        notes_file.display()
    ));

    // Autoplay: the first two captions go by on their own (1 s each).
    presenter.wait_for("First caption");
    presenter.wait_for("Second caption");
    let screen = presenter.wait_for("Third caption");
    assert!(screen.contains("3/6"), "{screen}");

    // A second terminal follows the speaker notes.
    let viewer = Tmux::start("notes");
    viewer.run(&format!(
        "'{bin}' demo --notes --notes-file '{}'",
        notes_file.display()
    ));
    viewer.wait_for("Notes of the third step.");
    viewer.wait_for("step 3 of 6");

    // `wait = "key"`: it stays.
    std::thread::sleep(Duration::from_millis(1500));
    assert!(presenter.screen().contains("Third caption"));

    // n shows the notes over the stage, n again hides them.
    presenter.keys(&["n"]);
    presenter.wait_for("Notes of the third step.");
    presenter.keys(&["n"]);

    // Space goes on; p pauses the 2 s wait of the fourth step.
    presenter.keys(&["Space"]);
    presenter.wait_for("Fourth caption");
    presenter.keys(&["p"]);
    presenter.wait_for("paused");
    viewer.wait_for("paused");
    std::thread::sleep(Duration::from_millis(3000));
    let screen = presenter.screen();
    assert!(
        screen.contains("Fourth caption") && !screen.contains("Fifth caption"),
        "paused: {screen}"
    );
    presenter.keys(&["p"]);
    presenter.wait_for("Fifth caption");
    viewer.wait_for("Notes of the fifth step.");

    // ← goes back; autoplay brings the fifth step again after 2 s.
    presenter.keys(&["Left"]);
    presenter.wait_for("Fourth caption");
    presenter.wait_for("Fifth caption");

    // The last step runs an experiment for real.
    presenter.keys(&["Space"]);
    presenter.wait_for("running live");
    let demo = presenter.child_pid();
    assert!(!demo.is_empty(), "the demo runs");
    let runs = children(&demo);
    assert_eq!(runs.len(), 1, "one run process: {runs:?}");

    // q quits: exit status 0, the run is killed, the terminal is as before.
    presenter.keys(&["q"]);
    assert_eq!(presenter.wait_for_file("exit").trim(), "0");
    let start = Instant::now();
    while alive(&runs[0]) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the run is still there after q"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let before = presenter.wait_for_file("stty-before");
    let after = presenter.wait_for_file("stty-after");
    assert_eq!(before, after, "terminal settings are as before");
    let screen = presenter.wait_for("[demo-shell]");
    assert!(!screen.contains("Fifth caption"), "{screen}");

    // The notes view says the demo ended, and quits with q.
    viewer.wait_for("the demo has ended");
    viewer.keys(&["q"]);
    viewer.wait_for("[demo-shell]");
}
