//! The learner's progress: last lesson and place, lessons read, answers given.
//!
//! Kept as JSON in the user's state directory and written atomically (temporary file, then
//! rename), so a crash or a kill mid-write never leaves a half-written file behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lesson::Answer;

/// Everything remembered between sessions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// Format version of the file.
    pub version: u32,
    /// The lesson open when the tutor last closed, if one was.
    pub last_lesson: Option<String>,
    /// Per lesson id.
    pub lessons: BTreeMap<String, LessonProgress>,
}

/// Progress in one lesson.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LessonProgress {
    /// The learner has scrolled to the end of the text.
    pub read: bool,
    /// First visible line of the reader.
    pub scroll: usize,
    /// How many lines the text had when `scroll` was saved, so the place can be kept when
    /// the terminal width (and so the wrapping) changes.
    pub scroll_of: usize,
    /// The latest answer to each check, by check id.
    pub answers: BTreeMap<String, Answer>,
    /// Ids of the puzzles solved.
    pub puzzles_solved: std::collections::BTreeSet<String>,
}

/// The largest progress file read (a FIFO or a device is not read at all).
const MAX_BYTES: u64 = 64 * crate::input::MIB;

/// The current format version.
pub const VERSION: u32 = 1;

/// Why progress could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ProgressError {
    /// Reading or writing the file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
}

/// Where progress lives on disk.
#[derive(Debug, Clone)]
pub struct ProgressStore {
    path: PathBuf,
}

/// The result of loading: the progress, and a warning to show once if the file was bad.
#[derive(Debug)]
pub struct Loaded {
    /// The progress (empty if there was none or it could not be read).
    pub progress: Progress,
    /// Set when the file was unreadable or corrupt; says where the old file was moved.
    pub warning: Option<String>,
}

impl ProgressStore {
    /// A store keeping its file in `dir`.
    pub fn in_dir(dir: impl Into<PathBuf>) -> Self {
        Self {
            path: dir.into().join("progress.json"),
        }
    }

    /// The default place: `$HPC_TUTOR_STATE_DIR` if set, else the XDG state directory
    /// (`~/.local/state/hpc-tutor` on Linux). `None` when no home directory is known.
    pub fn default_location() -> Option<Self> {
        if let Some(dir) = std::env::var_os("HPC_TUTOR_STATE_DIR").filter(|d| !d.is_empty()) {
            return Some(Self::in_dir(dir));
        }
        let dirs = directories::ProjectDirs::from("", "", "hpc-tutor")?;
        let dir = dirs
            .state_dir()
            .unwrap_or_else(|| dirs.data_local_dir())
            .to_path_buf();
        Some(Self::in_dir(dir))
    }

    /// The progress file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Loads progress. A missing file is a fresh start; an unreadable or corrupt one is
    /// moved aside to `progress.json.corrupt-<unix seconds>` and reported in the warning,
    /// and the learner starts fresh rather than being stopped.
    pub fn load(&self) -> Loaded {
        let bytes = match crate::input::read_regular(&self.path, MAX_BYTES, "a progress file") {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Loaded {
                    progress: Progress::default(),
                    warning: None,
                };
            }
            Err(e) => {
                return Loaded {
                    progress: Progress::default(),
                    warning: Some(format!(
                        "cannot read progress file {}: {e}; starting fresh (nothing will overwrite it until you answer or quit)",
                        self.path.display()
                    )),
                };
            }
        };
        match serde_json::from_slice::<Progress>(&bytes) {
            Ok(p) => Loaded {
                progress: p,
                warning: None,
            },
            Err(e) => {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let backup = self
                    .path
                    .with_file_name(format!("progress.json.corrupt-{stamp}"));
                let moved = match std::fs::rename(&self.path, &backup) {
                    Ok(()) => format!("kept as {}", backup.display()),
                    Err(re) => format!("could not move it aside ({re})"),
                };
                Loaded {
                    progress: Progress::default(),
                    warning: Some(format!(
                        "progress file {} is corrupt ({e}); {moved}; starting fresh",
                        self.path.display()
                    )),
                }
            }
        }
    }

    /// Writes progress atomically: a temporary file in the same folder, synced, then
    /// renamed over the old one.
    pub fn save(&self, progress: &Progress) -> Result<(), ProgressError> {
        let io = |action, source| ProgressError::Io {
            action,
            path: self.path.display().to_string(),
            source,
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| io("cannot create the folder of", e))?;
        }
        let mut to_save = progress.clone();
        to_save.version = VERSION;
        // Serializing plain maps, strings and numbers cannot fail.
        let json = serde_json::to_vec_pretty(&to_save)
            .map_err(|e| io("cannot encode", std::io::Error::other(e)))?;
        let tmp = self
            .path
            .with_file_name(format!("progress.json.tmp-{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&json)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            io("cannot write", e)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_fresh_start() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path().join("nested"));
        let fresh = store.load();
        assert_eq!(fresh.progress, Progress::default());
        assert!(fresh.warning.is_none());

        let mut p = Progress {
            last_lesson: Some("amdahl".into()),
            ..Progress::default()
        };
        let lp = p.lessons.entry("amdahl".into()).or_default();
        lp.read = true;
        lp.scroll = 12;
        lp.answers
            .insert("limit".into(), Answer::Choice("20".into()));
        lp.answers.insert("s4".into(), Answer::Number(2.29));
        store.save(&p).expect("save");
        let back = store.load();
        assert!(back.warning.is_none());
        assert_eq!(back.progress.lessons, p.lessons);
        assert_eq!(back.progress.version, VERSION);
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path().join("nested"))
            .expect("list")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names, ["progress.json"]);
    }

    #[test]
    fn corrupt_file_is_set_aside_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ProgressStore::in_dir(dir.path());
        std::fs::write(store.path(), b"{ not json").expect("write");
        let loaded = store.load();
        assert_eq!(loaded.progress, Progress::default());
        let warning = loaded.warning.expect("a warning");
        assert!(warning.contains("corrupt"), "{warning}");
        assert!(!store.path().exists());
        let backups: Vec<_> = std::fs::read_dir(dir.path())
            .expect("list")
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("progress.json.corrupt-")
            })
            .collect();
        assert_eq!(backups.len(), 1);
        // A second load is a quiet fresh start: reported once.
        assert!(store.load().warning.is_none());
    }
}
