//! Driving the real binary in tmux: quit, signals, runs and demos as a person would see them.
//!
//! Needs tmux; `tests/run.sh` installs it. Without it the tests fail with a message saying
//! so rather than passing silently.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of its own running one bash with a known prompt, for driving the real
/// binary in a real terminal.
pub struct Tmux {
    socket: String,
    /// Scratch folder of the session: rc file, state, results, files the tests write.
    pub dir: tempfile::TempDir,
}

impl Tmux {
    pub fn start(name: &str) -> Self {
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
            "export PS1='[tutor-shell]' HPC_TUTOR_STATE_DIR='{0}' HPC_TUTOR_DATA_DIR='{0}' XDG_RUNTIME_DIR='{0}'; unset HPC_TUTOR_LESSONS NO_COLOR",
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

    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn tmux(&self, args: &[&str], extra: Option<&Path>) -> String {
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

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "t"];
        args.extend_from_slice(keys);
        self.tmux(&args, None);
    }

    /// Types a shell command line and runs it.
    pub fn run(&self, line: &str) {
        self.keys(&["-l", line]);
        self.keys(&["Enter"]);
    }

    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "t"], None)
    }

    pub fn wait_for(&self, text: &str) -> String {
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

    pub fn wait_for_file(&self, name: &str) -> String {
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
    pub fn child_pid(&self) -> String {
        let shell = self.tmux(&["list-panes", "-t", "t", "-F", "#{pane_pid}"], None);
        let out = Command::new("pgrep")
            .args(["-P", shell.trim()])
            .output()
            .expect("pgrep runs");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Runs the tutor, then records its exit status and the terminal settings after it.
    pub fn launch_tutor(&self, tag: &str) {
        self.launch_tutor_with(tag, "");
    }

    pub fn launch_tutor_with(&self, tag: &str, args: &str) {
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

/// Pids of the children of `pid`.
/// The `hpc-tutor` processes (runs) started by process `pid` (not the `sinfo` the tutor
/// may be asking about the cluster at the same time).
pub fn children(pid: &str) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-P", pid])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm"))
                .is_ok_and(|c| c.trim() == "hpc-tutor")
        })
        .map(str::to_owned)
        .collect()
}

pub fn alive(pid: &str) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| s.contains(") Z "))
}
