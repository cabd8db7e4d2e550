//! Programs a lesson declares (`[programs.ID]` in its front matter): a file in the lesson
//! folder, the interpreter that runs it, its arguments and how it is measured. The tutor
//! turns one into the form of the "Your program" screen — never a shell line written by the
//! lesson: the command is built from these parts, each quoted.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::experiment::Backend;

/// A program declared by a lesson.
#[derive(Debug, Clone, PartialEq)]
pub struct LessonProgram {
    /// Its id within the lesson; runs of it carry it as their `name` parameter.
    pub id: String,
    /// Shown in the lesson's panel.
    pub title: String,
    /// The file, relative to the lessons folder (e.g. `programs/gil_integral.py`).
    pub file: String,
    /// The program that runs the file (e.g. `python3`); `None` runs the file itself.
    pub interpreter: Option<String>,
    /// Python modules the program imports: an interpreter that has them is preferred, and
    /// the form says what to install when none has.
    pub needs: Vec<String>,
    /// Its arguments; `{workers}` is replaced by the worker count.
    pub args: Vec<String>,
    /// Threads, processes or MPI ranks.
    pub backend: Backend,
    /// The pattern of the time it prints.
    pub time_from: Option<String>,
    /// Worker counts to sweep.
    pub workers: Option<Vec<usize>>,
    /// Timed repetitions per point.
    pub reps: Option<u32>,
    /// `strong` or `weak`.
    pub mode: Option<String>,
}

/// The interpreter chosen for a program, and what is missing when none has its modules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interpreter {
    /// The command to run it with (a name on `PATH`, or a path).
    pub command: String,
    /// The modules it lacks (empty: it has them all).
    pub missing: Vec<String>,
    /// Whether it was found at all (on `PATH`, or at its path).
    pub found: bool,
}

impl Interpreter {
    /// What to install, in a sentence, when modules are missing.
    pub fn install_hint(&self) -> Option<String> {
        if !self.found && !self.command.contains("python") {
            return Some(format!("{} was not found on PATH", self.command));
        }
        if !self.found {
            let modules: String = self
                .missing
                .iter()
                .map(|m| format!(" python3-{}", m.to_lowercase()))
                .collect();
            return Some(format!(
                "{} was not found: Debian: apt-get install python3{modules}; on a cluster: module load python",
                self.command
            ));
        }
        if self.missing.is_empty() {
            return None;
        }
        let debian: Vec<String> = self
            .missing
            .iter()
            .map(|m| format!("python3-{}", m.to_lowercase()))
            .collect();
        Some(format!(
            "{} lacks {}: Debian: apt-get install {}; pip: pip install --user {}; on a cluster: module load a Python that has them",
            self.command,
            self.missing.join(", "),
            debian.join(" "),
            self.missing.join(" ")
        ))
    }
}

impl LessonProgram {
    /// The interpreter to run the program with: the first of the interpreter on `PATH` and,
    /// for `python3`, Debian's `/usr/bin/python3` (where `apt-get install python3-numpy`
    /// puts NumPy, which a `python3` of pyenv or conda on `PATH` does not see) that imports
    /// every needed module; else the one on `PATH`, with what it lacks. `None` when the file
    /// runs itself. Asks each interpreter once per process.
    pub fn interpreter(&self) -> Option<Interpreter> {
        let name = self.interpreter.as_deref()?;
        let mut candidates = vec![name.to_owned()];
        if name == "python3" && Path::new("/usr/bin/python3").exists() {
            candidates.push("/usr/bin/python3".to_owned());
        }
        let checked: Vec<Interpreter> = candidates
            .iter()
            .map(|c| Interpreter {
                command: c.clone(),
                missing: missing_modules(c, &self.needs),
                found: crate::backend::program::resolve(c).is_ok(),
            })
            .collect();
        checked
            .iter()
            .find(|i| i.found && i.missing.is_empty())
            .or(checked.iter().find(|i| i.found))
            .or(checked.first())
            .cloned()
    }

    /// The command line that runs the program's file at `file` with `interpreter`.
    pub fn command(&self, file: &Path, interpreter: Option<&str>) -> String {
        let mut words: Vec<String> = interpreter.map(str::to_owned).into_iter().collect();
        words.push(file.display().to_string());
        words.extend(self.args.iter().cloned());
        crate::backend::program::join_words(words)
    }

    /// The form's starting settings for the program's file at `file`.
    pub fn preset(&self, file: &Path, interpreter: Option<&str>) -> super::Preset {
        let mut params = vec![
            format!("command={}", self.command(file, interpreter)),
            format!("name={}", self.id),
        ];
        if let Some(t) = &self.time_from {
            params.push(format!("time_from={t}"));
        }
        if let Some(m) = &self.mode {
            params.push(format!("mode={m}"));
        }
        super::Preset {
            workers: self.workers.clone(),
            reps: self.reps,
            params,
            backend: Some(self.backend),
        }
    }
}

