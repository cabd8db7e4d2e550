//! The real binary in a real terminal (tmux): the terminal is restored after `q` and after
//! SIGTERM, progress survives SIGTERM, and a restart resumes at the same place.
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
        let socket = format!("hpc-tutor-test-{name}-{}", std::process::id());
        let t = Self { socket, dir };
        let rc = format!(
            "export PS1='[tutor-shell]' HPC_TUTOR_STATE_DIR='{}' HPC_TUTOR_DATA_DIR='{}'; unset HPC_TUTOR_LESSONS NO_COLOR",
            t.state_dir().display(),
            t.state_dir().display()
        );
        std::fs::write(t.dir.path().join("rc"), rc).expect("rc");
        t.tmux(
            &[
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
            ],
            Some(&t.dir.path().join("rc")),
        );
        t.wait_for("[tutor-shell]");
        t
    }

    fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn tmux(&self, args: &[&str], extra: Option<&Path>) -> String {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).args(args);
        if let Some(p) = extra {
            c.arg(p);
        }
        let out = c.output().expect("tmux runs");
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
        self.tmux(&args, None);
    }

    /// Types a shell command line and runs it.
    fn run(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"], None)
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
        let shell = self.tmux(&["list-panes", "-t", "t", "-F", "#{pane_pid}"], None);
        let out = Command::new("pgrep")
            .args(["-P", shell.trim()])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs the tutor, then records its exit status and the terminal settings after it.
    fn launch_tutor(&self, tag: &str) {
        self.launch_tutor_with(tag, "");
    }

    fn launch_tutor_with(&self, tag: &str, args: &str) {
        let bin = env!("CARGO_BIN_EXE_hpc-tutor");
        let d = self.dir.path().display();
        self.run(&format!(
            "stty -a > {d}/stty-before-{tag}; '{bin}' {args}; echo $? > {d}/exit-{tag}; stty -a > {d}/stty-after-{tag}"
        ));
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

#[test]
fn quit_restores_the_terminal() {
    let t = Tmux::start("quit");
    t.launch_tutor("q");
    t.wait_for("○ new");
    t.keys(&["?"]);
    t.wait_for("Keys: catalogue");
    t.keys(&["Escape"]);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-q").trim(), "0");
    let before = t.wait_for_file("stty-before-q");
    let after = t.wait_for_file("stty-after-q");
    assert_eq!(
        before, after,
        "terminal settings are as before (echo, icanon, …)"
    );
    assert!(
        after.contains(" echo ") && after.contains(" icanon "),
        "{after}"
    );
    // Back on the normal screen: the shell's prompt, not the catalogue.
    let screen = t.wait_for("[tutor-shell]");
    assert!(!screen.contains("Lessons"), "{screen}");
}

#[test]
fn sigterm_restores_the_terminal_keeps_progress_and_resumes() {
    let t = Tmux::start("term");
    t.launch_tutor("1");
    t.wait_for("○ new");
    t.keys(&["Enter"]);
    t.wait_for("Practice");
    for _ in 0..3 {
        t.keys(&["j"]);
    }
    // Let the three keys be handled before the signal.
    std::thread::sleep(Duration::from_millis(300));
    let pid = t.child_pid();
    assert!(!pid.is_empty(), "the tutor runs");
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
    assert_eq!(t.wait_for_file("exit-1").trim(), "143", "128 + SIGTERM");
    assert_eq!(
        t.wait_for_file("stty-before-1"),
        t.wait_for_file("stty-after-1")
    );

    let progress = std::fs::read_to_string(t.state_dir().join("progress.json")).expect("saved");
    let v: serde_json::Value = serde_json::from_str(&progress).expect("json");
    assert_eq!(v["last_lesson"], "welcome");
    assert_eq!(v["lessons"]["welcome"]["scroll"], 3);

    // Starting again opens the same lesson.
    t.launch_tutor("2");
    let screen = t.wait_for("Practice");
    assert!(screen.contains("Welcome to hpc-tutor"), "{screen}");
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-2").trim(), "0");
    let v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(t.state_dir().join("progress.json")).expect("saved"),
    )
    .expect("json");
    assert_eq!(
        v["lessons"]["welcome"]["scroll"], 3,
        "same place after the restart"
    );
}

/// Pids of the children of `pid`.
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
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}

#[test]
fn runs_start_cancel_and_quitting_mid_run_leaves_nothing_behind() {
    let t = Tmux::start("runs");
    let lessons = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/lessons/runs");
    t.launch_tutor_with("1", &format!("--lessons '{lessons}' --lesson slow"));
    t.wait_for("Practice");
    let tutor = t.child_pid();
    // r in the reader opens the experiment and starts the run.
    t.keys(&["r"]);
    t.wait_for("running: point");
    let kids = children(&tutor);
    assert_eq!(kids.len(), 1, "one run process: {kids:?}");
    let first = kids[0].clone();
    std::fs::read_to_string(format!("/proc/{first}/cmdline"))
        .map(|c| assert!(c.contains("amdahl"), "{c}"))
        .expect("cmdline");

    t.keys(&["c"]);
    t.wait_for("cancelled");
    let start = Instant::now();
    while alive(&first) {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the cancelled run is still there"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(children(&tutor).is_empty());

    // Start again and quit mid-run.
    t.keys(&["r"]);
    t.wait_for("running: point");
    let second = children(&tutor);
    assert_eq!(second.len(), 1);
    t.keys(&["q"]);
    assert_eq!(t.wait_for_file("exit-1").trim(), "0");
    assert!(!alive(&second[0]), "quitting killed the run");
    assert_eq!(
        t.wait_for_file("stty-before-1"),
        t.wait_for_file("stty-after-1")
    );

    // Both runs are in the store, each ended as cancelled.
    let results = t.state_dir().join("results");
    let mut ends = Vec::new();
    for entry in std::fs::read_dir(&results).expect("results folder") {
        let recs = hpc_tutor::record::store::load(&entry.expect("entry").path()).expect("valid");
        if let Some(hpc_tutor::record::Record::End(e)) = recs.last() {
            ends.push(e.status);
        }
    }
    assert_eq!(ends, [hpc_tutor::record::Status::Cancelled; 2]);
}
