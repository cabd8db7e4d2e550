//! The results store: one JSON Lines file per run, in the user's data directory
//! (`$HPC_TUTOR_DATA_DIR`, else `~/.local/share/hpc-tutor/results/`).
//!
//! Records are appended and flushed as they arrive, so nothing measured is lost if the app
//! dies mid-run.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use super::{Record, RunRecord, Status};

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A file that is not a results file as a whole (e.g. an empty one).
    #[error("{path}: {message}")]
    NotResults {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A line of a results file is not a record.
    #[error("{path}:{line}: {message}")]
    BadLine {
        /// The file.
        path: String,
        /// Line number, from 1.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// The folder of results files.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// A run found in the store, described by its first and last records.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// Its file.
    pub path: PathBuf,
    /// Its run record.
    pub run: RunRecord,
    /// How it ended; `None` if the file has no end record (the app died mid-run).
    pub status: Option<Status>,
    /// Points measured.
    pub points: usize,
}

impl Store {
    /// A store in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The default place: `$HPC_TUTOR_DATA_DIR`, else the XDG data directory's `results/`.
    pub fn default_location() -> Option<Self> {
        data_dir().map(|d| Self::in_dir(d.join("results")))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Starts the file of run `run_id`.
    pub fn create(&self, run_id: &str) -> Result<RunWriter, StoreError> {
        std::fs::create_dir_all(&self.dir).map_err(io_err(&self.dir))?;
        let safe: String = run_id
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = self.dir.join(format!("{safe}.jsonl"));
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_err(&path))?;
        Ok(RunWriter { path, file })
    }

    /// Every run in the store, newest first. Files that cannot be read are skipped.
    pub fn list(&self) -> Vec<StoredRun> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs: Vec<StoredRun> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .filter_map(|p| describe(&p).ok())
            .collect();
        runs.sort_by(|a, b| b.run.started_at.cmp(&a.run.started_at));
        runs
    }

    /// The newest run that ended ok of `experiment` on `backend` with exactly `params`,
    /// with its records: a measurement of the same sweep. A run of exactly the worker
    /// counts `workers` is preferred; else the newest with any.
    pub fn latest_of_sweep(
        &self,
        experiment: &str,
        backend: &str,
        params: &std::collections::BTreeMap<String, String>,
        workers: &[usize],
    ) -> Option<(StoredRun, Vec<Record>)> {
        let mut sweeps: Vec<StoredRun> = self
            .list()
            .into_iter()
            .filter(|r| {
                r.run.experiment == experiment
                    && r.run.backend == backend
                    && &r.run.params == params
                    && r.status == Some(Status::Ok)
            })
            .collect();
        // Stable: newest first within each group.
        sweeps.sort_by_key(|r| r.run.workers != workers);
        sweeps.into_iter().find_map(|r| {
            let records = load(&r.path).ok()?;
            Some((r, records))
        })
    }

    /// The newest run of `experiment`, if any.
    pub fn latest(&self, experiment: &str) -> Option<StoredRun> {
        self.list()
            .into_iter()
            .find(|r| r.run.experiment == experiment)
    }
}

/// The longest line a results file may have. A record is at most a few kilobytes; a longer
/// line is not a results file, and is not read into memory to find out.
pub const MAX_LINE: usize = 1 << 20;

/// Reads every record of a results file. A bad line is an error naming `path:line`; a
/// truncated last line (the writer died mid-line) is ignored. Only regular files are read
/// (a FIFO or a device is refused with what it is), and a line longer than [`MAX_LINE`]
/// is an error at its line.
pub fn load(path: &Path) -> Result<Vec<Record>, StoreError> {
    let bad = |line: usize, message: &str| StoreError::BadLine {
        path: path.display().to_string(),
        line,
        message: message.to_owned(),
    };
    let file = crate::input::open_regular(path).map_err(io_err(path))?;
    let mut reader = BufReader::new(file);
    // Each line's bytes, and whether a newline ended it.
    let mut lines: Vec<(Vec<u8>, bool)> = Vec::new();
    loop {
        let mut buf = Vec::new();
        let n = (&mut reader)
            .take(MAX_LINE as u64 + 1)
            .read_until(b'\n', &mut buf)
            .map_err(io_err(path))?;
        if n == 0 {
            break;
        }
        let ended = buf.last() == Some(&b'\n');
        if ended {
            buf.pop();
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
        } else if buf.len() > MAX_LINE {
            return Err(bad(
                lines.len() + 1,
                "line longer than 1 MiB: not a results file",
            ));
        }
        lines.push((buf, ended));
    }
    let mut records = Vec::with_capacity(lines.len());
    let last = lines.len();
    for (i, (bytes, ended)) in lines.iter().enumerate() {
        // A writer killed mid-line leaves an unfinished last line, perhaps mid-character.
        let cut = i + 1 == last && !ended;
        let Ok(line) = std::str::from_utf8(bytes) else {
            if cut {
                break;
            }
            return Err(bad(i + 1, "not UTF-8 text: not a results file"));
        };
        if line.trim().is_empty() {
            continue;
        }
        match Record::from_line(line) {
            Ok(r) => records.push(r),
            Err(_) if i + 1 == last && !line.trim_end().ends_with('}') => break,
            Err(e) => return Err(bad(i + 1, &e.to_string())),
        }
    }
    Ok(records)
}