/// The modules of `needs` that `interpreter` cannot import (all of them when it does not
/// start). Remembered per interpreter and module list for the life of the process.
fn missing_modules(interpreter: &str, needs: &[String]) -> Vec<String> {
    type Seen = Vec<((String, Vec<String>), Vec<String>)>;
    static SEEN: Mutex<Seen> = Mutex::new(Vec::new());
    if needs.is_empty() {
        return Vec::new();
    }
    let key = (interpreter.to_owned(), needs.to_vec());
    if let Ok(seen) = SEEN.lock()
        && let Some((_, missing)) = seen.iter().find(|(k, _)| *k == key)
    {
        return missing.clone();
    }
    // One interpreter start: each module is tried on its own line of output.
    let script = needs
        .iter()
        .map(|m| format!("try:\n import {m}\nexcept Exception:\n print({m:?})"))
        .collect::<Vec<_>>()
        .join("\n");
    let missing = match std::process::Command::new(interpreter)
        .args(["-c", &script])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
    {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| l.trim().to_owned())
            .filter(|l| !l.is_empty())
            .collect(),
        _ => needs.to_vec(),
    };
    if let Ok(mut seen) = SEEN.lock() {
        seen.push((key, missing.clone()));
    }
    missing
}

/// Whether `file` names a file inside the lessons folder: relative, without `..`.
pub fn is_inside(file: &str) -> bool {
    let p = Path::new(file);
    !file.is_empty()
        && p.is_relative()
        && p.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
}

/// Where a built-in lesson's program is written to run it: `dir`/`file`, with the
/// embedded `contents`, rewritten only when they differ (an edited copy is put back).
pub fn materialize(dir: &Path, file: &str, contents: &[u8]) -> std::io::Result<PathBuf> {
    let path = dir.join(file);
    if std::fs::read(&path).ok().as_deref() != Some(contents) {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::fsio::write(&path, contents).map_err(|e| e.source)?;
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gil() -> LessonProgram {
        LessonProgram {
            id: "gil-threads".into(),
            title: "threads".into(),
            file: "programs/gil.py".into(),
            interpreter: Some("python3".into()),
            needs: vec![],
            args: vec![
                "--pool".into(),
                "threads".into(),
                "--workers".into(),
                "{workers}".into(),
            ],
            backend: Backend::Threads,
            time_from: Some("Execution time: ([0-9.]+)".into()),
            workers: Some(vec![1, 2]),
            reps: Some(3),
            mode: None,
        }
    }

    #[test]
    fn the_command_is_built_from_quoted_parts() {
        let p = gil();
        assert_eq!(
            p.command(
                Path::new("/data/my programs/gil.py"),
                Some("/usr/bin/python3")
            ),
            "/usr/bin/python3 '/data/my programs/gil.py' --pool threads --workers {workers}"
        );
        let preset = p.preset(Path::new("/x/gil.py"), Some("python3"));
        assert_eq!(preset.backend, Some(Backend::Threads));
        assert!(preset.params.contains(&"name=gil-threads".to_owned()));
        assert!(
            preset
                .params
                .contains(&"time_from=Execution time: ([0-9.]+)".to_owned())
        );
        assert_eq!(
            shell_words::split(&p.command(Path::new("a b.py"), None)).expect("words")[0],
            "a b.py"
        );
    }

    #[test]
    fn files_must_stay_inside_the_lessons_folder() {
        assert!(is_inside("programs/gil.py"));
        for bad in [
            "",
            "/etc/passwd",
            "../x.py",
            "programs/../../x.py",
            "./x.py",
        ] {
            assert!(!is_inside(bad), "{bad}");
        }
    }

    #[test]
    fn missing_modules_are_named_with_what_to_install() {
        let i = Interpreter {
            command: "python3".into(),
            missing: vec!["numpy".into(), "mpi4py".into()],
            found: true,
        };
        let hint = i.install_hint().expect("a hint");
        assert!(
            hint.contains("apt-get install python3-numpy python3-mpi4py"),
            "{hint}"
        );
        assert!(hint.contains("pip install --user numpy mpi4py"), "{hint}");
        assert_eq!(
            missing_modules("no-such-interpreter-here", &["numpy".to_owned()]),
            ["numpy"]
        );
        let gone = Interpreter {
            command: "python3".into(),
            missing: vec!["numpy".into()],
            found: false,
        };
        assert_eq!(
            gone.install_hint().as_deref(),
            Some(
                "python3 was not found: Debian: apt-get install python3 python3-numpy; on a cluster: module load python"
            )
        );
    }
}