fn describe(path: &Path) -> Result<StoredRun, StoreError> {
    // Only the first record (the run) and the last (the end) are parsed, and the points are
    // counted by their tag: listing a store of thousands of runs reads each file once and
    // parses two lines of it.
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let not_a_run = || StoreError::BadLine {
        path: path.display().to_string(),
        line: 1,
        message: "the first record is not a run record".to_owned(),
    };
    let first = lines.next().ok_or_else(not_a_run)?;
    let run = match Record::from_line(first) {
        Ok(Record::Run(run)) => run,
        Ok(_) => return Err(not_a_run()),
        Err(e) => {
            return Err(StoreError::BadLine {
                path: path.display().to_string(),
                line: 1,
                message: e.to_string(),
            });
        }
    };
    let status = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .filter(|l| is_kind(l, "end"))
        .and_then(|l| match Record::from_line(l) {
            Ok(Record::End(e)) => Some(e.status),
            _ => None,
        });
    let points = text.lines().filter(|l| is_kind(l, "point")).count();
    Ok(StoredRun {
        path: path.to_owned(),
        run,
        status,
        points,
    })
}

/// Whether a results line is a record of `kind`, from its tag alone (`"kind":"point"`, the
/// second field of every record, with or without spaces), without parsing the line.
fn is_kind(line: &str, kind: &str) -> bool {
    line.split(',').take(2).any(|field| {
        field.split_once(':').is_some_and(|(k, v)| {
            k.trim().trim_matches('"') == "kind" && v.trim().trim_matches('"') == kind
        })
    })
}

/// Appends one run's records to its file, each flushed at once.
#[derive(Debug)]
pub struct RunWriter {
    path: PathBuf,
    file: File,
}

impl RunWriter {
    /// The file written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one record.
    pub fn append(&mut self, record: &Record) -> Result<(), StoreError> {
        let mut line = record.to_line();
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(io_err(&self.path))
    }
}

/// hpc-tutor's data folder: `$HPC_TUTOR_DATA_DIR`, else the XDG data directory
/// (`~/.local/share/hpc-tutor`). The results store is its `results/`, the runs going on
/// now register in its `active/`.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("HPC_TUTOR_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "hpc-tutor").map(|d| d.data_dir().to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::tests::sample_run;

    /// A job script's time estimate cites a run of the same worker list when there is one,
    /// even when a run of other worker counts is newer.
    #[test]
    fn the_sweep_of_the_same_workers_is_preferred() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::in_dir(dir.path().join("results"));
        for (id, workers, started) in [
            ("same", vec![1, 2], "2026-01-01T00:00:00+00:00"),
            ("newer", vec![1, 2, 4], "2026-01-02T00:00:00+00:00"),
        ] {
            let mut w = store.create(id).expect("create");
            for mut r in sample_run() {
                if let Record::Run(run) = &mut r {
                    run.run_id = id.to_owned();
                    run.workers = workers.clone();
                    run.started_at = started.to_owned();
                }
                w.append(&r).expect("append");
            }
        }
        let Some(Record::Run(run)) = sample_run().into_iter().next() else {
            panic!("a run first")
        };
        let found = |workers: &[usize]| {
            store
                .latest_of_sweep(&run.experiment, &run.backend, &run.params, workers)
                .map(|(r, _)| r.run.run_id)
        };
        assert_eq!(found(&[1, 2]).as_deref(), Some("same"));
        assert_eq!(found(&[1, 2, 4]).as_deref(), Some("newer"));
        assert_eq!(found(&[1, 8]).as_deref(), Some("newer"), "else the newest");
    }

    #[test]
    fn append_list_and_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::in_dir(dir.path().join("results"));
        assert!(store.list().is_empty());
        let mut w = store.create("r1").expect("create");
        for r in sample_run() {
            w.append(&r).expect("append");
        }
        let runs = store.list();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].status, Some(Status::Ok));
        assert_eq!(runs[0].points, 1);
        assert_eq!(
            store.latest("mc-pi").map(|r| r.run.run_id),
            Some("r1".to_owned())
        );
        assert!(store.latest("amdahl").is_none());
        assert_eq!(load(w.path()).expect("load"), sample_run());
    }

    #[test]
    fn bad_lines_are_reported_with_their_place_and_a_cut_last_line_is_ignored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.jsonl");
        let good = sample_run()[0].to_line();
        std::fs::write(&path, format!("{good}\n{{\"v\":1,\"kind\":\"sam")).expect("write");
        assert_eq!(load(&path).expect("cut line ignored").len(), 1);
        std::fs::write(&path, format!("{good}\nnot json\n{good}\n")).expect("write");
        let err = load(&path).expect_err("bad line");
        assert!(
            err.to_string()
                .starts_with(&format!("{}:2: ", path.display())),
            "{err}"
        );
    }
}
